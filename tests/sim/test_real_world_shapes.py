"""Real-world script shapes run unchanged (our own scripts, in the style of public Pycom projects): a
microCoAPy-style client that builds its packets with ``bytearray.extend(str)``, an MQTT-style client that
writes ``str`` and ``(buf, n)`` to its socket. Each talks to a real peer on loopback through the map."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, free_loopback_ip, require_aiocoap

pytestmark = pytest.mark.process

COAP_CLIENT = """\
import socket
import time

SERVER = '192.168.1.50'


class Packet:
    def __init__(self, message_id, path):
        self.message_id = message_id
        self.path = path

    def to_bytes(self):
        buffer = bytearray()
        buffer.append(0x40)  # version 1, confirmable, no token
        buffer.append(0x01)  # GET
        buffer.append(self.message_id >> 8)
        buffer.append(self.message_id & 0xFF)
        buffer.append((11 << 4) | len(self.path))  # Uri-Path
        buffer.extend(self.path)  # a str, as microCoAPy-style clients write it
        return buffer


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
sock.sendto(Packet(0x1234, 'time').to_bytes(), (SERVER, 5683))
data, addr = sock.recvfrom(256)
print('code', data[1] >> 5, data[1] & 0x1F, 'mid', (data[2] << 8) | data[3])
"""


@pytest.mark.peer
def test_a_coap_client_that_builds_packets_from_str_talks_to_a_real_server(tmp_path: Path, spawn) -> None:
    require_aiocoap()
    server_ip = free_loopback_ip()
    server = spawn(
        [sys.executable, "-u", str(ROOT / "tests" / "peers" / "aiocoap_server.py"), "--ip", server_ip]
    )
    assert server.wait_for(lambda out: "ready" in out, 15), server.output
    main = tmp_path / "main.py"
    main.write_text(COAP_CLIENT)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "run",
            "--map",
            f"192.168.1.50={server_ip}",
            "--timeout",
            "15",
            str(main),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "code 2 5 mid 4660", done.stdout + done.stderr


MQTT_CLIENT = """\
import socket

addr = socket.getaddrinfo('broker.local', {port})[0][-1]
sock = socket.socket()
sock.connect(addr)
packet = bytearray(b'\\x10\\x0c\\x00\\x04MQTT')
sock.write(packet, 2)  # the fixed header only: (buf, n)
sock.write(packet[2:])
sock.write('client-1')  # a str, as MQTT-style clients write topics and ids
sock.send('!')
sock.close()
print('sent')
"""


def test_an_mqtt_style_client_writes_str_and_buf_n_to_its_socket(tmp_path: Path) -> None:
    received = bytearray()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(30)
                while chunk := conn.recv(1024):
                    received.extend(chunk)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        main = tmp_path / "main.py"
        main.write_text(MQTT_CLIENT.format(port=port))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "firmware_sim",
                "run",
                "--map",
                "broker.local=127.0.0.1",
                "--timeout",
                "15",
                str(main),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        thread.join(30)
    assert done.returncode == 0 and done.stdout == "sent\n", done.stderr
    assert bytes(received) == b"\x10\x0c\x00\x04MQTTclient-1!"
