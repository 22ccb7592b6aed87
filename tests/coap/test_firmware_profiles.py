"""The strict firmware profiles: ``1.20.2.r6`` (API A) and ``1.20.3.b2`` (API B).

Each runs a script written for its API and raises ``AttributeError`` for the other API's functions,
with that version's signatures, read semantics and cheap bugs (shared/spec/firmware-coap.md §4, §5,
§7, §9). In-process, real UDP on loopback; peers are plain UDP sockets; every wait is bounded.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import BlockingReader, raises, read_loop
from peers.coap_peer import Peer

from firmware_sim.testing import eventually
from network import profile as profiles
from network.coap.protocol import exchange
from network.coap.protocol.codec import Message, decode, encode

A, B = "1.20.2.r6", "1.20.3.b2"
CON, NON, ACK, RST = 0, 1, 2, 3
URI_HOST, URI_PORT, URI_PATH, CONTENT_FORMAT, MAX_AGE = 3, 7, 11, 12, 14
WAIT = 5.0
A_ONLY = ("new_client_session", "remove_client_session", "get_client_sessions")
B_ONLY = ("socket", "send_request")


def swap(mid: int) -> int:
    return ((mid & 0xFF) << 8) | (mid >> 8)


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def request(
    server: tuple[str, int], segments: list[str], mid: int = 0x4242, *, accept: int | None = None
) -> Message:
    """One CON GET with these Uri-Path segments from a fresh plain socket; the reply."""
    options = [(URI_PATH, seg.encode()) for seg in segments]
    if accept is not None:
        options.append((17, bytes((accept,))))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        sock.sendto(encode(Message(CON, 1, mid, b"q", options)), server)
        reply = decode(sock.recv(70000))
    assert reply.mid == mid
    return reply


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    return eventually(predicate, timeout, interval=0.01)


# -- the registry ---------------------------------------------------------------------------------------


def test_profiles_are_registered_by_firmware_name() -> None:
    assert {"docs", A, B} <= set(profiles.PROFILES)
    a, b = profiles.by_name(A), profiles.by_name(B)
    assert (a.name, b.name) == (A, B)
    assert not a.warn and not b.warn
    assert set(A_ONLY) == a.hidden and set(B_ONLY) == b.hidden
    assert profiles.by_name(A) is not a  # a fresh profile each time
    assert {"no-retransmit", "swapped-ids", "read-one-datagram", "path-leading-slash"} <= a.reproduces
    assert "callback-disable" not in a.reproduces  # fixed in 1.20.2.r5
    assert {"callback-disable", "uri-host-binary", "exact-uri", "irq-callbacks"} <= b.reproduces
    assert "no-retransmit" not in b.reproduces
    known = {q.key for q in profiles.ALL_QUIRKS}
    assert a.reproduces <= known and b.reproduces <= known


# -- API surface ----------------------------------------------------------------------------------------


def test_api_a_surface(firmware, coap, ip) -> None:
    firmware(A)
    for name in A_ONLY:
        with raises(AttributeError, f"'module' object has no attribute '{name}'"):
            getattr(coap, name)
        assert not hasattr(coap, name)
    for name in B_ONLY + ("read", "init", "add_resource", "register_response_handler"):
        assert callable(getattr(coap, name)), name
    with raises(TypeError, "'address' argument required"):
        coap.init()
    with raises(TypeError, "'address' argument required"):
        coap.init(port=5683)
    with raises(TypeError, "function takes 0 positional arguments but 1 were given"):
        coap.read(0)  # arity is checked before "not initialized", as MicroPython does
    coap.init(address=ip)
    assert coap.socket() is coap.socket()
    assert coap.socket().getsockname() == (ip, 5683)
    with raises(TypeError, "function takes 0 positional arguments but 1 were given"):
        coap.read(100)
    with raises(TypeError, "function doesn't take keyword arguments"):
        coap.read(timeout=100)
    with raises(RuntimeError, "Coap module already initialized!"):
        coap.init(ip)


def test_api_b_surface(firmware, coap, ip, peer: Peer) -> None:
    firmware(B)
    for name in B_ONLY:
        with raises(AttributeError, f"'module' object has no attribute '{name}'"):
            getattr(coap, name)
        assert not hasattr(coap, name)
    for name in A_ONLY + ("read", "init", "add_resource", "register_response_handler"):
        assert callable(getattr(coap, name)), name
    coap.init()  # address is optional: a client-only context
    with raises(TypeError, "function doesn't take keyword arguments"):
        coap.new_client_session(peer.ip, port=5683)
    with raises(TypeError, "function doesn't take keyword arguments"):
        coap.new_client_session(address=peer.ip)
    with raises(TypeError, "function expected at most 2 arguments, got 3"):
        coap.new_client_session(peer.ip, 5683, 1)
    with raises(TypeError, "function missing 1 required positional arguments"):
        coap.new_client_session()
    first = coap.new_client_session(peer.ip)
    second = coap.new_client_session(peer.ip, 5684)
    assert first.get_details() == [peer.ip, 5683]
    assert second.get_details() == [peer.ip, 5684]
    assert coap.get_client_sessions() == [first, second]
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        coap.remove_client_session(peer.ip)
    with raises(TypeError, "function takes 2 positional arguments but 3 were given"):
        coap.remove_client_session(peer.ip, 5684, 1)
    with raises(TypeError, "function doesn't take keyword arguments"):
        coap.remove_client_session(peer.ip, port=5684)
    assert coap.remove_client_session(peer.ip, 5684) is None
    with raises(RuntimeError, "Client Session has not been removed"):
        coap.remove_client_session(peer.ip, 5684)
    assert coap.get_client_sessions() == [first]
    with raises(ValueError, "If specified, timeout must be bigger or equal to 0!"):
        coap.read(-1)
    with raises(TypeError, "function doesn't take keyword arguments"):
        coap.read(timeout=1)


def test_docs_profile_keeps_the_union_of_both_apis(coap, ip, peer: Peer) -> None:
    assert profiles.active().name == "docs"
    coap.init(ip)
    assert coap.socket().getsockname() == (ip, 5683)
    session = coap.new_client_session(peer.ip, port=5683, protocol=1)  # keywords accepted here
    assert session.get_details() == [peer.ip, 5683]
    assert coap.read(10) is None


# -- read() ---------------------------------------------------------------------------------------------


def test_api_a_read_blocks_and_handles_one_datagram_per_call(firmware, coap, ip) -> None:
    firmware(A)
    coap.init(ip)
    coap.add_resource("r", value="v").callback(coap.REQUEST_GET, True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for mid in (1, 2):
            client.sendto(encode(Message(CON, 1, mid, b"", [(URI_PATH, b"r")])), (ip, 5683))
        assert coap.read() is None  # both are waiting; the first is handled, the second stays
        client.settimeout(3.0)
        assert decode(client.recv(2048)).mid == 1
        client.settimeout(0.3)
        with pytest.raises(TimeoutError):
            client.recv(2048)
        assert coap.read() is None
        client.settimeout(3.0)
        assert decode(client.recv(2048)).mid == 2
        # nothing waiting: read() blocks until a datagram comes
        done = threading.Event()
        blocked = threading.Thread(target=lambda: (coap.read(), done.set()), daemon=True)
        blocked.start()
        assert not done.wait(0.3)
        client.sendto(encode(Message(CON, 1, 3, b"", [(URI_PATH, b"r")])), (ip, 5683))
        assert done.wait(WAIT)
        assert decode(client.recv(2048)).mid == 3
        blocked.join(WAIT)


def test_api_b_read_times_out_and_handles_every_ready_datagram(firmware, coap, ip) -> None:
    firmware(B)
    coap.init(ip)
    coap.add_resource("r", value="v").callback(coap.REQUEST_GET, True)
    start = time.monotonic()
    assert coap.read(50) is None
    assert 0.03 < time.monotonic() - start < 2.0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for mid in (1, 2, 3):
            client.sendto(encode(Message(CON, 1, mid, b"", [(URI_PATH, b"r")])), (ip, 5683))
        assert coap.read(100) is None  # one call handles all three
        client.settimeout(3.0)
        assert sorted(decode(client.recv(2048)).mid for _ in range(3)) == [1, 2, 3]


# -- message ids and retransmission -------------------------------------------------------------------


def test_api_a_ids_are_byte_swapped_in_send_request_and_the_handler(firmware, coap, ip, peer: Peer) -> None:
    firmware(A)
    coap.init(ip)
    calls: list[tuple] = []
    got = threading.Event()
    coap.register_response_handler(lambda *args: (calls.append(args), got.set()))
    loop = BlockingReader(coap, (ip, 5683))
    try:
        first = coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="t", token=b"s")
        msg, source = peer.recv()
        assert source == (ip, 5683)  # from the server socket
        # no NSTART in libcoap 4.1: the second request goes out at once, the first still unanswered
        second = coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="t", token=b"u")
        msg2, _ = peer.recv()
        assert msg2.mid == (msg.mid + 1) & 0xFFFF
        assert (first, second) == (swap(msg.mid), swap(msg2.mid))
        assert (first, second) != (msg.mid, msg2.mid)  # at most one of two consecutive ids is a palindrome
        peer.answer(msg, source, b"one")
        assert got.wait(WAIT)
        assert calls == [(69, first, ACK, b"s", b"one")]  # the handler's id matches the returned one
    finally:
        loop.stop()
    assert not loop.errors


def test_api_b_session_ids_are_the_wire_ids(firmware, coap, peer: Peer) -> None:
    firmware(B)
    coap.init()
    mid = coap.new_client_session(peer.ip).send_request(coap.REQUEST_GET, uri_path="t")
    assert peer.recv()[0].mid == mid


@pytest.mark.parametrize("name", [A, B, "docs"])
def test_retransmission_only_where_the_firmware_retransmits(
    firmware, coap, ip, peer: Peer, monkeypatch, name: str
) -> None:
    # ACK_TIMEOUT shortened so a retransmission comes within ~0.1 s instead of 2-3 s; nothing else.
    monkeypatch.setattr(exchange, "ACK_TIMEOUT", 0.05)
    firmware(name)
    coap.init(ip)
    calls: list[tuple] = []
    got = threading.Event()
    coap.register_response_handler(lambda *args: (calls.append(args), got.set()))
    loop = read_loop(coap, name, (ip, 5683))
    try:
        if name == A:
            mid = coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="lossy", token=b"rt")
        else:
            mid = coap.new_client_session(peer.ip).send_request(
                coap.REQUEST_GET, uri_path="lossy", token=b"rt"
            )
        msg, source, wire = peer.recv_wire()
        if name == A:
            with pytest.raises(TimeoutError):
                peer.recv(timeout=0.8)  # sent once, never again
        else:
            again, source, wire_again = peer.recv_wire(timeout=2.0)
            assert wire_again == wire
        peer.answer(msg, source, b"late")  # the response still finds its request
        assert got.wait(WAIT)
        assert calls == [(69, mid, ACK, b"rt", b"late")]
    finally:
        loop.stop()
    assert not loop.errors


# -- server side: URIs, .well-known/core, bugs -----------------------------------------------------------


def test_api_b_matches_the_exact_uri_string(firmware, coap, reader, ip) -> None:
    firmware(B)
    coap.init(ip)
    server = (ip, 5683)
    coap.add_resource("/sensor", value="slash").callback(coap.REQUEST_GET, True)
    coap.add_resource("a/b", value="ab").callback(coap.REQUEST_GET, True)
    assert request(server, ["sensor"]).code == 132  # 4.04: "/sensor" is never reached
    assert request(server, ["a", "b"]).payload == b"ab"
    assert request(server, ["a", "", "b"]).code == 132  # "a//b" is another string
    assert coap.get_resource("sensor") is None
    assert coap.get_resource("/sensor") is not None
    coap.add_resource("sensor", value="plain").callback(coap.REQUEST_GET, True)  # a different resource
    assert request(server, ["sensor"]).payload == b"plain"
    coap.remove_resource("sensor/")  # not that string: nothing removed
    assert request(server, ["sensor"]).payload == b"plain"


def test_api_a_matches_path_segments(firmware, coap, ip) -> None:
    firmware(A)
    coap.init(ip)
    server = (ip, 5683)
    coap.add_resource("/sensor", value="slash").callback(coap.REQUEST_GET, True)
    with raises(RuntimeError, "Resource already exists or cannot be created!"):
        coap.add_resource("sensor/")
    loop = BlockingReader(coap, server)
    try:
        reply = request(server, ["sensor"])
        assert (reply.code, reply.payload) == (69, b"slash")
        assert request(server, ["", "sensor", ""]).payload == b"slash"
    finally:
        loop.stop()
    assert coap.get_resource("sensor") is coap.get_resource("/sensor") is not None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (A, b"</resource2>,</resource1>;ct=0;title=resource1"),  # the documentation's example output
        ("docs", b"</resource2>,</resource1>;ct=0;title=resource1"),
        (B, b"</resource1>;ct=0;title=resource1,</resource2>"),  # oldest first; attributes still reversed
    ],
)
def test_well_known_core_resource_order(firmware, coap, ip, name: str, expected: bytes) -> None:
    firmware(name)
    coap.init(ip)
    first = coap.add_resource("resource1", media_type=0)
    first.add_attribute("title", "resource1")
    first.add_attribute("ct", "0")
    coap.add_resource("resource2")
    loop = read_loop(coap, name, (ip, 5683))
    try:
        reply = request((ip, 5683), [".well-known", "core"])
    finally:
        loop.stop()
    assert (reply.code, reply.option(CONTENT_FORMAT), reply.payload) == (69, b"\x28", expected)


@pytest.mark.parametrize("name", [A, B])
def test_strict_profiles_reproduce_their_bugs_silently(firmware, coap, ip, capsys, name: str) -> None:
    firmware(name)
    coap.init(ip, port=5683)  # binds 2P+1
    server = (ip, 11367)
    coap.add_resource("plain", value="x").callback(coap.REQUEST_GET, True)
    coap.add_resource("aged", value="y", media_type=0, max_age=3600).callback(coap.REQUEST_GET, True)
    toggled = coap.add_resource("toggled", value="z")
    toggled.callback(coap.REQUEST_GET, True)
    toggled.callback(coap.REQUEST_GET, False)  # disables in 1.20.2.r5+, enables in 1.20.3.b0-b2
    loop = read_loop(coap, name, server)
    try:
        plain = request(server, ["plain"])
        assert (plain.code, plain.option(CONTENT_FORMAT), plain.option(MAX_AGE)) == (69, b"\xff", b"\xff")
        assert request(server, ["plain"], accept=0).code == 134  # 0 != 255: 4.06
        assert request(server, ["aged"]).option(MAX_AGE) == bytes((3600 & 0xFF,))
        assert request(server, ["toggled"]).code == (133 if name == A else 69)
    finally:
        loop.stop()
    assert capsys.readouterr().err == ""  # strict profiles do not warn


# -- client side: request bytes -------------------------------------------------------------------------


def test_api_b_session_request_options(firmware, coap, peer: Peer) -> None:
    firmware(B)
    coap.init()
    session = coap.new_client_session(peer.ip)
    host = socket.inet_aton(peer.ip)  # the 4 raw bytes of the address, not its text
    session.send_request(coap.REQUEST_GET, token=b"h")  # no uri_path: one empty Uri-Path option
    msg, source = peer.recv()
    assert msg.options == [(URI_HOST, host), (URI_PORT, b"\x16\x33"), (URI_PATH, b"")]
    session.send_request(coap.REQUEST_GET, uri_path="/x", token=b"i")  # waits for the first (NSTART 1)
    peer.sock.sendto(encode(Message(ACK, 0, msg.mid, b"")), source)
    coap.read(500)  # handles the ACK, which lets the second go
    msg, _ = peer.recv()
    assert msg.options == [(URI_HOST, host), (URI_PORT, b"\x16\x33"), (URI_PATH, b""), (URI_PATH, b"x")]


def test_api_a_request_options(firmware, coap, ip, peer: Peer) -> None:
    firmware(A)
    coap.init(ip)
    coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="/x")
    msg, source = peer.recv()
    assert source == (ip, 5683)
    assert msg.options == [
        (URI_HOST, peer.ip.encode()),  # the host text
        (URI_PORT, b"\x16\x33"),
        (URI_PATH, b""),  # a leading '/' is an empty first segment
        (URI_PATH, b"x"),
    ]


# -- the response handler's thread ----------------------------------------------------------------------


def test_api_a_handler_runs_inside_read(firmware, coap, ip, peer: Peer) -> None:
    firmware(A)
    coap.init(ip)
    threads: list[int] = []
    got = threading.Event()
    coap.register_response_handler(lambda *args: (threads.append(threading.get_ident()), got.set()))
    loop = BlockingReader(coap, (ip, 5683))
    try:
        coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="t")
        msg, source = peer.recv()
        peer.answer(msg, source, b"p")
        assert got.wait(WAIT)
        assert threads == [loop.thread.ident]
    finally:
        loop.stop()


def test_api_b_handler_runs_in_the_irq_thread(firmware, coap, reader, peer: Peer) -> None:
    firmware(B)
    coap.init()
    threads: list[int] = []
    got = threading.Event()
    coap.register_response_handler(lambda *args: (threads.append(threading.get_ident()), got.set()))
    session = coap.new_client_session(peer.ip)
    for i in range(3):
        session.send_request(coap.REQUEST_GET, uri_path="t", token=bytes((i,)))
        msg, source = peer.recv()
        got.clear()
        peer.answer(msg, source, b"p")
        assert got.wait(WAIT)
    assert len(threads) == 3
    assert reader.thread.ident not in threads  # not inside read()
    assert threading.get_ident() not in threads


def test_api_b_handler_exception_kills_the_irq_thread(firmware, coap, reader, peer: Peer, capsys) -> None:
    firmware(B)
    coap.init()
    calls: list[bytes] = []

    def handler(code, mid, mtype, token, payload):
        calls.append(payload)
        raise ValueError("bad handler")

    coap.register_response_handler(handler)
    session = coap.new_client_session(peer.ip)
    session.send_request(coap.REQUEST_GET, uri_path="t", token=b"1")
    msg, source = peer.recv()
    peer.answer(msg, source, b"first")
    err = ""

    def printed() -> bool:
        nonlocal err
        err += capsys.readouterr().err
        return "ValueError: bad handler" in err

    assert wait_until(printed)
    assert err.startswith("Unhandled exception in callback handler\nTraceback (most recent call last):\n")
    assert "in handler" in err
    session.send_request(coap.REQUEST_GET, uri_path="t", token=b"2")
    msg, source = peer.recv()  # went out: the ACK of the first was handled by read()
    peer.answer(msg, source, b"second")
    session.send_request(coap.REQUEST_GET, uri_path="t", token=b"3")
    assert peer.recv()[0].token == b"3"  # NSTART 1: read() has handled the answer to the second
    time.sleep(0.5)
    assert calls == [b"first"]  # but no callback after the exception
    assert not reader.errors  # read() itself never raised


# -- scripts written for one API ------------------------------------------------------------------------


def script_for_api_a(Coap, own_ip: str, server_ip: str) -> list[tuple]:
    """The documentation's 1.20.1-1.20.2 client: poll() on Coap.socket(), then Coap.read()."""
    responses: list[tuple] = []
    Coap.init(own_ip, service_discovery=False)
    Coap.register_response_handler(lambda *args: responses.append(args))
    poller = select.poll()
    poller.register(Coap.socket(), select.POLLIN)
    mid = Coap.send_request(server_ip, Coap.REQUEST_GET, uri_path="time", token="tok")
    for _ in range(50):
        if poller.poll(100):
            Coap.read()
            if responses:
                break
    assert responses and responses[0][1] == mid
    return responses


def script_for_api_b(Coap, own_ip: str, server_ip: str) -> list[tuple]:
    """The documentation's 1.20.3.b0-b2 client: a session, then Coap.read(timeout)."""
    responses: list[tuple] = []
    Coap.init(own_ip)
    Coap.register_response_handler(lambda *args: responses.append(args))
    session = Coap.new_client_session(server_ip, 5683)
    mid = session.send_request(Coap.REQUEST_GET, uri_path="time", token="tok")
    for _ in range(50):
        Coap.read(100)
        if responses:
            break
    assert responses and responses[0][1] == mid
    return responses


class AnsweringPeer(Peer):
    """Answers every CON request with 2.05 ``b"12:00"`` from a thread until closed."""

    def __init__(self) -> None:
        super().__init__()
        self.sock.settimeout(0.05)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            msg = decode(data)
            if msg.mtype == CON and 1 <= msg.code <= 31:
                self.answer(msg, source, b"12:00")

    def close(self) -> None:
        self._stop.set()
        self.thread.join(WAIT)
        super().close()


@pytest.fixture
def time_server() -> Iterator[AnsweringPeer]:
    server = AnsweringPeer()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("script", "runs_on"),
    [(script_for_api_a, A), (script_for_api_b, B)],
    ids=["api-a-under-r6", "api-b-under-b2"],
)
def test_a_script_runs_under_its_firmware(
    firmware, coap, ip, time_server: AnsweringPeer, script, runs_on: str
) -> None:
    firmware(runs_on)
    responses = script(coap, ip, time_server.ip)
    assert [(code, mtype, token, payload) for code, _, mtype, token, payload in responses] == [
        (69, ACK, b"tok", b"12:00")
    ]


@pytest.mark.parametrize(
    ("script", "fails_on", "missing"),
    [(script_for_api_a, B, "socket"), (script_for_api_b, A, "new_client_session")],
    ids=["api-a-under-b2", "api-b-under-r6"],
)
def test_a_script_for_the_other_api_fails_with_attribute_error(
    firmware, coap, ip, time_server: AnsweringPeer, script, fails_on: str, missing: str
) -> None:
    firmware(fails_on)
    with raises(AttributeError, f"'module' object has no attribute '{missing}'"):
        script(coap, ip, time_server.ip)
