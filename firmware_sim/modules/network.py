"""``network`` on the board: the classes this board kind and firmware have, over the emulator's
``network`` package (``LoRa`` only on LoPy, LoPy4 and FiPy, ``LTE`` only on FiPy and GPy, as
``esp32/mods/modnetwork.c`` builds it; no ``MDNS`` where the firmware profile says the build lacks it).
The first import in a boot applies the boot Wi-Fi configuration (:mod:`.wifi_boot`), which the firmware
does before ``boot.py``, and tells LoRa its board (:func:`attach_lora`)."""

from __future__ import annotations

import types

import network as _network
from network import profile as profiles
from network.lora import settings as lora_settings

from ..runtime import current
from .machine.state import machine_part
from .pycom_config import config
from .sigfox_board import attach_sigfox
from .wifi_boot import attach_radio, ensure_wifi_booted

LORA_NVRAM = "lora-nvram.json"  # modlora.c's LORA_NVM nvs namespace, in the hidden flash folder


def attach_lora() -> None:
    """Tell ``network.LoRa`` its board: the kind, the config block's region, the nvram file, the medium
    (``--lora-medium``) and path losses (``--lora-link``), and the board's IRQ task."""
    board = current()
    state = board.state
    lora_settings.configure_board(
        lopy4=board.kind.key == "lopy4",
        config_region=config(board).get("lora_region"),
        nvram=board.flash.private(LORA_NVRAM),
        medium=state.lora_medium,
        across_processes=True,
        path_loss=dict(state.lora_path_loss),
        distance=dict(state.lora_distance),
        queue_interrupt=machine_part(board).irq.put,
        own_thread=board.own_threads.add,
    )


def board_module() -> types.ModuleType:
    kind = current().kind
    ensure_wifi_booted()
    attach_radio()  # a new session's IRQ thread
    lacks = set(profiles.active().network_lacks)
    if not kind.lte:
        lacks.add("LTE")
    if kind.lora:
        attach_lora()
    else:
        lacks.add("LoRa")
    if kind.sigfox:
        attach_sigfox()
    else:
        lacks.add("Sigfox")
    module = types.ModuleType("network")
    for name in _network.__all__:
        if name not in lacks:
            setattr(module, name, getattr(_network, name))
    return module
