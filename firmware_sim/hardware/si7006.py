"""Silicon Labs Si7006-A20 humidity and temperature sensor (I2C address 0x40), from its datasheet.

A command-driven chip (no register pointer): a master writes a command, then reads its answer.

* ``0xE5``/``0xF5`` measure relative humidity (hold / no-hold master mode), ``0xE3``/``0xF3``
  temperature; the answer is the 16-bit code, most significant byte first, then an optional CRC-8
  (polynomial x^8+x^5+x^4+1, initial 0x00) when the master reads a third byte. %RH =
  125 * code / 65536 - 6, deg C = 175.72 * code / 65536 - 46.85; the code keeps as many bits as the
  resolution of user register 1 (RES1:RES0 = 00: RH 12 bits, T 14 bits, the default; 01: 8/12;
  10: 10/13; 11: 11/11).
* ``0xE0`` reads the temperature measured along with the last humidity (no CRC).
* ``0xE6``/``0xE7`` write/read user register 1 (power-on 0x3A), ``0x51``/``0x11`` the heater
  control register (power-on 0x00, low 4 bits), ``0xFE`` resets both.
* ``0xFA 0x0F`` / ``0xFC 0xC9`` read the electronic serial number (each byte or pair followed by the
  CRC of the bytes so far; SNB_3 is the device id, 0x06 for a Si7006), ``0x84 0xB8`` the firmware
  revision (0x20: 2.0).

What it measures: the environment's ``temperature`` (deg C) and ``humidity`` (%RH) at the board
time of the measurement command. Not modelled: the conversion time (a no-hold read before it ends is
NACKed by the chip; here the result is ready at once) and the heater's warming of the sensor.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from ..runtime import environment
from .registers import clamp, number

if TYPE_CHECKING:
    from ..runtime.board import Board

ADDRESS = 0x40
DEFAULT_TEMPERATURE = 22.0  # deg C, when the environment sets none
DEFAULT_HUMIDITY = 40.0  # %RH

MEASURE_RH_HOLD, MEASURE_RH = 0xE5, 0xF5
MEASURE_T_HOLD, MEASURE_T = 0xE3, 0xF3
READ_T_OF_RH = 0xE0
RESET = 0xFE
WRITE_USER_REG1, READ_USER_REG1 = 0xE6, 0xE7
WRITE_HEATER, READ_HEATER = 0x51, 0x11
ID_FIRST, ID_SECOND, FIRMWARE = (0xFA, 0x0F), (0xFC, 0xC9), (0x84, 0xB8)

USER_REG1_RESET = 0x3A
HEATER_RESET = 0x00
DEVICE_ID = 0x06  # SNB_3 of a Si7006
FIRMWARE_REVISION = 0x20  # firmware 2.0 (the -A20 parts)
SERIAL_A = (0x1A, 0x2B, 0x3C, 0x4D)  # SNA_3..SNA_0: this simulated chip's serial number
SERIAL_B = (DEVICE_ID, 0xFF, 0x5E, 0x6F)  # SNB_3..SNB_0

# (RH bits, T bits) by user register 1's RES1 (bit 7) and RES0 (bit 0)
RESOLUTION = {(0, 0): (12, 14), (0, 1): (8, 12), (1, 0): (10, 13), (1, 1): (11, 11)}


def crc8(data: bytes) -> int:
    """The Si70xx checksum: CRC-8, polynomial 0x31 (x^8+x^5+x^4+1), initial value 0x00."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def humidity_code(rh: float, bits: int = 12) -> int:
    """The 16-bit RH code of ``rh`` %RH at ``bits`` of resolution (the low bits zero)."""
    step = 1 << (16 - bits)
    return clamp((rh + 6.0) * 65536.0 / 125.0 / step, 0, (1 << bits) - 1) * step


def temperature_code(celsius: float, bits: int = 14) -> int:
    """The 16-bit temperature code of ``celsius`` at ``bits`` of resolution."""
    step = 1 << (16 - bits)
    return clamp((celsius + 46.85) * 65536.0 / 175.72 / step, 0, (1 << bits) - 1) * step


def _with_crc(code: int) -> bytes:
    data = bytes([code >> 8, code & 0xFF])
    return data + bytes([crc8(data)])


def _serial(first: bool) -> bytes:
    """The electronic id answer: each SNA byte, or each pair of SNB bytes, then the CRC so far."""
    out, seen = bytearray(), bytearray()
    if first:
        for byte in SERIAL_A:
            seen.append(byte)
            out += bytes([byte, crc8(bytes(seen))])
    else:
        for pair in (SERIAL_B[:2], SERIAL_B[2:]):
            seen += bytes(pair)
            out += bytes(pair) + bytes([crc8(bytes(seen))])
    return bytes(out)


class SI7006:
    """The Si7006-A20 on an expansion board's I2C bus."""

    address = ADDRESS

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self._lock = threading.Lock()
        self.user_reg = USER_REG1_RESET
        self.heater = HEATER_RESET
        self._answer = b""
        self._t_of_rh = temperature_code(DEFAULT_TEMPERATURE)

    def _reading(self, key: str, default: float) -> float:
        board = self._board()
        return default if board is None else number(environment.reading(key, default, board), default)

    def _bits(self) -> tuple[int, int]:
        return RESOLUTION[((self.user_reg >> 7) & 1, self.user_reg & 1)]

    def write(self, data: bytes, stop: bool = True) -> None:
        if not data:
            return
        with self._lock:
            self._answer = self._command(bytes(data))

    def _command(self, data: bytes) -> bytes:
        command = data[0]
        rh_bits, t_bits = self._bits()
        if command in (MEASURE_RH, MEASURE_RH_HOLD):
            celsius = self._reading("temperature", DEFAULT_TEMPERATURE)
            self._t_of_rh = temperature_code(celsius, t_bits)
            return _with_crc(humidity_code(self._reading("humidity", DEFAULT_HUMIDITY), rh_bits))
        if command in (MEASURE_T, MEASURE_T_HOLD):
            return _with_crc(temperature_code(self._reading("temperature", DEFAULT_TEMPERATURE), t_bits))
        if command == READ_T_OF_RH:
            return bytes([self._t_of_rh >> 8, self._t_of_rh & 0xFF])
        if command == READ_USER_REG1:
            return bytes([self.user_reg])
        if command == READ_HEATER:
            return bytes([self.heater])
        if command == WRITE_USER_REG1 and len(data) > 1:
            self.user_reg = data[1]
        elif command == WRITE_HEATER and len(data) > 1:
            self.heater = data[1] & 0x0F
        elif command == RESET:
            self.user_reg, self.heater = USER_REG1_RESET, HEATER_RESET
        elif tuple(data[:2]) == ID_FIRST:
            return _serial(first=True)
        elif tuple(data[:2]) == ID_SECOND:
            return _serial(first=False)
        elif tuple(data[:2]) == FIRMWARE:
            return bytes([FIRMWARE_REVISION])
        return b""

    def read(self, n: int, stop: bool = True) -> bytes:
        """The answer to the last command (bytes past its end read as 0xFF: SDA left high)."""
        with self._lock:
            answer = self._answer
        return (answer + b"\xff" * n)[:n]
