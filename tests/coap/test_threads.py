"""The documented threading pattern: ``Coap.read()`` loops in a ``_thread`` while the main thread changes
resource values and creates and removes client sessions, and an external client hammers GETs.

The response handler may call ``Coap`` functions (on firmware 1.20.1-1.20.2 that deadlocks, so the
emulator warns once, but it must not deadlock here). Every wait is bounded.
"""

from __future__ import annotations

import _thread
import socket
import threading
import time

from conftest import free_loopback_ip
from peers.udp import EchoServer, Hammer

from network.coap.protocol.codec import Message, decode, encode

CON, ACK = 0, 2
WAIT = 5.0
REENTRY = "from the response handler deadlocks firmware"


class ReadLoop:
    """``while True: Coap.read(...)`` in a ``_thread``, as the documentation's examples do."""

    def __init__(self, coap, timeout_ms: int = 0) -> None:
        self.coap = coap
        self.timeout_ms = timeout_ms
        self.errors: list[BaseException] = []
        self.stop_flag = threading.Event()
        self.ended = threading.Event()
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        try:
            while not self.stop_flag.is_set():
                self.coap.read(self.timeout_ms)
        except RuntimeError as err:  # the module was reset: expected only after stop()
            if not self.stop_flag.is_set():
                self.errors.append(err)
        except BaseException as err:
            self.errors.append(err)
        finally:
            self.ended.set()

    def stop(self, wake: tuple[str, int] | None = None) -> None:
        self.stop_flag.set()
        if wake is not None:  # read(0) blocks until a datagram arrives: send it one
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"\x40\x00\x00\x00", wake)
        assert self.ended.wait(WAIT), "the read loop did not stop"


def test_documented_pattern_under_load(coap, ip) -> None:
    echo = EchoServer(free_loopback_ip())
    coap.init(ip)
    counter = coap.add_resource("counter", media_type=0, max_age=1, value=b"v0", etag=True)
    counter.callback(coap.REQUEST_GET, True)
    responses: list[tuple] = []
    coap.register_response_handler(lambda *args: responses.append(args))
    loop = ReadLoop(coap, timeout_ms=0)
    hammer = Hammer(ip, b"counter")
    try:
        values = {b"v0"}
        sessions_used = 0
        for i in range(1, 201):
            value = f"v{i}".encode()
            values.add(value)
            counter.value(value)
            if i % 4 == 0:  # sessions come and go while read() is running
                session = coap.new_client_session(echo.ip, 5683)
                session.send_request(coap.REQUEST_GET, uri_path="x", token=i.to_bytes(2, "big"))
                sessions_used += 1
                if i % 8 == 0:
                    coap.remove_client_session(echo.ip, 5683)
            if i % 10 == 0:
                extra = coap.add_resource(f"tmp{i}", value=i)
                assert coap.get_resource(f"tmp{i}") is extra
                coap.remove_resource(f"tmp{i}")
            time.sleep(0.002)
        end = time.monotonic() + WAIT
        while len(echo.requests) < sessions_used and time.monotonic() < end:
            time.sleep(0.01)
        served_meanwhile = len(hammer.payloads)
    finally:
        hammer.stop()
        loop.stop(wake=(ip, 5683))
        echo.stop()

    assert loop.errors == []
    assert len(echo.requests) == sessions_used
    assert served_meanwhile > 20
    assert hammer.problems == []
    assert set(hammer.payloads) <= values  # never a torn or foreign value
    assert counter.value() == b"v200"
    # sessions removed right after sending may lose their answer; the rest reach the handler
    assert all(code == 69 and payload == b"echo:" + token for code, _, _, token, payload in responses)


def test_handler_may_call_coap_functions(coap, ip, capsys) -> None:
    echo = EchoServer(free_loopback_ip())
    coap.init(ip)
    resource = coap.add_resource("state", media_type=0, max_age=1, value="idle")
    resource.callback(coap.REQUEST_GET, True)
    seen: list[tuple] = []
    inner_done = threading.Event()
    outcome: dict[str, object] = {}

    def handler(code, id_param, type_param, token, payload):
        seen.append((code, token, payload))
        if token == b"outer":
            # each of these takes modcoap's semaphore: a deadlock on firmware 1.20.1-1.20.2
            outcome["id"] = coap.send_request(echo.ip, coap.REQUEST_GET, uri_path="again", token=b"inner")
            outcome["found"] = coap.get_resource("state")
            coap.get_resource("state").value("from handler")
            outcome["value"] = resource.value()
            outcome["session"] = coap.new_client_session(echo.ip)
            outcome["added"] = coap.add_resource("made-in-handler", value=1)
        elif token == b"inner":
            inner_done.set()

    coap.register_response_handler(handler)
    loop = ReadLoop(coap, timeout_ms=50)
    try:
        session = coap.new_client_session(echo.ip)
        session.send_request(coap.REQUEST_GET, uri_path="first", token=b"outer")
        assert inner_done.wait(WAIT), f"the handler's own request got no response: {seen}"
        # the server endpoint still answers after all that
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT)
            sock.sendto(encode(Message(CON, 1, 77, b"s", [(11, b"state")])), (ip, 5683))
            reply = decode(sock.recv(2048))
        assert (reply.code, reply.payload) == (69, b"from handler")
    finally:
        loop.stop()
        echo.stop()

    assert loop.errors == []
    assert outcome["found"] is resource
    assert outcome["value"] == b"from handler"
    assert coap.get_resource("made-in-handler") is outcome["added"]
    assert outcome["session"] in coap.get_client_sessions()
    assert [m.token for m in echo.requests] == [b"outer", b"inner"]
    assert echo.requests[1].mid == outcome["id"]
    assert seen == [(69, b"outer", b"echo:outer"), (69, b"inner", b"echo:inner")]

    lines = [line for line in capsys.readouterr().err.splitlines() if REENTRY in line]
    assert lines == [
        "firmware-sim: warning: calling Coap.send_request() from the response handler deadlocks "
        "firmware 1.20.1 to 1.20.2.r6"
    ]


def test_handler_reentry_warns_once_across_many_calls(coap, ip, capsys) -> None:
    echo = EchoServer(free_loopback_ip())
    coap.init(ip)
    resource = coap.add_resource("r", value="x")
    count = 10
    done = threading.Event()
    calls: list[bytes] = []

    def handler(code, id_param, type_param, token, payload):
        calls.append(token)
        resource.value(token)
        coap.get_resource("r")
        if len(calls) == count:
            done.set()

    coap.register_response_handler(handler)
    loop = ReadLoop(coap, timeout_ms=20)
    try:
        session = coap.new_client_session(echo.ip)
        for i in range(count):
            session.send_request(coap.REQUEST_GET, uri_path="n", token=bytes((i,)))
        assert done.wait(WAIT), calls
    finally:
        loop.stop()
        echo.stop()
    assert calls == [bytes((i,)) for i in range(count)]
    err = capsys.readouterr().err
    assert sum(REENTRY in line for line in err.splitlines()) == 1, err
    assert "Coap.value()" in err
