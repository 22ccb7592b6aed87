"""Boot a simulated board in this process: ``boot.py`` then ``main.py`` from its flash, as the firmware.

A reset re-executes the process (``python -m firmware_sim.runtime.boot``) with the board's state in
the environment, so every boot starts with fresh module state while the flash, nvs, the RTC and the
``--timeout`` deadline carry over. After ``main.py`` returns, the board keeps running while the
script's threads run, until Ctrl-C or the deadline. Exit status: 0 when the board was still running
without error at the deadline (or stopped by itself), 1 after an uncaught exception or a reboot loop.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from typing import NoReturn

import network.board
import network.lte
from network import profile as profiles

from ..boards import KINDS, BoardKind
from . import set_current
from .clock import Clock
from .flash import Flash
from .loader import Loader
from .state import SOFT_RESET, BoardState
from .traceback import format_exception

REBOOT_LOOP_COUNT = 10  # resets ...
REBOOT_LOOP_WINDOW = 10.0  # ... within this many host seconds: a reboot loop
_THREAD_START_GRACE = 0.5


class Board:
    """The running board: its state, clock, flash and loader."""

    def __init__(self, state: BoardState) -> None:
        self.state = state
        self.kind: BoardKind = KINDS[state.kind]
        self.clock = Clock(state.time_scale, state.rtc_offset)
        self.flash = Flash(state.flash)
        self.loader = Loader(self.flash)
        self._interrupts = 0
        self.own_threads: set[int] = set()  # the simulator's threads: not the script's, never keep it up
        self.main_file: str | None = None  # machine.main('other.py') chooses the script after boot.py
        self.interrupt_char = 3  # micropython.kbd_intr(-1) turns Ctrl-C off

    # -- resets ------------------------------------------------------------------------------------

    def reboot(self, cause: int, wake_reason: int = 0, why: str = "") -> None:
        """Reset the board: re-execute this process with the state carried over. Never returns."""
        state = self.state
        now = time.monotonic()
        state.resets = [t for t in state.resets if now - t < REBOOT_LOOP_WINDOW] + [now]
        if len(state.resets) >= REBOOT_LOOP_COUNT and cause != 3:  # deep-sleep wake-ups are no loop
            self.stop(
                1,
                f"firmware-sim: reboot loop: the board reset {len(state.resets)} times in "
                f"{REBOOT_LOOP_WINDOW:.0f} s (last: {why or 'reset'}); stopping it. Make the script "
                "stop resetting, or bound the run with --timeout.",
            )
        state.reset_cause = cause
        state.wake_reason = wake_reason
        state.rtc_offset = self.clock.offset()
        os.environ["FIRMWARE_SIM_BOARD_STATE"] = state.to_env()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "firmware_sim.runtime.boot"])

    def stop(self, status: int, message: str = "") -> None:
        """End the simulation now, from any thread."""
        if message:
            print(message, file=sys.stderr)
        self.cleanup()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

    def cleanup(self) -> None:
        """Remove a temporary /flash (one given with --flash is kept)."""
        if self.state.flash_is_temporary:
            shutil.rmtree(self.state.flash, ignore_errors=True)

    # -- the boot sequence -------------------------------------------------------------------------

    def run(self) -> int:
        network.board.configure(ip=self.state.ip, mapping=self.state.mapping)
        network.board.set_time_scale(self.state.time_scale)
        network.lte.set_clock(self.clock.elapsed)
        profiles.activate(profiles.by_name(self.state.firmware))
        set_current(self)
        self._arm_deadline()
        signal.signal(signal.SIGINT, self._on_sigint)
        # terminated (by `firmware-sim up`, a test, the system): end like --timeout, cleaning up
        signal.signal(signal.SIGTERM, lambda signum, frame: self.stop(128 + signum))
        try:
            if self.flash.real("boot.py").is_file():
                self.loader.run("boot.py", "boot.py")
            main = self.main_file or self.state.main_name
            display = self.state.display_name if main == self.state.main_name else main
            if self.flash.real(main).is_file():
                self.loader.run(main, display)
        except SystemExit:
            self.reboot(SOFT_RESET, why="sys.exit() soft reset")
        except BaseException as exc:
            sys.stdout.flush()
            sys.stderr.write(format_exception(exc, self.loader.files))
            return 1
        self._keep_running()
        return 0

    def _keep_running(self) -> None:
        """After main.py: the board runs on while the script's threads do (as a board after main.py)."""
        mine = {threading.main_thread().ident} | self.own_threads
        grace = time.monotonic() + _THREAD_START_GRACE
        while True:
            others = any(ident not in mine for ident in sys._current_frames())
            if not others and time.monotonic() > grace:
                return
            time.sleep(0.05)

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


def boot(state: BoardState) -> NoReturn:
    """Run the board until it stops, then end the process with its exit status. The board's threads
    end with it, and no interpreter shutdown runs (nothing may wait on them or change the status)."""
    board = Board(state)
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
