"""What the peripheral files (``pwm``, ``rmt``, ``can`` ...) share: MicroPython 1.11's checks of sequence
and integer arguments (py/obj.c, ``MICROPY_ERROR_REPORTING_NORMAL`` as esp32/mpconfigport.h sets it),
and a bounded wait on the board clock for something from the outside world."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import TypeVar

from ...runtime import current
from ...runtime.pins import POLL_INTERVAL

T = TypeVar("T")
_FLOAT32 = struct.Struct("f")
SMALL_INT_MIN, SMALL_INT_MAX = -(2**30), 2**30 - 1  # a small int on the ESP32: 31 bits


def is_int(obj: object) -> bool:
    """``MP_OBJ_IS_INT``: an int (small or long); True and False are not."""
    return isinstance(obj, int) and not isinstance(obj, bool)


def is_small_int(obj: object) -> bool:
    """``MP_OBJ_IS_SMALL_INT``: an int that fits the board's 31-bit small ints (no bool)."""
    return isinstance(obj, int) and not isinstance(obj, bool) and SMALL_INT_MIN <= obj <= SMALL_INT_MAX


def float32(value: float) -> float:
    """``value`` as the board's single-precision float (``mp_obj_get_float``)."""
    return float(_FLOAT32.unpack(_FLOAT32.pack(value))[0])


def wait_for(ready: Callable[[], T | None], timeout: float | None) -> T | None:
    """Poll ``ready()`` until it gives something (not None), or ``timeout`` board seconds have passed
    (None: for ever, until Ctrl-C); what it gave last."""
    clock = current().clock
    end = None if timeout is None else clock.elapsed() + max(timeout, 0.0)
    while True:
        found = ready()
        if found is not None or (end is not None and clock.elapsed() >= end):
            return found
        time.sleep(POLL_INTERVAL)
