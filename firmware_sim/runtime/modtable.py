"""The board's module table and its ``print``: which module names a script can import (built into the
firmware, or weak links to them) and where the simulator implements each. Shared by the import system
(:mod:`.loader`) and the board's builtins (:mod:`.board_builtins`)."""

from __future__ import annotations

import sys

# MicroPython's weak links: ``time`` is ``utime`` and so on (esp32/mpconfigport.h).
ALIASES = {
    "time": "utime",
    "os": "uos",
    "socket": "usocket",
    "select": "uselect",
    "json": "ujson",
    "binascii": "ubinascii",
    "struct": "ustruct",
    "collections": "ucollections",
    "hashlib": "uhashlib",
    "crypto": "ucrypto",
    "errno": "uerrno",
    "re": "ure",
    "sys": "usys",
    "io": "uio",
    "random": "urandom",
    "umachine": "machine",
    "queue": "uqueue",
    "zlib": "uzlib",
}
# sys.path at boot (esp32/mptask.c: '', '/flash', '/flash/lib'); '' is the working directory.
SYS_PATH = ("", "/flash", "/flash/lib")
# Board modules implemented in firmware_sim.modules (file name -> module name on the board).
BUILTIN = {
    "utime": "utime",
    "uos": "uos",
    "usocket": "usocket",
    "uselect": "uselect",
    "ujson": "ujson",
    "ubinascii": "ubinascii",
    "ustruct": "ustruct",
    "ucollections": "ucollections",
    "uhashlib": "uhashlib",
    "ucrypto": "ucrypto",
    "uerrno": "uerrno",
    "ure": "ure",
    "usys": "usys",
    "uio": "uio",
    "urandom": "urandom",
    "uqueue": "uqueue",
    "uzlib": "uzlib",
    "machine": "machine",
    "pycom": "pycom",
    "network": "network",
    "_thread": "_thread",
    "gc": "gc",
    "micropython": "micropython",
    "math": None,  # CPython's, unchanged
    "cmath": None,
    "array": None,
}


def board_print(
    *values, sep: str | None = " ", end: str | None = "\n", file=None, flush: bool = False
) -> None:
    """``print`` as a board's UART does it: each call written whole, so threads never split a line."""
    stream = sys.stdout if file is None else file
    stream.write((" " if sep is None else sep).join(map(str, values)) + ("\n" if end is None else end))
    if flush:
        stream.flush()
