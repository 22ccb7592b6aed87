"""The server's common request, answered from bytes: a GET with only Uri-Path options (what most peers
send a board), without decoding it into a message or encoding the reply.

:meth:`FastPath.answer` takes one datagram. When it is a CON or NON GET of that shape, not a duplicate,
for a resource whose reply :meth:`~.firmware.resources.ResourceTable.cached_get` holds, it returns the
reply (the cached body behind the request's own message id and token) and leaves the de-duplication
cache as :meth:`~.protocol.exchange.MessageLayer.receive` and ``respond`` would have left it: a soft
entry, with the reply for a CON. Anything else (other shapes, duplicates, resources it cannot cache)
returns None having changed nothing that matters, and goes the ordinary way. The bytes on the wire are
the same either way; only the work differs. Sans-I/O: the engine sends what it returns.
"""

from __future__ import annotations

from .firmware.resources import ResourceTable
from .protocol.dedup import KEEP_REPLY, DedupCache, Peer
from .protocol.numbers import EXCHANGE_LIFETIME, NON_LIFETIME

_CON_GET_ACK = 0x60  # the reply to a CON: ACK (type 2), version 1; the token length is or'ed in
_NON_GET_NON = 0x50  # the reply to a NON: NON (type 1), version 1
_CONTENT = 0x45  # 2.05
_GET = 1


class FastPath:
    """Answers common GETs for one endpoint's de-duplication cache from one resource table."""

    __slots__ = ("dedup", "table", "_cached_get")

    def __init__(self, dedup: DedupCache, table: ResourceTable) -> None:
        self.dedup = dedup
        self.table = table
        self._cached_get = table.cached_get

    def answer(self, data: bytes, peer: Peer, now: float) -> bytes | None:
        """The reply to send for ``data`` from ``peer``, or None: hand ``data`` to the message layer."""
        if len(data) < 4 or data[1] != _GET:
            return None
        head = data[0]
        tkl = head & 0x0F
        if head & 0xE0 != 0x40 or tkl > 8:  # version 1, CON or NON, a valid token length
            return None
        start = 4 + tkl
        if len(data) < start:
            return None
        key = (peer, (data[2] << 8) | data[3])
        dedup = self.dedup
        if dedup.find(key, now) is not None:
            return None  # a duplicate: the message layer answers it (again) from the cache
        body = self._cached_get(data[start:])
        if body is None:
            return None
        if head & 0x10:  # NON: a NON reply with the same message id; a duplicate is ignored
            dedup.add(key, now, NON_LIFETIME, False, None)
            return bytes((_NON_GET_NON | tkl, _CONTENT)) + data[2:start] + body
        reply = bytes((_CON_GET_ACK | tkl, _CONTENT)) + data[2:start] + body
        if len(reply) > KEEP_REPLY:
            return None  # not kept for a duplicate: the message layer's way (never with cached bodies)
        dedup.add(key, now, EXCHANGE_LIFETIME, False, reply)
        return reply
