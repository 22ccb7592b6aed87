"""The board's GPIO levels, and the host's side of them: drive the inputs, read the outputs.

A script configures pins with ``machine.Pin``; the simulator keeps every pin's mode, pull, output latch
and hold here, per board. The outside world is the host:

* In the simulator's process (unit tests): ``drive('P10', 1)`` puts a level on a pin (``None`` lets it
  float again), ``read('P9')`` is the level on the pin now (an output's latch, an input's driven level or
  its pull). A change on an input pin fires the script's ``Pin.callback`` handlers.
* From outside the process (``firmware-sim run`` in CI, a test driving a subprocess): write a JSON object
  to the board's hidden file ``/flash/.firmware-sim/pins.json``, e.g. ``{"P10": 1, "G17": 0}``
  (``null`` releases a pin; write it to a temporary file and rename it over). The board reads it when a
  script reads an input, and polls it every few milliseconds while a pin has a callback. Outputs are
  recorded in ``/flash/.firmware-sim/pins.jsonl``, one line per level change:
  ``{"t": board_seconds_since_boot, "pin": "P9", "value": 1}`` (that file starts empty at power-on).

Pin names are the module's ``P0``..``P23`` and the expansion board's ``G`` names (``G17`` is ``P10``);
the levels of a board that is not running in this process cannot be reached but through those files.

Each pin keeps its last few drive changes (``state(name).drives``: board time and what the pin's own
driver put on the line, 0, 1 or None for none), for devices that answer a start signal (a DHT22 sees
the line held low and released). A pin ``routed`` to a peripheral's input (``pycom.pulses_get``'s RMT
receiver) drives nothing until the script configures it again (mode or pull), as ``rmt_set_pin`` leaves it.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import current, running
from .watched import WatchedJson

if TYPE_CHECKING:
    from .board import Board
    from .flash import Flash

DRIVE_FILE = "pins.json"
TIMELINE_FILE = "pins.jsonl"
RUN_FILE = "run"
POLL_INTERVAL = 0.005  # host seconds between looks at pins.json while a callback waits

# esp32/boards/*/pins.csv (the same on every board kind): module pin -> (GPIO, expansion board name)
_PINS_CSV = (
    "G2,3,P0 G1,1,P1 G23,0,P2 G24,4,P3 G11,15,P4 G12,5,P5 G13,27,P6 G14,19,P7 G15,2,P8 G16,12,P9 "
    "G17,13,P10 G22,22,P11 G28,21,P12 G5,36,P13 G4,37,P14 G0,38,P15 G3,39,P16 G31,35,P17 G30,34,P18 "
    "G6,32,P19 G7,33,P20 G8,26,P21 G9,25,P22 G10,14,P23"
)
GPIO: dict[str, int] = {}  # 'P10' -> 13
EXP_BOARD: dict[str, str] = {}  # 'G17' -> 'P10'
for _row in _PINS_CSV.split():
    _g, _gpio, _p = _row.split(",")
    GPIO[_p] = int(_gpio)
    EXP_BOARD[_g] = _p
# GPIOs in the RTC domain: the only ones that can hold a level or wake the board from deep sleep
RTC_GPIOS = frozenset({0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39})

# machine.Pin constants (ESP-IDF gpio_mode_t / machpin.h)
IN, OUT, OPEN_DRAIN = 1, 2, 7
PULL_UP, PULL_DOWN = 1, 2


def canonical(name: str) -> str | None:
    """``'P10'`` for ``'P10'`` or ``'G17'``; None for a name the board does not have."""
    if name in GPIO:
        return name
    return EXP_BOARD.get(name)


@dataclass
class PinState:
    mode: int = IN
    pull: int | None = None
    latch: int = 0  # the output register
    hold: bool = False
    held: int = 0  # the level kept while held
    driven: int | None = None  # the level the outside world puts on the pin
    listener: Callable[[int, int], None] | None = None  # machine.Pin's edge handler (old, new)
    routed: bool = False  # an input of a peripheral (the RMT): its own driver is off until configured
    # the last drive changes: (board seconds, 0/1 driven or None), oldest first
    drives: deque[tuple[float, int | None]] = field(default_factory=lambda: deque([(0.0, None)], maxlen=4))


class PinBank:
    """The GPIO levels of one board (a board part: ``board.part(PinBank)``, kept across soft resets)."""

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self.flash: Flash = board.flash
        self._lock = threading.RLock()
        self._pins: dict[str, PinState] = {name: PinState() for name in GPIO}
        self._file_lock = threading.Lock()
        self._file = WatchedJson(self.flash.private(DRIVE_FILE))
        self._file_checked = 0.0
        self._file_levels: dict[str, int | None] = {}
        self._watcher: threading.Thread | None = None
        self._timeline: TextIO | None = None

    # -- levels ------------------------------------------------------------------------------------

    def state(self, name: str) -> PinState:
        return self._pins[name]

    def _level(self, st: PinState) -> int:
        latch = st.held if st.hold else st.latch
        if st.mode == OUT and not st.routed:
            return latch
        if st.mode == OPEN_DRAIN and latch == 0 and not st.routed:
            return 0
        if st.driven is not None:
            return st.driven
        return 1 if st.pull == PULL_UP else 0

    def level(self, name: str) -> int:
        """The logic level on pin ``name`` now."""
        self.sync_file()
        with self._lock:
            return self._level(self._pins[name])

    def change(self, name: str, **fields: object) -> None:
        """Update pin ``name``'s configuration (mode, pull, latch, hold...); fire its edge listener."""
        with self._lock:
            st = self._pins[name]
            before, output_before = self._level(st), self._output(st)
            if "mode" in fields or "pull" in fields:
                st.routed = False  # pin_obj_configure() takes the pin back from a peripheral
            for key, value in fields.items():
                setattr(st, key, value)
            after, output_after = self._level(st), self._output(st)
            listener = st.listener if st.mode != OUT else None
            if output_after != output_before:
                st.drives.append((self._now(), output_after))
        if output_after is not None and output_after != output_before:
            self._record(name, output_after)
        if listener is not None and after != before:
            listener(before, after)

    @staticmethod
    def _output(st: PinState) -> int | None:
        """What the pin's own driver puts on the line: None for an input."""
        if st.mode == IN or st.routed:
            return None
        return st.held if st.hold else st.latch

    def drive(self, name: str, value: int | None) -> None:
        """The outside world puts ``value`` on the pin (None: leaves it floating)."""
        self.change(name, driven=None if value is None else (1 if value else 0))

    def set_listener(self, name: str, listener: Callable[[int, int], None] | None) -> None:
        with self._lock:
            self._pins[name].listener = listener
            watching = any(st.listener is not None for st in self._pins.values())
            if watching and (self._watcher is None or not self._watcher.is_alive()):
                self._watcher = threading.Thread(target=self._watch, name="pins", daemon=True)
                self._watcher.start()

    # -- the outside world's files -----------------------------------------------------------------

    def sync_file(self, force: bool = False) -> None:
        """Apply ``pins.json`` if it changed (looked at most every POLL_INTERVAL unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._file_checked < POLL_INTERVAL:
            return
        with self._file_lock:
            self._file_checked = now
            self._sync_file()

    def _sync_file(self) -> None:
        data = self._file.changed()
        if data is None:
            return
        levels: dict[str, int | None] = {}
        for key, value in data.items():
            pin = canonical(str(key))
            if pin is not None and (value is None or isinstance(value, (int, bool))):
                levels[pin] = None if value is None else (1 if value else 0)
        changed = {pin: lvl for pin, lvl in levels.items() if self._file_levels.get(pin) != lvl}
        released = [pin for pin in self._file_levels if pin not in levels]
        self._file_levels = levels
        for pin in released:
            self.drive(pin, None)
        for pin, lvl in changed.items():
            self.drive(pin, lvl)

    def _watch(self) -> None:
        while True:
            with self._lock:
                if not any(st.listener is not None for st in self._pins.values()):
                    self._watcher = None
                    return
            board = self._board()
            if board is None or not is_running(board):
                with self._lock:
                    self._watcher = None
                return
            self.sync_file(force=True)
            time.sleep(POLL_INTERVAL)

    def _now(self) -> float:
        board = self._board()
        return 0.0 if board is None else board.clock.elapsed()

    def _record(self, name: str, value: int) -> None:
        board = self._board()
        if board is None:
            return
        line = json.dumps({"t": round(board.clock.elapsed(), 6), "pin": name, "value": value})
        with self._lock:
            if self._timeline is None:
                self._timeline = run_file(self.flash, TIMELINE_FILE).open("a", buffering=1)
            self._timeline.write(line + "\n")


def bank(board: Board | None = None) -> PinBank:
    """The pins of ``board`` (default: the board running in this process): its ``PinBank`` part."""
    return (current() if board is None else board).part(PinBank)


def is_running(board: Board) -> bool:
    """Is ``board`` the board of this process? (In-process tests end one board and start another: the
    background threads of the old one, which waits for no reset, end then.)"""
    return running() is board


def _name(pin_id: str) -> str:
    name = canonical(pin_id)
    if name is None:
        raise ValueError(f"the board has no pin '{pin_id}' (P0..P23, or an expansion board G name)")
    return name


def drive(pin_id: str, value: int | None, board: Board | None = None) -> None:
    """Put ``value`` (0/1) on input pin ``pin_id`` from outside the board; None lets it float."""
    bank(board).drive(_name(pin_id), value)


def read(pin_id: str, board: Board | None = None) -> int:
    """The level on pin ``pin_id`` now (what a probe on the pin would see)."""
    return bank(board).level(_name(pin_id))


# -- files that live for one run of the board --------------------------------------------------------

_RUN_SCOPED = ("rgbled.jsonl", TIMELINE_FILE, "peripherals.jsonl", "rtc-memory.bin", "wake.json", "uart.json")
_runs_seen: set[Path] = set()
_runs_lock = threading.Lock()


def _run_id() -> str:
    """This board process across its reboots (a reboot re-executes it: same pid, same start time)."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/stat") as f:
            start = f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "?"
    return f"{pid}:{start}"


def run_file(flash: Flash, name: str) -> Path:
    """The hidden file ``name`` of the flash, emptied when this is a new run (power-on) of the board:
    the LED and pin timelines, the RTC memory and the wake pins survive resets, not power cycles."""
    marker = flash.private(RUN_FILE)
    with _runs_lock:
        if flash.root not in _runs_seen:
            _runs_seen.add(flash.root)
            run = _run_id()
            try:
                previous = marker.read_text()
            except OSError:
                previous = ""
            if previous != run:
                for stale in _RUN_SCOPED:
                    try:
                        flash.private(stale).unlink()
                    except OSError:
                        pass
                marker.write_text(run)
    return flash.private(name)
