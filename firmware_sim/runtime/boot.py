"""Boot a simulated board in this process: ``boot.py`` then ``main.py`` from its flash, as the firmware.

A reset re-executes the process (``python -m firmware_sim.runtime.boot``) with the board's state in
the environment, so every boot starts with fresh module state while the flash, nvs, the RTC and the
``--timeout`` deadline carry over. After ``main.py`` returns, the board keeps running while the
script's threads run, until Ctrl-C or the deadline. An uncaught exception in ``boot.py`` prints its
traceback and main.py still runs, as the firmware does (``esp32/mptask.c``). Exit status: 0 when the
board was still running without error at the deadline (or stopped by itself), 1 after an uncaught
exception in main.py (at once) or in boot.py (once the board stops: it ran on, but a boot that printed a
traceback is no clean run), or a reboot loop.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from .board import Board
from .state import SOFT_RESET, BoardState
from .traceback import format_exception

_ANNOUNCE_AFTER = 0.5  # threads that end sooner are not worth a line


class RunBoard(Board):
    """A board under ``firmware-sim run``: boot.py, main.py, then on while the script's threads run."""

    def __init__(self, state: BoardState) -> None:
        super().__init__(state)
        self._interrupts = 0
        # terminated (by `firmware-sim up`, a test, the system) or its terminal closed: end like
        # --timeout, cleaning up (a SIGHUP ignored under nohup stays ignored)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) != signal.SIG_IGN:
                signal.signal(signum, lambda signum, frame: self.stop(128 + signum))

    def run(self) -> int:
        self.attach()
        self._arm_deadline()
        signal.signal(signal.SIGINT, self._on_sigint)
        failed = False
        for name, display in self.boot_scripts():
            try:
                self.loader.run(name, display)
            except SystemExit:
                self.reboot(SOFT_RESET, why="sys.exit() soft reset")
            except BaseException as exc:
                sys.stdout.flush()
                sys.stderr.write(format_exception(exc, self.loader.files))
                if name != "boot.py":
                    return 1
                failed = True  # the firmware prints it and goes on to main.py (esp32/mptask.c:305-315)
        self._keep_running()
        return 1 if failed else 0

    def _keep_running(self) -> None:
        """After main.py: the board runs on while the script's threads, timers and callbacks do (as a
        board after main.py), and says so once, so a run that does not end is never a silent wait."""
        mine = {threading.main_thread().ident} | self.own_threads
        grace = time.monotonic() + _ANNOUNCE_AFTER
        announced = False
        while True:
            others = any(ident not in mine for ident in sys._current_frames())
            if not others:
                return  # a script's thread is running once start_new_thread returns: nothing to wait for
            if not announced and time.monotonic() > grace:
                announced = True
                print(
                    f"firmware-sim: {self.state.display_name} has finished; its threads, timers and "
                    "callbacks keep the board running as on the board (Ctrl-C or --timeout stops it)",
                    file=sys.stderr,
                    flush=True,
                )
            time.sleep(0.01)

    def _arm_deadline(self) -> None:
        deadline = self.state.deadline
        if deadline is None:
            return
        delay = max(deadline - time.monotonic(), 0.0)
        timer = threading.Timer(delay, self.stop, args=(0,))
        timer.daemon = True
        timer.start()
        self.own_threads.add(timer.ident)

    def _on_sigint(self, signum, frame) -> None:
        """First Ctrl-C: KeyboardInterrupt in the script, as on the board. Second: stop the simulator."""
        self._interrupts += 1
        if self._interrupts > 1:
            self.stop(130, "firmware-sim: stopped (second Ctrl-C)")
        if self.interrupt_char != -1:
            raise KeyboardInterrupt


def boot(state: BoardState, make_board: Callable[[BoardState], RunBoard] = RunBoard) -> NoReturn:
    """Run the board until it stops, then end the process with its exit status. The board's threads
    end with it, and no interpreter shutdown runs (nothing may wait on them or change the status).
    ``make_board``: another ``RunBoard`` (``run --expect-text`` watches its output)."""
    board = make_board(state)
    try:
        status = board.run()
    except BaseException:
        status = 1
        raise
    finally:
        board.stop(status)


def main() -> None:
    state = BoardState.from_env()
    if state is None:
        sys.exit("firmware-sim: this module boots a board prepared by `firmware-sim run`; use that command")
    boot(state)


if __name__ == "__main__":
    main()
