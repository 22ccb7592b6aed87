"""``micropython`` on the board, as Pycom builds it (MicroPython 1.11, ``py/modmicropython.c``).

``const``, ``opt_level``, ``mem_info``, ``qstr_info``, ``stack_use``, ``heap_lock``/``heap_unlock``,
``alloc_emergency_exception_buf`` and ``kbd_intr(c[, reset_c])`` (Pycom's second argument is the Ctrl-F
safe-boot character). Pycom's firmware is built without the scheduler and without native emitters, so
``micropython.schedule`` does not exist (``AttributeError``, as on the board) and neither do the
``native``/``viper``/``asm_xtensa`` decorators (the board's compiler rejects them).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from network.coap.api.mpargs import check_count, to_int

from ..runtime import current
from ..runtime.heap import heap

if TYPE_CHECKING:
    from ..runtime.board import Board

_STACK_LIMIT_PSRAM = 12 * 1024 - 1024  # esp32/mptask.h MICROPY_TASK_STACK_SIZE_PSRAM, less the margin
_STACK_LIMIT = 8 * 1024 - 1024


class Compiler:
    """What ``micropython`` keeps for one board (a board part): the compiler's optimisation level."""

    def __init__(self, board: Board) -> None:
        self.opt_level = 0


def const(*args, **kwargs):
    """The expression itself (the board's compiler folds it)."""
    check_count(args, kwargs, 1, 1)
    return args[0]


def opt_level(*args, **kwargs) -> int | None:
    """``opt_level()`` -> the level; ``opt_level(n)`` sets it (the simulator compiles the same)."""
    check_count(args, kwargs, 0, 1)
    compiler = current().part(Compiler)
    if not args:
        return compiler.opt_level
    compiler.opt_level = to_int(args[0])
    return None


def _stack_use(depth_from: int = 2) -> int:
    frame: types.FrameType | None = sys._getframe(depth_from)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return 352 + 56 * depth


def stack_use(*args, **kwargs) -> int:
    """Bytes of the board's stack in use (grows with the call depth of the script)."""
    check_count(args, kwargs, 0, 0)
    return _stack_use()


def mem_info(*args, **kwargs) -> None:
    """Print the stack and heap figures; ``mem_info(1)`` adds (the start of) the heap's block table."""
    check_count(args, kwargs, 0, 1)
    figures = heap()
    used, free, total = figures.used(), figures.free(), figures.total
    limit = _STACK_LIMIT_PSRAM if figures.psram else _STACK_LIMIT
    blocks = used // 16
    lines = [
        f"stack: {_stack_use()} out of {limit}",
        f"GC: total: {total}, used: {used}, free: {free}",
        f" No. of 1-blocks: {blocks * 2 // 5}, 2-blocks: {blocks // 9}, max blk sz: 264, "
        f"max free sz: {free // 16 - 64}",
    ]
    if args:
        lines.append("GC memory layout; from 3f8c7c30:")
        pattern = "h=hhhhBhhBTTBDhTBDBBBh===DBDh====B=BBBBBBTB=BTB=BBBTB=TBTB=Bh=="
        full_lines = min(used // 16 // 64, 24)
        for row in range(max(full_lines, 1)):
            lines.append(f"{row * 1024:05x}: {pattern}")
        lines.append(f"       ({total // 1024 - max(full_lines, 1)} lines all free)")
    print("\n".join(lines))


def qstr_info(*args, **kwargs) -> None:
    """Print the interned-string pool figures (``qstr_info(1)`` is no more verbose here)."""
    check_count(args, kwargs, 0, 1)
    print("qstr pool: n_pool=1, n_qstr=52, n_str_data_bytes=521, n_total_bytes=1417")


def heap_lock(*args, **kwargs) -> None:
    """Count a heap lock (allocations are not actually refused)."""
    check_count(args, kwargs, 0, 0)
    heap().lock_depth += 1


def heap_unlock(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    figures = heap()
    figures.lock_depth = max(figures.lock_depth - 1, 0)


def alloc_emergency_exception_buf(*args, **kwargs) -> None:
    check_count(args, kwargs, 1, 1)
    to_int(args[0])


def kbd_intr(*args, **kwargs) -> None:
    """Set the character that raises KeyboardInterrupt (-1: none) and, on Pycom, the safe-boot one.

    The board keeps them as ``interrupt_char`` / ``reset_char`` (the simulator's Ctrl-C handling reads
    ``interrupt_char``)."""
    check_count(args, kwargs, 1, 2)
    char = to_int(args[0])
    board = current()
    board.interrupt_char = char
    if len(args) > 1:
        board.reset_char = to_int(args[1])
    elif char == -1:
        board.reset_char = -1


_BOARD_NAMES = (
    "const", "opt_level", "mem_info", "qstr_info", "stack_use", "alloc_emergency_exception_buf",
    "heap_lock", "heap_unlock", "kbd_intr",
)  # fmt: skip


def board_module() -> types.ModuleType:
    """``micropython`` as a script imports it."""
    module = types.ModuleType("micropython")
    module.__dict__.update({name: globals()[name] for name in _BOARD_NAMES})
    return module
