"""The virtual board's process: a simulated Pycom board whose UART is this process's stdin and stdout.

The relay (:mod:`firmware_sim.virtual.serve`) starts it with its stdin/stdout on pipes to the serial line
and the board's state in the environment (:mod:`firmware_sim.virtual.launch`). Bytes from the host are
read by a thread that queues them, and turns Ctrl-C into a ``KeyboardInterrupt`` of the running program
and Ctrl-F into a safe-boot reset (Pycom's UART interrupt does both). The main thread runs the REPL
(:mod:`firmware_sim.virtual.repl`) and the board's code. Everything the board prints goes to the line,
``\\n`` cooked to ``\\r\\n`` (:mod:`firmware_sim.virtual.uart`); the simulator's own lines
(``firmware-sim: ...``) go to stderr, and its warnings to the line as well.

A hard reset (``machine.reset()``, deep sleep, the watchdog, Ctrl-F) re-executes this process: the
pipes, and so the relay's port, stay open. What the host sent and the board had not read crosses the
reset through an inherited pipe, bounded as the UART's receive buffer is (:func:`.uart.carry_over`); what
comes while the board is down is kept up to the same bound, the rest is lost, as on a real board. A soft
reset (Ctrl-D, ``SystemExit``) stays in the process with fresh globals and modules. The process ends with
its relay, however the relay ends (its pipes close; on Linux it also gets SIGTERM when the relay dies,
even by SIGKILL), and then removes a temporary flash. If the board fails (its input thread, its main
loop, or the re-execution of a hard reset), it says so on the relay's stderr and exits with
:data:`~.launch.EXIT_FAILED`; the relay starts it again on the same port.
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
from ..runtime import syntax
from ..runtime.board import Board
from ..runtime.state import HARD_RESET, BoardState
from ..runtime.traceback import format_exception
from .banner import banner, boot_log, help_text
from .interrupts import KeyboardInterrupts, Receiver
from .launch import BOARD_MODULE, ENV_READY_FD, EXIT_FAILED, VirtualOptions, relay_pid
from .repl import Action, Execute, Repl, SoftReset
from .uart import (
    RX_BUFFER,
    SplitStderr,
    UartIn,
    UartOut,
    UartStdin,
    carried_over,
    carry_over,
    echoed_input,
)

ENV_SAFE_BOOT = "FIRMWARE_SIM_SAFE_BOOT"  # "1" for one boot: skip boot.py and main.py (Ctrl-F)
SCRIPT_SOFT_RESETS = 10  # boot.py/main.py ending in SystemExit this many times in a row: stop running them


class VirtualBoard(Board):
    """A simulated board behind a serial line: boots, then serves the REPL until the process ends. A
    real board resets as often as it is told to: no reboot-loop stop here (the host can safe-boot it)."""

    entry_module = BOARD_MODULE
    stops_reboot_loops = False

    def __init__(
        self,
        state: BoardState,
        options: VirtualOptions,
        out: UartOut | None = None,
        host_stderr: TextIO | None = None,
    ) -> None:
        super().__init__(state)
        self.options = options
        self.host_stderr: TextIO = host_stderr or sys.__stderr__ or sys.stderr  # the relay's, not the line
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
            on_failure=self.input_failed,
        )
        self._resetting = threading.Lock()  # held by the thread that resets the board

    # -- resets ------------------------------------------------------------------------------------

    def reboot(self, cause: int, wake_reason: int = 0, why: str = "") -> None:
        """Hard reset: the process re-executes (the relay keeps the port). Never returns: if the
        re-execution fails, the board says so and its process ends (:meth:`fail`)."""
        if not self._resetting.acquire(blocking=False):
            threading.Event().wait()  # another thread is resetting the board: this one waits for its end
        self.interrupts.stop_for_reset()
        self.receiver.park(1.0)  # what the host sends from now on is for the next boot
        try:
            super().reboot(cause, wake_reason, why)
        except OSError as err:
            what = why or "reset"
            self.fail(f"the hard reset ({what}) could not re-execute the board's process: {_describe(err)}")

    def before_exec(self) -> None:
        """What the host sent and nobody read yet goes to the next boot, up to the UART's receive buffer
        (:data:`~.uart.RX_BUFFER`): a host that sends its next command while the board resets (mpremote
        after `reset`) is not left waiting for an answer."""
        carry_over(self.uart_in.take())

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
        lost = self.receiver.boot(carried_over())
        if lost:
            print(
                f"firmware-sim: {lost} bytes the host sent while the board was resetting were lost (the "
                f"UART's receive buffer holds {RX_BUFFER})",
                file=self.host_stderr,
                flush=True,
            )
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
        self.globals = self.loader.main_globals()
        self.interrupt_char = CTRL_C
        self.reset_char = CTRL_F

    def _boot_scripts(self, run_main: bool) -> bool:
        """Run boot.py, then (``run_main``) main.py; True when one of them asked for a soft reset."""
        for name, display in self.boot_scripts(run_main):
            self.globals["__file__"] = display  # as pyexec_file stores it
            compile_script = partial(self.loader.compile, name, display)
            error, system_exit = self._run(compile_script, main=name != "boot.py")
            if system_exit:
                return True
            if error:
                self.out.send(error)
        return False

    def _execute(self, action: Execute) -> tuple[bytes, bool]:
        def make_code() -> CodeType:
            syntax.check_typed(action.source)  # what the board's compiler refuses, first
            return compile(action.source, "<stdin>", action.mode, dont_inherit=True)

        return self._run(make_code)

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

    def input_failed(self, exc: BaseException) -> NoReturn:
        """The UART's receive thread failed: nothing the host sends would reach the board any more."""
        self.fail(f"the board's UART receive thread failed: {_describe(exc)}", exc)

    def fail(self, message: str, exc: BaseException | None = None) -> NoReturn:
        """The board cannot go on: say so on the relay's stderr (with the traceback of ``exc``) and end
        the process with :data:`~.launch.EXIT_FAILED`, from any thread; the relay starts it again."""
        import traceback

        try:
            if exc is not None:
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=self.host_stderr)
            print(
                f"firmware-sim: error: {message}; the board's process ends (its relay starts it again)",
                file=self.host_stderr,
                flush=True,
            )
        finally:
            os._exit(EXIT_FAILED)

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


def _describe(exc: BaseException) -> str:
    """``OSError: [Errno 7] Argument list too long (E2BIG)``: an exception in one line."""
    import errno

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and exc.errno in errno.errorcode:
        text += f" ({errno.errorcode[exc.errno]})"
    return text


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
    board = VirtualBoard(state, VirtualOptions.from_env(), host_stderr=host_stderr)
    signal.signal(signal.SIGTERM, board.on_sigterm)
    die_with_parent(relay_pid())  # SIGTERM when the relay dies, however it dies (Linux)
    sys.stdout = board.out
    sys.stderr = SplitStderr(board.out, host_stderr)
    sys.stdin = UartStdin(board.uart_in)
    sys.displayhook = _display(board.out)
    threading.excepthook = lambda args: _host_excepthook(args, host_stderr)
    try:
        board.serve()
    except BaseException as exc:  # noqa: BLE001 - never end without a word: the relay starts it again
        board.fail(f"the board's main loop failed: {_describe(exc)}", exc)
    finally:
        host_stderr.flush()
        os._exit(EXIT_FAILED)


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
