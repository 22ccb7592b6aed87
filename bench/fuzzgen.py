"""Fuzzed CoAP datagrams: a corpus of well-formed messages of every kind and a reproducible mutator.

Used by ``bench/fuzz_server.py`` (long runs against a server process) and by ``tests/coap/test_fuzz.py``
(a few seconds in the suite). No I/O and no side effects on import.
"""

from __future__ import annotations

import random
from collections import deque

from network.coap.protocol.codec import Message, encode

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
URI_PATH, URI_QUERY = 11, 15


MAX_DATAGRAM = 65507  # the largest UDP payload over IPv4


def uri_path(path: str) -> list[tuple[int, bytes]]:
    return [(URI_PATH, seg.encode()) for seg in path.split("/")]


def corpus() -> list[bytes]:
    """Well-formed messages of every kind the server may meet: the fuzzer's starting points."""
    paths = ["sensor", "json", "big", "a/b/c", "victim0", "victim1", "off", "alive", "nothing/here"]
    extras: list[list[tuple[int, bytes]]] = [
        [],
        [(17, b"")],  # Accept text/plain
        [(17, b"\x32")],  # Accept JSON
        [(4, b"\x01")],  # ETag
        [(5, b"")],  # If-None-Match
        [(6, b"")],  # Observe register
        [(23, b"\x02")],  # Block2
        [(3, b"127.0.0.1"), (7, b"\x16\x33")],  # Uri-Host, Uri-Port
        [(35, b"coap://127.0.0.1/x")],  # Proxy-Uri
        [(9, b"x")],  # unknown critical
        [(10000, b"elective")],
        [(258, b"\x1a")],  # No-Response
        [(60, b"\x00\x10")],  # Size1
    ]
    out = []
    for i, path in enumerate(paths):
        for j, extra in enumerate(extras):
            opts = sorted(uri_path(path) + extra, key=lambda o: o[0])
            token = bytes(range((i + j) % 9))
            out.append(encode(Message(CON if j % 3 else NON, GET, 0, token, opts)))
    for query in ("rt=temp*", "ct=0", "href=/s*", "if=x", "title=a sensor", "rt", "ct=40", "rel=*"):
        opts = [(URI_PATH, b".well-known"), (URI_PATH, b"core"), (URI_QUERY, query.encode())]
        out.append(encode(Message(CON, GET, 0, b"wk", opts)))
    out.append(encode(Message(CON, GET, 0, b"", [(URI_PATH, b".well-known"), (URI_PATH, b"core")])))
    for code in (PUT, POST):
        for path in ("sensor", "json", "big", "off", "nothing"):
            for opts, payload in (
                ([(12, b"")], b"22 C"),
                ([(12, b"\x32")], b'{"b": 2}'),
                ([(1, b"\x01"), (12, b"")], b"23 C"),
                ([(1, b"")], b"x"),
                ([(5, b"")], b"new"),
                ([(12, b"\xff\xff")], bytes(range(256)) * 8),
                ([], b""),
            ):
                full = sorted(uri_path(path) + opts, key=lambda o: o[0])
                out.append(encode(Message(CON, code, 0, b"pp", full, payload)))
    for path in ("victim0", "victim1", "victim2", "victim3", "sensor", "nothing"):
        out.append(encode(Message(CON, DELETE, 0, b"d", uri_path(path))))
    for code in (5, 6, 7, 8, 31):
        out.append(encode(Message(CON, code, 0, b"m", uri_path("sensor"), b"p")))
    out += [
        encode(Message(ACK, 69, 0, b"r", [], b"stray")),
        encode(Message(CON, 69, 0, b"r", [(12, b"")], b"unsolicited")),
        encode(Message(NON, 132, 0, b"r", [], b"Not Found")),
        encode(Message(CON, 0x20, 0, b"", uri_path("sensor"))),  # reserved class 1
        encode(Message(CON, 0xC1, 0, b"", [])),  # reserved class 6
        bytes((0x40, 0, 0, 0)),  # ping
        bytes((0x60, 0, 0, 0)),  # empty ACK
        bytes((0x70, 0, 0, 0)),  # RST
        bytes((0x50, 0, 0, 0)),  # empty NON
    ]
    return out


class Mutator:
    """An endless, reproducible stream of fuzzed datagrams (``random.Random(seed)``)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.corpus = corpus()
        self.recent: deque[bytes] = deque(maxlen=64)
        self._ops = (
            self._flip,
            self._set,
            self._insert,
            self._delete,
            self._cut,
            self._dup,
            self._header,
            self._code,
            self._nibble,
            self._marker,
            self._splice,
        )

    def datagram(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.03:
            data = rng.randbytes(rng.randrange(0, 80))
        elif r < 0.05 and self.recent:
            data = rng.choice(self.recent)  # an exact duplicate: de-duplication at work
        elif r < 0.055:
            base = rng.choice(self.corpus)
            size = rng.randrange(1000, 65000)
            data = base + (b"\xff" if b"\xff" not in base[4:] else b"") + rng.randbytes(size)
        else:
            msg = bytearray(rng.choice(self.corpus))
            msg[2:4] = rng.randbytes(2)  # a fresh message id: mostly new exchanges
            for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3, 4))):
                rng.choice(self._ops)(msg)
            data = bytes(msg)
        data = data[:MAX_DATAGRAM]  # mutations of a large one may grow past what UDP carries
        self.recent.append(data)
        return data

    # -- mutations, each on a bytearray in place -----------------------------------------------------

    def _flip(self, m: bytearray) -> None:
        if m:
            m[self.rng.randrange(len(m))] ^= 1 << self.rng.randrange(8)

    def _set(self, m: bytearray) -> None:
        if m:
            m[self.rng.randrange(len(m))] = self.rng.choice(
                (0, 0xFF, 0x0D, 0xE0, 0xD0, self.rng.randrange(256))
            )

    def _insert(self, m: bytearray) -> None:
        at = self.rng.randrange(len(m) + 1)
        m[at:at] = self.rng.randbytes(self.rng.randrange(1, 9))

    def _delete(self, m: bytearray) -> None:
        if len(m) > 1:
            at = self.rng.randrange(len(m))
            del m[at : at + self.rng.randrange(1, 9)]

    def _cut(self, m: bytearray) -> None:
        del m[self.rng.randrange(len(m) + 1) :]

    def _dup(self, m: bytearray) -> None:
        if m:
            at = self.rng.randrange(len(m))
            m[at:at] = m[at : at + self.rng.randrange(1, 16)]

    def _header(self, m: bytearray) -> None:
        if m:
            version = 1 if self.rng.random() < 0.9 else self.rng.randrange(4)
            m[0] = version << 6 | self.rng.randrange(64)  # type and token length, any of them

    def _code(self, m: bytearray) -> None:
        if len(m) > 1:
            m[1] = self.rng.choice(
                (0, 1, 2, 3, 4, 5, 31, 32, 69, 132, 160, 192, 224, self.rng.randrange(256))
            )

    def _nibble(self, m: bytearray) -> None:
        """Rewrite an option header's delta or length nibble (13, 14, 15: extended or reserved)."""
        if len(m) > 4:
            at = 4 + (m[0] & 0x0F)
            if at < len(m):
                nib = self.rng.choice((13, 14, 15, self.rng.randrange(16)))
                m[at] = (m[at] & 0x0F | nib << 4) if self.rng.random() < 0.5 else (m[at] & 0xF0 | nib)

    def _marker(self, m: bytearray) -> None:
        at = self.rng.randrange(len(m) + 1)
        m[at:at] = b"\xff"

    def _splice(self, m: bytearray) -> None:
        other = self.rng.choice(self.corpus)
        m[self.rng.randrange(len(m) + 1) :] = other[self.rng.randrange(len(other) + 1) :]
