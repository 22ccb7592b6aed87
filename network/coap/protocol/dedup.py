"""RFC 7252 §4.5 de-duplication for one endpoint: the messages it has seen, by (peer, message id), with
the reply a duplicate CON gets again; bounded in memory."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

Peer = Any  # a socket address tuple
Key = tuple[Peer, int]  # (peer, message id)

DEDUP_BYTES = 8 * 1024 * 1024  # what one endpoint's de-duplication cache may hold: entries and replies
DEDUP_ENTRIES = 200_000  # and at most this many entries, whatever a larger DEDUP_BYTES allows
ENTRY_COST = 512  # bytes counted per entry: its Python objects (~440 measured with tracemalloc), rounded up
KEEP_REPLY = 1400  # an idempotent request's reply is kept up to this size (firmware A's whole PDU)


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
        (self.firm if firm else self.soft)[key] = [now + lifetime, reply]
        self.bytes += (ENTRY_COST + len(reply)) if reply else ENTRY_COST
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
            while table and next(iter(table.values()))[0] <= now:
                self.bytes -= _cost(table.popitem(last=False)[1])

    def _fit(self, now: float) -> None:
        """Within the bound again: expired entries go, then the oldest soft ones, then the oldest firm."""
        soft, firm = self.soft, self.firm
        self.expire(now)
        while self.bytes > self.max_bytes or len(firm) + len(soft) > self.max_entries:
            if soft:
                entry = soft.popitem(last=False)[1]
            elif firm:
                entry = firm.popitem(last=False)[1]
                self.forgotten_firm += 1
            else:
                return
            self.bytes -= (ENTRY_COST + len(entry[1])) if entry[1] else ENTRY_COST
