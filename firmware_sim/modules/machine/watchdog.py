"""The watchdog behind ``machine.WDT`` (``machwdt.c``): once started it cannot be stopped, and a feed
missed for ``timeout`` board milliseconds resets the board with ``WDT_RESET``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...runtime import pins
from .consts import WDT_RESET

if TYPE_CHECKING:
    from ...runtime.board import Board


class Watchdog:
    """The watchdog of one board session: idle until started, silent once ``asleep`` is set.
    ``go_down()`` is what the machine does before the reset it causes."""

    def __init__(self, board: Board, asleep: threading.Event, go_down: Callable[[], None]) -> None:
        self._board = board
        self._asleep = asleep
        self._go_down = go_down
        self._cond = threading.Condition()
        self.timeout_ms = 0
        self._deadline = 0.0
        self._thread: threading.Thread | None = None

    def start(self, timeout_ms: int) -> None:
        """Start (or restart with a new timeout) and feed it."""
        with self._cond:
            self.timeout_ms = max(timeout_ms, 1)
            self._feed()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wdt", daemon=True)
                self._thread.start()
            self._cond.notify()

    def feed(self) -> None:
        with self._cond:
            self._feed()

    def wake(self) -> None:
        """Let the thread look again (it ends if the board sleeps or the session is over)."""
        with self._cond:
            self._cond.notify()

    def _feed(self) -> None:
        self._deadline = time.monotonic() + self.timeout_ms / 1000 / self._board.clock.scale

    def _run(self) -> None:
        board = self._board
        with self._cond:
            while True:
                if self._asleep.is_set() or not pins.is_running(board):
                    self._thread = None
                    return
                left = self._deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
        self._go_down()
        board.reboot(
            WDT_RESET, why=f"watchdog: WDT(timeout={self.timeout_ms}) not fed for {self.timeout_ms} ms"
        )
