"""``uos`` / ``os`` on the board: the sandboxed ``/flash`` and ``uname()`` of the board kind."""

from __future__ import annotations

import errno as _errno
import os as _host_os
import posixpath as _posixpath
from collections import namedtuple

from ..runtime import current
from ..runtime.flash import HIDDEN, ROOT, mp_errors, mp_oserror
from ..runtime.kinds import build

sep = "/"
_uname = namedtuple("uname_result", "sysname nodename release version machine lorawan sigfox")


def _flash():
    return current().flash


def uname():
    board = current()
    kind, firmware = board.kind, build(board.state.firmware)
    return _uname(
        kind.platform,
        kind.platform,
        firmware.release,
        firmware.version,
        f"{kind.platform} with ESP32",
        "1.0.2" if kind.lora else None,
        "1.0.1" if kind.sigfox else None,
    )


def getcwd() -> str:
    return _flash().cwd


def chdir(path: str) -> None:
    flash = _flash()
    real = flash.real(path)
    if not real.is_dir():
        raise mp_oserror(_errno.ENOENT)
    flash.cwd = flash.board_path(path)


def listdir(path: str = "") -> list[str]:
    flash = _flash()
    board = flash.board_path(path or flash.cwd)
    if board == "/":
        return ["flash"]
    with mp_errors():
        names = sorted(_host_os.listdir(flash.real(board)))
    if board == ROOT:
        names = [n for n in names if n != HIDDEN]
    return names


def ilistdir(path: str = ""):
    flash = _flash()
    base = flash.board_path(path or flash.cwd)
    for name in listdir(base):
        real = flash.real(_posixpath.join(base, name))
        yield (name, 0x4000 if real.is_dir() else 0x8000, 0, real.stat().st_size if real.is_file() else 0)


def mkdir(path: str) -> None:
    with mp_errors():
        _host_os.mkdir(_flash().real(path))


def rmdir(path: str) -> None:
    with mp_errors():
        _host_os.rmdir(_flash().real(path))


def remove(path: str) -> None:
    with mp_errors():
        _host_os.remove(_flash().real(path))


unlink = remove


def rename(old: str, new: str) -> None:
    flash = _flash()
    with mp_errors():
        _host_os.rename(flash.real(old), flash.real(new))


def stat(path: str) -> tuple:
    flash = _flash()
    if flash.board_path(path) == "/":
        return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    with mp_errors():
        st = _host_os.stat(flash.real(path))
    mode = 0x4000 if _host_os.path.isdir(flash.real(path)) else 0x8000
    mtime = int(st.st_mtime)
    return (mode, 0, 0, 0, 0, 0, st.st_size, mtime, mtime, mtime)


def statvfs(path: str) -> tuple:
    return (4096, 4096, 1024, 900, 900, 0, 0, 0, 0, 255)


def getfree(path: str) -> int:
    return 900 * 4  # KiB


def sync() -> None:
    pass


def urandom(n: int) -> bytes:
    return _host_os.urandom(n)


def dupterm(stream=None, index: int = 0):
    return None


def mount(*args, **kwargs) -> None:
    raise mp_oserror(_errno.ENODEV)


def umount(path: str) -> None:
    raise mp_oserror(_errno.EINVAL)
