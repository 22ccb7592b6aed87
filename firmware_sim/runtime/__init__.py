"""A simulated board in this process: its state, clock, flash, import system and boot sequence.

One board per process. ``current()`` is the running board; the MicroPython modules in
``firmware_sim.modules`` use it for the flash, the clock and reboots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .board import Board

_current: Board | None = None


def current() -> Board:
    """The board running in this process; RuntimeError when there is none."""
    if _current is None:
        raise RuntimeError("no simulated board is running in this process")
    return _current


def running() -> Board | None:
    """The board running in this process, or None (a background thread of an ended board asks)."""
    return _current


def set_current(board: Board | None) -> None:
    global _current
    _current = board
