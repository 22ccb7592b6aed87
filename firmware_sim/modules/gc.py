"""``gc`` on the board: MicroPython's heap figures for the board kind (no real heap is measured).

The figures are the board's :class:`firmware_sim.runtime.heap.Heap` (2.5 MB on the boards with PSRAM,
67 KB on LoPy and SiPy); the used part grows slowly with board time until ``collect()``.
"""

from __future__ import annotations

import types

from network.coap.api.mpargs import check_count, to_int

from ..runtime.heap import BLOCK, heap


def collect(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    heap().collect()


def mem_free(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return heap().free()


def mem_alloc(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return heap().used()


def enable(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    heap().enabled = True


def disable(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    heap().enabled = False


def isenabled(*args, **kwargs) -> bool:
    check_count(args, kwargs, 0, 0)
    return heap().enabled


def threshold(*args, **kwargs) -> int | None:
    """``threshold()`` is -1 or the allocation threshold in bytes (whole GC blocks); ``threshold(n)``."""
    check_count(args, kwargs, 0, 1)
    figures = heap()
    if not args:
        return figures.threshold
    value = to_int(args[0])
    figures.threshold = -1 if value < 0 else value // BLOCK * BLOCK
    return None


_BOARD_NAMES = ("collect", "mem_free", "mem_alloc", "enable", "disable", "isenabled", "threshold")


def board_module() -> types.ModuleType:
    """``gc`` as a script imports it."""
    module = types.ModuleType("gc")
    module.__dict__.update({name: globals()[name] for name in _BOARD_NAMES})
    return module
