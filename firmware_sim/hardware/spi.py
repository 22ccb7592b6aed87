"""SPI buses as the wires see them: the chips on a clock and data line pair, selected by their CS pins.

A bus is identified by the pins its master drives (CLK, MOSI), not by the ``machine.SPI`` id, as
:mod:`.i2c` identifies an I2C bus by SDA/SCL. A device is any object with a ``cs`` pin name (its chip
select, active low, which the script drives with ``machine.Pin``; None: always selected) and a
full-duplex :meth:`SPIDevice.transfer`. ``machine.SPI`` hands each transfer to the devices selected
at that moment (:meth:`SPIBuses.transfer`) and reads MISO from their answers; when none is selected
the line is not driven and ``machine.SPI`` reads what a floating MISO reads.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Protocol

from ..runtime import current, pins

if TYPE_CHECKING:
    from ..runtime.board import Board


class SPIDevice(Protocol):
    """A chip on an SPI bus: selected while its ``cs`` pin is low (None: always selected)."""

    cs: str | None

    def transfer(self, data: bytes) -> bytes:
        """One full-duplex exchange: the chip reads ``data`` from MOSI and answers as many bytes on
        MISO (a chip that only listens answers ``0xFF`` bytes: it leaves MISO released)."""


class SPIBuses:
    """The SPI devices of one board, by the pins of their bus (a board part: ``board.part(SPIBuses)``)."""

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self._lock = threading.Lock()
        self._devices: dict[tuple[str, str], list[SPIDevice]] = {}

    def attach(self, clk: str, mosi: str, device: SPIDevice) -> None:
        """Wire ``device`` to the bus of pins ``clk``/``mosi`` (canonical names: ``'P10'``, ``'P11'``)."""
        with self._lock:
            self._devices.setdefault((clk, mosi), []).append(device)

    def detach(self, clk: str, mosi: str, device: SPIDevice) -> None:
        with self._lock:
            found = self._devices.get((clk, mosi), [])
            if device in found:
                found.remove(device)

    def devices(self, clk: str, mosi: str) -> list[SPIDevice]:
        """The devices wired to that bus (selected or not)."""
        with self._lock:
            return list(self._devices.get((clk, mosi), []))

    def transfer(self, clk: str, mosi: str, data: bytes) -> bytes | None:
        """Clock ``data`` out on the bus: every selected device gets it; what they answer together on
        MISO (a low bit wins, as on a shared line), or None when no device drives MISO."""
        board = self._board()
        if board is None:
            return None
        bank = pins.bank(board)
        answer: bytearray | None = None
        for device in self.devices(clk, mosi):
            if device.cs is not None and bank.level(pins.canonical(device.cs) or device.cs) != 0:
                continue
            reply = bytes(device.transfer(data)).ljust(len(data), b"\xff")[: len(data)]
            if answer is None:
                answer = bytearray(reply)
            else:
                for i, byte in enumerate(reply):
                    answer[i] &= byte
        return None if answer is None else bytes(answer)


def buses(board: Board | None = None) -> SPIBuses:
    """The SPI buses of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(SPIBuses)
