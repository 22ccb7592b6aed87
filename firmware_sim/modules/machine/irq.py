"""The firmware's "IRQs" thread: interrupt handlers (``Pin.callback``, ``Timer.Alarm``) run one at a time.

As ``esp32/util/mpirq.c``: handlers are queued (at most 32 pending, more are dropped) and run in one
thread; an uncaught exception prints ``Unhandled exception in callback handler`` and the traceback, and
ends that thread, so no handler runs afterwards (until the next reset). ``machine.disable_irq()`` holds
the handlers back until ``enable_irq()``.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...runtime.traceback import format_exception

if TYPE_CHECKING:
    from ...runtime.board import Board

QUEUE_LEN = 32  # esp32/util/mpirq.h INTERRUPTS_QUEUE_LEN: more pending handlers are dropped
LINGER = 0.25  # host seconds an idle IRQs thread waits for more work before it ends


class Interrupts:
    """The IRQs thread of one board session; nothing is queued once ``asleep`` is set."""

    def __init__(self, board: Board, asleep: threading.Event) -> None:
        self._board = board
        self._asleep = asleep
        self._cond = threading.Condition()
        self._queue: deque[tuple[Callable[[Any], Any], Any]] = deque()
        self._thread: threading.Thread | None = None
        self.dead = False  # a handler raised: the thread has ended for good
        self.enabled = True  # machine.disable_irq() / enable_irq()

    def put(self, handler: Callable[[Any], Any], arg: Any) -> None:
        """Queue ``handler(arg)`` (as the firmware's ISRs do); dropped when the queue is full."""
        with self._cond:
            if self.dead or self._asleep.is_set() or len(self._queue) >= QUEUE_LEN:
                return
            self._queue.append((handler, arg))
            self._start()
            self._cond.notify()

    def enable(self, enabled: bool) -> None:
        """Let the handlers run (True) or hold them back (False)."""
        with self._cond:
            self.enabled = enabled
            if enabled and self._queue:
                self._start()
            self._cond.notify()

    def stop(self) -> None:
        """The board goes to sleep or the session ends: pending handlers are forgotten."""
        with self._cond:
            self._queue.clear()
            self._cond.notify()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="IRQs", daemon=True)
            self._thread.start()

    def _ready(self) -> bool:
        return bool(self._queue) and self.enabled

    def _run(self) -> None:
        while True:
            with self._cond:
                ready = self._cond.wait_for(self._ready, LINGER)
                if not ready and not self._queue:
                    self._thread = None
                    return
                if not ready:
                    continue  # interrupts disabled with handlers pending: wait for enable_irq()
                handler, arg = self._queue.popleft()
            try:
                handler(arg)
            except SystemExit:
                pass  # swallowed silently, as by the firmware's IRQ task
            except BaseException as exc:  # noqa: BLE001 - the firmware prints any exception and dies
                self._die(exc)
                return

    def _die(self, exc: BaseException) -> None:
        with self._cond:
            self.dead = True
            self._queue.clear()
            self._thread = None
        sys.stdout.write("Unhandled exception in callback handler\n")
        sys.stdout.write(format_exception(exc, self._board.loader.files))
        sys.stdout.flush()
        print(
            "firmware-sim: warning: the board's interrupt thread has ended, as on the firmware: no Pin or "
            "Timer.Alarm handler runs again until the board resets",
            file=sys.stderr,
            flush=True,
        )
