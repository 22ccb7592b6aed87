"""``machine`` (``umachine``) on the board: resets, sleep, ``Pin``, ``Timer``, ``RTC``, ``WDT``, ``UART``.

As Pycom firmware 1.20 (``esp32/mods/modmachine.c``, ``machpin.c``, ``machtimer*.c``, ``machrtc.c``,
``machwdt.c``), on the board's scaled clock:

* ``reset()`` reboots the board (the process re-executes; flash and nvs persist). ``reset_cause()`` is
  then ``HARD_RESET``, what the name says and what MicroPython documents. The firmware itself resets
  through the watchdog (``machine_wdt_start(1)``), so a real board reports ``WDT_RESET`` (2) there: the
  default profile warns once when a script reads that cause, and a profile listing the quirk
  ``reset-cause-wdt`` reproduces it.
* ``deepsleep([ms])`` sleeps ``ms`` board milliseconds, then reboots with ``DEEPSLEEP_RESET`` and
  ``wake_reason() == (RTC_WAKE, None)``; pins given to ``pin_sleep_wakeup`` wake it early (``PIN_WAKE``
  with the list of pins). Without ``ms`` it sleeps until a wake pin or the end of the run. Pin, alarm
  and watchdog interrupts stop while it sleeps (the script's own threads cannot be stopped).
* Interrupt handlers (``Pin.callback``, ``Timer.Alarm``) run one at a time in one "IRQs" thread, as on
  the firmware: an uncaught exception prints ``Unhandled exception in callback handler`` and the
  traceback, and ends that thread, so no handler runs afterwards (until the next reset).
* Pin levels are simulated by :mod:`firmware_sim.runtime.pins`: tests drive inputs and read outputs there
  (or through the board's hidden ``pins.json`` / ``pins.jsonl`` files).
* ``WDT(timeout=ms)`` reboots the board with ``WDT_RESET`` when it is not fed in time.
* ``RTC`` sets the board clock; ``ntp_sync()`` sends nothing: it sets the RTC to the host's clock and
  ``synced()`` is then True.
* A board whose script left an active alarm, a pin callback or a watchdog keeps running after
  ``main.py`` returns, as a real board waits for its interrupts (``--timeout`` or Ctrl-C ends it).
* ``UART(0)`` is the REPL's UART: what a script writes there goes to the board's output. The other UARTs
  accept writes and never receive anything.
"""

from __future__ import annotations

import calendar
import heapq
import itertools
import json
import random
import sys
import threading
import time
import types
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from network import profile as _profiles
from network.coap.api.mpargs import Param, check_count, parse, to_int, to_str

from ..runtime import current
from ..runtime import pins as _pins
from ..runtime import state as _state
from ..runtime.traceback import format_exception

if TYPE_CHECKING:
    from ..runtime.boot import Board

# reset_cause() / wake_reason() values (esp32/util/mpsleep.h)
PWRON_RESET, HARD_RESET, WDT_RESET = _state.PWRON_RESET, _state.HARD_RESET, _state.WDT_RESET
DEEPSLEEP_RESET, SOFT_RESET, BROWN_OUT_RESET = (
    _state.DEEPSLEEP_RESET,
    _state.SOFT_RESET,
    _state.BROWN_OUT_RESET,
)
PWRON_WAKE, PIN_WAKE, RTC_WAKE, ULP_WAKE = (
    _state.PWRON_WAKE,
    _state.PIN_WAKE,
    _state.RTC_WAKE,
    _state.ULP_WAKE,
)

INVALID_ARGUMENTS = "invalid argument(s) value"  # esp32/util/mpexception.c
RESOURCE_NOT_AVAILABLE = "resource not available"
CPU_FREQ = 160_000_000
WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH = 0, 1  # ESP-IDF esp_sleep_ext1_wakeup_mode_t

RESET_VIA_WDT = _profiles.RESET_CAUSE_WDT  # machine.reset() goes through the watchdog on the board

_IRQ_QUEUE_LEN = 32  # esp32/util/mpirq.h INTERRUPTS_QUEUE_LEN: more pending handlers are dropped
_IRQ_LINGER = 0.25  # host seconds an idle IRQs thread waits for more work before it ends
_MAX_ALARMS = 16  # machtimer_alarm.c ALARM_HEAP_MAX_ELEMENTS
_WAKE_POLL = 0.01  # host seconds between looks at the wake pins while asleep
_WAKE_FILE = "wake.json"
_RTC_MEMORY_FILE = "rtc-memory.bin"
_RTC_MEMORY_MAX = 2048


# -- per-board state ---------------------------------------------------------------------------------


class _Interrupts:
    """The firmware's "IRQs" thread: runs queued handlers one at a time, dies on an uncaught exception."""

    def __init__(self, machine: _Machine) -> None:
        self._machine = machine
        self._cond = threading.Condition()
        self._queue: deque[tuple[Callable[[Any], Any], Any]] = deque()
        self._thread: threading.Thread | None = None
        self.dead = False
        self.enabled = True  # machine.disable_irq() / enable_irq()

    def put(self, handler: Callable[[Any], Any], arg: Any) -> None:
        """Queue ``handler(arg)`` (as the firmware's ISRs do); dropped when the queue is full."""
        with self._cond:
            if self.dead or self._machine.asleep.is_set() or len(self._queue) >= _IRQ_QUEUE_LEN:
                return
            self._queue.append((handler, arg))
            self._start()
            self._cond.notify()

    def enable(self, enabled: bool) -> None:
        with self._cond:
            self.enabled = enabled
            if enabled and self._queue:
                self._start()
            self._cond.notify()

    def stop(self) -> None:
        """The board goes to sleep: pending handlers are forgotten."""
        with self._cond:
            self._queue.clear()
            self._cond.notify()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="IRQs", daemon=True)
            self._thread.start()

    def _ready(self) -> bool:
        return bool(self._queue) and self.enabled

    def _run(self) -> None:
        while True:
            with self._cond:
                ready = self._cond.wait_for(self._ready, _IRQ_LINGER)
                if not ready and not self._queue:
                    self._thread = None
                    return
                if not ready:
                    continue  # interrupts disabled with handlers pending: wait for enable_irq()
                handler, arg = self._queue.popleft()
            try:
                handler(arg)
            except SystemExit:
                pass  # swallowed silently, as by the firmware's IRQ task
            except BaseException as exc:  # noqa: BLE001 - the firmware prints any exception and dies
                self._die(exc)
                return

    def _die(self, exc: BaseException) -> None:
        board = self._machine.board
        with self._cond:
            self.dead = True
            self._queue.clear()
            self._thread = None
        sys.stdout.write("Unhandled exception in callback handler\n")
        sys.stdout.write(format_exception(exc, board.loader.files))
        sys.stdout.flush()
        print(
            "firmware-sim: warning: the board's interrupt thread has ended, as on the firmware: no Pin or "
            "Timer.Alarm handler runs again until the board resets",
            file=sys.stderr,
            flush=True,
        )


class _Alarms:
    """The firmware's alarm heap: up to 16 active alarms on one hardware timer (the board's clock)."""

    def __init__(self, machine: _Machine) -> None:
        self._machine = machine
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int, Alarm]] = []
        self._active: dict[Alarm, int] = {}  # alarm -> generation of its live heap entry
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, alarm: Alarm) -> None:
        """(Re)start ``alarm`` from now; MemoryError when 16 others are active."""
        with self._cond:
            self._active.pop(alarm, None)
            if len(self._active) >= _MAX_ALARMS:
                raise MemoryError(f"maximum number of {_MAX_ALARMS} alarms already reached")
            when = time.monotonic() + alarm._interval / self._machine.board.clock.scale
            self._push(alarm, when)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alarms", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, alarm: Alarm) -> None:
        with self._cond:
            self._active.pop(alarm, None)
            self._cond.notify()

    def _push(self, alarm: Alarm, when: float) -> None:
        gen = next(self._seq)
        self._active[alarm] = gen
        heapq.heappush(self._heap, (when, gen, gen, alarm))

    def _run(self) -> None:
        machine = self._machine
        scale = machine.board.clock.scale
        while True:
            with self._cond:
                while self._heap and self._active.get(self._heap[0][3]) != self._heap[0][2]:
                    heapq.heappop(self._heap)  # cancelled or re-armed since
                if not self._heap or machine.asleep.is_set() or not _pins.is_running(machine.board):
                    self._thread = None
                    return
                when, _, _, alarm = self._heap[0]
                now = time.monotonic()
                if when > now:
                    self._cond.wait(when - now)
                    continue
                heapq.heappop(self._heap)
                if alarm._periodic:
                    step = alarm._interval / scale
                    later = when + step
                    self._push(alarm, later if later > now - step else now + step)
                else:
                    del self._active[alarm]
                handler, arg = alarm._handler, alarm._arg
            machine.irq.put(handler, alarm if arg is None else arg)


class _Watchdog:
    """``machine.WDT``: once started it cannot be stopped; a missed feed resets the board."""

    def __init__(self, machine: _Machine) -> None:
        self._machine = machine
        self._cond = threading.Condition()
        self.timeout_ms = 0
        self._deadline = 0.0
        self._thread: threading.Thread | None = None

    def start(self, timeout_ms: int) -> None:
        with self._cond:
            self.timeout_ms = max(timeout_ms, 1)
            self._feed()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wdt", daemon=True)
                self._thread.start()
            self._cond.notify()

    def feed(self) -> None:
        with self._cond:
            self._feed()

    def _feed(self) -> None:
        self._deadline = time.monotonic() + self.timeout_ms / 1000 / self._machine.board.clock.scale

    def _run(self) -> None:
        machine = self._machine
        with self._cond:
            while True:
                if machine.asleep.is_set() or not _pins.is_running(machine.board):
                    self._thread = None
                    return
                left = self._deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
        machine.asleep.set()
        _going_down(machine.board)
        machine.board.reboot(
            WDT_RESET, why=f"watchdog: WDT(timeout={self.timeout_ms}) not fed for {self.timeout_ms} ms"
        )


class _Machine:
    """What ``machine`` keeps for one board while it runs."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.lock = threading.RLock()
        self.asleep = threading.Event()
        self.irq = _Interrupts(self)
        self.alarms = _Alarms(self)
        self.wdt = _Watchdog(self)
        self.pins: dict[str, Pin] = {}
        self.uarts: dict[int, UART] = {}
        self.rtc: RTC | None = None
        self.wdt_obj: WDT | None = None
        self.wake_pins: tuple[list[str], int] | None = None  # pin_sleep_wakeup(): (pins, mode)
        self.rtc_synced = False

    def pin(self, name: str) -> Pin:
        with self.lock:
            found = self.pins.get(name)
            if found is None:
                found = object.__new__(Pin)
                found._setup(self, name)
                self.pins[name] = found
            return found


_machines: weakref.WeakKeyDictionary[Board, _Machine] = weakref.WeakKeyDictionary()
_machines_lock = threading.Lock()


def _machine(board: Board | None = None) -> _Machine:
    board = current() if board is None else board
    with _machines_lock:
        found = _machines.get(board)
        if found is None:
            found = _machines[board] = _Machine(board)
        return found


def mac_address(ip: str) -> bytes:
    """The board's Wi-Fi MAC, which ``unique_id()`` is on the firmware: Espressif's 30:AE:A4 and the
    last three bytes of the board's address (the same as ``WLAN().mac().sta_mac``)."""
    return bytes((0x30, 0xAE, 0xA4, *(int(part) & 0xFF for part in ip.split(".")[1:4])))


# -- resets and sleep --------------------------------------------------------------------------------


def _going_down(board: Board) -> None:
    """What the hardware does to the board's visible state before a reset or deep sleep."""
    from . import pycom

    pycom._led_off(board)


def reset(*args, **kwargs) -> None:
    """Reset the board (never returns)."""
    check_count(args, kwargs, 0, 0)
    board = current()
    cause = WDT_RESET if RESET_VIA_WDT.key in _profiles.active().reproduces else HARD_RESET
    _machine(board).asleep.set()
    _going_down(board)
    board.reboot(cause, why="machine.reset()")


def reset_cause(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    cause = current().state.reset_cause
    if cause == HARD_RESET:
        _profiles.active().quirk(RESET_VIA_WDT)
    return cause


def _wake_info(board: Board) -> dict:
    if board.state.wake_reason != PIN_WAKE:
        return {}
    try:
        info = json.loads(_pins.run_file(board.flash, _WAKE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def wake_reason(*args, **kwargs) -> tuple:
    """``(reason, pins)``: the pins that woke the board after ``PIN_WAKE``, else None."""
    check_count(args, kwargs, 0, 0)
    board = current()
    reason = board.state.wake_reason
    if reason != PIN_WAKE:
        return (reason, None)
    machine = _machine(board)
    return (reason, [machine.pin(name) for name in _wake_info(board).get("pins", []) if name in _pins.GPIO])


def remaining_sleep_time(*args, **kwargs) -> int:
    """Milliseconds of the last deep sleep left when a pin woke the board early (else 0)."""
    check_count(args, kwargs, 0, 0)
    return int(_wake_info(current()).get("remaining_ms", 0))


def pin_sleep_wakeup(*args, **kwargs) -> None:
    """Pins that wake the board from (deep) sleep: ``WAKEUP_ANY_HIGH`` or ``WAKEUP_ALL_LOW``."""
    pins, mode, _enable_pull = parse(
        args, kwargs, (Param("pins"), Param("mode"), Param("enable_pull", False))
    )
    mode = to_int(mode)
    if not isinstance(pins, (list, tuple)):
        raise TypeError(f"object '{type(pins).__name__}' is not a tuple or list")
    machine = _machine()
    names = [_find(machine, pin)._name for pin in pins]
    if mode not in (WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH):
        raise ValueError(f"invalid wakeup mode {mode}")
    if any(_pins.GPIO[name] not in _pins.RTC_GPIOS for name in names):
        raise ValueError("deepsleep wake up is not supported on the selected pin(s)")
    machine.wake_pins = (names, mode) if names else None


def _woken_by(machine: _Machine) -> list[str]:
    if machine.wake_pins is None:
        return []
    names, mode = machine.wake_pins
    bank = _pins.bank(machine.board)
    levels = {name: bank.level(name) for name in names}
    if mode == WAKEUP_ANY_HIGH:
        return [name for name in names if levels[name]]
    return list(names) if not any(levels.values()) else []


def _sleep(machine: _Machine, ms: int | None) -> tuple[list[str], float]:
    """Sleep ``ms`` board milliseconds (None: forever) or until a wake pin; (wake pins, board ms left)."""
    clock = machine.board.clock
    end = None if ms is None else time.monotonic() + ms / 1000 / clock.scale
    while True:
        woken = _woken_by(machine)
        left = None if end is None else end - time.monotonic()
        if woken:
            return woken, 0.0 if left is None else max(left, 0.0) * clock.scale * 1000
        if left is not None and left <= 0:
            return [], 0.0
        step = _WAKE_POLL if machine.wake_pins is not None else 1.0
        time.sleep(step if left is None else min(step, left))


def deepsleep(*args, **kwargs) -> None:
    """Deep sleep ``ms`` board milliseconds (or until a wake pin / the end of the run), then reboot."""
    check_count(args, kwargs, 0, 1)
    ms = to_int(args[0]) if args else None
    board = current()
    machine = _machine(board)
    machine.asleep.set()
    machine.irq.stop()
    _going_down(board)
    woken, left_ms = _sleep(machine, None if ms is None or ms < 0 else ms)
    if woken:
        wake = {"pins": woken, "remaining_ms": int(left_ms) if ms is not None else 0}
        _pins.run_file(board.flash, _WAKE_FILE).write_text(json.dumps(wake))
        board.reboot(DEEPSLEEP_RESET, PIN_WAKE, why="deep sleep (woken by a pin)")
    board.reboot(DEEPSLEEP_RESET, RTC_WAKE, why="deep sleep")


def sleep(*args, **kwargs) -> None:
    """Light sleep ``ms`` board milliseconds (or until a wake pin); execution then goes on."""
    check_count(args, kwargs, 0, 2)
    ms = to_int(args[0]) if args else None
    _sleep(_machine(), None if ms is None or ms < 0 else ms)


def idle(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    time.sleep(0.0005)


# -- identity and miscellany -------------------------------------------------------------------------


def unique_id(*args, **kwargs) -> bytes:
    """The board's 6-byte Wi-Fi MAC (stable for a board address)."""
    check_count(args, kwargs, 0, 0)
    return mac_address(current().state.ip)


def freq(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return CPU_FREQ


def rng(*args, **kwargs) -> int:
    """A 24-bit random number."""
    check_count(args, kwargs, 0, 0)
    return random.getrandbits(24)


def temperature(*args, **kwargs) -> int:
    """The ESP32 die temperature, in the firmware's raw (roughly Fahrenheit) units."""
    check_count(args, kwargs, 0, 0)
    return 127 + random.randint(-1, 1)


def info(*args, **kwargs) -> None:
    """Print the stack high-water marks of the firmware's tasks and the free system heap."""
    check_count(args, kwargs, 0, 0)
    kind = current().kind
    lines = [
        "---------------------------------------------",
        "System memory info (in bytes)",
        "---------------------------------------------",
        "MPTask stack water mark: 7128",
        "ServersTask stack water mark: 1028",
    ]
    if kind.lora:
        lines.append("LoRaTask stack water mark: 1852")
    if kind.sigfox:
        lines.append("SigfoxTask stack water mark: 2516")
    from .gc import _heap

    lines += [
        "TimerTask stack water mark: 1908",
        "IdleTask stack water mark: 604",
        f"System free heap: {_heap().system_free()}",
        "---------------------------------------------",
    ]
    print("\n".join(lines))


def main(*args, **kwargs) -> None:
    """Set the script run after ``boot.py`` (only meaningful in ``boot.py``)."""
    check_count(args, kwargs, 1, 1)
    if not isinstance(args[0], str):
        raise TypeError("expecting a string file name")
    current().main_file = args[0]


def disable_irq(*args, **kwargs) -> int:
    """Hold back interrupt handlers; returns the previous state for ``enable_irq``."""
    check_count(args, kwargs, 0, 0)
    irq = _machine().irq
    previous = 1 if irq.enabled else 0
    irq.enable(False)
    return previous


def enable_irq(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 1)
    _machine().irq.enable(bool(to_int(args[0])) if args else True)


def flash_encrypt(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return 0


def secure_boot(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return 0


# -- Pin ---------------------------------------------------------------------------------------------

_NULL = object()
_PIN_INIT = (Param("mode", _NULL), Param("pull", None), Param("value", _NULL, True), Param("alt", None, True))
_PIN_CALLBACK = (Param("trigger", 0), Param("handler", None), Param("arg", None))
_MODE_NAMES = {1: "IN", 2: "OUT", 7: "OPEN_DRAIN"}
_PULL_NAMES = {1: "PULL_UP", 2: "PULL_DOWN"}


def _find(machine: _Machine, pin_id: object) -> Pin:
    """``pin_find``: a Pin, or a module (``'P10'``) or expansion board (``'G17'``) pin name."""
    if isinstance(pin_id, Pin):
        return pin_id
    name = _pins.canonical(pin_id) if isinstance(pin_id, str) else None
    if name is None:
        raise ValueError(INVALID_ARGUMENTS)
    return machine.pin(name)


class _PinGroup:
    """``Pin.module`` / ``Pin.exp_board``: the board's pins by name."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names

    def __getattr__(self, name: str) -> Pin:
        target = self._names.get(name)
        if target is None:
            raise AttributeError(f"type object has no attribute '{name}'")
        return _machine().pin(target)

    def __dir__(self) -> list[str]:
        return sorted(self._names)


class Pin:
    """A GPIO pin: one object per pin, whatever name it is found by."""

    IN, OUT, OPEN_DRAIN = _pins.IN, _pins.OUT, _pins.OPEN_DRAIN
    PULL_UP, PULL_DOWN = _pins.PULL_UP, _pins.PULL_DOWN
    IRQ_RISING, IRQ_FALLING, IRQ_LOW_LEVEL, IRQ_HIGH_LEVEL = 1, 2, 4, 5

    module = _PinGroup({name: name for name in _pins.GPIO})
    exp_board = _PinGroup(_pins.EXP_BOARD)

    _machine: _Machine
    _name: str

    def __new__(cls, *args, **kwargs) -> Pin:
        if not args:
            raise TypeError("function missing 1 required positional arguments")
        return _find(_machine(), args[0])

    def __init__(self, *args, **kwargs) -> None:
        self._configure(args[1:], kwargs)

    def _setup(self, machine: _Machine, name: str) -> None:
        self._machine = machine
        self._name = name
        self._alt = -1
        self._hold = False
        self._trigger = 0

    def _bank(self) -> _pins.PinBank:
        return _pins.bank(self._machine.board)

    def _configure(self, args: tuple, kwargs: dict) -> None:
        mode, pull, value, alt = parse(args, kwargs, _PIN_INIT)
        mode = _pins.IN if mode is _NULL else _valid_mode(mode)
        pull = None if pull is None else _valid_pull(pull)
        alt = -1 if alt is None else to_int(alt)
        if alt > 255:
            raise ValueError(INVALID_ARGUMENTS)
        self._alt = alt
        fields: dict[str, object] = {"mode": mode, "pull": pull}
        if value is not _NULL:
            fields["latch"] = 1 if value else 0
        # pin_config() clears the interrupt trigger: a re-initialised pin calls no handler
        self._trigger = 0
        bank = self._bank()
        bank.set_listener(self._name, None)
        bank.change(self._name, **fields)

    def init(self, *args, **kwargs) -> None:
        """Configure the pin: ``init(mode=Pin.IN, pull=None, *, value, alt)``."""
        self._configure(args, kwargs)

    def value(self, *args, **kwargs) -> int | None:
        """The pin's level (an output: its latch); ``value(v)`` sets the output."""
        check_count((self, *args), kwargs, 1, 2)
        bank = self._bank()
        if not args:
            st = bank.state(self._name)
            return st.latch if st.mode == _pins.OUT else bank.level(self._name)
        bank.change(self._name, latch=1 if args[0] else 0)
        return None

    def __call__(self, *args, **kwargs) -> int | None:
        check_count(args, kwargs, 0, 1)
        return self.value(*args)

    def toggle(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        bank = self._bank()
        bank.change(self._name, latch=0 if bank.state(self._name).latch else 1)

    def id(self, *args, **kwargs) -> str:
        check_count((self, *args), kwargs, 1, 1)
        return self._name

    def mode(self, *args, **kwargs) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        bank = self._bank()
        if not args:
            return bank.state(self._name).mode
        bank.change(self._name, mode=_valid_mode(args[0]))
        return None

    def pull(self, *args, **kwargs) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        bank = self._bank()
        if not args:
            return bank.state(self._name).pull
        bank.change(self._name, pull=None if args[0] is None else _valid_pull(args[0]))
        return None

    def hold(self, *args, **kwargs) -> bool | None:
        """Keep the pin's output level (RTC-domain pins only)."""
        check_count((self, *args), kwargs, 1, 2)
        if not args:
            return self._hold
        self._hold = bool(args[0])
        if _pins.GPIO[self._name] not in _pins.RTC_GPIOS:
            raise OSError("the hold functionality is only available for GPIO pins in the RTC domain")
        bank = self._bank()
        bank.change(self._name, hold=self._hold, held=bank.state(self._name).latch)
        return None

    def callback(self, *args, **kwargs) -> None:
        """``callback(trigger, handler=None, arg=None)``: call ``handler(arg or pin)`` on the trigger."""
        trigger, handler, arg = parse(args, kwargs, _PIN_CALLBACK)
        trigger = to_int(trigger)
        bank = self._bank()
        if trigger == 0 or handler is None:
            self._trigger = 0
            bank.set_listener(self._name, None)
            return
        self._trigger = trigger
        irq = self._machine.irq
        payload = self if arg is None else arg

        def on_change(_old: int, new: int) -> None:
            if _fires(trigger, new, edge=True):
                irq.put(handler, payload)

        bank.set_listener(self._name, on_change)
        if bank.state(self._name).mode != _pins.OUT and _fires(trigger, bank.level(self._name), edge=False):
            irq.put(handler, payload)  # a level trigger whose level is already there

    def __repr__(self) -> str:
        st = self._bank().state(self._name)
        pull = "None" if st.pull is None else f"Pin.{_PULL_NAMES[st.pull]}"
        return f"Pin('{self._name}', mode=Pin.{_MODE_NAMES[st.mode]}, pull={pull}, alt={self._alt})"


def _fires(trigger: int, level: int, *, edge: bool) -> bool:
    """Does a change to ``level`` (``edge``) or the level itself fire ``trigger`` (ESP-IDF intr types)?"""
    if trigger in (4, 5):  # low / high level: once each time the pin reaches that level
        return level == (1 if trigger == 5 else 0)
    if not edge:
        return False
    return trigger == 3 or (trigger == 1 and level == 1) or (trigger == 2 and level == 0)


def _valid_mode(mode: object) -> int:
    value = to_int(mode)
    if value not in (_pins.IN, _pins.OUT, _pins.OPEN_DRAIN):
        raise ValueError(INVALID_ARGUMENTS)
    return value


def _valid_pull(pull: object) -> int:
    value = to_int(pull)
    if value not in (_pins.PULL_UP, _pins.PULL_DOWN):
        raise ValueError(INVALID_ARGUMENTS)
    return value


# -- Timer -------------------------------------------------------------------------------------------

_ALARM_ARGS = (
    Param("handler"),
    Param("s", None),
    Param("ms", 0, True),
    Param("us", 0, True),
    Param("arg", None, True),
    Param("periodic", False, True),
)


def _to_float(obj: object) -> float:
    if isinstance(obj, (int, float)):
        return float(obj)
    raise TypeError(f"can't convert {type(obj).__name__} to float")


class Alarm:
    """``Timer.Alarm``: calls ``handler(arg or alarm)`` in the IRQs thread after an interval."""

    def __init__(self, *args, **kwargs) -> None:
        handler, s, ms, us, arg, periodic = parse(args, kwargs, _ALARM_ARGS)
        seconds = 0.0 if s is None else _to_float(s)
        ms, us = to_int(ms), to_int(us)
        if (seconds != 0) + (ms != 0) + (us != 0) != 1:
            raise ValueError("please provide a single duration")
        if seconds < 0 or ms < 0 or us < 0:
            raise ValueError("please provide a positive number")
        self._interval = seconds + ms / 1000 + us / 1_000_000  # board seconds
        self._periodic = bool(periodic)
        self._alarms = _machine().alarms
        self._handler: Callable[[Any], Any] | None = None
        self._arg: Any = None
        self._set_callback(handler, arg)

    def _set_callback(self, handler: Callable[[Any], Any] | None, arg: Any) -> None:
        self._handler, self._arg = handler, arg
        if handler is None:
            self._alarms.disarm(self)
        else:
            self._alarms.arm(self)

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


# -- RTC ---------------------------------------------------------------------------------------------


def _datetime_epoch(value: object) -> float:
    """``(year, month, day[, hour[, minute[, second[, usecond[, tz]]]]])`` as seconds since 1970."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"object '{type(value).__name__}' is not a tuple or list")
    if not 3 <= len(value) <= 8:
        raise ValueError(INVALID_ARGUMENTS)
    fields = [to_int(item) for item in value[:7]] + [0] * (7 - min(len(value), 7))
    year, month, day, hour, minute, second, usecond = fields
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        raise ValueError(INVALID_ARGUMENTS) from None
    return seconds + usecond / 1_000_000


class RTC:
    """The board's real-time clock (one per board): the board clock's wall time."""

    INTERNAL_RC, XTAL_32KHZ = 0, 1

    def __new__(cls, *args, **kwargs) -> RTC:
        machine = _machine()
        with machine.lock:
            if machine.rtc is None:
                machine.rtc = object.__new__(cls)
                machine.rtc._machine = machine
            return machine.rtc

    def __init__(self, *args, **kwargs) -> None:
        rtc_id, datetime, _source = parse(
            args, kwargs, (Param("id", 0), Param("datetime", None), Param("source", None))
        )
        if to_int(rtc_id) != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        if datetime is not None:
            self._machine.board.clock.set_time(_datetime_epoch(datetime))

    def init(self, *args, **kwargs) -> None:
        """Set the date and time: ``init((2024, 5, 17, 12, 30, 0, 0, None))``."""
        datetime, _source = parse(args, kwargs, (Param("datetime", None), Param("source", None)))
        if datetime is not None:
            self._machine.board.clock.set_time(_datetime_epoch(datetime))

    def now(self, *args, **kwargs) -> tuple:
        """``(year, month, day, hour, minute, second, usecond, None)`` (UTC)."""
        check_count((self, *args), kwargs, 1, 1)
        epoch = self._machine.board.clock.time()
        whole = int(epoch // 1)
        t = time.gmtime(whole)
        usecond = int((epoch - whole) * 1_000_000)
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, usecond, None)

    def ntp_sync(self, *args, **kwargs) -> None:
        """Start syncing with an NTP server. No packet leaves the simulator: the RTC takes the host's
        time and ``synced()`` turns True; ``ntp_sync(None)`` stops syncing."""
        server, period, backup = parse(
            args, kwargs, (Param("server"), Param("update_period", 3600), Param("backup_server", None))
        )
        if to_int(period) * 1000 < 15000:
            raise ValueError("update period cannot be shorter than 15 s")
        machine = self._machine
        machine.rtc_synced = False
        if server is None:
            return
        to_str(server)
        if backup is not None:
            to_str(backup)
        machine.board.clock.set_time(time.time())
        machine.rtc_synced = True

    def synced(self, *args, **kwargs) -> bool:
        check_count((self, *args), kwargs, 1, 1)
        return self._machine.rtc_synced

    def memory(self, *args, **kwargs) -> bytes | None:
        """RTC memory: up to 2048 bytes kept across resets and deep sleep (not power cycles)."""
        check_count((self, *args), kwargs, 1, 2)
        path = _pins.run_file(self._machine.board.flash, _RTC_MEMORY_FILE)
        if not args:
            try:
                return path.read_bytes()
            except OSError:
                return b""
        data = args[0]
        if isinstance(data, str):
            data = data.encode()
        try:
            data = bytes(memoryview(data))
        except TypeError:
            raise TypeError("object with buffer protocol required") from None
        if len(data) > _RTC_MEMORY_MAX:
            raise ValueError("buffer too long")
        path.write_bytes(data)
        return None


# -- WDT ---------------------------------------------------------------------------------------------


class WDT:
    """The watchdog (one per board): ``WDT(timeout=ms)``, then ``feed()`` in time or the board resets."""

    def __new__(cls, *args, **kwargs) -> WDT:
        machine = _machine()
        with machine.lock:
            if machine.wdt_obj is None:
                machine.wdt_obj = object.__new__(cls)
                machine.wdt_obj._machine = machine
            return machine.wdt_obj

    def __init__(self, *args, **kwargs) -> None:
        wdt_id, timeout = parse(args, kwargs, (Param("id", 0), Param("timeout")))
        wdt_id, timeout = to_int(wdt_id), to_int(timeout)
        if wdt_id != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        self._machine.wdt.start(timeout)

    def init(self, *args, **kwargs) -> None:
        (timeout,) = parse(args, kwargs, (Param("timeout"),))
        self._machine.wdt.start(to_int(timeout))

    def feed(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._machine.wdt.feed()

    def __repr__(self) -> str:
        return "<WDT>"


# -- UART --------------------------------------------------------------------------------------------

_UART_ARGS = (
    Param("baudrate", 9600),
    Param("bits", 8),
    Param("parity", None),
    Param("stop", None),
    Param("pins", None, True),
    Param("timeout_chars", 2, True),
    Param("rx_buffer_size", 512, True),
)


class UART:
    """``machine.UART``: UART 0 is the REPL's (writes go to the board's output); UART 1 and 2 send into
    the void and never receive."""

    EVEN, ODD = 2, 3  # ESP-IDF uart_parity_t

    def __new__(cls, *args, **kwargs) -> UART:
        uart_id = to_int(args[0] if args else kwargs.get("id", 1))
        if not 0 <= uart_id <= 2:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        machine = _machine()
        with machine.lock:
            found = machine.uarts.get(uart_id)
            if found is None:
                found = machine.uarts[uart_id] = object.__new__(cls)
                found._id = uart_id
                found._ready = False
                found._baudrate = 9600
            return found

    def __init__(self, *args, **kwargs) -> None:
        kwargs = dict(kwargs)
        kwargs.pop("id", None)
        if args[1:] or kwargs or not self._ready:
            self.init(*args[1:], **kwargs)

    def init(self, *args, **kwargs) -> None:
        baudrate, bits, parity, stop, _pins_arg, _timeout, rx_buffer = parse(args, kwargs, _UART_ARGS)
        bits = to_int(bits)
        if not 5 <= bits <= 8:
            raise ValueError(f"invalid bits size {bits}")
        if parity is not None and to_int(parity) not in (self.EVEN, self.ODD):
            raise ValueError(f"invalid parity {to_int(parity)}")
        stop_bits = 1.0 if stop is None else _to_float(stop)
        if stop_bits not in (1.0, 1.5, 2.0):
            raise ValueError(f"invalid stop bits {stop_bits:f}")
        if to_int(rx_buffer) <= 128:
            raise ValueError("invalid RX buffer size, should be > 128 bytes")
        self._baudrate = to_int(baudrate)
        self._ready = True

    def deinit(self) -> None:
        self._ready = False

    def _check(self) -> None:
        if not self._ready:
            raise OSError("UART not Initialized!")

    def any(self) -> int:
        self._check()
        return 0

    def read(self, *args) -> bytes | None:
        self._check()
        return None

    def readline(self, *args) -> bytes | None:
        self._check()
        return None

    def readinto(self, *args) -> int | None:
        self._check()
        return None

    def write(self, data: bytes | bytearray | str) -> int:
        self._check()
        raw = data.encode() if isinstance(data, str) else bytes(data)
        if self._id == 0:
            sys.stdout.write(raw.decode("utf-8", "replace"))
            sys.stdout.flush()
        return len(raw)

    def wait_tx_done(self, *args) -> bool:
        self._check()
        return True

    def sendbreak(self) -> None:
        self._check()

    def __repr__(self) -> str:
        return f"UART({self._id}, baudrate={self._baudrate}, bits=8, parity=None, stop=1)"


# -- the module as the board sees it -----------------------------------------------------------------

_BOARD_NAMES = (
    "reset", "reset_cause", "wake_reason", "remaining_sleep_time", "pin_sleep_wakeup", "deepsleep",
    "sleep", "idle", "unique_id", "freq", "rng", "temperature", "info", "main", "disable_irq",
    "enable_irq", "flash_encrypt", "secure_boot", "Pin", "Timer", "RTC", "WDT", "UART",
    "PWRON_RESET", "HARD_RESET", "WDT_RESET", "DEEPSLEEP_RESET", "SOFT_RESET", "BROWN_OUT_RESET",
    "PWRON_WAKE", "PIN_WAKE", "RTC_WAKE", "ULP_WAKE", "WAKEUP_ALL_LOW", "WAKEUP_ANY_HIGH",
)  # fmt: skip


def board_module() -> types.ModuleType:
    """``machine`` as a script imports it: the board's names only."""
    module = types.ModuleType("umachine")
    module.__dict__.update({name: globals()[name] for name in _BOARD_NAMES})
    return module


__all__ = [*_BOARD_NAMES, "mac_address", "board_module"]
