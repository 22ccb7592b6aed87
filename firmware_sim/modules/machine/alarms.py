"""The firmware's alarm heap (``machtimer_alarm.c``): up to 16 active ``Timer.Alarm`` on one hardware
timer, here one thread on the board's scaled clock that queues each due alarm's handler in the IRQs
thread."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...runtime import pins

if TYPE_CHECKING:
    from ...runtime.board import Board
    from .irq import Interrupts

MAX_ALARMS = 16  # machtimer_alarm.c ALARM_HEAP_MAX_ELEMENTS


@dataclass
class _Armed:
    generation: int  # of its live heap entry: older entries are stale
    interval: float  # board seconds
    periodic: bool
    handler: Callable[[Any], Any]
    arg: Any


class Alarms:
    """The active alarms of one board session; none fires once ``asleep`` is set."""

    def __init__(self, board: Board, asleep: threading.Event, irq: Interrupts) -> None:
        self._board = board
        self._asleep = asleep
        self._irq = irq
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Hashable]] = []
        self._active: dict[Hashable, _Armed] = {}
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(
        self, key: Hashable, interval: float, periodic: bool, handler: Callable[[Any], Any], arg: Any
    ) -> None:
        """(Re)start alarm ``key``: ``handler(arg)`` after ``interval`` board seconds (then every
        ``interval`` if ``periodic``); MemoryError when 16 others are active."""
        with self._cond:
            self._active.pop(key, None)
            if len(self._active) >= MAX_ALARMS:
                raise MemoryError(f"maximum number of {MAX_ALARMS} alarms already reached")
            armed = _Armed(0, interval, periodic, handler, arg)
            self._push(key, armed, time.monotonic() + interval / self._board.clock.scale)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alarms", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, key: Hashable) -> None:
        """Alarm ``key`` no longer fires (until armed again)."""
        with self._cond:
            self._active.pop(key, None)
            self._cond.notify()

    def wake(self) -> None:
        """Let the thread look again (it ends if the board sleeps or the session is over)."""
        with self._cond:
            self._cond.notify()

    def _push(self, key: Hashable, armed: _Armed, when: float) -> None:
        armed.generation = next(self._seq)
        self._active[key] = armed
        heapq.heappush(self._heap, (when, armed.generation, key))

    def _live(self, entry: tuple[float, int, Hashable]) -> bool:
        armed = self._active.get(entry[2])
        return armed is not None and armed.generation == entry[1]

    def _run(self) -> None:
        scale = self._board.clock.scale
        while True:
            with self._cond:
                while self._heap and not self._live(self._heap[0]):
                    heapq.heappop(self._heap)  # cancelled or re-armed since
                if not self._heap or self._asleep.is_set() or not pins.is_running(self._board):
                    self._thread = None
                    return
                when, _, key = self._heap[0]
                now = time.monotonic()
                if when > now:
                    self._cond.wait(when - now)
                    continue
                heapq.heappop(self._heap)
                armed = self._active[key]
                if armed.periodic:
                    step = armed.interval / scale
                    later = when + step
                    self._push(key, armed, later if later > now - step else now + step)
                else:
                    del self._active[key]
            self._irq.put(armed.handler, armed.arg)
