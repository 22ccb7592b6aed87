"""Pycom's ``network`` module (firmware 1.20) for CPython: the firmware classes the emulator simulates.

``network`` on the firmware (``esp32/mods/modnetwork.c``, v1.20.2.r6) holds ``WLAN``, ``LoRa`` (LoPy,
LoPy4 and FiPy only), ``LTE`` (FiPy and GPy only), ``Server``, ``Coap`` and ``MDNS`` (and ``Sigfox``,
``Bluetooth``, ``ETH``, which are not simulated). A plain Python process is a board with every simulated
class; a simulated board (``firmware-sim run``) sees those its board kind and firmware have (``LoRa`` only
on LoPy, LoPy4 and FiPy, ``LTE`` only on FiPy and GPy; no ``MDNS`` on 1.20.3.b0-b2, where
``MOD_MDNS_ENABLED`` is off by default).

Only the names in ``__all__`` are the firmware's. The submodules are internal to the emulator and never
seen by a script on a simulated board: ``network.host`` (the board's address, address map and clock,
injected by the simulator or read from ``FIRMWARE_SIM_*`` variables), ``network.addresses``
(free-address reservation, map rules) and ``network.profile`` (firmware behaviour profiles). This
package never imports the simulator (``firmware_sim``); the simulator configures it from below.

The classes load on first use (``from network import Coap`` as usual): a process that only needs
``network.host`` (the ``firmware-sim`` command, the serial runner) does not pay for the CoAP engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .coap.api.module import Coap
    from .lora.api import LoRa
    from .lte import LTE
    from .services import MDNS, Server
    from .wlan import WLAN

# in modnetwork.c's order
__all__ = ["WLAN", "LoRa", "Sigfox", "LTE", "Server", "Coap", "MDNS"]

_HOMES = {
    "WLAN": ".wlan",
    "LoRa": ".lora.api",
    "Sigfox": ".sigfox",
    "LTE": ".lte",
    "Server": ".services",
    "Coap": ".coap.api.module",
    "MDNS": ".services",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'network' has no attribute '{name}'")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
