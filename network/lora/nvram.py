"""The ``LORA_NVM`` nvs namespace of ``modlora.c`` (firmware 1.20.2.r6): where ``nvram_save`` keeps the
LoRaWAN session across deep sleep and power cycles, ``nvram_restore`` reads it and ``nvram_erase``
clears it. Keys as the firmware names them: ``JOINED`` and ``REGION`` (numbers) and the MAC's session
(the firmware's ``UPLNK``, ``DWLNK``, ``DEVADDR``, ``NWSKEY``, ``APPSKEY``, channels ... blobs: here one
``SESSION`` value, the LoRaWAN device's own saved state).

On a simulated board the namespace is a JSON file in the board's hidden flash folder
(``/flash/.firmware-sim/lora-nvram.json``), so ``--flash DIR`` keeps it across runs as the board's nvs
keeps it across power cycles; a plain process keeps it in memory. Bytes are stored as
``{"hex": "..."}``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from .settings import BOARD

__all__ = ["JOINED", "REGION", "SESSION", "NvramStore", "nvram"]

JOINED, REGION, SESSION = "JOINED", "REGION", "SESSION"
FILE_NAME = "lora-nvram.json"


def _to_json(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"hex"} and isinstance(value["hex"], str):
            return bytes.fromhex(value["hex"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


class NvramStore:
    """The namespace: read and written whole (a crash never leaves half a file)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._memory: dict[str, Any] = {JOINED: 0}  # lorawan_nvs_open: JOINED initialised to 0

    def _read(self) -> dict[str, Any]:
        path = BOARD.nvram
        if path is None:
            return dict(self._memory)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {JOINED: 0}
        return _from_json(data) if isinstance(data, dict) else {JOINED: 0}

    def _write(self, data: dict[str, Any]) -> None:
        path = BOARD.nvram
        if path is None:
            self._memory = dict(data)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(_to_json(data), sort_keys=True))
        os.replace(tmp, path)

    def get(self, key: str) -> Any:
        """The stored value, or None (``ESP_ERR_NVS_NOT_FOUND``)."""
        with self.lock:
            return self._read().get(key)

    def set(self, **values: Any) -> None:
        with self.lock:
            data = self._read()
            data.update(values)
            self._write(data)

    def erase_all(self) -> None:
        """``nvs_erase_all``: nothing is left, not even ``JOINED``."""
        with self.lock:
            self._write({})


_STORE = NvramStore()


def nvram() -> NvramStore:
    return _STORE
