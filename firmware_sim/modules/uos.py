"""``uos`` / ``os`` on the board: the sandboxed ``/flash`` and ``uname()`` of the board kind; ``mount`` /
``umount`` of the board's SD card (``machine.SD``, whose file says how)."""

from __future__ import annotations

import errno as _errno
import os as _host_os
import posixpath as _posixpath
import stat as _stat
from collections import namedtuple

from network.coap.api.mpargs import Param, parse, to_str

from ..runtime import current
from ..runtime.flash import Flash, mp_oserror
from ..runtime.kinds import build
from .machine import sd as _sd

# The board's names: a script's ``import os`` gets these and nothing else (the loader builds the module).
__all__ = [
    "sep", "uname", "getcwd", "chdir", "listdir", "ilistdir", "mkdir", "rmdir", "remove", "unlink",
    "rename", "stat", "statvfs", "getfree", "sync", "urandom", "dupterm", "mount", "umount",
]  # fmt: skip

sep = "/"
_uname = namedtuple("uname_result", "sysname nodename release version machine lorawan sigfox")
_DIR, _FILE = 0x4000, 0x8000


def _flash() -> Flash:
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
    if not flash.is_dir(path):
        raise mp_oserror(_errno.ENOENT)
    flash.cwd = flash.board_path(path)


def listdir(path: str = "") -> list[str]:
    flash = _flash()
    board = flash.board_path(path or flash.cwd)
    if board == "/":
        return ["flash", *(point[1:] for point in flash.volumes)]
    return flash.listdir(board)


def ilistdir(path: str = ""):
    """``(name, type, inode, size)`` for each entry of ``path`` (one gone meanwhile is left out)."""
    flash = _flash()
    base = flash.board_path(path or flash.cwd)
    for name in listdir(base):
        try:
            found = flash.stat(_posixpath.join(base, name))
        except OSError:
            continue
        folder = _stat.S_ISDIR(found.st_mode)
        yield (name, _DIR if folder else _FILE, 0, 0 if folder else found.st_size)


def mkdir(path: str) -> None:
    _flash().mkdir(path)


def rmdir(path: str) -> None:
    _flash().rmdir(path)


def remove(path: str) -> None:
    _flash().remove(path)


unlink = remove


def rename(old: str, new: str) -> None:
    _flash().rename(old, new)


def stat(path: str) -> tuple:
    flash = _flash()
    if flash.board_path(path) == "/":
        return (_DIR, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    found = flash.stat(path)
    folder = _stat.S_ISDIR(found.st_mode)
    mtime = int(found.st_mtime)
    return (_DIR if folder else _FILE, 0, 0, 0, 0, 0, found.st_size, mtime, mtime, mtime)


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
    """``mount(device, mount_point, *, readonly=False, mkfs=False)`` (extmod/vfs.c): the board's SD card."""
    if len(args) < 2:
        raise TypeError(f"function missing {2 - len(args)} required positional arguments")
    readonly, _mkfs = parse(args[2:], kwargs, (Param("readonly", False, True), Param("mkfs", False, True)))
    _sd.mount(args[0], to_str(args[1]), bool(readonly))


def umount(path: str) -> None:
    """``umount(mount_point)``: a mount point of the SD card (``/flash`` stays: EINVAL)."""
    _sd.unmount(path)
