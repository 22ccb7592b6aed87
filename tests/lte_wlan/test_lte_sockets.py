"""The Sequans modem's socket commands and ``AT!=`` directives, as NB-IoT / Cat-M1 scripts use them
through ``LTE.send_at_cmd``.

The modem is checked on its own first (sans-I/O: the test plays the network, with exact framed
answers). Then an AT-socket library in the style real Pycom NB-IoT projects write (our own code)
runs over ``LTE`` against UDP and TCP echo servers on loopback, reached through the address map
(the script dials 203.0.113.x, a documentation address); and a FiPy script does the same in its own
``python`` process. Every address is loopback.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import free_loopback_ip, python_script

from network import LTE, host
from network import lte as lte_module
from network.lte import ATTACH_TIME_S, SequansModem
from network.lte.sockets import Close, Open, Send

REGISTERED = ATTACH_TIME_S  # board time at which the fixture's modem is registered


def ok(*lines: str) -> str:
    body = "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""
    return body + "\r\nOK\r\n"


ERROR = "\r\nERROR\r\n"
PROMPT = "\r\n> "


# -- the modem, sans-I/O ---------------------------------------------------------------------------


@pytest.fixture
def modem() -> SequansModem:
    """A registered modem at 10.20.30.40, echo off as Pycom's firmware leaves it."""
    m = SequansModem(address="10.20.30.40")
    m.command("ATE0", 0.0)
    m.command("AT+CFUN=1", 0.0)
    return m


def at(m: SequansModem, text: str, now: float = REGISTERED) -> str:
    return m.command(text + "\r", now)


def dialled(
    m: SequansModem, conn_id: int = 1, udp: int = 1, mode: int = 1, port: int = 5000, now: float = REGISTERED
) -> Open:
    """Dial ``conn_id`` and let the network accept it; the Open the modem asked for."""
    assert at(m, f'AT+SQNSD={conn_id},{udp},{port},"203.0.113.5",0,0,{mode}', now) == ""
    (action,) = m.sockets.take_actions()
    assert isinstance(action, Open)
    m.sockets.opened(conn_id, 40000 + conn_id)
    return action


@pytest.mark.unit
def test_socket_settings_have_defaults_and_can_be_set(modem: SequansModem) -> None:
    assert at(modem, "AT+SQNSCFG?") == ok(*(f"+SQNSCFG: {n},1,300,90,600,50" for n in range(1, 7)))
    assert at(modem, "AT+SQNSCFG=3,1,1500,0,100,1") == ok()
    assert "+SQNSCFG: 3,1,1500,0,100,1\r\n" in at(modem, "AT+SQNSCFG?")
    assert at(modem, "AT+SQNSCFGEXT=1,1,1,0,0,1,0,0") == ok()  # Pycom scripts send eight values
    assert at(modem, "AT+SQNSCFGEXT?").startswith(
        "\r\n+SQNSCFGEXT: 1,1,1,0,0,1\r\n+SQNSCFGEXT: 2,0,0,0,0,0\r\n"
    )
    for wrong in ("AT+SQNSCFG=7,1,300,90,600,50", "AT+SQNSCFG=1,1,300,90,5,50", "AT+SQNSCFGEXT=1,3"):
        assert at(modem, wrong) == ERROR


@pytest.mark.unit
def test_dial_answers_when_the_network_did(modem: SequansModem) -> None:
    assert at(modem, 'AT+SQNSD=1,1,5683,"203.0.113.5",0,7000,1') == ""  # OK comes with the network
    assert modem.sockets.take_actions() == [Open(1, False, "203.0.113.5", 5683, 7000, 60.0)]
    modem.sockets.opened(1, 7000)
    assert modem.sockets.take_output() == ok()
    assert at(modem, "AT+SQNSS=1") == ok("+SQNSS: 1,2,10.20.30.40,7000,203.0.113.5,5683")
    assert at(modem, 'AT+SQNSD=1,1,5683,"203.0.113.5",0,0,1') == ERROR  # in use
    assert at(modem, 'AT+SQNSD=2,0,80,"203.0.113.5",0,0,1') == ""
    modem.sockets.open_failed(2)  # refused
    assert modem.sockets.take_output() == "\r\nNO CARRIER\r\n"
    assert at(modem, "AT+SQNSS=2") == ok("+SQNSS: 2,0")


@pytest.mark.unit
def test_dial_needs_registration_and_good_arguments() -> None:
    m = SequansModem()
    m.command("ATE0", 0.0)
    assert m.command('AT+SQNSD=1,1,5683,"203.0.113.5",0,0,1', 0.0) == ERROR  # radio off
    assert m.command("AT+CMEE=1", 0.0) == ok()
    assert m.command('AT+SQNSD=1,1,5683,"203.0.113.5",0,0,1', 0.0) == "\r\n+CME ERROR: 3\r\n"
    m.command("AT+CFUN=1", 0.0)
    for wrong in ('7,1,80,"x"', '1,2,80,"x"', '1,1,0,"x"', '1,1,80,""', '1,1,80,"x",1', '1,1,80,"x",0,0,2'):
        assert m.command(f"AT+SQNSD={wrong}", REGISTERED) == ERROR, wrong
    assert m.sockets.take_actions() == []


@pytest.mark.unit
def test_sendext_prompts_then_takes_exactly_its_bytes(modem: SequansModem) -> None:
    dialled(modem)
    modem.sockets.take_output()
    assert at(modem, "AT+SQNSSENDEXT=1,5") == PROMPT
    assert modem.command("hel", REGISTERED) == ""  # more is due
    assert modem.command("lo\r", REGISTERED) == ok()  # send_at_cmd's \r after the data is ignored
    assert modem.sockets.take_actions() == [Send(1, b"hello")]
    assert at(modem, "AT+SQNSSENDEXT=1,2") == PROMPT
    assert modem.command("hiAT+SQNSI=1\r", REGISTERED) == ok() + ok("+SQNSI: 1,7,0,0,0")
    assert modem.sockets.take_actions() == [Send(1, b"hi")]
    assert at(modem, "AT+SQNSCFGEXT=1,0,0,0,0,1") == ok()  # data to send as hex
    assert at(modem, "AT+SQNSSENDEXT=1,3") == PROMPT
    assert modem.command("00ff41\r", REGISTERED) == ok()
    assert modem.sockets.take_actions() == [Send(1, b"\x00\xffA")]
    assert at(modem, "AT+SQNSSENDEXT=1,1") == PROMPT
    assert modem.command("zz", REGISTERED) == ERROR  # not hex
    assert at(modem, "AT+SQNSCFGEXT=1,0,0,0,0,0") == ok()
    assert at(modem, "AT+SQNSSEND=1") == PROMPT  # the Ctrl-Z form
    assert modem.command("abc\x1a\r", REGISTERED) == ok()
    assert modem.sockets.take_actions() == [Send(1, b"abc")]
    for wrong in ("AT+SQNSSENDEXT=1,0", "AT+SQNSSENDEXT=1,1501", "AT+SQNSSENDEXT=1"):
        assert at(modem, wrong) == ERROR


@pytest.mark.unit
def test_rings_and_reads_in_each_format(modem: SequansModem) -> None:
    dialled(modem)
    modem.sockets.take_output()
    table = modem.sockets
    table.received(1, b"ab")  # <srMode> 0, the default
    assert table.take_output() == "\r\n+SQNSRING: 1\r\n"
    assert at(modem, "AT+SQNSCFGEXT=1,1,0,0") == ok()
    table.received(1, b"cde")
    assert table.take_output() == "\r\n+SQNSRING: 1,3\r\n"
    assert at(modem, "AT+SQNSS=1") == ok("+SQNSS: 1,3,10.20.30.40,40001,203.0.113.5,5000")  # data waiting
    assert at(modem, "AT+SQNSI=1") == ok("+SQNSI: 1,0,5,5,0")
    assert at(modem, "AT+SQNSRECV=1,100") == ok("+SQNSRECV: 1,2", "ab")  # one datagram at a time
    assert at(modem, "AT+SQNSRECV=1,2") == ok("+SQNSRECV: 1,2", "cd")
    assert at(modem, "AT+SQNSCFGEXT=1,1,1,0") == ok()  # received data as hex
    assert at(modem, "AT+SQNSRECV=1,100") == ok("+SQNSRECV: 1,1", "65")
    assert at(modem, "AT+SQNSRECV=1,100") == ERROR  # nothing left
    assert at(modem, "AT+SQNSCFGEXT=1,2,0,0") == ok()  # the data in the ring itself
    table.received(1, b"xy")
    assert table.take_output() == "\r\n+SQNSRING: 1,2,xy\r\n"
    assert at(modem, "AT+SQNSI=1") == ok("+SQNSI: 1,0,7,0,0")
    for wrong in ("AT+SQNSRECV=1,0", "AT+SQNSRECV=1,1501", "AT+SQNSRECV=0,10"):
        assert at(modem, wrong) == ERROR


@pytest.mark.unit
def test_wrong_connection_id_and_closed_socket_errors(modem: SequansModem) -> None:
    assert at(modem, "AT+SQNSSENDEXT=7,5") == ERROR  # no such connection: a wrong argument
    assert at(modem, "AT+SQNSSENDEXT=2,5") == ERROR  # closed: CMEE 0 words it as ERROR
    assert at(modem, "AT+SQNSRECV=2,5") == ERROR
    assert at(modem, "AT+SQNSH=2") == ERROR
    assert at(modem, "AT+CMEE=1") == ok()
    assert at(modem, "AT+SQNSSENDEXT=2,5") == "\r\n+CME ERROR: 3\r\n"
    assert at(modem, "AT+SQNSSENDEXT=7,5") == ERROR  # a wrong argument stays ERROR
    assert at(modem, "AT+CMEE=2") == ok()
    assert at(modem, "AT+SQNSRECV=2,5") == "\r\n+CME ERROR: operation not allowed\r\n"
    assert at(modem, "AT+CMEE?") == ok("+CMEE: 2")
    dialled(modem, 2)
    assert at(modem, "AT+SQNSH=2") == ok()
    assert modem.sockets.take_actions() == [Close(2)]
    assert at(modem, "AT+SQNSSENDEXT=2,5") == "\r\n+CME ERROR: operation not allowed\r\n"


@pytest.mark.unit
def test_peer_close_rings_sqnsh_and_keeps_unread_data(modem: SequansModem) -> None:
    dialled(modem, 3, udp=0)
    modem.sockets.take_output()
    modem.sockets.received(3, b"bye")
    modem.sockets.remote_closed(3)
    assert modem.sockets.take_output() == "\r\n+SQNSRING: 3\r\n\r\n+SQNSH: 3\r\n"
    assert at(modem, "AT+SQNSSENDEXT=3,1") == ERROR
    assert at(modem, "AT+SQNSS=3") == ok("+SQNSS: 3,3,10.20.30.40,40003,203.0.113.5,5000")
    assert at(modem, "AT+SQNSRECV=3,10") == ok("+SQNSRECV: 3,3", "bye")
    assert at(modem, "AT+SQNSS=3") == ok("+SQNSS: 3,0")


@pytest.mark.unit
def test_online_data_mode_until_escape(modem: SequansModem) -> None:
    assert at(modem, 'AT+SQNSD=1,0,80,"203.0.113.5"') == ""  # <connMode> 0: online
    modem.sockets.take_actions()
    modem.sockets.opened(1, 40001)
    assert modem.sockets.take_output() == "\r\nCONNECT\r\n"
    assert modem.command("GET / HTTP/1.0\r\n\r\n", REGISTERED) == ""  # bytes for the socket
    assert modem.sockets.take_actions() == [Send(1, b"GET / HTTP/1.0\r\n\r\n")]
    modem.sockets.received(1, b"HTTP/1.0 200 OK\r\n")
    assert modem.sockets.take_output() == "HTTP/1.0 200 OK\r\n"  # straight on the UART
    assert modem.command("+++", REGISTERED) == ok()
    assert at(modem, "AT+SQNSS=1") == ok("+SQNSS: 1,2,10.20.30.40,40001,203.0.113.5,80")
    modem.sockets.received(1, b"body")
    assert modem.sockets.take_output() == "\r\n+SQNSRING: 1\r\n"
    assert at(modem, "AT+SQNSO=1") == "\r\nCONNECT\r\n"
    assert modem.sockets.take_output() == "body"
    modem.sockets.remote_closed(1)
    assert modem.sockets.take_output() == "\r\nNO CARRIER\r\n"
    assert at(modem, "AT") == ok()  # command mode again


@pytest.mark.unit
def test_losing_registration_closes_sockets_and_a_reboot_forgets_them(modem: SequansModem) -> None:
    dialled(modem, 1)
    dialled(modem, 2)
    modem.sockets.take_output()
    assert at(modem, "AT+SQNSCFG=4,1,200,90,600,50") == ok()
    assert at(modem, "AT+CFUN=4") == ok()
    assert modem.sockets.take_output() == "\r\n+SQNSH: 1\r\n\r\n+SQNSH: 2\r\n"
    assert modem.sockets.take_actions() == [Close(1), Close(2)]
    modem.command("AT+CFUN=1", REGISTERED)
    later = REGISTERED + ATTACH_TIME_S  # registered again
    dialled(modem, 1, port=6000, now=later)
    assert at(modem, "AT^RESET", later) == ok()
    assert modem.sockets.take_output() == ""  # a reboot says nothing of its sockets
    assert modem.sockets.take_actions() == [Close(1)]
    assert "+SQNSCFG: 4,1,300,90,600,50" in at(modem, "AT+SQNSCFG?")


# -- AT!= directives -------------------------------------------------------------------------------


@pytest.mark.unit
def test_directives_of_pycom_firmware_and_nb_iot_scripts(modem: SequansModem) -> None:
    for directive in (
        "setlpm airplane=1 enable=1",
        "clearscanconfig",
        "RRC::addScanBand band=20",
        "addscanfreq band=20 dl-earfcn=6300",
        "RRC::addscanfreq band=8 dl-earfcn=3740",
        "zsp0:npc 1",
        "disablelog 1",
        "RRC:setDbgPerm full",
    ):
        assert at(modem, f'AT!="{directive}"') == ok(), directive
    for wrong in ("addscanfreq band=20", "addscanfreq band=x dl-earfcn=1", "disablelog 2", "showphy", ""):
        assert at(modem, f'AT!="{wrong}"') == ERROR, wrong


@pytest.mark.unit
def test_showver_gives_the_build_modlte_reads(modem: SequansModem) -> None:
    answer = at(modem, 'AT!="showver"')
    assert answer.endswith("\r\n\r\nOK\r\n")
    # lte_get_modem_version (modlte.c): the number between [ and ] after "Software     :"
    after = answer[answer.index("Software     :") :]
    assert int(after[after.index("[") + 1 : after.index("]")]) == 41065
    assert "Bootloader0  : 5.1.1.0 [41065]" in answer  # sqnsupgrade.py looks for [33080] here


@pytest.mark.unit
def test_fsm_and_showcaps(modem: SequansModem) -> None:
    table = at(modem, 'AT!="fsm"')
    assert table.startswith("\r\n|            FSM           |        STATE       |\r\n")
    assert "| EMM MAIN FSM             |REGISTERED          |\r\n" in table
    assert "| RRC TOP FSM              |CAMPED              |\r\n" in table
    modem.command("AT+CFUN=4", REGISTERED)
    assert "| EMM MAIN FSM             |DEREGISTERED        |\r\n" in at(modem, 'AT!="fsm"')
    caps = at(modem, 'AT!="RRC:showcaps"')
    assert "  . catM          : 1\r\n" in caps and "  . board         : 3/4/5/8/12/13/20/28\r\n" in caps


# -- an AT-socket library over LTE, against real servers on loopback --------------------------------

# Our own library, in the style of the AT-socket classes NB-IoT projects write for Pycom boards
# (MicroPython 1.11: no f-strings): command mode, hex both ways so any byte survives the UART, rings
# with the length, and ``send_at_cmd(' ')`` (no command: the modem stays silent) to wait for a ring.
AT_SOCKET_LIBRARY = """\
try:
    import ubinascii as binascii
except ImportError:
    import binascii

TCP = 0
UDP = 1


class ModemSocket:
    def __init__(self, lte, conn_id=1, proto=UDP):
        self.lte = lte
        self.conn_id = conn_id
        self.proto = proto
        self.pending = 0
        self.closed = False

    def _at(self, cmd, timeout=9500):
        return self.lte.send_at_cmd(cmd, timeout=timeout)

    def connect(self, address, port, local_port=0):
        self._at('AT+SQNSCFGEXT=%d,1,1,0,0,1' % self.conn_id)
        dial = (self.conn_id, self.proto, port, address, local_port)
        rsp = self._at('AT+SQNSD=%d,%d,%d,"%s",0,%d,1' % dial)
        if 'OK' not in rsp:
            raise OSError('dial failed: ' + rsp.strip())

    def send(self, data):
        rsp = self._at('AT+SQNSSENDEXT=%d,%d' % (self.conn_id, len(data)))
        if not rsp.endswith('> '):
            raise OSError('send refused: ' + rsp.strip())
        rsp = self._at(binascii.hexlify(data))
        if 'OK' not in rsp:
            raise OSError('send failed: ' + rsp.strip())
        return len(data)

    def _urcs(self, text):
        for line in text.split('\\r\\n'):
            if line.startswith('+SQNSRING: '):
                fields = line[11:].split(',')
                if int(fields[0]) == self.conn_id:
                    self.pending += int(fields[1])
            elif line.startswith('+SQNSH: ') and int(line[8:]) == self.conn_id:
                self.closed = True

    def recv(self, bufsize, timeout_ms=5000):
        if not self.pending:
            self._urcs(self._at(' ', timeout_ms))
        if not self.pending:
            return b''
        rsp = self._at('AT+SQNSRECV=%d,%d' % (self.conn_id, min(bufsize, self.pending)))
        self._urcs(rsp)
        lines = rsp.split('\\r\\n')
        for i in range(len(lines)):
            if lines[i].startswith('+SQNSRECV: '):
                self.pending -= int(lines[i].split(',')[1])
                return binascii.unhexlify(lines[i + 1])
        raise OSError('read failed: ' + rsp.strip())

    def close(self):
        return self._at('AT+SQNSH=%d' % self.conn_id)
"""


def library() -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(compile(AT_SOCKET_LIBRARY, "atsocket.py", "exec"), namespace)
    return namespace


class FakeClock:
    """Board seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lte(ip: str) -> Iterator[LTE]:
    """An attached LTE at a fresh loopback address; board waits 50 times shorter on the host."""
    clock = FakeClock()
    host.configure(ip=ip, mapping={}, clock=clock, scale=50)
    lte_module.hard_reset()
    modem = LTE()
    modem.attach(band=20, apn="nb.inetd.gdsp")
    clock.now += ATTACH_TIME_S
    assert modem.isattached()
    yield modem
    lte_module.hard_reset()
    host.reset()


class Server:
    """A UDP or TCP echo server on a fresh loopback address: what it got, and from whom."""

    def __init__(self, tcp: bool) -> None:
        self.ip = free_loopback_ip()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        self.sock.bind((self.ip, 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[tuple[bytes, str]] = []
        self.hang_up = threading.Event()  # TCP: close the connection
        self.peer_left = threading.Event()  # TCP: the board closed it
        self.sock.settimeout(0.1)
        if tcp:
            self.sock.listen()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tcp if tcp else self._udp, daemon=True)
        self._thread.start()

    def _udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            self.seen.append((data, peer[0]))
            self.sock.sendto(b"echo:" + data, peer)

    def _tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = conn.recv(2048)
                self.seen.append((data, peer[0]))
                conn.sendall(b"got " + data)
                conn.settimeout(0.05)
                deadline = time.monotonic() + 5
                while not self.hang_up.is_set() and time.monotonic() < deadline:
                    try:
                        if conn.recv(2048) == b"":
                            self.peer_left.set()
                            break
                    except TimeoutError:
                        pass

    def stop(self) -> None:
        self._stop.set()
        self.hang_up.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def udp_server() -> Iterator[Server]:
    server = Server(tcp=False)
    yield server
    server.stop()


@pytest.fixture
def tcp_server() -> Iterator[Server]:
    server = Server(tcp=True)
    yield server
    server.stop()


def test_library_talks_udp_through_the_address_map(lte: LTE, ip: str, udp_server: Server) -> None:
    host.configure(mapping={"203.0.113.20": udp_server.ip})
    lib = library()
    sock = lib["ModemSocket"](lte, 1, lib["UDP"])  # type: ignore[operator]
    sock.connect("203.0.113.20", udp_server.port)
    payload = b"\x00\x01temperature=21.5\xff"
    assert sock.send(payload) == len(payload)
    assert sock.recv(64) == b"echo:" + payload
    assert udp_server.seen == [(payload, ip)]  # from the board's own address
    assert lte.send_at_cmd("AT+SQNSI=1") == ok(f"+SQNSI: 1,{len(payload)},{len(payload) + 5},0,0")
    assert sock.recv(64, 100) == b""  # nothing more: the wait ends with the timeout
    assert sock.close() == ok()
    assert lte.send_at_cmd("AT+SQNSS=1") == ok("+SQNSS: 1,0")


def test_tcp_in_text_mode_rings_and_reports_the_peer_closing(lte: LTE, tcp_server: Server) -> None:
    host.configure(mapping={"203.0.113.21": tcp_server.ip})
    at = lte.send_at_cmd
    assert at("AT+SQNSCFGEXT=2,1,0,0") == ok()
    assert at(f'AT+SQNSD=2,0,{tcp_server.port},"203.0.113.21",0,0,1') == ok()
    assert at("AT+SQNSSENDEXT=2,4") == PROMPT
    assert at("ping") == ok()
    assert at(" ", timeout=5000) == "\r\n+SQNSRING: 2,8\r\n"
    assert at("AT+SQNSRECV=2,100") == ok("+SQNSRECV: 2,8", "got ping")
    tcp_server.hang_up.set()
    assert at(" ", timeout=5000) == "\r\n+SQNSH: 2\r\n"
    assert at("AT+SQNSSENDEXT=2,4") == ERROR
    assert at("AT+SQNSS=2") == ok("+SQNSS: 2,0")


def test_errors_reach_the_script_as_the_modem_words_them(
    lte: LTE, udp_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    at = lte.send_at_cmd
    assert at("AT+SQNSSENDEXT=9,5") == ERROR  # no connection 9
    assert at("AT+SQNSSENDEXT=1,5") == ERROR  # connection 1 is closed
    assert at("AT+SQNSRECV=1,5") == ERROR
    assert at("AT+CMEE=1") == ok()
    assert at("AT+SQNSRECV=1,5") == "\r\n+CME ERROR: 3\r\n"
    capsys.readouterr()
    assert at(f'AT+SQNSD=1,1,{udp_server.port},"198.51.100.7",0,0,1') == "\r\nNO CARRIER\r\n"
    hint = capsys.readouterr().err
    assert "198.51.100.7 is outside loopback" in hint and "FIRMWARE_SIM_MAP=198.51.100.7=" in hint
    assert udp_server.seen == []


def test_answers_stop_at_a_nul_byte_as_on_the_board(lte: LTE, udp_server: Server) -> None:
    host.configure(mapping={"203.0.113.22": udp_server.ip})
    at = lte.send_at_cmd
    assert at("AT+SQNSCFGEXT=1,1,0,0") == ok()  # received data as text
    assert at(f'AT+SQNSD=1,1,{udp_server.port},"203.0.113.22",0,0,1') == ok()
    assert at("AT+SQNSSENDEXT=1,3") == PROMPT
    assert at(b"a\x00b") == ok()
    assert at(" ", timeout=5000) == "\r\n+SQNSRING: 1,8\r\n"
    assert at("AT+SQNSRECV=1,8") == "\r\n+SQNSRECV: 1,8\r\necho:a"  # send_at_cmd's str is a C string


def test_detach_closes_the_modems_sockets(lte: LTE, tcp_server: Server) -> None:
    host.configure(mapping={"203.0.113.23": tcp_server.ip})
    at = lte.send_at_cmd
    assert at(f'AT+SQNSD=3,0,{tcp_server.port},"203.0.113.23",0,0,1') == ok()
    assert at("AT+SQNSSENDEXT=3,2") == PROMPT
    assert at("hi") == ok()
    lte.detach()  # AT+CFUN=4: the PDN is gone, and the modem's sockets with it
    assert tcp_server.peer_left.wait(5)
    assert at("AT+SQNSS=3") == ok("+SQNSS: 3,0")


# -- a FiPy script in its own process --------------------------------------------------------------

NB_IOT_SCRIPT = """\
import time
from network import LTE
from atsocket import ModemSocket, UDP

lte = LTE()
lte.send_at_cmd('AT+CFUN=0')
lte.send_at_cmd('AT!="clearscanconfig"')
lte.send_at_cmd('AT!="addscanfreq band=20 dl-earfcn=6300"')
lte.send_at_cmd('AT!="zsp0:npc 1"')
lte.send_at_cmd('AT+CGDCONT=1,"IP","nb.inetd.gdsp"')
lte.send_at_cmd('AT+CFUN=1')
start = time.time()
while not lte.isattached():
    if time.time() - start > 10:
        raise OSError('not attached')
    time.sleep(0.05)
sock = ModemSocket(lte, 1, UDP)
sock.connect('203.0.113.30', SERVER_PORT)
sock.send(b'{"t": 21.5}')
print('reply', sock.recv(64))
print(lte.send_at_cmd('AT+SQNSI=1').split()[1])
sock.close()
"""


@pytest.mark.process
def test_fipy_script_sends_and_receives_udp_over_at_sockets(
    ip: str, spawn, tmp_path, udp_server: Server
) -> None:
    (tmp_path / "atsocket.py").write_text(AT_SOCKET_LIBRARY)
    script = tmp_path / "main.py"
    script.write_text(NB_IOT_SCRIPT.replace("SERVER_PORT", str(udp_server.port)))
    env = {"FIRMWARE_SIM_IP": ip, "FIRMWARE_SIM_MAP": f"203.0.113.30={udp_server.ip}"}
    fipy = spawn(python_script(script), env=env)
    assert fipy.proc.wait(30) == 0, fipy.output
    assert "reply b'echo:{\"t\": 21.5}'" in fipy.lines, fipy.output
    assert "1,11,16,0,0" in fipy.lines, fipy.output
    assert udp_server.seen == [(b'{"t": 21.5}', ip)]
