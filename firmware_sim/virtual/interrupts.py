"""The virtual board's UART receive interrupt, as Pycom's UART ISR behaves: a thread reads what the host
sends and queues it for the REPL and ``sys.stdin``; Ctrl-C (the interrupt character) interrupts the
board's code, Ctrl-F (Pycom's reset character) resets the board into safe boot.

:class:`KeyboardInterrupts` decides whether a Ctrl-C interrupts code or is plain input;
:class:`Receiver` is the thread.
"""

from __future__ import annotations

import os
import select
import signal
import threading
from collections.abc import Callable
from types import FrameType

from .uart import RX_BUFFER, UartIn

POLL_SECONDS = 0.05  # how often the receiver looks whether a hard reset wants it to stop
DRAIN_LIMIT = 1 << 20  # at boot, at most this many bytes that came during the reset are read (and dropped)


class KeyboardInterrupts:
    """When a Ctrl-C from the host interrupts the board's code. It is armed before code runs (before the
    raw REPL's ``OK`` goes out, so a Ctrl-C sent on seeing it is for that code); while the main thread
    executes, a Ctrl-C raises ``KeyboardInterrupt`` there (SIGINT to the main thread, see
    :meth:`on_sigint`). During the boot sequence a Ctrl-C also stops main.py at its start, so a host
    that connects while the board boots reaches the REPL even when main.py loops for ever."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._main_ident = threading.main_thread().ident
        self.executing = False  # the main thread runs board code: a Ctrl-C raises KeyboardInterrupt
        self._armed = False  # a Ctrl-C now is meant for the code about to run
        self._pending = False  # a Ctrl-C arrived while armed
        self._booting = False  # boot.py/main.py phase, until the REPL's prompt
        self._boot_interrupt = False  # a Ctrl-C came during the boot sequence: main.py is interrupted

    def arm(self) -> bool:
        """A Ctrl-C from now on is for the code about to run; True if it was not armed before."""
        with self._lock:
            if self._armed:
                return False
            self._armed = True
            self._pending = False
            return True

    def disarm(self) -> None:
        """The code has finished: a Ctrl-C is input again."""
        with self._lock:
            self._armed = self._pending = False

    def stop_for_reset(self) -> None:
        """A hard reset is under way: a Ctrl-C now is input, nothing may stop the reset."""
        with self._lock:
            self._armed = self.executing = False

    def boot_starts(self) -> None:
        with self._lock:
            self._booting = True

    def boot_ends(self) -> None:
        """The REPL's prompt is out: the boot sequence is over."""
        with self._lock:
            self._booting = self._boot_interrupt = False

    def main_starts(self) -> None:
        """main.py is about to run: a Ctrl-C that came during the boot sequence interrupts it."""
        with self._lock:
            self._pending = self._pending or self._boot_interrupt
            self._boot_interrupt = False

    @property
    def pending(self) -> bool:
        """A Ctrl-C arrived for the armed code before it started running."""
        return self._pending

    def arrived(self) -> bool:
        """A Ctrl-C arrived: True if it interrupts code (running or about to run), False if it is input."""
        with self._lock:
            if self._booting:
                self._boot_interrupt = True
            if not self._armed:
                return self._booting
            self._pending = True
            if self.executing and self._main_ident is not None:
                signal.pthread_kill(self._main_ident, signal.SIGINT)
            return True

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler of the board's process: a ``KeyboardInterrupt`` in running code."""
        if self.executing:
            raise KeyboardInterrupt


class Receiver:
    """The receive interrupt's thread: reads the host's bytes from ``fd`` and queues them in ``uart_in``.
    ``chars()`` gives the current interrupt and reset characters (-1: off; ``micropython.kbd_intr``);
    the reset character drops what was not read and what follows it (a real board resets at once) and
    calls ``on_reset_char`` (it does not return), the end of the input (the relay is gone)
    ``on_hangup``. If the thread fails (anything raised in it), ``on_failure(exc)`` is called in it (it
    should end the process: a board nobody can talk to must not stay up); without one, the exception
    goes to ``threading.excepthook``."""

    def __init__(
        self,
        uart_in: UartIn,
        interrupts: KeyboardInterrupts,
        chars: Callable[[], tuple[int, int]],
        on_reset_char: Callable[[], None],
        on_hangup: Callable[[], None],
        fd: int = 0,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.uart_in = uart_in
        self.interrupts = interrupts
        self.chars = chars
        self.on_reset_char = on_reset_char
        self.on_hangup = on_hangup
        self.fd = fd
        self.on_failure = on_failure
        self.thread = threading.Thread(target=self._run, name="uart-rx", daemon=True)
        self._stopping = threading.Event()  # a hard reset is under way: stop reading
        self._parked = threading.Event()

    def start(self) -> int:
        """Start the thread; its ident (a simulator thread, not the board's)."""
        self.thread.start()
        assert self.thread.ident is not None
        return self.thread.ident

    def park(self, timeout: float) -> None:
        """Stop reading (a hard reset): what is still in the pipe stays there for the next boot."""
        self._stopping.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self._parked.wait(timeout)

    def boot(self, carried: bytes) -> int:
        """The board comes up after a reset (before :meth:`start`): ``carried`` (what the last boot had
        not read) and what the host sent while the board was down fill the receive buffer, up to
        :data:`~.uart.RX_BUFFER` bytes; the rest is lost, as it is on a board being reset. The bytes
        kept are then received (a Ctrl-F among them resets again). How many bytes were lost."""
        kept = bytearray(carried[:RX_BUFFER])
        total = len(carried)
        while total < DRAIN_LIMIT:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0)
                chunk = os.read(self.fd, 65536) if ready else b""
            except InterruptedError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                break  # nothing more waiting (or the relay is gone: the thread will see that)
            total += len(chunk)
            kept += chunk[: max(RX_BUFFER - len(kept), 0)]
        self.receive(bytes(kept))
        return total - len(kept)

    def _run(self) -> None:
        try:
            self._read()
        except BaseException as exc:  # noqa: BLE001 - the board must not go deaf silently
            if self.on_failure is None:
                raise
            self.on_failure(exc)

    def _read(self) -> None:
        while True:
            if self._stopping.is_set():
                self._parked.set()
                return
            try:
                ready, _, _ = select.select([self.fd], [], [], POLL_SECONDS)
                data = os.read(self.fd, 4096) if ready else None
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if data is None:
                continue
            if not data:
                self.on_hangup()
                return
            self.receive(data)

    def receive(self, data: bytes) -> None:
        """Bytes from the host: Ctrl-C and Ctrl-F act at once, the rest waits in the receive buffer (after
        a Ctrl-F nothing does: the board resets, losing what it had not read)."""
        interrupt, reset = self.chars()
        if not {c for c in (interrupt, reset) if c >= 0}.intersection(data):
            self.uart_in.put(data)
            return
        keep = bytearray()
        for byte in data:
            if byte == reset and reset >= 0:
                # the chip resets at once: its receive buffer, and what comes after, are lost
                self.uart_in.take()
                self.on_reset_char()
                return
            if byte == interrupt:
                self.uart_in.put(bytes(keep))  # what came before the Ctrl-C is there before it acts
                keep.clear()
                if self.interrupts.arrived():
                    continue
            keep.append(byte)
        self.uart_in.put(bytes(keep))
