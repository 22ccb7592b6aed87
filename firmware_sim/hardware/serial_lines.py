"""Serial lines: what the device on the other end of a board's UART 1 or 2 sends it, and hears from it.

A line is identified by the UART id of the script's ``machine.UART`` (the device is wired to the pins
the script gave that UART; UART 0 is the REPL's and has no line here). Bytes reach the board from:

* outside the process (``firmware-sim run`` in CI, a test driving a subprocess): bytes a test appends
  to the board's hidden file ``/flash/.firmware-sim/uart<id>.in`` (``uart1.in``) are what the device
  sends, in the order appended. The board takes new bytes when the script looks at the UART (``any``,
  ``read`` ...; the file is looked at most every few milliseconds) and remembers how far it read in
  ``uart.json`` beside it, so a reset or deep sleep does not deliver them twice; at power-on it reads
  the file from its start. A file replaced by a new one (another inode), or shorter than what was read,
  is read from its start.
* the simulator's process (unit tests): ``serial_lines().line(1).send(b"$GPGGA,...\\r\\n")``, or a
  device attached with ``line(1).attach(device)``: an object whose ``receive(data)`` gets every write
  of the board and returns what it answers at once (b"" or None: nothing), such as :class:`Loopback`
  (a wire from the UART's TX pin to its RX pin).

What the board writes is recorded by ``machine.UART`` in ``peripherals.jsonl`` (see its module).
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..runtime import current
from ..runtime.pins import POLL_INTERVAL, run_file

if TYPE_CHECKING:
    from ..runtime.board import Board
    from ..runtime.flash import Flash

INPUT_FILE = "uart{}.in"  # what the device on UART <id> sends, appended by a test
POSITIONS_FILE = "uart.json"  # how far the board read each input file (emptied at power-on)


class SerialDevice(Protocol):
    """A device on a serial line: it hears what the board writes and may answer at once."""

    def receive(self, data: bytes) -> bytes | None:
        """``data`` the board sent; what the device sends back right away (None or b"": nothing)."""


class Loopback:
    """A wire from the UART's TX pin to its RX pin: the board reads back what it writes."""

    def receive(self, data: bytes) -> bytes:
        return data


class SerialLine:
    """The line of one UART: bytes sent to the board and not yet taken, and the devices listening."""

    def __init__(self, flash: Flash, uart_id: int, positions: _Positions) -> None:
        self.uart_id = uart_id
        self.path: Path = flash.private(INPUT_FILE.format(uart_id))
        self._positions = positions
        self._lock = threading.Lock()
        self._sent = bytearray()  # from send() and the devices' answers
        self._devices: list[SerialDevice] = []
        self._checked = 0.0

    def send(self, data: bytes) -> None:
        """The device sends ``data`` to the board (it waits on the line until the board takes it)."""
        with self._lock:
            self._sent += bytes(data)

    def attach(self, device: SerialDevice) -> None:
        """Wire ``device`` to the line: it receives every write of the board and may answer."""
        with self._lock:
            self._devices.append(device)

    def detach(self, device: SerialDevice) -> None:
        with self._lock:
            if device in self._devices:
                self._devices.remove(device)

    def transmit(self, data: bytes) -> None:
        """The board sends ``data``: every device hears it; what they answer comes back on the line."""
        with self._lock:
            devices = list(self._devices)
        for device in devices:
            answer = device.receive(bytes(data))
            if answer:
                self.send(answer)

    def take(self) -> bytes:
        """What arrived since the board last took: the bytes sent in the process, then the file's new
        bytes (the file is looked at most every POLL_INTERVAL)."""
        with self._lock:
            taken, self._sent = bytes(self._sent), bytearray()
            now = time.monotonic()
            if now - self._checked >= POLL_INTERVAL:
                self._checked = now
                taken += self._from_file()
        return taken

    def _from_file(self) -> bytes:
        try:
            with self.path.open("rb") as f:
                inode = os.fstat(f.fileno()).st_ino
                known, offset = self._positions.get(self.uart_id)
                size = f.seek(0, 2)
                if known != inode or size < offset:
                    offset = 0
                if size == offset:
                    return b""
                f.seek(offset)
                data = f.read(size - offset)
        except OSError:
            return b""
        self._positions.put(self.uart_id, inode, offset + len(data))
        return data


class _Positions:
    """How far the board read each ``uart<id>.in`` (inode, offset), kept in the hidden ``uart.json``
    across resets (a run-scoped file: a power-on starts again from the files' beginnings)."""

    def __init__(self, flash: Flash) -> None:
        self._flash = flash
        self._lock = threading.Lock()
        self._known: dict[str, list[int]] | None = None

    def _load(self) -> dict[str, list[int]]:
        if self._known is None:
            try:
                data = json.loads(run_file(self._flash, POSITIONS_FILE).read_text())
            except (OSError, ValueError):
                data = {}
            self._known = data if isinstance(data, dict) else {}
        return self._known

    def get(self, uart_id: int) -> tuple[int, int]:
        with self._lock:
            found = self._load().get(str(uart_id))
        if isinstance(found, list) and len(found) == 2 and all(isinstance(x, int) for x in found):
            return found[0], found[1]
        return -1, 0

    def put(self, uart_id: int, inode: int, offset: int) -> None:
        with self._lock:
            known = self._load()
            known[str(uart_id)] = [inode, offset]
            path = run_file(self._flash, POSITIONS_FILE)
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(json.dumps(known))
            temporary.replace(path)


class SerialLines:
    """The serial lines of one board (a board part, kept across soft resets: the devices stay wired)."""

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self._flash = board.flash
        self._positions = _Positions(board.flash)
        self._lock = threading.Lock()
        self._lines: dict[int, SerialLine] = {}

    def line(self, uart_id: int) -> SerialLine:
        """The line of UART ``uart_id`` (1 or 2)."""
        with self._lock:
            found = self._lines.get(uart_id)
            if found is None:
                found = self._lines[uart_id] = SerialLine(self._flash, uart_id, self._positions)
            return found


def serial_lines(board: Board | None = None) -> SerialLines:
    """The serial lines of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(SerialLines)
