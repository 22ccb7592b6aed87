"""I2C buses as the wires see them: the devices that answer on a pair of pins, one transaction at a time.

A bus is identified by its pins (SDA, SCL), not by the ``machine.I2C`` id that drives it: an expansion
board's chips sit on P22/P21 whichever controller a script configures there. A device is any object with
an ``address`` and the two transactions :class:`I2CDevice` names; ``machine.I2C`` (the master) finds the
device at an address with :meth:`I2CBuses.device` and calls it, and raises what the firmware raises
when none answers (no ACK).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from ..runtime import current
from .shields import fit

if TYPE_CHECKING:
    from ..runtime.board import Board


class I2CDevice(Protocol):
    """A chip on an I2C bus (7-bit ``address``)."""

    address: int

    def write(self, data: bytes, stop: bool = True) -> None:
        """A write transaction: START, address+W (acked), ``data`` (may be empty), then STOP unless
        ``stop`` is false (a repeated START follows, as ``readfrom_mem`` does after the register)."""

    def read(self, n: int, stop: bool = True) -> bytes:
        """A read transaction of ``n`` bytes (START or repeated START, address+R)."""


class I2CBuses:
    """The I2C devices of one board, by the pins of their bus (a board part: ``board.part(I2CBuses)``).
    Made on the first use of the buses, with the chips of the board's expansion board (``--shield``,
    :func:`.shields.fit`) already on them."""

    def __init__(self, board: Board) -> None:
        self._lock = threading.Lock()
        self._devices: dict[tuple[str, str], dict[int, I2CDevice]] = {}
        fit(board, self)

    def attach(self, sda: str, scl: str, device: I2CDevice) -> None:
        """Put ``device`` on the bus of pins ``sda``/``scl`` (canonical names: ``'P22'``, ``'P21'``)."""
        with self._lock:
            self._devices.setdefault((sda, scl), {})[device.address] = device

    def detach(self, sda: str, scl: str, address: int) -> None:
        with self._lock:
            self._devices.get((sda, scl), {}).pop(address, None)

    def device(self, sda: str, scl: str, address: int) -> I2CDevice | None:
        """The device that acknowledges ``address`` on that bus, or None (a NACK)."""
        with self._lock:
            return self._devices.get((sda, scl), {}).get(address)

    def addresses(self, sda: str, scl: str) -> list[int]:
        """The addresses that answer on that bus, ascending (what ``I2C.scan()`` finds)."""
        with self._lock:
            return sorted(self._devices.get((sda, scl), {}))


def buses(board: Board | None = None) -> I2CBuses:
    """The I2C buses of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(I2CBuses)
