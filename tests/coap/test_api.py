"""``network.Coap`` as a script sees it: signatures, exception types and messages, values, warnings,
and the bytes its requests put on the wire (captured with plain UDP sockets on loopback).

Ground truth: shared/spec/firmware-coap.md. The default "docs" profile follows it except where the
documentation wins (init(port=P) binds P, unset Content-Format/Max-Age are not sent, callback(op, False)
disables), and says so once on stderr.
"""

from __future__ import annotations

import itertools
import random
import socket
import threading
import time
import types
from collections.abc import Iterator

import pytest
from conftest import Reader, free_loopback_ip, raises

from network import host
from network.coap.protocol.codec import Message, decode, encode

CON, NON, ACK, RST = 0, 1, 2, 3
URI_HOST, ETAG, URI_PORT, URI_PATH, CONTENT_FORMAT = 3, 4, 7, 11, 12
NOT_INITIALIZED = "Coap module has not been initialized!"
WARNING = "firmware-sim: warning: "


class Peer:
    """A plain UDP socket standing in for a CoAP server: records what it receives."""

    def __init__(self, port: int = 5683) -> None:
        self.ip = free_loopback_ip(port) if port else "127.0.0.1"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ip, port))
        self.port = self.sock.getsockname()[1]

    def recv(self, timeout: float = 3.0) -> tuple[Message, tuple[str, int], bytes]:
        self.sock.settimeout(timeout)
        data, source = self.sock.recvfrom(70000)
        return decode(data), source, data

    def ack(self, msg: Message, source: tuple[str, int], code: int = 0, payload: bytes = b"") -> None:
        """Acknowledge ``msg`` (empty ACK, or piggy-backed response with ``code``)."""
        token = msg.token if code else b""
        self.sock.sendto(encode(Message(ACK, code, msg.mid, token, [], payload)), source)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def get(server_ip: str, path: str, mid: int | None = None) -> Message:
    """One CON GET from a fresh plain socket; the reply."""
    mid = random.randrange(0x10000) if mid is None else mid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        options = [(URI_PATH, seg.encode()) for seg in path.split("/")]
        sock.sendto(encode(Message(CON, 1, mid, b"g", options)), (server_ip, 5683))
        reply = decode(sock.recv(70000))
    assert reply.mid == mid
    return reply


# -- the module object --------------------------------------------------------------------------------


def test_coap_is_a_module_object(coap) -> None:
    assert isinstance(coap, types.ModuleType)
    assert coap.__name__ == "coap"
    assert not callable(coap)
    with pytest.raises(TypeError):
        coap()
    assert type(coap).__name__ == "module"  # MicroPython: <class 'module'>


def test_constants(coap) -> None:
    assert (coap.REQUEST_GET, coap.REQUEST_PUT, coap.REQUEST_POST, coap.REQUEST_DELETE) == (1, 2, 4, 8)
    media = {
        "MEDIATYPE_TEXT_PLAIN": 0,
        "MEDIATYPE_APP_LINK_FORMAT": 40,
        "MEDIATYPE_APP_XML": 41,
        "MEDIATYPE_APP_OCTET_STREAM": 42,
        "MEDIATYPE_APP_RDF_XML": 43,
        "MEDIATYPE_APP_EXI": 47,
        "MEDIATYPE_APP_JSON": 50,
        "MEDIATYPE_APP_CBOR": 60,
    }
    for name, value in media.items():
        assert getattr(coap, name) == value, name


# -- before and after init ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.read(),
        lambda c: c.read(10),
        lambda c: c.add_resource("a"),
        lambda c: c.get_resource("a"),
        lambda c: c.remove_resource("a"),
        lambda c: c.register_response_handler(print),
        lambda c: c.send_request("127.0.0.1", c.REQUEST_GET, uri_path="a"),
        lambda c: c.new_client_session("127.0.0.1"),
        lambda c: c.get_client_sessions(),
        lambda c: c.socket(),
    ],
    ids=[
        "read",
        "read-timeout",
        "add_resource",
        "get_resource",
        "remove_resource",
        "register_response_handler",
        "send_request",
        "new_client_session",
        "get_client_sessions",
        "socket",
    ],
)
def test_calls_before_init(coap, call) -> None:
    with raises(RuntimeError, NOT_INITIALIZED):
        call(coap)


def test_init_twice(coap, ip) -> None:
    coap.init(ip)
    with raises(RuntimeError, "Coap module already initialized!"):
        coap.init(ip)
    with raises(RuntimeError, "Coap module already initialized!"):
        coap.init()


def test_init_client_only_then_again(coap, ip) -> None:
    coap.init()
    with raises(RuntimeError, "Coap module already initialized!"):
        coap.init(ip)


def test_init_bad_address(coap) -> None:
    with raises(ValueError, "invalid arguments"):
        coap.init("not-an-address")
    coap.init()  # the failed call did not initialise anything


def test_init_address_outside_loopback_names_the_map(coap) -> None:
    with pytest.raises(OSError, match="FIRMWARE_SIM_MAP"):
        coap.init("192.168.0.10")


def test_init_binds_the_board_address_port_5683(coap, ip) -> None:
    coap.init(ip)
    sock = coap.socket()
    assert sock.getsockname() == (ip, 5683)
    assert coap.socket() is sock


# -- argument checking --------------------------------------------------------------------------------


def test_extra_positional_arguments(coap, ip) -> None:
    with raises(TypeError, "extra positional arguments given"):
        coap.init(ip, 5683)
    coap.init(ip)
    with raises(TypeError, "extra positional arguments given"):
        coap.add_resource("a", 0)
    with raises(TypeError, "extra positional arguments given"):
        coap.send_request(ip, 1, 5683)
    session = coap.new_client_session("127.0.0.1", 5683)
    with raises(TypeError, "extra positional arguments given"):
        session.send_request(coap.REQUEST_GET, "path")


def test_extra_keyword_arguments(coap, ip) -> None:
    with raises(TypeError, "extra keyword arguments given"):
        coap.init(ip, timeout=5)
    coap.init(ip)
    with raises(TypeError, "extra keyword arguments given"):
        coap.add_resource("a", mediatype=0)
    with raises(TypeError, "extra keyword arguments given"):
        coap.send_request(ip, 1, uri_path="a", options=True)
    session = coap.new_client_session("127.0.0.1")
    with raises(TypeError, "extra keyword arguments given"):
        session.send_request(coap.REQUEST_GET, path="a")


def test_missing_required_argument(coap, ip) -> None:
    coap.init(ip)
    with raises(TypeError, "'uri' argument required"):
        coap.add_resource()
    with raises(TypeError, "'method' argument required"):
        coap.send_request(ip)


def test_read_arguments(coap, ip) -> None:
    coap.init(ip)
    with raises(ValueError, "If specified, timeout must be bigger or equal to 0!"):
        coap.read(-1)
    with pytest.raises(TypeError):
        coap.read(1.5)
    with pytest.raises(TypeError):
        coap.read(1, 2)
    with pytest.raises(TypeError):
        coap.read(timeout=1)
    start = time.monotonic()
    assert coap.read(50) is None
    assert 0.03 < time.monotonic() - start < 2.0


@pytest.mark.parametrize("method", [0, 3, 5, 16, 1 | 2, -1])
def test_send_request_bad_method(coap, ip, method: int) -> None:
    coap.init(ip)
    session = coap.new_client_session("127.0.0.1")
    with raises(ValueError, 'Invalid "method" parameter value!'):
        session.send_request(method, uri_path="a")
    with raises(ValueError, 'Invalid "method" parameter value!'):
        coap.send_request("127.0.0.1", method, uri_path="a")


@pytest.mark.parametrize("fmt", [7, 1, 44, 61, 255, -2])
def test_send_request_bad_content_format(coap, ip, fmt: int) -> None:
    coap.init(ip)
    session = coap.new_client_session("127.0.0.1")
    with raises(ValueError, 'Invalid "content_format" parameter value!'):
        session.send_request(coap.REQUEST_GET, uri_path="a", content_format=fmt)
    with raises(ValueError, 'Invalid "content_format" parameter value!'):
        coap.send_request("127.0.0.1", coap.REQUEST_GET, uri_path="a", content_format=fmt)


def test_send_request_tokens(coap, ip) -> None:
    coap.init(ip)
    session = coap.new_client_session("127.0.0.1")
    with raises(OSError, "Cannot create request"):
        session.send_request(coap.REQUEST_GET, uri_path="a", token=b"123456789")
    with raises(OSError, "Cannot create request"):
        session.send_request(coap.REQUEST_GET, uri_path="a", token="123456789")
    with pytest.raises(TypeError):
        session.send_request(coap.REQUEST_GET, uri_path="a", token=12345678)  # the 1.20.3 tutorial's int
    with pytest.raises(TypeError):
        coap.send_request("127.0.0.1", coap.REQUEST_GET, uri_path="a", token=12345678)
    with pytest.raises(TypeError):
        session.send_request(coap.REQUEST_GET, uri_path="a", token=bytearray(b"x"))


def test_bad_argument_types(coap, ip) -> None:
    coap.init(ip)
    with raises(TypeError, "can't convert float to int"):
        coap.add_resource("a", media_type=1.5)
    with raises(TypeError, "can't convert str to int"):
        coap.add_resource("a", max_age="60")
    with raises(TypeError, "can't convert 'int' object to str implicitly"):
        coap.add_resource(5)
    with raises(TypeError, "can't convert str to int"):
        coap.new_client_session("127.0.0.1").send_request("GET")


# -- resources ----------------------------------------------------------------------------------------


def test_duplicate_resource(coap, ip) -> None:
    coap.init(ip)
    coap.add_resource("sensor")
    for uri in ("sensor", "sensor/", "sensor//"):
        with raises(RuntimeError, "Resource already exists or cannot be created!"):
            coap.add_resource(uri)


def test_get_and_remove_resource(coap, ip) -> None:
    coap.init(ip)
    assert coap.get_resource("nothing") is None
    assert coap.remove_resource("nothing") is None
    resource = coap.add_resource("a/b", value="x")
    assert coap.get_resource("a/b") is resource
    assert coap.get_resource("b") is None
    assert coap.remove_resource("a/b") is None
    assert coap.get_resource("a/b") is None
    with pytest.raises(RuntimeError):
        resource.value()  # the firmware frees it; the emulator refuses instead of crashing
    coap.add_resource("a/b")  # the URI is free again


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (255, b"\xff"),
        (256, b"\x00\x01"),
        (300, b"\x2c\x01"),
        (70000, b"\x70\x11"),
        (-1, b"\xff\xff"),
        (True, b"\x01"),
        ("é", "é".encode()),
        ("21 C", b"21 C"),
        (b"\x00\xff", b"\x00\xff"),
        (bytearray(b"ba"), b"ba"),
        (memoryview(b"mv"), b"mv"),
    ],
)
def test_value_encodings(coap, ip, value, stored: bytes) -> None:
    coap.init(ip)
    resource = coap.add_resource("v", value=value)
    assert resource.value() == stored
    assert type(resource.value()) is bytes
    other = coap.add_resource("w")
    assert other.value(value) is None
    assert other.value() == stored


def test_default_value_is_one_zero_byte(coap, ip) -> None:
    coap.init(ip)
    assert coap.add_resource("d").value() == b"\x00"


@pytest.mark.parametrize("bad", [1.5, None, [1], {"a": 1}])
def test_value_rejects_objects_without_buffer(coap, ip, bad) -> None:
    coap.init(ip)
    resource = coap.add_resource("v", value="keep")
    with raises(TypeError, "object with buffer protocol required"):
        resource.value(bad)
    assert resource.value() == b"keep"
    with raises(TypeError, "object with buffer protocol required"):
        coap.add_resource("x", value=bad)


def test_value_arity(coap, ip) -> None:
    coap.init(ip)
    resource = coap.add_resource("v")
    with pytest.raises(TypeError):
        resource.value(1, 2)
    with pytest.raises(TypeError):
        resource.value(value=1)
    with pytest.raises(TypeError):
        resource.callback(1)
    with pytest.raises(TypeError):
        resource.add_attribute("ct")


def test_etag_counts_every_change_and_wraps_to_1(coap, ip) -> None:
    coap.init(ip)
    resource = coap.add_resource("e", media_type=0, max_age=5, value="a", etag=True)
    resource.callback(coap.REQUEST_GET, True)
    reader = Reader(coap, timeout_ms=20)
    try:
        assert get(ip, "e").options[0] == (ETAG, b"\x01")
        resource.value("a")  # the same bytes still count
        assert get(ip, "e").options[0] == (ETAG, b"\x02")
        for _ in range(65535 - 2):
            resource.value("a")
        assert get(ip, "e").options[0] == (ETAG, b"\xff\xff")
        resource.value("b")
        reply = get(ip, "e")
        assert reply.options[0] == (ETAG, b"\x01")  # 0 is skipped
        assert reply.payload == b"b"
    finally:
        reader.stop()
    assert not reader.errors


def test_resource_without_etag_sends_none(coap, ip) -> None:
    coap.init(ip)
    resource = coap.add_resource("n", media_type=50, max_age=3600, value="{}")
    resource.callback(coap.REQUEST_GET, True)
    reader = Reader(coap, timeout_ms=20)
    try:
        reply = get(ip, "n")
        assert reply.options == [(CONTENT_FORMAT, b"\x32"), (14, b"\x0e\x10")]
        assert reply.payload == b"{}"
    finally:
        reader.stop()


# -- warnings -----------------------------------------------------------------------------------------


C_PORT = "on firmware 1.20.3.b3 and later (port read as an object: only the default works)"


@pytest.mark.parametrize(
    ("port", "firmware_port", "on_c"),
    [
        (5683, 11367, "uses port 2841"),  # odd: the small int (P - 1) / 2
        (5700, 11401, "raises TypeError or faults the board (an even port is read as a pointer)"),
    ],
)
def test_init_port_warns_once_and_binds_that_port(
    coap, ip, capsys, port: int, firmware_port: int, on_c: str
) -> None:
    coap.init(ip, port=port)
    assert capsys.readouterr().err == (
        f"firmware-sim: warning: Coap.init(port={port}) binds port {firmware_port} "
        "on firmware 1.20.1 to 1.20.3.b2\n"
        f"firmware-sim: warning: Coap.init(port={port}) {on_c} {C_PORT}\n"
    )
    assert coap.socket().getsockname() == (ip, port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, pytest.raises(OSError):
        probe.bind((ip, port))


def test_init_without_port_does_not_warn(coap, ip, capsys) -> None:
    coap.init(address=ip)
    assert capsys.readouterr().err == ""
    assert coap.socket().getsockname() == (ip, 5683)


def test_callback_false_disables_and_warns_once(coap, ip, capsys) -> None:
    coap.init(ip)
    resource = coap.add_resource("c", media_type=0, max_age=1, value="on")
    resource.callback(coap.REQUEST_GET | coap.REQUEST_PUT, True)
    reader = Reader(coap, timeout_ms=20)
    try:
        assert get(ip, "c").code == 69
        assert capsys.readouterr().err == ""
        resource.callback(coap.REQUEST_GET, False)
        reply = get(ip, "c")
        assert (reply.code, reply.payload) == (133, b"Method Not Allowed")
        resource.callback(coap.REQUEST_PUT, False)
        resource.callback(coap.REQUEST_GET, False)
        err = capsys.readouterr().err
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(WARNING + "resource.callback(1, False) ")
        resource.callback(coap.REQUEST_GET, True)
        assert get(ip, "c").code == 69
    finally:
        reader.stop()


# -- client sessions ----------------------------------------------------------------------------------


def test_session_list_details_and_removal(coap) -> None:
    coap.init()
    assert coap.get_client_sessions() == []
    first = coap.new_client_session("127.0.0.1")
    second = coap.new_client_session("127.0.0.2", 5684)
    assert first.get_details() == ["127.0.0.1", 5683]
    assert second.get_details() == ["127.0.0.2", 5684]
    sessions = coap.get_client_sessions()
    assert sessions == [first, second]
    assert all(type(s).__name__ == "CoapClientSession" for s in sessions)
    with raises(RuntimeError, "Client Session has not been removed"):
        coap.remove_client_session("127.0.0.2", 5683)  # wrong port
    with raises(RuntimeError, "Client Session has not been removed"):
        coap.remove_client_session("127.0.0.9", 5683)
    assert coap.remove_client_session("127.0.0.2", 5684) is None
    assert coap.get_client_sessions() == [first]
    with raises(RuntimeError, "Client Session has not been removed"):
        coap.remove_client_session("127.0.0.2", 5684)
    assert coap.remove_client_session("127.0.0.1", 5683) is None
    assert coap.get_client_sessions() == []


def test_session_bad_destination(coap) -> None:
    coap.init()
    with raises(RuntimeError, "Client Session has not been created!"):
        coap.new_client_session("not-an-ip")


@pytest.mark.parametrize("destination", ["192.168.0.234", "10.0.0.5", "8.8.8.8"])
def test_destination_outside_loopback_names_the_map(coap, ip, destination: str) -> None:
    coap.init(ip)
    with pytest.raises(OSError, match="FIRMWARE_SIM_MAP") as info:
        coap.new_client_session(destination)
    assert destination in str(info.value)
    with pytest.raises(OSError, match="FIRMWARE_SIM_MAP"):
        coap.send_request(destination, coap.REQUEST_GET, uri_path="a")
    assert coap.get_client_sessions() == []


def test_mapped_destination_reaches_the_loopback_peer(coap, peer: Peer) -> None:
    host.configure(mapping={"192.168.0.234": peer.ip})
    coap.init()
    session = coap.new_client_session("192.168.0.234", 5683)
    assert session.get_details() == ["192.168.0.234", 5683]
    mid = session.send_request(coap.REQUEST_GET, uri_path="time", token="t")
    msg, _, _ = peer.recv()
    assert msg.mid == mid
    assert msg.option(URI_HOST) == b"192.168.0.234"  # the address the script named


def test_session_request_bytes(coap, ip, peer: Peer) -> None:
    coap.init(ip)
    reader = Reader(coap, timeout_ms=20)  # handles the ACKs, so the next CON can go (NSTART 1)
    try:
        session = coap.new_client_session(peer.ip, 5683)
        mid = session.send_request(
            coap.REQUEST_PUT,
            uri_path="a/bb/ccc",
            content_format=coap.MEDIATYPE_TEXT_PLAIN,
            payload="ABCD",
            token="token3",
        )
        msg, source, _ = peer.recv()
        assert source[0] == ip and source[1] != 5683  # the session's own ephemeral socket
        assert (msg.mtype, msg.code, msg.mid, msg.token, msg.payload) == (CON, 3, mid, b"token3", b"ABCD")
        assert msg.options == [
            (URI_HOST, peer.ip.encode()),
            (URI_PORT, b"\x16\x33"),  # 2 bytes even for the default port
            (URI_PATH, b"a"),
            (URI_PATH, b"bb"),
            (URI_PATH, b"ccc"),
            (CONTENT_FORMAT, b"\x00\x00"),  # 2 bytes even for 0
        ]
        peer.ack(msg, source)
        for method, code in ((coap.REQUEST_GET, 1), (coap.REQUEST_POST, 2), (coap.REQUEST_DELETE, 4)):
            assert session.send_request(method, uri_path="x") == (mid + 1) & 0xFFFF
            mid = (mid + 1) & 0xFFFF
            msg, source, _ = peer.recv()
            assert (msg.mtype, msg.code, msg.mid, msg.token, msg.payload) == (CON, code, mid, b"", b"")
            peer.ack(msg, source)
    finally:
        reader.stop()
    assert not reader.errors


def test_session_include_options_false(coap, peer: Peer) -> None:
    coap.init()
    session = coap.new_client_session(peer.ip)
    imei = int("359738090028145").to_bytes(8, "big")
    mid = session.send_request(
        coap.REQUEST_GET,
        uri_path="ignored",
        content_format=coap.MEDIATYPE_APP_JSON,
        payload="amqp://artemis:5672/dish.app1.FjhBV78.telemetry",
        token=imei,
        include_options=False,
    )
    msg, _, data = peer.recv()
    assert (msg.mtype, msg.code, msg.mid, msg.token, msg.options) == (CON, 1, mid, imei, [])
    assert msg.payload == b"amqp://artemis:5672/dish.app1.FjhBV78.telemetry"
    assert data[:4] == bytes((0x48, 0x01, mid >> 8, mid & 0xFF))


def test_session_content_format_2_bytes(coap, peer: Peer) -> None:
    coap.init()
    session = coap.new_client_session(peer.ip, peer.port)
    session.send_request(
        coap.REQUEST_POST, uri_path="r", content_format=coap.MEDIATYPE_APP_CBOR, payload=b"\xa0"
    )
    msg, _, _ = peer.recv()
    assert msg.option(CONTENT_FORMAT) == b"\x00\x3c"
    assert msg.option(URI_PORT) == peer.port.to_bytes(2, "big")


def test_session_ids_go_up_by_one(coap, peer: Peer) -> None:
    coap.init()
    reader = Reader(coap, timeout_ms=20)
    try:
        session = coap.new_client_session(peer.ip)
        ids = [session.send_request(coap.REQUEST_GET, uri_path="n", token=bytes((i,))) for i in range(20)]
        for i in range(1, 20):
            assert ids[i] == (ids[i - 1] + 1) & 0xFFFF
        wire = []
        for _ in range(20):
            msg, source, _ = peer.recv()
            wire.append(msg)
            peer.ack(msg, source, 69, b"r")
        assert [m.mid for m in wire] == ids  # in order, one at a time
        assert [m.token for m in wire] == [bytes((i,)) for i in range(20)]
    finally:
        reader.stop()
    assert not reader.errors


def test_module_send_request_from_the_server_socket(coap, ip, peer: Peer) -> None:
    coap.init(ip)
    reader = Reader(coap, timeout_ms=20)
    try:
        mid = coap.send_request(peer.ip, coap.REQUEST_GET, uri_path=".well-known/core", token=b"wk")
        msg, source, _ = peer.recv()
        assert source == (ip, 5683)  # the single server socket, as firmware 1.20.1-1.20.2
        assert (msg.mtype, msg.code, msg.mid, msg.token) == (CON, 1, mid, b"wk")
        assert msg.options == [
            (URI_HOST, peer.ip.encode()),
            (URI_PORT, b"\x16\x33"),
            (URI_PATH, b".well-known"),
            (URI_PATH, b"core"),
        ]
        peer.ack(msg, source)
        again = coap.send_request(peer.ip, coap.REQUEST_POST, uri_path="x", payload="p")
        assert again == (mid + 1) & 0xFFFF
        msg, source, _ = peer.recv()
        assert (msg.mid, msg.code, msg.payload) == (again, 2, b"p")
        assert source == (ip, 5683)
    finally:
        reader.stop()
    assert not reader.errors


def test_module_send_request_to_another_port(coap, ip) -> None:
    other = Peer(port=0)
    try:
        coap.init(ip)
        coap.send_request(
            other.ip, coap.REQUEST_GET, uri_port=other.port, uri_path="p", include_options=False
        )
        msg, source, _ = other.recv()
        assert source == (ip, 5683)
        assert msg.options == []
    finally:
        other.close()


# -- responses reach the handler ----------------------------------------------------------------------


def test_response_handler_gets_responses_with_payload(coap, ip, peer: Peer) -> None:
    calls: list[tuple] = []
    got = threading.Event()

    def handler(code, id_param, type_param, token, payload):
        calls.append((code, id_param, type_param, token, payload))
        got.set()

    coap.init(ip)
    coap.register_response_handler(handler)
    session = coap.new_client_session(peer.ip)
    reader = Reader(coap, timeout_ms=20)
    try:
        # a 2.04 without payload is dropped (firmware-coap.md §7.4), a 2.05 with payload is delivered
        silent = session.send_request(coap.REQUEST_PUT, uri_path="t", payload="x", token=b"a")
        req, source, _ = peer.recv()
        peer.sock.sendto(encode(Message(ACK, 68, req.mid, req.token)), source)
        loud = session.send_request(coap.REQUEST_GET, uri_path="t", token=b"b")
        req, source, _ = peer.recv()
        peer.sock.sendto(
            encode(Message(ACK, 69, req.mid, req.token, [(CONTENT_FORMAT, b"")], b"12:00")), source
        )
        assert got.wait(5)
        assert calls == [(69, loud, ACK, b"b", b"12:00")]
        assert silent != loud
    finally:
        reader.stop()
    assert not reader.errors


def test_separate_response_is_acknowledged_and_delivered(coap, peer: Peer) -> None:
    calls: list[tuple] = []
    got = threading.Event()
    coap.init()
    coap.register_response_handler(lambda *args: (calls.append(args), got.set()))
    reader = Reader(coap, timeout_ms=20)
    try:
        session = coap.new_client_session(peer.ip)
        session.send_request(coap.REQUEST_GET, uri_path="slow", token=b"sep")
        req, source, _ = peer.recv()
        peer.ack(req, source)  # empty ACK: "the answer comes later"
        peer.sock.sendto(encode(Message(CON, 69, 0x4242, b"sep", [], b"later")), source)
        ack, _, data = peer.recv()
        assert data == b"\x60\x00\x42\x42"  # the client acknowledges the separate response
        assert got.wait(5)
        assert calls == [(69, 0x4242, CON, b"sep", b"later")]  # type 0: it came as a CON
        # the same response again (our ACK was "lost"): ACKed again, delivered once
        peer.sock.sendto(encode(Message(CON, 69, 0x4242, b"sep", [], b"later")), source)
        assert peer.recv()[2] == b"\x60\x00\x42\x42"
        assert calls == [(69, 0x4242, CON, b"sep", b"later")]
    finally:
        reader.stop()
    assert not reader.errors


def test_unanswered_request_is_retransmitted_after_2_to_3_seconds(coap, peer: Peer) -> None:
    calls: list[tuple] = []
    got = threading.Event()
    coap.init()
    coap.register_response_handler(lambda *args: (calls.append(args), got.set()))
    reader = Reader(coap, timeout_ms=100)
    try:
        session = coap.new_client_session(peer.ip)
        mid = session.send_request(coap.REQUEST_GET, uri_path="lossy", token=b"rt")
        first, _, wire = peer.recv()
        sent = time.monotonic()
        again, source, wire_again = peer.recv(timeout=5.0)  # the first one was "lost"
        waited = time.monotonic() - sent
        assert wire_again == wire and again.mid == mid
        assert 1.9 <= waited <= 3.5
        peer.ack(again, source, 69, b"finally")
        assert got.wait(5)
        assert calls == [(69, mid, ACK, b"rt", b"finally")]
    finally:
        reader.stop()
    assert not reader.errors


def test_timers_and_read_timeout_run_on_the_board_clock(coap, peer: Peer) -> None:
    """At ``--time-scale 100`` retransmissions (ACK_TIMEOUT 2-3 s, doubling, 4 of them) and
    ``read(timeout)`` are board time, so 100 times faster on the host, as ``utime`` is."""
    host.configure(scale=100)
    coap.init()
    start = time.monotonic()
    coap.read(1000)  # one board second
    assert 0.005 <= time.monotonic() - start < 0.5
    reader = Reader(coap, timeout_ms=100)
    try:
        session = coap.new_client_session(peer.ip)
        session.send_request(coap.REQUEST_GET, uri_path="lossy", token=b"bt")
        arrivals = []
        for _ in range(5):  # the request and its 4 retransmissions, none answered
            peer.recv(timeout=2.0)
            arrivals.append(time.monotonic())
    finally:
        reader.stop()
    assert not reader.errors
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert 0.015 <= gaps[0] <= 0.1, gaps  # 2-3 board seconds
    assert arrivals[-1] - arrivals[0] <= 1.0, gaps  # 30-45 board seconds in all


def test_request_held_behind_an_abandoned_one_goes_out_when_it_is_abandoned(
    coap, peer: Peer, monkeypatch
) -> None:
    # NSTART 1: B waits while A is outstanding. When A is given up, B must go out at once, and its
    # retransmissions follow ACK_TIMEOUT later. ACK_TIMEOUT is shortened so A is given up in ~2 s
    # instead of 62-93 s; nothing else is changed.
    from network.coap.protocol import exchange

    monkeypatch.setattr(exchange, "ACK_TIMEOUT", 0.05)
    coap.init()
    reader = Reader(coap, timeout_ms=20)
    try:
        session = coap.new_client_session(peer.ip)
        session.send_request(coap.REQUEST_GET, uri_path="a", token=b"A")
        session.send_request(coap.REQUEST_GET, uri_path="b", token=b"B")
        arrivals: list[tuple[float, bytes]] = []
        while sum(token == b"B" for _, token in arrivals) < 2:
            msg, _, _ = peer.recv(timeout=5.0)
            arrivals.append((time.monotonic(), msg.token))
    finally:
        reader.stop()
    assert [token for _, token in arrivals] == [b"A"] * 5 + [b"B"] * 2  # A: 1 + 4 retransmissions
    first_b, second_b = (t for t, token in arrivals if token == b"B")
    # B's first retransmission cannot come before its ACK_TIMEOUT (>= 0.05 s) has passed
    assert second_b - first_b >= 0.04, (
        f"B was first sent together with its retransmission ({second_b - first_b:.4f} s)"
    )
