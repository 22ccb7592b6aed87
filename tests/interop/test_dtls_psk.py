"""coaps:// with pre-shared keys between our DTLS layer (network/coap/dtls) and libcoap 4.3.1's OpenSSL
tools, real processes on loopback, CoAP messages from network/coap/protocol/codec.py through the session.

- our client against ``coap-server-openssl -A <ip> -k <key> -h <hint>`` (it serves coaps on 5684);
- ``coap-client-openssl -k <key> -u <identity> coaps://<ip>/hello`` against our server, driven by a
  tiny responder thread below (a UDP socket, a DtlsPskServer, the codec: GET /hello -> 2.05 "hello");
- a wrong key (and an unknown identity) both ways fails within a bounded time with a reason.

coap-client 4.3.1 exits 0 even when the handshake fails and writes its log lines (``WARN ... alert``) on
stdout, so the tests read its output. Every wait is bounded: ``-B`` for coap-client, a time limit on
every loop here, and ``handshake_timeout=3`` for our side.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable

import pytest
from conftest import free_loopback_ip, libcoap, wait_udp_port

from network.coap.dtls import (
    Closed,
    DtlsConfig,
    DtlsPskClient,
    DtlsPskServer,
    Established,
    Event,
    HandshakeTimeout,
    Plaintext,
)
from network.coap.protocol.codec import Message, ParseError, decode, encode

pytestmark = [pytest.mark.peer, pytest.mark.process]

KEY, IDENTITY, HINT = "secretPSK", "firmware-sim", "CoAP"
QUICK = DtlsConfig(handshake_timeout=3.0)
CCM_8 = "TLS-PSK-WITH-AES-128-CCM-8"
CON, NON, ACK = 0, 1, 2
GET, CONTENT, NOT_FOUND = 1, 0x45, 0x84
URI_PATH, CONTENT_FORMAT = 11, 12


class Connection:
    """Our DtlsPskClient on a UDP socket of its own, talking to ``server``; every wait has a limit."""

    def __init__(self, client: DtlsPskClient, server: tuple[str, int]) -> None:
        self.client, self.server = client, server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def flush(self) -> None:
        for data in self.client.outgoing:
            self.sock.sendto(data, self.server)
        self.client.outgoing.clear()

    def run(self, until: Callable[[list[bytes]], bool], limit: float) -> list[bytes]:
        """Send, receive and poll until ``until(plaintexts so far)``, the session failed, or ``limit`` s."""
        got: list[bytes] = []
        end = time.monotonic() + limit
        while not until(got) and self.client.failed is None:
            self.flush()
            now = time.monotonic()
            if now >= end:
                break
            deadline = self.client.next_deadline()
            wait = end - now if deadline is None else min(end, deadline) - now
            self.sock.settimeout(max(wait, 0.001))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                pass
            else:
                got += self.client.receive(data, time.monotonic())
            self.client.poll(time.monotonic())
        self.flush()
        return got

    def handshake(self, limit: float = 15.0) -> None:
        self.client.start(time.monotonic())
        self.run(lambda got: self.client.established, limit)


class Responder:
    """Our DtlsPskServer on ``ip``:5684 in a thread, answering GET /hello with 2.05 "hello" (anything
    else 4.04); :attr:`events` is everything the server reported."""

    def __init__(self, ip: str, keys: dict[bytes, bytes]) -> None:
        self.server = DtlsPskServer(HINT.encode(), keys, QUICK)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 5684))
        self.events: list[Event] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                deadline = self.server.next_deadline()
                wait = 0.05 if deadline is None else min(0.05, deadline - now)
                self.sock.settimeout(max(wait, 0.001))
                try:
                    data, peer = self.sock.recvfrom(65536)
                except TimeoutError:
                    events = []
                else:
                    events = self.server.receive(data, peer, time.monotonic())
                events += self.server.poll(time.monotonic())
                for event in events:
                    self.events.append(event)
                    if isinstance(event, Plaintext):
                        self._answer(event)
                for data, peer in self.server.outgoing:
                    self.sock.sendto(data, peer)
                self.server.outgoing.clear()
        except BaseException as err:  # surfaced by the test
            self.errors.append(err)

    def _answer(self, event: Plaintext) -> None:
        try:
            request = decode(event.data)
        except ParseError:
            return
        if request.code != GET:
            return
        found = request.path() == ("hello",)
        reply = Message(
            ACK if request.mtype == CON else NON,
            CONTENT if found else NOT_FOUND,
            request.mid,
            request.token,
            [(CONTENT_FORMAT, b"")] if found else [],
            b"hello" if found else b"",
        )
        self.server.send(encode(reply), event.peer)

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while not predicate(list(self.events)) and time.monotonic() < end:
            time.sleep(0.01)
        return predicate(list(self.events))

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
        assert not self.thread.is_alive() and not self.errors, self.errors


@pytest.fixture
def openssl_server(spawn) -> str:
    """``coap-server-openssl`` with our PSK on a reserved loopback address; yields the address."""
    tool = libcoap("coap-server-openssl")
    ip = free_loopback_ip(5684)
    spawn([tool, "-A", ip, "-k", KEY, "-h", HINT])
    wait_udp_port(ip, 5684, timeout=10)
    return ip


@pytest.fixture
def responder():
    """``responder(keys)``: our server on a reserved address's 5684; stopped after the test."""
    started: list[Responder] = []

    def start(keys: dict[bytes, bytes]) -> tuple[str, Responder]:
        ip = free_loopback_ip(5684)
        started.append(Responder(ip, keys))
        return ip, started[-1]

    yield start
    for one in started:
        one.stop()


def coap_client(*args: str) -> subprocess.CompletedProcess[str]:
    tool = libcoap("coap-client-openssl")
    return subprocess.run([tool, "-B", "5", *args], capture_output=True, text=True, timeout=30)


def test_our_client_reads_well_known_core_from_libcoaps_openssl_server(openssl_server: str) -> None:
    client = DtlsPskClient(IDENTITY.encode(), KEY.encode(), QUICK)
    with Connection(client, (openssl_server, 5684)) as conn:
        conn.handshake()
        assert client.established, client.failed
        assert client.cipher == CCM_8  # RFC 7252's mandatory PSK suite: we offer it first, OpenSSL takes it

        request = Message(CON, GET, 0x5A01, b"\x17\x2a", [(URI_PATH, b".well-known"), (URI_PATH, b"core")])
        client.send(encode(request))
        replies = conn.run(lambda got: bool(got), limit=10)
        assert replies, client.failed
        response = decode(replies[0])
        assert (response.mtype, response.code, response.mid, response.token) == (
            ACK,
            CONTENT,
            0x5A01,
            b"\x17\x2a",
        )
        assert b"</time>" in response.payload

        client.close()
        conn.flush()
    assert str(client.failed) == "closed by this client"


def test_libcoaps_openssl_client_gets_hello_from_our_server(responder) -> None:
    ip, ours = responder({IDENTITY.encode(): KEY.encode()})
    done = coap_client("-k", KEY, "-u", IDENTITY, f"coaps://{ip}/hello")
    assert (done.returncode, done.stdout.splitlines()) == (0, ["hello"]), done.stderr
    assert ours.wait_for(lambda events: any(isinstance(e, Closed) for e in events))  # its close_notify
    established = [e for e in ours.events if isinstance(e, Established)]
    assert [e.identity for e in established] == [IDENTITY.encode()]
    plaintexts = [e for e in ours.events if isinstance(e, Plaintext)]
    assert len(plaintexts) == 1 and decode(plaintexts[0].data).path() == ("hello",)
    assert ours.events[-1] == Closed(established[0].peer, "the client closed the session (close_notify)")


def test_our_client_with_a_wrong_key_fails_with_a_typed_error(openssl_server: str) -> None:
    client = DtlsPskClient(IDENTITY.encode(), b"not-the-key", QUICK)
    with Connection(client, (openssl_server, 5684)) as conn:
        conn.handshake(limit=15.0)
    # OpenSSL drops a Finished it cannot decrypt without an alert: our bound ends the handshake
    assert isinstance(client.failed, HandshakeTimeout)
    assert str(client.failed) == (
        "DTLS handshake failed: the server never answered our Finished within 3 s (a server drops records "
        "it cannot decrypt: the pre-shared key or identity is wrong)"
    )
    assert not client.established and client.next_deadline() is None


def test_libcoaps_client_with_a_wrong_key_gets_an_alert_and_our_server_says_why(responder) -> None:
    ip, ours = responder({IDENTITY.encode(): KEY.encode()})
    done = coap_client("-k", "not-the-key", "-u", IDENTITY, f"coaps://{ip}/hello")
    assert "hello" not in done.stdout.splitlines()
    assert "alert bad record mac" in done.stdout, done.stdout
    assert ours.wait_for(lambda events: any(isinstance(e, Closed) for e in events))
    (closed,) = ours.events
    assert closed == Closed(
        closed.peer,
        "DTLS handshake failed: the client's Finished did not verify: it used a different pre-shared key",
    )
    assert len(ours.server.sessions) == 0


def test_libcoaps_client_with_an_unknown_identity_is_refused(responder) -> None:
    ip, ours = responder({IDENTITY.encode(): KEY.encode()})
    done = coap_client("-k", KEY, "-u", "somebody-else", f"coaps://{ip}/hello")
    assert "hello" not in done.stdout.splitlines()
    assert "alert unknown psk identity" in done.stdout, done.stdout
    assert ours.wait_for(lambda events: any(isinstance(e, Closed) for e in events))
    (closed,) = ours.events
    assert closed.reason == "DTLS handshake failed: unknown PSK identity: no key for b'somebody-else'"
