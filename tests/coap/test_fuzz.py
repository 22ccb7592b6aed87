"""Fuzzing in the suite, bounded to a few seconds each (issue 8, "Must show").

Both send mutated datagrams (``bench/fuzzgen.py``) at a real server on loopback and then require
health checks to be answered: once at the in-process Coap with a thread looping ``Coap.read()`` as a
script does (any exception out of ``read()`` fails the test), once through ``bench/fuzz_server.py``,
the tool for long runs, against a server process (a traceback or an exit counts as a crash). Long runs
(a million datagrams): ``python bench/fuzz_server.py``, see ``bench/README.md``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, Reader

from network.coap.protocol.codec import Message, ParseError, decode, encode

CON, ACK = 0, 2
GET = 1
SECONDS = 2.5  # of fuzzing per test


def _fuzzgen():
    spec = importlib.util.spec_from_file_location("fuzzgen", ROOT / "bench" / "fuzzgen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _health_check(checker: socket.socket, target: tuple[str, int], mid: int) -> Message | None:
    """CON GET /alive, sent again after 0.5, 1 and 2 s as a client does (a burst may have filled the
    server's receive buffer, so the kernel may drop it); the answer with ``mid``, or None."""
    request = encode(Message(CON, GET, mid, b"hc", [(11, b"alive")]))
    for wait in (0.5, 1.0, 2.0, 4.0):
        checker.sendto(request, target)
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            checker.settimeout(left)
            try:
                reply = decode(checker.recv(70000))
            except TimeoutError:
                break
            if reply.mid == mid:
                return reply
    return None


def test_fuzz_in_process_server_answers_every_health_check(coap, ip) -> None:
    coap.init(ip)
    sensor = coap.add_resource("sensor", media_type=0, max_age=60, value="21 C", etag=True)
    sensor.add_attribute("rt", "temperature")
    sensor.callback(coap.REQUEST_GET | coap.REQUEST_PUT | coap.REQUEST_POST, True)
    coap.add_resource("big", value=b"b" * 3000).callback(coap.REQUEST_GET | coap.REQUEST_PUT, True)
    for n in range(2):
        coap.add_resource(f"victim{n}", value=n).callback(coap.REQUEST_GET | coap.REQUEST_DELETE, True)
    coap.add_resource("off", value="4.05 to all")
    coap.add_resource("alive", value="yes").callback(coap.REQUEST_GET, True)
    reader = Reader(coap, timeout_ms=20)
    mutator = _fuzzgen().Mutator(random.randrange(1 << 30))
    target = (ip, 5683)
    fuzz = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
    checker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = checks = replies = 0
    try:
        for sock in fuzz:
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
        checker.bind(("127.0.0.1", 0))
        end = time.monotonic() + SECONDS
        while time.monotonic() < end and sent < 200_000:
            for i in range(100):
                fuzz[i % 4].sendto(mutator.datagram(), target)
            sent += 100
            checks += 1
            reply = _health_check(checker, target, checks & 0xFFFF)
            assert reply is not None, f"health check {checks} unanswered after {sent} datagrams"
            assert (reply.mtype, reply.code, reply.payload) == (ACK, 69, b"yes"), f"after {sent} datagrams"
            for sock in fuzz:  # what came back to the fuzzer is well-formed CoAP
                while True:
                    try:
                        data = sock.recv(70000)
                    except BlockingIOError:
                        break
                    try:
                        decode(data)
                    except ParseError:
                        pytest.fail(f"malformed reply {data[:40].hex()} after {sent} datagrams")
                    replies += 1
    finally:
        reader.stop()
        for sock in [*fuzz, checker]:
            sock.close()
    assert not reader.errors, reader.errors  # nothing raised out of Coap.read()
    assert sent >= 2000 and replies > 0


@pytest.mark.process
def test_fuzz_tool_against_a_server_process(tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    args = [sys.executable, str(ROOT / "bench" / "fuzz_server.py"), "--datagrams", "100000"]
    args += ["--seconds", str(SECONDS), "--seed", str(random.randrange(1 << 30)), "--json", str(out)]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(out.read_text())
    assert summary["datagrams"] >= 2000
    assert summary["crashes"] == summary["tracebacks"] == summary["unanswered"] == 0
    assert summary["malformed_replies"] == 0
    assert summary["health_checks"] * 100 >= summary["datagrams"]
    assert summary["rss_max_mb"] is not None and summary["rss_max_mb"] < 200
