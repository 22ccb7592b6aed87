"""The firmware's LoRa task (``TASK_LoRa`` in ``modlora.c``, firmware 1.20.2.r6) and its event group.

One thread per board runs the commands scripts queue (``xCmdQueue``, 7 deep: a full queue is what makes a
non-blocking ``send`` raise ``EAGAIN``) one at a time, and the radio's and the MAC's timers. While a
command keeps the task ``busy`` (a frame on the air, a LoRaWAN uplink until its confirmation) the next
command waits in the queue, as the firmware's task takes commands only in its idle states.
:class:`Events` is ``LoRaEvents``, the bits ``lora_send_cmd``, ``lora_send`` and ``lorawan_send`` wait on.

Timers are in board seconds (``network.host.board_time()``); waits convert them to host seconds.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Callable

from .. import host
from .args import QUEUE_SIZE

__all__ = ["COMPLETED", "ERROR", "MSG_SIZE", "RESET_DONE", "Events", "LoRaTask"]

COMPLETED, ERROR, MSG_SIZE, RESET_DONE = 0x01, 0x02, 0x04, 0x08  # LORA_STATUS_*
_SLICE_S = 0.1  # longest single host wait, so a script's Ctrl-C is seen


class Events:
    """``LoRaEvents``: bits set by the task, waited for by the script's thread."""

    def __init__(self) -> None:
        self._bits = 0
        self._cond = threading.Condition()

    def clear(self, mask: int) -> None:
        with self._cond:
            self._bits &= ~mask

    def set(self, mask: int) -> None:
        with self._cond:
            self._bits |= mask
            self._cond.notify_all()

    def wait(self, mask: int, timeout: float | None = None) -> int:
        """``xEventGroupWaitBits(..., clear on exit, any bit)``: the bits of ``mask`` that were set (0:
        ``timeout`` board seconds passed; None waits for ever)."""
        end = None if timeout is None else host.board_time() + timeout
        with self._cond:
            while not self._bits & mask:
                left = _SLICE_S if end is None else host.host_seconds(end - host.board_time())
                if left <= 0:
                    return 0
                self._cond.wait(min(left, _SLICE_S))
            found = self._bits & mask
            self._bits &= ~mask
            return found


Command = Callable[[], None]


class LoRaTask:
    """The command queue and timers, run on one daemon thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[Command] = deque()
        self._timers: list[tuple[float, int, Command]] = []
        self._cancelled: set[int] = set()
        self._order = itertools.count()
        self.busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="LoRa task", daemon=True)
        self._thread.start()

    def submit(self, command: Command, timeout: float | None = None, front: bool = False) -> bool:
        """``xQueueSend``: queue ``command`` if the queue has room within ``timeout`` board seconds
        (None: wait for room); False if it stayed full."""
        end = None if timeout is None else host.board_time() + timeout
        with self._cond:
            while len(self._queue) >= QUEUE_SIZE:
                left = _SLICE_S if end is None else host.host_seconds(end - host.board_time())
                if left <= 0:
                    return False
                self._cond.wait(min(left, _SLICE_S))
            if front:
                self._queue.appendleft(command)
            else:
                self._queue.append(command)
            self._cond.notify_all()
            return True

    def has_space(self) -> bool:
        with self._cond:
            return len(self._queue) < QUEUE_SIZE

    def flush(self) -> None:
        """``xQueueReset``: drop the queued commands."""
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()

    def call_at(self, when: float, action: Command) -> int:
        """Run ``action`` on the task at board time ``when``; returns a handle for :meth:`cancel`."""
        handle = next(self._order)
        with self._cond:
            heapq.heappush(self._timers, (when, handle, action))
            self._cond.notify_all()
        return handle

    def call_soon(self, action: Command) -> int:
        return self.call_at(host.board_time(), action)

    def cancel(self, handle: int | None) -> None:
        if handle is not None:
            with self._cond:
                self._cancelled.add(handle)

    def cancel_all(self) -> None:
        with self._cond:
            self._cancelled.update(handle for _, handle, _ in self._timers)

    def set_busy(self, busy: bool) -> None:
        with self._cond:
            self.busy = busy
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _next(self) -> Command | None:
        """The next thing to run, or None after waiting a while (called with the lock held)."""
        now = host.board_time()
        while self._timers and self._timers[0][1] in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._timers)[1])
        if self._timers and self._timers[0][0] <= now:
            return heapq.heappop(self._timers)[2]
        if self._queue and not self.busy:
            command = self._queue.popleft()
            self._cond.notify_all()
            return command
        wait = _SLICE_S
        if self._timers:
            wait = min(wait, max(host.host_seconds(self._timers[0][0] - now), 0.0))
        self._cond.wait(wait)
        return None

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                action = self._next()
            if action is None:
                continue
            try:
                action()
            except Exception as err:  # the task never dies: a failing step is reported
                import sys
                import traceback

                traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
