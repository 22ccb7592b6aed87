"""The board's ``/flash``: a real folder, seen through board paths, with no way out of it.

Board paths are POSIX paths under ``/flash`` (the working directory at boot). Anything that
normalises outside ``/flash`` (``/flash/../../etc/passwd``), or escapes through a symlink, does not
exist for the board: ``OSError: [Errno 2] ENOENT``, as on the device. Errors carry MicroPython's
errno names. The simulator's own files (nvs) live in ``/flash/.firmware-sim``, invisible to the board.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import posixpath
from collections.abc import Iterator
from pathlib import Path

ROOT = "/flash"
HIDDEN = ".firmware-sim"

_NAMES = {
    errno.ENOENT: "ENOENT",
    errno.EEXIST: "EEXIST",
    errno.EACCES: "EACCES",
    errno.EISDIR: "EISDIR",
    errno.ENOTDIR: "ENOTDIR",
    errno.EINVAL: "EINVAL",
    errno.ENOTEMPTY: "ENOTEMPTY",
    errno.ENOSPC: "ENOSPC",
    errno.EBADF: "EBADF",
}


def mp_oserror(code: int) -> OSError:
    """``OSError: [Errno 2] ENOENT`` as MicroPython prints it."""
    return OSError(code, _NAMES.get(code, errno.errorcode.get(code, str(code))))


@contextlib.contextmanager
def mp_errors() -> Iterator[None]:
    """Re-raise host filesystem errors as the board's ``OSError(errno, NAME)``."""
    try:
        yield
    except OSError as err:
        if err.errno is None or err.args[1:2] == (_NAMES.get(err.errno),):
            raise
        raise mp_oserror(err.errno) from None


class Flash:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.cwd = ROOT
        for folder in ("lib", "cert", "sys", HIDDEN):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def board_path(self, path: str | bytes) -> str:
        if isinstance(path, bytes):
            path = path.decode()
        if not isinstance(path, str):
            raise TypeError(f"can't convert '{type(path).__name__}' object to str implicitly")
        return posixpath.normpath(posixpath.join(self.cwd, path))

    def real(self, path: str | bytes) -> Path:
        """The host path of board ``path``; ENOENT for anything outside ``/flash``."""
        board = self.board_path(path)
        if board != ROOT and not board.startswith(ROOT + "/"):
            raise mp_oserror(errno.ENOENT)
        rel = board[len(ROOT) :].lstrip("/")
        if rel.split("/", 1)[0] == HIDDEN:
            raise mp_oserror(errno.ENOENT)
        real = self.root / rel
        resolved = real.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise mp_oserror(errno.ENOENT)  # a symlink pointing out of the flash
        return real

    def open(self, file, mode: str = "r", *args, **kwargs):
        """The board's ``open``: only files under ``/flash``; text is not newline-translated (MicroPython)."""
        if "b" not in mode and not args:
            kwargs.setdefault("newline", "")
        with mp_errors():
            return builtins.open(self.real(file), mode, *args, **kwargs)

    def private(self, name: str) -> Path:
        """A file of the simulator's own (nvs), kept with the flash but hidden from the board."""
        return self.root / HIDDEN / name
