"""``pycom`` on the board: the RGB LED and its heartbeat, nvs, and the settings kept for the next boot.

As Pycom firmware 1.20 (``esp32/mods/modpycom.c``, ``esp32/util/mperror.c``):

* The heartbeat (a dim blue blink every 4 s) runs from boot unless ``heartbeat_on_boot(False)`` was
  stored; ``rgbled()`` raises ``OSError("the requested operation is not possible")`` while it runs, and
  ``heartbeat(False)`` switches the LED off (every time, also after an ``rgbled()`` colour).
* Every change of the LED's colour is recorded, one JSON line each, in the board's hidden file
  ``/flash/.firmware-sim/rgbled.jsonl``: ``{"t": board_seconds_since_boot, "color": 16711680}``; the line
  of the heartbeat starting says ``"heartbeat": true`` (its blinks are not recorded). The LED goes off
  (a ``color`` 0 line) when the board resets or deep-sleeps. The file starts empty at power-on and
  accumulates across the resets of one run.
* nvs (``nvs_set/get/erase/erase_all``) persists per board across resets and runs (with
  ``--flash DIR``) in ``/flash/.firmware-sim/nvs.json``; values are str (bytes are stored as str, as the
  firmware does) or unsigned 32-bit ints. The ``*_on_boot`` settings live apart, as in the firmware's
  config block, so ``nvs_erase_all()`` keeps them.
"""

from __future__ import annotations

import json
import os
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from network.coap.api.mpargs import Param, check_count, parse, to_int, to_str

from ..runtime import current, pins
from ..runtime.heap import heap
from .machine.resets import reset as machine_reset

if TYPE_CHECKING:
    from ..runtime.board import Board

HEARTBEAT_COLOR = 0x50  # esp32/util/mperror.h MPERROR_HEARTBEAT_COLOR
FACTORY, OTA_0 = 0, 1
FAT, LittleFS = 0, 1
NVS_FILE = "nvs.json"
CONFIG_FILE = "pycom-config.json"
LED_FILE = "rgbled.jsonl"
NVS_VALUE_MAX = 1984  # bytes of a string value, with its terminating NUL
NVS_KEY_MAX = 15  # ESP-IDF NVS_KEY_NAME_MAX_SIZE - 1
NOT_POSSIBLE = "the requested operation is not possible"
_DEFAULTS: dict[str, Any] = {
    "heartbeat_on_boot": True,
    "wifi_on_boot": True,
    "lte_modem_en_on_boot": True,
    "wdt_on_boot": False,
    "wdt_on_boot_timeout": 5000,
    "wifi_mode_on_boot": 2,  # the factory setting: the board starts its own access point
    "wifi_ssid_sta": None,
    "wifi_pwd_sta": None,
    "wifi_ssid_ap": None,
    "wifi_pwd_ap": None,
    "fs_type": FAT,
    "safeboot": False,
    "boot_partition": FACTORY,
}


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_json(path: Path, data: dict) -> None:
    """Write ``data`` so that a crash never leaves half a file (nvs_commit)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)


class Pycom:
    """What ``pycom`` keeps for one board while it runs (a board part): the LED, nvs, the boot settings.
    Made, it asks the board to switch the LED off when the board resets or deep-sleeps."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.lock = threading.RLock()
        self.config_path = board.flash.private(CONFIG_FILE)
        self.config = {**_DEFAULTS, **_load_json(self.config_path)}
        self.heartbeat = bool(self.config["heartbeat_on_boot"])
        self.color = 0
        self.nvs_path = board.flash.private(NVS_FILE)
        self.nvs: dict[str, int | str] = {
            k: v for k, v in _load_json(self.nvs_path).items() if isinstance(v, (int, str))
        }
        self._timeline: TextIO | None = None
        board.on_reset(self.led_off)

    def set_config(self, key: str, value: Any) -> None:
        with self.lock:
            if self.config.get(key) != value:
                self.config[key] = value
                _save_json(self.config_path, {k: v for k, v in self.config.items() if v != _DEFAULTS[k]})

    def show(self, color: int, **extra: object) -> None:
        """The LED now shows ``color``: record it (the caller holds the lock)."""
        self.color = color
        entry = {"t": round(self.board.clock.elapsed(), 6), "color": color, **extra}
        if self._timeline is None:
            self._timeline = pins.run_file(self.board.flash, LED_FILE).open("a", buffering=1)
        self._timeline.write(json.dumps(entry) + "\n")

    def led_off(self) -> None:
        """The LED goes dark, heartbeat and all (recorded if it was lit)."""
        with self.lock:
            was_on = self.heartbeat or self.color != 0
            self.heartbeat = False
            if was_on:
                self.show(0)
            self.color = 0


def _pycom() -> Pycom:
    return current().part(Pycom)


# -- the LED -----------------------------------------------------------------------------------------


def heartbeat(*args, **kwargs) -> bool | None:
    """``heartbeat()`` -> bool; ``heartbeat(False)`` stops it and switches the LED off."""
    check_count(args, kwargs, 0, 1)
    state = _pycom()
    with state.lock:
        if not args:
            return state.heartbeat
        if args[0]:
            if not state.heartbeat:
                state.heartbeat = True
                state.show(HEARTBEAT_COLOR, heartbeat=True)
        else:
            state.led_off()
    return None


def rgbled(*args, **kwargs) -> int | None:
    """``rgbled()`` -> the colour; ``rgbled(0xRRGGBB)``. OSError while the heartbeat runs."""
    check_count(args, kwargs, 0, 1)
    state = _pycom()
    with state.lock:
        if state.heartbeat:
            raise OSError(NOT_POSSIBLE)
        if not args:
            return state.color
        value = to_int(args[0])
        if not -(2**31) <= value < 2**31:
            raise OverflowError("overflow converting long int to machine word")
        color = value & 0xFFFFFFFF
        if color != state.color:
            state.show(color)
    return None


# -- nvs ---------------------------------------------------------------------------------------------


def _key(obj: object) -> str:
    return to_str(obj)


def nvs_set(*args, **kwargs) -> None:
    """Store a str/bytes (< 1984 bytes) or an int (as unsigned 32 bits) under ``key``."""
    check_count(args, kwargs, 2, 2)
    key, value = _key(args[0]), args[1]
    if isinstance(value, (str, bytes)):
        raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        raw = raw.split(b"\0", 1)[0]  # a C string
        if len(raw) >= NVS_VALUE_MAX:
            raise ValueError(f"value too long (max: {NVS_VALUE_MAX})")
        stored: int | str = raw.decode("utf-8", "surrogateescape")
    elif isinstance(value, int) and not isinstance(value, bool):
        stored = value & 0xFFFFFFFF
    else:
        raise ValueError("Value must be string, bytes or integer")
    if len(key.encode("utf-8", "surrogateescape")) > NVS_KEY_MAX:
        raise ValueError("Key is too long")
    state = _pycom()
    with state.lock:
        state.nvs[key] = stored
        _save_json(state.nvs_path, state.nvs)


def nvs_get(*args, **kwargs) -> int | str | Any:
    """The value under ``key``; a missing key gives ``default`` if given, else ValueError."""
    check_count(args, kwargs, 1, 2)
    key = _key(args[0])
    state = _pycom()
    with state.lock:
        if key in state.nvs:
            return state.nvs[key]
    if len(args) > 1:
        return args[1]
    raise ValueError("No matching object for the provided key")


def nvs_erase(*args, **kwargs) -> None:
    check_count(args, kwargs, 1, 1)
    key = _key(args[0])
    state = _pycom()
    with state.lock:
        if key not in state.nvs:
            raise KeyError("key not found")
        del state.nvs[key]
        _save_json(state.nvs_path, state.nvs)


def nvs_erase_all(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    state = _pycom()
    with state.lock:
        state.nvs.clear()
        _save_json(state.nvs_path, state.nvs)


# -- settings for the next boot ----------------------------------------------------------------------


def _flag(key: str, args: tuple, kwargs: dict, n_max: int = 1) -> bool | None:
    check_count(args, kwargs, 0, n_max)
    state = _pycom()
    if not args:
        return bool(state.config[key])
    state.set_config(key, bool(args[0]))
    return None


def heartbeat_on_boot(*args, **kwargs) -> bool | None:
    """Whether the heartbeat starts at boot (from the next boot on)."""
    return _flag("heartbeat_on_boot", args, kwargs)


def wifi_on_boot(*args, **kwargs) -> bool | None:
    """``wifi_on_boot([enable[, apply_now]])``."""
    return _flag("wifi_on_boot", args, kwargs, 2)


def lte_modem_en_on_boot(*args, **kwargs) -> bool | None:
    return _flag("lte_modem_en_on_boot", args, kwargs)


def wdt_on_boot(*args, **kwargs) -> bool | None:
    """Stored only: the simulated board does not start a watchdog at boot."""
    return _flag("wdt_on_boot", args, kwargs)


def wdt_on_boot_timeout(*args, **kwargs) -> int | None:
    check_count(args, kwargs, 0, 1)
    state = _pycom()
    if not args:
        return int(state.config["wdt_on_boot_timeout"])
    timeout = to_int(args[0]) & 0xFFFFFFFF
    if timeout < 5000:
        raise ValueError("WDT on boot timeout must be >= 5000 ms")
    state.set_config("wdt_on_boot_timeout", timeout)
    return None


def wifi_mode_on_boot(*args, **kwargs) -> int | None:
    """0 none, 1 STA, 2 AP (the factory setting), 3 STA+AP; other values are ignored."""
    check_count(args, kwargs, 0, 1)
    state = _pycom()
    if not args:
        return int(state.config["wifi_mode_on_boot"])
    mode = to_int(args[0])
    if 0 <= mode <= 3:
        state.set_config("wifi_mode_on_boot", mode)
    return None


def _text_setting(key: str, args: tuple, kwargs: dict) -> str | None:
    check_count(args, kwargs, 0, 1)
    state = _pycom()
    if not args:
        return state.config[key]
    if args[0] is None or isinstance(args[0], str):  # anything else is ignored, as by the firmware
        state.set_config(key, args[0])
    return None


def wifi_ssid_sta(*args, **kwargs) -> str | None:
    return _text_setting("wifi_ssid_sta", args, kwargs)


def wifi_pwd_sta(*args, **kwargs) -> str | None:
    return _text_setting("wifi_pwd_sta", args, kwargs)


def wifi_ssid_ap(*args, **kwargs) -> str | None:
    return _text_setting("wifi_ssid_ap", args, kwargs)


def wifi_pwd_ap(*args, **kwargs) -> str | None:
    return _text_setting("wifi_pwd_ap", args, kwargs)


_BOOTMGR = (
    Param("boot_partition", 255, True),
    Param("fs_type", 255, True),
    Param("safeboot", 255, True),
    Param("reset", False, True),
)


def bootmgr(*args, **kwargs) -> tuple | None:
    """No arguments: ``('Factory', 'FAT', 'SafeBoot: False', 'Status: Ready')``; else store the
    settings (they change nothing else on the simulated board)."""
    partition, fs_type, safeboot, reset = parse(args, kwargs, _BOOTMGR)
    partition, fs_type, safeboot = to_int(partition), to_int(fs_type), to_int(safeboot)
    state = _pycom()
    config = state.config
    if partition == 255 and fs_type == 255 and safeboot == 255:
        return (
            "Factory" if config["boot_partition"] == FACTORY else "ota_0",
            "FAT" if config["fs_type"] == FAT else "LittleFS",
            f"SafeBoot: {bool(config['safeboot'])}",
            "Status: Ready",
        )
    changed = False
    if partition < 255:
        if partition > OTA_0 or partition == config["boot_partition"]:
            raise ValueError("Error invalid boot partition! or partition already active!")
        state.set_config("boot_partition", partition)
        changed = True
    if safeboot < 255:
        if safeboot > 1 or bool(safeboot) == config["safeboot"]:
            raise ValueError("Error safeboot must be True or False!")
        state.set_config("safeboot", bool(safeboot))
        changed = True
    if fs_type < 255:
        if fs_type > 1:
            raise ValueError("Error invalid filesystem type!")
        changed = changed or fs_type != config["fs_type"]
        state.set_config("fs_type", fs_type)
    if changed and (reset or partition < 255):
        machine_reset()
    return None


def get_free_heap(*args, **kwargs) -> tuple:
    """``(free internal RAM, free PSRAM or 'NO_EXT_RAM')``."""
    check_count(args, kwargs, 0, 0)
    figures = heap()
    psram = figures.psram_free()
    return (figures.internal_free(), "NO_EXT_RAM" if psram is None else psram)


def diff_update_enabled(*args, **kwargs) -> bool:
    check_count(args, kwargs, 0, 0)
    return False


_BOARD_NAMES = (
    "heartbeat", "rgbled", "nvs_set", "nvs_get", "nvs_erase", "nvs_erase_all", "heartbeat_on_boot",
    "wifi_on_boot", "lte_modem_en_on_boot", "wdt_on_boot", "wdt_on_boot_timeout", "wifi_mode_on_boot",
    "wifi_ssid_sta", "wifi_pwd_sta", "wifi_ssid_ap", "wifi_pwd_ap", "bootmgr", "get_free_heap",
    "diff_update_enabled", "FACTORY", "OTA_0", "FAT", "LittleFS",
)  # fmt: skip


def board_module() -> types.ModuleType:
    """``pycom`` as a script imports it."""
    module = types.ModuleType("pycom")
    module.__dict__.update({name: globals()[name] for name in _BOARD_NAMES})
    return module
