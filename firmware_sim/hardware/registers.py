"""What the register-file chips of the expansion boards share: a register pointer on the I2C bus.

The LTR-329ALS-01, the MPL3115A2 and the LIS2HH12 all talk the same way (their datasheets' "I2C
interface" sections): the first byte a master writes sets the register address pointer, further bytes
of the same write go into the registers from there on, and a read returns the registers from the
pointer on, the pointer advancing after each byte (``next_register`` says how; a chip may stop it). So
``writeto_mem(addr, reg, data)`` is one write ``[reg] + data``, and ``readfrom_mem(addr, reg, n)`` a
write of ``[reg]`` then a read of ``n`` bytes.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from ..runtime import environment

if TYPE_CHECKING:
    from ..runtime.board import Board


class RegisterChip:
    """An I2C slave with 8-bit registers behind an address pointer (the ``I2CDevice`` protocol of
    :mod:`.i2c`). A subclass gives ``address``, its power-on ``DEFAULTS`` and the register hooks."""

    address = 0
    DEFAULTS: dict[int, int] = {}

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self.lock = threading.RLock()
        self.pointer = 0
        self.regs: dict[int, int] = dict(self.DEFAULTS)

    # -- the outside world ---------------------------------------------------------------------------

    @property
    def board(self) -> Board:
        board = self._board()
        if board is None:  # pragma: no cover - a chip outlives its board only in a broken test
            raise RuntimeError("the board of this chip has ended")
        return board

    def now(self) -> float:
        """Board seconds since boot (the chip's own clock runs with the board's)."""
        return self.board.clock.elapsed()

    def reading(self, key: str, default: Any) -> Any:
        """What the environment sets for ``key`` now (``default`` when nothing is set)."""
        return environment.reading(key, default, self.board)

    # -- the bus -------------------------------------------------------------------------------------

    def write(self, data: bytes, stop: bool = True) -> None:
        """A write transaction: the register pointer, then the values of the registers from there."""
        if not data:
            return
        with self.lock:
            self.pointer = data[0]
            for value in data[1:]:
                self.write_register(self.pointer, value)
                self.pointer = self.next_register(self.pointer)

    def read(self, n: int, stop: bool = True) -> bytes:
        """A read transaction: ``n`` registers from the pointer on."""
        out = bytearray()
        with self.lock:
            for _ in range(n):
                out.append(self.read_register(self.pointer) & 0xFF)
                self.pointer = self.next_register(self.pointer)
        return bytes(out)

    # -- what a subclass changes ---------------------------------------------------------------------

    def next_register(self, register: int) -> int:
        """The pointer after an access to ``register`` (default: the next one, wrapping at 0xFF)."""
        return (register + 1) & 0xFF

    def read_register(self, register: int) -> int:
        """The value of ``register`` now (default: what was stored; 0 for an unknown one)."""
        return self.regs.get(register, 0)

    def write_register(self, register: int, value: int) -> None:
        """Store ``value`` in ``register`` (default: a plain read/write register)."""
        self.regs[register] = value & 0xFF

    def reset_registers(self) -> None:
        """Back to the power-on values (a software reset)."""
        self.regs = dict(self.DEFAULTS)


def signed(value: int, bits: int) -> int:
    """``value`` (the low ``bits`` bits) read as two's complement."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def clamp(value: float, low: int, high: int) -> int:
    """``value`` rounded to the nearest integer and kept in [low, high] (a converter saturates)."""
    return max(low, min(high, round(value)))


def number(value: Any, default: float) -> float:
    """A number from the environment, or ``default`` when the test set something else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def numbers(value: Any, default: list[float]) -> list[float]:
    """A list of numbers as long as ``default`` from the environment, or ``default``."""
    if isinstance(value, (list, tuple)) and len(value) >= len(default):
        picked = list(value)[: len(default)]
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in picked):
            return [float(x) for x in picked]
    return list(default)
