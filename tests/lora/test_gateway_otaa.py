"""An OTAA node script in the shape of Pycom's LoRaWAN examples joins a network server through the virtual
gateway (``network.lora.gateway``), sends readings, receives a downlink, and after ``machine.deepsleep()``
sends again on the session it kept with ``nvram_save``/``nvram_restore``, all over GWMP on loopback.

The node is a ``firmware-sim run`` process on a LoRa medium shared with this test's gateway (across
processes, loopback UDP); the network server is a few lines of GWMP here plus lora-packet (npm) for the
LoRaWAN side: it checks the JoinRequest's MIC, builds the JoinAccept, derives the session keys, checks
each uplink's MIC and payload, and builds the downlink. The server schedules its answers as ChirpStack
does: ``tmst`` of the uplink + 5 s (JoinAccept, RX1) or + 1 s (data, RX1), on the gateway's counter.
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest
from conftest import free_loopback_ip
from lorapacket_oracle import LoraPacket, lorapacket  # noqa: F401 - the fixture
from test_gwmp import Server

from firmware_sim.testing import firmware_sim
from network.lora import gwmp
from network.lora.gateway import Gateway
from network.lora.medium import Medium

pytestmark = [pytest.mark.process, pytest.mark.peer]

APP_EUI = "70B3D57EF0003BFD"
APP_KEY = "36AB7625FE770B6881683B495300FFD6"
DEV_EUI = "AABBCCDDEEFF7778"
DEV_ADDR = "26012345"

NODE = """\
from network import LoRa
import machine
import socket
import ubinascii
import time

lora = LoRa(mode=LoRa.LORAWAN, region=LoRa.EU868)
woke = machine.reset_cause() == machine.DEEPSLEEP_RESET
if woke:
    lora.nvram_restore()
if not lora.has_joined():
    dev_eui = ubinascii.unhexlify('{dev_eui}')
    app_eui = ubinascii.unhexlify('{app_eui}')
    app_key = ubinascii.unhexlify('{app_key}')
    lora.join(activation=LoRa.OTAA, auth=(dev_eui, app_eui, app_key), timeout=0, dr=5)
    while not lora.has_joined():
        time.sleep(0.5)
        print('Not joined yet...')
    print('joined')

s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setsockopt(socket.SOL_LORA, socket.SO_DR, 5)
s.setblocking(False)
if woke:
    s.send(b'after sleep')
    print('sent after sleep')
else:
    for i in range(2):
        pkt = b'PKT #' + bytes([i])
        print('Sending:', pkt)
        s.send(pkt)
        time.sleep(4)
        rx, port = s.recvfrom(256)
        if rx:
            print('Received: {{}}, on port: {{}}'.format(rx, port))
    lora.nvram_save()
    print('sleeping')
    machine.deepsleep(3000)
"""


def answer(server: Server, rx: gwmp.RxPacket, frame: bytes, delay_us: int, token: int) -> None:
    """A PULL_RESP for RX1: the uplink's channel and data rate, ``delay_us`` after it on the counter."""
    txpk = gwmp.TxPacket(frame, rx.freq_hz, rx.sf, rx.bw_hz, ipol=True, tmst=(rx.tmst + delay_us) % 2**32)
    server.send(token, txpk)
    ack = server.wait_for(gwmp.TxAck, timeout=5)
    assert ack.token == token and ack.error is None


def test_an_otaa_node_joins_sends_receives_and_sleeps_through_the_gateway(
    tmp_path: Path,
    spawn,
    lorapacket: LoraPacket,  # noqa: F811 - the fixture
) -> None:
    server = Server()
    medium_name = f"otaa-{uuid.uuid4().hex}"
    here = free_loopback_ip(0)
    medium = Medium.named(medium_name, across_processes=True, address=here)
    gateway = Gateway(medium, server.address, bind=here, across_processes=True)
    try:
        gateway.start()
        server.wait_for(gwmp.PullData)
        (tmp_path / "main.py").write_text(
            textwrap.dedent(NODE.format(dev_eui=DEV_EUI, app_eui=APP_EUI, app_key=APP_KEY))
        )
        node = spawn(firmware_sim("run", "--lora-medium", medium_name, "--timeout", "60", str(tmp_path)))

        rx = server.wait_for(gwmp.PushData, timeout=30, where=lambda m: m.rxpk).rxpk[0]
        request = lorapacket.call("decode", frame=rx.data, app_key=APP_KEY)
        assert request["mtype"] == "Join Request" and request["mic_ok"] is True
        assert (request["dev_eui"].upper(), request["app_eui"].upper()) == (DEV_EUI, APP_EUI)
        app_nonce, net_id = "a1b2c3", "000013"
        accept = lorapacket.call("join_accept", app_key=APP_KEY, app_nonce=app_nonce, net_id=net_id,
                                 dev_addr=DEV_ADDR, dl_settings=0, rx_delay=1)  # fmt: skip
        keys = lorapacket.call("session_keys", app_key=APP_KEY, net_id=net_id, app_nonce=app_nonce,
                               dev_nonce=request["dev_nonce"])  # fmt: skip
        answer(server, rx, bytes.fromhex(accept["frame"]), 5_000_000, 1)
        assert node.wait_for(lambda out: "joined" in out, 20), node.output

        counts = []
        for i in range(2):
            rx = server.wait_for(gwmp.PushData, timeout=20, where=lambda m: m.rxpk).rxpk[0]
            up = lorapacket.call(
                "decode", frame=rx.data, nwk_skey=keys["nwk_skey"], app_skey=keys["app_skey"]
            )
            assert up["dev_addr"].upper() == DEV_ADDR and up["mic_ok"] is True
            assert bytes.fromhex(up["payload"]) == b"PKT #" + bytes([i]) and rx.datr == "SF7BW125"
            counts.append(up["fcnt"])
            if i == 0:
                down = lorapacket.call("data", mtype="Unconfirmed Data Down", dev_addr=DEV_ADDR, fcnt=0,
                                       fport=3, payload=b"hi", nwk_skey=keys["nwk_skey"],
                                       app_skey=keys["app_skey"])  # fmt: skip
                answer(server, rx, bytes.fromhex(down["frame"]), 1_000_000, 2)
        assert counts == [counts[0], counts[0] + 1]
        assert node.wait_for(lambda out: "Received: b'hi', on port: 3" in out, 20), node.output

        # machine.deepsleep() with the session in nvram: the next boot sends at once, no second join
        rx = server.wait_for(gwmp.PushData, timeout=30, where=lambda m: m.rxpk).rxpk[0]
        up = lorapacket.call("decode", frame=rx.data, nwk_skey=keys["nwk_skey"], app_skey=keys["app_skey"])
        assert up["dev_addr"].upper() == DEV_ADDR and up["mic_ok"] is True, up
        assert bytes.fromhex(up["payload"]) == b"after sleep" and up["fcnt"] == counts[0] + 2
        assert node.wait_for(lambda out: "sent after sleep" in out, 20), node.output
        assert node.output.count("joined\n") == 1
        assert gateway.stats()["tx_emitted"] == 2 and gateway.stats()["rx_forwarded"] >= 3
    finally:
        gateway.stop()
        medium.close()
        server.close()
