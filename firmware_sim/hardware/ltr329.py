"""Lite-On LTR-329ALS-01 ambient light sensor (I2C address 0x29), from its datasheet.

Registers (a pointer chip, :mod:`.registers`):

* ``0x80`` ALS_CONTR: gain (bits 4:2: 0 = 1x, 1 = 2x, 2 = 4x, 3 = 8x, 6 = 48x, 7 = 96x), SW reset
  (bit 1, resets every register and clears itself), ALS mode (bit 0: 1 active, 0 standby, the
  power-on state).
* ``0x85`` ALS_MEAS_RATE: integration time (bits 5:3) and measurement rate (bits 2:0), power-on 0x03.
* ``0x86`` PART_ID 0xA0, ``0x87`` MANUFAC_ID 0x05 (read-only).
* ``0x88``..``0x8B`` ALS_DATA_CH1_0, CH1_1, CH0_0, CH0_1: the two channels' 16-bit counts, low byte
  first. Reading CH1_0 latches all four until CH0_1 is read, as the datasheet asks them to be read.
* ``0x8C`` ALS_STATUS: data valid (bit 7, 0 = valid), the gain of the data (bits 6:4), new data
  (bit 2).

What it measures: the environment's ``light``, ``[ch0, ch1]`` as raw counts (what the registers hold
at the gain and integration time the test has in mind), while the chip is active; in standby the data
registers keep their last values (0 after power-on). Not modelled: the integration and measurement
timing (a reading is taken when the data registers are read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registers import RegisterChip, clamp, numbers

if TYPE_CHECKING:
    from ..runtime.board import Board

ADDRESS = 0x29
DEFAULT_LIGHT = [300.0, 150.0]  # [ch0, ch1] counts when the environment sets none

ALS_CONTR, ALS_MEAS_RATE, PART_ID, MANUFAC_ID = 0x80, 0x85, 0x86, 0x87
CH1_LOW, CH1_HIGH, CH0_LOW, CH0_HIGH, ALS_STATUS = 0x88, 0x89, 0x8A, 0x8B, 0x8C
DATA = (CH1_LOW, CH1_HIGH, CH0_LOW, CH0_HIGH)

PART_ID_VALUE, MANUFAC_ID_VALUE = 0xA0, 0x05
DEFAULTS = {ALS_CONTR: 0x00, ALS_MEAS_RATE: 0x03, PART_ID: PART_ID_VALUE, MANUFAC_ID: MANUFAC_ID_VALUE}
ACTIVE, SW_RESET = 0x01, 0x02
WRITABLE = (ALS_CONTR, ALS_MEAS_RATE)


class LTR329(RegisterChip):
    """The LTR-329ALS-01 on an expansion board's I2C bus."""

    address = ADDRESS
    DEFAULTS = DEFAULTS

    def __init__(self, board: Board) -> None:
        super().__init__(board)
        self.counts = (0, 0)  # (ch0, ch1) in the data registers
        self._latched: tuple[int, int] | None = None
        self._new = False

    def _measure(self) -> tuple[int, int]:
        if self.regs[ALS_CONTR] & ACTIVE:
            ch0, ch1 = numbers(self.reading("light", DEFAULT_LIGHT), DEFAULT_LIGHT)
            self.counts = (clamp(ch0, 0, 0xFFFF), clamp(ch1, 0, 0xFFFF))
            self._new = True
        return self.counts

    def read_register(self, register: int) -> int:
        if register in DATA:
            if register == CH1_LOW or self._latched is None:
                self._latched = self._measure()
            ch0, ch1 = self._latched
            if register == CH0_HIGH:
                self._latched, self._new = None, False
            return {CH1_LOW: ch1, CH1_HIGH: ch1 >> 8, CH0_LOW: ch0, CH0_HIGH: ch0 >> 8}[register] & 0xFF
        if register == ALS_STATUS:
            gain = (self.regs[ALS_CONTR] >> 2) & 0x07
            return (gain << 4) | (0x04 if self._new or self.regs[ALS_CONTR] & ACTIVE else 0)
        return super().read_register(register)

    def write_register(self, register: int, value: int) -> None:
        if register not in WRITABLE:
            return  # read-only or reserved
        if register == ALS_CONTR and value & SW_RESET:
            self.reset_registers()
            self.counts, self._latched = (0, 0), None
            return
        super().write_register(register, value)
