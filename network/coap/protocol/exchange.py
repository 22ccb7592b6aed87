"""RFC 7252 message layer for one local endpoint, without I/O.

Feed it datagrams with :meth:`MessageLayer.receive` and a clock value; it answers what the RFC's
message layer answers by itself (RST to pings and to malformed CONs, the cached reply to a duplicate,
ACKs for CON responses) and hands new requests and matched responses to the caller. Datagrams to send
accumulate in :attr:`MessageLayer.outgoing` as ``(bytes, peer)``. Nothing here raises for anything a
peer sends.

Server side: de-duplication by (peer, message id) over EXCHANGE_LIFETIME (CON) / NON_LIFETIME (NON),
bounded in memory (:class:`DedupCache`). Client side: CON retransmission with exponential back-off
(ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4), at most NSTART (1) unacknowledged CONs per
server (§4.7: later ones wait their turn), piggy-backed and separate responses matched by message id
and token. With ``retransmit=False`` (libcoap 4.1 as firmware 1.20.1-1.20.2 use it) a CON is sent
once, at once (no NSTART), and only remembered for matching its response over EXCHANGE_LIFETIME.
"""

from __future__ import annotations

import heapq
import random
import sys
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from .codec import IgnoredVersion, Message, ParseError, decode, encode
from .numbers import (
    ACK_RANDOM_FACTOR,
    ACK_TIMEOUT,
    EXCHANGE_LIFETIME,
    MAX_RETRANSMIT,
    NON_LIFETIME,
    NSTART,
)

Peer = Any  # a socket address tuple
Key = tuple[Peer, int]  # (peer, message id)
CON, NON, ACK, RST = 0, 1, 2, 3

DEDUP_BYTES = 8 * 1024 * 1024  # what one endpoint's de-duplication cache may hold: entries and replies
DEDUP_ENTRIES = 200_000  # and at most this many entries, whatever a larger DEDUP_BYTES allows
ENTRY_COST = 512  # bytes counted per entry: its Python objects (~440 measured with tracemalloc), rounded up
KEEP_REPLY = 1400  # an idempotent request's reply is kept up to this size (firmware A's whole PDU)
IDEMPOTENT = frozenset((1, 3, 4))  # GET, PUT, DELETE (RFC 7252 §5.1); every other code is not


@dataclass(slots=True)
class RequestReceived:
    """A new (not duplicate) request. Answer it with :meth:`MessageLayer.respond`."""

    message: Message
    peer: Peer


@dataclass(slots=True)
class ResponseReceived:
    """A response that matches a request this endpoint sent (piggy-backed or separate)."""

    message: Message
    peer: Peer


@dataclass(slots=True)
class _Pending:
    data: bytes
    peer: Peer
    token: bytes
    timeout: float
    deadline: float
    retransmissions: int = 0


def _rst(mid: int) -> bytes:
    return bytes((0x70, 0, mid >> 8, mid & 0xFF))


def _empty_ack(mid: int) -> bytes:
    return bytes((0x60, 0, mid >> 8, mid & 0xFF))


def _cost(entry: list[Any]) -> int:
    """What a de-duplication entry ``[expiry, reply or None]`` counts against the bound."""
    return ENTRY_COST + len(entry[1] or b"")


class DedupCache:
    """The messages one endpoint has seen, by (peer, message id), with the reply a duplicate CON gets.

    Bounded by ``max_bytes`` (each entry counts ENTRY_COST plus its reply) and ``max_entries``. *Firm*
    entries are requests that are not idempotent (any code but GET, PUT, DELETE) and responses handed
    to the application: never processed twice, their reply is kept whatever its size. *Soft* entries
    are idempotent requests (RFC 7252 §4.5 lets a server execute a duplicate again) and rejected
    responses: a reply over KEEP_REPLY bytes is not kept, the entry goes and a duplicate is new. Over
    the bound, expired entries go first, then the oldest soft ones, and only then the oldest firm ones
    (counted in ``forgotten_firm``; with the defaults it takes over 16,000 non-idempotent exchanges
    within one EXCHANGE_LIFETIME, 65 a second sustained).
    """

    __slots__ = ("firm", "soft", "bytes", "max_bytes", "max_entries", "forgotten_firm", "_now")

    def __init__(self, max_bytes: int = DEDUP_BYTES, max_entries: int = DEDUP_ENTRIES) -> None:
        # (peer, mid) -> [expiry, reply or None], oldest first. Not dicts: a dict whose first entries
        # were deleted makes every iteration skip their dummy slots, so each request cost O(capacity).
        self.firm: OrderedDict[Key, list[Any]] = OrderedDict()
        self.soft: OrderedDict[Key, list[Any]] = OrderedDict()
        self.bytes = self.forgotten_firm = 0
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._now = 0.0

    def __len__(self) -> int:
        return len(self.firm) + len(self.soft)

    def find(self, key: Key, now: float) -> list[Any] | None:
        """The live entry of ``key``, or None; an expired one is forgotten."""
        entry = self.firm.get(key) or self.soft.get(key)
        if entry is None or entry[0] > now:
            return entry
        del (self.firm if key in self.firm else self.soft)[key]
        self.bytes -= _cost(entry)
        return None

    def add(self, key: Key, now: float, lifetime: float, firm: bool, reply: bytes | None) -> None:
        """Remember ``key`` (not in the cache: :meth:`find` said so) until ``now + lifetime``."""
        entry = [now + lifetime, reply]
        (self.firm if firm else self.soft)[key] = entry
        self.bytes += _cost(entry)
        self._now = now
        if self.bytes > self.max_bytes or len(self.firm) + len(self.soft) > self.max_entries:
            self._fit(now)

    def keep_reply(self, key: Key, reply: bytes) -> None:
        """Keep ``reply`` for duplicates of ``key`` (a soft entry with a larger one than KEEP_REPLY goes)."""
        entry = self.firm.get(key)
        if entry is None:
            entry = self.soft.get(key)
            if entry is None:
                return
            if len(reply) > KEEP_REPLY:
                del self.soft[key]
                self.bytes -= _cost(entry)
                return
        self.bytes += len(reply) - len(entry[1] or b"")
        entry[1] = reply
        if self.bytes > self.max_bytes:
            self._fit(self._now)

    def expire(self, now: float) -> None:
        """Forget the entries whose lifetime has passed, from the old end of each kind."""
        for table in (self.soft, self.firm):
            dead = []
            for key, entry in table.items():
                if entry[0] > now:
                    break
                dead.append(key)
            for key in dead:
                self.bytes -= _cost(table.pop(key))

    def _fit(self, now: float) -> None:
        """Within the bound again: expired entries go, then the oldest soft ones, then the oldest firm."""
        self.expire(now)
        while self.bytes > self.max_bytes or len(self.firm) + len(self.soft) > self.max_entries:
            if self.soft:
                _, entry = self.soft.popitem(last=False)
            elif self.firm:
                _, entry = self.firm.popitem(last=False)
                self.forgotten_firm += 1
            else:
                return
            self.bytes -= _cost(entry)


class MessageLayer:
    """Message-layer state of one socket: de-duplication, retransmission and response matching.

    ``dedup_bytes`` and ``dedup_capacity`` bound :attr:`dedup`, the de-duplication cache."""

    def __init__(
        self,
        rng: random.Random | None = None,
        *,
        dedup_bytes: int = DEDUP_BYTES,
        dedup_capacity: int = DEDUP_ENTRIES,
        retransmit: bool = True,
    ) -> None:
        self._rng = rng or random.Random()
        self._retransmit = retransmit
        self._nstart = NSTART if retransmit else sys.maxsize
        self._max_retransmit = MAX_RETRANSMIT if retransmit else 0
        self._mid = self._rng.randrange(0x10000)
        self.outgoing: list[tuple[bytes, Peer]] = []
        self.dedup = DedupCache(dedup_bytes, dedup_capacity)
        self._pending: dict[Key, _Pending] = {}
        self._timers: list[tuple[float, int, Key]] = []
        # (peer, token) -> expiry: requests ACKed empty, waiting for their separate response.
        self._awaiting: dict[tuple[Peer, bytes], float] = {}
        # NSTART: unacknowledged CONs per server, and the CONs waiting for their turn.
        self._active: dict[Peer, int] = {}
        self._queued: dict[Peer, deque[tuple[bytes, int, bytes]]] = {}
        self.retransmissions = 0
        self.gave_up = 0

    # -- sending ---------------------------------------------------------------------------------

    def next_mid(self) -> int:
        """A fresh message id: random start, then +1 per message (mod 2**16)."""
        self._mid = (self._mid + 1) & 0xFFFF
        return self._mid

    def send(self, msg: Message, peer: Peer, now: float) -> bytes:
        """Queue ``msg``; a CON is retransmitted by :meth:`poll` until ACKed, RST or given up, and
        waits its turn while NSTART CONs to the same server are unacknowledged."""
        data = encode(msg)
        if msg.mtype != CON:
            self.outgoing.append((data, peer))
        elif self._active.get(peer, 0) >= self._nstart:
            self._queued.setdefault(peer, deque()).append((data, msg.mid, msg.token))
        else:
            self._start(data, msg.mid, msg.token, peer, now)
        return data

    def _start(self, data: bytes, mid: int, token: bytes, peer: Peer, now: float) -> None:
        self.outgoing.append((data, peer))
        if self._retransmit:
            timeout = self._rng.uniform(ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR)
        else:
            timeout = EXCHANGE_LIFETIME  # never sent again; the response still matches until then
        key = (peer, mid)
        self._pending[key] = _Pending(data, peer, token, timeout, now + timeout)
        self._active[peer] = self._active.get(peer, 0) + 1
        heapq.heappush(self._timers, (now + timeout, mid, key))

    def _finish(self, peer: Peer, now: float) -> None:
        """A CON to ``peer`` is no longer outstanding: start the next one waiting, if any."""
        left = self._active.get(peer, 1) - 1
        if left > 0:
            self._active[peer] = left
        else:
            self._active.pop(peer, None)
        queue = self._queued.get(peer)
        if queue:
            data, mid, token = queue.popleft()
            if not queue:
                del self._queued[peer]
            self._start(data, mid, token, peer, now)

    def respond(
        self,
        request: RequestReceived,
        code: int | None,
        options: list[tuple[int, bytes]] | None = None,
        payload: bytes = b"",
    ) -> None:
        """Answer ``request``: piggy-backed ACK for CON, NON for NON (same message id, as libcoap).

        ``code=None`` sends nothing (allowed for NON requests and multicast). The reply to a CON is
        cached, so a duplicate of the request gets the same bytes again, except a large reply to an
        idempotent request: that duplicate is a new request (see :class:`DedupCache`).
        """
        req = request.message
        if code is None:
            if req.mtype == CON:  # a CON must be acknowledged all the same
                data = _empty_ack(req.mid)
                self.outgoing.append((data, request.peer))
                self.dedup.keep_reply((request.peer, req.mid), data)
            return
        mtype = ACK if req.mtype == CON else NON
        data = encode(Message(mtype, code, req.mid, req.token, options or [], payload))
        self.outgoing.append((data, request.peer))
        if mtype == ACK:  # a duplicate NON is ignored: its reply is never sent again
            self.dedup.keep_reply((request.peer, req.mid), data)

    # -- receiving -------------------------------------------------------------------------------

    def receive(self, data: bytes, peer: Peer, now: float) -> RequestReceived | ResponseReceived | None:
        """Process one datagram; return the event for the application, if any."""
        try:
            msg = decode(data)
        except IgnoredVersion:
            return None
        except ParseError as err:
            if err.mtype == CON and err.mid is not None:
                self.outgoing.append((_rst(err.mid), peer))  # §4.2: reject a malformed CON
            return None
        mtype = msg.mtype
        code = msg.code
        if mtype in (ACK, RST):
            return self._on_ack_or_rst(msg, peer, now)
        if code == 0:
            if mtype == CON:  # ping (§4.3): RST
                self.outgoing.append((_rst(msg.mid), peer))
            return None  # an empty NON is a format error: ignored
        klass = code >> 5
        if klass == 0:
            return self._on_request(msg, peer, now)
        if 2 <= klass <= 5:
            return self._on_response(msg, peer, now)
        # reserved classes 1, 6, 7: message format error
        if mtype == CON:
            self.outgoing.append((_rst(msg.mid), peer))
        return None

    def _duplicate(self, key: Key, msg: Message, now: float) -> bool:
        """True for a message seen within its lifetime; a duplicate CON gets the cached reply again."""
        entry = self.dedup.find(key, now)
        if entry is None:
            return False
        if msg.mtype == CON and entry[1] is not None:
            self.outgoing.append((entry[1], key[0]))
        return True

    def _on_request(self, msg: Message, peer: Peer, now: float) -> RequestReceived | None:
        key = (peer, msg.mid)
        if self._duplicate(key, msg, now):
            return None
        lifetime = EXCHANGE_LIFETIME if msg.mtype == CON else NON_LIFETIME
        self.dedup.add(key, now, lifetime, msg.code not in IDEMPOTENT, None)
        return RequestReceived(msg, peer)

    def _on_ack_or_rst(self, msg: Message, peer: Peer, now: float) -> ResponseReceived | None:
        if msg.code and (msg.mtype == RST or not 64 <= msg.code < 192):
            return None  # an RST with content or an ACK carrying a request: format errors, ignored
        pending = self._pending.pop((peer, msg.mid), None)
        if pending is None:
            return None  # duplicate or stray ACK/RST
        self._finish(peer, now)
        if msg.mtype == RST or msg.code == 0:
            if msg.mtype == ACK:  # empty ACK: a separate response will follow
                self._awaiting[(peer, pending.token)] = now + EXCHANGE_LIFETIME
            return None
        if msg.code >> 5 in (2, 3, 4, 5):
            return ResponseReceived(msg, peer)
        return None

    def _on_response(self, msg: Message, peer: Peer, now: float) -> ResponseReceived | None:
        key = (peer, msg.mid)
        if self._duplicate(key, msg, now):
            return None
        matched = self._match_token(peer, msg.token, now)
        lifetime = EXCHANGE_LIFETIME if msg.mtype == CON else NON_LIFETIME
        reply = None
        if msg.mtype == CON:
            reply = _empty_ack(msg.mid) if matched else _rst(msg.mid)
            self.outgoing.append((reply, peer))
        # a delivered response must not reach the application twice; a rejected one may be rejected again
        self.dedup.add(key, now, lifetime, matched, reply)
        return ResponseReceived(msg, peer) if matched else None

    def _match_token(self, peer: Peer, token: bytes, now: float) -> bool:
        expiry = self._awaiting.pop((peer, token), None)
        if expiry is not None and expiry > now:
            return True
        # A separate response may overtake the ACK it implies (§5.2.2): it matches a pending CON too.
        for key, pending in self._pending.items():
            if pending.peer == peer and pending.token == token:
                del self._pending[key]
                self._finish(peer, now)
                return True
        return False

    # -- timers ----------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def poll(self, now: float) -> int:
        """Queue every retransmission that is due; give up after MAX_RETRANSMIT. Returns how many."""
        sent = 0
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, key = heapq.heappop(timers)
            pending = self._pending.get(key)
            if pending is None or pending.deadline > now:
                continue
            if pending.retransmissions >= self._max_retransmit:
                del self._pending[key]
                self.gave_up += 1
                self._finish(pending.peer, now)
                continue
            pending.retransmissions += 1
            pending.timeout *= 2
            pending.deadline = now + pending.timeout
            self.outgoing.append((pending.data, pending.peer))
            heapq.heappush(timers, (pending.deadline, key[1], key))
            sent += 1
        self.retransmissions += sent
        if self.dedup.bytes or self._awaiting:
            self.expire(now)
        return sent

    def expire(self, now: float) -> None:
        """Forget de-duplication and separate-response entries whose lifetime has passed."""
        self.dedup.expire(now)
        if self._awaiting:
            for waiting in [k for k, exp in self._awaiting.items() if exp <= now]:
                del self._awaiting[waiting]

    def pending_count(self) -> int:
        """CONs sent and not yet acknowledged, plus those waiting for their turn (NSTART)."""
        return len(self._pending) + sum(len(q) for q in self._queued.values())
