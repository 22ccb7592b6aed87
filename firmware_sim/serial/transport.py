"""The serial line to a (Pycom) MicroPython board and its raw REPL, with a deadline on every wait.

``Transport`` is the byte line: pyserial's ``serial_for_url`` (a device path, ``socket://host:port``,
``rfc2217://``), 115200 8N1, DTR/RTS left as pyserial opens them, reads of at most ``POLL`` seconds
in a loop against a monotonic deadline, every pyserial/OS failure turned into ``PortGone``.

``Board`` speaks the REPL over it (../shared/spec/raw-repl.md §1): entering the raw REPL, exec in
raw-paste mode when the board grants it and in standard raw mode otherwise (Pycom 1.20 answers the
raw-paste request with the raw banner), following the output live, soft/hard reset and safe boot.

Every error is a :class:`RunnerError` whose text says what went wrong and how to fix it; its
``exit_code`` is 2 when the board could not be reached, else 1.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import select
import socket
import struct
import time
from collections.abc import Callable

import serial

BAUDRATE = 115200
POLL = 0.05  # the longest a single read blocks; every wait loops on it against its own deadline
REPLY_TIMEOUT = 10.0  # default: how long the board may stay silent when it owes an answer
RAW_CHUNK = 256  # standard raw mode: bytes per write, then a pause (the board has no flow control)
RAW_CHUNK_PAUSE = 0.01
ENTER_ATTEMPT = 2.0  # entering the raw REPL: resend Ctrl-C, Ctrl-A this often until the deadline

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
RAW_PROMPT = RAW_BANNER + b">"
FRIENDLY_PROMPT = b'Type "help()" for more information.\r\n>>> '
SOFT_REBOOT = b"soft reboot\r\n"
# What a board prints when it restarts under a running program: the ESP32 ROM boot log, the
# soft-reboot line, the friendly banner.
RESET_MARKERS = (b"rst:0x", SOFT_REBOOT, b'Type "help()" for more information.\r\n')

OutputCallback = Callable[[bytes], None]


# -- errors ---------------------------------------------------------------------------------------


class RunnerError(Exception):
    """A failure that names the problem (``what``) and the fix (``fix``)."""

    exit_code = 1

    def __init__(self, what: str, fix: str = "") -> None:
        super().__init__(what, fix)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.what} — {self.fix}" if self.fix else self.what


class ConnectError(RunnerError):
    """The port could not be opened, or the board did not enter the raw REPL."""

    exit_code = 2


class BoardTimeout(RunnerError):
    """The board stayed silent past a deadline (or stopped reading what we send)."""


class PortGone(RunnerError):
    """The port disappeared (unplugged, the board process ended, the connection closed)."""


class ProtocolError(RunnerError):
    """The board answered something the REPL protocol does not allow at that point."""


class BoardReset(RunnerError):
    """The board restarted while it was running our code."""


class Interrupted(RunnerError):
    """Ctrl-C on the host stopped the program on the board."""


class BoardError(RunnerError):
    """The code raised on the board; ``traceback`` is the board's text, ``output`` what it printed."""

    def __init__(self, traceback: str, output: bytes = b"") -> None:
        self.traceback = traceback
        self.output = output
        lines = [line for line in traceback.strip().splitlines() if line.strip()]
        self.message = lines[-1].strip() if lines else "an exception"
        self.exc_type = re.split(r"[:\s]", self.message, maxsplit=1)[0]
        match = re.search(r"\[Errno (\d+)\] (E[A-Z]+)|OSError: (\d+)$", self.message)
        self.errno = int(match.group(1) or match.group(3)) if match else None
        self.errno_name = match.group(2) if match else None
        super().__init__(f"the board raised {self.message}")


class ProgramTimeout(BoardTimeout):
    """A program ran past its overall ``timeout`` and was stopped with Ctrl-C."""


# -- the byte line --------------------------------------------------------------------------------


def _is_url(port: str) -> bool:
    return "://" in port


class Transport:
    """A serial line with bounded reads and writes and a receive buffer for pattern waits."""

    def __init__(self, port: str, timeout: float = REPLY_TIMEOUT, baudrate: int = BAUDRATE) -> None:
        self.port = port
        self.timeout = timeout
        self.baudrate = baudrate
        self.buffer = bytearray()  # received, not yet consumed
        self.bytes_written = 0
        self._ser: serial.SerialBase | None = None
        self._sock: socket.socket | None = None

    # opening and closing

    def open(self) -> None:
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


# -- the REPL -------------------------------------------------------------------------------------


class Board:
    """A MicroPython board behind a :class:`Transport`: raw REPL, exec, resets.

    Use as a context manager; on close the board is put back in the friendly REPL (``\\r\\x02``)
    unless it is resetting.
    """

    def __init__(
        self,
        port: str,
        timeout: float = REPLY_TIMEOUT,
        raw_paste: bool | None = None,
        *,
        resolve: bool = True,
    ) -> None:
        if resolve:
            from .ports import resolve_port

            port = resolve_port(port)
        self.port = port
        self.timeout = timeout
        self.transport = Transport(port, timeout)
        self.use_raw_paste = raw_paste  # None: try once, then remember (spec §1.5)
        self.in_raw = False
        self.boot_output = b""  # what boot.py printed at the last soft reset
        self.resets = 0  # counts restarts seen: the board's globals (helpers defined by files.py) are gone
        self._leave_raw = False  # send Ctrl-B on close

    # connection

    def open(self) -> Board:
        self.transport.open()
        return self

    def close(self, goodbye: bool = True) -> None:
        """Close the port; first, with ``goodbye``, back to the friendly REPL (if we left it)."""
        t = self.transport
        if t.is_open and self._leave_raw and goodbye:
            try:
                t.discard_input()
                t.write(b"\r\x02")
                t.read_until(b">>> ", min(self.timeout, 1.0), "the friendly REPL after Ctrl-B")
            except RunnerError:
                pass
        self._leave_raw = False
        self.in_raw = False
        t.close()

    def __enter__(self) -> Board:
        if not self.transport.is_open:
            self.open()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(goodbye=not isinstance(exc, (BoardTimeout, PortGone)))  # no goodbye to a silent board

    # raw REPL

    def enter_raw_repl(self, soft_reset: bool = False) -> None:
        """Stop what runs (``\\r\\x03``), drain, ``\\r\\x01``, wait for the raw prompt; with
        ``soft_reset`` also Ctrl-D (boot.py runs, main.py does not) and wait for the prompt again."""
        t = self.transport
        self.in_raw = False
        deadline = time.monotonic() + self.timeout
        try:
            for attempt in itertools.count():
                # later tries also leave paste mode / a half-sent raw-paste (Ctrl-C, Ctrl-B) and catch a
                # board that was still booting when the first bytes came
                t.write(b"\r\x03\x03" if attempt == 0 else b"\x03\x03\r\x02")
                time.sleep(0.02 if attempt == 0 else 0.1)
                t.discard_input()
                t.write(b"\r\x01")
                left = deadline - time.monotonic()
                try:
                    t.read_until(RAW_PROMPT, max(min(left, ENTER_ATTEMPT), 0.05), "the raw REPL prompt")
                    break
                except BoardTimeout:
                    if time.monotonic() >= deadline:
                        seen = bytes(t.buffer[-60:])
                        raise BoardTimeout(
                            f"no raw REPL prompt within {self.timeout:g} s ("
                            + (f"it last sent {seen!r})" if seen else "it sent nothing)")
                        ) from None
            self._leave_raw = True
            if soft_reset:
                t.write(b"\x04")
                t.read_until(SOFT_REBOOT, self.timeout, "the soft reboot after Ctrl-D")
                before = t.read_until(RAW_PROMPT, self.timeout, "the raw REPL prompt after the soft reboot")
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
        t = self.transport
        t.discard_input()
        t.write(b"\r\x02")
        t.read_until(FRIENDLY_PROMPT, self.timeout, "the friendly REPL prompt after Ctrl-B")
        self.in_raw = False
        self._leave_raw = False

    def _ensure_raw(self) -> None:
        if not self.in_raw:
            self.enter_raw_repl()

    # sending code

    def _paste_answer(self) -> int:
        """The raw-paste window the board grants, 0 when it refuses (``R\\x00``, or the raw banner from
        firmware without raw-paste: Pycom 1.20)."""
        buf = self.transport.buffer

        def find() -> int | None:
            i = buf.find(b"R\x01")
            if i >= 0 and len(buf) >= i + 4:
                window = struct.unpack_from("<H", buf, i + 2)[0]
                del buf[: i + 4]
                return window
            for refusal in (b"R\x00", RAW_PROMPT):
                j = buf.find(refusal)
                if j >= 0:
                    del buf[: j + len(refusal)]
                    return 0
            if len(buf) > 200 or b">>> " in buf or b"=== " in buf:  # not in the raw REPL (any more)
                raise ProtocolError(
                    f"unexpected answer to the raw-paste request from {self.port}: {bytes(buf[:80])!r}",
                    "retry; if it persists reset the board",
                )
            return None

        return self.transport.wait(find, self.timeout, "the answer to the raw-paste request")  # type: ignore[return-value]

    def _paste_write(self, code: bytes, window: int) -> None:
        """Raw-paste data phase: never more than the granted window in flight (spec §1.5)."""
        t = self.transport
        remain = window
        i = 0
        stalled = time.monotonic()
        while True:
            t.poll(wait=remain == 0 and i < len(code))
            for byte in t.take(len(t.buffer)):
                if byte == 1:
                    remain += window
                elif byte == 4:  # the board stops reading (e.g. a syntax error): acknowledge and follow
                    t.write(b"\x04")
                    return
                else:
                    raise ProtocolError(
                        f"unexpected byte {bytes([byte])!r} from {self.port} during raw-paste",
                        "retry; if it persists reset the board",
                    )
            if i >= len(code):
                break
            if remain == 0:
                if time.monotonic() - stalled > self.timeout:
                    raise BoardTimeout(
                        f"the board on {self.port} stopped taking data (no raw-paste window granted for "
                        f"{self.timeout:g} s)",
                        "check that the board is still running (power, cable); reset it and retry",
                    )
                continue
            piece = code[i : i + remain]
            t.write(piece)
            i += len(piece)
            remain -= len(piece)
            stalled = time.monotonic()
        t.write(b"\x04")

        def ack() -> int | None:
            while t.buffer[:1] == b"\x01":
                del t.buffer[:1]
            if t.buffer[:1] == b"\x04":
                del t.buffer[:1]
                return 1
            if t.buffer:
                raise ProtocolError(
                    f"unexpected answer from {self.port} at the end of a raw-paste: {bytes(t.buffer[:80])!r}",
                    "retry; if it persists reset the board",
                )
            return None

        t.wait(ack, self.timeout, "the end-of-data acknowledgement of raw-paste")

    def _raw_write(self, code: bytes) -> None:
        """Standard raw mode: 256-byte pieces with a pause, Ctrl-D, then ``OK``."""
        t = self.transport
        for i in range(0, len(code), RAW_CHUNK):
            t.write(code[i : i + RAW_CHUNK])
            if i + RAW_CHUNK < len(code):
                time.sleep(RAW_CHUNK_PAUSE)
        t.write(b"\x04")
        t.read_until(b"OK", self.timeout, "its OK after the code", limit=32)

    def send(self, code: str | bytes) -> None:
        """Send ``code`` at the raw prompt; on return the board has accepted it and is running it."""
        data = code.encode() if isinstance(code, str) else code
        self._ensure_raw()
        t = self.transport
        t.discard_input()  # resync: whatever came since the last prompt is noise
        if self.use_raw_paste is not False:
            window = 0
            for attempt in (1, 2):
                t.write(b"\x05A\x01")
                try:
                    window = self._paste_answer()
                    break
                except (BoardTimeout, ProtocolError):
                    if attempt == 2:
                        raise
                    self.enter_raw_repl()  # nothing ran yet: resync at a clean raw prompt, ask again
            if window:
                self.use_raw_paste = True
                self._paste_write(data, window)
                return
            self.use_raw_paste = False
        self._raw_write(data)

    # following the output

    def _section(
        self,
        on_output: OutputCallback | None,
        deadline: float | None,
        idle: float | None,
        detect_reset: bool,
    ) -> bytes:
        """Stream or collect up to the next ``\\x04``; ``BoardReset`` when a restart shows in it."""
        t = self.transport
        kept = bytearray()
        tail = b""
        last = time.monotonic()
        while True:
            i = t.buffer.find(b"\x04")
            chunk = t.take(i if i >= 0 else len(t.buffer))
            if i >= 0:
                del t.buffer[:1]
            if chunk:
                last = time.monotonic()
                if on_output is not None:
                    on_output(chunk)
                else:
                    kept += chunk
                if detect_reset:
                    window = tail + chunk
                    if any(marker in window for marker in RESET_MARKERS):
                        self.resets += 1
                        self.in_raw = False
                        self._leave_raw = False
                        raise BoardReset(
                            f"the board on {self.port} restarted while running the code",
                            "the code called machine.reset() or deep sleep, the board crashed or lost "
                            "power; its boot output is shown above, and it is now running main.py",
                        )
                    tail = window[-48:]
            if i >= 0:
                return bytes(kept)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise ProgramTimeout("the program's deadline passed", "")
            if idle is not None and now - last >= idle:
                raise BoardTimeout(
                    f"the board on {self.port} stopped answering for {idle:g} s while running the code"
                    + (f" (it last sent {bytes(kept[-60:])!r})" if kept else ""),
                    "check that the board is still running (power, cable); reset it and retry",
                )
            t.poll()

    def _after_sections(self) -> None:
        """Consume the ``>`` that follows the two sections (after a soft reboot: the raw banner)."""
        t = self.transport
        got = t.read_until(b">", self.timeout, "the raw prompt after the code")
        if SOFT_REBOOT in got:  # SystemExit soft-resets (spec §1.3)
            self.resets += 1
            if not got.endswith(RAW_PROMPT):
                t.read_until(RAW_PROMPT, self.timeout, "the raw prompt after the soft reboot")

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
        t = self.transport
        t.write(b"\x03")
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
                    self.transport.write(b"\x03")
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
        t = self.transport
        if not run_main:
            self.enter_raw_repl(soft_reset=True)
            return self.boot_output
        t.write(b"\r\x03\x03")
        time.sleep(0.02)
        t.discard_input()
        self.in_raw = False
        t.write(b"\r\x02")  # friendly REPL, whatever mode it was in
        t.read_until(FRIENDLY_PROMPT, self.timeout, "the friendly REPL prompt")
        self._leave_raw = False
        t.write(b"\x04")
        self.resets += 1
        return t.read_until(SOFT_REBOOT, self.timeout, "the soft reboot after Ctrl-D")

    def hard_reset(self) -> None:
        """``machine.reset()`` without waiting for an answer (the board restarts and runs main.py)."""
        self.send("import machine, time\ntime.sleep_ms(100)\nmachine.reset()\n")
        self.resets += 1
        self.in_raw = False
        self._leave_raw = False

    def safe_boot(self) -> bytes:
        """Pycom's Ctrl-F: hard reset into safe boot (no boot.py, no main.py); waits for the banner."""
        t = self.transport
        t.discard_input()
        t.write(b"\x06")
        self.resets += 1
        self.in_raw = False
        self._leave_raw = False
        try:
            return t.read_until(FRIENDLY_PROMPT, max(self.timeout, 10.0), "the banner after safe boot")
        except BoardTimeout as err:
            raise BoardTimeout(
                f"the board on {self.port} did not come back in safe boot ({err.what})",
                "Ctrl-F only works on Pycom firmware and not after micropython.kbd_intr(-1); hold P12 "
                "(G28) high or press the safe-boot button while resetting the board",
            ) from None

    def stream(self, on_output: OutputCallback, timeout: float | None, until: bytes | None = None) -> bool:
        """Pass everything the board prints to ``on_output`` until ``until`` shows (True) or
        ``timeout`` passes (False). Ctrl-C propagates as ``KeyboardInterrupt``."""
        t = self.transport
        deadline = None if timeout is None else time.monotonic() + timeout
        tail = b""
        while True:
            chunk = t.take(len(t.buffer))
            if chunk:
                on_output(chunk)
                if until is not None:
                    window = tail + chunk
                    if until in window:
                        return True
                    tail = window[-len(until) :]
            if deadline is not None and time.monotonic() >= deadline:
                return False
            t.poll()
