"""The board's config block: the settings ``pycom`` keeps for the next boot (a board part).

As Pycom firmware 1.20 (``esp32/pycom_config.c``): a flash sector apart from nvs, so
``pycom.nvs_erase_all()`` keeps it. On the simulated board it is ``/flash/.firmware-sim/pycom-config.json``
(only the values that differ from a factory-fresh board are written), kept with the flash across resets and
runs (``--flash DIR``). The factory values: heartbeat, Wi-Fi and the LTE modem on at boot, Wi-Fi as an
access point, no watchdog, a FAT file system, Pybytes started at boot (its builds), no Sigfox credentials.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..runtime import current

if TYPE_CHECKING:
    from ..runtime.board import Board

CONFIG_FILE = "pycom-config.json"
WIFI_MODE_NONE, WIFI_MODE_STA, WIFI_MODE_AP, WIFI_MODE_STA_AP = 0, 1, 2, 3  # as wifi_mode_on_boot() says
FAT, LITTLEFS = 0, 1
DEFAULTS: dict[str, Any] = {
    "heartbeat_on_boot": True,
    "wifi_on_boot": True,
    "lte_modem_en_on_boot": True,
    "wdt_on_boot": False,
    "wdt_on_boot_timeout": 5000,
    "wifi_mode_on_boot": WIFI_MODE_AP,  # the factory setting: the board starts its own access point
    "wifi_auth": 3,  # WLAN.WPA2
    "wifi_antenna_internal": True,
    "wifi_ssid_sta": None,
    "wifi_pwd_sta": None,
    "wifi_ssid_ap": None,
    "wifi_pwd_ap": None,
    "smart_config_on_boot": False,
    "fs_type": FAT,
    "pybytes_on_boot": True,
    "pybytes_force_update": False,
    "pybytes_device_token": "",
    "pybytes_mqttServiceAddress": "",
    "pybytes_userId": "",
    "pybytes_network_preferences": "",
    "pybytes_extra_preferences": "",
    "sigfox_id": None,  # hex strings as written by sigfox_info(); None: erased (all 0xFF)
    "sigfox_pac": None,
    "sigfox_public_key": None,
    "sigfox_private_key": None,
    "lora_region": 5,  # LoRa.EU868, as the Firmware Updater sets it (0xFF: none; modlora.c then refuses)
}


def load_json(path: Path) -> dict:
    """The JSON object in ``path``, or {} if there is none (or it is damaged)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_json(path: Path, data: dict) -> None:
    """Write ``data`` so that a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)


class PycomConfig:
    """One board's config block, read from its flash when first used."""

    def __init__(self, board: Board) -> None:
        self.lock = threading.RLock()
        self.path = board.flash.private(CONFIG_FILE)
        stored = load_json(self.path)
        self.values = {key: stored.get(key, default) for key, default in DEFAULTS.items()}
        self.at_boot = dict(self.values)  # as the firmware read them at boot (the heartbeat's)

    def get(self, key: str) -> Any:
        with self.lock:
            return self.values[key]

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (written to the flash at once, as ``config_write``)."""
        with self.lock:
            if self.values[key] == value:
                return
            self.values[key] = value
            save_json(self.path, {k: v for k, v in self.values.items() if v != DEFAULTS[k]})


def config(board: Board | None = None) -> PycomConfig:
    """The config block of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(PycomConfig)
