"""``machine.SD`` (``esp32/mods/pybsd.c``, Pycom 1.20.2.r6) and mounting it (``os.mount``, extmod/vfs.c).

The card is a folder kept with the flash, hidden from the board's ``/flash``:
``<flash folder>/.firmware-sim/sd/`` (so ``--flash DIR`` keeps it across runs, and a test finds what a
script logged in ``DIR/.firmware-sim/sd/log.txt``). ``SD()`` (id 0 only) starts the card reader;
``os.mount(sd, '/sd')`` makes the card the board's ``/sd``, with every file operation confined to that
folder as the flash's are (:mod:`firmware_sim.runtime.flash`). The environment key ``sd_card`` set to
false is a reader with no card: ``SD()`` fails as the firmware does.

As the firmware: ``os.mount`` on a mount point in use (``/flash``, ``/flash/x``, ``/sd`` twice) is
``OSError: [Errno 1] EPERM``; ``os.umount('/sd')`` unmounts (``os.umount(sd)`` is EINVAL: the table holds
the FAT object made around the card, not the card); a soft reset unmounts the card; renaming across
volumes is EPERM; ``readonly=True`` makes writes EROFS. Raw block access (``readblocks`` /
``writeblocks``) is not simulated: they report failure (1), as a card that cannot be read.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ...runtime import current, environment
from ...runtime.flash import HIDDEN, mp_oserror
from .bufargs import readable, writable
from .consts import RESOURCE_NOT_AVAILABLE
from .state import machine_part

if TYPE_CHECKING:
    from ...runtime.board import Board

CARD_FOLDER = (HIDDEN, "sd")  # inside the flash's host folder
OPERATION_FAILED = "the requested operation failed"  # esp32/util/mpexception.c
SECTOR_SIZE = 512
SECTORS = 7_744_512  # a 4 GB card
_SD_ARGS = (Param("id", 0), Param("freq", None))


class SD:
    """``machine.SD``: the board's one SD card reader."""

    _enabled: bool

    def __new__(cls, *args, **kwargs) -> SD:
        card_id, _freq = parse(args, kwargs, _SD_ARGS)
        if to_int(card_id) != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        card = machine_part().one(("SD", 0), lambda: object.__new__(cls))
        card._start()
        return card

    def __init__(self, *args, **kwargs) -> None:
        """Everything is done by ``__new__`` (the firmware's make_new)."""

    def _start(self) -> None:
        self._enabled = True
        if not environment.reading("sd_card", True):
            raise OSError(OPERATION_FAILED)  # sd_disk_init() failed: no card

    def init(self, *args, **kwargs) -> None:
        """``init(freq=None)``: start the reader again (after ``deinit``)."""
        parse(args, kwargs, _SD_ARGS[1:])
        self._start()

    def deinit(self) -> None:
        """Stop the reader (a later mount fails until ``init``)."""
        self._enabled = False

    def readblocks(self, *args, **kwargs) -> int:
        """``readblocks(block_num, buf)``: 1 (failure): raw blocks are not simulated."""
        check_count((self, *args), kwargs, 3, 3)
        writable(args[1])
        to_int(args[0])
        return 1

    def writeblocks(self, *args, **kwargs) -> int:
        """``writeblocks(block_num, buf)``: 1 (failure): raw blocks are not simulated."""
        check_count((self, *args), kwargs, 3, 3)
        readable(args[1])
        to_int(args[0])
        return 1

    def ioctl(self, *args, **kwargs) -> int:
        """``ioctl(cmd, arg)``: the block device's control (``BP_IOCTL_*`` of extmod/vfs.h)."""
        check_count((self, *args), kwargs, 3, 3)
        return {1: 0, 2: 0, 3: 0, 4: SECTORS, 5: SECTOR_SIZE}.get(to_int(args[0]), -1)


class CardMounts:
    """The mount points a board session gave its card (a part per session: a soft reset unmounts)."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.points: list[str] = []

    def close(self) -> None:
        for point in self.points:
            self.board.flash.volumes.pop(point, None)
        self.points = []


def mount(device: Any, point: str, readonly: bool) -> None:
    """``os.mount(device, point, readonly=...)`` of extmod/vfs.c, for the board's SD card."""
    if not isinstance(device, SD):
        if getattr(device, "mount", None) is None and getattr(device, "readblocks", None) is None:
            raise AttributeError(f"'{type(device).__name__}' object has no attribute 'readblocks'")
        raise mp_oserror(errno.ENODEV)  # a block device or filesystem of the script's: not simulated
    if not device._enabled or not environment.reading("sd_card", True):
        raise mp_oserror(errno.EIO)  # the FAT cannot read a stopped (or pulled) card
    board = current()
    name = point[1:]
    if point == "/" or point.startswith("/flash/"):
        raise mp_oserror(errno.EPERM)  # inside a volume that is mounted already
    if not point.startswith("/") or not name or "/" in name:
        raise mp_oserror(errno.EINVAL)  # only /name mount points are simulated
    board.flash.mount(point, CARD_FOLDER, readonly)
    board.part(CardMounts, per_session=True).points.append(point)


def unmount(target: Any) -> None:
    """``os.umount(mount_point)``: EINVAL for anything but a mount point of the card."""
    board = current()
    if not isinstance(target, str) or board.flash.volumes.pop(target, None) is None:
        raise mp_oserror(errno.EINVAL)
    mounts = board.part(CardMounts, per_session=True)
    if target in mounts.points:
        mounts.points.remove(target)
    cwd = board.flash.cwd
    if cwd == target or cwd.startswith(target + "/"):
        board.flash.cwd = "/"  # the current volume went: the root, as mp_vfs_umount
