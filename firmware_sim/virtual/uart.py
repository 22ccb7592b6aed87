"""The virtual board's UART as its process sees it: the transmit side is this process's stdout, the
receive side its stdin (both pipes to the relay, see :mod:`firmware_sim.virtual.relay`).

* :class:`UartOut` is ``sys.stdout`` on the board: text with ``\\n`` cooked to ``\\r\\n``, and raw bytes;
* :class:`SplitStderr` is ``sys.stderr`` on the board: the board's own error output goes to the line,
  the simulator's lines (``firmware-sim: ...``) to the host's stderr, and its warnings to both;
* :class:`UartIn` is the receive buffer the REPL and ``sys.stdin`` (:class:`UartStdin`) read from;
* :func:`carry_over` and :func:`carried_over` take what the host sent and nobody read across a hard
  reset (which re-executes the process), at most :data:`RX_BUFFER` bytes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import TextIO

SIMULATOR_PREFIX = "firmware-sim"  # a line of the simulator's own: for the host, not the board's output
WARNING_PREFIX = "firmware-sim: warning:"  # ... unless it warns about the board's code: the line's user too
# The REPL's UART(0) receive ring buffer: _boot.py opens it as UART(0, 115200), whose rx_buffer_size
# defaults to MACHUART_RX_BUFFER_LEN (esp32/mods/machuart.c, 1.20.2.r6). Across a reset no more is kept.
RX_BUFFER = 4096
ENV_CARRIED_FD = "FIRMWARE_SIM_CARRIED_INPUT_FD"  # a pipe (inherited across exec) holding carried input


class UartOut:
    """The UART's transmit side (a file descriptor, stdout): a text stream for ``sys.stdout`` that cooks
    ``\\n`` to ``\\r\\n``, and :meth:`send` for protocol bytes. Writes are whole and thread-safe. When the
    other end is gone (the relay ended) ``on_hangup`` is called; it should end the process."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, fd: int = 1, on_hangup: Callable[[], None] | None = None) -> None:
        self.fd = fd
        self.on_hangup = on_hangup or (lambda: os._exit(0))
        self._lock = threading.Lock()
        self.buffer = _UartOutBytes(self)

    def send(self, data: bytes) -> None:
        """Send ``data`` as it is (waits until the line has taken all of it)."""
        view = memoryview(data)
        with self._lock:
            while view:
                try:
                    written = os.write(self.fd, view)
                except InterruptedError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    self.on_hangup()  # nobody can talk to this board any more
                    return
                view = view[written:]

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"can't convert '{type(text).__name__}' object to str implicitly")
        self.send(text.replace("\n", "\r\n").encode("utf-8", "replace"))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class _UartOutBytes:
    """``sys.stdout.buffer``: bytes to the line as they are."""

    def __init__(self, out: UartOut) -> None:
        self._out = out

    def write(self, data: bytes | bytearray | memoryview) -> int:
        data = bytes(data)
        self._out.send(data)
        return len(data)

    def flush(self) -> None:
        pass


class SplitStderr:
    """``sys.stderr`` of the board process, line by line: the simulator's own lines (``firmware-sim:
    ...``) go to the ``host`` stream (the relay's stderr); its warnings about the board's code
    (``firmware-sim: warning: ...``, e.g. a firmware difference) go there and to the line, as output of
    the code that met them, so the user of the port sees them; anything else is the board's output."""

    encoding = "utf-8"

    def __init__(self, out: UartOut, host: TextIO) -> None:
        self._out = out
        self._host = host
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                complete, _, self._pending = self._pending.rpartition("\n")
                for line in complete.split("\n"):
                    self._route(line + "\n")
        return len(text)

    def _route(self, line: str) -> None:
        if line.startswith(SIMULATOR_PREFIX):
            self._host.write(line)
            self._host.flush()
            if not line.startswith(WARNING_PREFIX):
                return
        self._out.write(line)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, ""
            if pending:
                self._route(pending)

    def isatty(self) -> bool:
        return False


class UartIn:
    """The UART's receive buffer: bytes from the host, for the REPL and for ``sys.stdin``."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._cond = threading.Condition()

    def put(self, data: bytes) -> None:
        with self._cond:
            self._data += data
            self._cond.notify_all()

    def unget(self, data: bytes) -> None:
        """Put ``data`` back in front of what is waiting (the REPL did not consume it)."""
        with self._cond:
            self._data[:0] = data

    def get(self, limit: int = 1 << 16) -> bytes:
        """What has arrived, up to ``limit`` bytes (waits for at least one byte)."""
        with self._cond:
            while not self._data:
                self._cond.wait()
            data = bytes(self._data[:limit])
            del self._data[:limit]
            return data

    def take(self) -> bytes:
        """Everything received and not yet read (without waiting)."""
        with self._cond:
            data = bytes(self._data)
            self._data.clear()
            return data

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes (waits for them)."""
        out = bytearray()
        while len(out) < n:
            out += self.get(n - len(out))
        return bytes(out)


class UartStdin:
    """``sys.stdin`` on the board: reads the serial line (what the REPL has not consumed)."""

    encoding = "utf-8"

    def __init__(self, uart_in: UartIn) -> None:
        self._in = uart_in
        self.buffer = _UartStdinBytes(uart_in)

    def read(self, n: int = 1) -> str:
        return self._in.read(n).decode("utf-8", "replace")

    def readline(self) -> str:
        out = bytearray()
        while not out.endswith(b"\n"):
            out += self._in.read(1)
        return out.decode("utf-8", "replace")

    def isatty(self) -> bool:
        return False


class _UartStdinBytes:
    """``sys.stdin.buffer``: the line's bytes as they are."""

    def __init__(self, uart_in: UartIn) -> None:
        self._in = uart_in

    def read(self, n: int = 1) -> bytes:
        return self._in.read(n)

    def readinto(self, buf: bytearray | memoryview) -> int:
        view = memoryview(buf).cast("B")
        data = self._in.read(len(view))
        view[: len(data)] = data
        return len(data)


def echoed_input(out: UartOut, uart_in: UartIn, prompt: object = "") -> str:
    """``input()`` on the board: the prompt, then a line typed on the serial line, echoed as typed
    (backspace rubs out); the line without its end."""
    out.write(str(prompt))
    line = bytearray()
    while True:
        byte = uart_in.read(1)
        if byte in (b"\r", b"\n"):
            out.send(b"\r\n")
            return line.decode("utf-8", "replace")
        if byte in (b"\x08", b"\x7f"):
            if line:
                del line[-1]
                out.send(b"\x08 \x08")
            continue
        line += byte
        out.send(byte)


def carry_over(data: bytes) -> None:
    """Before a hard reset re-executes the process: the first :data:`RX_BUFFER` bytes of ``data`` are
    for the next boot (:func:`carried_over`), the rest is lost. They wait in a pipe the next process
    inherits; the environment holds only its descriptor, so nothing grows from reset to reset."""
    os.environ.pop(ENV_CARRIED_FD, None)
    data = data[:RX_BUFFER]
    if not data:
        return
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)
        os.write(write_end, data)  # RX_BUFFER bytes fit in any pipe (PIPE_BUF is 4096 on Linux)
    except OSError:
        pass  # what did not fit is lost
    finally:
        os.close(write_end)
    os.set_inheritable(read_end, True)
    os.environ[ENV_CARRIED_FD] = str(read_end)


def carried_over() -> bytes:
    """At boot: what the previous boot of this process carried over (b"" after a power-on)."""
    text = os.environ.pop(ENV_CARRIED_FD, "")
    if not text.isdigit():
        return b""
    fd = int(text)
    data = bytearray()
    try:
        while len(data) < RX_BUFFER:
            chunk = os.read(fd, RX_BUFFER)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    return bytes(data[:RX_BUFFER])
