"""``_thread`` on the board: real threads; an uncaught exception prints as MicroPython does."""

from __future__ import annotations

import _thread as _host
import sys

from ..runtime import current
from ..runtime.traceback import format_exception

__all__ = ["LockType", "allocate_lock", "get_ident", "exit", "error", "stack_size", "start_new_thread"]

LockType = _host.LockType
allocate_lock = _host.allocate_lock
get_ident = _host.get_ident
exit = _host.exit  # noqa: A001  (board API)
error = RuntimeError
_stack_size = 4096


def stack_size(size: int | None = None) -> int:
    global _stack_size
    previous = _stack_size
    if size is not None:
        _stack_size = size
    return previous


def start_new_thread(function, args, kwargs=None) -> int:
    if not isinstance(args, tuple):
        raise TypeError("expecting a tuple")
    board = current()
    files = board.loader.files
    started = _host.allocate_lock()
    started.acquire()

    def run() -> None:
        ident = _host.get_ident()
        board.script_threads.add(ident)
        started.release()
        try:
            function(*args, **(kwargs or {}))
        except SystemExit:
            pass  # _thread.exit(), or the soft reset deleted it
        except BaseException as exc:
            sys.stdout.flush()
            sys.stderr.write(f"Unhandled exception in thread started by {function!r}\n")
            sys.stderr.write(format_exception(exc, files))
        finally:
            board.script_threads.discard(ident)

    ident = _host.start_new_thread(run, ())
    started.acquire()  # running when this returns: the board sees it before main.py can end
    return ident
