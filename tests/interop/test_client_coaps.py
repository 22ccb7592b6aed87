"""coaps:// from the host client and ``firmware-sim coap -k -u``: DTLS-PSK against libcoap's OpenSSL
server (``coap-server-openssl -k KEY -h HINT``) on loopback; a wrong key fails in bounded time with a
message that says so, never a hang."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from conftest import ROOT, free_loopback_ip, libcoap, wait_udp_port

from network.coap.client import Client, CoapError, Response
from network.coap.dtls import DtlsConfig

pytestmark = [pytest.mark.peer, pytest.mark.process]

KEY, IDENTITY = b"secretPSK", b"firmware-sim"


@pytest.fixture
def coaps_server(spawn) -> str:
    ip = free_loopback_ip(5684)
    spawn([libcoap("coap-server-openssl"), "-A", ip, "-k", KEY.decode(), "-h", "CoAP"])
    wait_udp_port(ip, 5684, timeout=10)
    return ip


def test_get_and_observe_over_dtls(coaps_server: str) -> None:
    with Client(psk=KEY, identity=IDENTITY) as coap:
        assert coap.get(f"coaps://{coaps_server}/.well-known/core", timeout=10).text.startswith("</>")
        got: list[Response] = []
        three = threading.Event()
        handle = coap.observe(
            f"coaps://{coaps_server}/time", lambda r: (got.append(r), len(got) >= 3 and three.set())
        )
        assert three.wait(10)
        handle.cancel()
        assert handle.wait_ended(5)


def test_a_wrong_key_is_a_clear_error_within_the_handshake_bound(coaps_server: str) -> None:
    wrong = Client(psk=b"not-the-key", identity=IDENTITY, dtls=DtlsConfig(handshake_timeout=2))
    with wrong, pytest.raises(CoapError, match=r"DTLS .*pre-shared key or identity is wrong"):
        wrong.get(f"coaps://{coaps_server}/time", timeout=10)


def test_coaps_needs_a_key() -> None:
    with Client() as coap, pytest.raises(ValueError, match="coaps:// needs a client made with psk="):
        coap.get("coaps://127.0.0.1/x")
    with pytest.raises(ValueError, match="both psk= and identity="):
        Client(psk=KEY)


def test_the_command_line_with_k_and_u(coaps_server: str) -> None:
    command = [sys.executable, "-m", "firmware_sim", "coap", "get", "-k", KEY.decode(), "-u", "me"]
    done = subprocess.run([*command, f"coaps://{coaps_server}/"], capture_output=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert b"libcoap" in done.stdout  # the server's index text
    missing = subprocess.run(
        [*command[:5], f"coaps://{coaps_server}/"], capture_output=True, timeout=60, cwd=ROOT
    )
    assert missing.returncode == 2 and b"coaps:// needs -k KEY -u IDENTITY" in missing.stderr
