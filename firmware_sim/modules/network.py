"""``network`` on the board: the classes this board kind has (LTE only on FiPy and GPy, as on the
firmware), over the emulator's ``network`` package."""

from __future__ import annotations

import types

import network as _network
from network.services import MDNS, Server

from ..runtime import current


def board_module() -> types.ModuleType:
    kind = current().kind
    module = types.ModuleType("network")
    module.WLAN = _network.WLAN
    module.Coap = _network.Coap
    module.Server = Server
    module.MDNS = MDNS
    if kind.lte:
        from network.lte import LTE

        module.LTE = LTE
    return module
