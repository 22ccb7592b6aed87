"""``network`` on the board: the classes this board kind and firmware have, over the emulator's
``network`` package (``LTE`` only on FiPy and GPy, as ``esp32/mods/modnetwork.c`` builds it; no
``MDNS`` where the firmware profile says the build lacks it). The first import in a boot applies the
boot Wi-Fi configuration (:mod:`.wifi_boot`), which the firmware does before ``boot.py``."""

from __future__ import annotations

import types

import network as _network
from network import profile as profiles

from ..runtime import current
from .wifi_boot import attach_radio, ensure_wifi_booted


def board_module() -> types.ModuleType:
    kind = current().kind
    ensure_wifi_booted()
    attach_radio()  # a new session's IRQ thread
    lacks = set(profiles.active().network_lacks)
    if not kind.lte:
        lacks.add("LTE")
    module = types.ModuleType("network")
    for name in _network.__all__:
        if name not in lacks:
            setattr(module, name, getattr(_network, name))
    return module
