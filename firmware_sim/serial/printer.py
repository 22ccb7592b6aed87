"""What the serial commands print: the board's output live on our stdout, and every failure as one
``firmware-sim: error: <what> — <fix>`` line with an exit status (never a Python traceback).

Exit status: 0 ok; 1 the board raised, a command failed, or Ctrl-C; 2 the board could not be reached
(no such port, in use, not on this machine, no raw REPL). A board's traceback goes to stderr first.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import BinaryIO

from ..report import print_error
from .errors import BoardError, RunnerError


class OutputPrinter:
    """Prints what the board sends to our stdout as it comes, ``\\r\\n`` as ``\\n``; keeps the last
    few KB in ``tail`` to look at afterwards. Call it with each chunk; ``end()`` flushes a held ``\\r``."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self._cr = False
        self.tail = b""

    def __call__(self, data: bytes) -> None:
        if self._cr:
            data = b"\r" + data
        self._cr = data.endswith(b"\r")
        if self._cr:
            data = data[:-1]
        self.tail = (self.tail + data)[-4096:]
        self.stream.write(data.replace(b"\r\n", b"\n"))
        self.stream.flush()

    def end(self) -> None:
        """Write a ``\\r`` held back at the end of the last chunk (it was not the start of ``\\r\\n``)."""
        if self._cr:
            self._cr = False
            self.stream.write(b"\r")
            self.stream.flush()


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn every runner failure into one error line and an exit status; never a Python traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except BoardError as err:
            sys.stdout.flush()
            sys.stderr.write(err.traceback.replace("\r\n", "\n"))
            if not err.traceback.endswith("\n"):
                sys.stderr.write("\n")
            print_error(f"the code raised {err.message} on the board — see its traceback above")
            return 1
        except RunnerError as err:
            sys.stdout.flush()
            print_error(err)
            return err.exit_code
        except KeyboardInterrupt:
            print_error("interrupted (Ctrl-C) — run the command again when ready")
            return 1
        except OSError as err:  # local files
            name = f"{err.filename}: " if err.filename else ""
            print_error(f"{name}{err.strerror or err} — check the local path")
            return 1

    return run
