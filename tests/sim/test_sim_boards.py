"""Board kinds on the simulator: a FiPy reaches a CoAP server over LTE; a LoPy4 has no LTE."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from conftest import ROOT, free_loopback_ip, require_aiocoap

pytestmark = pytest.mark.process

FIPY_MAIN = """\
import time
import ujson
from network import LTE, Coap

lte = LTE()
lte.attach(band=20, apn="iot.example")
while not lte.isattached():
    time.sleep(0.1)
address = lte.send_at_cmd("AT+CGPADDR=1").split('"')[1]
print("lte address", address)
lte.connect()
Coap.init(address)
Coap.register_response_handler(lambda code, id, type, token, payload: print("answer", code, payload))
session = Coap.new_client_session("10.20.30.40")
session.send_request(Coap.REQUEST_POST, uri_path="resource1", content_format=Coap.MEDIATYPE_APP_JSON,
                     payload=ujson.dumps({"board": "fipy", "temperature": 21.5}))
Coap.read(5000)
"""


@pytest.mark.peer
def test_fipy_posts_json_over_lte_to_an_aiocoap_server(ip, spawn, tmp_path):
    require_aiocoap()
    server_ip = free_loopback_ip()
    server = spawn(
        [sys.executable, "-u", str(ROOT / "tests" / "peers" / "aiocoap_server.py"), "--ip", server_ip]
    )
    assert server.wait_for(lambda out: "ready" in out, 15), server.output
    main = tmp_path / "main.py"
    main.write_text(FIPY_MAIN)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "run",
            "--board",
            "fipy",
            "--ip",
            ip,
            "--map",
            f"10.20.30.40={server_ip}",
            "--time-scale",
            "10",
            "--timeout",
            "10",
            str(main),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert f"lte address {ip}" in done.stdout
    assert "answer 68 b'posted'" in done.stdout
    assert server.wait_for(lambda out: "request POST /resource1" in out, 5)
    logged = next(line for line in server.output.splitlines() if line.startswith("request POST /resource1"))
    payload = ast.literal_eval(logged.split(" ", 3)[3])
    assert json.loads(payload) == {"board": "fipy", "temperature": 21.5}


@pytest.mark.parametrize(
    ("board", "has_lte"), [("lopy4", False), ("wipy", False), ("fipy", True), ("gpy", True)]
)
def test_lte_exists_only_on_boards_with_a_modem(board, has_lte, ip, tmp_path):
    main = tmp_path / "main.py"
    main.write_text(
        "import sys\nfrom network import WLAN, Coap\nfrom network import LTE\nprint(sys.platform, 'LTE')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--board", board, "--ip", ip, str(main)],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=ROOT,
    )
    if has_lte:
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().endswith(" LTE")
    else:
        assert done.returncode == 1
        # py/runtime.c mp_import_from's wording
        assert done.stderr.splitlines()[-1] == "ImportError: cannot import name LTE"


def test_board_sockets_go_through_the_address_map(ip, tmp_path):
    import socket

    echo_ip = free_loopback_ip()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as echo:
        echo.bind((echo_ip, 7777))
        echo.settimeout(10)
        main = tmp_path / "main.py"
        main.write_text("""\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b'ping', ('192.168.1.50', 7777))
data, sender = s.recvfrom(64)
print(data, sender[0])
print(socket.getaddrinfo('192.168.1.50', 7777)[0][-1])
try:
    socket.getaddrinfo('example.com', 80)
except OSError as err:
    print('no dns', err)
""")
        board = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firmware_sim",
                "run",
                "--ip",
                ip,
                "--map",
                f"192.168.1.50={echo_ip}",
                "--timeout",
                "10",
                str(main),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        data, sender = echo.recvfrom(64)
        assert (data, sender[0]) == (b"ping", ip)  # sent from the board's own address
        echo.sendto(b"pong", sender)
        out, err = board.communicate(timeout=20)
    assert board.returncode == 0, err
    assert out.splitlines() == ["b'pong' 192.168.1.50", "('192.168.1.50', 7777)", "no dns -202"]
