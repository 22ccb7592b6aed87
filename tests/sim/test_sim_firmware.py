"""``--firmware``: a script written for one firmware API runs under its version and fails as on the board
under the other; the default profile warns where versions differ."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, free_loopback_ip, libcoap, wait_udp_port

pytestmark = pytest.mark.process

DOCS = ROOT / "examples" / "docs"
API_A = DOCS / "api_a_example.py"  # Coap.socket(), uselect.poll(), module-level Coap.send_request
API_B = DOCS / "client_blocking.py"  # Coap.new_client_session, read() in a thread


def board(firmware: str, script, peer_ip: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "firmware_sim",
        "run",
        "--firmware",
        firmware,
        "--ip",
        free_loopback_ip(),
        "--map",
        f"192.168.0.234={peer_ip}",
        "--timeout",
        "3",
        str(script),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT)


@pytest.fixture
def libcoap_server(ip, spawn):
    spawn([libcoap("coap-server-notls"), "-A", ip, "-p", "5683"])
    wait_udp_port(ip, 5683)
    return ip


@pytest.mark.peer
def test_api_a_script_runs_on_1_20_2_and_fails_on_1_20_3(libcoap_server):
    on_a = board("1.20.2.r6", API_A, libcoap_server)
    assert on_a.returncode == 0, on_a.stderr
    assert "Code: 69" in on_a.stdout and "Token: b'token1'" in on_a.stdout
    assert "warning" not in on_a.stderr  # a strict profile reproduces, it does not warn
    on_b = board("1.20.3.b2", API_A, libcoap_server)
    assert on_b.returncode == 1
    assert on_b.stderr.splitlines()[-1] == "AttributeError: 'module' object has no attribute 'socket'"
    assert '  File "api_a_example.py", line 59, in <module>' in on_b.stderr


@pytest.mark.peer
def test_api_b_script_runs_on_1_20_3_and_fails_on_1_20_2(libcoap_server):
    on_b = board("1.20.3.b2", API_B, libcoap_server)
    assert on_b.returncode == 0, on_b.stderr
    assert "Token: b'token1'" in on_b.stdout and "Token: b'token2'" in on_b.stdout
    on_a = board("1.20.2.r6", API_B, libcoap_server)
    assert on_a.returncode == 1
    assert (
        on_a.stderr.splitlines()[-1]
        == "AttributeError: 'module' object has no attribute 'new_client_session'"
    )


@pytest.mark.peer
def test_docs_profile_runs_both_and_warns_where_versions_differ(libcoap_server):
    for script in (API_A, API_B):
        done = board("docs", script, libcoap_server)
        assert done.returncode == 0, done.stderr
        assert "Token: b'token1'" in done.stdout
    warned = board("docs", API_B, libcoap_server).stderr
    assert (
        "firmware-sim: warning: client sessions on firmware 1.20.3.b0 and later send Uri-Host as the 4 raw "
        "bytes of the address, not as text" in warned
    )
