"""What a Pycom board prints by itself on its UART: the ESP32 ROM boot log at a reset, the friendly
REPL's banner and ``help()``'s text. Text only, no I/O."""

from __future__ import annotations

from ..replwire import HELP_LINE
from ..runtime.kinds import MICROPYTHON_VERSION, build
from ..runtime.state import DEEPSLEEP_RESET, HARD_RESET, PWRON_RESET, SOFT_RESET, WDT_RESET

# the ROM bootloader's ``rst:`` field for each machine.reset_cause()
_RST = {
    PWRON_RESET: "0x1 (POWERON_RESET)",
    HARD_RESET: "0xc (SW_CPU_RESET)",
    WDT_RESET: "0x7 (TG0WDT_SYS_RESET)",
    DEEPSLEEP_RESET: "0x5 (DEEPSLEEP_RESET)",
    SOFT_RESET: "0xc (SW_CPU_RESET)",
}

HELP_TEXT = """Welcome to MicroPython!

For online docs please visit http://docs.pycom.io

Control commands:
  CTRL-A        -- on a blank line, enter raw REPL mode
  CTRL-B        -- on a blank line, enter normal REPL mode
  CTRL-C        -- interrupt a running program
  CTRL-D        -- on a blank line, do a soft reset of the board
  CTRL-E        -- on a blank line, enter paste mode
  CTRL-F        -- on a blank line, do a hard reset of the board and enter safe boot

For further help on a specific object, type help(obj)
"""


def banner(kind_platform: str, firmware: str) -> bytes:
    """The friendly REPL's banner, as Pycom firmware prints it (the build follows ``firmware``)."""
    release = build(firmware)
    major, minor = MICROPYTHON_VERSION.split(".")[:2]
    return (
        f"Pycom MicroPython {release.release} [v{major}.{minor}-{release.git_hash}] on {release.date}; "
        f"{kind_platform} with ESP32\r\n"
    ).encode() + HELP_LINE


def boot_log(cause: int) -> bytes:
    """What the ESP32's ROM bootloader prints at a reset of the given ``machine.reset_cause()``."""
    return (
        "ets Jun  8 2016 00:22:57\r\n\r\n"
        f"rst:{_RST.get(cause, _RST[HARD_RESET])},boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
        "configsip: 0, SPIWP:0xee\r\n"
        "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n"
        "mode:DIO, clock div:1\r\n"
        "load:0x3fff8020,len:8\r\n"
        "load:0x3fff8028,len:2140\r\n"
        "ho 0 tail 12 room 4\r\n"
        "load:0x4009fa00,len:19760\r\n"
        "entry 0x400a05bc\r\n"
    ).encode()


def help_text(obj: object = None) -> str:
    """``help()``: the control keys; ``help(obj)``: the object's public names and values."""
    if obj is None:
        return HELP_TEXT
    lines = [f"object {obj!r} is of type {type(obj).__name__}\n"]
    for name in sorted(name for name in dir(obj) if not name.startswith("_")):
        lines.append(f"  {name} -- {getattr(obj, name, None)!r}\n")
    return "".join(lines)
