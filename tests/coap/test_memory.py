"""A Coap server's memory stays bounded however many large replies it sends (issue 8).

The in-process server on its own loopback address, a plain UDP client, and ``tracemalloc`` watching
what the process keeps while the server answers: every GET of a 60 KB value used to leave a 60 KB copy
in the de-duplication cache for EXCHANGE_LIFETIME (247 s).
"""

from __future__ import annotations

import gc
import random
import socket
import tracemalloc
from collections.abc import Iterator

import pytest
from conftest import Reader

from network.coap.protocol.codec import Message, decode, encode

CON, ACK = 0, 2
GET, POST, PUT = 1, 2, 3
CONTENT, CHANGED = 69, 68
URI_PATH, ETAG = 11, 4
MIB = 1024 * 1024
BIG = random.Random(8).randbytes(60_000)


class Client:
    def __init__(self, ip: str) -> None:
        self.address = (ip, 5683)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5.0)
        self.mid = random.randrange(0x10000)

    def exchange(self, data: bytes) -> bytes:
        self.sock.sendto(data, self.address)
        while True:
            reply, _ = self.sock.recvfrom(70_000)
            if reply[2:4] == data[2:4]:
                return reply

    def request(self, code: int, payload: bytes = b"", mid: int | None = None) -> bytes:
        if mid is None:
            self.mid = (self.mid + 1) & 0xFFFF
            mid = self.mid
        return encode(Message(CON, code, mid, b"m", [(URI_PATH, b"big")], payload))


@pytest.fixture
def server(coap, ip) -> Iterator[object]:
    coap.init(ip)
    big = coap.add_resource("big", value=b"small at first", etag=True)
    big.callback(coap.REQUEST_GET | coap.REQUEST_PUT | coap.REQUEST_POST, True)
    reader = Reader(coap, timeout_ms=20)
    yield big
    reader.stop()
    assert not reader.errors, reader.errors


def test_gets_of_a_60kb_value_keep_memory_bounded_and_a_duplicate_post_runs_once(server, ip) -> None:
    client = Client(ip)
    try:
        post = client.request(POST, b"posted")
        first = client.exchange(post)
        assert decode(first).options == [(ETAG, b"\x02")]  # 1 at creation, 2 after the POST
        reply = decode(client.exchange(client.request(PUT, BIG)))  # a remote PUT of a 60 KB value
        assert (reply.mtype, reply.code, reply.options) == (ACK, CHANGED, [(ETAG, b"\x03")])

        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(1200):  # 72 MB of replies
                reply = decode(client.exchange(client.request(GET)))
                assert (reply.mtype, reply.code, reply.payload) == (ACK, CONTENT, BIG)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert held < 12 * MIB, f"the server keeps {held / MIB:.1f} MiB more after 1,200 GETs"

        assert client.exchange(post) == first  # the duplicate POST: its cached reply, byte for byte
        assert server.value() == BIG  # not executed again
        assert decode(client.exchange(client.request(GET))).options[0] == (ETAG, b"\x03")
    finally:
        client.sock.close()
