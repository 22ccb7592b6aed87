"""Unmodified mpremote against the virtual board, over a pty and over ``socket://``, with raw-paste on
(``--raw-paste``, newer MicroPython) and off (Pycom 1.20: mpremote falls back to the standard raw REPL).

Every mpremote run is a subprocess bounded by a timeout: mpremote 1.29 blocks for ever on a silent pty.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import ROOT, need
from test_virtual_board import VirtualBoardProcess

try:
    import mpremote  # noqa: F401

    HAVE_MPREMOTE = True
except ImportError:
    HAVE_MPREMOTE = False

MPREMOTE_TIMEOUT = 30


class VirtualBoardWithMpremote:
    """A virtual board and mpremote pointed at it."""

    def __init__(self, process: VirtualBoardProcess, flash: Path, workdir: Path) -> None:
        self.process = process
        self.device = process.device
        self.flash = flash
        self.workdir = workdir

    def mpremote(self, *args: str, timeout: float = MPREMOTE_TIMEOUT) -> subprocess.CompletedProcess:
        """``mpremote connect DEVICE ARGS...``, run in a scratch folder."""
        try:
            return subprocess.run(
                [sys.executable, "-m", "mpremote", "connect", self.device, *args],
                cwd=self.workdir,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        except subprocess.TimeoutExpired as err:
            raise AssertionError(
                f"mpremote {' '.join(args)} hung for {timeout} s; output so far: {err.stdout!r} "
                f"{err.stderr!r}; board: {self.process.stderr}\nline:\n{self.process.traffic()}"
            ) from None

    def ok(self, *args: str) -> str:
        """mpremote's stdout, after checking it succeeded."""
        done = self.mpremote(*args)
        status = f"mpremote {args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert done.returncode == 0, f"{status}\nline:\n{self.process.traffic()}"
        return done.stdout


@pytest.fixture(
    params=[
        pytest.param(("pty", False), id="pty-pycom"),
        pytest.param(("pty", True), id="pty-raw-paste"),
        pytest.param(("socket", False), id="socket-pycom"),
        pytest.param(("socket", True), id="socket-raw-paste"),
    ]
)
def board(request, tmp_path: Path) -> Iterator[VirtualBoardWithMpremote]:
    if not HAVE_MPREMOTE:
        need(False, "mpremote", "pip install -e '.[test]'")
    transport, raw_paste = request.param
    args = ["--socket", "127.0.0.1:0"] if transport == "socket" else []
    if raw_paste:
        args.append("--raw-paste")
    flash = tmp_path / "flash"
    workdir = tmp_path / "host"
    workdir.mkdir()
    process = VirtualBoardProcess(*args, flash=flash, log=tmp_path / "serial.log")
    try:
        yield VirtualBoardWithMpremote(process, flash, workdir)
    finally:
        process.stop()


def test_exec_and_fs_ls(board: VirtualBoardWithMpremote) -> None:
    assert board.ok("exec", "print(1+1)") == "2\n"
    listing = board.ok("fs", "ls")
    assert listing.splitlines()[0] == "ls :"
    names = {line.split()[-1] for line in listing.splitlines()[1:]}
    assert names == {"boot.py", "main.py", "cert/", "lib/", "sys/"}
    assert (
        board.ok("exec", "import os; print(os.uname().sysname)", "+", "fs", "ls", ":lib")
        == "LoPy4\nls :lib\n"
    )


def test_fs_cp_both_ways_cat_and_rm(board: VirtualBoardWithMpremote) -> None:
    source = board.workdir / "main_local.py"
    source.write_text("import sys\nprint('hello from main', sys.platform)\n" + "# padding\n" * 60)
    assert board.ok("fs", "cp", "main_local.py", ":main.py") == "cp main_local.py :main.py\n"
    assert (board.flash / "main.py").read_bytes() == source.read_bytes()
    assert "Up to date: main.py" in board.ok("fs", "cp", "main_local.py", ":main.py")  # sha256 on the board
    assert board.ok("fs", "cat", ":main.py") == source.read_text()
    board.ok("fs", "cp", ":main.py", "back.py")
    assert (board.workdir / "back.py").read_bytes() == source.read_bytes()
    blob = bytes(range(256)) * 5
    (board.workdir / "blob.bin").write_bytes(blob)
    board.ok("fs", "mkdir", ":data", "+", "fs", "cp", "blob.bin", ":data/blob.bin")
    assert (board.flash / "data" / "blob.bin").read_bytes() == blob
    board.ok("fs", "cp", ":data/blob.bin", "blob_back.bin")
    assert (board.workdir / "blob_back.bin").read_bytes() == blob
    assert board.ok("fs", "rm", ":main.py") == "rm :main.py\n"
    assert not (board.flash / "main.py").exists()
    missing = board.mpremote("fs", "rm", ":main.py")
    assert missing.returncode == 1 and "No such file or directory" in missing.stdout + missing.stderr
    assert (board.flash / "boot.py").exists()  # the rest is untouched


def test_run_streams_a_local_script(board: VirtualBoardWithMpremote) -> None:
    script = board.workdir / "script.py"
    body = "".join(f"print('line', {i}, {'x' * 40!r})\n" for i in range(60))  # several raw-paste windows
    script.write_text("import sys\n" + body + "print(sys.platform)\n")
    out = board.ok("run", "script.py")
    lines = out.splitlines()
    assert lines[0] == "line 0 " + "x" * 40 and lines[59].startswith("line 59 ") and lines[60] == "LoPy4"
    assert not (board.flash / "script.py").exists()  # run does not copy the file


def test_soft_reset_and_resume(board: VirtualBoardWithMpremote) -> None:
    board.ok("exec", "x = 5")
    assert board.ok("resume", "exec", "print(x)") == "5\n"  # no soft reset: the globals are still there
    assert board.ok("exec", "x = 6", "+", "exec", "print(x + 1)") == "7\n"  # globals kept between execs
    board.ok("soft-reset")
    after = board.mpremote("resume", "exec", "print(x)")
    assert after.returncode == 1 and "NameError: name 'x' isn't defined" in after.stdout
    again = board.mpremote("exec", "x = 1")
    assert again.returncode == 0
    plain = board.mpremote("exec", "print(x)")  # the first exec of a connection soft-resets
    assert plain.returncode == 1 and "NameError" in plain.stdout


def test_remote_exception_exit_status(board: VirtualBoardWithMpremote) -> None:
    done = board.mpremote("exec", "import os\nos.stat('nope.py')")
    assert done.returncode == 1
    assert done.stdout.endswith('  File "<stdin>", line 2, in <module>\nOSError: [Errno 2] ENOENT\n')


def wait_for_file(path: Path, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.02)
    assert path.exists(), f"{path.name} did not appear within {timeout} s"


def test_reset_reboots_and_the_port_keeps_working(board: VirtualBoardWithMpremote) -> None:
    (board.flash / "main.py").write_text("open('booted', 'w').close()\n")
    assert board.mpremote("reset").returncode == 0
    # mpremote's reset sleeps 100 ms on the board before machine.reset(): the next command's Ctrl-C
    # must not come earlier (it would interrupt the sleep, on a real board too)
    wait_for_file(board.flash / "booted")
    out = board.ok("exec", "import machine; print(machine.reset_cause() == machine.HARD_RESET)")
    # the docs profile's firmware-difference warning comes first (it reaches mpremote's user too)
    assert out.splitlines()[-1] == "True" and "firmware-sim: warning: reset_cause()" in out


def test_a_command_right_after_reset_is_not_lost(board: VirtualBoardWithMpremote) -> None:
    """What the host sends while the board resets is kept for the new boot; a Ctrl-C among it stops
    main.py: mpremote never waits for ever on a board that loops."""
    (board.flash / "main.py").write_text("import time\nwhile True:\n    time.sleep(0.05)\n")
    for _ in range(3):
        board.ok("reset")
        assert board.ok("exec", "print('got in')") == "got in\n"  # no pause: sent while it resets


def test_a_looping_main_py_is_stopped_by_ctrl_c(board: VirtualBoardWithMpremote) -> None:
    (board.flash / "main.py").write_text(
        "import time\nopen('looping', 'w').close()\nwhile True:\n    time.sleep(0.05)\n"
    )
    board.ok("reset")  # reboots into the loop
    wait_for_file(board.flash / "looping")
    assert board.ok("exec", "print('got in')") == "got in\n"


def test_a_board_that_boots_into_a_loop_is_reachable_at_once(tmp_path: Path) -> None:
    """The relay prints the port once main.py runs: mpremote connecting at once stops the loop."""
    if not HAVE_MPREMOTE:
        need(False, "mpremote", "pip install -e '.[test]'")
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text("import time\nwhile True:\n    time.sleep(0.05)\n")
    process = VirtualBoardProcess(flash=flash)
    try:
        board = VirtualBoardWithMpremote(process, flash, tmp_path)
        assert board.ok("exec", "print('got in')") == "got in\n"
    finally:
        process.stop()


def test_raw_paste_is_used_only_when_the_board_offers_it(board: VirtualBoardWithMpremote) -> None:
    probe = (
        "import sys\n"
        "from mpremote.transport_serial import SerialTransport\n"
        "t = SerialTransport(sys.argv[1])\n"
        "t.enter_raw_repl()\n"
        "out = t.exec('print(6*7)')\n"
        "t.exit_raw_repl()\n"
        "t.close()\n"
        "print(out, t.use_raw_paste)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, board.device],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=MPREMOTE_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    expected = "--raw-paste" in board.process.proc.args
    assert done.stdout == f"b'42\\r\\n' {expected}\n"


def test_mpremote_is_a_recent_one() -> None:
    """The spec's probe used mpremote 1.20-1.29; this suite is checked against what is installed."""
    if not HAVE_MPREMOTE:
        need(False, "mpremote", "pip install -e '.[test]'")
    major, minor = (int(part) for part in version("mpremote").split(".")[:2])
    assert (major, minor) >= (1, 20)
