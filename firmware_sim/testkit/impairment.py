"""A bad network, without I/O: what happens to the datagrams of one direction of a link.

:class:`Impairment` holds the settings; :class:`ImpairedPath` applies them. ``send(now, data)`` decides
a datagram's fate at time ``now`` (any clock, in seconds, as long as it is always the same one), and
``due(now)`` hands back what is to be delivered by then, in release order (ties in send order). No
socket, no thread, no clock: the caller passes the time and the ``random.Random`` that draws every
decision, so a seeded one gives the same fate to the same datagrams every time.

For each datagram, in this order: with ``partition`` it is dropped; else it is lost with probability
``loss``; else it is sent once, or twice with probability ``duplicate``. Each copy is released after
``delay`` plus a uniform 0..``jitter`` draw, and with probability ``reorder`` it is held back a further
``delay + REORDER_HOLD`` seconds, so the datagrams of this direction sent meanwhile overtake it.

Settings can change at any time (``path.impairment = ...``); they apply to datagrams sent afterwards,
except a partition, which also drops everything still queued (a cut cable loses what was in flight).
At most ``MAX_QUEUED`` datagrams (``MAX_QUEUED_BYTES`` bytes) wait; a copy beyond that is dropped.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

REORDER_HOLD = 0.05  # seconds a reordered datagram waits on top of its delay (and the delay again)
MAX_QUEUED = 10_000  # datagrams waiting at most; more are dropped
MAX_QUEUED_BYTES = 64 * 1024 * 1024  # bytes waiting at most; more are dropped

Address = tuple[str, int]

_PROBABILITIES = ("loss", "duplicate", "reorder")
_SECONDS = ("delay", "jitter")


def _number(name: str, value: object, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}, not {value!r}")
    return float(value)


@dataclass
class Impairment:
    """One direction's settings: probabilities 0..1 (``loss``, ``duplicate``, ``reorder``), seconds
    >= 0 (``delay`` added to every datagram, ``jitter`` the most a uniform random extra adds), and
    ``partition`` (drop everything). The default is a perfect link."""

    loss: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    reorder: float = 0.0
    partition: bool = False

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = _number(name, getattr(self, name), "a probability from 0 to 1")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability from 0 to 1, not {value!r}")
            setattr(self, name, value)
        for name in _SECONDS:
            value = _number(name, getattr(self, name), "a finite number of seconds >= 0")
            if value < 0.0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
            setattr(self, name, value)
        if not isinstance(self.partition, bool):
            raise ValueError(f"partition must be True or False, not {self.partition!r}")


class ImpairedPath:
    """One direction of a link under an :class:`Impairment`, deciding with ``rng``.

    Counters: ``sent`` (datagrams given to :meth:`send`), ``duplicated`` (of those, how many got a
    second copy), ``dropped`` (lost, partitioned, flushed by a partition, or over the queue's bound)
    and ``delivered`` (copies :meth:`due` returned). Always ``sent + duplicated == dropped + delivered
    + queued``.

    Each datagram may carry a ``route`` (where the I/O layer sends it; never looked at here), which
    :meth:`due_routed` returns with it.
    """

    def __init__(self, impairment: Impairment | None = None, rng: random.Random | None = None) -> None:
        self._impairment = impairment if impairment is not None else Impairment()
        self._rng = rng if rng is not None else random.Random()
        self._queue: list[tuple[float, int, bytes, Address | None]] = []  # a heap: (release, seq, ...)
        self._seq = 0
        self._queued_bytes = 0
        self.sent = 0
        self.dropped = 0
        self.duplicated = 0
        self.delivered = 0

    @property
    def impairment(self) -> Impairment:
        """The settings; new ones apply to datagrams sent afterwards, a partition also drops the queue."""
        return self._impairment

    @impairment.setter
    def impairment(self, impairment: Impairment) -> None:
        self._impairment = impairment
        if impairment.partition:
            self.dropped += len(self._queue)
            self._queue.clear()
            self._queued_bytes = 0

    @property
    def queued(self) -> int:
        """How many datagrams wait to be released."""
        return len(self._queue)

    def send(self, now: float, data: bytes, route: Address | None = None) -> None:
        """Decide the fate of ``data``, sent at ``now``: dropped, or queued (once or twice) for release."""
        settings = self._impairment
        rng = self._rng
        self.sent += 1
        if settings.partition or (settings.loss and rng.random() < settings.loss):
            self.dropped += 1
            return
        copies = 1
        if settings.duplicate and rng.random() < settings.duplicate:
            copies = 2
            self.duplicated += 1
        for _ in range(copies):
            release = now + settings.delay
            if settings.jitter:
                release += rng.uniform(0.0, settings.jitter)
            if settings.reorder and rng.random() < settings.reorder:
                release += settings.delay + REORDER_HOLD
            self._queue_copy(release, data, route)

    def _queue_copy(self, release: float, data: bytes, route: Address | None) -> None:
        if len(self._queue) >= MAX_QUEUED or self._queued_bytes + len(data) > MAX_QUEUED_BYTES:
            self.dropped += 1
            return
        self._seq += 1
        heapq.heappush(self._queue, (release, self._seq, data, route))
        self._queued_bytes += len(data)

    def due_routed(self, now: float) -> list[tuple[bytes, Address | None]]:
        """The datagrams (with their routes) whose release time is ``now`` or earlier, in release order."""
        out: list[tuple[bytes, Address | None]] = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            _, _, data, route = heapq.heappop(queue)
            self._queued_bytes -= len(data)
            out.append((data, route))
        self.delivered += len(out)
        return out

    def due(self, now: float) -> list[bytes]:
        """The datagrams whose release time is ``now`` or earlier, in release order."""
        return [data for data, _ in self.due_routed(now)]

    def next_due(self) -> float | None:
        """When the next datagram is released (on the caller's clock), or None if none waits."""
        return self._queue[0][0] if self._queue else None

    def counters(self) -> dict[str, int]:
        """``sent``, ``dropped``, ``duplicated``, ``delivered`` and ``queued``."""
        return {
            "sent": self.sent,
            "dropped": self.dropped,
            "duplicated": self.duplicated,
            "delivered": self.delivered,
            "queued": self.queued,
        }
