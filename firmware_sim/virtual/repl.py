"""The MicroPython REPL as a Pycom board speaks it on its UART: a state machine fed bytes, no I/O.

``Repl.feed(data)`` consumes input bytes and returns what the board does: bytes to send back (echo,
prompts, protocol replies) and the actions the board itself must carry out (:class:`Execute` some code,
:class:`SoftReset`). It stops consuming at such an action: the rest of the input waits until the action is
done (a running program may read it from ``sys.stdin``). After an :class:`Execute`, ``finished()`` gives
what follows the program's output (the raw REPL's ``\\x04`` framing, the next prompt).

Behaviour follows MicroPython's ``pyexec.c`` and ``readline.c`` as in Pycom firmware 1.20 (MicroPython
1.11; ../shared/spec/raw-repl.md §1): the friendly REPL with echo, backspace, auto-indent and paste mode
(Ctrl-E), the raw REPL (Ctrl-A) and, only when enabled (newer MicroPython), raw-paste mode. Without it
the raw-paste request ``\\x05A\\x01`` falls through as on Pycom firmware: Ctrl-A resets the raw REPL.
"""

from __future__ import annotations

import codeop
import enum
import warnings
from dataclasses import dataclass

from ..replwire import (
    CONTINUATION,
    CTRL_A,
    CTRL_B,
    CTRL_C,
    CTRL_D,
    CTRL_E,
    OK,
    PASTE_BANNER,
    PROMPT,
    RAW_PASTE_REFUSED,
    RAW_PASTE_WINDOW,
    RAW_PROMPT,
    raw_paste_grant,
)

BACKSPACE, DELETE, ESC = 8, 127, 27


class Mode(enum.Enum):
    FRIENDLY = "friendly"
    PASTE = "paste"
    RAW = "raw"
    RAW_PASTE = "raw-paste"


@dataclass(frozen=True)
class Execute:
    """Run ``source`` (``mode`` is ``compile()``'s: ``single`` for a friendly-REPL line, else ``exec``)."""

    source: str
    mode: str
    raw: bool  # framed for the raw REPL: stdout, \x04, error text, \x04


@dataclass(frozen=True)
class SoftReset:
    """Soft-reboot the board: fresh globals, boot.py (and main.py in the friendly REPL), a new prompt."""


Action = bytes | Execute | SoftReset


def _needs_more(text: str) -> bool:
    """Whether a friendly-REPL entry continues on a ``... `` line (open block, bracket, string)."""
    if text.rstrip().endswith("\\"):
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return codeop.compile_command(text, "<stdin>", "single") is None
    except (SyntaxError, ValueError, OverflowError):
        return False  # complete, and wrong: running it shows the error


class Repl:
    """The REPL of one board. ``banner`` is the friendly banner (ends with ``\\r\\n``)."""

    def __init__(self, banner: bytes, *, raw_paste: bool = False, window: int = RAW_PASTE_WINDOW) -> None:
        self.banner = banner
        self.raw_paste = raw_paste
        self.window = window
        self.mode = Mode.FRIENDLY
        self._line = bytearray()  # friendly: the line being typed; raw: the code being received
        self._lines: list[str] = []  # friendly: the entry's previous lines (a compound statement)
        self._indent = 0  # friendly: auto-indent characters at the start of _line
        self._escape = b""  # friendly: an escape sequence (arrow keys) being skipped
        self._after_cr = False  # friendly: swallow the \n of a \r\n
        self._window_left = 0  # raw-paste: bytes before the next window grant
        self._executing: Execute | None = None

    @property
    def raw(self) -> bool:
        return self.mode in (Mode.RAW, Mode.RAW_PASTE)

    # -- coming up -----------------------------------------------------------------------------------

    def start(self, raw: bool | None = None) -> bytes:
        """The REPL starts (after boot or a soft reset), in the raw REPL if ``raw`` (default: as it was)."""
        if raw is not None:
            self.mode = Mode.RAW if raw else Mode.FRIENDLY
        elif self.mode is Mode.RAW_PASTE:
            self.mode = Mode.RAW
        elif self.mode is Mode.PASTE:
            self.mode = Mode.FRIENDLY
        self._reset_input()
        self._executing = None
        if self.raw:
            return RAW_PROMPT
        return self.banner + PROMPT

    def _reset_input(self) -> None:
        self._line.clear()
        self._lines.clear()
        self._indent = 0
        self._escape = b""
        self._after_cr = False

    # -- input ---------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> tuple[list[Action], int]:
        """Consume bytes of ``data``; returns the actions and how many bytes were consumed (all of them,
        unless an :class:`Execute` or :class:`SoftReset` came up: the rest is for after it)."""
        if self._executing is not None:
            raise RuntimeError("feed() while code runs: call finished() first")
        actions: list[Action] = []
        handlers = {
            Mode.FRIENDLY: self._friendly,
            Mode.PASTE: self._paste,
            Mode.RAW: self._raw,
            Mode.RAW_PASTE: self._raw_paste_byte,
        }
        for index, byte in enumerate(data):
            handlers[self.mode](byte, actions)
            if actions and isinstance(actions[-1], (Execute, SoftReset)):
                if isinstance(actions[-1], Execute):
                    self._executing = actions[-1]
                return _merge(actions), index + 1
        return _merge(actions), len(data)

    def finished(self, error: bytes = b"", system_exit: bool = False) -> list[Action]:
        """What the board sends after running the code of the last :class:`Execute`: ``error`` is the
        exception text already cooked (``\\r\\n``); ``system_exit`` when the code raised SystemExit."""
        execute, self._executing = self._executing, None
        if execute is None:
            raise RuntimeError("finished() without an Execute")
        if execute.raw:
            self.mode = Mode.RAW
            if system_exit:
                return [b"\x04\x04", SoftReset()]
            return [b"\x04" + error + b"\x04>"]
        self.mode = Mode.FRIENDLY
        if system_exit:
            return [SoftReset()]
        return [error + PROMPT] if error else [PROMPT]

    # -- the friendly REPL (readline) ----------------------------------------------------------------------

    def _friendly(self, byte: int, out: list[Action]) -> None:
        after_cr, self._after_cr = self._after_cr, False
        if self._escape:
            self._escape += bytes((byte,))
            if (
                len(self._escape) >= 2
                and (0x40 <= byte <= 0x7E)
                and not (len(self._escape) == 2 and byte == 0x5B)
            ):
                self._escape = b""  # ESC [ ... final byte: arrow keys etc. (no history here)
            return
        empty = len(self._line) == self._indent and not self._line.strip()
        if byte == ESC:
            self._escape = b"\x1b"
        elif byte == ord("\r") or (byte == ord("\n") and not after_cr):
            self._after_cr = byte == ord("\r")
            out.append(b"\r\n")
            self._enter(out)
        elif byte == ord("\n"):
            pass  # the \n of \r\n
        elif byte in (BACKSPACE, DELETE):
            if self._line:
                del self._line[-1]
                self._indent = min(self._indent, len(self._line))
                out.append(b"\x08 \x08")
        elif byte == CTRL_C:
            out.append(b"\r\n" + PROMPT)
            self._reset_input()
        elif byte == CTRL_A and empty and not self._lines:
            out.append(b"\r\n" + RAW_PROMPT)
            self.mode = Mode.RAW
            self._reset_input()
        elif byte == CTRL_B and empty and not self._lines:
            out.append(b"\r\n" + self.banner + PROMPT)
            self._reset_input()
        elif byte == CTRL_D and empty:
            if self._lines:  # ends the compound statement being entered
                out.append(b"\r\n")
                self._run_entry(out)
            else:
                out.append(b"\r\n")
                out.append(SoftReset())
                self._reset_input()
        elif byte == CTRL_E and empty and not self._lines:
            out.append(PASTE_BANNER)
            self.mode = Mode.PASTE
            self._reset_input()
        elif byte == ord("\t") or byte >= 0x20:
            self._line.append(byte)
            out.append(bytes((byte,)))
        # other control characters: ignored

    def _enter(self, out: list[Action]) -> None:
        line = self._line.decode("utf-8", "replace")
        if not self._lines and not line.strip():
            out.append(PROMPT)
            self._reset_input()
            return
        if self._lines and not line.strip():
            self._run_entry(out)
            return
        self._lines.append(line)
        text = "\n".join(self._lines)
        if not _needs_more(text):
            self._run_entry(out)
            return
        indent = len(line) - len(line.lstrip(" "))
        if line.rstrip().endswith(":"):
            indent += 4
        self._line = bytearray(b" " * indent)
        self._indent = indent
        out.append(CONTINUATION + bytes(self._line))

    def _run_entry(self, out: list[Action]) -> None:
        source = "\n".join(self._lines) + "\n"
        self._reset_input()
        out.append(Execute(source, "single", raw=False))

    def _paste(self, byte: int, out: list[Action]) -> None:
        if byte == CTRL_C:
            out.append(b"\r\n" + PROMPT)
            self.mode = Mode.FRIENDLY
            self._reset_input()
        elif byte == CTRL_D:
            out.append(b"\r\n")
            source = self._line.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
            self._reset_input()
            self.mode = Mode.FRIENDLY
            out.append(Execute(source, "exec", raw=False))
        else:
            self._line.append(byte)
            out.append(b"\r\n=== " if byte == ord("\r") else bytes((byte,)))

    # -- the raw REPL ------------------------------------------------------------------------------------

    def _raw(self, byte: int, out: list[Action]) -> None:
        if byte == CTRL_A:
            if self.raw_paste and len(self._line) == 2 and self._line[0] == CTRL_E:
                command = self._line[1]
                self._line.clear()
                if command == ord("A"):
                    out.append(raw_paste_grant(self.window))
                    self.mode = Mode.RAW_PASTE
                    self._window_left = self.window
                else:
                    out.append(RAW_PASTE_REFUSED + b">")
                return
            out.append(RAW_PROMPT)  # Pycom 1.20: \x05A\x01 lands here, the host falls back
            self._line.clear()
        elif byte == CTRL_B:
            out.append(b"\r\n" + self.banner + PROMPT)
            self.mode = Mode.FRIENDLY
            self._reset_input()
        elif byte == CTRL_C:
            self._line.clear()
        elif byte == CTRL_D:
            out.append(OK)
            if not self._line:
                out.append(b"\r\n")
                out.append(SoftReset())
                return
            source = self._line.decode("utf-8", "replace")
            self._line.clear()
            out.append(Execute(source, "exec", raw=True))
        else:
            self._line.append(byte)

    def _raw_paste_byte(self, byte: int, out: list[Action]) -> None:
        if byte == CTRL_D:
            out.append(b"\x04")  # all data received
            source = self._line.decode("utf-8", "replace")
            self._line.clear()
            self.mode = Mode.RAW
            out.append(Execute(source, "exec", raw=True))
            return
        if byte == CTRL_C:
            out.append(b"\x04")  # stop sending; the program is a KeyboardInterrupt
            self._line.clear()
            self.mode = Mode.RAW
            out.append(Execute("raise KeyboardInterrupt\n", "exec", raw=True))
            return
        self._line.append(byte)
        self._window_left -= 1
        if self._window_left == 0:
            out.append(b"\x01")  # room for another window
            self._window_left = self.window


def _merge(actions: list[Action]) -> list[Action]:
    """Adjacent byte strings joined, so each reply goes out in one write."""
    merged: list[Action] = []
    for action in actions:
        if isinstance(action, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + action
        else:
            merged.append(action)
    return merged
