"""network/coap/dtls without sockets: our DTLS PSK client and server talking through lists in memory,
on a fake clock (``now`` values the test chooses).

One thing is not on the fake clock: Mbed TLS times handshake retransmissions on the host's clock (see
network/coap/dtls/session.py), so a test of a lost flight lets that much real time pass (50 ms here)
before it calls ``poll`` at the deadline.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from network.coap.dtls import (
    Closed,
    DtlsConfig,
    DtlsError,
    DtlsPskClient,
    DtlsPskServer,
    Established,
    HandshakeFailed,
    HandshakeTimeout,
    NotEstablished,
    Plaintext,
)
from network.coap.dtls.record import HANDSHAKE, HEADER, datagrams, is_client_hello

pytestmark = pytest.mark.unit

KEYS = {b"sensor-1": b"secret-1", b"sensor-2": b"secret-2"}
PEER = ("127.0.0.9", 40001)
QUICK = DtlsConfig(handshake_timeout=3.0)
FAST = DtlsConfig(retransmit_initial=0.05, retransmit_max=2.0, handshake_timeout=3.0)  # for lost flights
HELLO_VERIFY_REQUEST = 3


class Wire:
    """A client and our server joined by lists; ``drop`` decides which datagrams get lost."""

    def __init__(self, client: DtlsPskClient, server: DtlsPskServer, peer=PEER) -> None:
        self.client, self.server, self.peer = client, server, peer
        self.now = 100.0
        self.events: list = []
        self.to_client: list[bytes] = []  # every datagram the server sent, lost or not
        self.to_server: list[bytes] = []

    def flush(self, drop_to_server: bool = False, drop_to_client: bool = False) -> list[bytes]:
        """Deliver what each side has to send, once; returns the plaintexts the client received."""
        got: list[bytes] = []
        sent, self.client.outgoing[:] = list(self.client.outgoing), []
        self.to_server += sent
        if not drop_to_server:
            for data in sent:
                self.events += self.server.receive(data, self.peer, self.now)
        replies = [data for data, peer in self.server.outgoing if peer == self.peer]
        self.server.outgoing[:] = [(d, p) for d, p in self.server.outgoing if p != self.peer]
        self.to_client += replies
        if not drop_to_client:
            for data in replies:
                got += self.client.receive(data, self.now)
        return got

    def settle(self, rounds: int = 10) -> list[bytes]:
        got: list[bytes] = []
        for _ in range(rounds):
            if not self.client.outgoing and not any(p == self.peer for _, p in self.server.outgoing):
                break
            got += self.flush()
        return got

    def retransmit(self) -> None:
        """Move the fake clock to the client's deadline (real time too, for Mbed TLS) and poll."""
        deadline = self.client.next_deadline()
        assert deadline is not None
        time.sleep(max(0.0, deadline - self.now))
        self.now = deadline
        self.client.poll(self.now)
        self.events += self.server.poll(self.now)


def pair(identity=b"sensor-1", key=b"secret-1", keys=KEYS, config=QUICK) -> Wire:
    wire = Wire(DtlsPskClient(identity, key, config), DtlsPskServer(b"CoAP", keys, config))
    wire.client.start(wire.now)
    return wire


def connected(**kwargs) -> Wire:
    wire = pair(**kwargs)
    wire.settle()
    assert wire.client.established, wire.client.failed
    return wire


def test_a_handshake_in_memory_then_coap_datagrams_both_ways() -> None:
    wire = connected()
    assert wire.events == [Established(PEER, b"sensor-1")]
    assert wire.client.cipher == wire.server.cipher(PEER) == "TLS-PSK-WITH-AES-128-CCM-8"
    assert wire.server.identity(PEER) == b"sensor-1"

    wire.client.send(b"\x40\x01\x12\x34\xb5hello")
    wire.flush()
    assert wire.events[-1] == Plaintext(PEER, b"\x40\x01\x12\x34\xb5hello")
    assert b"hello" not in b"".join(wire.to_server)  # encrypted on the wire

    wire.server.send(b"\x60\x45\x12\x34\xffworld", PEER)
    assert wire.flush() == [b"\x60\x45\x12\x34\xffworld"]


def test_the_cookie_exchange_comes_first_and_keeps_no_state_until_the_cookie_returns() -> None:
    wire = pair()
    wire.flush()
    first_answer = wire.to_client[0]
    assert first_answer[0] == HANDSHAKE and first_answer[HEADER] == HELLO_VERIFY_REQUEST
    assert len(wire.server.sessions) == 0  # the ClientHello without a cookie left nothing behind
    wire.flush()  # ClientHello with the cookie: now there is a handshake
    assert len(wire.server.sessions) == 1 and not wire.server.established(PEER)
    wire.settle()
    assert wire.server.established(PEER)


def test_a_flood_of_spoofed_client_hellos_creates_no_server_state() -> None:
    server = DtlsPskServer(None, KEYS, QUICK)
    client = DtlsPskClient(b"sensor-1", b"secret-1", QUICK)
    client.start(0.0)
    (client_hello,) = client.outgoing
    assert is_client_hello(client_hello)
    for n in range(2000):
        spoofed = (f"127.{n // 250}.{n % 250}.7", 1024 + n)
        assert server.receive(client_hello, spoofed, 1.0 + n / 1000) == []
    assert len(server.sessions) == 0 and server.next_deadline() is None
    verify_requests = {peer: data for data, peer in server.outgoing}
    assert len(verify_requests) == 2000  # each spoofed address got one HelloVerifyRequest, nothing more
    assert all(data[HEADER] == HELLO_VERIFY_REQUEST for data in verify_requests.values())
    assert max(map(len, verify_requests.values())) < len(client_hello)  # no amplification


@pytest.mark.parametrize("lost", ["the server's ServerHello flight", "the client's Finished flight"])
def test_a_lost_handshake_flight_is_retransmitted(lost: str) -> None:
    wire = pair(config=FAST)
    wire.flush()  # ClientHello -> HelloVerifyRequest
    if lost == "the server's ServerHello flight":
        wire.flush(drop_to_client=True)
    else:
        wire.flush()  # ClientHello with cookie -> ServerHello ... ServerHelloDone
        wire.flush(drop_to_server=True)  # ClientKeyExchange, ChangeCipherSpec, Finished: lost
    assert not wire.client.established and not wire.server.established(PEER)
    assert wire.client.outgoing == []
    deadline = wire.client.next_deadline()
    assert deadline is not None and deadline <= wire.now + FAST.retransmit_initial + 0.01

    wire.retransmit()
    assert wire.client.outgoing, "the client resent its flight at the deadline"
    wire.settle()
    assert wire.client.established and wire.server.established(PEER)
    assert [e for e in wire.events if isinstance(e, Established)] == [Established(PEER, b"sensor-1")]


def test_a_handshake_with_no_answer_fails_with_a_timeout_on_the_callers_clock() -> None:
    client = DtlsPskClient(b"sensor-1", b"secret-1", DtlsConfig(handshake_timeout=3.0))
    client.start(10.0)
    assert client.next_deadline() == pytest.approx(11.005)  # RFC 6347: the first retransmission after 1 s
    client.poll(12.9)
    assert client.failed is None
    client.poll(13.0)
    assert isinstance(client.failed, HandshakeTimeout)
    assert str(client.failed) == "DTLS handshake failed: no answer from the server within 3 s"
    assert client.next_deadline() is None
    with pytest.raises(HandshakeTimeout):
        client.send(b"x")


def test_a_client_that_goes_quiet_mid_handshake_is_dropped_by_the_server() -> None:
    wire = pair()
    wire.flush()
    wire.flush()  # the server answered the ClientHello with the cookie, and hears nothing more
    assert len(wire.server.sessions) == 1
    end = wire.now + QUICK.handshake_timeout
    while (deadline := wire.server.next_deadline()) is not None and deadline < end:
        assert wire.server.poll(deadline) == []  # its retransmissions (on Mbed TLS's clock) until then
    assert wire.server.poll(end) == [
        Closed(
            PEER, "DTLS handshake failed: the client stopped answering within 3 s (at CLIENT_KEY_EXCHANGE)"
        )
    ]
    assert len(wire.server.sessions) == 0 and wire.server.next_deadline() is None


def test_a_wrong_key_fails_both_sides_with_the_reason_and_an_alert() -> None:
    wire = pair(key=b"not-the-key")
    wire.settle()
    assert isinstance(wire.client.failed, HandshakeFailed)
    assert str(wire.client.failed) == (
        "DTLS handshake failed: the server sent a fatal alert (bad_record_mac): it could not verify our "
        "Finished, the pre-shared keys differ"
    )
    assert wire.events == [
        Closed(
            PEER,
            "DTLS handshake failed: the client's Finished did not verify: it used a different pre-shared key",
        )
    ]
    assert len(wire.server.sessions) == 0 and wire.client.next_deadline() is None


@pytest.mark.parametrize("keys", [KEYS, lambda identity: KEYS.get(identity), lambda identity: 1 // 0])
def test_an_unknown_identity_is_refused_whatever_the_key_lookup_does(keys) -> None:
    wire = pair(identity=b"intruder", key=b"guess", keys=keys)
    wire.settle()
    assert wire.events == [
        Closed(PEER, "DTLS handshake failed: unknown PSK identity: no key for b'intruder'")
    ]
    assert "unknown_psk_identity" in str(wire.client.failed)


def test_a_key_function_picks_the_key_by_identity() -> None:
    wire = connected(identity=b"sensor-2", key=b"secret-2", keys=lambda identity: KEYS.get(identity))
    assert wire.events == [Established(PEER, b"sensor-2")]


def test_close_notify_each_way() -> None:
    wire = connected()
    wire.client.close()
    wire.flush()
    assert wire.events[-1] == Closed(PEER, "the client closed the session (close_notify)")
    assert len(wire.server.sessions) == 0
    with pytest.raises(NotEstablished):
        wire.server.send(b"late", PEER)

    wire = connected()
    wire.server.close(PEER)
    wire.flush()
    assert str(wire.client.failed) == "the server closed the session (close_notify)"
    assert not wire.client.established
    with pytest.raises(DtlsError):
        wire.client.send(b"late")


def test_an_idle_session_expires_on_the_callers_clock() -> None:
    config = DtlsConfig(idle_timeout=30.0)
    wire = Wire(DtlsPskClient(b"sensor-1", b"secret-1", config), DtlsPskServer(None, KEYS, config))
    wire.client.start(wire.now)
    wire.settle()
    deadline = wire.server.next_deadline()
    assert deadline == pytest.approx(wire.now + 30.0)
    assert wire.server.poll(deadline - 0.1) == []
    assert wire.server.poll(deadline) == [Closed(PEER, "idle for 30 s")]
    wire.flush()
    assert str(wire.client.failed) == "the server closed the session (close_notify)"


def test_the_session_table_is_bounded_and_the_least_recently_active_goes() -> None:
    server = DtlsPskServer(None, KEYS, DtlsConfig(max_sessions=2))
    wires = []
    for n in range(3):
        wire = Wire(DtlsPskClient(b"sensor-1", b"secret-1"), server, peer=("127.0.0.9", 41000 + n))
        wire.now += n
        wire.client.start(wire.now)
        wire.settle()
        wires.append(wire)
    assert set(server.sessions) == {("127.0.0.9", 41001), ("127.0.0.9", 41002)}
    evicted = Closed(("127.0.0.9", 41000), "evicted: 2 DTLS sessions at once is the limit")
    assert evicted in wires[2].events
    wires[0].flush()  # the close_notify the server sent it
    assert str(wires[0].client.failed) == "the server closed the session (close_notify)"


def test_a_full_table_drops_an_unfinished_handshake_before_an_established_session() -> None:
    server = DtlsPskServer(None, KEYS, DtlsConfig(max_sessions=2))
    established = Wire(DtlsPskClient(b"sensor-1", b"secret-1"), server, peer=("127.0.0.9", 42000))
    established.client.start(established.now)
    established.settle()
    stalled = Wire(DtlsPskClient(b"sensor-1", b"wrong"), server, peer=("127.0.0.9", 42001))
    stalled.now += 1
    stalled.client.start(stalled.now)
    stalled.flush()
    stalled.flush()  # ClientHello with the cookie: a handshake in the table, then the client goes quiet
    assert len(server.sessions) == 2
    newcomer = Wire(DtlsPskClient(b"sensor-2", b"secret-2"), server, peer=("127.0.0.9", 42002))
    newcomer.now += 2
    newcomer.client.start(newcomer.now)
    newcomer.settle()
    assert set(server.sessions) == {("127.0.0.9", 42000), ("127.0.0.9", 42002)}
    assert Closed(("127.0.0.9", 42001), "evicted: 2 DTLS sessions at once is the limit") in newcomer.events


def test_a_client_that_restarts_from_the_same_address_gets_a_new_session() -> None:
    wire = connected()
    wire.client = DtlsPskClient(b"sensor-2", b"secret-2", QUICK)
    wire.client.start(wire.now)
    wire.flush()  # a ClientHello without a cookie changes nothing yet
    assert wire.server.identity(PEER) == b"sensor-1"
    wire.settle()
    assert wire.events[-2:] == [
        Closed(PEER, "the client started a new handshake"),
        Established(PEER, b"sensor-2"),
    ]


def test_no_cipher_suite_in_common_is_refused_at_once() -> None:
    config = DtlsConfig(ciphers=("TLS-PSK-WITH-AES-256-CCM",))
    wire = Wire(DtlsPskClient(b"sensor-1", b"secret-1", config), DtlsPskServer(None, KEYS, QUICK))
    wire.client.start(wire.now)
    wire.settle()
    assert wire.events == [Closed(PEER, "DTLS handshake failed: no cipher suite in common with the client")]
    assert (
        str(wire.client.failed) == "DTLS handshake failed: the server sent a fatal alert (handshake_failure)"
    )
    assert len(wire.server.sessions) == 0


def test_data_before_the_handshake_is_refused() -> None:
    wire = pair()
    with pytest.raises(NotEstablished):
        wire.client.send(b"too early")
    with pytest.raises(NotEstablished):
        wire.server.send(b"nobody", ("127.0.0.9", 9))


def test_garbage_never_raises_and_never_creates_state() -> None:
    rng = random.Random(7276)
    wire = connected()
    server = wire.server
    events = []
    for n in range(3000):
        size = rng.choice([0, 1, 13, 14, 40, 200, 1500, 20000])
        data = bytearray(os.urandom(size))
        if data and n % 2:
            data[0] = rng.choice([20, 21, 22, 23])
        if len(data) > 13 and n % 4 == 1:
            data[3:5] = b"\0\0"
            data[13] = 1  # looks like a ClientHello
        peer = PEER if n % 3 == 0 else ("127.0.0.10", 2000 + n)
        events += server.receive(bytes(data), peer, wire.now)
        assert wire.client.receive(bytes(data), wire.now) == []
    assert events == [] and set(server.sessions) == {PEER}
    assert wire.client.established and server.established(PEER)
    wire.client.send(b"still works")
    wire.flush()
    assert wire.events[-1] == Plaintext(PEER, b"still works")


def test_records_are_packed_into_datagrams_up_to_the_mtu() -> None:
    def record(size: int) -> bytes:
        return bytes([23, 0xFE, 0xFD, 0, 1]) + bytes(6) + size.to_bytes(2, "big") + bytes(size)

    a, b, c = record(100), record(100), record(2000)
    assert datagrams(a + b + c, mtu=300) == [a + b, c]
    assert datagrams(a + b, mtu=200) == [a, b]
    assert datagrams(a + b"\x17\x00", mtu=1280) == [a, b"\x17\x00"]
