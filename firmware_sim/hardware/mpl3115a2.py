"""NXP MPL3115A2 pressure / altitude / temperature sensor (I2C address 0x60), from its datasheet.

Registers (a pointer chip, :mod:`.registers`):

* ``0x00`` STATUS (= ``0x06`` DR_STATUS with the FIFO off): TDR (bit 1), PDR (bit 2), PTDR (bit 3)
  when new data is in; the overwrite bits TOW/POW/PTOW (5..7) when data came before the last was
  read. Reading OUT_P_MSB clears PDR (and PTDR), reading OUT_T_MSB clears TDR (and PTDR).
* ``0x01``..``0x03`` OUT_P: barometer mode, Pascals as unsigned Q18.2 in 20 bits; altimeter mode
  (CTRL_REG1 ALT), metres as signed Q16.4 in 20 bits. ``0x04``/``0x05`` OUT_T: deg C as signed Q8.4.
* ``0x0C`` WHO_AM_I 0xC4; ``0x11`` SYSMOD (1 while active); ``0x12`` INT_SOURCE (SRC_DRDY, bit 7).
* ``0x13`` PT_DATA_CFG; ``0x14``/``0x15`` BAR_IN, the sea-level pressure in 2 Pa units (power-on
  101326 Pa) the altitude is computed against: h = 44330.77 * (1 - (p / p0) ** 0.1902632) m.
* ``0x26`` CTRL_REG1: ALT (7), RAW (6), OS (5:3, oversampling 2**OS), RST (2, software reset), OST
  (1, one-shot measurement), SBYB (0, active). ``0x27`` CTRL_REG2: ST (3:0), the 2**ST s between
  measurements in active mode. ``0x2B``..``0x2D`` OFF_P (4 Pa), OFF_T (0.0625 deg C), OFF_H (1 m),
  signed offsets added to the results.

Timing as the datasheet's: a measurement takes 6 ms at OS=0 to 512 ms at OS=7, on the board clock.
Going active starts a fresh acquisition (the flags clear; the first result comes a conversion time
later), then one every 2**ST s; OST in standby takes one. What it measures: the environment's
``pressure`` (Pa) and ``temperature`` (deg C) when a measurement completes. Not modelled: RAW mode, the
FIFO, the min/max and alarm registers, interrupts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .registers import RegisterChip, clamp, number, signed

if TYPE_CHECKING:
    from ..runtime.board import Board

ADDRESS = 0x60
DEFAULT_PRESSURE = 101325.0  # Pa, when the environment sets none
DEFAULT_TEMPERATURE = 22.0  # deg C

STATUS, OUT_P_MSB, OUT_P_CSB, OUT_P_LSB, OUT_T_MSB, OUT_T_LSB, DR_STATUS = range(7)
WHO_AM_I, SYSMOD, INT_SOURCE, PT_DATA_CFG, BAR_IN_MSB, BAR_IN_LSB = 0x0C, 0x11, 0x12, 0x13, 0x14, 0x15
CTRL_REG1, CTRL_REG2, OFF_P, OFF_T, OFF_H = 0x26, 0x27, 0x2B, 0x2C, 0x2D
LAST_REGISTER = 0x2D

WHO_AM_I_VALUE = 0xC4
SEA_LEVEL = 101326  # Pa, BAR_IN's power-on value (0xC5E7 in 2 Pa units)
DEFAULTS = {WHO_AM_I: WHO_AM_I_VALUE, BAR_IN_MSB: (SEA_LEVEL // 2) >> 8, BAR_IN_LSB: (SEA_LEVEL // 2) & 0xFF}
READ_ONLY = frozenset({STATUS, OUT_P_MSB, OUT_P_CSB, OUT_P_LSB, OUT_T_MSB, OUT_T_LSB, DR_STATUS, WHO_AM_I})
READ_ONLY |= {SYSMOD, INT_SOURCE}

SBYB, OST, RST, ALT = 0x01, 0x02, 0x04, 0x80
TDR, PDR, PTDR, TOW, POW, PTOW = 0x02, 0x04, 0x08, 0x20, 0x40, 0x80
CONVERSION_MS = (6, 10, 18, 34, 66, 130, 258, 512)  # by OS (oversampling 1 .. 128)


def altitude(pressure: float, sea_level: float) -> float:
    """Metres above the level where the pressure is ``sea_level`` (the datasheet's formula)."""
    if pressure <= 0 or sea_level <= 0:
        return 0.0
    return 44330.77 * (1.0 - math.pow(pressure / sea_level, 0.1902632))


def pressure_bytes(pascals: float) -> tuple[int, int, int]:
    """OUT_P in barometer mode: unsigned Q18.2 Pa, in the top 20 bits of three bytes."""
    code = clamp(pascals * 4, 0, (1 << 20) - 1)
    return code >> 12, (code >> 4) & 0xFF, (code & 0x0F) << 4


def altitude_bytes(metres: float) -> tuple[int, int, int]:
    """OUT_P in altimeter mode: signed Q16.4 m, in the top 20 bits of three bytes."""
    code = clamp(metres * 16, -(1 << 19), (1 << 19) - 1) & 0xFFFFF
    return code >> 12, (code >> 4) & 0xFF, (code & 0x0F) << 4


def temperature_bytes(celsius: float) -> tuple[int, int]:
    """OUT_T: signed Q8.4 deg C, in the top 12 bits of two bytes."""
    code = clamp(celsius * 16, -(1 << 11), (1 << 11) - 1) & 0xFFF
    return code >> 4, (code & 0x0F) << 4


class MPL3115A2(RegisterChip):
    """The MPL3115A2 on an expansion board's I2C bus."""

    address = ADDRESS
    DEFAULTS = DEFAULTS

    def __init__(self, board: Board) -> None:
        super().__init__(board)
        self.out = [0, 0, 0, 0, 0]  # OUT_P_MSB .. OUT_T_LSB
        self.flags = 0  # DR_STATUS
        self._next: float | None = None  # board time the next measurement completes
        self._period = 1.0
        self._one_shot = False

    # -- measurements --------------------------------------------------------------------------------

    def _conversion(self) -> float:
        return CONVERSION_MS[(self.regs.get(CTRL_REG1, 0) >> 3) & 0x07] / 1000.0

    def _schedule(self, start: float, one_shot: bool) -> None:
        self._one_shot = one_shot
        self._period = max(float(2 ** (self.regs.get(CTRL_REG2, 0) & 0x0F)), self._conversion())
        self._next = start + self._conversion()

    def _update(self) -> None:
        """Complete the measurements due by now (only the last one's values stay)."""
        if self._next is None:
            return
        now = self.now()
        if now < self._next:
            return
        done = 1 if self._one_shot else int((now - self._next) // self._period) + 1
        self._measure()
        new = TDR | PDR | PTDR
        overwritten = (self.flags & new) or done > 1
        self.flags |= new | ((TOW | POW | PTOW) if overwritten else 0)
        if self._one_shot:
            self._next = None
            self.regs[CTRL_REG1] = self.regs.get(CTRL_REG1, 0) & ~OST
        else:
            self._next += done * self._period

    def _measure(self) -> None:
        pressure = number(self.reading("pressure", DEFAULT_PRESSURE), DEFAULT_PRESSURE)
        pressure += signed(self.regs.get(OFF_P, 0), 8) * 4.0
        celsius = number(self.reading("temperature", DEFAULT_TEMPERATURE), DEFAULT_TEMPERATURE)
        celsius += signed(self.regs.get(OFF_T, 0), 8) * 0.0625
        if self.regs.get(CTRL_REG1, 0) & ALT:
            sea_level = 2 * ((self.regs[BAR_IN_MSB] << 8) | self.regs[BAR_IN_LSB])
            metres = altitude(pressure, sea_level) + signed(self.regs.get(OFF_H, 0), 8)
            self.out[0:3] = altitude_bytes(metres)
        else:
            self.out[0:3] = pressure_bytes(pressure)
        self.out[3:5] = temperature_bytes(celsius)

    # -- registers -----------------------------------------------------------------------------------

    def next_register(self, register: int) -> int:
        return 0 if register >= LAST_REGISTER else register + 1

    def read_register(self, register: int) -> int:
        self._update()
        if register in (STATUS, DR_STATUS):
            return self.flags
        if OUT_P_MSB <= register <= OUT_T_LSB:
            if register == OUT_P_MSB:
                self.flags &= ~(PDR | PTDR | POW | PTOW)
            elif register == OUT_T_MSB:
                self.flags &= ~(TDR | PTDR | TOW | PTOW)
            return self.out[register - OUT_P_MSB]
        if register == SYSMOD:
            return self.regs.get(CTRL_REG1, 0) & SBYB
        if register == INT_SOURCE:
            return 0x80 if self.flags & (TDR | PDR | PTDR) else 0
        return super().read_register(register)

    def write_register(self, register: int, value: int) -> None:
        if register in READ_ONLY or register > LAST_REGISTER:
            return
        if register != CTRL_REG1:
            super().write_register(register, value)
            return
        self._update()
        was_active = self.regs.get(CTRL_REG1, 0) & SBYB
        if value & RST:
            self.reset_registers()
            self.out, self.flags, self._next = [0, 0, 0, 0, 0], 0, None
            return
        super().write_register(register, value)
        if value & SBYB and not was_active:
            self.flags = 0
            self._schedule(self.now(), one_shot=False)
        elif not value & SBYB:
            if value & OST and self._next is None:
                self._schedule(self.now(), one_shot=True)
            elif was_active:
                self._next = None
