"""The board's memory figures: MicroPython's heap and the ESP32's free RAM (no real heap is measured).

LoPy4, FiPy, GPy and WiPy 3 have 4 MB of PSRAM and a 2.5 MB MicroPython heap; LoPy and SiPy a 67 KB one
(``esp32/mptask.c`` ``GC_POOL_SIZE_BYTES*``). The used part starts at what a board uses after boot and
grows slowly with board time until a collection, so scripts that watch ``gc.mem_free()`` see it move.
``gc``, ``micropython``, ``pycom.get_free_heap()`` and ``machine.info()`` read the same figures: the
board's one :class:`Heap` part (``heap()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import current

if TYPE_CHECKING:
    from .board import Board

PSRAM_KINDS = frozenset({"lopy4", "fipy", "gpy", "wipy"})
BLOCK = 16  # MICROPY_BYTES_PER_GC_BLOCK
GROWTH = 24  # bytes allocated per board second between collections


class Heap:
    """The MicroPython heap of one board and the free RAM around it (a board part)."""

    def __init__(self, board: Board) -> None:
        self.clock = board.clock
        self.psram = board.state.kind in PSRAM_KINDS
        pool = (2048 + 512) * 1024 if self.psram else 67 * 1024
        self.total = pool * 64 // 65 // BLOCK * BLOCK  # the allocation table takes its share
        self.base = 9_824 if self.psram else 9_296
        self.enabled = True  # gc.enable() / gc.disable()
        self.threshold = -1  # gc.threshold()
        self.lock_depth = 0  # micropython.heap_lock() / heap_unlock()
        self._collected_at = self.clock.elapsed()

    def used(self) -> int:
        """Bytes of the heap in use now (whole GC blocks)."""
        grown = int((self.clock.elapsed() - self._collected_at) * GROWTH)
        return self.base + min(grown, (self.total - self.base) // 2) // BLOCK * BLOCK

    def free(self) -> int:
        return self.total - self.used()

    def collect(self) -> None:
        """A collection: the heap is back to what the board uses after boot."""
        self._collected_at = self.clock.elapsed()

    def internal_free(self) -> int:
        """Free internal RAM outside the MicroPython heap (``pycom.get_free_heap()[0]``)."""
        return 87_452 if self.psram else 51_288

    def psram_free(self) -> int | None:
        """Free PSRAM outside the heap; None on a board kind without PSRAM."""
        return 1_474_028 if self.psram else None

    def system_free(self) -> int:
        """``esp_get_free_heap_size()``: internal RAM and PSRAM."""
        return self.internal_free() + (self.psram_free() or 0)


def heap(board: Board | None = None) -> Heap:
    """The heap of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(Heap)
