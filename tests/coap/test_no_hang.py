"""Nothing a script or a peer does hangs ``Coap.read()`` or silences the server for good (issue 8).

- Whatever the script does to the socket ``Coap.socket()`` returned (blocking, a timeout, shutdown),
  ``read(timeout)`` returns within its timeout; once the script has closed it, ``read()`` gives what the
  firmware gives (1.20.2.r6: libcoap's warning line, the server deaf; docs: ``OSError(EBADF)``).
- A request or a response that does not fit one datagram: the firmware's behaviour where it has one
  (strict profiles: the request goes without its payload, the response 2.05 without payload), else an
  error raised before anything is queued, or the RFC's answer to the peer (5.00).
- A response handler that raises or is not callable: 1.20.2.r6 raises it out of ``read()`` (as modcoap
  does); 1.20.3.b2's IRQ thread prints it (and swallows ``SystemExit``); docs prints it and goes on.

In-process, real UDP on loopback; peers are plain UDP sockets; every wait is bounded.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import Reader, raises, read_loop
from peers.coap_peer import Peer

from network.coap.protocol.codec import Message, decode, encode

A, B = "1.20.2.r6", "1.20.3.b2"
CON, NON, ACK, RST = 0, 1, 2, 3
GET = 1
URI_PATH = 11
WAIT = 5.0
DATAGRAM = 65507  # the largest UDP payload over IPv4


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def get_later(server: tuple[str, int], path: str, delay: float, replies: list[Message]) -> threading.Thread:
    """A client thread: after ``delay`` seconds one CON GET; its reply goes to ``replies``."""

    def run() -> None:
        time.sleep(delay)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT)
            sock.sendto(encode(Message(CON, GET, 0x2222, b"t", [(URI_PATH, path.encode())])), server)
            try:
                replies.append(decode(sock.recv(70000)))
            except OSError:
                pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def get(server: tuple[str, int], options: list[tuple[int, bytes]], timeout: float = 3.0) -> Message | None:
    """One CON GET from a fresh plain socket; the reply, or None if none came within ``timeout``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(encode(Message(CON, GET, 0x3131, b"q", options)), server)
        try:
            return decode(sock.recv(70000))
        except OSError:
            return None


def timed_read(coap, server: tuple[str, int], *args: int) -> float:
    """``coap.read(*args)`` in a thread; seconds it took. A read still blocked after 3 * WAIT is woken
    with a flood of datagrams (so the test fails instead of hanging) and the test fails."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            coap.read(*args)
        except BaseException as err:  # surfaced below
            errors.append(err)

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(3 * WAIT)
    took = time.monotonic() - start
    if thread.is_alive():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _ in range(200):
                sock.sendto(b"\x50\x00\x00\x00", server)  # empty NONs: ignored, but datagrams
        thread.join(WAIT)
        pytest.fail("Coap.read() did not return")
    if errors:
        raise errors[0]
    return took


# -- 1. the socket Coap.socket() returned --------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda s: s.setblocking(True), id="setblocking-true"),
        pytest.param(lambda s: s.settimeout(5.0), id="settimeout"),
        pytest.param(lambda s: s.setblocking(False), id="setblocking-false"),
    ],
)
def test_read_returns_within_its_timeout_whatever_the_script_does_to_the_socket(
    coap, ip, action: Callable[[socket.socket], None]
) -> None:
    coap.init(ip)
    coap.add_resource("r", value="v").callback(coap.REQUEST_GET, True)
    action(coap.socket())
    replies: list[Message] = []
    client = get_later((ip, 5683), "r", 0.2, replies)
    took = timed_read(coap, (ip, 5683), 3000)
    client.join(WAIT)
    assert took < 3.0 + 1.0
    assert [(m.code, m.payload) for m in replies] == [(69, b"v")]
    assert timed_read(coap, (ip, 5683), 200) < 0.2 + 1.0  # and nothing arrives: the timeout holds


def test_read_with_nothing_to_read_returns_after_its_timeout_with_a_blocking_socket(coap, ip) -> None:
    coap.init(ip)
    coap.socket().setblocking(True)
    assert 0.25 <= timed_read(coap, (ip, 5683), 300) < 0.3 + 1.0


def test_the_socket_still_polls_and_reads_as_the_servers_socket(coap, ip) -> None:
    """The documentation's 1.20.1-1.20.2 pattern: poll() on Coap.socket(), then Coap.read()."""
    import select

    coap.init(ip)
    coap.add_resource("r", value="v").callback(coap.REQUEST_GET, True)
    sock = coap.socket()
    assert coap.socket() is sock and sock.getsockname() == (ip, 5683)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    replies: list[Message] = []
    client = get_later((ip, 5683), "r", 0.1, replies)
    assert poller.poll(WAIT * 1000)
    coap.read(100)
    client.join(WAIT)
    assert [m.payload for m in replies] == [b"v"]


def test_closed_socket_docs_raises_ebadf_and_says_what_the_firmware_does(coap, ip, capsys) -> None:
    coap.init(ip)
    coap.add_resource("r", value="v").callback(coap.REQUEST_GET, True)
    sock = coap.socket()
    sock.close()
    for _ in range(2):
        with pytest.raises(OSError) as info:
            timed_read(coap, (ip, 5683), 100)
        assert info.value.errno == errno.EBADF
    assert coap.socket() is sock  # the same (closed) object, as on the board
    err = capsys.readouterr().err
    assert err.count("firmware-sim: warning: ") == 1
    assert "WARN coap_network_read: Bad file number" in err and "1.20.1 to 1.20.2.r6" in err
    with raises(OSError, "Sending message failed!"):
        coap.send_request(ip, coap.REQUEST_GET, uri_path="r")  # from the server's (closed) socket
    assert get((ip, 5683), [(URI_PATH, b"r")], timeout=0.3) is None


def test_closed_socket_api_a_prints_libcoaps_warning_and_the_port_is_closed(
    firmware, coap, ip, capsys
) -> None:
    firmware(A)
    coap.init(ip)
    coap.socket().close()
    for _ in range(3):
        assert timed_read(coap, (ip, 5683)) < 1.0  # read() returns at once, as coap_read() does
    out, err = capsys.readouterr()
    assert out == "WARN coap_network_read: Bad file number\n" * 3
    assert err == ""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((ip, 5683))  # the firmware's socket is really closed: its port is free


def test_engine_closes_the_scripts_socket_at_reset(coap, ip) -> None:
    from network.coap.api.module import hard_reset

    coap.init(ip)
    sock = coap.socket()
    hard_reset()
    assert sock.fileno() == -1


# -- 2. too large for one datagram ---------------------------------------------------------------------


def test_payload_larger_than_a_datagram_is_refused_before_anything_is_queued(coap, ip, peer: Peer) -> None:
    coap.init(ip)
    session = coap.new_client_session(peer.ip)
    with pytest.raises(OSError, match="^Cannot create request: "):
        session.send_request(coap.REQUEST_PUT, uri_path="big", payload=b"x" * 100_000)
    with pytest.raises(OSError, match="^Cannot create request: "):
        coap.send_request(peer.ip, coap.REQUEST_PUT, uri_path="big", payload=b"x" * 100_000)
    assert peer.nothing()
    start = time.monotonic()
    mid = session.send_request(coap.REQUEST_GET, uri_path="small")
    msg, _ = peer.recv(timeout=WAIT)  # at once: nothing is queued ahead of it (NSTART 1)
    assert time.monotonic() - start < 1.0
    assert msg.mid == mid and msg.path() == ("small",)


def test_payload_that_fits_a_datagram_is_sent_whole_with_a_warning(coap, ip, peer: Peer, capsys) -> None:
    coap.init(ip)
    session = coap.new_client_session(peer.ip)
    session.send_request(coap.REQUEST_PUT, uri_path="big", payload=b"x" * 60_000)
    msg, _ = peer.recv()
    assert len(msg.payload) == 60_000
    err = capsys.readouterr().err
    assert "does not fit one PDU" in err and "without its payload" in err


@pytest.mark.parametrize("size", [2000, 100_000])
def test_api_a_sends_a_request_too_large_for_its_pdu_without_the_payload(
    firmware, coap, ip, peer: Peer, size: int
) -> None:
    """libcoap 4.1's coap_add_data() refuses data past COAP_MAX_PDU_SIZE (1400); modcoap sends anyway."""
    firmware(A)
    coap.init(ip)
    coap.send_request(peer.ip, coap.REQUEST_PUT, uri_path="big", payload=b"x" * size)
    msg, _ = peer.recv()
    assert (msg.code, msg.path(), msg.payload) == (3, ("big",), b"")
    coap.send_request(peer.ip, coap.REQUEST_PUT, uri_path="ok", payload=b"y" * 1000)
    assert peer.recv()[0].payload == b"y" * 1000


def test_api_b_sends_a_request_too_large_for_its_session_mtu_without_the_payload(
    firmware, coap, peer: Peer
) -> None:
    """libcoap 4.2: a session's PDU is at most its MTU (1152 bytes with the header)."""
    firmware(B)
    coap.init()
    session = coap.new_client_session(peer.ip)
    session.send_request(coap.REQUEST_PUT, uri_path="big", payload=b"x" * 1200)
    msg, source = peer.recv()
    assert (msg.path(), msg.payload) == (("big",), b"")
    peer.answer(msg, source, b"")
    coap.read(200)  # the ACK ends that exchange (NSTART 1)
    session.send_request(coap.REQUEST_PUT, uri_path="ok", payload=b"y" * 1000)
    assert peer.recv()[0].payload == b"y" * 1000


def test_value_larger_than_a_datagram_gets_5_00(coap, ip, reader: Reader) -> None:
    coap.init(ip)
    resource = coap.add_resource("big", value=b"v" * (DATAGRAM - 5))  # + header, token, marker: 1 too many
    resource.callback(coap.REQUEST_GET, True)
    reply = get((ip, 5683), [(URI_PATH, b"big")])
    assert reply is not None and (reply.mtype, reply.code) == (ACK, 160)
    resource.value(b"v" * 60_000)  # one that fits a datagram is sent whole (with a warning)
    reply = get((ip, 5683), [(URI_PATH, b"big")])
    assert reply is not None and (reply.code, len(reply.payload)) == (69, 60_000)


@pytest.mark.parametrize(("name", "fits", "too_large"), [(A, 1300, 1400), (B, 1100, 1152)])
def test_strict_profiles_answer_2_05_without_payload_for_a_value_past_their_pdu(
    firmware, coap, ip, name: str, fits: int, too_large: int
) -> None:
    """modcoap's GET handler ignores coap_add_data()'s failure: 2.05 with its options, no payload."""
    firmware(name)
    coap.init(ip)
    resource = coap.add_resource("big", value=b"v" * fits, media_type=0)
    resource.callback(coap.REQUEST_GET, True)
    server = (ip, 5683)
    reader = read_loop(coap, name, server)
    try:
        reply = get(server, [(URI_PATH, b"big")])
        assert reply is not None and (reply.code, len(reply.payload)) == (69, fits)
        for size in (too_large, DATAGRAM):
            resource.value(b"v" * size)
            reply = get(server, [(URI_PATH, b"big")])
            assert reply is not None and (reply.code, reply.payload) == (69, b"")
            assert reply.option(12) == b""  # Content-Format 0 is still there
    finally:
        reader.stop()


def test_well_known_core_larger_than_a_datagram_gets_5_00(coap, ip, reader: Reader) -> None:
    coap.init(ip)
    coap.add_resource("r", value="v").add_attribute("title", "t" * 70_000)
    reply = get((ip, 5683), [(URI_PATH, b".well-known"), (URI_PATH, b"core")])
    assert reply is not None and (reply.mtype, reply.code) == (ACK, 160)
    assert get((ip, 5683), [(URI_PATH, b"r")]) is not None  # and the server goes on


# -- 3. the response handler ---------------------------------------------------------------------------


def _respond(coap, session_or_none, peer: Peer, payload: bytes, token: bytes) -> None:
    """Send a GET (a session's, or module-level), have the peer answer it with ``payload``."""
    if session_or_none is None:
        coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="t", token=token)
    else:
        session_or_none.send_request(coap.REQUEST_GET, uri_path="t", token=token)
    msg, source = peer.recv()
    peer.answer(msg, source, payload)


def test_docs_handler_exception_is_printed_and_the_loop_goes_on(coap, ip, peer: Peer, capsys) -> None:
    coap.init(ip)
    calls: list[bytes] = []

    def handler(code, mid, mtype, token, payload):
        calls.append(payload)
        raise ValueError("bad handler")

    coap.register_response_handler(handler)
    session = coap.new_client_session(peer.ip)
    for i, payload in enumerate((b"first", b"second")):
        _respond(coap, session, peer, payload, bytes((i,)))
        assert timed_read(coap, (ip, 5683), 2000) < WAIT  # does not raise
    assert calls == [b"first", b"second"]  # the handler is called again after raising
    err = capsys.readouterr().err
    assert err.count("Unhandled exception in callback handler\nTraceback (most recent call last):\n") == 2
    assert err.count("ValueError: bad handler\n") == 2 and "in handler" in err
    assert err.count("firmware-sim: warning: the response handler raised") == 1
    assert "1.20.1 to 1.20.2.r6" in err


def test_docs_handler_that_is_not_callable_is_reported_and_the_loop_goes_on(
    coap, ip, peer: Peer, capsys
) -> None:
    coap.init(ip)
    coap.register_response_handler(42)
    session = coap.new_client_session(peer.ip)
    _respond(coap, session, peer, b"p", b"1")
    timed_read(coap, (ip, 5683), 2000)
    err = capsys.readouterr().err
    assert "Unhandled exception in callback handler\nTypeError: 'int' object isn't callable\n" in err
    _respond(coap, session, peer, b"p", b"2")
    timed_read(coap, (ip, 5683), 2000)  # still no exception out of read()


def test_api_a_handler_exception_leaves_read_as_in_modcoap(firmware, coap, ip, peer: Peer) -> None:
    """1.20.1-1.20.2 call the handler inside coap_read(), with no nlr guard: read() raises."""
    firmware(A)
    coap.init(ip)
    coap.register_response_handler(42)
    _respond(coap, None, peer, b"p", b"1")
    with raises(TypeError, "'int' object isn't callable"):
        coap.read()
    coap.register_response_handler(lambda *args: (_ for _ in ()).throw(KeyError("k")))
    _respond(coap, None, peer, b"p", b"2")
    with pytest.raises(KeyError):
        coap.read()
    got: list[bytes] = []
    coap.register_response_handler(lambda *args: got.append(args[4]))
    _respond(coap, None, peer, b"after", b"3")
    coap.read()  # the engine is not left half-way
    assert got == [b"after"]


def test_api_b_irq_thread_reports_a_handler_that_is_not_callable(firmware, coap, peer: Peer, capsys) -> None:
    firmware(B)
    coap.init()
    coap.register_response_handler(42)
    session = coap.new_client_session(peer.ip)
    _respond(coap, session, peer, b"p", b"1")
    coap.read(2000)
    deadline = time.monotonic() + WAIT
    err = ""
    while "isn't callable" not in err and time.monotonic() < deadline:
        time.sleep(0.02)
        err += capsys.readouterr().err
    assert "Unhandled exception in callback handler\nTypeError: 'int' object isn't callable\n" in err


def test_api_b_irq_thread_swallows_system_exit_and_goes_on(firmware, coap, peer: Peer) -> None:
    """esp32/util/mpirq.c: an uncaught SystemExit in a callback is swallowed silently; the thread lives."""
    firmware(B)
    coap.init()
    calls: list[bytes] = []

    def handler(code, mid, mtype, token, payload):
        calls.append(payload)
        raise SystemExit

    coap.register_response_handler(handler)
    session = coap.new_client_session(peer.ip)
    for i, payload in enumerate((b"first", b"second")):
        _respond(coap, session, peer, payload, bytes((i,)))
        coap.read(2000)
        deadline = time.monotonic() + WAIT
        while len(calls) < i + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert calls == [b"first", b"second"]
