"""The serial runner: a MicroPython/Pycom board over a serial line (or ``socket://``), from Python
and from the ``firmware-sim`` command line.

    from firmware_sim.serial import Board, RemoteFS

    with Board("/dev/ttyACM0") as board:        # or "auto", or "socket://127.0.0.1:4000"
        board.enter_raw_repl(soft_reset=True)
        print(board.exec("print(1 + 1)"))        # b'2\\r\\n'
        RemoteFS(board).put(Path("main.py"))     # -> /flash/main.py, hash-verified, atomic
"""

from .files import Entry, RemoteError, RemoteFS, SyncResult, remote_path
from .ports import PYCOM_PIDS, PYCOM_VID, resolve_port, select_auto
from .transport import (
    Board,
    BoardError,
    BoardReset,
    BoardTimeout,
    ConnectError,
    Interrupted,
    PortGone,
    ProgramTimeout,
    ProtocolError,
    RunnerError,
    Transport,
)

__all__ = [
    "Board",
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
    "RunnerError",
    "SyncResult",
    "Transport",
    "remote_path",
    "resolve_port",
    "select_auto",
]
