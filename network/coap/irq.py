"""Firmware 1.20.3's "IRQs" thread: where the Coap response handler runs on 1.20.3.b0 and later.

modcoap queues each response for the handler with ``mp_irq_queue_interrupt_non_ISR`` (firmware-coap.md
§7.4); a MicroPython thread of its own makes the calls. An uncaught exception there ends that thread
for good.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable

_IRQ_LINGER = 0.25  # host seconds an idle IRQ thread waits for more callbacks before it ends

Call = tuple[int, int, int, bytes, bytes]  # the response handler's (code, id, type, token, payload)


class IrqThread:
    """Firmware 1.20.3's "IRQs" MicroPython thread for the response handler: ``read()`` queues the
    calls, this thread makes them. An uncaught exception prints ``Unhandled exception in callback
    handler`` and the traceback, and ends the thread for good: no callbacks after that.

    The thread starts with the first callback and ends after ``_IRQ_LINGER`` seconds without one (the
    next callback starts a new one), so it does not keep a finished script's board running."""

    def __init__(self, handler: Callable[[], Callable[..., object] | None]) -> None:
        self._handler = handler  # the script's response handler at the time of each call
        self._queue: deque[Call] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._running = False
        self.dead = False

    def put(self, calls: list[Call]) -> None:
        with self._cond:
            if self.dead:
                return
            self._queue.extend(calls)
            if self._running:
                self._cond.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="IRQs", daemon=True).start()

    def close(self) -> None:
        with self._cond:
            self.dead = True
            self._queue.clear()
            self._cond.notify()

    def _run(self) -> None:
        queue = self._queue
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: queue or self.dead, _IRQ_LINGER) or self.dead:
                    self._running = False
                    return
                args = queue.popleft()
            handler = self._handler()
            if handler is None:
                continue
            try:
                handler(*args)
            except BaseException as exc:
                with self._cond:
                    self.dead = True
                    self._running = False
                    queue.clear()
                sys.stderr.write("Unhandled exception in callback handler\n")
                tb = exc.__traceback__
                traceback.print_exception(type(exc), exc, tb and tb.tb_next, file=sys.stderr)
                sys.stderr.flush()
                return
