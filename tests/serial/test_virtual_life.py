"""The virtual board's life: however ``firmware-sim board`` ends (SIGTERM, SIGINT, SIGHUP, SIGKILL, its
parent dying, an exception in the relay) the board's process ends too and a temporary flash is removed.

Each test starts the real command (or :func:`firmware_sim.virtual.serve_board` in a small driver), finds
the board's process as the relay's child in /proc, ends the relay one way, and waits a bounded time."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Process

from firmware_sim.testing import alive, children_of
from firmware_sim.testing import eventually as eventually_within

pytestmark = pytest.mark.process

STARTUP = 30.0  # seconds for the board to come up
GONE = 15.0  # seconds for a process (and its flash) to go once told


def eventually(predicate: Callable[[], bool], timeout: float = GONE) -> bool:
    return eventually_within(predicate, timeout)


class Served:
    """A virtual board seen from outside: the relay's pid, the board process's pid, its flash folder."""

    def __init__(self, process: Process, relay: int) -> None:
        self.process = process
        self.relay = relay
        assert process.wait_for(lambda out: "/flash in " in out, STARTUP), process.output
        found = re.search(r"/flash in (\S+)", process.output)
        assert found, process.output
        self.flash = Path(found.group(1))
        assert self.flash.is_dir()
        children = children_of(relay)
        assert len(children) == 1, (children, process.output)
        self.board = children[0]

    def assert_all_gone(self) -> None:
        output = self.process.output
        assert eventually(lambda: not alive(self.relay)), f"the relay still runs\n{output}"
        assert eventually(lambda: not alive(self.board)), f"the board process still runs\n{output}"
        assert eventually(lambda: not self.flash.exists()), f"{self.flash} is left\n{output}"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "firmware_sim", "board", *args]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_ends_the_board_and_removes_its_flash(spawn, sig: signal.Signals) -> None:
    process = spawn(command())
    served = Served(process, process.proc.pid)
    process.proc.send_signal(sig)
    assert process.proc.wait(GONE) == 0, process.output
    served.assert_all_gone()


def test_the_board_ends_when_its_relay_is_killed(spawn) -> None:
    """SIGKILL: the relay cannot clean up; the board's process sees it go and removes the flash itself."""
    process = spawn(command("--socket", "127.0.0.1:0"))
    served = Served(process, process.proc.pid)
    process.proc.kill()
    process.proc.wait(GONE)
    served.assert_all_gone()


PARENT = """\
import subprocess, sys
relay = subprocess.Popen([sys.executable, "-m", "firmware_sim", "board"])
print("relay", relay.pid, flush=True)
relay.wait()
"""


def test_the_board_ends_when_the_relays_parent_dies(spawn) -> None:
    parent = spawn([sys.executable, "-c", PARENT])
    assert parent.wait_for(lambda out: re.search(r"relay \d+", out) is not None, STARTUP), parent.output
    relay = int(re.search(r"relay (\d+)", parent.output).group(1))  # type: ignore[union-attr]
    served = Served(parent, relay)
    parent.proc.kill()
    parent.proc.wait(GONE)
    served.assert_all_gone()


DRIVER = """\
import signal, sys, tempfile
from firmware_sim.runtime.state import BoardState
from firmware_sim.virtual import serve_board
from network import host

def fail(signum, frame):
    raise RuntimeError("a failure inside the relay")

signal.signal(signal.SIGUSR1, fail)
flash = tempfile.mkdtemp(prefix="firmware-sim-flash-")
state = BoardState(kind="lopy4", flash=flash, ip=host.free_address(), flash_is_temporary=True)
sys.exit(serve_board(state, socket_address=None, raw_paste=False))
"""


def test_an_exception_in_the_relay_ends_the_board_and_removes_its_flash(spawn) -> None:
    process = spawn([sys.executable, "-c", DRIVER])
    served = Served(process, process.proc.pid)
    process.proc.send_signal(signal.SIGUSR1)
    assert process.proc.wait(GONE) == 1, process.output
    served.assert_all_gone()
    assert "RuntimeError: a failure inside the relay" in process.output


def test_nohup_keeps_the_board_when_its_parent_goes(spawn) -> None:
    """A relay started with SIGHUP ignored (``nohup``) outlives its parent; SIGTERM still ends it."""
    parent = spawn(
        [sys.executable, "-c", "import signal; signal.signal(signal.SIGHUP, signal.SIG_IGN)\n" + PARENT]
    )
    assert parent.wait_for(lambda out: re.search(r"relay \d+", out) is not None, STARTUP), parent.output
    relay = int(re.search(r"relay (\d+)", parent.output).group(1))  # type: ignore[union-attr]
    served = Served(parent, relay)
    parent.proc.kill()
    parent.proc.wait(GONE)
    try:
        time.sleep(1.0)  # the relay looks at its parent every 0.2 s
        assert alive(relay) and alive(served.board) and served.flash.is_dir(), parent.output
    finally:
        os.kill(relay, signal.SIGTERM)
    served.assert_all_gone()
