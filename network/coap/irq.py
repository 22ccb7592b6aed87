"""Firmware 1.20.3's "IRQs" thread: where the Coap response handler (1.20.3.b0 and later) and the
new-resource handler (1.20.3.b3 and later) run.

modcoap queues each response for the handler with ``mp_irq_queue_interrupt_non_ISR`` (firmware-coap.md
§7.4), and each resource a dynamic PUT created for ``register_new_resource_handler``'s function the same
way (modcoap.c v1.20.3.b3 L661-664, L881-887); a MicroPython thread of its own makes the calls
(``TASK_Interrupts``, esp32/util/mpirq.c), reading the registered function at call time. An uncaught
exception there is printed and ends that thread for good, for both handlers; ``SystemExit`` is swallowed
silently.

:func:`call_handler` and :func:`report_unhandled` are how any handler call is made and an uncaught
exception printed, in this thread and in ``read()``'s (:func:`call_here`).
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
# one queued call: the function registered at call time (or None: no call), and its arguments
Job = tuple[Callable[[], object], tuple[object, ...]]
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


_handler_state = threading.local()


def in_response_handler() -> bool:
    """True while this thread runs the script's response handler from ``read()`` (:func:`call_here`)."""
    return getattr(_handler_state, "active", False)


def call_here(jobs: list[Job], is_response: Callable[[Job], bool], leaves: Callable[[], bool]) -> None:
    """Make the calls in this thread (inside ``read()``: firmware 1.20.1-1.20.2, and the docs profile).
    An uncaught exception is printed as MicroPython prints one from a callback and the next call goes
    on, unless it comes from the response handler and ``leaves()`` says it leaves ``read()``
    (1.20.1-1.20.2)."""
    local = _handler_state
    for job in jobs:
        handler = job[0]()
        if handler is None:
            continue
        response = is_response(job)
        local.active = response
        try:
            call_handler(handler, job[1])
        except Exception as exc:
            if response and leaves():
                raise
            report_unhandled(exc)
        finally:
            local.active = False


class IrqThread:
    """Firmware 1.20.3's "IRQs" MicroPython thread for the Coap handlers: ``read()`` queues the calls
    (:data:`Job`), this thread makes them. An uncaught exception prints ``Unhandled exception in callback
    handler`` and the traceback, and ends the thread for good: no callbacks after that. ``SystemExit``
    is swallowed and the thread goes on, as ``TASK_Interrupts`` does.

    The thread starts with the first callback and ends after ``_IRQ_LINGER`` seconds without one (the
    next callback starts a new one), so it does not keep a finished script's board running."""

    def __init__(self) -> None:
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._running = False
        self.dead = False

    def put(self, jobs: list[Job]) -> None:
        with self._cond:
            if self.dead:
                return
            self._queue.extend(jobs)
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
                registered, args = queue.popleft()
            handler = registered()
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
