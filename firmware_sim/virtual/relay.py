"""The relay: moves bytes between the serial line's host end (a :class:`~.devices.Device`) and the board's
process (its stdin and stdout pipes), as a USB serial bridge does.

A hard reset re-executes the board process, so its pipes, and the port, stay up while the board
reboots. When the board's process ends by itself, :meth:`Relay.run` returns and the caller may start a new
one and :meth:`Relay.replace_child` (see :mod:`.serve`): the port stays open meanwhile. Board output is
held (up to :data:`BACKLOG`) for a host that reads slowly, and dropped while no host has the port open.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable
from typing import TextIO

from .devices import Device

BACKLOG = 256 * 1024  # bytes of board output held for a slow host before the board waits
READY_TIMEOUT = 30.0  # seconds to wait for the board to come up before announcing its port anyway
WAKE_MS = 200  # the longest the relay sleeps before looking whether it should stop


class Relay:
    """Moves bytes between ``device`` and the board process ``child`` until ``should_stop()`` says so or
    the board process ends. ``ready_fd`` becomes readable once the board is up: then ``on_ready(True)``
    (``on_ready(False)`` after :data:`READY_TIMEOUT`). ``log``: the line's traffic is written there
    (``H>D`` host to device, ``D>H`` back, ``D>-`` lost for want of a host)."""

    def __init__(
        self,
        device: Device,
        child: subprocess.Popen,
        ready_fd: int | None = None,
        on_ready: Callable[[bool], None] | None = None,
        log: TextIO | None = None,
    ) -> None:
        self.device = device
        self.to_child = bytearray()
        self.to_device = bytearray()
        self.replace_child(child)
        self.ready_fd = ready_fd
        self.on_ready = on_ready
        self.ready_deadline = time.monotonic() + READY_TIMEOUT
        self._log = log
        self._started = time.monotonic()

    def replace_child(self, child: subprocess.Popen) -> None:
        """Relay to ``child`` from now on (a new board process, after the last one ended). What the host
        sent for the last one is lost, as input to a board being powered on; its output still goes out."""
        assert child.stdin is not None and child.stdout is not None
        self.child = child
        self.child_in = child.stdin.fileno()
        self.child_out = child.stdout.fileno()
        os.set_blocking(self.child_in, False)
        os.set_blocking(self.child_out, False)
        self.to_child.clear()

    def log(self, direction: str, data: bytes) -> None:
        if self._log is not None:
            self._log.write(f"{time.monotonic() - self._started:9.3f} {direction} {data!r}\n")

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Relay until ``should_stop()`` (returns 0; looked at least every :data:`WAKE_MS`) or the board
        process ends (returns its status, at least 1)."""
        while not should_stop():
            fds, timeout = self.device.poll_fds(bool(self.to_device))
            if not self.device.connected():
                self.to_device.clear()  # nobody listens: the board's output is lost
            poller = select.poll()
            if len(self.to_device) < BACKLOG:
                poller.register(self.child_out, select.POLLIN)
            if self.to_child:
                poller.register(self.child_in, select.POLLOUT)
            for fd, events in fds:
                poller.register(fd, events)
            if self.ready_fd is not None and time.monotonic() > self.ready_deadline:
                self._announce(False)
            if self.ready_fd is not None:
                poller.register(self.ready_fd, select.POLLIN)
            try:
                ready = poller.poll(WAKE_MS if timeout is None else min(timeout, WAKE_MS))
            except InterruptedError:
                continue
            for fd, events in ready:
                if fd == self.child_out:
                    if not self._from_board():
                        return self._board_ended()
                elif fd == self.child_in:
                    self._to_board()
                elif fd == self.ready_fd:
                    self._announce(True)
                else:
                    data = self.device.on_event(fd, events)
                    if data:
                        self.log("H>D", data)
                        self.to_child += data
                        self._to_board()
            if self.to_device:
                self._to_host()
        return 0

    def close(self) -> None:
        """Forget the board-is-up pipe if it never spoke (the relay stopped first)."""
        if self.ready_fd is not None:
            os.close(self.ready_fd)
            self.ready_fd = None

    def _announce(self, up: bool) -> None:
        if self.ready_fd is not None:
            os.close(self.ready_fd)
            self.ready_fd = None
            if self.on_ready is not None:
                self.on_ready(up)

    def _from_board(self) -> bool:
        try:
            data = os.read(self.child_out, 65536)
        except (BlockingIOError, InterruptedError):
            return True
        if not data:
            return False
        self.log("D>H" if self.device.connected() else "D>-", data)
        if self.device.connected():
            self.to_device += data
            self._to_host()
        return True

    def _to_host(self) -> None:
        written = self.device.write(bytes(self.to_device))
        del self.to_device[:written]

    def _to_board(self) -> None:
        try:
            written = os.write(self.child_in, self.to_child)
        except (BlockingIOError, InterruptedError):
            return
        except BrokenPipeError:
            self.to_child.clear()
            return
        del self.to_child[:written]

    def _board_ended(self) -> int:
        """The board's process ended (its output pipe closed): its status, at least 1 (the caller says
        so, and whether it starts it again)."""
        status = self.child.wait()
        return status if status > 0 else 1
