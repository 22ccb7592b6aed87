"""ST LIS2HH12 3-axis accelerometer (I2C address 0x1E), from its datasheet.

Registers (a pointer chip, :mod:`.registers`; the pointer advances while CTRL4's IF_ADD_INC is set,
the power-on state):

* ``0x0B``/``0x0C`` TEMP_L/H: temperature, 11 bits two's complement, 8 LSB per deg C, 0 at 25 deg C.
* ``0x0F`` WHO_AM_I 0x41. ``0x1E`` ACT_THS (7 bits, 1 LSB = full scale / 128), ``0x1F`` ACT_DUR
  (the inactivity duration, (8 * ACT_DUR + 1) / ODR s).
* ``0x20`` CTRL1 (power-on 0x07): ODR (6:4: power-down, 10, 50, 100, 200, 400, 800 Hz), Zen/Yen/Xen.
  ``0x21`` CTRL2: FDS (bit 2: the output registers give high-pass filtered data). ``0x22`` CTRL3:
  INT1_INACT (bit 5: the inactivity state on the INT1 pin). ``0x23`` CTRL4 (power-on 0x04): FS (5:4:
  00 = 2 g, 10 = 4 g, 11 = 8 g), IF_ADD_INC (bit 2). ``0x24`` CTRL5: SOFT_RESET (6), H_LACTIVE (1, the
  interrupt pins active low), PP_OD (0). ``0x25`` CTRL6: BOOT (7, clears itself).
* ``0x27`` STATUS: ZYXDA (3) and XDA/YDA/ZDA while running. ``0x28``..``0x2D`` OUT_X/Y/Z, low byte
  first, 16 bits two's complement: 0.061 / 0.122 / 0.244 mg per LSB at 2 / 4 / 8 g.

What it measures: the environment's ``acceleration`` ``[x, y, z]`` in g (lying flat, [0, 0, 1], when
none is set) and ``temperature``. In power-down the outputs keep their last values.

Activity/inactivity, as the datasheet describes it: the chip is inactive once every axis of the
(high-pass filtered: gravity removed) acceleration has stayed under ACT_THS for the ACT_DUR time,
active again as soon as one exceeds it. With INT1_INACT set the INT1 pin carries that state: high
while inactive, or (H_LACTIVE) low while inactive and high while active. On Pysense and Pytrack the
pin is wired to the module's P13 (``machine.Pin('P13')`` sees it; a callback fires on its edges) and to
the PIC, which can wake the board on it. A thread of the simulator samples the environment at the
output data rate while the interrupt is on. The high-pass filter is a first-order one with a 1 s time
constant (the chip's filter depends on CTRL2's DFC bits; not modelled).
"""

from __future__ import annotations

import math
import struct
import threading
import time
from typing import TYPE_CHECKING

from ..runtime import pins
from .registers import RegisterChip, clamp, number, numbers

if TYPE_CHECKING:
    from ..runtime.board import Board

ADDRESS = 0x1E
DEFAULT_ACCELERATION = [0.0, 0.0, 1.0]  # g: lying flat, face up
DEFAULT_TEMPERATURE = 22.0

TEMP_L, TEMP_H, WHO_AM_I, ACT_THS, ACT_DUR = 0x0B, 0x0C, 0x0F, 0x1E, 0x1F
CTRL1, CTRL2, CTRL3, CTRL4, CTRL5, CTRL6, CTRL7, STATUS = range(0x20, 0x28)
OUT_X_L, OUT_Z_H = 0x28, 0x2D
WHO_AM_I_VALUE = 0x41
DEFAULTS = {**dict.fromkeys(range(CTRL1, CTRL7 + 1), 0), WHO_AM_I: WHO_AM_I_VALUE, CTRL1: 0x07, CTRL4: 0x04}
READ_ONLY = frozenset({TEMP_L, TEMP_H, WHO_AM_I, STATUS, *range(OUT_X_L, OUT_Z_H + 1), 0x2F, 0x31, 0x37})

ODR_HZ = (0, 10, 50, 100, 200, 400, 800, 0)
FULL_SCALE_G = {0: 2.0, 1: 2.0, 2: 4.0, 3: 8.0}
IF_ADD_INC, FDS, INT1_INACT, SOFT_RESET, H_LACTIVE, BOOT = 0x04, 0x04, 0x20, 0x40, 0x02, 0x80
HIGH_PASS_TAU = 1.0  # board seconds: the simulated filter's time constant
INT1_PIN = "P13"  # the module pin INT1 is wired to on Pysense and Pytrack
MIN_POLL = 0.005  # host seconds: the interrupt thread never samples faster than this


class LIS2HH12(RegisterChip):
    """The LIS2HH12 on an expansion board's I2C bus, its INT1 pin on ``int1_pin``."""

    address = ADDRESS
    DEFAULTS = DEFAULTS

    def __init__(self, board: Board, int1_pin: str | None = INT1_PIN) -> None:
        super().__init__(board)
        self.int1_pin = int1_pin
        self.raw = [0, 0, 0]  # the output registers' values
        self._sampled: float | None = None  # board time of the last output sample
        self._low: list[float] | None = None  # the high-pass filter's state (gravity)
        self._low_t = 0.0
        self._inactive_since: float | None = None
        self.inactive = False
        self._thread: threading.Thread | None = None

    # -- what the chip measures ----------------------------------------------------------------------

    def _odr(self) -> int:
        return ODR_HZ[(self.regs[CTRL1] >> 4) & 0x07]

    def _full_scale(self) -> float:
        return FULL_SCALE_G[(self.regs[CTRL4] >> 4) & 0x03]

    def _filtered(self) -> tuple[list[float], list[float]]:
        """(acceleration now, its high-pass filtered part), the filter stepped to now."""
        accel = numbers(self.reading("acceleration", DEFAULT_ACCELERATION), DEFAULT_ACCELERATION)
        now = self.now()
        if self._low is None:
            self._low = list(accel)
        else:
            f = 1.0 - math.exp(-max(now - self._low_t, 0.0) / HIGH_PASS_TAU)
            self._low = [low + (a - low) * f for low, a in zip(self._low, accel, strict=True)]
        self._low_t = now
        return accel, [a - low for a, low in zip(accel, self._low, strict=True)]

    def _sample(self) -> None:
        """A new output sample (one per 1/ODR s of board time, as the chip's data rate)."""
        self._sampled = self.now()
        accel, high = self._filtered()
        values = high if self.regs[CTRL2] & FDS else accel
        per_lsb = self._full_scale() / 32768.0
        for axis in range(3):
            if self.regs[CTRL1] & (1 << axis):
                self.raw[axis] = clamp(values[axis] / per_lsb, -32768, 32767)

    def read_register(self, register: int) -> int:
        if OUT_X_L <= register <= OUT_Z_H:
            odr = self._odr()
            if odr and (self._sampled is None or self.now() - self._sampled >= 1.0 / odr):
                self._sample()
            return struct.pack("<hhh", *self.raw)[register - OUT_X_L]
        if register in (TEMP_L, TEMP_H):
            celsius = number(self.reading("temperature", DEFAULT_TEMPERATURE), DEFAULT_TEMPERATURE)
            code = clamp((celsius - 25.0) * 8, -1024, 1023)
            return struct.pack("<h", code)[register - TEMP_L]
        if register == STATUS:
            return 0x0F if self._odr() else 0x00
        return super().read_register(register)

    def next_register(self, register: int) -> int:
        return (register + 1) & 0x7F if self.regs[CTRL4] & IF_ADD_INC else register

    def write_register(self, register: int, value: int) -> None:
        if register in READ_ONLY:
            return
        if register == CTRL5 and value & SOFT_RESET:
            self.reset_registers()
            self._set_interrupt()
            return
        super().write_register(register, value & ~BOOT if register == CTRL6 else value)
        if register in (CTRL1, CTRL2, CTRL4):
            self._sampled = None  # the next read is a sample at the new rate, filter or scale
        if register in (CTRL1, CTRL3, CTRL5, ACT_THS, ACT_DUR):
            self._set_interrupt()

    # -- the activity interrupt ----------------------------------------------------------------------

    def _interrupt_on(self) -> bool:
        return bool(self.regs[CTRL3] & INT1_INACT) and self._odr() > 0

    def _set_interrupt(self) -> None:
        """Start the sampling thread when INT1_INACT is on (it ends itself when it goes off)."""
        if self.int1_pin is None:
            return
        if not self._interrupt_on():
            self._inactive_since, self.inactive = None, False
            pins.drive(self.int1_pin, None, self.board)
            return
        self.step_activity()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._watch, name="LIS2HH12 INT1", daemon=True)
            self._thread.start()
            if self._thread.ident is not None:
                self.board.own_threads.add(self._thread.ident)

    def step_activity(self) -> None:
        """One sample of the activity/inactivity function; the INT1 pin follows its state."""
        with self.lock:
            if not self._interrupt_on():
                return
            _, high = self._filtered()
            threshold = (self.regs.get(ACT_THS, 0) & 0x7F) * self._full_scale() / 128.0
            duration = (8 * self.regs.get(ACT_DUR, 0) + 1) / self._odr()
            now = self.now()
            if any(abs(h) > threshold for h in high):
                self._inactive_since, self.inactive = None, False
            elif self._inactive_since is None:
                self._inactive_since = now
            elif now - self._inactive_since >= duration:
                self.inactive = True
            level = int(self.inactive) ^ (1 if self.regs[CTRL5] & H_LACTIVE else 0)
            board, pin = self.board, self.int1_pin
        if pin is not None and pins.bank(board).state(pin).driven != level:
            pins.drive(pin, level, board)

    def _watch(self) -> None:
        board = self.board
        while pins.is_running(board):
            with self.lock:
                if not self._interrupt_on():
                    break
                odr = self._odr()
            self.step_activity()
            time.sleep(max(board.clock.host_seconds(1.0 / odr), MIN_POLL))
        board.own_threads.discard(threading.get_ident())
