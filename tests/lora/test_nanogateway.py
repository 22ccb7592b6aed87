"""A simulated LoPy4 running a nano-gateway script (our own code, in the shape of Pycom's
``examples/lorawan-nano-gateway``) is a LoRaWAN gateway for another simulated board: it hears the node's
ABP uplinks on the medium, forwards them over GWMP (UDP, loopback) to this test's network server, and
sends the server's downlink at the ``tmst`` it names, in the node's RX1 window.

The frames are checked with lora-packet (npm): the uplink's MIC and decrypted payload, and the downlink
is built by it. Both boards are ``firmware-sim run`` processes on a LoRa medium of their own.
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

pytestmark = [pytest.mark.process, pytest.mark.peer]

DEV_ADDR = "26011BDA"
NWK_SKEY = "2B7E151628AED2A6ABF7158809CF4F3C"
APP_SKEY = "000102030405060708090A0B0C0D0E0F"

FORWARDER = """\
# A LoRaWAN nano-gateway: one channel, raw LoRa in, Semtech UDP protocol out.
import machine
import ubinascii
import ujson
import uos
import usocket
import utime
import _thread
from network import LoRa, WLAN
from machine import Timer

PROTOCOL_VERSION = 2
PUSH_DATA = 0
PULL_DATA = 2
PULL_RESP = 3
TX_ACK = 5


class Forwarder:
    def __init__(self, eui, server, port, frequency, sf):
        self.eui = ubinascii.unhexlify(eui)
        self.server = server
        self.port = port
        self.frequency = frequency
        self.sf = sf
        self.rxnb = 0
        self.txnb = 0
        self.lock = _thread.allocate_lock()
        self.rtc = machine.RTC()

    def start(self):
        wlan = WLAN(mode=WLAN.STA)
        wlan.connect('lab', auth=(WLAN.WPA2, 'secret'))
        while not wlan.isconnected():
            utime.sleep_ms(50)
        self.rtc.ntp_sync('pool.ntp.org')
        while not self.rtc.synced():
            utime.sleep_ms(50)
        self.address = usocket.getaddrinfo(self.server, self.port)[0][-1]
        self.sock = usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM, usocket.IPPROTO_UDP)
        self.sock.setblocking(False)
        self.pull()
        self.pull_alarm = Timer.Alarm(lambda alarm: self.pull(), s=5, periodic=True)
        _thread.start_new_thread(self.udp_loop, ())
        self.radio_rx()
        self.lora_sock = usocket.socket(usocket.AF_LORA, usocket.SOCK_RAW)
        self.lora_sock.setblocking(False)
        self.lora.callback(trigger=LoRa.RX_PACKET_EVENT | LoRa.TX_PACKET_EVENT, handler=self.on_lora)
        print('gateway online')

    def radio_rx(self):
        self.lora = LoRa(mode=LoRa.LORA, region=LoRa.EU868, frequency=self.frequency,
                         bandwidth=LoRa.BW_125KHZ, sf=self.sf, preamble=8,
                         coding_rate=LoRa.CODING_4_5, tx_iq=True)

    def datagram(self, kind, token, body=b''):
        packet = bytes([PROTOCOL_VERSION]) + token + bytes([kind]) + self.eui + body
        with self.lock:
            self.sock.sendto(packet, self.address)

    def pull(self):
        self.datagram(PULL_DATA, uos.urandom(2))

    def on_lora(self, lora):
        events = lora.events()
        if events & LoRa.RX_PACKET_EVENT:
            frame = self.lora_sock.recv(256)
            stats = lora.stats()
            self.rxnb += 1
            now = self.rtc.now()
            rxpk = {
                'time': '%d-%02d-%02dT%02d:%02d:%02d.%06dZ' % now[:7],
                'tmst': stats.rx_timestamp, 'chan': 0, 'rfch': 0,
                'freq': self.frequency / 1000000, 'stat': 1, 'modu': 'LORA',
                'datr': 'SF%dBW125' % stats.sfrx, 'codr': '4/5',
                'rssi': stats.rssi, 'lsnr': stats.snr, 'size': len(frame),
                'data': ubinascii.b2a_base64(frame)[:-1].decode(),
            }
            self.datagram(PUSH_DATA, uos.urandom(2), ujson.dumps({'rxpk': [rxpk]}).encode())
            print('forwarded', len(frame), 'bytes, tmst', stats.rx_timestamp)
        if events & LoRa.TX_PACKET_EVENT:
            self.txnb += 1
            self.radio_rx()

    def downlink(self, frame, tmst, frequency, sf):
        self.lora.init(mode=LoRa.LORA, region=LoRa.EU868, frequency=frequency,
                       bandwidth=LoRa.BW_125KHZ, sf=sf, preamble=8,
                       coding_rate=LoRa.CODING_4_5, tx_iq=True)
        while utime.ticks_diff(tmst, utime.ticks_cpu()) > 0:
            pass
        self.lora_sock.send(frame)
        print('downlink sent at', utime.ticks_cpu(), 'for', tmst)

    def udp_loop(self):
        while True:
            try:
                data, source = self.sock.recvfrom(1024)
            except OSError:
                utime.sleep_ms(5)
                continue
            if data[3] == PULL_RESP:
                txpk = ujson.loads(data[4:])['txpk']
                frame = ubinascii.a2b_base64(txpk['data'])
                sf = int(txpk['datr'][2:txpk['datr'].index('B')])
                frequency = int(round(txpk['freq'] * 1000)) * 1000
                tmst = txpk['tmst']
                wait = utime.ticks_diff(tmst, utime.ticks_cpu()) - 20000
                Timer.Alarm(lambda alarm: self.downlink(frame, tmst, frequency, sf), us=max(wait, 50))
                self.datagram(TX_ACK, data[1:3])
"""

GATEWAY_MAIN = """\
import machine
import ubinascii
from forwarder import Forwarder

mac = ubinascii.hexlify(machine.unique_id()).upper().decode()
gateway = Forwarder(mac[:6] + 'FFFE' + mac[6:], '{server}', {port}, 868100000, 7)
gateway.start()
"""

NODE_MAIN = """\
from network import LoRa
import socket
import struct
import time
import ubinascii

lora = LoRa(mode=LoRa.LORAWAN, region=LoRa.EU868)
dev_addr = struct.unpack('>l', ubinascii.unhexlify('{dev_addr}'))[0]
nwk_swkey = ubinascii.unhexlify('{nwk_skey}')
app_swkey = ubinascii.unhexlify('{app_skey}')

# one channel, the nano-gateway's
for channel in range(3, 16):
    lora.remove_channel(channel)
for channel in range(0, 3):
    lora.add_channel(channel, frequency=868100000, dr_min=0, dr_max=5)

lora.join(activation=LoRa.ABP, auth=(dev_addr, nwk_swkey, app_swkey))
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setsockopt(socket.SOL_LORA, socket.SO_DR, 5)
s.setblocking(False)
for reading in range(3):
    s.send(bytes([0x01, reading]))
    print('sent reading', reading)
    time.sleep(4)
    frame, port = s.recvfrom(64)
    if frame:
        print('downlink', frame, 'on port', port)
"""


def project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def test_a_nano_gateway_board_forwards_a_nodes_uplinks_and_delivers_a_downlink(
    tmp_path: Path,
    spawn,
    lorapacket: LoraPacket,  # noqa: F811 - the fixture
) -> None:
    server = Server()
    try:
        host, port = server.address
        medium = f"nano-{uuid.uuid4().hex}"
        gateway_dir = project(tmp_path / "gateway", {
            "forwarder.py": FORWARDER, "main.py": GATEWAY_MAIN.format(server=host, port=port)
        })  # fmt: skip
        node_dir = project(tmp_path / "node", {
            "main.py": NODE_MAIN.format(dev_addr=DEV_ADDR, nwk_skey=NWK_SKEY, app_skey=APP_SKEY)
        })  # fmt: skip
        run = ("run", "--lora-medium", medium, "--timeout", "30")
        gateway = spawn(firmware_sim(*run, "--ip", free_loopback_ip(0), str(gateway_dir)))
        server.wait_for(gwmp.PullData, timeout=30)
        assert gateway.wait_for(lambda out: "gateway online" in out, 30), gateway.output
        node = spawn(firmware_sim(*run, "--ip", free_loopback_ip(0), str(node_dir)))

        counts = []
        for reading in range(2):
            push = server.wait_for(gwmp.PushData, timeout=20, where=lambda m: m.rxpk)
            (rx,) = push.rxpk
            assert (rx.freq_hz, rx.datr, rx.cr) == (868_100_000, "SF7BW125", 1)
            up = lorapacket.call("decode", frame=rx.data, nwk_skey=NWK_SKEY, app_skey=APP_SKEY)
            assert up["mtype"] == "Unconfirmed Data Up" and up["dev_addr"].upper() == DEV_ADDR
            assert up["mic_ok"] is True and up["payload"] == bytes([1, reading]).hex()
            counts.append(up["fcnt"])
            if reading == 0:  # answer in RX1: 1 s after the uplink ended, on the gateway's counter
                down = lorapacket.call(
                    "data", mtype="Unconfirmed Data Down", dev_addr=DEV_ADDR, fcnt=0, fport=2,
                    payload=b"ok", nwk_skey=NWK_SKEY, app_skey=APP_SKEY,
                )  # fmt: skip
                txpk = gwmp.TxPacket(bytes.fromhex(down["frame"]), 868_100_000, 7, ipol=True,
                                     tmst=(rx.tmst + 1_000_000) % 2**32)  # fmt: skip
                server.send(0x5151, txpk)
                ack = server.wait_for(gwmp.TxAck, timeout=10)
                assert ack.token == 0x5151 and ack.error is None
        assert counts == [counts[0], counts[0] + 1]
        assert node.wait_for(lambda out: "downlink b'ok' on port 2" in out, 20), node.output
        assert "downlink sent at" in gateway.output
    finally:
        server.close()
