"""LoRaWAN with ``network.LoRa`` (firmware 1.20.2.r6's modlora.c over LoRaMac-node): OTAA and ABP joins,
uplinks that a network server built on lora-packet (npm) decrypts, downlinks received in RX1 with their
port, confirmed uplinks acknowledged, ``join(timeout=...)`` timing out, and the session kept by
``nvram_save``/``nvram_restore`` across a power cycle and, on a real board process, across
``machine.deepsleep()``.
"""

from __future__ import annotations

import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from conftest import free_loopback_ip, raises
from lorapacket_oracle import lorapacket  # noqa: F401  (fixture)
from lorawan_ns import NetworkServer

from network import host
from network.lora import settings
from network.lora.api import LoRa, hard_reset
from network.lora.socket import SO_CONFIRMED, SO_DR, SOL_LORA, LoRaSocket

APP_EUI = bytes.fromhex("70B3D57ED0001234")
APP_KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
NWK_SKEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
APP_SKEY = bytes.fromhex("F0E0D0C0B0A090807060504030201000")


@pytest.fixture
def node(ip: str, tmp_path: Path):
    """(LoRa class, medium name) of a fresh in-process board whose nvram is a file of its own."""
    name = f"lorawan-{uuid.uuid4().hex}"
    host.configure(ip=ip, mapping={})
    settings.configure_board(medium=name, nvram=tmp_path / "lora-nvram.json")
    yield LoRa, name
    hard_reset()
    settings.reset_board()
    host.reset()


def joined_node(lora_class, server: NetworkServer):
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    lora.join(activation=lora_class.OTAA, auth=(APP_EUI, APP_KEY), timeout=8000)
    return lora


@pytest.mark.peer
def test_otaa_join_uplink_and_downlink(node, lorapacket) -> None:  # noqa: F811
    lora_class, name = node
    server = NetworkServer(lorapacket, name, "gateway", APP_KEY)
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    started = time.monotonic()
    lora.join(activation=lora_class.OTAA, auth=(APP_EUI, APP_KEY), timeout=0)
    assert not lora.has_joined()
    while not lora.has_joined() and time.monotonic() - started < 8:
        time.sleep(0.05)
    assert lora.has_joined()
    assert 5.0 <= time.monotonic() - started < 6.5  # JOIN_ACCEPT_DELAY1
    assert server.joins == [(lora.mac().hex(), APP_EUI.hex(), server.joins[0][2])]  # DevEUI: the LoRa MAC
    sock = LoRaSocket()
    sock.setsockopt(SOL_LORA, SO_DR, 5)
    server.queue_downlink(7, b"\x01\x02 on port 7")
    started = time.monotonic()
    assert sock.send(b"\x00\x2a hello") == 8
    assert 1.0 <= time.monotonic() - started < 1.9  # McpsConfirm after RX1's downlink, before RX2
    up = server.uplinks[-1]
    assert (up.port, up.payload, up.fcnt, up.mic_ok, up.confirmed) == (2, b"\x00\x2a hello", 0, True, False)
    sock.setblocking(False)
    assert sock.recvfrom(64) == (b"\x01\x02 on port 7", 7)
    stats = lora.stats()
    assert (stats.sftx, stats.sfrx, stats.tx_counter) == (5, 5, 0)  # data rates, the uplink's FCnt
    assert stats.tx_frequency in (868_100_000, 868_300_000, 868_500_000)
    loss = server.member.medium.path_loss("gateway", host.own_address(), stats.tx_frequency)
    assert stats.rssi == round(14.0 - loss)  # the gateway's 14 dBm over 10 m
    assert lora.events() == lora_class.RX_PACKET_EVENT | lora_class.TX_PACKET_EVENT
    assert sock.recv(64) == b""


@pytest.mark.peer
def test_confirmed_uplink_is_acknowledged_and_a_bound_port_is_used(node, lorapacket) -> None:  # noqa: F811
    lora_class, name = node
    server = NetworkServer(lorapacket, name, "gateway", APP_KEY)
    lora = joined_node(lora_class, server)
    assert lora.has_joined()
    events = []
    trigger = lora_class.TX_PACKET_EVENT | lora_class.TX_FAILED_EVENT
    lora.callback(trigger, lambda lo: events.append(lo.events()))
    sock = LoRaSocket()
    sock.bind(42)
    sock.setsockopt(SOL_LORA, SO_CONFIRMED, True)
    assert sock.send(b"confirm me") == 10
    up = server.uplinks[-1]
    assert (up.port, up.confirmed, up.payload) == (42, True, b"confirm me")
    assert server.wait(lambda: True) and _eventually(lambda: events == [lora_class.TX_PACKET_EVENT])
    assert lora.stats().tx_trials == 1  # McpsConfirm.NbRetries: sent once


@pytest.mark.peer
def test_dev_status_answer_reports_the_battery_level(node, lorapacket) -> None:  # noqa: F811
    lora_class, name = node
    server = NetworkServer(lorapacket, name, "gateway", APP_KEY)
    lora = joined_node(lora_class, server)
    lora.set_battery_level(200)
    server.queue_downlink(1, b"status?", fopts=bytes([0x06]))  # DevStatusReq
    sock = LoRaSocket()
    sock.send(b"one")
    sock.send(b"two")
    assert server.uplinks[-1].payload == b"two"
    assert server.uplinks[-1].fopts[:2] == bytes([0x06, 200])  # DevStatusAns: battery, margin


@pytest.mark.peer
def test_abp_joins_at_once_and_its_uplinks_decrypt(node, lorapacket) -> None:  # noqa: F811
    lora_class, name = node
    server = NetworkServer(lorapacket, name, "gateway", APP_KEY, abp_keys=(NWK_SKEY, APP_SKEY))
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    lora.join(activation=lora_class.ABP, auth=(0x26011BDA, NWK_SKEY, APP_SKEY))
    assert lora.has_joined() and server.joins == []
    sock = LoRaSocket()
    sock.send(b"abp")
    assert server.wait(lambda: server.uplinks, 5)
    assert (server.uplinks[0].payload, server.uplinks[0].dev_addr) == (b"abp", 0x26011BDA)


@pytest.mark.unit
def test_join_without_a_network_times_out(node) -> None:
    lora_class, _ = node
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    started = time.monotonic()
    with raises(TimeoutError, "timed out"):
        lora.join(activation=lora_class.OTAA, auth=(APP_EUI, APP_KEY), timeout=1500)
    assert 1.4 <= time.monotonic() - started < 2.5
    assert not lora.has_joined()
    with pytest.raises(OSError) as info:
        LoRaSocket().send(b"x")
    assert str(info.value) == "[Errno 115] ENETDOWN"


@pytest.mark.peer
def test_nvram_keeps_the_session_across_a_power_cycle(node, lorapacket) -> None:  # noqa: F811
    lora_class, name = node
    server = NetworkServer(lorapacket, name, "gateway", APP_KEY)
    lora = joined_node(lora_class, server)
    LoRaSocket().send(b"first")
    lora.nvram_save()
    hard_reset()  # the board powers up again: a new LoRa object, radio and MAC
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    assert not lora.has_joined()
    lora.nvram_restore()
    assert lora.has_joined()
    LoRaSocket().send(b"second")
    got = [(u.payload, u.fcnt, u.mic_ok) for u in server.uplinks]
    assert got == [(b"first", 0, True), (b"second", 1, True)]
    assert len(server.joins) == 1
    hard_reset()  # restore cleared the stored JOINED flag until the next nvram_save
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    lora.nvram_restore()
    assert not lora.has_joined()
    lora.nvram_erase()
    lora.nvram_restore()
    assert not lora.has_joined()


@pytest.mark.unit
def test_nvram_of_another_region_is_erased(node) -> None:
    lora_class, _ = node
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    lora.join(activation=lora_class.ABP, auth=(0x26011BDA, NWK_SKEY, APP_SKEY))
    lora.nvram_save()
    hard_reset()
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.US915)
    lora.nvram_restore()
    assert not lora.has_joined()
    hard_reset()
    lora = lora_class(mode=lora_class.LORAWAN, region=lora_class.EU868)
    lora.nvram_restore()
    assert not lora.has_joined()  # erased by the US915 restore


def _eventually(predicate, timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.02)
    return bool(predicate())


# -- a real board: join, uplink, downlink, deep sleep, and on again with the saved session -------------

NODE = """\
from network import LoRa
import socket
import binascii
import machine
import time

lora = LoRa(mode=LoRa.LORAWAN, region=LoRa.EU868)

if machine.reset_cause() == machine.DEEPSLEEP_RESET:
    lora.nvram_restore()
    print('woke up, joined: %s' % lora.has_joined())
else:
    app_eui = binascii.unhexlify('70B3D57ED0001234')
    app_key = binascii.unhexlify('2B7E151628AED2A6ABF7158809CF4F3C')
    lora.join(activation=LoRa.OTAA, auth=(app_eui, app_key), timeout=0)
    while not lora.has_joined():
        time.sleep(0.5)
        print('Not yet joined...')
    print('Joined, DevEUI %s' % binascii.hexlify(lora.mac()).decode())

s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setsockopt(socket.SOL_LORA, socket.SO_DR, 5)
s.setblocking(True)
s.send(bytes([0x01, 0x02, machine.reset_cause()]))
s.setblocking(False)
data, port = s.recvfrom(64)
print('downlink %s on port %d' % (data, port))
lora.nvram_save()
if machine.reset_cause() != machine.DEEPSLEEP_RESET:
    print('sleeping')
    machine.deepsleep(2000)
print('done')
"""


@pytest.mark.process
@pytest.mark.peer
def test_otaa_node_keeps_its_session_across_deepsleep(spawn, tmp_path: Path, lorapacket) -> None:  # noqa: F811
    medium = f"node-{uuid.uuid4().hex}"
    server = NetworkServer(lorapacket, medium, free_loopback_ip(), APP_KEY, across=True)
    server.queue_downlink(5, b"welcome")
    script = tmp_path / "main.py"
    script.write_text(textwrap.dedent(NODE))
    board = spawn([sys.executable, "-m", "firmware_sim", "run", "--lora-medium", medium, "--timeout", "60",
                   "--flash", str(tmp_path / "flash"), str(script)])  # fmt: skip
    assert board.wait_for(lambda out: "sleeping" in out, timeout=30), board.output
    assert "Joined, DevEUI 70b3d5499" in board.output
    assert "downlink b'welcome' on port 5" in board.output
    server.queue_downlink(9, b"again")
    assert board.wait_for(lambda out: "done" in out, timeout=30), board.output
    assert "woke up, joined: True" in board.output
    assert "downlink b'again' on port 9" in board.output
    assert len(server.joins) == 1
    assert [(u.payload, u.fcnt, u.mic_ok) for u in server.uplinks] == [
        (bytes([1, 2, 0]), 0, True),  # power on
        (bytes([1, 2, 3]), 1, True),  # machine.DEEPSLEEP_RESET, the session restored
    ]
    assert (tmp_path / "flash" / ".firmware-sim" / "lora-nvram.json").is_file()
    server.close()
