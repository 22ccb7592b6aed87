"""The virtual board's process: a simulated Pycom board whose UART is this process's stdin and stdout.

The relay (:mod:`firmware_sim.virtual.serve`) starts it with its stdin/stdout on pipes to the serial line
and the board's state in the environment (:mod:`firmware_sim.virtual.launch`). Bytes from the host are
read by a thread that queues them, and turns Ctrl-C into a ``KeyboardInterrupt`` of the running program
and Ctrl-F into a safe-boot reset (Pycom's UART interrupt does both). The main thread runs the REPL
(:mod:`firmware_sim.virtual.repl`) and the board's code. Everything the board prints goes to the line,
``\\n`` cooked to ``\\r\\n`` (:mod:`firmware_sim.virtual.uart`); the simulator's own lines
(``firmware-sim: ...``) go to stderr, and its warnings to the line as well.

A hard reset (``machine.reset()``, deep sleep, the watchdog, Ctrl-F) re-executes this process: the
pipes, and so the relay's port, stay open. A soft reset (Ctrl-D, ``SystemExit``) stays in the process
with fresh globals and modules. The process ends with its relay, however the relay ends (its pipes
close; on Linux it also gets SIGTERM when the relay dies, even by SIGKILL), and then removes a temporary
flash.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from types import CodeType, FrameType
from typing import NoReturn, TextIO

from ..children import die_with_parent
from ..replwire import CTRL_C, CTRL_F, PYCOM_SOFT_REBOOT
from ..runtime.board import Board
from ..runtime.state import HARD_RESET, BoardState
from ..runtime.traceback import format_exception
from .banner import banner, boot_log, help_text
from .interrupts import KeyboardInterrupts, Receiver
from .launch import BOARD_MODULE, ENV_READY_FD, VirtualOptions, relay_pid
from .repl import Action, Execute, Repl, SoftReset
from .uart import SplitStderr, UartIn, UartOut, UartStdin, echoed_input

ENV_SAFE_BOOT = "FIRMWARE_SIM_SAFE_BOOT"  # "1" for one boot: skip boot.py and main.py (Ctrl-F)
ENV_PENDING = "FIRMWARE_SIM_PENDING_INPUT"  # hex: host bytes received, not yet read, at a hard reset
SCRIPT_SOFT_RESETS = 10  # boot.py/main.py ending in SystemExit this many times in a row: stop running them


class VirtualBoard(Board):
    """A simulated board behind a serial line: boots, then serves the REPL until the process ends. A
    real board resets as often as it is told to: no reboot-loop stop here (the host can safe-boot it)."""

    entry_module = BOARD_MODULE
    stops_reboot_loops = False

    def __init__(self, state: BoardState, options: VirtualOptions, out: UartOut | None = None) -> None:
        super().__init__(state)
        self.options = options
        self.out = out or UartOut(on_hangup=self.hang_up)
        self.uart_in = UartIn()
        self.reset_char = CTRL_F  # Pycom's UART reset character (micropython.kbd_intr(c, reset_c))
        self.repl = Repl(banner(self.kind.platform, state.firmware), raw_paste=options.raw_paste)
        self.globals: dict = {}
        self.interrupts = KeyboardInterrupts()
        self.receiver = Receiver(
            self.uart_in,
            self.interrupts,
            lambda: (self.interrupt_char, self.reset_char),
            on_reset_char=self.safe_boot,
            on_hangup=self.hang_up,
        )

    # -- resets ------------------------------------------------------------------------------------

    def reboot(self, cause: int, wake_reason: int = 0, why: str = "") -> None:
        """Hard reset: the process re-executes (the relay keeps the port). Never returns."""
        self.interrupts.stop_for_reset()
        self.receiver.park(1.0)  # what the host sends from now on is for the next boot
        super().reboot(cause, wake_reason, why)

    def before_exec(self) -> None:
        """What the host sent and nobody read yet goes to the next boot: a host that sends its next
        command while the board resets (mpremote after `reset`) is not left waiting for an answer."""
        pending = self.uart_in.take()
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
        signal.signal(signal.SIGINT, self.interrupts.on_sigint)
        self.interrupts.boot_starts()
        self.receiver.receive(bytes.fromhex(os.environ.pop(ENV_PENDING, "")))
        self.own_threads.add(self.receiver.start())
        self.out.send(boot_log(self.state.reset_cause))
        safe = os.environ.pop(ENV_SAFE_BOOT, "") == "1"
        self._new_session()
        if safe or not self._boot_scripts(run_main=True):
            self._repl_up(raw=False)
        else:
            self._soft_reset(announce=True)
        while True:
            data = self.uart_in.get()
            actions, used = self.repl.feed(data)
            if used < len(data):
                self.uart_in.unget(data[used:])
            self._perform(actions)

    def _perform(self, actions: list[Action]) -> None:
        if any(isinstance(action, Execute) for action in actions):
            self._arm()  # before "OK" goes out: a Ctrl-C sent on seeing it is for this code
        for action in actions:
            if isinstance(action, bytes):
                self.out.send(action)
            elif isinstance(action, Execute):
                error, system_exit = self._execute(action)
                self._perform(self.repl.finished(error, system_exit))
            elif isinstance(action, SoftReset):
                self._soft_reset(announce=True)

    def _soft_reset(self, announce: bool) -> None:
        """``PYB: soft reboot``, fresh globals, boot.py (and main.py in the friendly REPL), the prompt."""
        self.interrupts.boot_starts()
        for _ in range(SCRIPT_SOFT_RESETS):
            if announce:
                self.out.send(PYCOM_SOFT_REBOOT)
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
        self.interrupts.boot_ends()
        self.out.send(self.repl.start(raw))
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
        for name, display in self.boot_scripts(run_main):
            compile_script = partial(self.loader.compile, name, display)
            error, system_exit = self._run(compile_script, main=name != "boot.py")
            if system_exit:
                return True
            if error:
                self.out.send(error)
        return False

    def _execute(self, action: Execute) -> tuple[bytes, bool]:
        return self._run(lambda: compile(action.source, "<stdin>", action.mode, dont_inherit=True))

    def _run(self, make_code: Callable[[], CodeType], main: bool = False) -> tuple[bytes, bool]:
        """Compile and run board code in the session's globals; (error text for the line, SystemExit?).
        ``main``: this is main.py; the board is up once it runs (a Ctrl-C from now on interrupts it),
        and a Ctrl-C that came during the boot sequence interrupts it at once."""
        self._arm()
        error, system_exit = b"", False
        try:
            try:
                code = make_code()
                if main:
                    self.interrupts.main_starts()
                    self._ready()
                self.interrupts.executing = True
                if self.interrupts.pending:
                    raise KeyboardInterrupt
                exec(code, self.globals)
            finally:
                self.interrupts.executing = False
        except SystemExit:
            system_exit = True
        except BaseException as exc:  # noqa: BLE001 - the board prints whatever its code raised
            text = format_exception(exc, self.loader.files)
            error = text.replace("\n", "\r\n").encode("utf-8", "replace")
        self.interrupts.executing = False  # again: a Ctrl-C may have struck before the finally's first line
        self.interrupts.disarm()
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

    # -- Ctrl-C, Ctrl-F and the end ---------------------------------------------------------------------

    def _arm(self) -> None:
        """Ctrl-C is for the code about to run; re-armed at every execution, as the firmware does."""
        if self.interrupts.arm():
            self.interrupt_char = CTRL_C
            if self.reset_char == -1:
                self.reset_char = CTRL_F

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM (the relay ends the board, or died): :meth:`hang_up`."""
        self.hang_up()

    def hang_up(self) -> NoReturn:
        """The relay is gone or ends the board (its pipe closed, SIGTERM): power off, from any thread.
        A temporary flash is removed; nothing is flushed (the line may be what is gone)."""
        self.cleanup()
        os._exit(0)

    # -- builtins of the board ---------------------------------------------------------------------------

    def _input(self, prompt: object = "") -> str:
        """``input()``: the prompt, then a line typed on the serial line (echoed)."""
        return echoed_input(self.out, self.uart_in, prompt)

    def _help(self, obj: object = None) -> None:
        """``help()`` and ``help(obj)``, as the firmware prints them."""
        self.out.write(help_text(obj))


def _display(out: UartOut) -> Callable[[object], None]:
    def display(value: object) -> None:
        """The friendly REPL shows an expression's value."""
        if value is not None:
            out.write(repr(value) + "\n")

    return display


def main() -> NoReturn:
    """The board's process: the UART on stdin/stdout, serve until the relay ends it."""
    state = BoardState.from_env()
    if state is None:
        sys.exit(
            "firmware-sim: this module is the virtual board's process; start it with `firmware-sim board`"
        )
    host_stderr = sys.stderr
    board = VirtualBoard(state, VirtualOptions.from_env())
    signal.signal(signal.SIGTERM, board.on_sigterm)
    die_with_parent(relay_pid())  # SIGTERM when the relay dies, however it dies (Linux)
    sys.stdout = board.out
    sys.stderr = SplitStderr(board.out, host_stderr)
    sys.stdin = UartStdin(board.uart_in)
    sys.displayhook = _display(board.out)
    threading.excepthook = lambda args: _host_excepthook(args, host_stderr)
    try:
        board.serve()
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
