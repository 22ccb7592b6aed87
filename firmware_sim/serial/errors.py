"""The serial runner's errors: each says what went wrong (``what``) and how to fix it (``fix``).

``exit_code`` is 2 when the board could not be reached (:class:`ConnectError`), else 1.
"""

from __future__ import annotations

import posixpath
import re


class RunnerError(Exception):
    """A failure that names the problem (``what``) and the fix (``fix``)."""

    exit_code = 1

    def __init__(self, what: str, fix: str = "") -> None:
        super().__init__(what, fix)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.what} — {self.fix}" if self.fix else self.what


class ConnectError(RunnerError):
    """The port could not be opened (or may not be: not on this machine), or the board did not enter
    the raw REPL."""

    exit_code = 2


class BoardTimeout(RunnerError):
    """The board stayed silent past a deadline (or stopped reading what we send)."""


class PortGone(RunnerError):
    """The port disappeared (unplugged, the board process ended, the connection closed)."""


class ProtocolError(RunnerError):
    """The board answered something the REPL protocol does not allow at that point."""


class BoardReset(RunnerError):
    """The board restarted while it was running our code."""


class Interrupted(RunnerError):
    """Ctrl-C on the host stopped the program on the board."""


class BoardError(RunnerError):
    """The code raised on the board; ``traceback`` is the board's text, ``output`` what it printed."""

    def __init__(self, traceback: str, output: bytes = b"") -> None:
        self.traceback = traceback
        self.output = output
        lines = [line for line in traceback.strip().splitlines() if line.strip()]
        self.message = lines[-1].strip() if lines else "an exception"
        self.exc_type = re.split(r"[:\s]", self.message, maxsplit=1)[0]
        match = re.search(r"\[Errno (\d+)\] (E[A-Z]+)|OSError: (\d+)$", self.message)
        self.errno = int(match.group(1) or match.group(3)) if match else None
        self.errno_name = match.group(2) if match else None
        super().__init__(f"the board raised {self.message}")


class ProgramTimeout(BoardTimeout):
    """A program ran past its overall ``timeout`` and was stopped with Ctrl-C."""


class RemoteError(RunnerError):
    """A filesystem operation failed on the board (missing file, not a folder, full flash...)."""


def remote_error(err: BoardError, path: str, port: str) -> RemoteError:
    """The :class:`RemoteError` for a filesystem call on ``path`` that raised ``err`` on the board at
    ``port``: what the errno means there, and what to do."""
    name = err.errno_name or {2: "ENOENT", 17: "EEXIST", 20: "ENOTDIR", 21: "EISDIR", 28: "ENOSPC"}.get(
        err.errno or 0
    )
    if name == "ENOENT":
        return RemoteError(
            f"{path}: no such file or folder on the board",
            f"list what is there with `firmware-sim ls --port {port} {posixpath.dirname(path) or '/'}`",
        )
    if name == "ENOTDIR":
        return RemoteError(f"{path}: a file on the board is in the way of a folder", "remove or rename it")
    if name == "EISDIR":
        return RemoteError(f"{path}: is a folder on the board", "use rm -r to remove a folder")
    if name == "EEXIST":
        return RemoteError(f"{path}: already exists on the board", "remove it first")
    if name == "ENOSPC":
        return RemoteError(
            f"{path}: the board's flash is full", "remove files from it (firmware-sim rm) and retry"
        )
    if name in ("EACCES", "EPERM", "EINVAL"):
        return RemoteError(f"{path}: the board refused ({err.message})", "check the path")
    return RemoteError(f"{path}: the board raised {err.message}", "see the board's traceback above")
