"""The bytes of the MicroPython REPL protocol that both ends share: the serial runner (the host,
``firmware_sim.serial``) and the virtual board (``firmware_sim.virtual.repl``). Defined once, here.

Control characters are byte values (``int``), as a byte of ``bytes`` reads; ``bytes((CTRL_C,))`` is
the one-byte string. Behaviour: ../shared/spec/raw-repl.md §1 (MicroPython's ``pyexec.c``), §4 (Pycom).
This module imports nothing from the project.
"""

from __future__ import annotations

import struct

# -- control characters ------------------------------------------------------------------------------

CTRL_A = 0x01  # friendly REPL: enter the raw REPL; raw REPL: reprint its prompt (ends a raw-paste request)
CTRL_B = 0x02  # back to the friendly REPL (banner + prompt)
CTRL_C = 0x03  # KeyboardInterrupt while code runs; otherwise a fresh line / an empty raw buffer
CTRL_D = 0x04  # friendly: soft reset at an empty line; raw: end of input, and the end of each output section
CTRL_E = 0x05  # friendly: paste mode; raw: first byte of the raw-paste request
CTRL_F = 0x06  # Pycom only: the UART "reset char", a hard reset into safe boot (spec §4.4)

END = bytes((CTRL_D,))  # raw REPL: the end of the host's input, and of each output section of the board

# -- what the board prints ---------------------------------------------------------------------------

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"  # on entering (or resetting) the raw REPL
RAW_PROMPT = RAW_BANNER + b">"  # the banner and the raw REPL's prompt
OK = b"OK"  # standard raw mode: the code was received (after the host's Ctrl-D)
PROMPT = b">>> "  # the friendly REPL's prompt
CONTINUATION = b"... "  # the friendly REPL's prompt for the next line of a compound statement
HELP_LINE = b'Type "help()" for more information.\r\n'  # the last line of the friendly banner
FRIENDLY_PROMPT = HELP_LINE + PROMPT  # the end of the friendly banner: the REPL is ready
SOFT_REBOOT = b"soft reboot\r\n"  # the end of the soft-reboot line, whatever its prefix
PYCOM_SOFT_REBOOT = b"PYB: soft reboot\r\n"  # Pycom's soft-reboot line (upstream MicroPython: "MPY: ")
PASTE_BANNER = b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "  # friendly Ctrl-E

# -- raw-paste mode (MicroPython >= 1.14; not in Pycom 1.20) -----------------------------------------

RAW_PASTE_REQUEST = bytes((CTRL_E, ord("A"), CTRL_A))  # host, at the raw prompt
RAW_PASTE_GRANTED = b"R\x01"  # board: yes; then the window (uint16 little-endian) and CTRL_A
RAW_PASTE_REFUSED = b"R\x00"  # board: understood, but not supported
RAW_PASTE_WINDOW = 128  # bytes per window: MICROPY_REPL_STDIN_BUFFER_MAX / 2
WINDOW_FORMAT = "<H"  # how the window size is sent after RAW_PASTE_GRANTED


def raw_paste_grant(window: int = RAW_PASTE_WINDOW) -> bytes:
    """The board's full answer granting raw-paste with ``window`` bytes per window."""
    return RAW_PASTE_GRANTED + struct.pack(WINDOW_FORMAT, window) + bytes((CTRL_A,))
