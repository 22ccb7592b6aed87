"""Firmware 1.20.3's "IRQs" thread: where the Coap response handler runs on 1.20.3.b0 and later.

modcoap queues each response for the handler with ``mp_irq_queue_interrupt_non_ISR`` (firmware-coap.md
§7.4); a MicroPython thread of its own makes the calls (``TASK_Interrupts``, esp32/util/mpirq.c). An
uncaught exception there is printed and ends that thread for good; ``SystemExit`` is swallowed silently.

:func:`call_handler` and :func:`report_unhandled` are how any response-handler call is made and an
uncaught exception printed, in this thread and in ``read()``'s.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence

_IRQ_LINGER = 0.25  # host seconds an idle IRQ thread waits for more callbacks before it ends

Call = tuple[int, int, int, bytes, bytes]  # the response handler's (code, id, type, token, payload)
_OURS = os.path.dirname(os.path.abspath(__file__))  # frames of network/coap: not the script's


def call_handler(handler: object, args: Sequence[object]) -> None:
    """``mp_call_function_n_kw(handler, 5, 0, args)``: an object that is not callable raises
    ``TypeError("'int' object isn't callable")`` (py/runtime.c, MicroPython 1.11's NORMAL errors)."""
    if not callable(handler):
        raise TypeError(f"'{type(handler).__name__}' object isn't callable")
    handler(*args)


def report_unhandled(exc: BaseException) -> None:
    """What MicroPython prints for an uncaught exception in a callback (``mpirq.c``): the line
    ``Unhandled exception in callback handler``, then the traceback of the script's frames (just the
    exception when it was raised before any of them, e.g. a handler that is not callable)."""
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_OURS + os.sep):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    sys.stderr.write("Unhandled exception in callback handler\n" + text)
    sys.stderr.flush()


class IrqThread:
    """Firmware 1.20.3's "IRQs" MicroPython thread for the response handler: ``read()`` queues the
    calls, this thread makes them. An uncaught exception prints ``Unhandled exception in callback
    handler`` and the traceback, and ends the thread for good: no callbacks after that. ``SystemExit``
    is swallowed and the thread goes on, as ``TASK_Interrupts`` does.

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
                call_handler(handler, args)
            except SystemExit:
                continue  # swallowed silently, as the firmware's IRQ task does
            except BaseException as exc:  # the firmware prints any other exception and dies
                with self._cond:
                    self.dead = True
                    self._running = False
                    queue.clear()
                report_unhandled(exc)
                return
