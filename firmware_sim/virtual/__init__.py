"""The virtual board: a simulated Pycom board on a serial line (a pseudo-terminal or a loopback TCP port).

``firmware-sim board`` (:func:`serve_board`) prints the port on its first line, then behaves as a Pycom
board on USB serial: the banner and friendly REPL, the raw REPL (raw-paste if asked), Ctrl-C/D/F, soft
and hard resets, ``/flash`` in a folder. Real tools (mpremote, pyboard.py) and the serial runner connect
to it unchanged. Two processes:

* the relay, where :func:`serve_board` runs: :mod:`.serve` (start, stop, clean up), :mod:`.devices` (the
  pty or TCP port), :mod:`.relay` (bytes between the port and the board's process);
* the board's process: :mod:`.process` (the board: REPL driver, the board's code, resets), :mod:`.uart`
  (its UART as stdin/stdout), :mod:`.interrupts` (Ctrl-C and Ctrl-F), :mod:`.repl` (the REPL protocol as
  a state machine, without I/O), :mod:`.banner` (what the firmware prints by itself);
* :mod:`.launch` is what the relay hands the board's process.
"""

from __future__ import annotations

from typing import Any

__all__ = ["serve_board"]


def __getattr__(name: str) -> Any:
    # imported on first use: the board's process (which imports this package) does not need the relay
    if name == "serve_board":
        from .serve import serve_board

        return serve_board
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
