"""The de-duplication cache of the message layer is bounded in memory (issue 8, "Memory is bounded").

Sans-I/O: requests go in through :meth:`MessageLayer.receive` at explicit clock values, replies through
:meth:`MessageLayer.respond`. Memory is measured twice: as the bytes the layer accounts for its cache,
and as what ``tracemalloc`` sees the layer keep (Python objects included), so the bound cannot hold only
on paper.
"""

from __future__ import annotations

import gc
import random
import tracemalloc

import pytest

from network.coap.protocol.codec import Message, decode, encode
from network.coap.protocol.exchange import MessageLayer, RequestReceived
from network.coap.protocol.numbers import EXCHANGE_LIFETIME

pytestmark = pytest.mark.unit

CON, NON, ACK = 0, 1, 2
GET, POST, PUT, DELETE = 1, 2, 3, 4
CONTENT, CHANGED, CREATED = 69, 68, 65
MIB = 1024 * 1024
DOCUMENTED_BOUND = 8 * MIB  # README / exchange.py: one endpoint's cache holds at most 8 MiB
BIG = bytes(range(256)) * 240  # a 60 KB resource value


def peer(i: int) -> tuple[str, int]:
    """Client ``i`` of 200, each with its own source port (as 200 clients of a soak)."""
    return (f"127.0.{i % 200 // 100}.{10 + i % 100}", 40000 + i % 200)


def request(code: int, mid: int, mtype: int = CON, payload: bytes = b"") -> bytes:
    return encode(Message(mtype, code, mid & 0xFFFF, b"tok", [(11, b"value")], payload))


def serve(ml: MessageLayer, data: bytes, who: tuple[str, int], now: float, code: int, payload: bytes) -> None:
    """What the engine does with a datagram: a new request is answered with ``code``/``payload``."""
    event = ml.receive(data, who, now)
    if isinstance(event, RequestReceived):
        ml.respond(event, code, [], payload)
    ml.outgoing.clear()


def test_memory_stays_bounded_after_many_large_replies_and_post_is_still_deduplicated() -> None:
    ml = MessageLayer(random.Random(1))
    post = request(POST, 0x0101, payload=b"order #1")
    event = ml.receive(post, peer(0), 0.0)
    assert isinstance(event, RequestReceived)
    ml.respond(event, CREATED, [], b"created #1")
    (first,) = ml.outgoing
    ml.outgoing.clear()

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        now = 0.0
        for i in range(1500):  # 90 MB of replies if each were kept
            now += 0.01
            who = peer(i)
            serve(ml, request(PUT, 0x1000 + i, payload=BIG[: 1000 + i * 40]), who, now, CHANGED, b"")
            serve(ml, request(GET, 0x8000 + i), who, now, CONTENT, BIG)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < DOCUMENTED_BOUND, f"the message layer keeps {held / MIB:.1f} MiB"
    assert ml.dedup.bytes <= ml.dedup.max_bytes == DOCUMENTED_BOUND

    # the POST, long before all that and still within EXCHANGE_LIFETIME: the cached reply, no new event
    assert ml.receive(post, peer(0), EXCHANGE_LIFETIME - 1.0) is None
    assert ml.outgoing == [first]


def test_accounted_bytes_stay_under_a_small_bound_with_the_clock() -> None:
    bound = 256 * 1024
    ml = MessageLayer(random.Random(2), dedup_bytes=bound)
    now = 0.0
    for i in range(3000):
        now += 0.05  # 150 s: everything is still within its lifetime
        serve(ml, request(GET, i), peer(i), now, CONTENT, BIG[: (i * 37) % 1400])
        serve(ml, request(PUT, 0x4000 + i, payload=BIG[:2000]), peer(i), now, CHANGED, b"")
        serve(ml, request(GET, 0x8000 + i, NON), peer(i), now, CONTENT, BIG)
        assert ml.dedup.bytes <= bound
    assert len(ml.dedup) > 0
    ml.expire(now + EXCHANGE_LIFETIME + 1.0)
    assert ml.dedup.bytes == 0 and len(ml.dedup) == 0


def test_non_idempotent_entries_outlive_idempotent_ones_under_pressure() -> None:
    ml = MessageLayer(random.Random(3), dedup_bytes=128 * 1024)
    posts = []
    for i in range(20):  # POSTs, and a method the firmware does not know (5, FETCH): kept firmly
        code = POST if i % 2 else 5
        data = request(code, 0x0100 + i, payload=b"x")
        serve(ml, data, peer(i), float(i), CREATED if code == POST else 133, b"ok %d" % i)
        posts.append((data, peer(i)))
    for i in range(5000):  # far more small GET/PUT/DELETE exchanges than the bound holds
        code = (GET, PUT, DELETE)[i % 3]
        serve(ml, request(code, 0x2000 + i), peer(i), 20.0 + i * 0.01, CONTENT, b"small")
        assert ml.dedup.bytes <= 128 * 1024
    for data, who in posts:
        assert ml.receive(data, who, 200.0) is None  # never a second execution
        (again,) = ml.outgoing
        ml.outgoing.clear()
        assert again[1] == who and decode(again[0]).payload.startswith(b"ok ")
    # the oldest idempotent exchanges were forgotten: a duplicate is executed again, as §4.5 allows
    assert isinstance(ml.receive(request(GET, 0x2000), peer(0), 200.0), RequestReceived)


def test_large_idempotent_reply_is_not_kept_and_a_duplicate_is_executed_again() -> None:
    ml = MessageLayer(random.Random(4))
    get = request(GET, 0x5555)
    event = ml.receive(get, peer(1), 0.0)
    assert isinstance(event, RequestReceived)
    ml.respond(event, CONTENT, [], BIG)
    ml.outgoing.clear()
    assert ml.dedup.bytes < 1024  # the 60 KB reply is not held
    again = ml.receive(get, peer(1), 1.0)
    assert isinstance(again, RequestReceived)  # GET is safe: answered afresh
    ml.respond(again, CONTENT, [], BIG)
    assert decode(ml.outgoing[0][0]).payload == BIG


def test_small_idempotent_reply_is_kept() -> None:
    ml = MessageLayer(random.Random(5))
    get = request(GET, 0x6666)
    ml.respond(ml.receive(get, peer(1), 0.0), CONTENT, [], b"21 C")  # type: ignore[arg-type]
    first = list(ml.outgoing)
    ml.outgoing.clear()
    assert ml.receive(get, peer(1), 100.0) is None
    assert ml.outgoing == first


def test_large_non_idempotent_reply_is_kept() -> None:
    ml = MessageLayer(random.Random(6))
    post = request(POST, 0x7777, payload=b"p")
    ml.respond(ml.receive(post, peer(2), 0.0), CHANGED, [], BIG)  # type: ignore[arg-type]
    first = list(ml.outgoing)
    ml.outgoing.clear()
    assert ml.receive(post, peer(2), 200.0) is None
    assert ml.outgoing == first


def test_replies_to_non_requests_are_not_kept() -> None:
    ml = MessageLayer(random.Random(7))
    for i in range(200):
        serve(ml, request(GET, i, NON), peer(i), 0.0, CONTENT, BIG[:1000])
    assert ml.dedup.bytes <= 200 * 1024  # the entries only, never a reply
    assert ml.receive(request(GET, 5, NON), peer(5), 1.0) is None  # still de-duplicated
    assert ml.outgoing == []  # and nothing is sent again to a NON
