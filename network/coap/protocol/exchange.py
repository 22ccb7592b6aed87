"""RFC 7252 message layer for one local endpoint, without I/O.

Feed it datagrams with :meth:`MessageLayer.receive` and a clock value; it answers what the RFC's
message layer answers by itself (RST to pings and to malformed CONs, the cached reply to a duplicate,
ACKs for CON responses) and hands new requests and matched responses to the caller. Datagrams to send
accumulate in :attr:`MessageLayer.outgoing` as ``(bytes, peer)``. Nothing here raises for anything a
peer sends.

Server side: de-duplication by (peer, message id) over EXCHANGE_LIFETIME (CON) / NON_LIFETIME (NON),
bounded in memory (:class:`.dedup.DedupCache`). Client side: CON retransmission with exponential
back-off (ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4), at most NSTART (1) unacknowledged
CONs per server (§4.7: later ones wait their turn), piggy-backed and separate responses matched by
message id and token. A CON that ends without a response (given up, or answered RST) is reported in
:attr:`MessageLayer.failures`; :meth:`MessageLayer.cancel` abandons one; a token in
:attr:`MessageLayer.listening` keeps matching responses after its exchange (Observe notifications).
With ``retransmit=False`` (libcoap 4.1 as firmware 1.20.1-1.20.2 use it) a CON is sent once, at once
(no NSTART), and only remembered for matching its response over EXCHANGE_LIFETIME.
"""

from __future__ import annotations

import heapq
import random
import sys
from collections import deque
from dataclasses import dataclass

from .codec import IgnoredVersion, Message, ParseError, decode, encode
from .dedup import DEDUP_BYTES, DEDUP_ENTRIES, DedupCache, Key, Peer
from .numbers import (
    ACK_RANDOM_FACTOR,
    ACK_TIMEOUT,
    EXCHANGE_LIFETIME,
    MAX_RETRANSMIT,
    NON_LIFETIME,
    NSTART,
)

CON, NON, ACK, RST = 0, 1, 2, 3

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
class ExchangeFailed:
    """A CON request that ended without a response: ``reason`` is ``"timeout"`` (MAX_RETRANSMIT
    retransmissions unanswered) or ``"reset"`` (the peer answered RST)."""

    peer: Peer
    token: bytes
    mid: int
    reason: str


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


class MessageLayer:
    """Message-layer state of one socket: de-duplication, retransmission and response matching.

    ``dedup_bytes`` and ``dedup_capacity`` bound :attr:`dedup`, the de-duplication cache;
    ``report_failures`` fills :attr:`failures` (a client that drains it)."""

    def __init__(
        self,
        rng: random.Random | None = None,
        *,
        dedup_bytes: int = DEDUP_BYTES,
        dedup_capacity: int = DEDUP_ENTRIES,
        retransmit: bool = True,
        report_failures: bool = False,
    ) -> None:
        self._rng = rng or random.Random()
        self._report = report_failures
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
        # with report_failures: CONs that ended without a response (the caller drains the list)
        self.failures: list[ExchangeFailed] = []
        # (peer, token) a client still expects responses for after the exchange (Observe notifications)
        self.listening: set[tuple[Peer, bytes]] = set()

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
        if msg.mtype == RST:
            if self._report:
                self.failures.append(ExchangeFailed(peer, pending.token, msg.mid, "reset"))
            return None
        if msg.code == 0:
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
        if (peer, token) in self.listening:
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
                if self._report:
                    self.failures.append(ExchangeFailed(pending.peer, pending.token, key[1], "timeout"))
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

    def cancel(self, peer: Peer, token: bytes, now: float) -> None:
        """Stop retransmitting the CON(s) with ``token`` to ``peer`` (sent or waiting their turn) and stop
        expecting responses for it; a response that still comes is rejected (RST for a CON)."""
        for key in [k for k, p in self._pending.items() if p.peer == peer and p.token == token]:
            del self._pending[key]
            self._finish(peer, now)
        queue = self._queued.get(peer)
        if queue:
            kept = deque(entry for entry in queue if entry[2] != token)
            if kept:
                self._queued[peer] = kept
            else:
                del self._queued[peer]
        self._awaiting.pop((peer, token), None)
        self.listening.discard((peer, token))

    def pending_count(self) -> int:
        """CONs sent and not yet acknowledged, plus those waiting for their turn (NSTART)."""
        return len(self._pending) + sum(len(q) for q in self._queued.values())
