"""The board's clock: sleeps run ``scale`` times faster, and ticks, ``time()`` and timers agree.

Board time = host time scaled since boot: ``elapsed()`` is board seconds since boot, ``sleep(s)``
waits ``s / scale`` host seconds. Tick counters are 32-bit and wrap as on Pycom firmware.
"""

from __future__ import annotations

import threading
import time

TICKS_PERIOD = 1 << 32


class Clock:
    def __init__(self, scale: float = 1.0, epoch_offset: float = 0.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._sleepers = threading.Event()  # set (and replaced) to wake every sleep at once
        self._start = time.monotonic()
        self._epoch_at_boot = time.time() + epoch_offset

    def elapsed(self) -> float:
        """Board seconds since boot."""
        return (time.monotonic() - self._start) * self.scale

    def host_seconds(self, board_seconds: float) -> float:
        return board_seconds / self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._sleepers.wait(seconds / self.scale)

    def wake_sleepers(self) -> None:
        """End every sleep now (a soft reset deletes the threads that sleep: they must get to run)."""
        woken, self._sleepers = self._sleepers, threading.Event()
        woken.set()

    def time(self) -> float:
        """Board wall-clock seconds since 1970."""
        return self._epoch_at_boot + self.elapsed()

    def set_time(self, epoch: float) -> None:
        self._epoch_at_boot = epoch - self.elapsed()

    def offset(self) -> float:
        """Board clock minus host clock, to keep across a reboot (the RTC survives resets)."""
        return self.time() - time.time()

    def ticks(self, per_second: int) -> int:
        return int(self.elapsed() * per_second) % TICKS_PERIOD


def ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) % TICKS_PERIOD


def ticks_diff(end: int, start: int) -> int:
    """``end - start`` as a signed 32-bit value (Pycom: ``int32(end - start)``)."""
    return ((end - start + TICKS_PERIOD // 2) % TICKS_PERIOD) - TICKS_PERIOD // 2
