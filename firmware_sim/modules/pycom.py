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

The settings for the next boot, Pybytes' and Sigfox's are in :mod:`.pycom_settings`, the firmware slots
(``bootmgr``, ``ota_*``) in :mod:`.pycom_boot`, ``pulses_get`` in :mod:`.pycom_pulses`; this module shows
them all as the firmware's ``pycom`` (``pycom_module_globals_table``): ``sigfox_info`` on LoPy4, FiPy and
SiPy only, the ``pybytes_*`` functions and ``smart_config_on_boot`` (Pybytes builds) except under the
strict ``--firmware`` profiles, which are the plain builds ``os.uname()`` describes.
"""

from __future__ import annotations

import json
import threading
import types
from typing import TYPE_CHECKING, Any, TextIO

from network import profile as profiles
from network.coap.api.mpargs import check_count, to_int, to_str

from ..runtime import current, pins
from ..runtime.heap import heap
from .pycom_boot import (
    FACTORY,
    OTA_0,
    bootmgr,
    diff_update_enabled,
    ota_finish,
    ota_slot,
    ota_start,
    ota_verify,
    ota_write,
)
from .pycom_config import FAT, config, load_json, save_json
from .pycom_config import LITTLEFS as LittleFS  # noqa: N811 - the firmware's name
from .pycom_pulses import pulses_get
from .pycom_settings import (
    PYBYTES_ONLY,
    SETTINGS,
    SIGFOX_ONLY,
    create_128bit_le_uuid_from_string,
    heartbeat_on_boot,
    lte_modem_en_on_boot,
    pybytes_device_token,
    pybytes_extra_preferences,
    pybytes_force_update,
    pybytes_lte_config,
    pybytes_mqttServiceAddress,
    pybytes_network_preferences,
    pybytes_on_boot,
    pybytes_userId,
    sigfox_info,
    smart_config_on_boot,
    wdt_on_boot,
    wdt_on_boot_timeout,
    wifi_mode_on_boot,
    wifi_on_boot,
    wifi_pwd_ap,
    wifi_pwd_sta,
    wifi_ssid_ap,
    wifi_ssid_sta,
)

if TYPE_CHECKING:
    from ..runtime.board import Board

HEARTBEAT_COLOR = 0x50  # esp32/util/mperror.h MPERROR_HEARTBEAT_COLOR
NVS_FILE = "nvs.json"
LED_FILE = "rgbled.jsonl"
NVS_VALUE_MAX = 1984  # bytes of a string value, with its terminating NUL
NVS_KEY_MAX = 15  # ESP-IDF NVS_KEY_NAME_MAX_SIZE - 1
NOT_POSSIBLE = "the requested operation is not possible"


class Pycom:
    """What ``pycom`` keeps for one board while it runs (a board part): the LED and nvs.
    Made, it asks the board to switch the LED off when the board resets or deep-sleeps."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.lock = threading.RLock()
        self.heartbeat = bool(config(board).at_boot["heartbeat_on_boot"])
        self.color = 0
        self.nvs_path = board.flash.private(NVS_FILE)
        self.nvs: dict[str, int | str] = {
            k: v for k, v in load_json(self.nvs_path).items() if isinstance(v, (int, str))
        }
        self._timeline: TextIO | None = None
        board.on_reset(self.led_off)

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
        save_json(state.nvs_path, state.nvs)


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
        save_json(state.nvs_path, state.nvs)


def nvs_erase_all(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 0)
    state = _pycom()
    with state.lock:
        state.nvs.clear()
        save_json(state.nvs_path, state.nvs)


# -- the heap, the module ----------------------------------------------------------------------------


def get_free_heap(*args, **kwargs) -> tuple:
    """``(free internal RAM, free PSRAM or 'NO_EXT_RAM')``."""
    check_count(args, kwargs, 0, 0)
    figures = heap()
    psram = figures.psram_free()
    return (figures.internal_free(), "NO_EXT_RAM" if psram is None else psram)


_BOARD_NAMES = (
    "heartbeat", "rgbled", "nvs_set", "nvs_get", "nvs_erase", "nvs_erase_all", "get_free_heap", "pulses_get",
    "ota_start", "ota_write", "ota_finish", "ota_verify", "ota_slot", "diff_update_enabled", "bootmgr",
    "FACTORY", "OTA_0", "FAT", "LittleFS",
)  # fmt: skip
# the firmware's pycom module, gathered here from the sibling files (the host side: tests, the simulator)
__all__ = [
    "heartbeat", "rgbled", "nvs_set", "nvs_get", "nvs_erase", "nvs_erase_all", "get_free_heap", "pulses_get",
    "ota_start", "ota_write", "ota_finish", "ota_verify", "ota_slot", "diff_update_enabled", "bootmgr",
    "FACTORY", "OTA_0", "FAT", "LittleFS", "heartbeat_on_boot", "wifi_on_boot", "lte_modem_en_on_boot",
    "wdt_on_boot", "wdt_on_boot_timeout", "wifi_mode_on_boot", "wifi_ssid_sta", "wifi_pwd_sta",
    "wifi_ssid_ap", "wifi_pwd_ap", "create_128bit_le_uuid_from_string", "pybytes_device_token",
    "pybytes_mqttServiceAddress", "pybytes_userId", "pybytes_network_preferences",
    "pybytes_extra_preferences", "pybytes_force_update", "smart_config_on_boot", "pybytes_lte_config",
    "pybytes_on_boot", "sigfox_info",
]  # fmt: skip


def board_module() -> types.ModuleType:
    """``pycom`` as a script imports it: the names this board kind and firmware build have."""
    names = [*_BOARD_NAMES, *SETTINGS]
    if current().kind.sigfox:
        names += SIGFOX_ONLY
    if profiles.active().name == "docs":  # the documented union; strict profiles are the plain builds
        names += PYBYTES_ONLY
    module = types.ModuleType("pycom")
    module.__dict__.update({name: globals()[name] for name in names})
    return module
