"""``machine``'s resets and sleep (``modmachine.c``, ``esp32/util/mpsleep.c``).

* ``reset()`` reboots the board (the process re-executes; flash and nvs persist). ``reset_cause()`` is
  then ``HARD_RESET``, what the name says and what MicroPython documents. The firmware itself resets
  through the watchdog (``machine_wdt_start(1)``), so a real board reports ``WDT_RESET`` (2) there: the
  default profile warns once when a script reads that cause, and a profile listing the quirk
  ``reset-cause-wdt`` reproduces it.
* ``deepsleep([ms])`` sleeps ``ms`` board milliseconds, then reboots with ``DEEPSLEEP_RESET`` and
  ``wake_reason() == (RTC_WAKE, None)``; pins given to ``pin_sleep_wakeup`` wake it early (``PIN_WAKE``
  with the list of pins). Without ``ms`` it sleeps until a wake pin or the end of the run. Pin, alarm
  and watchdog interrupts stop while it sleeps (the script's own threads cannot be stopped).
* ``sleep([ms])`` is a light sleep: execution goes on afterwards.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from network import profile as profiles
from network.coap.api.mpargs import Param, check_count, get_array, parse, to_int

from ...runtime import current, pins
from .consts import (
    DEEPSLEEP_RESET,
    HARD_RESET,
    PIN_WAKE,
    RESET_VIA_WDT,
    RTC_WAKE,
    WAKE_FILE,
    WAKEUP_ALL_LOW,
    WAKEUP_ANY_HIGH,
    WDT_RESET,
)
from .pin import find, pin_named
from .state import Machine, machine_part

if TYPE_CHECKING:
    from ...runtime.board import Board

WAKE_POLL = 0.01  # host seconds between looks at the wake pins while asleep


def reset(*args, **kwargs) -> None:
    """Reset the board (never returns)."""
    check_count(args, kwargs, 0, 0)
    board = current()
    cause = WDT_RESET if RESET_VIA_WDT.key in profiles.active().reproduces else HARD_RESET
    machine_part(board).go_down()
    board.reboot(cause, why="machine.reset()")


def reset_cause(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    cause = current().state.reset_cause
    if cause == HARD_RESET:
        profiles.active().quirk(RESET_VIA_WDT)
    return cause


def _wake_info(board: Board) -> dict:
    if board.state.wake_reason != PIN_WAKE:
        return {}
    try:
        info = json.loads(pins.run_file(board.flash, WAKE_FILE).read_text())
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
    machine = machine_part(board)
    names = [name for name in _wake_info(board).get("pins", []) if name in pins.GPIO]
    return (reason, [pin_named(machine, name) for name in names])


def remaining_sleep_time(*args, **kwargs) -> int:
    """Milliseconds of the last deep sleep left when a pin woke the board early (else 0)."""
    check_count(args, kwargs, 0, 0)
    return int(_wake_info(current()).get("remaining_ms", 0))


def pin_sleep_wakeup(*args, **kwargs) -> None:
    """Pins that wake the board from (deep) sleep: ``WAKEUP_ANY_HIGH`` or ``WAKEUP_ALL_LOW``."""
    wake_pins, mode, _enable_pull = parse(
        args, kwargs, (Param("pins"), Param("mode"), Param("enable_pull", False))
    )
    mode = to_int(mode)
    wake_pins = get_array(wake_pins)
    machine = machine_part()
    names = [find(machine, pin).id() for pin in wake_pins]
    if mode not in (WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH):
        raise ValueError(f"invalid wakeup mode {mode}")
    if any(pins.GPIO[name] not in pins.RTC_GPIOS for name in names):
        raise ValueError("deepsleep wake up is not supported on the selected pin(s)")
    machine.wake_pins = (names, mode) if names else None


def _woken_by(machine: Machine) -> list[str]:
    if machine.wake_pins is None:
        return []
    names, mode = machine.wake_pins
    bank = pins.bank(machine.board)
    levels = {name: bank.level(name) for name in names}
    if mode == WAKEUP_ANY_HIGH:
        return [name for name in names if levels[name]]
    return list(names) if not any(levels.values()) else []


def _sleep(machine: Machine, ms: int | None) -> tuple[list[str], float]:
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
        step = WAKE_POLL if machine.wake_pins is not None else 1.0
        time.sleep(step if left is None else min(step, left))


def deepsleep(*args, **kwargs) -> None:
    """Deep sleep ``ms`` board milliseconds (or until a wake pin / the end of the run), then reboot."""
    check_count(args, kwargs, 0, 1)
    ms = to_int(args[0]) if args else None
    board = current()
    machine = machine_part(board)
    machine.go_down()
    woken, left_ms = _sleep(machine, None if ms is None or ms < 0 else ms)
    if woken:
        wake = {"pins": woken, "remaining_ms": int(left_ms) if ms is not None else 0}
        pins.run_file(board.flash, WAKE_FILE).write_text(json.dumps(wake))
        board.reboot(DEEPSLEEP_RESET, PIN_WAKE, why="deep sleep (woken by a pin)")
    board.reboot(DEEPSLEEP_RESET, RTC_WAKE, why="deep sleep")


def sleep(*args, **kwargs) -> None:
    """Light sleep ``ms`` board milliseconds (or until a wake pin); execution then goes on."""
    check_count(args, kwargs, 0, 2)
    ms = to_int(args[0]) if args else None
    _sleep(machine_part(), None if ms is None or ms < 0 else ms)


def idle(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    time.sleep(0.0005)
