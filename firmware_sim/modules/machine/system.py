"""``machine``'s board-wide functions (``modmachine.c``): identity and figures, ``main()``, and the
interrupt switch ``disable_irq()`` / ``enable_irq()`` of the IRQs thread (:mod:`.irq`)."""

from __future__ import annotations

import random

from network.coap.api.mpargs import check_count, to_int

from ...runtime import current
from ...runtime.heap import heap
from .consts import CPU_FREQ
from .state import machine_part


def mac_address(ip: str) -> bytes:
    """The board's Wi-Fi MAC, which ``unique_id()`` is on the firmware: Espressif's 30:AE:A4 and the
    last three bytes of the board's address (the same as ``WLAN().mac().sta_mac``)."""
    return bytes((0x30, 0xAE, 0xA4, *(int(part) & 0xFF for part in ip.split(".")[1:4])))


def unique_id(*args, **kwargs) -> bytes:
    """The board's 6-byte Wi-Fi MAC (stable for a board address)."""
    check_count(args, kwargs, 0, 0)
    return mac_address(current().state.ip)


def freq(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return CPU_FREQ


def rng(*args, **kwargs) -> int:
    """A 24-bit random number."""
    check_count(args, kwargs, 0, 0)
    return random.getrandbits(24)


def temperature(*args, **kwargs) -> int:
    """The ESP32 die temperature, in the firmware's raw (roughly Fahrenheit) units."""
    check_count(args, kwargs, 0, 0)
    return 127 + random.randint(-1, 1)


def info(*args, **kwargs) -> None:
    """Print the stack high-water marks of the firmware's tasks and the free system heap."""
    check_count(args, kwargs, 0, 0)
    board = current()
    kind = board.kind
    lines = [
        "---------------------------------------------",
        "System memory info (in bytes)",
        "---------------------------------------------",
        "MPTask stack water mark: 7128",
        "ServersTask stack water mark: 1028",
    ]
    if kind.lora:
        lines.append("LoRaTask stack water mark: 1852")
    if kind.sigfox:
        lines.append("SigfoxTask stack water mark: 2516")
    lines += [
        "TimerTask stack water mark: 1908",
        "IdleTask stack water mark: 604",
        f"System free heap: {heap(board).system_free()}",
        "---------------------------------------------",
    ]
    print("\n".join(lines))


def main(*args, **kwargs) -> None:
    """Set the script run after ``boot.py`` (only meaningful in ``boot.py``)."""
    check_count(args, kwargs, 1, 1)
    if not isinstance(args[0], str):
        raise TypeError("expecting a string file name")
    current().main_file = args[0]


def disable_irq(*args, **kwargs) -> int:
    """Hold back interrupt handlers; returns the previous state for ``enable_irq``."""
    check_count(args, kwargs, 0, 0)
    irq = machine_part().irq
    previous = 1 if irq.enabled else 0
    irq.enable(False)
    return previous


def enable_irq(*args, **kwargs) -> None:
    check_count(args, kwargs, 0, 1)
    machine_part().irq.enable(bool(to_int(args[0])) if args else True)


def flash_encrypt(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return 0


def secure_boot(*args, **kwargs) -> int:
    check_count(args, kwargs, 0, 0)
    return 0
