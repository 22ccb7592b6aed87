"""``machine`` (``umachine``) on the board: resets, sleep, ``Pin``, ``Timer``, ``RTC``, ``WDT``, ``UART``.

As Pycom firmware 1.20 (``esp32/mods/modmachine.c``, ``machpin.c``, ``machtimer*.c``, ``machrtc.c``,
``machwdt.c``, ``machuart.c``), on the board's scaled clock. One file per seam, each documenting what
the firmware does there:

* :mod:`.resets`: ``reset()`` (``HARD_RESET``, or ``WDT_RESET`` as the firmware reports it with the
  quirk ``reset-cause-wdt``), ``deepsleep([ms])`` and ``pin_sleep_wakeup`` (``DEEPSLEEP_RESET`` with
  ``RTC_WAKE`` or ``PIN_WAKE``), light ``sleep``, ``reset_cause()``, ``wake_reason()``.
* :mod:`.irq`: interrupt handlers (``Pin.callback``, ``Timer.Alarm``) run one at a time in one "IRQs"
  thread; an uncaught exception prints ``Unhandled exception in callback handler`` and ends that
  thread, so no handler runs afterwards (until the next reset).
* :mod:`.pin`: ``Pin``, on the levels of :mod:`firmware_sim.runtime.pins` (tests drive inputs and read
  outputs there, or through the board's hidden ``pins.json`` / ``pins.jsonl`` files).
* :mod:`.timer` (``Timer.Alarm`` on :mod:`.alarms`, ``Timer.Chrono``), :mod:`.rtc_wdt` (``RTC``, whose
  ``ntp_sync()`` sends nothing, and ``WDT``, which reboots the board with ``WDT_RESET`` when it is not
  fed in time, on :mod:`.watchdog`), :mod:`.uart` (``UART(0)`` is the REPL's UART; UART 1 and 2 talk
  to the device on :mod:`firmware_sim.hardware.serial_lines`), :mod:`.mem` (``mem8``/``mem16``/``mem32``).
* :mod:`.system`: ``unique_id``, ``freq``, ``info``, ``main``, ``disable_irq`` / ``enable_irq`` ...
* :mod:`.state`: what the module keeps for a board session, a part of the board (closed at a soft
  reset); :mod:`.consts`: the constants and error messages.

A board whose script left an active alarm, a pin callback or a watchdog keeps running after ``main.py``
returns, as a real board waits for its interrupts (``--timeout`` or Ctrl-C ends it).

A new peripheral (``I2C``, ``SPI`` ...) is a file of its own holding its class; its per-board objects
live on the session's part (``machine_part().one(('I2C', 0), make)``), and its name goes in
``__all__`` below.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

from .consts import (
    BROWN_OUT_RESET,
    DEEPSLEEP_RESET,
    HARD_RESET,
    PIN_WAKE,
    PWRON_RESET,
    PWRON_WAKE,
    RTC_WAKE,
    SOFT_RESET,
    ULP_WAKE,
    WAKEUP_ALL_LOW,
    WAKEUP_ANY_HIGH,
    WDT_RESET,
)

if TYPE_CHECKING:
    from .adc import ADC
    from .can import CAN
    from .dac import DAC
    from .i2c import I2C
    from .mem import mem8, mem16, mem32
    from .pin import Pin
    from .pwm import PWM
    from .resets import (
        deepsleep,
        idle,
        pin_sleep_wakeup,
        remaining_sleep_time,
        reset,
        reset_cause,
        sleep,
        wake_reason,
    )
    from .rmt import RMT
    from .rtc_wdt import RTC, WDT
    from .sd import SD
    from .spi import SPI
    from .state import Machine
    from .system import (
        disable_irq,
        enable_irq,
        flash_encrypt,
        freq,
        info,
        mac_address,
        main,
        rng,
        secure_boot,
        temperature,
        unique_id,
    )
    from .timer import Timer
    from .touch import Touch
    from .uart import UART

# where each name lives; a file is imported when one of its names is first used (a script that only
# needs Pin never loads the buses, the analog parts or the chips behind them)
_HOME = {
    **dict.fromkeys(
        ("deepsleep", "idle", "pin_sleep_wakeup", "remaining_sleep_time", "reset", "reset_cause", "sleep"),
        "resets",
    ),
    "wake_reason": "resets",
    **dict.fromkeys(
        ("disable_irq", "enable_irq", "flash_encrypt", "freq", "info", "mac_address", "main", "rng"),
        "system",
    ),
    **dict.fromkeys(("secure_boot", "temperature", "unique_id"), "system"),
    **dict.fromkeys(("mem8", "mem16", "mem32"), "mem"),
    **dict.fromkeys(("RTC", "WDT"), "rtc_wdt"),
    **{name: name.lower() for name in ("ADC", "CAN", "DAC", "I2C", "Pin", "PWM", "RMT", "SD", "SPI")},
    **{name: name.lower() for name in ("Timer", "Touch", "UART")},
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "reset", "reset_cause", "wake_reason", "remaining_sleep_time", "pin_sleep_wakeup", "deepsleep",
    "sleep", "idle", "unique_id", "freq", "rng", "temperature", "info", "main", "disable_irq",
    "enable_irq", "flash_encrypt", "secure_boot", "Pin", "Timer", "RTC", "WDT", "UART",
    "PWRON_RESET", "HARD_RESET", "WDT_RESET", "DEEPSLEEP_RESET", "SOFT_RESET", "BROWN_OUT_RESET",
    "PWRON_WAKE", "PIN_WAKE", "RTC_WAKE", "ULP_WAKE", "WAKEUP_ALL_LOW", "WAKEUP_ANY_HIGH",
    "mac_address", "board_module",
]  # fmt: skip
__all__ += ["I2C", "SPI", "ADC", "DAC"]  # buses and analog (i2c.py, spi.py, adc.py, dac.py)
__all__ += ["PWM", "RMT", "Touch", "SD", "CAN"]  # pwm.py, rmt.py, touch.py, sd.py, can.py
__all__ += ["mem8", "mem16", "mem32"]  # mem.py
_SIMULATOR_NAMES = ("mac_address", "board_module")  # for the simulator: scripts do not see them
_BOARD_NAMES = tuple(name for name in __all__ if name not in _SIMULATOR_NAMES)


class _BoardModule(types.ModuleType):
    """``machine`` as a script sees it: the board's names only, each looked up on first use."""

    def __getattr__(self, name: str) -> Any:
        if name == "__all__":  # ``from machine import *``: every name, as MicroPython copies them all
            return list(_BOARD_NAMES)
        if name not in _BOARD_NAMES:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = globals()[name] if name in globals() else __getattr__(name)
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted({*self.__dict__, *_BOARD_NAMES})


def board_module() -> types.ModuleType:
    """``machine`` as a script imports it: the board's names only."""
    return _BoardModule("umachine")


def _machine() -> Machine:
    """The running board's ``machine`` part (the tests watch its IRQs thread through it)."""
    from .state import machine_part

    return machine_part()
