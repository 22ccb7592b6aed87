"""The byte line to a board: pyserial's ``serial_for_url`` (a device path, ``socket://host:port``,
``rfc2217://``), 115200 8N1, DTR/RTS left as pyserial opens them, reads of at most ``POLL`` seconds in
a loop against a monotonic deadline, every pyserial/OS failure turned into ``PortGone``.

It knows nothing of the REPL: :class:`~firmware_sim.serial.session.ReplSession` speaks it over this.
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable

import serial

from .defaults import REPLY_TIMEOUT
from .errors import BoardTimeout, ConnectError, PortGone, ProtocolError
from .ports import check_on_this_machine

BAUDRATE = 115200
POLL = 0.05  # the longest a single read blocks; every wait loops on it against its own deadline


def _is_url(port: str) -> bool:
    return "://" in port


class SerialLine:
    """A serial line with bounded reads and writes and a receive buffer for pattern waits.

    A network port (``socket://``, ``rfc2217://``) must be on this machine unless ``allow_lan``: see
    :func:`~firmware_sim.serial.ports.check_on_this_machine`."""

    def __init__(
        self, port: str, timeout: float = REPLY_TIMEOUT, baudrate: int = BAUDRATE, *, allow_lan: bool = False
    ) -> None:
        self.port = port
        self.timeout = timeout
        self.baudrate = baudrate
        self.allow_lan = allow_lan
        self.buffer = bytearray()  # received, not yet consumed
        self.bytes_written = 0
        self._ser: serial.SerialBase | None = None
        self._sock: socket.socket | None = None

    # opening and closing

    def open(self) -> None:
        """Open the port (115200 8N1); ``ConnectError`` naming the problem and its fix."""
        check_on_this_machine(self.port, self.allow_lan)  # before anything is sent anywhere
        try:
            ser = serial.serial_for_url(
                self.port,
                do_not_open=True,
                baudrate=self.baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=POLL,
                write_timeout=self.timeout,
                exclusive=True if not _is_url(self.port) and os.name == "posix" else None,
            )
            ser.open()
        except (ValueError, serial.SerialException, OSError) as err:
            raise self._open_error(err) from None
        self._ser = ser
        # pyserial's socket:// keeps its socket in ``_socket``: read it without per-byte polling and
        # send small writes at once (Nagle + delayed ACK costs 40 ms per REPL round trip, spec §3.4)
        sock = getattr(ser, "_socket", None)
        if isinstance(sock, socket.socket) and type(ser).__module__.endswith("protocol_socket"):
            self._sock = sock
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def _open_error(self, err: Exception) -> ConnectError:
        text = str(err)
        errno = getattr(err, "errno", None)
        where = f"could not open {self.port}"
        if isinstance(err, ValueError):
            return ConnectError(
                f"{where}: {text}", "give a device path (/dev/ttyACM0, COM3), auto, or socket://host:port"
            )
        if _is_url(self.port) and "refused" in text.lower():
            return ConnectError(
                f"{where}: nothing accepts connections there",
                "start the board first (python -m firmware_sim.virtual --socket 127.0.0.1:0) or check "
                "the address",
            )
        if errno == 2 or "No such file" in text:
            return ConnectError(
                f"{where}: no such device",
                "check the USB cable and list the ports with `firmware-sim devices`",
            )
        if errno == 13 or "Permission denied" in text:
            return ConnectError(
                f"{where}: permission denied",
                "add yourself to the port's group (Linux: sudo usermod -aG dialout $USER, then log in again)",
            )
        if "exclusively lock" in text or errno in (11, 16):
            return ConnectError(
                f"{where}: it is in use by another program",
                "close the other REPL, Pymakr, mpremote or screen session using it and retry",
            )
        return ConnectError(f"{where}: {text}", "check the port name with `firmware-sim devices`")

    @property
    def is_open(self) -> bool:
        return self._ser is not None and self._ser.is_open

    def close(self) -> None:
        """Close the port (quietly: it may be gone already)."""
        if self._ser is not None:
            try:
                self._ser.close()
            except (serial.SerialException, OSError):
                pass
            self._ser = None
            self._sock = None

    # reading

    def _gone(self, err: BaseException) -> PortGone:
        self.close()
        return PortGone(
            f"the port {self.port} disappeared ({err})",
            "check the USB cable or that the board is still running, then retry",
        )

    def poll(self, wait: bool = True) -> bool:
        """Move what the board sent into ``buffer``, waiting up to ``POLL`` s if ``wait``.
        True when something came."""
        if self._ser is None:
            raise PortGone(f"the port {self.port} is closed", "open the board again")
        try:
            if self._sock is not None:
                ready, _, _ = select.select([self._sock], [], [], POLL if wait else 0)
                if not ready:
                    return False
                data = self._sock.recv(65536)
                if not data:
                    raise serial.SerialException("connection closed by the board")
            else:
                n = self._ser.in_waiting
                if not n and not wait:
                    return False
                data = self._ser.read(n or 1)
                if data:
                    n = self._ser.in_waiting
                    if n:
                        data += self._ser.read(n)
        except (serial.SerialException, OSError) as err:
            raise self._gone(err) from None
        self.buffer += data
        return bool(data)

    def take(self, n: int) -> bytes:
        """Consume and return the first ``n`` buffered bytes."""
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def discard_input(self) -> bytes:
        """Drop everything received so far (and what is already waiting); return it."""
        while self.poll(wait=False):
            pass
        return self.take(len(self.buffer))

    def wait(self, find: Callable[[], object], timeout: float | None, what: str) -> object:
        """Poll until ``find()`` returns something other than None; ``BoardTimeout`` after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                seen = bytes(self.buffer[-80:])
                raise BoardTimeout(
                    f"no answer from the board on {self.port} within {timeout:g} s (waiting for {what}"
                    + (f"; it last sent {seen!r})" if seen else "; it sent nothing)"),
                    "check that the board is powered and running (not stuck in a loop with Ctrl-C "
                    "disabled) and that no other program uses the port; `firmware-sim reset --safe-boot` "
                    "restarts it without main.py",
                )
            self.poll()

    def read_until(self, marker: bytes, timeout: float | None, what: str, limit: int | None = None) -> bytes:
        """Consume up to and including ``marker``. With ``limit``, more than that many bytes before the
        marker is a ``ProtocolError`` (the board is not where we think it is)."""

        def find() -> int | None:
            i = self.buffer.find(marker)
            if i < 0:
                if limit is not None and len(self.buffer) > limit + len(marker):
                    raise ProtocolError(
                        f"unexpected answer from the board on {self.port} ({what}): "
                        f"{bytes(self.buffer[:80])!r}",
                        "retry; if it persists the board is not in the REPL state expected (reset it)",
                    )
                return None
            if limit is not None and i > limit:
                raise ProtocolError(
                    f"unexpected answer from the board on {self.port} ({what}): {bytes(self.buffer[:80])!r}",
                    "retry; if it persists the board is not in the REPL state expected (reset it)",
                )
            return i + len(marker)

        end = self.wait(find, timeout, what)
        return self.take(end)  # type: ignore[arg-type]

    # writing

    def write(self, data: bytes) -> None:
        """Send ``data``; ``BoardTimeout`` when the board stops reading, ``PortGone`` when the port went."""
        if self._ser is None:
            raise PortGone(f"the port {self.port} is closed", "open the board again")
        try:
            self._ser.write(data)
        except serial.SerialTimeoutException:
            raise BoardTimeout(
                f"the board on {self.port} stopped reading what is sent to it "
                f"(nothing taken for {self.timeout:g} s)",
                "check that the board is running; reset it (press its reset button) and retry",
            ) from None
        except (serial.SerialException, OSError) as err:
            raise self._gone(err) from None
        self.bytes_written += len(data)
