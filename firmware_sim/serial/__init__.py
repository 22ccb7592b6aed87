"""The serial runner: a MicroPython/Pycom board over a serial line (or ``socket://`` on this machine),
from Python and from the ``firmware-sim`` command line.

    from firmware_sim.serial import RemoteFS, ReplSession

    with ReplSession("/dev/ttyACM0") as session:    # or "auto", or "socket://127.0.0.1:4000"
        session.enter_raw_repl(soft_reset=True)
        print(session.exec("print(1 + 1)"))        # b'2\\r\\n'
        RemoteFS(session).put(Path("main.py"))     # -> /flash/main.py, hash-verified, atomic

Layers: :mod:`.line` (the byte line, ``SerialLine``) < :mod:`.session` (the raw-REPL client, with
:mod:`.sending` and :mod:`.following`) < :mod:`.files` (``RemoteFS``; the on-board helpers in
:mod:`.onboard`) < :mod:`.handlers` / :mod:`.commands` (the CLI). Errors in :mod:`.errors`; the
protocol's bytes in :mod:`firmware_sim.replwire`. A ``socket://``/``rfc2217://`` port off this machine
needs ``allow_lan=True`` (``--allow-lan``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import (
        BoardError,
        BoardReset,
        BoardTimeout,
        ConnectError,
        Interrupted,
        PortGone,
        ProgramTimeout,
        ProtocolError,
        RemoteError,
        RunnerError,
    )
    from .files import Entry, RemoteFS, SyncResult
    from .line import SerialLine
    from .paths import remote_path
    from .ports import PYCOM_PIDS, PYCOM_VID, check_on_this_machine, resolve_port, select_auto
    from .session import ReplSession

_HOME = {
    **dict.fromkeys(
        (
            "BoardError",
            "BoardReset",
            "BoardTimeout",
            "ConnectError",
            "Interrupted",
            "PortGone",
            "ProgramTimeout",
            "ProtocolError",
            "RemoteError",
            "RunnerError",
        ),
        ".errors",
    ),
    **dict.fromkeys(("Entry", "RemoteFS", "SyncResult"), ".files"),
    "SerialLine": ".line",
    "remote_path": ".paths",
    **dict.fromkeys(
        ("PYCOM_PIDS", "PYCOM_VID", "check_on_this_machine", "resolve_port", "select_auto"), ".ports"
    ),
    "ReplSession": ".session",
}


def __getattr__(name: str) -> Any:
    """The names below, imported on first use: the command line loads this package for its argument
    definitions, and only a command that talks to a board needs pyserial and the REPL client."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "BoardError",
    "BoardReset",
    "BoardTimeout",
    "ConnectError",
    "Entry",
    "Interrupted",
    "PYCOM_PIDS",
    "PYCOM_VID",
    "PortGone",
    "ProgramTimeout",
    "ProtocolError",
    "RemoteError",
    "RemoteFS",
    "ReplSession",
    "RunnerError",
    "SerialLine",
    "SyncResult",
    "check_on_this_machine",
    "remote_path",
    "resolve_port",
    "select_auto",
]
