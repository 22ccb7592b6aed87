"""The board's module table and its ``print``: which module names a script can import (built into the
firmware, or weak links to them) and where the simulator implements each. Shared by the import system
(:mod:`.loader`) and the board's builtins (:mod:`.board_builtins`)."""

from __future__ import annotations

# The weak links of esp32/mpconfigport.h (MICROPY_PORT_BUILTIN_MODULE_WEAK_LINKS, v1.20.2.r6): ``import
# time`` is ``utime`` unless a file of that name is on sys.path (py/builtinimport.c looks the weak link up
# only after the file system). No others: MicroPython 1.11 has no u-prefix fallback, so ``collections``,
# ``io``, ``random``, ``zlib`` and ``usys`` are ImportErrors on the board.
ALIASES = {
    "machine": "umachine",
    "os": "uos",
    "socket": "usocket",
    "select": "uselect",
    "binascii": "ubinascii",
    "struct": "ustruct",
    "re": "ure",
    "json": "ujson",
    "time": "utime",
    "hashlib": "uhashlib",
    "crypto": "ucrypto",
    "errno": "uerrno",
    "queue": "uqueue",
}
# sys.path at boot (esp32/mptask.c: '', '/flash', '/flash/lib'); '' is the working directory.
SYS_PATH = ("", "/flash", "/flash/lib")
# The firmware's built-in module names (py/objmodule.c mp_builtin_module_table with esp32/mpconfigport.h's
# switches, MICROPY_PORT_BUILTIN_MODULES, MP_REGISTER_MODULE) the simulator implements, each with its file
# in firmware_sim.modules (None: CPython's module of that name). A built-in name wins over a flash file.
# On the board and not simulated (an ImportError here): uctypes, utimeq, framebuf, ussl.
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
    "sys": "usys",
    "uio": "uio",
    "uqueue": "uqueue",
    "umachine": "machine",
    "pycom": "pycom",
    "network": "network",
    "_thread": "_thread",
    "gc": "gc",
    "micropython": "micropython",
    "math": None,  # CPython's, unchanged
    "cmath": None,
    "array": None,
}
