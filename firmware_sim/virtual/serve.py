"""Serving a virtual board: :func:`serve_board` opens the port, starts the board's process
(:mod:`firmware_sim.virtual.process`) with its UART on pipes, prints the port once the board is up, and
relays (:mod:`firmware_sim.virtual.relay`) until it is told to stop.

When the board's process ends by itself (it failed and said so, or was killed), the relay says so and
starts a new one on the same port, as a power-on reset, unless that happened :data:`RESTART_LIMIT` times
within :data:`RESTART_WINDOW` seconds. Whatever ends the relay (SIGTERM, SIGINT, SIGHUP, its parent
process going away, an exception, a board that keeps ending) it stops the board's process and removes a
temporary flash. The board's process in turn ends with the relay, even when the relay is killed (see
:mod:`firmware_sim.virtual.process`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

from ..report import print_error
from ..runtime.kinds import KINDS
from ..runtime.state import ENV_STATE, PWRON_RESET, PWRON_WAKE, BoardState
from .devices import Device, PtyDevice, SocketDevice
from .launch import ENV_READY_FD, ENV_RELAY_PID, ENV_VIRTUAL, VirtualOptions, board_command
from .relay import READY_TIMEOUT, Relay

DEFAULT_BOOT = b"# boot.py -- run on boot-up\r\n"  # what Pycom firmware writes on a freshly formatted flash
DEFAULT_MAIN = b"# main.py -- put your code here!\r\n"
ENV_LOG = "FIRMWARE_SIM_SERIAL_LOG"  # default log_path: a file to log the line's traffic to
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
END_GRACE = 3.0  # seconds the board's process has to end after SIGTERM before SIGKILL
RESTART_LIMIT = 5  # a board process that ended this many times ...
RESTART_WINDOW = 60.0  # ... within this many seconds is not started again: the relay ends


def serve_board(
    state: BoardState,
    *,
    socket_address: tuple[str, int] | None,
    raw_paste: bool,
    log_path: str | None = None,
) -> int:
    """Serve the board ``state`` describes (its flash folder exists) on a new pseudo-terminal, or on the
    loopback TCP ``socket_address`` (port 0: a free one), until stopped; the exit status.

    An empty flash gets Pycom's default boot.py and main.py. Once the board is up, the port
    (``/dev/pts/N`` or ``socket://HOST:PORT``) is the first line on stdout and a summary goes to stderr.
    ``raw_paste``: answer raw-paste as newer MicroPython does. ``log_path`` (default
    ``$FIRMWARE_SIM_SERIAL_LOG``): a file that gets the line's traffic.

    It stops (status 0) on SIGTERM, SIGINT or SIGHUP (when called in the main thread) and when its
    parent process goes away (unless started with SIGHUP ignored, as ``nohup`` does). A board process
    that ends by itself is started again (a power-on reset, said on stderr) on the same port; after
    :data:`RESTART_LIMIT` ends within :data:`RESTART_WINDOW` s it returns that process's status (at
    least 1). It returns 2 if the port cannot be opened (said on stderr). However it ends, the board's
    process is stopped and a temporary flash (``state.flash_is_temporary``) removed.
    """
    stop = _StopRequest()
    try:
        with _stop_signals(stop):
            return _serve(state, socket_address, raw_paste, log_path or os.environ.get(ENV_LOG), stop)
    finally:
        if state.flash_is_temporary:
            shutil.rmtree(state.flash, ignore_errors=True)


def format_flash(flash: Path) -> None:
    """A flash folder with nothing in it gets the files Pycom firmware creates when it formats one."""
    flash.mkdir(parents=True, exist_ok=True)
    if not any(flash.iterdir()):
        (flash / "boot.py").write_bytes(DEFAULT_BOOT)
        (flash / "main.py").write_bytes(DEFAULT_MAIN)


class _StopRequest:
    """Why the relay should stop: a stop signal came, or the parent process that started it is gone."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.parent: int | None = os.getppid()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum

    def __call__(self) -> bool:
        return self.signal is not None or (self.parent is not None and os.getppid() != self.parent)


@contextlib.contextmanager
def _stop_signals(stop: _StopRequest) -> Iterator[None]:
    """Within the block, the stop signals set ``stop`` (so the relay ends and cleans up). A SIGHUP that
    was ignored (``nohup``) stays ignored, and then the board also outlives its parent."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread: the caller stops us
        return
    signals = list(STOP_SIGNALS)
    if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
        signals.remove(signal.SIGHUP)
        stop.parent = None
    previous = {sig: signal.signal(sig, stop.on_signal) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(
    state: BoardState,
    socket_address: tuple[str, int] | None,
    raw_paste: bool,
    log_path: str | None,
    stop: _StopRequest,
) -> int:
    format_flash(Path(state.flash))
    try:
        device: Device = SocketDevice(*socket_address) if socket_address else PtyDevice()
    except OSError as err:
        where = "a pseudo-terminal" if socket_address is None else f"{socket_address[0]}:{socket_address[1]}"
        print_error(f"cannot open the board's port on {where}: {err}")
        return 2
    with contextlib.ExitStack() as stack:
        stack.callback(device.close)
        log: TextIO | None = None
        if log_path:
            log = stack.enter_context(open(log_path, "a", buffering=1))  # noqa: SIM115
        ready_r, child = _start_board(state, raw_paste)
        stack.callback(_end, child)
        assert ready_r is not None
        summary = (
            f"virtual {KINDS[state.kind].platform} on {device.name}, address {state.ip}, firmware "
            f"{state.firmware}{', raw-paste' if raw_paste else ''}, /flash in {state.flash}"
        )

        def announce(up: bool) -> None:
            print(device.name, flush=True)  # the first line: the port, once the board is up
            if not up:
                print(
                    f"firmware-sim: warning: the board is not up after {READY_TIMEOUT:.0f} s (long boot.py?)",
                    file=sys.stderr,
                    flush=True,
                )
            print(f"firmware-sim: {summary}", file=sys.stderr, flush=True)

        relay = Relay(device, child, ready_r, announce, log)
        stack.callback(relay.close)
        power_on = dataclasses.replace(state, reset_cause=PWRON_RESET, wake_reason=PWRON_WAKE, resets=[])
        ended: list[float] = []
        while True:
            status = relay.run(stop)
            if status == 0 or stop():
                return 0
            now = time.monotonic()
            ended = [t for t in ended if now - t < RESTART_WINDOW] + [now]
            how = _how_it_ended(relay.child.returncode)
            if len(ended) >= RESTART_LIMIT:
                print(
                    f"firmware-sim: error: the virtual board's process {how}; it ended {len(ended)} times "
                    f"within {RESTART_WINDOW:.0f} s, so it is not started again",
                    file=sys.stderr,
                    flush=True,
                )
                return status
            print(
                f"firmware-sim: the virtual board's process {how}; starting it again on {device.name} "
                "(a power-on reset)",
                file=sys.stderr,
                flush=True,
            )
            _, child = _start_board(power_on, raw_paste, ready=False)
            stack.callback(_end, child)
            relay.replace_child(child)


def _how_it_ended(returncode: int | None) -> str:
    """``ended (status 70)``, ``was killed (SIGKILL)``."""
    if returncode is not None and returncode < 0:
        try:
            return f"was killed ({signal.Signals(-returncode).name})"
        except ValueError:
            return f"was killed (signal {-returncode})"
    return f"ended (status {returncode})"


def _start_board(
    state: BoardState, raw_paste: bool, ready: bool = True
) -> tuple[int | None, subprocess.Popen]:
    """Start the board's process; (the read end of its "board is up" pipe if ``ready``, the process)."""
    env = dict(os.environ)
    env[ENV_STATE] = state.to_env()
    env[ENV_VIRTUAL] = VirtualOptions(raw_paste=raw_paste).to_env()
    env[ENV_RELAY_PID] = str(os.getpid())
    env.pop(ENV_READY_FD, None)
    ready_r: int | None = None
    ready_w: int | None = None
    if ready:
        ready_r, ready_w = os.pipe()
        env[ENV_READY_FD] = str(ready_w)
    try:
        child = subprocess.Popen(
            board_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            pass_fds=() if ready_w is None else (ready_w,),
            start_new_session=True,  # a Ctrl-C in the terminal stops the relay, not the board's code
            bufsize=0,
        )
    except BaseException:
        if ready_r is not None:
            os.close(ready_r)
        raise
    finally:
        if ready_w is not None:
            os.close(ready_w)
    return ready_r, child


def _end(child: subprocess.Popen) -> None:
    """Stop the board's process (SIGTERM, then SIGKILL after :data:`END_GRACE`) and close its pipes."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(END_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(END_GRACE)
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
