"""Semtech's packet-forwarder protocol (``network.lora.gwmp``, ``gwmp_link``) and the virtual gateway
(``network.lora.gateway``).

The codec is checked against datagrams written by hand from PROTOCOL.TXT (Lora-net/packet_forwarder, the
v2 text); the gateway against a GWMP server of a few lines in this file, on a loopback address of its
own, with the gateway a member of an in-process LoRa medium next to a test radio.
"""

from __future__ import annotations

import base64
import json
import random
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
from conftest import free_loopback_ip

from firmware_sim.cli.gateway import gateway_command
from firmware_sim.cli.options import UsageError
from firmware_sim.testing import firmware_sim
from network.lora import gwmp
from network.lora.airtime import time_on_air
from network.lora.gateway import Gateway, GatewayError, check_server
from network.lora.gwmp_link import Acknowledged, Downlink, GatewayLink, Ignored
from network.lora.medium import Medium, RadioParams, Reception

EUI = bytes.fromhex("AA555A0000000101")
HEADER = b"\x02\x3a\x7c"  # version 2, token 0x3a7c


# -- the codec, against PROTOCOL.TXT ------------------------------------------------------------------

RXPK_EXAMPLE = b"""{"rxpk":[
    {"time":"2013-03-31T16:21:17.530974Z","tmst":3512348514,"chan":9,"rfch":1,"freq":869.1,"stat":1,
     "modu":"FSK","datr":50000,"rssi":-75,"size":16,"data":"VEVTVF9QQUNLRVRfMTIzNA=="},
    {"time":"2013-03-31T16:21:17.532038Z","tmst":3316387610,"chan":0,"rfch":0,"freq":863.00981,"stat":1,
     "modu":"LORA","datr":"SF10BW125","codr":"4/7","rssi":-38,"lsnr":5.5,"size":32,
     "data":"ysgRl452xNLep9S1NTIg2lomKDxUgn3DJ7DE+b00Ass"}]}"""

TXPK_EXAMPLE = b"""{"txpk":{"imme":true,"freq":864.123456,"rfch":0,"powe":14,"modu":"LORA",
    "datr":"SF11BW125","codr":"4/6","ipol":false,"size":32,"data":"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v"}}"""


@pytest.mark.unit
def test_push_data_of_the_protocol_text_decodes_field_by_field() -> None:
    message = gwmp.decode(HEADER + b"\x00" + EUI + RXPK_EXAMPLE)
    assert isinstance(message, gwmp.PushData)
    assert (message.token, message.eui, message.stat) == (0x3A7C, EUI, None)
    fsk, lora = message.rxpk
    assert (fsk.modu, fsk.bitrate, fsk.freq_hz, fsk.data) == ("FSK", 50000, 869_100_000, b"TEST_PACKET_1234")
    assert (lora.tmst, lora.chan, lora.rfch, lora.freq_hz, lora.stat) == (3316387610, 0, 0, 863_009_810, 1)
    assert (lora.sf, lora.bw_hz, lora.cr, lora.datr) == (10, 125_000, 3, "SF10BW125")
    assert (lora.rssi, lora.lsnr) == (-38, 5.5)
    assert len(lora.data) == 32 and lora.time == "2013-03-31T16:21:17.532038Z"


@pytest.mark.unit
def test_push_data_encodes_what_it_decodes() -> None:
    message = gwmp.decode(HEADER + b"\x00" + EUI + RXPK_EXAMPLE)
    again = gwmp.encode(message)
    assert again[:12] == HEADER + b"\x00" + EUI
    body = json.loads(again[12:])
    assert body["rxpk"][1] == {
        "time": "2013-03-31T16:21:17.532038Z", "tmst": 3316387610, "chan": 0, "rfch": 0, "freq": 863.00981,
        "stat": 1, "modu": "LORA", "datr": "SF10BW125", "codr": "4/7", "rssi": -38, "lsnr": 5.5, "size": 32,
        "data": base64.b64encode(message.rxpk[1].data).decode(),
    }  # fmt: skip
    assert body["rxpk"][0]["datr"] == 50000 and "codr" not in body["rxpk"][0]
    assert gwmp.decode(again) == message


@pytest.mark.unit
def test_the_headers_without_json_are_their_four_or_twelve_bytes() -> None:
    for datagram, kind in (
        (HEADER + b"\x01", gwmp.PushAck(0x3A7C)),
        (HEADER + b"\x02" + EUI, gwmp.PullData(0x3A7C, EUI)),
        (HEADER + b"\x04", gwmp.PullAck(0x3A7C)),
        (HEADER + b"\x05" + EUI, gwmp.TxAck(0x3A7C, EUI)),
    ):
        assert gwmp.decode(datagram) == kind
        assert gwmp.encode(kind) == datagram
    assert gwmp.decode(b"\x01\x00\x07\x04") == gwmp.PullAck(7)  # protocol version 1 is read too


@pytest.mark.unit
def test_pull_resp_of_the_protocol_text_decodes_and_round_trips() -> None:
    message = gwmp.decode(HEADER + b"\x03" + TXPK_EXAMPLE)
    assert isinstance(message, gwmp.PullResp)
    tx = message.txpk
    assert (tx.imme, tx.tmst, tx.freq_hz, tx.rfch, tx.powe) == (True, None, 864_123_456, 0, 14)
    assert (tx.modu, tx.sf, tx.bw_hz, tx.cr, tx.ipol, len(tx.data)) == ("LORA", 11, 125_000, 2, False, 32)
    assert gwmp.decode(gwmp.encode(message)) == message
    body = json.loads(gwmp.encode(message)[4:])["txpk"]
    assert body["freq"] == 864.123456 and body["datr"] == "SF11BW125" and body["codr"] == "4/6"
    assert body["data"].endswith("=") and body["size"] == 32  # padded on the way out


@pytest.mark.unit
def test_a_network_servers_class_a_txpk_as_chirpstack_sends_it() -> None:
    txpk = {"imme": False, "tmst": 4294000000, "freq": 868.1, "rfch": 0, "powe": 14, "modu": "LORA",
            "datr": "SF7BW125", "codr": "4/5", "ipol": True, "size": 3, "data": "AQID", "brd": 0,
            "ant": 0}  # fmt: skip
    message = gwmp.decode(b"\x02\x00\x01\x03" + json.dumps({"txpk": txpk}).encode())
    assert isinstance(message, gwmp.PullResp)
    assert (message.txpk.tmst, message.txpk.ipol, message.txpk.data) == (4294000000, True, b"\x01\x02\x03")
    assert message.txpk.extra == {"brd": 0, "ant": 0}
    assert json.loads(gwmp.encode(message)[4:])["txpk"] == txpk


@pytest.mark.unit
def test_tx_ack_is_empty_on_success_and_names_the_error_otherwise() -> None:
    assert gwmp.decode(HEADER + b"\x05" + EUI).ok
    rejected = gwmp.decode(HEADER + b"\x05" + EUI + b'{"txpk_ack":{"error":"COLLISION_PACKET"}}')
    assert isinstance(rejected, gwmp.TxAck) and rejected.error == "COLLISION_PACKET" and not rejected.ok
    assert gwmp.decode(HEADER + b"\x05" + EUI + b'{"txpk_ack":{"error":"NONE"}}').ok
    assert gwmp.encode(gwmp.TxAck(1, EUI, "TOO_LATE"))[12:] == b'{"txpk_ack":{"error":"TOO_LATE"}}'
    assert set(gwmp.TX_ERRORS) >= {"NONE", "TOO_LATE", "TOO_EARLY", "TX_FREQ", "TX_POWER", "GPS_UNLOCKED"}


@pytest.mark.unit
def test_a_stat_object_travels_in_push_data() -> None:
    stat = {"time": "2014-01-12 08:59:28 GMT", "lati": 46.24, "long": 3.2523, "alti": 145, "rxnb": 2,
            "rxok": 2, "rxfw": 2, "ackr": 100.0, "dwnb": 2, "txnb": 2}  # fmt: skip
    message = gwmp.decode(HEADER + b"\x00" + EUI + json.dumps({"stat": stat}).encode())
    assert isinstance(message, gwmp.PushData) and message.stat == stat and message.rxpk == ()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("datagram", "why"),
    [
        (b"\x02\x00", "shorter than the 4-byte GWMP header"),
        (b"\x03\x00\x00\x01", "protocol version 3"),
        (b"\x02\x00\x00\x09", "identifier 0x09"),
        (b"\x02\x00\x00\x02\x01\x02", "no room for the gateway EUI"),
        (b"\x02\x00\x00\x00" + EUI + b"{rxpk", "not JSON"),
        (b"\x02\x00\x00\x03" + b'{"txpk":{"freq":868.1,"datr":"SF13BW125","data":""}}', "SF13BW125"),
        (b"\x02\x00\x00\x03" + b'{"txpk":{"freq":868.1,"datr":"SF7BW125","codr":"5/4","data":""}}', "5/4"),
        (b"\x02\x00\x00\x03" + b'{"txpk":{"freq":868.1,"datr":"SF7BW125","data":"%%"}}', "base64"),
        (b"\x02\x00\x00\x03" + b'{"tx":{}}', "no 'txpk'"),
    ],
)
def test_malformed_datagrams_are_refused_with_the_reason(datagram: bytes, why: str) -> None:
    with pytest.raises(gwmp.GwmpError, match=why.replace("(", r"\(")):
        gwmp.decode(datagram)


@pytest.mark.unit
def test_data_rate_and_coding_rate_identifiers() -> None:
    assert [gwmp.parse_datr(d) for d in ("SF7BW125", "SF12BW500", "SF9BW250")] == [
        (7, 125_000), (12, 500_000), (9, 250_000)
    ]  # fmt: skip
    assert gwmp.format_datr(12, 125_000) == "SF12BW125" and gwmp.format_datr(7, 62_500) == "SF7BW62.5"
    assert [gwmp.parse_codr(f"4/{n}") for n in (5, 6, 7, 8)] == [1, 2, 3, 4]
    assert gwmp.format_codr(1) == "4/5"
    assert gwmp.parse_eui("aa:55:5a:00:00:00:01:01") == EUI and gwmp.format_eui(EUI) == "AA555A0000000101"


# -- the gateway's side, without I/O ------------------------------------------------------------------


@pytest.mark.unit
def test_link_keepalives_acknowledgements_and_downlinks() -> None:
    link = GatewayLink(EUI, keepalive=10, stat_interval=30, rng=random.Random(1))
    first = gwmp.decode(link.start(100.0)[0])
    assert isinstance(first, gwmp.PullData) and first.eui == EUI
    assert link.due(105.0) == [] and link.next_deadline() == 110.0
    again = [gwmp.decode(d) for d in link.due(110.0)]
    assert [type(m) for m in again] == [gwmp.PullData] and again[0].token != first.token
    assert link.receive(gwmp.encode(gwmp.PullAck(again[0].token)), 110.02) == [
        Acknowledged("PULL_ACK", again[0].token, pytest.approx(0.02))
    ]
    assert isinstance(link.receive(gwmp.encode(gwmp.PullAck(again[0].token)), 110.03)[0], Ignored)
    link.received()
    push = gwmp.decode(link.push([gwmp.RxPacket(b"\x40", 5, 868_100_000)], 111.0))
    assert isinstance(push, gwmp.PushData) and push.rxpk[0].data == b"\x40"
    link.receive(gwmp.encode(gwmp.PushAck(push.token)), 111.01)
    txpk = gwmp.TxPacket(b"\x60", 869_525_000, 9, tmst=1000)
    events = link.receive(gwmp.encode(gwmp.PullResp(0x1234, txpk)), 112.0)
    assert events == [Downlink(0x1234, txpk)]
    assert gwmp.decode(link.tx_ack(0x1234, "TOO_LATE")) == gwmp.TxAck(0x1234, EUI, "TOO_LATE")
    link.emitted()
    stat = [gwmp.decode(d) for d in link.due(130.0)]
    report = next(m for m in stat if isinstance(m, gwmp.PushData))
    assert report.stat is not None
    assert {k: report.stat[k] for k in ("rxnb", "rxok", "rxfw", "ackr", "dwnb", "txnb")} == {
        "rxnb": 1, "rxok": 1, "rxfw": 1, "ackr": 100.0, "dwnb": 1, "txnb": 1
    }  # fmt: skip
    assert report.stat["time"].endswith(" GMT")
    assert link.stats.tx_rejected == {"TOO_LATE": 1} and link.stats.pull_acked == 1


@pytest.mark.unit
def test_the_server_may_not_send_a_gateways_packets() -> None:
    link = GatewayLink(EUI)
    (event,) = link.receive(gwmp.encode(gwmp.PullData(1, EUI)), 0.0)
    assert isinstance(event, Ignored) and "gateway's packet" in event.reason


# -- a gateway on a medium, a GWMP server on loopback -------------------------------------------------


class Server:
    """A network server's UDP side in a few lines: acknowledges PUSH_DATA and PULL_DATA, remembers the
    gateway's address, sends PULL_RESP, and keeps every message it received."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((free_loopback_ip(1700), 1700))
        self.sock.settimeout(0.05)
        self.gateway: tuple[str, int] | None = None
        self.received: list[gwmp.Message] = []

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def pump(self, until: float) -> None:
        end = time.monotonic() + until
        while time.monotonic() < end:
            try:
                data, source = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            message = gwmp.decode(data)
            self.received.append(message)
            if isinstance(message, gwmp.PushData):
                self.sock.sendto(gwmp.encode(gwmp.PushAck(message.token)), source)
            elif isinstance(message, gwmp.PullData):
                self.gateway = source
                self.sock.sendto(gwmp.encode(gwmp.PullAck(message.token)), source)

    def wait_for(self, kind: type, timeout: float = 5.0, where=lambda m: True) -> gwmp.Message:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for message in self.received:
                if isinstance(message, kind) and where(message):
                    self.received.remove(message)
                    return message
            self.pump(0.05)
        raise AssertionError(f"no {kind.__name__} within {timeout} s (got {self.received})")

    def send(self, token: int, txpk: gwmp.TxPacket) -> None:
        assert self.gateway is not None, "no PULL_DATA yet"
        self.sock.sendto(gwmp.encode(gwmp.PullResp(token, txpk)), self.gateway)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def medium() -> Iterator[Medium]:
    m = Medium(f"gw-test-{uuid.uuid4().hex}")
    yield m
    m.close()


def start_gateway(medium: Medium, server: Server, **kwargs) -> Gateway:
    gateway = Gateway(medium, server.address, eui=EUI, bind=free_loopback_ip(0), **kwargs)
    gateway.start()
    server.wait_for(gwmp.PullData)
    return gateway


UP = RadioParams(868_100_000, 7, 125_000)


def test_a_frame_on_the_air_reaches_the_server_as_an_rxpk(medium: Medium, server: Server) -> None:
    gateway = start_gateway(medium, server)
    try:
        node = medium.member("node")
        tx = node.transmit(b"\x40\x01\x02\x03\x04\x00\x01\x00\x01hello", UP, 14.0)
        push = server.wait_for(gwmp.PushData, where=lambda m: m.rxpk)
        (rx,) = push.rxpk
        assert push.eui == EUI
        assert (rx.freq_hz, rx.datr, rx.cr, rx.modu) == (868_100_000, "SF7BW125", 1, "LORA")
        assert (rx.stat, rx.chan, rx.rfch) == (1, 0, 0)
        assert rx.data == tx.payload
        assert json.loads(gwmp.encode(push)[12:])["rxpk"][0]["size"] == len(tx.payload)
        assert rx.tmst == gateway.tmst(tx.end)
        assert -80 < rx.rssi < 0 and rx.lsnr <= 10.0 and rx.time is not None and rx.time.endswith("Z")
        server.pump(0.2)
        assert gateway.stats()["push_acked"] == 1 and gateway.stats()["rx_forwarded"] == 1
    finally:
        gateway.stop()


def test_a_pull_resp_goes_on_the_air_at_its_tmst_with_tx_ack(medium: Medium, server: Server) -> None:
    heard: list[Reception] = []
    gateway = start_gateway(medium, server, time_scale=10.0)  # 1 s of counter is 0.1 s here
    try:
        node = medium.member("node", heard.append)
        uplink = node.transmit(b"\x80uplink", UP, 14.0)
        rx = server.wait_for(gwmp.PushData, where=lambda m: m.rxpk).rxpk[0]
        node.listen(RadioParams(868_100_000, 7, 125_000, iq_inverted=True))  # a LoRaWAN node's RX1
        txpk = gwmp.TxPacket(b"\x60down", 868_100_000, 7, ipol=True, tmst=(rx.tmst + 1_000_000) % 2**32)
        server.send(0x4242, txpk)
        ack = server.wait_for(gwmp.TxAck)
        assert (ack.token, ack.eui, ack.error) == (0x4242, EUI, None)
        deadline = time.monotonic() + 3
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        (down,) = heard
        assert down.payload == b"\x60down" and down.iq_inverted
        start = down.at - time_on_air(5, 7, 125_000, 1) / 10
        assert start == pytest.approx(uplink.end + 0.1, abs=0.001)
        assert gateway.stats()["tx_emitted"] == 1
    finally:
        gateway.stop()


def test_frames_the_gateway_cannot_send_get_the_forwarders_errors(medium: Medium, server: Server) -> None:
    gateway = start_gateway(medium, server)
    try:
        now = gateway.tmst()
        cases = {
            "TOO_LATE": gwmp.TxPacket(b"x", 868_100_000, tmst=(now - 1000) % 2**32),
            "TOO_EARLY": gwmp.TxPacket(b"x", 868_100_000, tmst=(now + 600_000_000) % 2**32),
            "TX_FREQ": gwmp.TxPacket(b"x", 915_000_000, tmst=(now + 2_000_000) % 2**32),
            "TX_POWER": gwmp.TxPacket(b"x", 868_100_000, powe=40, tmst=(now + 2_000_000) % 2**32),
            "GPS_UNLOCKED": gwmp.TxPacket(b"x", 868_100_000, time="2024-01-01T00:00:00Z"),
        }
        for token, (error, txpk) in enumerate(cases.items(), 1):
            server.send(token, txpk)
            assert server.wait_for(gwmp.TxAck).error == error
        first = gwmp.TxPacket(b"x" * 20, 869_525_000, 12, tmst=(now + 3_000_000) % 2**32)
        server.send(10, first)
        assert server.wait_for(gwmp.TxAck).error is None
        server.send(11, gwmp.TxPacket(b"y", 868_100_000, tmst=(now + 3_100_000) % 2**32))
        assert server.wait_for(gwmp.TxAck).error == "COLLISION_PACKET"
        assert gateway.stats()["tx_rejected"]["COLLISION_PACKET"] == 1
    finally:
        gateway.stop()


def test_keepalives_and_statistics_are_sent_on_time(medium: Medium, server: Server) -> None:
    gateway = start_gateway(medium, server, keepalive=0.1, stat_interval=0.3)
    try:
        pulls = [server.wait_for(gwmp.PullData, timeout=1.0) for _ in range(3)]
        assert {p.eui for p in pulls} == {EUI} and len({p.token for p in pulls}) == 3
        stat = server.wait_for(gwmp.PushData, timeout=1.0, where=lambda m: m.stat is not None).stat
        assert set(stat) >= {"time", "rxnb", "rxok", "rxfw", "ackr", "dwnb", "txnb"}
        assert gateway.stats()["pull_acked"] >= 3
    finally:
        gateway.stop()


def test_the_counter_wraps_at_32_bits(medium: Medium, server: Server) -> None:
    gateway = start_gateway(medium, server, tmst_offset=2**32 - 50_000)
    try:
        assert gateway.tmst() > 2**32 - 50_000 or gateway.tmst() < 1_000_000
        later = (gateway.tmst() + 2_000_000) % 2**32
        assert 1.9 < gateway.host_time(later) - time.monotonic() < 2.01
        server.send(1, gwmp.TxPacket(b"x", 868_100_000, tmst=later))
        assert server.wait_for(gwmp.TxAck).error is None
    finally:
        gateway.stop()


@pytest.mark.unit
@pytest.mark.parametrize("address", ["192.168.1.10:1700", "eu1.cloud.thethings.network:1700", "10.0.0.1:17"])
def test_a_server_outside_loopback_is_refused_without_the_opt_in(address: str) -> None:
    with pytest.raises(GatewayError, match="only sends to loopback .* unless you pass --allow-lan"):
        check_server(address)


@pytest.mark.unit
def test_loopback_servers_and_malformed_addresses() -> None:
    assert check_server("127.0.0.5:1700") == ("127.0.0.5", 1700)
    assert check_server("localhost:1700") == ("127.0.0.1", 1700)
    assert check_server("[::1]:1700") == ("::1", 1700)
    assert check_server("10.1.2.3:1700", allow_remote=True) == ("10.1.2.3", 1700)  # nothing is sent here
    for bad in ("127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", ":1700"):
        with pytest.raises(GatewayError, match="is not HOST:PORT"):
            check_server(bad)


# -- the command ----------------------------------------------------------------------------------------


@pytest.mark.process
def test_the_command_refuses_a_server_outside_loopback_in_one_line() -> None:
    done = subprocess.run(
        firmware_sim("gateway", "--medium", "x", "--server", "192.168.1.10:1700"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "firmware-sim: error: --server 192.168.1.10:1700 is not on this machine: the gateway only sends to "
        "loopback (127.0.0.0/8, ::1, localhost) unless you pass --allow-lan"
    ]


@pytest.mark.process
def test_the_command_forwards_a_board_process_frame_to_the_server(server: Server, spawn) -> None:
    name = f"gw-cli-{uuid.uuid4().hex}"
    address = "{}:{}".format(*server.address)
    options = ("--eui", "AA555A0000000101", "--keepalive", "1", "--timeout", "20")
    gateway = spawn(firmware_sim("gateway", "--medium", name, "--server", address, *options))
    server.wait_for(gwmp.PullData, timeout=20)
    here = free_loopback_ip(0)
    node = Medium.named(name, across_processes=True, address=here).member(here)
    try:
        deadline = time.monotonic() + 10
        while not node.medium.peers() and time.monotonic() < deadline:
            time.sleep(0.05)
        node.transmit(b"from another process", RadioParams(868_500_000, 9, 125_000))
        push = server.wait_for(gwmp.PushData, timeout=10, where=lambda m: m.rxpk)
        assert push.eui == EUI and push.rxpk[0].data == b"from another process"
        assert (push.rxpk[0].freq_hz, push.rxpk[0].datr, push.rxpk[0].chan) == (868_500_000, "SF9BW125", 2)
        assert gateway.wait_for(lambda out: "gateway: uplink 20 bytes, 868.5 MHz SF9BW125" in out)
    finally:
        node.medium.close()


@pytest.mark.unit
def test_an_up_files_gateway_table_becomes_the_command_or_one_line() -> None:
    where = "boards.toml: gateway 'gw'"
    common = {"ip": "127.0.0.9", "medium": "lab", "scale": 10.0, "timeout": 5.0}
    links = {"127.0.0.3": ("loss", 120.0)}
    table = {"name": "gw", "server": "127.0.0.1:1700", "region": "US915", "channels": [903.9, 904.1]}
    command = gateway_command(table, where, links=links, **common)
    assert command[3:] == [
        "gateway", "--server", "127.0.0.1:1700", "--ip", "127.0.0.9", "--medium", "lab",
        "--time-scale", "10.0", "--region", "US915", "--channels", "903.9,904.1",
        "--lora-link", "127.0.0.3=120.0dB", "--timeout", "5.0",
    ]  # fmt: skip
    for bad, message in (
        ({"server": "10.0.0.1:1700"}, "key 'server': 10.0.0.1:1700 is not on this machine"),
        ({"server": "127.0.0.1:1700", "regoin": "EU868"}, "unknown key(s) regoin"),
        ({"name": "gw"}, 'no server; add server = "127.0.0.1:1700"'),
        ({"server": "127.0.0.1:1700", "region": "EU999"}, "key 'region': EU999: not a region"),
    ):
        with pytest.raises(UsageError, match=re.escape(f"{where}: {message}")):
            gateway_command(bad, where, links={}, **common)
    remote = gateway_command({"server": "10.0.0.1:1700", "allow_lan": True}, where, links={}, **common)
    assert "--allow-lan" in remote
