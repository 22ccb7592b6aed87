"""``usys`` / ``sys`` on the board: what a Pycom board reports about itself."""

from __future__ import annotations

import sys as _host_sys
import types

from ..runtime import current
from ..runtime.kinds import MICROPYTHON_VERSION
from ..runtime.traceback import format_exception


def board_module() -> types.ModuleType:
    board = current()
    module = types.ModuleType("sys")
    major, minor, micro = (int(p) for p in MICROPYTHON_VERSION.split("."))
    module.__dict__.update(
        platform=board.kind.platform,
        implementation=types.SimpleNamespace(name="micropython", version=(major, minor, micro)),
        version="3.4.0",
        version_info=(3, 4, 0),
        byteorder="little",
        maxsize=2**31 - 1,
        path=["", "/flash", "/flash/lib"],
        argv=[],
        modules=board.loader.modules,
        stdin=_host_sys.stdin,
        stdout=_host_sys.stdout,
        stderr=_host_sys.stderr,
        exit=_host_sys.exit,
        print_exception=lambda exc, file=None: (file or _host_sys.stdout).write(
            format_exception(exc, board.loader.files)
        ),
    )
    return module
