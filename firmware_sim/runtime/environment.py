"""The world around the board: what its sensors and analog inputs read, and what its outputs did.

Values come from outside, as the pin levels of :mod:`.pins` do:

* From outside the process (``firmware-sim run`` in CI, a test driving a subprocess): a JSON object in
  the board's hidden file ``/flash/.firmware-sim/environment.json``, or in the file given with
  ``--environment FILE``. Write it to a temporary file and rename it over; the board reads it again
  when it changes (looked at most every few milliseconds), so a value changed while the board runs is
  the next reading.
* In the simulator's process (unit tests): ``environment.set('temperature', 22.5)``, which wins over
  the file.

A key's value is a constant (a number, a list of numbers, a string, an object of those) or a timeline:
``{"timeline": [[t, value], ...]}``, the value at board time ``t`` (seconds since boot), linear between
points for numbers and lists of numbers (``"step": true`` holds each value until the next point), the
first value before the first point and the last after the last. An object's members may be timelines
(``{"voltage": {"P16": {"timeline": [[0, 4.2], [3600, 3.3]]}}}``). The keys the simulated hardware reads
are listed in the README ("The world around the board").

Outputs a test can watch (PWM duty and frequency, DAC values, bus transactions) are recorded one JSON
line each in ``/flash/.firmware-sim/peripherals.jsonl``: ``{"t": board_seconds, "source": "PWM", ...}``
(the file starts empty at power-on, like ``pins.jsonl``).
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import current
from .pins import POLL_INTERVAL, run_file
from .watched import WatchedJson

if TYPE_CHECKING:
    from .board import Board

ENVIRONMENT_FILE = "environment.json"
OUTPUTS_FILE = "peripherals.jsonl"


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _between(a: Any, b: Any, f: float) -> Any:
    if _number(a) and _number(b):
        return a + (b - a) * f
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(_number(x) for x in a + b):
        return [x + (y - x) * f for x, y in zip(a, b, strict=True)]
    return a


def resolve(value: Any, t: float) -> Any:
    """``value`` at board time ``t``: timelines (at any depth of an object) become their value then."""
    if isinstance(value, dict):
        points = value.get("timeline")
        if isinstance(points, list):
            return _at(points, t, bool(value.get("step")))
        return {key: resolve(member, t) for key, member in value.items()}
    return value


def _at(points: list[Any], t: float, step: bool) -> Any:
    usable = [p for p in points if isinstance(p, list) and len(p) == 2 and _number(p[0])]
    if not usable:
        return None
    usable.sort(key=lambda p: p[0])
    if t <= usable[0][0]:
        return usable[0][1]
    for (t0, v0), (t1, v1) in zip(usable, usable[1:], strict=False):
        if t0 <= t < t1:
            return v0 if step or t1 == t0 else _between(v0, v1, (t - t0) / (t1 - t0))
    return usable[-1][1]


class Environment:
    """The environment of one board (a board part, kept across soft resets)."""

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self.flash = board.flash
        chosen = board.state.environment
        self.path: Path = Path(chosen) if chosen else board.flash.private(ENVIRONMENT_FILE)
        self._lock = threading.Lock()
        self._set: dict[str, Any] = {}
        self._file: dict[str, Any] = {}
        self._watch = WatchedJson(self.path)
        self._checked = 0.0
        self._outputs: TextIO | None = None

    def _now(self) -> float:
        board = self._board()
        return 0.0 if board is None else board.clock.elapsed()

    def _sync(self) -> None:
        now = time.monotonic()
        if now - self._checked < POLL_INTERVAL:
            return
        self._checked = now
        data = self._watch.changed()
        if data is not None:
            self._file = data

    def reading(self, key: str, default: Any = None, at: float | None = None) -> Any:
        """The value of ``key`` now, or at board time ``at`` (``'temperature'``, or ``'voltage/P16'``
        for a member of an object); ``default`` when the test set none."""
        with self._lock:
            self._sync()
            first, *rest = key.split("/")
            source = self._set if first in self._set else self._file
            if first not in source:
                return default
            value = resolve(source[first], self._now() if at is None else at)
        for part in rest:
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` from the test's side (a constant or a timeline, as in the file); None unsets it."""
        with self._lock:
            if value is None:
                self._set.pop(key, None)
            else:
                self._set[key] = value

    def record(self, source: str, **fields: Any) -> None:
        """One line of ``peripherals.jsonl``: what output ``source`` did at this board time."""
        line = json.dumps({"t": round(self._now(), 6), "source": source, **fields})
        with self._lock:
            if self._outputs is None:
                self._outputs = run_file(self.flash, OUTPUTS_FILE).open("a", buffering=1)
            self._outputs.write(line + "\n")


def environment(board: Board | None = None) -> Environment:
    """The environment of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(Environment)


def reading(key: str, default: Any = None, board: Board | None = None, at: float | None = None) -> Any:
    """What the outside world sets for ``key`` at the board's time now, or at board time ``at`` (a chip
    that reports the past, such as a GPS's buffered sentences; see the module's docstring)."""
    return environment(board).reading(key, default, at)


def set(key: str, value: Any, board: Board | None = None) -> None:  # noqa: A001 - the test's verb
    """Set ``key`` from a test in the board's process (wins over the environment file)."""
    environment(board).set(key, value)


def record(source: str, board: Board | None = None, **fields: Any) -> None:
    """Record what output ``source`` did, one line in ``peripherals.jsonl``."""
    environment(board).record(source, **fields)
