"""``machine.Timer`` (``machtimer.c``, ``machtimer_alarm.c``, ``machtimer_chrono.c``) on the board's
scaled clock: ``Timer.Alarm`` calls its handler in the IRQs thread (at most 16 active, :mod:`.alarms`),
``Timer.Chrono`` is a stopwatch, ``Timer.sleep_us`` sleeps; ``Timer`` itself has no instances.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ...runtime import current
from .consts import to_float
from .state import machine_part

_ALARM_ARGS = (
    Param("handler"),
    Param("s", None),
    Param("ms", 0, True),
    Param("us", 0, True),
    Param("arg", None, True),
    Param("periodic", False, True),
)


class Alarm:
    """``Timer.Alarm``: calls ``handler(arg or alarm)`` in the IRQs thread after an interval."""

    def __init__(self, *args, **kwargs) -> None:
        handler, s, ms, us, arg, periodic = parse(args, kwargs, _ALARM_ARGS)
        seconds = 0.0 if s is None else to_float(s)
        ms, us = to_int(ms), to_int(us)
        if (seconds != 0) + (ms != 0) + (us != 0) != 1:
            raise ValueError("please provide a single duration")
        if seconds < 0 or ms < 0 or us < 0:
            raise ValueError("please provide a positive number")
        self._interval = seconds + ms / 1000 + us / 1_000_000  # board seconds
        self._periodic = bool(periodic)
        self._alarms = machine_part().alarms
        self._set_callback(handler, arg)

    def _set_callback(self, handler: Callable[[Any], Any] | None, arg: Any) -> None:
        if handler is None:
            self._alarms.disarm(self)
        else:
            self._alarms.arm(self, self._interval, self._periodic, handler, self if arg is None else arg)

    def callback(self, *args, **kwargs) -> None:
        """Set the handler (None disables the alarm); restarts the interval from now."""
        handler, arg = parse(args, kwargs, (Param("handler"), Param("arg", None, True)))
        self._set_callback(handler, arg)

    def cancel(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._alarms.disarm(self)

    def __repr__(self) -> str:
        return f"<Alarm object at {id(self):x}>"


class Chrono:
    """``Timer.Chrono``: a stopwatch on the board's clock."""

    def __init__(self, *args, **kwargs) -> None:
        check_count(args, kwargs, 0, 0)
        self._clock = current().clock
        self._accumulated = 0.0
        self._start: float | None = None

    def start(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        if self._start is None:
            self._start = self._clock.elapsed()

    def stop(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        if self._start is not None:
            self._accumulated += self._clock.elapsed() - self._start
            self._start = None

    def reset(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._accumulated = 0.0
        if self._start is not None:
            self._start = self._clock.elapsed()

    def _elapsed(self) -> float:
        running = 0.0 if self._start is None else self._clock.elapsed() - self._start
        return self._accumulated + running

    def read(self, *args, **kwargs) -> float:
        check_count((self, *args), kwargs, 1, 1)
        return self._elapsed()

    def read_ms(self, *args, **kwargs) -> float:
        check_count((self, *args), kwargs, 1, 1)
        return self._elapsed() * 1000

    def read_us(self, *args, **kwargs) -> float:
        check_count((self, *args), kwargs, 1, 1)
        return self._elapsed() * 1_000_000


class Timer:
    """``machine.Timer``: a namespace for ``Alarm``, ``Chrono`` and ``sleep_us`` (no instances)."""

    Alarm = Alarm
    Chrono = Chrono

    def __new__(cls, *args, **kwargs) -> Timer:
        raise TypeError("cannot create 'Timer' instances")

    @staticmethod
    def sleep_us(*args, **kwargs) -> None:
        check_count(args, kwargs, 1, 1)
        current().clock.sleep(max(to_int(args[0]), 0) / 1_000_000)
