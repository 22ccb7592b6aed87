"""The server's fast path (``network/coap/fastpath.py``) answers the common GET from bytes; on the wire
it must be indistinguishable from the message layer and the resource table answering it.

Each test runs two servers side by side, as the engine runs its server endpoint: one with the fast path
first (falling back to the ordinary way when it declines), one the ordinary way only. Both get the same
datagrams and the same changes to their resources; every datagram must make the same bytes go out, and
leave the same de-duplication state behind.
"""

from __future__ import annotations

import gc
import itertools
import random
import tracemalloc
from collections.abc import Callable

import pytest

from network import profile as profiles
from network.coap.fastpath import FastPath
from network.coap.firmware.resources import REQUEST_GET, Resource, ResourceTable
from network.coap.protocol.codec import Message, decode, encode
from network.coap.protocol.exchange import MessageLayer, RequestReceived
from network.coap.protocol.numbers import EXCHANGE_LIFETIME, NON_LIFETIME
from network.profile import FirmwareProfile

pytestmark = pytest.mark.unit

CON, NON, ACK = 0, 1, 2
GET, POST, PUT = 1, 2, 3
ETAG, URI_PATH, CONTENT_FORMAT, MAX_AGE, URI_QUERY, ACCEPT = 4, 11, 12, 14, 15, 17
PEER = ("127.0.0.9", 40001)
OTHER = ("127.0.0.10", 40002)


class Endpoint:
    """A server endpoint without a socket: a message layer, a resource table, maybe the fast path."""

    def __init__(self, profile: FirmwareProfile, fast: bool) -> None:
        profile.warn = False
        self.table = ResourceTable(profile)
        self.layer = MessageLayer(random.Random(1))
        self.fast = FastPath(self.layer.dedup, self.table) if fast else None
        self.answered_fast = 0

    def serve(self, data: bytes, peer: tuple[str, int], now: float) -> list[tuple[bytes, object]]:
        """What the engine's _drain does with one datagram; the datagrams it sends."""
        if self.fast is not None:
            reply = self.fast.answer(data, peer, now)
            if reply is not None:
                self.answered_fast += 1
                return [(reply, peer)]
        event = self.layer.receive(data, peer, now)
        if isinstance(event, RequestReceived):
            reply_parts = self.table.handle(event.message)
            if reply_parts is None:
                self.layer.respond(event, None)
            else:
                self.layer.respond(event, *reply_parts)
        out = list(self.layer.outgoing)
        self.layer.outgoing.clear()
        return out

    def dedup_state(self) -> tuple[object, ...]:
        dedup = self.layer.dedup
        return list(dedup.firm.items()), list(dedup.soft.items()), dedup.bytes


class Twins:
    """The two servers, changed and asked alike."""

    def __init__(self, profile: Callable[[], FirmwareProfile] = profiles.docs_profile) -> None:
        self.fast = Endpoint(profile(), fast=True)
        self.slow = Endpoint(profile(), fast=False)

    def add(
        self, uri: str, media_type: int = -1, max_age: int = -1, value: object = 0, etag: bool = False
    ) -> None:
        for side in (self.fast, self.slow):
            resource = side.table.add(uri, media_type, max_age, value, etag)
            assert resource is not None
            resource.methods |= REQUEST_GET | 2 | 4 | 8

    def change(self, uri: str, how: Callable[[Resource], object]) -> None:
        for side in (self.fast, self.slow):
            resource = side.table.get(uri)
            assert resource is not None
            how(resource)

    def remove(self, uri: str) -> None:
        for side in (self.fast, self.slow):
            side.table.remove(uri)

    def send(self, data: bytes, peer: tuple[str, int] = PEER, now: float = 1.0) -> list[tuple[bytes, object]]:
        """Both answer ``data`` with the same bytes and keep the same de-duplication state."""
        out = self.fast.serve(data, peer, now)
        assert out == self.slow.serve(data, peer, now)
        assert self.fast.dedup_state() == self.slow.dedup_state()
        return out


_mids = itertools.count(0x100)


def get(
    path: str, token: bytes = b"\x01\x02", mtype: int = CON, options: tuple[tuple[int, bytes], ...] = ()
) -> bytes:
    uri = [(URI_PATH, segment.encode()) for segment in path.split("/")]
    return encode(Message(mtype, GET, next(_mids) & 0xFFFF, token, sorted([*uri, *options]), b""))


def reply_of(out: list[tuple[bytes, object]]) -> Message:
    assert len(out) == 1
    return decode(out[0][0])


@pytest.mark.parametrize("profile", sorted(profiles.PROFILES))
def test_every_profile_answers_common_gets_with_the_same_bytes_fast(profile: str) -> None:
    twins = Twins(profiles.PROFILES[profile])
    twins.add("plain", value="21.5 C")
    twins.add("full", media_type=50, max_age=60, value=b'{"t": 21}', etag=True)
    twins.add("unset", media_type=-1, max_age=-1, value=300)
    twins.add("zero", media_type=0, max_age=0, value="")
    twins.add("big", media_type=42, max_age=300, value=bytes(1024))
    twins.add("a/b", value="nested")
    paths = ["plain", "full", "unset", "zero", "big", "a/b", "a"]
    for path, token, mtype in itertools.product(paths, (b"", b"\x07", bytes(range(8))), (CON, NON)):
        out = twins.send(get(path, token, mtype))
        response = reply_of(out)
        assert response.token == token and response.mtype == (ACK if mtype == CON else NON)
    # every common GET but those of the unknown path "a" went the fast way
    assert twins.fast.answered_fast == 6 * 3 * 2


def test_uncommon_requests_are_answered_the_ordinary_way_with_the_same_bytes() -> None:
    twins = Twins(profiles.firmware_1_20_2_r6)
    twins.add("r", media_type=0, value="v", etag=True)
    twins.add("large", value=bytes(1300))  # past 1,024 bytes: never cached
    uncommon = [
        get("r", options=((ACCEPT, b"\x00"),)),
        get("r", options=((ACCEPT, b"\x32"),)),  # 4.06 (or the hang quirk's answer)
        get("r", options=((ETAG, b"\x01"),)),  # 2.03
        get("r", options=((URI_QUERY, b"q=1"),)),
        get("r", options=((2049, b"x"),)),  # an unknown critical option: 4.02
        get("large"),
        get("missing"),
        get(".well-known/core"),
        encode(Message(CON, GET, 7, b"t", [(URI_PATH, b"r")], b"payload")),
        encode(Message(CON, PUT, 8, b"t", [(URI_PATH, b"r")], b"new")),
        encode(Message(CON, POST, 9, b"t", [(URI_PATH, b"r")], b"newer")),
        encode(Message(CON, 0, 10)),  # ping: RST
        b"\x42\x01\x00\x0b\x01",  # truncated token: RST
        b"\x40\x01\x00\x0c\xbf",  # option nibble 15: RST
        b"\x40\x01\x00",  # shorter than a header: ignored
        b"\x80\x01\x00\x0d",  # version 2: ignored
        bytes((0x49, 1, 0, 14)) + bytes(9),  # token length 9: RST
    ]
    for data in uncommon:
        twins.send(data)
    assert twins.fast.answered_fast == 0


def test_a_changed_resource_is_answered_with_its_new_state() -> None:
    twins = Twins()
    twins.add("s", media_type=0, max_age=10, value="1", etag=True)
    changes: list[Callable[[Resource], object]] = [
        lambda r: r.set_value("2"),
        lambda r: r.set_value("2"),  # the same bytes: the ETag goes up all the same
        lambda r: setattr(r, "media_type", 50),
        lambda r: setattr(r, "max_age", -1),
        lambda r: setattr(r, "etag_enabled", False),
        lambda r: setattr(r, "value", b"raw"),
    ]
    seen = {reply_of(twins.send(get("s"))).options.__repr__()}
    for change in changes:
        twins.change("s", change)
        response = reply_of(twins.send(get("s")))
        seen.add(repr((response.options, response.payload)))
    assert len(seen) == len(changes) + 1  # each change showed in the next answer
    twins.change("s", lambda r: setattr(r, "methods", r.methods & ~REQUEST_GET))
    assert reply_of(twins.send(get("s"))).code == 0x85  # 4.05: GET turned off
    twins.remove("s")
    assert reply_of(twins.send(get("s"))).code == 0x84  # 4.04
    twins.add("s", value="again")
    assert reply_of(twins.send(get("s"))).payload == b"again"


def test_a_duplicate_gets_the_first_reply_even_after_a_change() -> None:
    twins = Twins()
    twins.add("d", value="before")
    first = get("d")
    out = twins.send(first)
    twins.change("d", lambda r: r.set_value("after"))
    assert twins.send(first) == out  # CON: the cached reply, from the de-duplication cache
    non = get("d", mtype=NON)
    twins.send(non)
    assert twins.send(non) == []  # a duplicate NON is ignored
    assert twins.send(first, OTHER) != out  # another peer's message id is its own
    assert twins.fast.answered_fast == 3


def test_entries_live_as_long_as_the_message_layer_keeps_them() -> None:
    twins = Twins()
    twins.add("e", value="x")
    con, non = get("e"), get("e", mtype=NON)
    twins.send(con, now=0.0)
    twins.send(non, now=0.0)
    assert twins.send(non, now=NON_LIFETIME - 1) == []
    assert twins.send(non, now=NON_LIFETIME + 1) != []  # expired: a new request
    assert twins.send(con, now=EXCHANGE_LIFETIME - 1) != []
    twins.fast.layer.expire(EXCHANGE_LIFETIME + NON_LIFETIME + 2)
    twins.slow.layer.expire(EXCHANGE_LIFETIME + NON_LIFETIME + 2)
    assert twins.fast.dedup_state() == twins.slow.dedup_state() == ([], [], 0)


def test_the_de_duplication_bound_holds_the_same_way() -> None:
    fast, slow = Endpoint(profiles.docs_profile(), True), Endpoint(profiles.docs_profile(), False)
    for side in (fast, slow):
        side.layer.dedup.max_bytes = 64 * 1024
        resource = side.table.add("b", -1, -1, "v" * 100, False)
        assert resource is not None
        resource.methods = REQUEST_GET
    for i in range(2000):
        data = get("b") if i % 7 else encode(Message(CON, POST, next(_mids) & 0xFFFF, b"p", [], b"x"))
        peer = ("127.0.0.9", 40000 + i % 50)
        assert fast.serve(data, peer, i * 0.01) == slow.serve(data, peer, i * 0.01)
    assert fast.dedup_state() == slow.dedup_state()
    assert fast.layer.dedup.bytes <= 64 * 1024 and fast.answered_fast > 1500


def test_many_spellings_of_one_path_keep_memory_bounded() -> None:
    """``/./x``, ``/././x`` ...: one resource, any number of distinct requests; the cache stays small."""
    side = Endpoint(profiles.docs_profile(), True)
    side.layer.dedup.max_bytes = 16 * 1024  # a few dozen entries: what grows here is not de-duplication
    resource = side.table.add("x", -1, -1, "value", False)
    assert resource is not None
    resource.methods = REQUEST_GET

    def spelled(n: int) -> bytes:
        options = [(URI_PATH, b".")] * (n % 40) + [(URI_PATH, b"")] * (n // 40) + [(URI_PATH, b"x")]
        return encode(Message(NON, GET, n & 0xFFFF, b"", options, b""))

    gc.collect()
    tracemalloc.start()
    try:
        for n in range(200):  # warm up: both caches are full
            side.serve(spelled(n), PEER, 0.0)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(200, 4200):
            assert reply_of(side.serve(spelled(n), PEER, 1.0)).payload == b"value"
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown} bytes kept for 4,000 spellings of one path"
    assert side.answered_fast == 4200
