"""``gc`` on the board: MicroPython's heap figures for the board kind (no real heap is measured).

LoPy4, FiPy, GPy and WiPy 3 have 4 MB of PSRAM and a 2.5 MB MicroPython heap; LoPy and SiPy a 67 KB one
(``esp32/mptask.c`` ``GC_POOL_SIZE_BYTES*``). The used part starts at what a board uses after boot and
grows slowly with board time until ``collect()``, so scripts that watch ``mem_free()`` see it move.
"""

from __future__ import annotations

import threading
import types
import weakref
from typing import TYPE_CHECKING

from network.coap.api.mpargs import check_count, to_int

from ..runtime import current

if TYPE_CHECKING:
    from ..runtime.boot import Board

PSRAM_KINDS = frozenset({"lopy4", "fipy", "gpy", "wipy"})
BLOCK = 16  # MICROPY_BYTES_PER_GC_BLOCK
_GROWTH = 24  # bytes allocated per board second between collections


class _Heap:
    """The MicroPython heap of one board."""

    def __init__(self, board: Board) -> None:
        self.clock = board.clock
        self.psram = board.state.kind in PSRAM_KINDS
        pool = (2048 + 512) * 1024 if self.psram else 67 * 1024
        self.total = pool * 64 // 65 // BLOCK * BLOCK  # the allocation table takes its share
        self.base = 9_824 if self.psram else 9_296
        self.enabled = True
        self.threshold = -1
        self.lock_depth = 0
        self._collected_at = self.clock.elapsed()

    def used(self) -> int:
        grown = int((self.clock.elapsed() - self._collected_at) * _GROWTH)
        return self.base + min(grown, (self.total - self.base) // 2) // BLOCK * BLOCK

    def free(self) -> int:
        return self.total - self.used()

    def collect(self) -> None:
        self._collected_at = self.clock.elapsed()

    def internal_free(self) -> int:
        """Free internal RAM outside the MicroPython heap (``pycom.get_free_heap()[0]``)."""
        return 87_452 if self.psram else 51_288

    def psram_free(self) -> int | None:
        return 1_474_028 if self.psram else None

    def system_free(self) -> int:
        """``esp_get_free_heap_size()``: internal RAM and PSRAM."""
        return self.internal_free() + (self.psram_free() or 0)


_heaps: weakref.WeakKeyDictionary[Board, _Heap] = weakref.WeakKeyDictionary()
_heaps_lock = threading.Lock()


def _heap(board: Board | None = None) -> _Heap:
    board = current() if board is None else board
    with _heaps_lock:
        found = _heaps.get(board)
        if found is None:
            found = _heaps[board] = _Heap(board)
        return found


def collect(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    _heap().collect()


def mem_free(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return _heap().free()


def mem_alloc(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return _heap().used()


def enable(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    _heap().enabled = True


def disable(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    _heap().enabled = False


def isenabled(*args, **kwargs) -> bool:
    check_count(args, kwargs, 0, 0)
    return _heap().enabled


def threshold(*args, **kwargs) -> int | None:
    """``threshold()`` is -1 or the allocation threshold in bytes (whole GC blocks); ``threshold(n)``."""
    check_count(args, kwargs, 0, 1)
    heap = _heap()
    if not args:
        return heap.threshold
    value = to_int(args[0])
    heap.threshold = -1 if value < 0 else value // BLOCK * BLOCK
    return None


_BOARD_NAMES = ("collect", "mem_free", "mem_alloc", "enable", "disable", "isenabled", "threshold")


def board_module() -> types.ModuleType:
    """``gc`` as a script imports it."""
    module = types.ModuleType("gc")
    module.__dict__.update({name: globals()[name] for name in _BOARD_NAMES})
    return module
