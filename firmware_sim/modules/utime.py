"""``utime`` / ``time`` on the board: the board's (possibly scaled) clock, 32-bit ticks (Pycom)."""

from __future__ import annotations

import time as _host_time

from ..runtime import current
from ..runtime.clock import ticks_add, ticks_diff  # noqa: F401  (board API)

# the board's names: all a script sees
__all__ = [
    "sleep", "sleep_ms", "sleep_us", "ticks_ms", "ticks_us", "ticks_cpu", "ticks_add", "ticks_diff", "time",
    "timezone", "gmtime", "localtime", "mktime",
]  # fmt: skip


def sleep(seconds: float) -> None:
    current().clock.sleep(seconds)


def sleep_ms(ms: int) -> None:
    current().clock.sleep(ms / 1000)


def sleep_us(us: int) -> None:
    current().clock.sleep(us / 1_000_000)


def ticks_ms() -> int:
    return current().clock.ticks(1000)


def ticks_us() -> int:
    return current().clock.ticks(1_000_000)


def ticks_cpu() -> int:
    return current().clock.ticks(1_000_000)


def time() -> int:
    """Seconds since 1970 on the board's RTC."""
    return int(current().clock.time())


def _tuple(t: _host_time.struct_time) -> tuple:
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday, t.tm_yday)


_offset = 0  # timezone offset in seconds


def timezone(offset: int | None = None) -> int | None:
    global _offset
    if offset is None:
        return _offset
    _offset = int(offset)
    return None


def gmtime(secs: float | None = None) -> tuple:
    return _tuple(_host_time.gmtime(time() if secs is None else secs))


def localtime(secs: float | None = None) -> tuple:
    return _tuple(_host_time.gmtime((time() if secs is None else secs) + _offset))


def mktime(t: tuple) -> int:
    import calendar

    return calendar.timegm((*t[:6], 0, 0, 0)) - _offset
