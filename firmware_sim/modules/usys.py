"""``usys`` / ``sys`` on the board: what a Pycom board reports about itself (py/modsys.c at v1.20.2.r6:
``version`` "3.4.0", ``version_info`` (3, 4, 0), ``implementation`` an attrtuple (name, version) with no
``mpy`` field in 1.11, ``platform`` the board's MICROPY_PY_SYS_PLATFORM, ``exc_info`` as
MICROPY_PY_SYS_EXC_INFO 1 in esp32/mpconfigport.h makes it; no ``getsizeof``)."""

from __future__ import annotations

import sys as _host_sys
import types

from ..runtime import current
from ..runtime.kinds import MICROPYTHON_VERSION
from ..runtime.traceback import format_exception


class _Implementation(tuple[str, tuple[int, int, int]]):
    """``sys.implementation``: MicroPython's attrtuple (py/objattrtuple.c), a tuple whose items are also
    attributes, printed ``(name='micropython', version=(1, 11, 0))``."""

    def __new__(cls, name: str, version: tuple[int, int, int]) -> _Implementation:
        return super().__new__(cls, (name, version))

    @property
    def name(self) -> str:
        return self[0]

    @property
    def version(self) -> tuple[int, int, int]:
        return self[1]

    def __repr__(self) -> str:
        return "(" + ", ".join(f"{f}={v!r}" for f, v in zip(("name", "version"), self, strict=True)) + ")"

    __str__ = __repr__


def _exc_info() -> tuple:
    """``sys.exc_info()``: (type, value, None): MicroPython keeps no traceback object."""
    kind, value, _ = _host_sys.exc_info()
    return (kind, value, None)


def board_module() -> types.ModuleType:
    board = current()
    module = types.ModuleType("sys")
    major, minor, micro = (int(p) for p in MICROPYTHON_VERSION.split("."))
    module.__dict__.update(
        platform=board.kind.platform,
        implementation=_Implementation("micropython", (major, minor, micro)),
        version="3.4.0",
        version_info=(3, 4, 0),
        byteorder="little",
        maxsize=2**31 - 1,
        path=board.loader.path,  # the list the loader searches (builtinimport.c find_file)
        argv=[],
        modules=board.loader.modules,
        stdin=_host_sys.stdin,
        stdout=_host_sys.stdout,
        stderr=_host_sys.stderr,
        exit=_host_sys.exit,
        exc_info=_exc_info,
        print_exception=lambda exc, file=None: (file or _host_sys.stdout).write(
            format_exception(exc, board.loader.files)
        ),
    )
    return module
