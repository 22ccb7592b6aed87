"""What the simulator tells ``network.LoRa`` about its board (a plain Python process is a LoPy4 at its
``network.host`` address): the kind (EU433 and CN470 are LoPy4-only in ``modlora.c``), the LoRa MAC, the
config block's region, where ``nvram_save`` keeps the session, which medium the radio is on, and how the
board calls interrupt handlers.

The LoRa MAC (``LoRa.mac()``, the OTAA DevEUI when none is given) is written into the config block at
the factory (``config_get_lpwan_mac``, ``esp32/pycom_config.c``); Pycom's come from its IEEE block
70-B3-D5-49-9 (``70B3D5499xxxxxxx``). The simulator makes one in that block from the board's unique id
(its Wi-Fi MAC, ``machine.unique_id()``): the last 28 bits of the unique id, so it is stable for a board
address and differs between boards.

Internal: scripts never see this module; :func:`configure_board` is the simulator's, :func:`links`
the ``--lora-link`` table it passes on to the medium.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import host
from .args import EU868

__all__ = [
    "BOARD", "BoardSettings", "configure_board", "lora_mac", "own_threads", "queue_interrupt", "reset_board",
    "unique_id",
]  # fmt: skip

PYCOM_LPWAN_BLOCK = 0x70B3D5499  # the 36-bit IEEE MA-S block of Pycom's LPWAN MACs


@dataclass
class BoardSettings:
    """The board LoRa runs on. ``nvram``: the file of ``nvram_save`` (None: kept in memory only)."""

    lopy4: bool = True
    config_region: int = EU868  # config_get_lora_region() (0xFF: none set)
    mac: bytes | None = None  # None: derived from the board's address (lora_mac())
    nvram: Path | None = None
    medium: str | None = None  # None: network.lora.medium.default_name()
    across_processes: bool = False  # the simulator's boards meet other processes over loopback UDP
    path_loss: dict[str, float] = field(default_factory=dict)  # peer member id -> dB
    distance: dict[str, float] = field(default_factory=dict)  # peer member id -> metres
    queue_interrupt: Callable[[Callable[[Any], Any], Any], None] | None = None  # mp_irq_queue_interrupt
    own_thread: Callable[[int], None] | None = None  # the simulator's threads never keep a board running


BOARD = BoardSettings()


def configure_board(**values: Any) -> None:
    """Set the board's settings (the simulator, or a test); names are :class:`BoardSettings` fields."""
    for name, value in values.items():
        if not hasattr(BOARD, name):
            raise TypeError(f"no LoRa board setting {name!r}")
        setattr(BOARD, name, value)


def reset_board() -> None:
    """Back to a plain process's settings (tests)."""
    fresh = BoardSettings()
    for name in fresh.__dataclass_fields__:
        setattr(BOARD, name, getattr(fresh, name))


def unique_id(ip: str) -> bytes:
    """The board's Wi-Fi MAC, as ``machine.unique_id()`` gives it: 30:AE:A4 and the address's last bytes."""
    return bytes((0x30, 0xAE, 0xA4, *(int(part) & 0xFF for part in ip.split(".")[1:4])))


def lora_mac() -> bytes:
    """The board's 8-byte LoRa MAC (``config_get_lpwan_mac``)."""
    if BOARD.mac is not None:
        return BOARD.mac
    low = int.from_bytes(unique_id(host.own_address()), "big") & 0x0FFF_FFFF
    return ((PYCOM_LPWAN_BLOCK << 28) | low).to_bytes(8, "big")


def own_threads() -> None:
    """Tell the simulator which threads are LoRa's (the task, the medium's): not the script's."""
    if BOARD.own_thread is None:
        return
    for thread in threading.enumerate():
        if thread.name.startswith(("LoRa task", "lora-medium-", "lora-air-")) and thread.ident is not None:
            BOARD.own_thread(thread.ident)


def queue_interrupt(handler: Callable[[Any], Any], arg: Any) -> None:
    """``mp_irq_queue_interrupt``: call ``handler(arg)`` on the board's IRQ task, else on a thread."""
    if BOARD.queue_interrupt is not None:
        BOARD.queue_interrupt(handler, arg)
    else:
        threading.Thread(target=handler, args=(arg,), name="LoRa IRQ", daemon=True).start()
