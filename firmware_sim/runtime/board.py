"""The running board: one object that owns a simulated board's parts and its life.

It holds the board's state (what survives a reboot), its one clock, its flash and its import system,
and the parts the MicroPython modules keep for it (machine's pins and timers, pycom's LED and nvs, the
heap figures ...): a module asks ``board.part(Kind)`` for its part instead of keeping a registry of its
own, and registers what the hardware does at a reset with ``board.on_reset(hook)``.

Every reset goes through :meth:`Board.reboot` (``machine.reset()``, deep sleep, the watchdog, a safe
boot, ``sys.exit()`` under ``firmware-sim run``): the reset hooks run (the LED goes dark ...), the state
is saved in the environment and the process re-executes ``entry_module``, so every boot starts with
fresh module state while the flash, nvs, the RTC and the ``--timeout`` deadline carry over. A soft reset
that stays in the process (the virtual board's Ctrl-D) is :meth:`Board.new_session`.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import network.host
from network import profile as profiles

from .clock import Clock
from .flash import Flash
from .kinds import KINDS, BoardKind
from .loader import Loader
from .state import DEEPSLEEP_RESET, ENV_STATE, BoardState

REBOOT_LOOP_COUNT = 10  # resets ...
REBOOT_LOOP_WINDOW = 10.0  # ... within this many host seconds: a reboot loop

Part = TypeVar("Part")


class Session:
    """What a part made per session has: ``close()``, called at a soft reset (timers stop ...)."""

    def close(self) -> None:  # pragma: no cover - the protocol's default
        pass


class Board:
    """A simulated board running in this process (one per process; ``runtime.current()``)."""

    entry_module = "firmware_sim.runtime.boot"  # what a reboot re-executes
    stops_reboot_loops = True  # a real board resets for ever; `firmware-sim run` stops a loop

    def __init__(self, state: BoardState) -> None:
        self.state = state
        self.kind: BoardKind = KINDS[state.kind]
        self.clock = Clock(state.time_scale, state.rtc_offset)
        self.flash = Flash(state.flash)
        self.loader = Loader(self.flash)
        self.own_threads: set[int] = set()  # the simulator's threads: not the script's, never keep it up
        self.script_threads: set[int] = set()  # the script's _thread threads, ended at a soft reset
        self.main_file: str | None = None  # machine.main('other.py') chooses the script after boot.py
        self.interrupt_char = 3  # micropython.kbd_intr(-1) turns Ctrl-C off
        self.reset_char = 6  # Pycom's UART reset character, Ctrl-F (micropython.kbd_intr(c, reset_c))
        self._parts: dict[object, object] = {}
        self._session_parts: set[object] = set()
        self._parts_lock = threading.RLock()
        self._reset_hooks: list[Callable[[], None]] = []

    # -- parts -------------------------------------------------------------------------------------

    def part(self, kind: Callable[[Board], Part], *, per_session: bool = False) -> Part:
        """The board's one ``kind`` (made as ``kind(board)`` on first use). A part ``per_session`` is
        closed and forgotten at a soft reset (its ``close()``): the next session gets a new one."""
        with self._parts_lock:
            found = self._parts.get(kind)
            if found is None:
                found = self._parts[kind] = kind(self)
                if per_session:
                    self._session_parts.add(kind)
            return found  # type: ignore[return-value]

    def existing(self, kind: Callable[[Board], Part]) -> Part | None:
        """The board's ``kind`` if a module made one, else None (nothing is made)."""
        with self._parts_lock:
            return self._parts.get(kind)  # type: ignore[return-value]

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the board resets or goes to deep sleep (what the hardware does then)."""
        with self._parts_lock:
            self._reset_hooks.append(hook)

    def going_down(self) -> None:
        """The board is about to reset or sleep: run the reset hooks (each once)."""
        with self._parts_lock:
            hooks, self._reset_hooks = self._reset_hooks, []
        for hook in hooks:
            hook()

    def new_session(self) -> None:
        """A soft reset in this process: the script's threads end (``mp_thread_deinit``, esp32/mptask.c),
        parts made per session close; the network module forgets its servers and sessions; a fresh import
        system and working directory."""
        self.end_script_threads()
        with self._parts_lock:
            ended = [self._parts.pop(kind) for kind in self._session_parts if kind in self._parts]
            self._session_parts.clear()
        for part in ended:
            close = getattr(part, "close", None)
            if close is not None:
                close()
        coap = sys.modules.get("network.coap.api.module")  # a session that never used Coap: nothing to reset
        if coap is not None:
            coap.hard_reset()
        self.loader = Loader(self.flash)
        self.flash.cwd = "/flash"

    def end_script_threads(self) -> None:
        """Delete the script's threads as the firmware's soft reset does (vTaskDelete): SystemExit is raised
        in each at its next bytecode (its sleep is cut short so that comes now; one blocked in a socket
        call ends when that returns). Their sockets stay open, as lwIP's do on the board."""
        for ident in list(self.script_threads):
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(SystemExit))
        self.clock.wake_sleepers()

    # -- the boot sequence ------------------------------------------------------------------------------

    def boot_scripts(self, run_main: bool = True) -> Iterator[tuple[str, str]]:
        """The scripts a boot runs, as (board path, name tracebacks use): ``boot.py``, then (``run_main``)
        ``main.py`` or the file ``machine.main()`` chose, decided once boot.py has run, as the firmware
        does (``mptask.c``). A script missing from the flash is skipped."""
        yield from self._if_present("boot.py", "boot.py")
        if run_main:
            main = self.main_file or self.state.main_name
            display = self.state.display_name if main == self.state.main_name else main
            yield from self._if_present(main, display)

    def _if_present(self, name: str, display: str) -> Iterator[tuple[str, str]]:
        if self.flash.is_file(name):
            yield name, display

    # -- bringing the board up and down --------------------------------------------------------------

    def attach(self) -> None:
        """Make this the board of the process: the network module gets its address, map, clock and
        firmware profile from it."""
        from . import set_current

        network.host.configure(
            ip=self.state.ip, mapping=self.state.mapping, clock=self.clock.elapsed, scale=self.clock.scale
        )
        profiles.activate(profiles.by_name(self.state.firmware))
        set_current(self)

    def reboot(self, cause: int, wake_reason: int = 0, why: str = "") -> None:
        """Reset the board: run the reset hooks, keep the state, re-execute the process. Never returns."""
        state = self.state
        now = time.monotonic()
        state.resets = [t for t in state.resets if now - t < REBOOT_LOOP_WINDOW] + [now]
        loop = len(state.resets) >= REBOOT_LOOP_COUNT and cause != DEEPSLEEP_RESET  # wake-ups are no loop
        if loop and self.stops_reboot_loops:
            self.stop(
                1,
                f"firmware-sim: reboot loop: the board reset {len(state.resets)} times in "
                f"{REBOOT_LOOP_WINDOW:.0f} s (last: {why or 'reset'}); stopping it. Make the script "
                "stop resetting, or bound the run with --timeout.",
            )
        self.going_down()
        self.before_exec()
        state.reset_cause = cause
        state.wake_reason = wake_reason
        state.rtc_offset = self.clock.offset()
        os.environ[ENV_STATE] = state.to_env()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", self.entry_module])

    def before_exec(self) -> None:
        """Last thing before the process re-executes (a subclass keeps what must cross the reset)."""

    def stop(self, status: int, message: str = "") -> None:
        """End the simulation now, from any thread."""
        if message:
            print(message, file=sys.stderr)
        self.cleanup()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

    def cleanup(self) -> None:
        """Remove a temporary /flash (one given with --flash is kept). The board's threads still run
        meanwhile (the heartbeat may append to its timeline as the folder goes): try again while the
        folder is there, a few times."""
        if self.state.flash_is_temporary:
            for _ in range(5):
                shutil.rmtree(self.state.flash, ignore_errors=True)
                if not os.path.exists(self.state.flash):
                    break
