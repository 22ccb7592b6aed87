"""One ``Coap.read()`` loop serving 2,000 client sessions and the server endpoint at once.

Firmware 1.20.3.b0-b2 watches at most 64 sockets per ``coap_run_once``; the emulator promises thousands
(epoll). Every session here sends one CON to a plain-UDP echo server that answers with a piggy-backed
2.05, while an external client keeps GETting a resource from the Coap server.
"""

from __future__ import annotations

import threading
import time

from conftest import Reader, free_loopback_ip
from peers.udp import EchoServer, Hammer

CON, ACK = 0, 2
SESSIONS = 2000
BUDGET = 20.0  # seconds for the whole exchange


def test_one_read_loop_serves_2000_sessions_and_the_server(coap, ip) -> None:
    echo = EchoServer(free_loopback_ip())
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
    hammer = Hammer(ip, b"status", pause=0.005)
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
        answers_meanwhile = len(hammer.payloads)
    finally:
        hammer.stop()
        reader.stop()
        echo.stop()

    assert not reader.errors, reader.errors
    assert finished, (
        f"{len(calls)} of {SESSIONS} responses in {elapsed:.1f} s (echo saw {len(echo.requests)})"
    )
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
    assert hammer.problems == []
    assert set(hammer.payloads) == {b"up"}
