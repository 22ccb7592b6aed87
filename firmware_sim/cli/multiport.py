"""A multitest instance on a board at a port (``firmware-sim multitest --port PORT``): a real board, or
a virtual one at ``socket://``, driven as MicroPython's run-multitests.py drives its devices: soft reset
in the raw REPL, the instance's file sent and run, its output read line by line, and the broadcasts of
the other instances written to its stdin (the serial line), where ``multitest.wait`` reads them.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..serial import ReplSession

Lines = queue.Queue[tuple[int, str | None]]


class PortInstance:
    """Instance ``index`` running ``script`` on the board at ``port``; its lines go to ``lines`` (None
    once it ended). ``write`` sends a line to its stdin; ``stop`` interrupts it and closes the port."""

    def __init__(self, index: int, port: str, allow_lan: bool, lines: Lines) -> None:
        self.index = index
        self.port = port
        self.allow_lan = allow_lan
        self.lines = lines
        self.session: ReplSession | None = None
        self.error: str | None = None  # why the board could not run it (a runner error's message)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._partial = b""

    def start(self, script: str) -> None:
        self._thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self._thread.start()

    def _output(self, chunk: bytes) -> None:
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        for line in complete:
            self.lines.put((self.index, line.rstrip(b"\r").decode("utf-8", "replace")))

    def _run(self, script: str) -> None:
        from ..serial import BoardError, ReplSession, RunnerError

        try:
            session = ReplSession(self.port, allow_lan=self.allow_lan).open()
            with self._lock:
                self.session = session
            session.enter_raw_repl(soft_reset=True)  # a clean board, as run-multitests.py starts one
            session.run(script, on_output=self._output)
        except BoardError as err:  # the instance raised: its traceback is part of its output
            self._output(err.args[0].encode() if err.args else b"")
        except RunnerError as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 (the port went away while the runner stopped it)
            self.error = f"{type(err).__name__}: {err}"
        finally:
            if self._partial:
                self._output(b"\n")
            self.lines.put((self.index, None))

    def write(self, line: str) -> None:
        with self._lock:
            session = self.session
        if session is not None:
            try:
                session.line.write((line + "\n").encode())
            except Exception:  # noqa: BLE001 (the board has gone: nothing reads it any more)
                pass

    def stop(self) -> None:
        """Interrupt what still runs (Ctrl-C, as run-multitests.py) and close the port."""
        with self._lock:
            session = self.session
        if session is not None:
            try:
                session.line.write(b"\r\x03\x03")
            except Exception:  # noqa: BLE001
                pass
        if self._thread is not None:
            self._thread.join(5)
        if session is not None:
            try:
                session.close()
            except Exception:  # noqa: BLE001
                pass
