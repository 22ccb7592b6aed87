"""``network.LTE`` and its Sequans modem model.

The modem (``network.lte.SequansModem``) is checked on its own, with exact framed answers and
explicit board times. ``LTE`` runs over it with a board clock the tests move
(``network.host.configure(clock=...)``), so attach timing is checked without sleeping. The
end-to-end test runs a FiPy-style script in a plain ``python`` process: attach, read the address from
``AT+CGPADDR=1``, ``Coap.init(address)`` and POST JSON to the aiocoap server of tests/peers, which must
receive it. Every address is loopback.
"""

from __future__ import annotations

import ast
import json
import sys
import time

import pytest
from conftest import ROOT, free_loopback_ip, python_script, require_aiocoap

from network import LTE, host
from network import lte as lte_module
from network.lte import ATTACH_TIME_S, SequansModem

AIOCOAP_SERVER = ROOT / "tests" / "peers" / "aiocoap_server.py"
DATA_STATE = "LTE modem is in data state, cannot send AT commands"


def ok(*lines: str) -> str:
    """A successful answer: information lines, then OK, framed as the modem frames them."""
    body = "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""
    return body + "\r\nOK\r\n"


ERROR = "\r\nERROR\r\n"


# -- the modem -----------------------------------------------------------------------------------


@pytest.fixture
def modem() -> SequansModem:
    """A modem after power-on with echo off (as Pycom's firmware leaves it), at 10.20.30.40."""
    m = SequansModem(address="10.20.30.40")
    assert m.command("ATE0\r", 0.0) == "ATE0\r" + ok()
    return m


def test_echo_is_on_after_power_on_and_ate0_turns_it_off() -> None:
    m = SequansModem()
    assert m.command("AT\r", 0.0) == "AT\r" + ok()
    assert m.command("ATE0\r", 0.0) == "ATE0\r" + ok()
    assert m.command("AT\r", 0.0) == ok()
    assert m.command("ATE1", 0.0) == ok()
    assert m.command("AT", 0.0) == "AT\r" + ok()


def test_ati1_gives_the_ue_and_lr_versions(modem: SequansModem) -> None:
    assert modem.command("ATI1", 0.0) == "\r\nUE5.0.0.0d\r\nLR5.1.1.0-41065\r\n\r\nOK\r\n"


def test_unknown_and_malformed_commands_answer_error(modem: SequansModem) -> None:
    assert modem.command("AT+NOSUCH", 0.0) == ERROR
    assert modem.command("AT+CFUN=7", 0.0) == ERROR
    assert modem.command("AT+CFUN=x", 0.0) == ERROR
    assert modem.command("AT+CFUN", 0.0) == ERROR
    assert modem.command('AT!="showphy"', 0.0) == ERROR  # a directive this model does not know
    assert modem.command("hello", 0.0) == ""  # not a command: the modem stays silent


def test_commands_are_case_insensitive_and_can_be_chained(modem: SequansModem) -> None:
    assert modem.command("at+cfun?", 0.0) == ok("+CFUN: 0")
    assert modem.command("AT+CEREG=1;+CEREG?;+CFUN?", 0.0) == ok("+CEREG: 1,0", "+CFUN: 0")
    assert modem.command("AT+CEREG?;+NOSUCH;+CFUN?", 0.0) == "\r\n+CEREG: 1,0\r\n" + ERROR


def test_cfun_1_registers_after_the_attach_time(modem: SequansModem) -> None:
    assert modem.command("AT+CEREG?", 0.0) == ok("+CEREG: 2,0")  # the modem's default <n> is 2
    assert modem.command("AT+CFUN=1", 10.0) == ok()
    assert modem.command("AT+CFUN?", 10.0) == ok("+CFUN: 1")
    assert modem.command("AT+CEREG?", 10.0 + ATTACH_TIME_S / 2) == ok("+CEREG: 2,2")
    assert modem.command("AT+CGATT?", 10.0 + ATTACH_TIME_S / 2) == ok("+CGATT: 0")
    registered = 10.0 + ATTACH_TIME_S
    assert modem.command("AT+CEREG?", registered) == ok('+CEREG: 2,1,"0001","01A2D001",7')
    assert modem.command("AT+CGATT?", registered) == ok("+CGATT: 1")
    assert modem.command("AT+CEREG=1", registered) == ok()
    assert modem.command("AT+CEREG?", registered) == ok("+CEREG: 1,1")
    assert modem.command("AT+CEREG=0;+CEREG?", registered) == ok("+CEREG: 0,1")
    assert modem.command("AT+CEREG=6", registered) == ERROR


def test_cfun_4_and_0_deregister(modem: SequansModem) -> None:
    modem.command("AT+CFUN=1", 0.0)
    assert modem.registered(ATTACH_TIME_S)
    assert modem.command("AT+CFUN=4", ATTACH_TIME_S) == ok()
    assert modem.command("AT+CEREG?", 5.0) == ok("+CEREG: 2,0")
    assert modem.command("AT+CFUN=1", 5.0) == ok()
    assert modem.command("AT+CEREG?", 5.0) == ok("+CEREG: 2,2")  # registering again takes its time
    assert modem.command("AT+CFUN=0", 9.0) == ok()
    assert modem.command("AT+CGATT?", 9.0) == ok("+CGATT: 0")


def test_cgpaddr_gives_the_address_once_registered(modem: SequansModem) -> None:
    assert modem.command("AT+CGPADDR=1", 0.0) == ok("+CGPADDR: 1")
    modem.command("AT+CFUN=1", 0.0)
    assert modem.command("AT+CGPADDR=1", ATTACH_TIME_S) == ok('+CGPADDR: 1,"10.20.30.40"')
    assert modem.command("AT+CGPADDR", ATTACH_TIME_S) == ok('+CGPADDR: 1,"10.20.30.40"')
    assert modem.command("AT+CGPADDR=3", ATTACH_TIME_S) == ERROR  # no such context


def test_cgdcont_stores_the_apn(modem: SequansModem) -> None:
    assert modem.command("AT+CGDCONT?", 0.0) == ok('+CGDCONT: 1,"IP","",,,,0,0,0,0,0,0')
    assert modem.command('AT+CGDCONT=1,"IP","iot.example"', 0.0) == ok()
    assert modem.command('AT+CGDCONT=2,"IPV4V6","other.apn"', 0.0) == ok()
    assert modem.command("AT+CGDCONT?", 0.0) == ok(
        '+CGDCONT: 1,"IP","iot.example",,,,0,0,0,0,0,0', '+CGDCONT: 2,"IPV4V6","other.apn",,,,0,0,0,0,0,0'
    )
    assert modem.command("AT+CGDCONT=2", 0.0) == ok()  # a lone <cid> undefines the context
    assert modem.command('AT+CGDCONT=1,"X25","x"', 0.0) == ERROR
    assert modem.command('AT+CGDCONT=9,"IP","x"', 0.0) == ERROR
    assert modem.command("AT+CGDCONT?", 0.0) == ok('+CGDCONT: 1,"IP","iot.example",,,,0,0,0,0,0,0')


def test_csq_and_cops_report_the_network_only_when_registered(modem: SequansModem) -> None:
    assert modem.command("AT+CSQ", 0.0) == ok("+CSQ: 99,99")
    assert modem.command("AT+COPS?", 0.0) == ok("+COPS: 0")
    modem.command("AT+CFUN=1", 0.0)
    assert modem.command("AT+CSQ", ATTACH_TIME_S) == ok("+CSQ: 18,99")
    assert modem.command("AT+COPS?", ATTACH_TIME_S) == ok('+COPS: 0,2,"00101",7')
    assert modem.command("AT+COPS=2", ATTACH_TIME_S) == ok()  # deregister
    assert modem.command("AT+COPS?", ATTACH_TIME_S) == ok("+COPS: 0")


def test_identities(modem: SequansModem) -> None:
    imei, iccid = modem.identity.imei, modem.identity.iccid
    assert len(imei) == 15 and imei.startswith("35434")
    assert modem.command("AT+CGSN", 0.0) == ok(imei)
    assert modem.command("AT+CGSN=1", 0.0) == ok(f'+CGSN: "{imei}"')
    # the SIM is off in CFUN=0
    assert modem.command("AT+CIMI", 0.0) == ERROR
    assert modem.command("AT+SQNCCID?", 0.0) == ERROR
    assert modem.command("AT+CPIN?", 0.0) == ERROR
    modem.command("AT+CFUN=4", 0.0)
    assert modem.command("AT+CPIN?", 0.0) == ok("+CPIN: READY")
    assert modem.command("AT+CIMI", 0.0) == ok("001010000000001")
    assert modem.command("AT+SQNCCID?", 0.0) == ok(f'+SQNCCID: "{iccid}",""')
    assert modem.command("AT+SQNCCID", 0.0) == ok(f'+SQNCCID: "{iccid}",""')
    assert modem.command("AT+CCID", 0.0) == ok(f'+CCID: "{iccid}"')


def test_data_mode_carries_no_commands_until_escaped(modem: SequansModem) -> None:
    assert modem.command('AT+CGDATA="PPP",1', 0.0) == ERROR  # not registered
    modem.command("AT+CFUN=1", 0.0)
    now = ATTACH_TIME_S
    assert modem.command('AT+CGDATA="PPP",1', now) == "\r\nCONNECT\r\n"
    assert modem.command("AT+CSQ", now) == ""  # PPP bytes for the modem now
    assert modem.command("+++", now) == ok()
    assert modem.command("AT+CSQ", now) == ok("+CSQ: 18,99")
    assert modem.command("ATO", now) == "\r\nCONNECT\r\n"
    assert modem.command("+++", now) == ok()
    assert modem.command("ATH", now) == ok()
    assert modem.command("ATO", now) == "\r\nNO CARRIER\r\n"
    assert modem.command("+++", now) == ""  # no session to escape from


# -- LTE -----------------------------------------------------------------------------------------


class FakeClock:
    """Board seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(ip: str):
    fake = FakeClock()
    host.configure(ip=ip, mapping={}, clock=fake)
    lte_module.hard_reset()
    yield fake
    lte_module.hard_reset()
    host.reset()


@pytest.fixture
def attached(clock: FakeClock) -> LTE:
    lte = LTE()
    lte.attach()
    clock.advance(ATTACH_TIME_S)
    assert lte.isattached()
    return lte


def test_lte_is_a_singleton_with_the_firmwares_constants(clock: FakeClock) -> None:
    assert LTE() is LTE(cid=1)
    assert (LTE.IP, LTE.IPV4V6) == ("IP", "IPV4V6")
    assert (LTE.EVENT_COVERAGE_LOSS, LTE.EVENT_BREAK) == (1, 2)
    assert (LTE.PSM_PERIOD_DISABLED, LTE.PSM_ACTIVE_DISABLED) == (7, 7)


def test_attach_takes_the_attach_time_of_board_clock(clock: FakeClock) -> None:
    lte = LTE()
    assert not lte.isattached()
    lte.attach(band=20, apn="iot.example")
    assert not lte.isattached()
    clock.advance(ATTACH_TIME_S * 0.99)
    assert not lte.isattached()
    assert lte.send_at_cmd("AT+CEREG?") == ok("+CEREG: 1,2")  # LTE starts the modem with CEREG=1
    clock.advance(ATTACH_TIME_S * 0.01)
    assert lte.isattached()
    assert lte.ue_coverage()
    assert lte.send_at_cmd("AT+CEREG?") == ok("+CEREG: 1,1")
    assert lte.send_at_cmd("AT+CGDCONT?") == ok('+CGDCONT: 1,"IP","iot.example",,,,0,0,0,0,0,0')


def test_cgpaddr_answers_the_boards_address(attached: LTE, ip: str) -> None:
    answer = attached.send_at_cmd("AT+CGPADDR=1")
    assert answer == ok(f'+CGPADDR: 1,"{ip}"')
    assert answer.split('"')[1] == ip == host.own_address()
    other = free_loopback_ip()
    host.configure(ip=other)
    assert attached.send_at_cmd(b"AT+CGPADDR=1") == ok(f'+CGPADDR: 1,"{other}"')


def test_send_at_cmd_while_connected_needs_pppsuspend(attached: LTE) -> None:
    attached.connect()
    assert attached.isconnected()
    for call in (lambda: attached.send_at_cmd("AT"), attached.imei, attached.iccid, attached.ue_coverage):
        with pytest.raises(OSError, match=DATA_STATE):
            call()
    assert attached.isattached()
    attached.pppsuspend()
    assert not attached.isconnected()
    assert attached.send_at_cmd("AT+CSQ") == ok("+CSQ: 18,99")
    attached.pppresume()
    assert attached.isconnected()
    with pytest.raises(OSError, match=DATA_STATE):
        attached.send_at_cmd("AT")
    attached.disconnect()
    assert not attached.isconnected()
    assert attached.isattached()
    assert attached.send_at_cmd("AT") == ok()


def test_connect_errors(clock: FakeClock) -> None:
    lte = LTE()
    with pytest.raises(OSError, match="^modem not attached$"):
        lte.connect()
    lte.attach()
    with pytest.raises(OSError, match="^modem not attached$"):
        lte.connect()
    clock.advance(ATTACH_TIME_S)
    lte.connect()
    lte.connect()  # connected already: nothing to do
    lte.pppsuspend()
    with pytest.raises(OSError, match="^modem is suspended$"):
        lte.connect()
    lte.pppresume()
    with pytest.raises(OSError, match="^Modem is already connected$"):
        lte.pppresume()


def test_cfun_from_send_at_cmd_affects_attach(attached: LTE, clock: FakeClock) -> None:
    assert attached.send_at_cmd("AT+CFUN=4") == ok()
    assert attached.send_at_cmd("AT+CEREG?") == ok("+CEREG: 1,0")
    # isattached() sees the radio off and, as the firmware does, turns it on again
    assert not attached.isattached()
    assert attached.send_at_cmd("AT+CFUN?") == ok("+CFUN: 1")
    clock.advance(ATTACH_TIME_S)
    assert attached.isattached()


def test_detach_turns_the_radio_off(attached: LTE) -> None:
    attached.connect()
    attached.detach()
    assert not attached.isconnected()
    assert not attached.isattached()
    assert attached.send_at_cmd("AT+CFUN?") == ok("+CFUN: 4")


def test_cereg_2_is_never_attached_with_legacyattach_as_on_firmware_1_20_2(attached: LTE) -> None:
    assert attached.send_at_cmd("AT+CEREG=2") == ok()
    assert not attached.isattached()  # the firmware looks for "+CEREG: 1,1"
    attached.attach(legacyattach=False)  # then only AT+CGATT? counts
    assert attached.isattached()


def test_deinit_and_init_again(attached: LTE, clock: FakeClock) -> None:
    attached.deinit()
    for call in (attached.isattached, attached.isconnected, lambda: attached.send_at_cmd("AT")):
        with pytest.raises(OSError, match="^LTE modem not initialized$"):
            call()
    assert LTE() is attached
    assert not attached.isattached()  # deinit() detached: radio off
    attached.attach()
    clock.advance(ATTACH_TIME_S)
    attached.connect()
    attached.deinit(detach=False)  # keeps the modem attached, the session suspended
    attached.init()
    assert attached.isattached()
    attached.connect()
    assert attached.isconnected()


def test_reset_restarts_the_modem(attached: LTE, clock: FakeClock) -> None:
    attached.connect()
    attached.reset()
    assert not attached.isconnected()
    assert not attached.isattached()
    attached.attach()
    clock.advance(ATTACH_TIME_S)
    assert attached.isattached()


def test_identities_from_the_modem(clock: FakeClock) -> None:
    lte = LTE()
    identity = lte_module.modem().identity
    assert lte.imei() == identity.imei
    assert lte.iccid() == identity.iccid
    assert lte.send_at_cmd("AT+CIMI") == ok(identity.imsi)
    assert lte.send_at_cmd("ATI1") == ok(identity.ue_version, identity.lr_version)
    assert tuple(lte.psm()) == (False, 0, 7, 0, 7)


def test_psm_configured_at_init(clock: FakeClock) -> None:
    lte = LTE(psm_period_value=3, psm_period_unit=LTE.PSM_PERIOD_1H, psm_active_value=5, psm_active_unit=1)
    assert lte.send_at_cmd("AT+CPSMS?") == ok('+CPSMS: 1,,,"00100011","00100101"')
    info = lte.psm()
    assert (info.enabled, info.period_value, info.period_unit, info.active_value, info.active_unit) == (
        True,
        3,
        LTE.PSM_PERIOD_1H,
        5,
        LTE.PSM_ACTIVE_1M,
    )


def test_argument_errors_are_the_firmwares(clock: FakeClock) -> None:
    with pytest.raises(OSError, match="^resource not available$"):
        LTE(1, cid=1)
    with pytest.raises(OSError, match="^Invalid psm_active_unit$"):
        LTE(psm_active_unit=3)
    lte = LTE()
    with pytest.raises(ValueError, match="^the command must be specified!$"):
        lte.send_at_cmd()
    with pytest.raises(TypeError, match=r"^invalid argument\(s\) num/type$"):
        lte.send_at_cmd(42)
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        lte.send_at_cmd("AT", delay=100)  # the docs' name; 1.20.2.r6 calls it timeout
    assert lte.send_at_cmd("AT", timeout=100) == ok()
    with pytest.raises(ValueError, match="^band 7 not supported$"):
        lte.attach(band=7)
    with pytest.raises(TypeError, match="extra positional arguments given"):
        lte.attach(20)
    with pytest.raises(TypeError, match="function takes 1 positional arguments but 2 were given"):
        lte.isattached(True)
    lte.deinit()
    with pytest.raises(ValueError, match="^invalid carrier at&t$"):
        LTE(carrier="at&t")  # the modem's name for it is "att"
    assert LTE(carrier="att") is lte


def test_callback_and_events(clock: FakeClock) -> None:
    lte = LTE()
    seen: list[object] = []
    lte.lte_callback(LTE.EVENT_BREAK, seen.append)
    lte._urc(LTE.EVENT_BREAK | LTE.EVENT_COVERAGE_LOSS)  # the simulator's hook for a modem event
    assert seen == [lte]
    assert lte.events() == LTE.EVENT_BREAK
    assert lte.events() == 0
    lte.lte_callback(LTE.EVENT_BREAK)  # no handler: disabled
    lte._urc(LTE.EVENT_BREAK)
    assert seen == [lte] and lte.events() == 0


def test_debug_prints_the_at_exchange(clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> None:
    lte = LTE(debug=True)
    capsys.readouterr()
    lte.send_at_cmd("AT+CSQ")
    out = capsys.readouterr().out
    assert "[AT] " in out and " AT+CSQ" in out and "[AT-OK] +0 \r\n+CSQ: 99,99" in out


def test_default_clock_is_board_time(ip: str) -> None:
    """Without a test clock, attach takes ATTACH_TIME_S of board time: at --time-scale 1000, ~1 ms."""
    host.configure(ip=ip)
    host.configure(scale=1000)
    lte_module.hard_reset()
    try:
        lte = LTE()
        lte.attach()
        deadline = time.monotonic() + 2.0
        while not lte.isattached():
            assert time.monotonic() < deadline, "not attached within 2 s of host time"
            time.sleep(0.001)
    finally:
        lte_module.hard_reset()
        host.reset()


# -- end to end ----------------------------------------------------------------------------------

FIPY_SCRIPT = """\
try:
    import ujson as json
except ImportError:
    import json
import time
from network import LTE, Coap

lte = LTE()
lte.attach(band=20, apn="iot.example")
start = time.time()
while not lte.isattached():
    if time.time() - start > 10:
        raise OSError("not attached")
    time.sleep(0.05)
address = lte.send_at_cmd("AT+CGPADDR=1").split('"')[1]
print("address", address)
lte.connect()
while not lte.isconnected():
    time.sleep(0.05)

responses = []

def on_response(code, id, type, token, payload):
    responses.append((code, payload))

Coap.init(address)
Coap.register_response_handler(on_response)
session = Coap.new_client_session("SERVER_IP")
session.send_request(
    Coap.REQUEST_POST,
    uri_path="resource1",
    content_format=Coap.MEDIATYPE_APP_JSON,
    payload=json.dumps({"board": "fipy", "temperature": 21.5}),
)
deadline = time.time() + 10
while not responses and time.time() < deadline:
    Coap.read(100)
print("responses", responses)
"""


@pytest.mark.peer
@pytest.mark.process
def test_fipy_script_posts_json_over_lte_to_aiocoap(ip: str, spawn, tmp_path) -> None:
    require_aiocoap()
    server_ip = free_loopback_ip()
    server = spawn([sys.executable, "-u", str(AIOCOAP_SERVER), "--ip", server_ip])
    assert server.wait_for(lambda out: "ready" in out.splitlines(), timeout=15), server.output
    script = tmp_path / "main.py"
    script.write_text(FIPY_SCRIPT.replace("SERVER_IP", server_ip))
    fipy = spawn(python_script(script), env={"FIRMWARE_SIM_IP": ip, "FIRMWARE_SIM_TIMEOUT": "5"})
    assert fipy.wait_for(lambda out: "responses" in out, timeout=30), fipy.output
    assert fipy.proc.wait(15) == 0, fipy.output
    assert f"address {ip}" in fipy.output.splitlines()
    assert "responses [(68, b'posted')]" in fipy.output.splitlines(), fipy.output
    assert server.wait_for(lambda out: "request POST /resource1" in out, timeout=5), server.output
    line = next(text for text in server.lines if text.startswith("request POST /resource1 "))
    payload = ast.literal_eval(line.removeprefix("request POST /resource1 "))
    assert json.loads(payload) == {"board": "fipy", "temperature": 21.5}
