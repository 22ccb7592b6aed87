"""The ``board`` object of the pytest plugin: one API for a simulated board and a real one.

Both are driven the same way, through the serial runner's :class:`~firmware_sim.serial.ReplSession`
over pyserial: a simulated board is a ``firmware-sim board --socket`` process reached at
``socket://127.0.0.1:N``, a real one a serial port. Everything the board prints (main.py, threads,
what ``exec`` printed) goes to one transcript that ``expect`` reads. A simulated board also has its
host-side files (``/flash/.firmware-sim/``: pins.json, environment.json, the timelines, nvs.json);
on a real board the methods that need them skip the test.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .transcript import Pattern, Transcript, compile_pattern

if TYPE_CHECKING:
    from ..serial import ReplSession
    from ..testing import VirtualBoardProcess
    from .coap import CoapClient

# what MicroPython's friendly REPL prints when main.py has returned (or raised): its banner's last line
# and the prompt (py/pyexec.c pyexec_friendly_repl)
REPL_STARTED = re.compile(r'Type "help\(\)" for more information\.\n>>> ')
# main.py's uncaught exception: the last thing printed before the REPL starts (a thread's traceback, after
# "Unhandled exception in thread", is not main.py's)
MAIN_TRACEBACK = re.compile(
    r"(?m)^Traceback \(most recent call last\):\n(?:[ \t].*\n)*(\w[\w.]*(?::.*)?)\n\Z"
)
PRIVATE = ".firmware-sim"  # the board's hidden folder in its flash (runtime/flash.py)
TIMELINES = {"rgbled": "rgbled.jsonl", "pins": "pins.jsonl", "peripherals": "peripherals.jsonl"}
TAIL_LINES = 20


@dataclass
class MainExit:
    """How main.py ended: ``output`` is what the board printed meanwhile (after the last ``expect``),
    ``error`` the last line of an uncaught exception's traceback (``"ValueError: 1"``), else None."""

    output: str
    error: str | None


class BoardFiles:
    """``/flash`` of the board (relative paths are under it), through the raw REPL."""

    def __init__(self, board: TestBoard) -> None:
        self._board = board

    def _fs(self) -> Any:
        from ..serial import RemoteFS

        self._board.drain()
        return RemoteFS(self._board.session)

    def read(self, path: str) -> bytes:
        """The file's bytes (hash-checked download)."""
        from ..serial import remote_path

        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "file"
            self._fs().get_file(remote_path(path), local)
            return local.read_bytes()

    def read_text(self, path: str) -> str:
        return self.read(path).decode()

    def write(self, path: str, data: str | bytes) -> None:
        """Write the file, making its folders (atomic, hash-verified upload)."""
        import posixpath

        from ..serial import remote_path

        dest = remote_path(path)
        fs = self._fs()
        folder = posixpath.dirname(dest)
        if folder not in ("/", "/flash"):
            fs.mkdirs(folder)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "file"
            local.write_bytes(data.encode() if isinstance(data, str) else data)
            fs.put_file(local, dest)

    def list(self, path: str = "/flash") -> list[str]:
        """The names in a folder, sorted."""
        return sorted(entry.name for entry in self._fs().ls(path))


class TestBoard:
    """A booted board: read what it prints, run code on it, reset it, reach its files.

    ``process`` and ``flash`` are set for a simulated board only; ``address`` is its IP address."""

    __test__ = False  # not a test class for pytest

    def __init__(
        self,
        name: str,
        session: ReplSession,
        *,
        process: VirtualBoardProcess | None = None,
        flash: Path | None = None,
        address: str | None = None,
    ) -> None:
        self.name = name
        self.session = session
        self.process = process
        self.flash = flash
        self.address = address
        self.transcript = Transcript()
        self.files = BoardFiles(self)
        self._coap: CoapClient | None = None

    @property
    def coap(self) -> CoapClient:
        """A CoAP client bound to the board's address (:mod:`.coap`): ``board.coap.get("/temperature")``.
        On a real board the address is unknown: give ``address=`` to its calls, else the test is skipped."""
        if self._coap is None:
            from .coap import CoapClient

            self._coap = CoapClient(self.address)
        return self._coap

    # what it prints

    @property
    def output(self) -> str:
        """Everything it printed so far (``\\r\\n`` as ``\\n``)."""
        self.drain()
        return self.transcript.printable()

    def drain(self, wait: bool = False) -> bool:
        """Move what the board sent into the transcript (waiting up to 50 ms if ``wait``)."""
        from ..serial import PortGone

        line = self.session.line
        try:
            came = line.poll(wait=wait)
            while line.poll(wait=False):
                came = True
        except PortGone:
            came = False
            if wait:
                time.sleep(0.05)
        if line.buffer:
            self.record(line.take(len(line.buffer)))
        return came

    def record(self, data: bytes) -> None:
        self.transcript.feed(data)

    def _fail(self, what: str, timeout: float) -> None:
        pytest.fail(
            f"board {self.name!r}: {what} within {timeout:g} s; the last {TAIL_LINES} lines it printed:\n"
            + self.transcript.tail(TAIL_LINES),
            pytrace=False,
        )

    def expect(self, pattern: Pattern, timeout: float = 10.0) -> re.Match[str]:
        """Wait for ``pattern`` (a str or bytes regex, or a compiled one) in what the board prints
        after the last match; the match. On timeout the test fails with the pattern and the tail."""
        regex = compile_pattern(pattern)
        deadline = time.monotonic() + timeout
        while True:
            self.drain()
            found = self.transcript.search(regex)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                self._fail(f"expected {pattern!r}, not seen", timeout)
            self.drain(wait=True)

    def expect_exact(self, text: str | bytes, timeout: float = 10.0) -> re.Match[str]:
        """``expect`` for the literal ``text``."""
        literal = text.decode("utf-8", "surrogateescape") if isinstance(text, bytes) else text
        return self.expect(re.escape(literal.replace("\r\n", "\n")), timeout)

    def expect_not(self, pattern: Pattern, within: float = 1.0) -> None:
        """The test fails if ``pattern`` shows in what the board prints (after the last match) within
        ``within`` seconds."""
        regex = compile_pattern(pattern)
        deadline = time.monotonic() + within
        while True:
            self.drain()
            found = self.transcript.search(regex, consume=False)
            if found is not None:
                self._fail(f"{pattern!r} showed ({found.group(0)!r}), expected it not to", within)
            if time.monotonic() >= deadline:
                return
            self.drain(wait=True)

    def wait_for_exit(self, timeout: float = 10.0) -> MainExit:
        """Wait until main.py has ended (returned, or raised: the board's REPL started, as on a real board,
        whose threads and timers may still run). On timeout the test fails with the tail."""
        start = self.transcript.cursor
        found = self.expect(REPL_STARTED, timeout)
        text = self.transcript.text[start : found.start()]
        banner = text.rfind("\nPycom MicroPython ")
        output = text[: banner + 1] if banner >= 0 else text
        error = MAIN_TRACEBACK.search(output)
        return MainExit(output, error.group(1) if error else None)

    # the REPL

    def exec(self, code: str) -> str:
        """Run ``code`` in the raw REPL (stopping main.py if it still runs, as any REPL tool does); what
        it printed. A board exception raises :class:`firmware_sim.serial.BoardError`."""
        self.drain()
        out = bytearray()

        def take(chunk: bytes) -> None:
            out.extend(chunk)
            self.record(chunk)

        self.session.exec(code, on_output=take)
        return out.decode("utf-8", "replace").replace("\r\n", "\n")

    def eval(self, expression: str) -> object:
        """The value of ``expression`` on the board (its repr must be a Python literal)."""
        import ast

        return ast.literal_eval(self.exec(f"print(repr({expression}))").strip())

    def reset(self, mode: str = "soft") -> None:
        """``"soft"``: Ctrl-D at the friendly REPL (boot.py and main.py run again); ``"hard"``:
        ``machine.reset()``. Returns once the restart began: ``expect`` what it prints."""
        self.drain()
        if mode == "soft":
            self.record(self.session.soft_reset(run_main=True))
        elif mode == "hard":
            self.session.enter_raw_repl()
            self.session.hard_reset()
        else:
            raise ValueError(f"reset mode must be 'soft' or 'hard', not {mode!r}")

    # simulator only

    def _private(self, what: str) -> Path:
        if self.flash is None:
            pytest.skip(f"simulator only: {what}")
        folder = self.flash / PRIVATE
        folder.mkdir(exist_ok=True)
        return folder

    def _merge_json(self, name: str, key: str, value: object, what: str, nested: bool = False) -> None:
        path = self._private(what) / name
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        *outer, last = key.split("/") if nested else [key]
        where = data
        for part in outer:  # "voltage/P16" is {"voltage": {"P16": ...}}, as the board reads it
            if not isinstance(where.get(part), dict):
                where[part] = {}
            where = where[part]
        where[last] = value
        temp = path.with_name(f"{name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(data))
        os.replace(temp, path)  # whole, then renamed: the board never reads half a file

    def drive(self, pin: str, level: int | None) -> None:
        """Put ``level`` (0, 1, None to release) on input ``pin`` (``"P10"`` or ``"G17"``): pins.json."""
        self._merge_json("pins.json", pin, level, f"drive({pin!r}, {level!r})")

    def environment(self, key: str, value: object) -> None:
        """Set what a sensor or input reads (``"temperature"``, ``"voltage/P16"`` ...):
        environment.json; a value or ``{"timeline": [[t, value], ...]}``."""
        self._merge_json("environment.json", key, value, f"environment({key!r})", nested=True)

    def timeline(self, kind: str) -> list[dict[str, Any]]:
        """What the board's outputs did, with board times: ``"rgbled"``, ``"pins"``, ``"peripherals"``."""
        if kind not in TIMELINES:
            raise ValueError(f"timeline must be one of {', '.join(TIMELINES)}, not {kind!r}")
        path = self._private(f"timeline({kind!r})") / TIMELINES[kind]
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.strip()]

    @property
    def nvs(self) -> dict[str, Any]:
        """The board's nvs (``pycom.nvs_set`` values) as it last saved it."""
        path = self._private("nvs") / "nvs.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    # ending

    def close(self) -> None:
        """Drain, close the line, stop a simulated board's process (its output stays readable)."""
        if self._coap is not None:
            self._coap.close()
        try:
            self.drain()
        except Exception:
            pass
        self.session.close(goodbye=self.process is None)
        if self.process is not None:
            self.process.stop()
