"""A session with a (Pycom) MicroPython board's REPL over the byte line, with a deadline on every wait.

``ReplSession`` speaks the REPL (../shared/spec/raw-repl.md §1): entering the raw REPL, exec in raw-paste
mode when the board grants it and in standard raw mode otherwise (:mod:`.sending`), following the output
live, soft/hard reset and safe boot. Every failure is a :class:`~firmware_sim.serial.errors.RunnerError`.
"""

from __future__ import annotations

import ast
import itertools
import time

from ..replwire import (
    CTRL_A,
    CTRL_B,
    CTRL_C,
    CTRL_F,
    END,
    FRIENDLY_PROMPT,
    PROMPT,
    RAW_PASTE_REQUEST,
    RAW_PROMPT,
    SOFT_REBOOT,
)
from .defaults import REPLY_TIMEOUT
from .errors import (
    BoardError,
    BoardReset,
    BoardTimeout,
    ConnectError,
    Interrupted,
    PortGone,
    ProgramTimeout,
    ProtocolError,
    RunnerError,
)
from .following import OutputCallback, read_section, stream_output
from .line import SerialLine
from .ports import resolve_port
from .sending import paste_answer, paste_write, raw_write

ENTER_ATTEMPT = 2.0  # entering the raw REPL: resend Ctrl-C, Ctrl-A this often until the deadline
INTERRUPT = b"\r" + bytes((CTRL_C, CTRL_C))  # stop what runs (and a half-typed line)
RESYNC = bytes((CTRL_C, CTRL_C)) + b"\r" + bytes((CTRL_B,))  # also leave paste or a half-sent raw-paste
ENTER_RAW = b"\r" + bytes((CTRL_A,))
LEAVE_RAW = b"\r" + bytes((CTRL_B,))


class ReplSession:
    """A session with a MicroPython board's REPL over a :class:`SerialLine`: raw REPL, exec, resets.

    Use as a context manager; on close the board is put back in the friendly REPL (``\\r\\x02``)
    unless it is resetting. ``allow_lan``: a ``socket://`` port may be on another machine.
    """

    def __init__(
        self,
        port: str,
        timeout: float = REPLY_TIMEOUT,
        raw_paste: bool | None = None,
        *,
        resolve: bool = True,
        allow_lan: bool = False,
    ) -> None:
        if resolve:
            port = resolve_port(port)
        self.port = port
        self.timeout = timeout
        self.line = SerialLine(port, timeout, allow_lan=allow_lan)
        self.use_raw_paste = raw_paste  # None: try once, then remember (spec §1.5)
        self.in_raw = False
        self.boot_output = b""  # what boot.py printed at the last soft reset
        self.resets = 0  # counts restarts seen: the board's globals (helpers defined by files.py) are gone
        self._leave_raw = False  # send Ctrl-B on close

    # connection

    def open(self) -> ReplSession:
        """Open the port (not yet in the raw REPL); returns the session."""
        self.line.open()
        return self

    def close(self, goodbye: bool = True) -> None:
        """Close the port; first, with ``goodbye``, back to the friendly REPL (if we left it)."""
        line = self.line
        if line.is_open and self._leave_raw and goodbye:
            try:
                line.discard_input()
                line.write(LEAVE_RAW)
                line.read_until(PROMPT, min(self.timeout, 1.0), "the friendly REPL after Ctrl-B")
            except RunnerError:
                pass
        self._leave_raw = False
        self.in_raw = False
        line.close()

    def __enter__(self) -> ReplSession:
        if not self.line.is_open:
            self.open()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(goodbye=not isinstance(exc, (BoardTimeout, PortGone)))  # no goodbye to a silent board

    # raw REPL

    def enter_raw_repl(self, soft_reset: bool = False) -> None:
        """Stop what runs (``\\r\\x03``), drain, ``\\r\\x01``, wait for the raw prompt; with
        ``soft_reset`` also Ctrl-D (boot.py runs, main.py does not) and wait for the prompt again."""
        line = self.line
        self.in_raw = False
        deadline = time.monotonic() + self.timeout
        try:
            for attempt in itertools.count():
                # later tries also leave paste mode / a half-sent raw-paste (Ctrl-C, Ctrl-B) and catch a
                # board that was still booting when the first bytes came
                line.write(INTERRUPT if attempt == 0 else RESYNC)
                time.sleep(0.02 if attempt == 0 else 0.1)
                line.discard_input()
                line.write(ENTER_RAW)
                left = deadline - time.monotonic()
                try:
                    line.read_until(RAW_PROMPT, max(min(left, ENTER_ATTEMPT), 0.05), "the raw REPL prompt")
                    break
                except BoardTimeout:
                    if time.monotonic() >= deadline:
                        seen = bytes(line.buffer[-60:])
                        raise BoardTimeout(
                            f"no raw REPL prompt within {self.timeout:g} s ("
                            + (f"it last sent {seen!r})" if seen else "it sent nothing)")
                        ) from None
            self._leave_raw = True
            if soft_reset:
                line.write(END)
                line.read_until(SOFT_REBOOT, self.timeout, "the soft reboot after Ctrl-D")
                before = line.read_until(
                    RAW_PROMPT, self.timeout, "the raw REPL prompt after the soft reboot"
                )
                self.boot_output = before[: -len(RAW_PROMPT)]
                self.resets += 1
        except BoardTimeout as err:
            raise ConnectError(
                f"could not enter the raw REPL on {self.port}: {err.what}",
                "check that this port is a MicroPython board (`firmware-sim devices`), that no other "
                "program uses it, and that boot.py finishes; `firmware-sim reset --safe-boot` skips "
                "boot.py and main.py",
            ) from None
        except ProtocolError as err:
            raise ConnectError(f"could not enter the raw REPL on {self.port}: {err.what}", err.fix) from None
        self.in_raw = True

    def exit_raw_repl(self) -> None:
        """Back to the friendly REPL (``\\r\\x02``); waits for its prompt."""
        line = self.line
        line.discard_input()
        line.write(LEAVE_RAW)
        line.read_until(FRIENDLY_PROMPT, self.timeout, "the friendly REPL prompt after Ctrl-B")
        self.in_raw = False
        self._leave_raw = False

    def _ensure_raw(self) -> None:
        if not self.in_raw:
            self.enter_raw_repl()

    # sending code

    def send(self, code: str | bytes) -> None:
        """Send ``code`` at the raw prompt; on return the board has accepted it and is running it."""
        data = code.encode() if isinstance(code, str) else code
        self._ensure_raw()
        line = self.line
        line.discard_input()  # resync: whatever came since the last prompt is noise
        if self.use_raw_paste is not False:
            window = 0
            for attempt in (1, 2):
                line.write(RAW_PASTE_REQUEST)
                try:
                    window = paste_answer(line, self.timeout)
                    break
                except (BoardTimeout, ProtocolError):
                    if attempt == 2:
                        raise
                    self.enter_raw_repl()  # nothing ran yet: resync at a clean raw prompt, ask again
            if window:
                self.use_raw_paste = True
                paste_write(line, data, window, self.timeout)
                return
            self.use_raw_paste = False
        raw_write(line, data, self.timeout)

    # following the output

    def _section(
        self,
        on_output: OutputCallback | None,
        deadline: float | None,
        idle: float | None,
        detect_reset: bool,
    ) -> bytes:
        """One output section (:func:`read_section`); a restart seen in it ends the raw REPL session."""
        try:
            return read_section(self.line, on_output, deadline, idle, detect_reset)
        except BoardReset:
            self.resets += 1
            self.in_raw = False
            self._leave_raw = False
            raise

    def _after_sections(self) -> None:
        """Consume the ``>`` that follows the two sections (after a soft reboot: the raw banner)."""
        line = self.line
        got = line.read_until(b">", self.timeout, "the raw prompt after the code")
        if SOFT_REBOOT in got:  # SystemExit soft-resets (spec §1.3)
            self.resets += 1
            if not got.endswith(RAW_PROMPT):
                line.read_until(RAW_PROMPT, self.timeout, "the raw prompt after the soft reboot")

    def follow(
        self,
        on_output: OutputCallback | None = None,
        timeout: float | None = None,
        idle: float | None = None,
    ) -> tuple[bytes, bytes]:
        """Stdout (streamed to ``on_output`` when given, else returned) and the error text of the code
        just sent. ``timeout``: overall deadline; ``idle``: the longest silence allowed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        out = self._section(on_output, deadline, idle, detect_reset=True)
        err = self._section(None, None, self.timeout, detect_reset=False)
        self._after_sections()
        return out, err

    def _stop_program(self, on_output: OutputCallback | None) -> None:
        """Ctrl-C the running program and read the rest of its output (its KeyboardInterrupt)."""
        line = self.line
        line.write(bytes((CTRL_C,)))
        try:
            self._section(on_output, None, self.timeout, detect_reset=True)
            self._section(None, None, self.timeout, detect_reset=False)
            self._after_sections()
        except BoardTimeout:
            self.in_raw = False
            raise BoardTimeout(
                f"the program on {self.port} did not stop after Ctrl-C",
                "it may have disabled Ctrl-C (micropython.kbd_intr(-1)); press the board's reset "
                "button or use `firmware-sim reset --hard`",
            ) from None

    def run(
        self,
        code: str | bytes,
        on_output: OutputCallback | None = None,
        timeout: float | None = None,
        idle: float | None = None,
    ) -> bytes:
        """Run a program: send it, follow its output live, raise ``BoardError`` if it raised.

        Ctrl-C on the host (``KeyboardInterrupt``) sends Ctrl-C to the board and raises ``Interrupted``;
        past ``timeout`` the program is stopped the same way and ``ProgramTimeout`` is raised."""
        running = False
        try:
            self.send(code)
            running = True
            out, err = self.follow(on_output, timeout, idle)
        except KeyboardInterrupt:
            try:
                if running:
                    self._stop_program(on_output)
                else:  # half-sent: Ctrl-C drops the board's input; re-enter the raw REPL next time
                    self.in_raw = False
                    self.line.write(bytes((CTRL_C,)))
            except KeyboardInterrupt:
                self.in_raw = False
            raise Interrupted(
                "interrupted: Ctrl-C stopped the program on the board", "run it again when ready"
            ) from None
        except ProgramTimeout:
            self._stop_program(on_output)
            raise ProgramTimeout(
                f"the program ran past its timeout of {timeout:g} s and was stopped with Ctrl-C",
                "give a longer --timeout, or make the program finish sooner",
            ) from None
        except (BoardTimeout, ProtocolError, PortGone):
            self.in_raw = False  # the board is somewhere mid-protocol: re-enter the raw REPL next time
            raise
        if err:
            raise BoardError(err.decode(errors="replace"), out)
        return out

    def exec(self, code: str | bytes, on_output: OutputCallback | None = None) -> bytes:
        """Run a short snippet (the board may stay silent at most ``timeout`` s); its stdout."""
        return self.run(code, on_output, idle=self.timeout)

    def eval(self, expression: str) -> object:
        """The value of ``expression`` on the board (it must have a Python-literal repr)."""
        out = self.exec(f"print(repr({expression}))")
        return ast.literal_eval(out.decode().strip())

    # resets

    def soft_reset(self, run_main: bool = True) -> bytes:
        """Soft reset. ``run_main``: from the friendly REPL (Ctrl-D at ``>>>``) so boot.py and main.py
        run, returning once the ``soft reboot`` line came (the caller may stream the rest); otherwise in
        the raw REPL (boot.py only), returning what boot.py printed."""
        line = self.line
        if not run_main:
            self.enter_raw_repl(soft_reset=True)
            return self.boot_output
        line.write(INTERRUPT)
        time.sleep(0.02)
        line.discard_input()
        self.in_raw = False
        line.write(LEAVE_RAW)  # friendly REPL, whatever mode it was in
        line.read_until(FRIENDLY_PROMPT, self.timeout, "the friendly REPL prompt")
        self._leave_raw = False
        line.write(END)
        self.resets += 1
        return line.read_until(SOFT_REBOOT, self.timeout, "the soft reboot after Ctrl-D")

    def hard_reset(self) -> None:
        """``machine.reset()`` without waiting for an answer (the board restarts and runs main.py)."""
        self.send("import machine, time\ntime.sleep_ms(100)\nmachine.reset()\n")
        self.resets += 1
        self.in_raw = False
        self._leave_raw = False

    def safe_boot(self) -> bytes:
        """Pycom's Ctrl-F: hard reset into safe boot (no boot.py, no main.py); waits for the banner."""
        line = self.line
        line.discard_input()
        line.write(bytes((CTRL_F,)))
        self.resets += 1
        self.in_raw = False
        self._leave_raw = False
        try:
            return line.read_until(FRIENDLY_PROMPT, max(self.timeout, 10.0), "the banner after safe boot")
        except BoardTimeout as err:
            raise BoardTimeout(
                f"the board on {self.port} did not come back in safe boot ({err.what})",
                "Ctrl-F only works on Pycom firmware and not after micropython.kbd_intr(-1); hold P12 "
                "(G28) high or press the safe-boot button while resetting the board",
            ) from None

    def stream(self, on_output: OutputCallback, timeout: float | None, until: bytes | None = None) -> bool:
        """Pass everything the board prints to ``on_output`` until ``until`` shows (True) or
        ``timeout`` passes (False). Ctrl-C propagates as ``KeyboardInterrupt``."""
        return stream_output(self.line, on_output, timeout, until)
