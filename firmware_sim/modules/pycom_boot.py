"""``pycom``'s two firmware slots: ``bootmgr`` and the OTA updater (``ota_start/write/finish/verify/slot``),
and what the bootloader does with them at the next boot.

As Pycom firmware 1.20.2.r6 (``esp32/mods/modpycom.c``, ``esp32/ftp/updater.c``,
``esp32/bootloader/bootloader.c``, ``esp32/lib/partitions_*.csv``):

* The flash holds a factory slot at 0x10000 and an ``ota_0`` slot (0x1C0000 on 4 MB boards: LoPy, SiPy;
  0x210000 on 8 MB ones), 1720 or 1980 KB each, and the boot info (active image, status, previous image,
  size, safe boot). On the simulated board the slots are ``/flash/.firmware-sim/firmware-factory.bin`` and
  ``firmware-ota_0.bin`` (a factory slot without its file holds the simulator's own firmware), the boot
  info ``otadata.json``.
* ``ota_slot()`` is the address the next image goes to: the other slot, or the one still waiting to be
  checked. ``ota_start()`` erases it, ``ota_write(buf)`` appends, ``ota_finish()`` prints "Full Update
  Image detected..." and makes the slot the active image with status "check" (a ``BSDIFF40`` patch is
  refused: the release build has no differential update). Without ``ota_start()`` in this boot (or after
  ``ota_finish()``) the updater's address is 0: ``ota_write()`` writes over the bootloader, which the
  firmware's flash driver answers with ``abort()``, and the board reboots.
* ``ota_verify()`` runs ESP-IDF's image check (:mod:`.pycom_image`) on the bytes written since
  ``ota_start()`` in this boot.
* At the next boot the bootloader checks an image in status "check": if it does not verify it prints
  "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition" and boots
  the previous one; either way the status becomes "ready". Then ``bootmgr()`` reports the slot that booted
  (``'Factory'`` or ``'ota_0'``). ``bootmgr()`` reports the boot info as this boot read it.
* ``bootmgr(boot_partition=...)`` switches and resets at once; ``safeboot=True`` asks for one safe boot
  (reported by ``bootmgr()``; the simulated board still runs ``boot.py`` and ``main.py``); ``fs_type`` is
  stored in the config block (the simulated flash is not reformatted).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ..runtime import current
from ..runtime.buffers import as_buffer
from ..runtime.heap import PSRAM_KINDS
from ..runtime.state import PWRON_RESET
from .machine.resets import reset as machine_reset
from .machine.state import machine_part
from .pycom_config import FAT, config, load_json, save_json
from .pycom_image import image_error

if TYPE_CHECKING:
    from ..runtime.board import Board

FACTORY, OTA_0, UPDATE2 = 0, 1, 2  # IMG_ACT_*: UPDATE2 is the factory slot again
CHECK, READY, PATCH = 0, 1, 2  # IMG_STATUS_*
SAFE_BOOT_HW, SAFE_BOOT_SW = 1, 2
FACTORY_OFFSET = 0x10000
PARTITION_TABLE_END = 0x8000 + 0xC00  # ESP_PARTITION_TABLE_OFFSET + its maximum length
SECTOR = 0x1000
OTADATA_FILE = "otadata.json"
FAILED = "the requested operation failed"
ROLLBACK = "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition"
FULL_IMAGE = "Full Update Image detected. Restart the device to load the new firmware."
DELTA_IMAGE = (
    "Differential Update Image detected. This feature is disabled in the build. Enable DIFF_UPDATE_ENABLED "
    "in the build to use it."
)


@dataclass(frozen=True)
class Layout:
    """The flash of a board kind (``esp32_get_chip_rev() > 0``: 8 MB, else 4 MB)."""

    flash_size: int
    slot_size: int
    ota_offset: int

    def slot_offset(self, image: int) -> int:
        return self.ota_offset if image == OTA_0 else FACTORY_OFFSET


LAYOUT_4MB = Layout(0x400000, 1720 * 1024, 1792 * 1024)
LAYOUT_8MB = Layout(0x800000, 1980 * 1024, 2112 * 1024)


@dataclass
class BootInfo:
    """``boot_info_t`` (bootloader.h) as the board keeps it; an erased one reads as the factory image."""

    ActiveImg: int = FACTORY  # noqa: N815 - the firmware's field names
    Status: int = READY  # noqa: N815
    PrevImg: int = FACTORY  # noqa: N815
    size: int = 0
    safeboot: int = 0


class PycomBoot:
    """The boot info, the slots and the updater of one board (a part); made in a boot, it first does what
    the bootloader would have done after a power-off, and at a reset it does the bootloader's work."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.lock = threading.RLock()
        self.layout = LAYOUT_8MB if board.kind.key in PSRAM_KINDS else LAYOUT_4MB
        self.path = board.flash.private(OTADATA_FILE)
        stored = self.read()
        if stored.Status == CHECK or stored.safeboot == SAFE_BOOT_SW:
            self.bootloader()  # the board was switched off before the bootloader could run
        self.info = self.read()  # modpycom_init0's copy: what bootmgr() reports in this boot
        self.updater = BootInfo()  # updater.c's own copy, read again by every ota_slot()/ota_start()
        self.offset = 0  # updater_data.offset: where the next ota_write() goes
        self.start = 0  # updater_data.offset_start_upd
        board.on_reset(self.bootloader)

    # -- the flash --------------------------------------------------------------------------------------

    def read(self) -> BootInfo:
        stored = load_json(self.path)
        return BootInfo(**{key: int(stored.get(key, value)) for key, value in asdict(BootInfo()).items()})

    def write(self, info: BootInfo) -> None:
        save_json(self.path, asdict(info))

    def slot_path(self, offset: int) -> Path:
        name = "ota_0" if offset == self.layout.ota_offset else "factory"
        return self.board.flash.private(f"firmware-{name}.bin")

    def slot_bytes(self, offset: int) -> bytes | None:
        """The slot's content; None for a factory slot that still holds the simulator's firmware."""
        path = self.slot_path(offset)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None if offset == FACTORY_OFFSET else b""

    # -- the bootloader ----------------------------------------------------------------------------------

    def bootloader(self) -> None:
        """``find_active_image``: check a new image (back to the previous one if it fails), then the safe
        boot request (no safe-boot pin is ever held on the simulated board)."""
        with self.lock:
            info, changed = self.read(), False
            if info.Status == CHECK:
                if info.ActiveImg == UPDATE2:
                    info.ActiveImg = FACTORY
                offset = self.layout.slot_offset(info.ActiveImg)
                image = self.slot_bytes(offset)
                if image is not None and image_error(image, self.layout.slot_size, offset) is not None:
                    print(ROLLBACK, flush=True)
                    info.ActiveImg, info.PrevImg = info.PrevImg, info.ActiveImg
                info.Status, changed = READY, True
            if info.safeboot:
                info.safeboot = SAFE_BOOT_HW if info.safeboot == SAFE_BOOT_SW else 0
                changed = True
            if changed:
                self.write(info)

    # -- the updater -------------------------------------------------------------------------------------

    def next_slot(self) -> int:
        """``updater_ota_next_slot_address``: the slot waiting to be checked, else the other one."""
        self.updater = info = self.read()
        if info.Status == CHECK:
            return FACTORY_OFFSET if info.ActiveImg == FACTORY else self.layout.ota_offset
        return self.layout.ota_offset if info.ActiveImg == FACTORY else FACTORY_OFFSET

    def check_address(self, address: int, length: int, why: str) -> None:
        """The flash driver's guard (``CONFIG_SPI_FLASH_WRITING_DANGEROUS_REGIONS_ABORTS``): writing the
        bootloader, the partition table or the running image aborts; past the flash's end fails."""
        running = self.layout.slot_offset(self.info.ActiveImg)
        end = running + self.layout.slot_size
        if address <= PARTITION_TABLE_END or (address < end and address + length > running):
            self.abort(address, why)
        if address + length > self.layout.flash_size:
            raise OSError(FAILED)

    def abort(self, address: int, why: str) -> None:
        """The firmware's ``abort()``: a panic, and the board reboots (a power-on reset cause)."""
        print("abort() was called at PC 0x400d3c2b on core 1\n\nRebooting...", flush=True)
        print(
            f"firmware-sim: {why} writes the flash at 0x{address:x}, inside the bootloader, the partition "
            "table or the running firmware: the firmware's flash driver aborts and the board reboots",
            file=sys.stderr,
            flush=True,
        )
        machine_part(self.board).go_down()
        self.board.reboot(PWRON_RESET, why="abort() in the flash driver")

    def begin(self) -> None:
        """``updater_start``: erase the start of the next slot."""
        with self.lock:
            start = self.next_slot()
            self.check_address(start, 2 * SECTOR, "pycom.ota_start()")
            self.offset = self.start = start
            self.updater.size = 0
            self.slot_path(start).write_bytes(b"")

    def append(self, data: bytes) -> None:
        """``updater_write``: write at the updater's address."""
        with self.lock:
            self.check_address(self.offset, len(data), "pycom.ota_write() without pycom.ota_start()")
            with self.slot_path(self.start).open("r+b") as slot:
                slot.seek(self.offset - self.start)
                slot.write(data)
            self.offset += len(data)
            self.updater.size += len(data)

    def finish(self) -> None:
        """``updater_finish``: the written slot becomes the active image, to be checked at boot."""
        with self.lock:
            if self.offset == 0:
                return
            info = self.updater
            if info.Status != CHECK:
                if (self.slot_bytes(self.start) or b"")[:8] == b"BSDIFF40":
                    print(DELTA_IMAGE, flush=True)
                    self.offset = 0
                    raise OSError(FAILED)
                print(FULL_IMAGE, flush=True)
                info.PrevImg = info.ActiveImg
                info.ActiveImg = UPDATE2 if info.ActiveImg == OTA_0 else OTA_0
                info.Status = CHECK
                self.write(info)
            self.offset = 0

    def verify(self) -> bool:
        """``updater_verify``: the image written since ``ota_start()`` in this boot."""
        with self.lock:
            if self.start == 0:
                return False  # the updater's address is the bootloader's: not an app image
            image = self.slot_bytes(self.start) or b""
            return image_error(image, self.updater.size, self.start) is None


def _boot() -> PycomBoot:
    return current().part(PycomBoot)


def ota_start(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    _boot().begin()


def ota_write(*args, **kwargs) -> None:
    """Write the next chunk of the image (any object with the buffer protocol)."""
    check_count(args, kwargs, 1, 1)
    try:
        data = bytes(memoryview(as_buffer(args[0])))
    except TypeError:
        raise TypeError("object with buffer protocol required") from None
    _boot().append(data)


def ota_finish(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    _boot().finish()


def ota_verify(*args, **kwargs) -> bool:
    check_count(args, kwargs, 0, 0)
    return _boot().verify()


def ota_slot(*args, **kwargs) -> int:
    """The flash address the next image goes to."""
    check_count(args, kwargs, 0, 0)
    return _boot().next_slot()


def diff_update_enabled(*args, **kwargs) -> bool:
    """False: the release build has no differential update (``DIFF_UPDATE_ENABLED ?= 0``)."""
    check_count(args, kwargs, 0, 0)
    return False


_BOOTMGR = (
    Param("boot_partition", 255, True),
    Param("fs_type", 255, True),
    Param("safeboot", 255, True),
    Param("reset", False, True),
)
_STATUS = {CHECK: "Status: Check", READY: "Status: Ready", PATCH: "Status: Patch"}


def bootmgr(*args, **kwargs) -> tuple | None:
    """No argument: ``('Factory' or 'ota_0', 'FAT' or 'LittleFS', 'SafeBoot: False', 'Status: Ready')``
    as this boot read them. ``boot_partition`` switches the slot and resets; ``safeboot``/``fs_type`` are
    stored and reset with ``reset=True``."""
    values = parse(args, kwargs, _BOOTMGR)
    partition, fs_type, safeboot = (to_int(value) for value in values[:3])
    reset = bool(values[3])
    boot, settings = _boot(), config()
    info = boot.info
    if partition == 255 and fs_type == 255 and safeboot == 255:
        return (
            "Factory" if info.ActiveImg == FACTORY else "ota_0",
            "FAT" if settings.get("fs_type") == FAT else "LittleFS",
            f"SafeBoot: {info.safeboot != 0}",
            _STATUS.get(info.Status),
        )
    partition, fs_type, safeboot = partition & 0xFF, fs_type & 0xFF, safeboot & 0xFF  # uint8_t arguments
    new_partition = new_fs = new_safeboot = False
    if partition < 255:
        if partition > OTA_0 or partition == info.ActiveImg:
            raise ValueError("Error invalid boot partition! or partition already active!")
        info.PrevImg, info.ActiveImg, info.Status = info.ActiveImg, partition, CHECK
        new_partition = True
    if safeboot < 255:
        if safeboot > 1 or safeboot == info.safeboot:
            raise ValueError("Error safeboot must be True or False!")
        info.safeboot, new_safeboot = (SAFE_BOOT_SW if safeboot else 0), True
    if fs_type < 255:
        if fs_type > 1:
            raise ValueError("Error invalid filesystem type!")
        if settings.get("fs_type") != fs_type:
            settings.set("fs_type", fs_type)
            new_fs = True
    if new_partition or new_safeboot:
        boot.write(info)
        if new_partition:
            machine_reset()
    if (new_fs or new_safeboot) and reset:
        machine_reset()
    return None
