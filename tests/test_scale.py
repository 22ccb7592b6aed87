"""One ``Coap.read()`` loop serving 2,000 client sessions and the server endpoint at once.

Firmware 1.20.3.b0-b2 watches at most 64 sockets per ``coap_run_once``; the emulator promises thousands
(epoll). Every session here sends one CON to a plain-UDP echo server that answers with a piggy-backed
2.05, while an external client keeps GETting a resource from the Coap server.
"""

from __future__ import annotations

import socket
import threading
import time

from conftest import Reader, free_loopback_ip

from network.coap.protocol.codec import Message, ParseError, decode, encode

CON, ACK = 0, 2
SESSIONS = 2000
BUDGET = 20.0  # seconds for the whole exchange


class EchoServer:
    """Answers every CON request with ACK 2.05 carrying the request's token as payload."""

    def __init__(self) -> None:
        self.ip = free_loopback_ip()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((self.ip, 5683))
        self.sock.settimeout(0.05)
        self.received = 0
        self.sources: set[tuple[str, int]] = set()
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
            try:
                msg = decode(data)
            except ParseError:
                continue
            if msg.mtype != CON or not 1 <= msg.code <= 31:
                continue
            self.received += 1
            self.sources.add(source)
            self.sock.sendto(encode(Message(ACK, 69, msg.mid, msg.token, [], b"echo:" + msg.token)), source)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


class Hammer:
    """An external client GETting ``/status`` from the Coap server until stopped."""

    def __init__(self, server_ip: str) -> None:
        self.server = (server_ip, 5683)
        self.answers = 0
        self.bad: list[object] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2.0)
            mid = 0
            while not self._stop.is_set():
                mid += 1
                sock.sendto(encode(Message(CON, 1, mid, b"h", [(11, b"status")])), self.server)
                try:
                    reply = decode(sock.recv(2048))
                except (TimeoutError, ParseError) as err:
                    self.bad.append(err)
                    continue
                if (reply.mtype, reply.code, reply.mid, reply.payload) != (ACK, 69, mid, b"up"):
                    self.bad.append(reply)
                else:
                    self.answers += 1
                time.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


def test_one_read_loop_serves_2000_sessions_and_the_server(coap, ip) -> None:
    echo = EchoServer()
    coap.init(ip)
    coap.add_resource("status", media_type=0, max_age=1, value="up").callback(coap.REQUEST_GET, True)
    calls: list[tuple] = []
    lock = threading.Lock()
    done = threading.Event()

    def handler(code, id_param, type_param, token, payload):
        with lock:
            calls.append((code, id_param, type_param, token, payload))
            if len(calls) >= SESSIONS:
                done.set()

    coap.register_response_handler(handler)
    reader = Reader(coap, timeout_ms=100)
    hammer = Hammer(ip)
    start = time.monotonic()
    try:
        sent: dict[bytes, int] = {}
        for i in range(SESSIONS):
            session = coap.new_client_session(echo.ip, 5683)
            token = i.to_bytes(2, "big")
            sent[token] = session.send_request(coap.REQUEST_GET, uri_path="echo", token=token)
        assert len(coap.get_client_sessions()) == SESSIONS
        finished = done.wait(BUDGET - (time.monotonic() - start))
        elapsed = time.monotonic() - start
        answers_meanwhile = hammer.answers
    finally:
        hammer.stop()
        reader.stop()
        echo.stop()

    assert not reader.errors, reader.errors
    assert finished, f"{len(calls)} of {SESSIONS} responses in {elapsed:.1f} s (echo saw {echo.received})"
    assert elapsed < BUDGET
    assert len(calls) == SESSIONS
    assert len(echo.sources) == SESSIONS  # one socket per session
    by_token = {
        token: (code, id_param, type_param, payload) for code, id_param, type_param, token, payload in calls
    }
    assert len(by_token) == SESSIONS  # every session's response, once each
    for token, mid in sent.items():
        assert by_token[token] == (69, mid, ACK, b"echo:" + token)
    assert answers_meanwhile > 0, "the server endpoint was starved"
    assert hammer.bad == []
