"""The virtual board's process: a simulated Pycom board whose UART is this process's stdin and stdout.

The relay (``firmware_sim.virtual.relay``) starts it with its stdin/stdout on pipes to the serial line
and the board's state in the environment (as ``firmware_sim.runtime.boot``). Bytes from the host are read
by a thread that queues them, and turns Ctrl-C into a ``KeyboardInterrupt`` of the running program
and Ctrl-F into a safe-boot reset (Pycom's UART interrupt does both). The main thread runs the REPL
(:mod:`firmware_sim.virtual.repl`) and the board's code. Everything the board prints goes to the line,
``\\n`` cooked to ``\\r\\n``; the simulator's own diagnostics (``firmware-sim: ...`` lines) go to stderr.

A hard reset (``machine.reset()``, deep sleep, the watchdog, Ctrl-F) re-executes this process: the
pipes, and so the relay's port, stay open. A soft reset (Ctrl-D, ``SystemExit``) stays in the process
with fresh globals and modules.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from types import FrameType
from typing import NoReturn, TextIO

from ..runtime.board import Board
from ..runtime.kinds import MICROPYTHON_VERSION, build
from ..runtime.state import (
    DEEPSLEEP_RESET,
    HARD_RESET,
    PWRON_RESET,
    SOFT_RESET,
    WDT_RESET,
    BoardState,
)
from ..runtime.traceback import format_exception
from .repl import CTRL_C, Action, Execute, Repl, SoftReset

ENV_VIRTUAL = "FIRMWARE_SIM_VIRTUAL"  # the virtual board's options (JSON), set by the relay
ENV_SAFE_BOOT = "FIRMWARE_SIM_SAFE_BOOT"  # "1" for one boot: skip boot.py and main.py (Ctrl-F)
ENV_READY_FD = "FIRMWARE_SIM_READY_FD"  # a pipe to the relay: written once the board is up
ENV_PENDING = "FIRMWARE_SIM_PENDING_INPUT"  # hex: host bytes received, not yet read, at a hard reset
CTRL_F = 6
SCRIPT_SOFT_RESETS = 10  # boot.py/main.py ending in SystemExit this many times in a row: stop running them

_RST = {
    PWRON_RESET: "0x1 (POWERON_RESET)",
    HARD_RESET: "0xc (SW_CPU_RESET)",
    WDT_RESET: "0x7 (TG0WDT_SYS_RESET)",
    DEEPSLEEP_RESET: "0x5 (DEEPSLEEP_RESET)",
    SOFT_RESET: "0xc (SW_CPU_RESET)",
}
_HELP = """Welcome to MicroPython!

For online docs please visit http://docs.pycom.io

Control commands:
  CTRL-A        -- on a blank line, enter raw REPL mode
  CTRL-B        -- on a blank line, enter normal REPL mode
  CTRL-C        -- interrupt a running program
  CTRL-D        -- on a blank line, do a soft reset of the board
  CTRL-E        -- on a blank line, enter paste mode
  CTRL-F        -- on a blank line, do a hard reset of the board and enter safe boot

For further help on a specific object, type help(obj)
"""


@dataclass
class VirtualOptions:
    """What the relay tells the board process besides its state."""

    raw_paste: bool = False  # newer MicroPython: raw-paste mode (Pycom 1.20 has none)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> VirtualOptions:
        text = os.environ.get(ENV_VIRTUAL)
        return cls(**json.loads(text)) if text else cls()


def banner(kind_platform: str, firmware: str) -> bytes:
    """The friendly REPL's banner, as Pycom firmware prints it."""
    release = build(firmware)
    major, minor = MICROPYTHON_VERSION.split(".")[:2]
    return (
        f"Pycom MicroPython {release.release} [v{major}.{minor}-{release.git_hash}] on {release.date}; "
        f"{kind_platform} with ESP32\r\n"
        'Type "help()" for more information.\r\n'
    ).encode()


def boot_log(cause: int) -> bytes:
    """What the ESP32's ROM bootloader prints at a reset."""
    return (
        "ets Jun  8 2016 00:22:57\r\n\r\n"
        f"rst:{_RST.get(cause, _RST[HARD_RESET])},boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
        "configsip: 0, SPIWP:0xee\r\n"
        "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n"
        "mode:DIO, clock div:1\r\n"
        "load:0x3fff8020,len:8\r\n"
        "load:0x3fff8028,len:2140\r\n"
        "ho 0 tail 12 room 4\r\n"
        "load:0x4009fa00,len:19760\r\n"
        "entry 0x400a05bc\r\n"
    ).encode()


# -- the serial line ---------------------------------------------------------------------------------


class Console:
    """The board's UART transmit side (this process's stdout): a text stream for ``sys.stdout`` that
    cooks ``\\n`` to ``\\r\\n``, and ``send()`` for protocol bytes. Writes are whole and thread-safe."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self._lock = threading.Lock()
        self.buffer = _RawOut(self)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        with self._lock:
            while view:
                try:
                    written = os.write(self.fd, view)
                except InterruptedError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    os._exit(0)  # the relay is gone: nobody can talk to this board any more
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


class _RawOut:
    """``sys.stdout.buffer``: bytes to the line as they are."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def write(self, data: bytes | bytearray | memoryview) -> int:
        data = bytes(data)
        self._console.send(data)
        return len(data)

    def flush(self) -> None:
        pass


class Diagnostics:
    """``sys.stderr`` of the board process: the simulator's own lines (``firmware-sim: ...``) go to the
    real stderr (the relay's), anything else is the board's output and goes to the line."""

    encoding = "utf-8"

    def __init__(self, console: Console, host: TextIO) -> None:
        self._console = console
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
        if line.startswith("firmware-sim"):
            self._host.write(line)
            self._host.flush()
        else:
            self._console.write(line)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, ""
            if pending:
                self._route(pending)

    def isatty(self) -> bool:
        return False


class SerialInput:
    """The UART receive buffer: bytes from the host, for the REPL and for ``sys.stdin``."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._cond = threading.Condition()

    def put(self, data: bytes) -> None:
        with self._cond:
            self._data += data
            self._cond.notify_all()

    def unget(self, data: bytes) -> None:
        with self._cond:
            self._data[:0] = data

    def get(self, limit: int = 1 << 16) -> bytes:
        """What has arrived (waits for at least one byte)."""
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


class BoardStdin:
    """``sys.stdin`` on the board: reads the serial line (what the REPL has not consumed)."""

    encoding = "utf-8"

    def __init__(self, serial: SerialInput) -> None:
        self._serial = serial
        self.buffer = _RawIn(serial)

    def read(self, n: int = 1) -> str:
        return self._serial.read(n).decode("utf-8", "replace")

    def readline(self) -> str:
        out = bytearray()
        while not out.endswith(b"\n"):
            out += self._serial.read(1)
        return out.decode("utf-8", "replace")

    def isatty(self) -> bool:
        return False


class _RawIn:
    def __init__(self, serial: SerialInput) -> None:
        self._serial = serial

    def read(self, n: int = 1) -> bytes:
        return self._serial.read(n)

    def readinto(self, buf: bytearray | memoryview) -> int:
        view = memoryview(buf).cast("B")
        data = self._serial.read(len(view))
        view[: len(data)] = data
        return len(data)


# -- the board -----------------------------------------------------------------------------------------


class VirtualBoard(Board):
    """A simulated board behind a serial line: boots, then serves the REPL until the process ends. A
    real board resets as often as it is told to: no reboot-loop stop here (the host can safe-boot it)."""

    entry_module = "firmware_sim.virtual.board"
    stops_reboot_loops = False

    def __init__(self, state: BoardState, options: VirtualOptions, console: Console | None = None) -> None:
        super().__init__(state)
        self.options = options
        self.console = console or Console()
        self.serial = SerialInput()
        self.reset_char = CTRL_F  # Pycom's UART reset character (micropython.kbd_intr(c, reset_c))
        self.repl = Repl(banner(self.kind.platform, state.firmware), raw_paste=options.raw_paste)
        self.globals: dict = {}
        self._main_ident = threading.main_thread().ident
        self._executing = False  # the main thread runs board code: Ctrl-C raises KeyboardInterrupt
        self._armed = False  # Ctrl-C now is meant for the code about to run
        self._interrupt = False  # Ctrl-C arrived while armed
        self._flag_lock = threading.Lock()
        self._booting = False  # boot.py/main.py phase, until the REPL's prompt
        self._boot_interrupt = False  # a Ctrl-C came during the boot sequence: main.py is interrupted
        self._reader = threading.Thread(target=self._read_line, name="uart-rx", daemon=True)
        self._resetting = threading.Event()  # a hard reset is under way: the reader stops reading
        self._reader_parked = threading.Event()

    # -- resets ------------------------------------------------------------------------------------

    def reboot(self, cause: int, wake_reason: int = 0, why: str = "") -> None:
        """Hard reset: the process re-executes (the relay keeps the port). Never returns."""
        with self._flag_lock:
            self._armed = self._executing = False  # a Ctrl-C now is input: nothing stops the reset
        self._resetting.set()
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader_parked.wait(1.0)
        super().reboot(cause, wake_reason, why)

    def before_exec(self) -> None:
        """What the host sent and nobody read yet goes to the next boot: a host that sends its next
        command while the board resets (mpremote after `reset`) is not left waiting for an answer."""
        pending = self.serial.take()
        if pending:
            os.environ[ENV_PENDING] = pending.hex()

    def safe_boot(self) -> None:
        """Ctrl-F: hard reset into safe boot (boot.py and main.py skipped for one boot)."""
        os.environ[ENV_SAFE_BOOT] = "1"
        self.reboot(HARD_RESET, why="safe boot (Ctrl-F)")

    # -- serving -----------------------------------------------------------------------------------

    def serve(self) -> NoReturn:
        """Boot (boot.py, main.py) and run the REPL on the serial line, for ever."""
        self.attach()
        signal.signal(signal.SIGINT, self._on_sigint)
        self._booting = True
        self._receive(bytes.fromhex(os.environ.pop(ENV_PENDING, "")))
        self._reader.start()
        self.own_threads.add(self._reader.ident)
        self.console.send(boot_log(self.state.reset_cause))
        safe = os.environ.pop(ENV_SAFE_BOOT, "") == "1"
        self._new_session()
        if safe or not self._boot_scripts(run_main=True):
            self._repl_up(raw=False)
        else:
            self._soft_reset(announce=True)
        while True:
            data = self.serial.get()
            actions, used = self.repl.feed(data)
            if used < len(data):
                self.serial.unget(data[used:])
            self._perform(actions)

    def _perform(self, actions: list[Action]) -> None:
        if any(isinstance(action, Execute) for action in actions):
            self._arm()  # before "OK" goes out: a Ctrl-C sent on seeing it is for this code
        for action in actions:
            if isinstance(action, bytes):
                self.console.send(action)
            elif isinstance(action, Execute):
                error, system_exit = self._execute(action)
                self._perform(self.repl.finished(error, system_exit))
            elif isinstance(action, SoftReset):
                self._soft_reset(announce=True)

    def _soft_reset(self, announce: bool) -> None:
        """``PYB: soft reboot``, fresh globals, boot.py (and main.py in the friendly REPL), the prompt."""
        self._booting = True
        for _ in range(SCRIPT_SOFT_RESETS):
            if announce:
                self.console.send(b"PYB: soft reboot\r\n")
            announce = True
            self._new_session()
            if not self._boot_scripts(run_main=not self.repl.raw):
                break
        else:
            print(
                f"firmware-sim: warning: boot.py/main.py ended in SystemExit {SCRIPT_SOFT_RESETS} times in a "
                "row; the board stays in the REPL (a real board would keep soft-resetting)",
                file=sys.stderr,
                flush=True,
            )
        self._repl_up()

    def _repl_up(self, raw: bool | None = None) -> None:
        """The boot sequence is over: the REPL's banner and prompt."""
        with self._flag_lock:
            self._booting = self._boot_interrupt = False
        self.console.send(self.repl.start(raw))
        self._ready()

    def _new_session(self) -> None:
        """What a soft reset renews: the modules, the globals, the working directory, the network."""
        self.new_session()
        self.loader.builtins["input"] = self._input
        self.loader.builtins["help"] = self._help
        self.loader.files.add("<stdin>")
        self.globals = {"__name__": "__main__", "__builtins__": self.loader.builtins}
        self.interrupt_char = CTRL_C
        self.reset_char = CTRL_F

    def _boot_scripts(self, run_main: bool) -> bool:
        """Run boot.py, then (``run_main``) main.py; True when one of them asked for a soft reset."""
        scripts = ["boot.py"]
        if run_main:
            scripts.append(self.main_file or self.state.main_name)
        for name in scripts:
            try:
                if not self.flash.real(name).is_file():
                    continue
            except OSError:
                continue
            display = self.state.display_name if name == self.state.main_name else name
            error, system_exit = self._run(
                lambda name=name, display=display: self.loader.compile(name, display), main=name != "boot.py"
            )
            if system_exit:
                return True
            if error:
                self.console.send(error)
        return False

    def _execute(self, action: Execute) -> tuple[bytes, bool]:
        return self._run(lambda: compile(action.source, "<stdin>", action.mode, dont_inherit=True))

    def _run(self, make_code: Callable[[], object], main: bool = False) -> tuple[bytes, bool]:
        """Compile and run board code in the session's globals; (error text for the line, SystemExit?).
        ``main``: this is main.py; the board is up once it runs (a Ctrl-C from now on interrupts it),
        and a Ctrl-C that came during the boot sequence interrupts it at once."""
        self._arm()
        error, system_exit = b"", False
        try:
            try:
                code = make_code()
                if main:
                    with self._flag_lock:
                        self._interrupt = self._interrupt or self._boot_interrupt
                        self._boot_interrupt = False
                    self._ready()
                self._executing = True
                if self._interrupt:
                    raise KeyboardInterrupt
                exec(code, self.globals)
            finally:
                self._executing = False
        except SystemExit:
            system_exit = True
        except BaseException as exc:  # noqa: BLE001 - the board prints whatever its code raised
            text = format_exception(exc, self.loader.files)
            error = text.replace("\n", "\r\n").encode("utf-8", "replace")
        self._executing = False  # again: a Ctrl-C may have struck just before the finally's first line
        self._disarm()
        return error, system_exit

    def _ready(self) -> None:
        """Tell the relay, once, that the board is up (running main.py, or in its REPL): it announces
        the port then, so a host that connects at once finds main.py running, as on a booted board."""
        fd = os.environ.pop(ENV_READY_FD, None)
        if fd is None:
            return
        try:
            os.write(int(fd), b"up")
            os.close(int(fd))
        except (OSError, ValueError):
            pass

    # -- Ctrl-C and Ctrl-F ---------------------------------------------------------------------------

    def _arm(self) -> None:
        with self._flag_lock:
            if not self._armed:
                self._armed = True
                self._interrupt = False
                self.interrupt_char = CTRL_C  # re-armed at every execution, as the firmware does
                if self.reset_char == -1:
                    self.reset_char = CTRL_F

    def _disarm(self) -> None:
        with self._flag_lock:
            self._armed = False
            self._interrupt = False

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self._executing:
            raise KeyboardInterrupt

    def _read_line(self) -> None:
        """The UART receive interrupt: queue the host's bytes; Ctrl-C interrupts running code, Ctrl-F
        (Pycom's reset character) resets into safe boot."""
        while True:
            if self._resetting.is_set():
                self._reader_parked.set()  # what is still in the pipe is for the next boot
                return
            try:
                ready, _, _ = select.select([0], [], [], 0.05)
                data = os.read(0, 4096) if ready else None
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if data is None:
                continue
            if not data:
                os._exit(0)  # the relay is gone
            self._receive(data)

    def _receive(self, data: bytes) -> None:
        """Bytes from the host: Ctrl-C and Ctrl-F act at once, the rest waits in the receive buffer."""
        interrupt, reset = self.interrupt_char, self.reset_char
        if not {c for c in (interrupt, reset) if c >= 0}.intersection(data):
            self.serial.put(data)
            return
        keep = bytearray()
        for index, byte in enumerate(data):
            if byte == reset and reset >= 0:
                self.serial.put(bytes(keep) + data[index + 1 :])
                self.safe_boot()
            if byte == interrupt:
                self.serial.put(bytes(keep))  # what came before the Ctrl-C is there before it acts
                keep.clear()
                if self._interrupt_now():
                    continue
            keep.append(byte)
        self.serial.put(bytes(keep))

    def _interrupt_now(self) -> bool:
        """Ctrl-C arrived: True if it interrupts code (running or about to run), False if it is input.
        During the boot sequence it also stops main.py (at its start), so a host that connects while the
        board boots (or resets) reaches the REPL even when main.py loops for ever."""
        with self._flag_lock:
            if self._booting:
                self._boot_interrupt = True
            if not self._armed:
                return self._booting
            self._interrupt = True
            if self._executing and self._main_ident is not None:
                signal.pthread_kill(self._main_ident, signal.SIGINT)
            return True

    # -- builtins of the board ---------------------------------------------------------------------------

    def _input(self, prompt: object = "") -> str:
        """``input()``: the prompt, then a line typed on the serial line (echoed)."""
        self.console.write(str(prompt))
        line = bytearray()
        while True:
            byte = self.serial.read(1)
            if byte in (b"\r", b"\n"):
                self.console.send(b"\r\n")
                return line.decode("utf-8", "replace")
            if byte in (b"\x08", b"\x7f"):
                if line:
                    del line[-1]
                    self.console.send(b"\x08 \x08")
                continue
            line += byte
            self.console.send(byte)

    def _help(self, obj: object = None) -> None:
        if obj is None:
            self.console.write(_HELP)
        else:
            names = sorted(name for name in dir(obj) if not name.startswith("_"))
            self.console.write(f"object {obj!r} is of type {type(obj).__name__}\n")
            for name in names:
                self.console.write(f"  {name} -- {getattr(obj, name, None)!r}\n")


def _display(console: Console) -> Callable[[object], None]:
    def display(value: object) -> None:
        """The friendly REPL shows an expression's value."""
        if value is not None:
            console.write(repr(value) + "\n")

    return display


def main() -> NoReturn:
    state = BoardState.from_env()
    if state is None:
        sys.exit(
            "firmware-sim: this module is the virtual board's process; start it with `firmware-sim board`"
        )
    console = Console()
    host_stderr = sys.stderr
    sys.stdout = console  # type: ignore[assignment]
    sys.stderr = Diagnostics(console, host_stderr)  # type: ignore[assignment]
    serial_board = VirtualBoard(state, VirtualOptions.from_env(), console)
    sys.stdin = BoardStdin(serial_board.serial)  # type: ignore[assignment]
    sys.displayhook = _display(console)
    threading.excepthook = lambda args: _host_excepthook(args, host_stderr)
    try:
        serial_board.serve()
    finally:
        host_stderr.flush()
        os._exit(1)


def _host_excepthook(args: threading.ExceptHookArgs, stream: TextIO) -> None:
    """A simulator thread that fails is the simulator's problem: report it on stderr, not the line."""
    import traceback

    if args.exc_type is SystemExit:
        return
    stream.write(f"firmware-sim: internal error in thread {args.thread.name if args.thread else '?'}:\n")
    traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback, file=stream)
    stream.flush()


if __name__ == "__main__":
    main()
