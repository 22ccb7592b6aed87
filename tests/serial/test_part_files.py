"""Stale upload parts (issue 8): a put that is killed mid-transfer leaves ``NAME.fsim-part`` on the flash;
``ls`` never shows such a file and the next ``put`` or ``deploy`` into that folder removes it.

Every wait is bounded; everything is loopback; flashes are tmp_path folders, ports ephemeral.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware_sim.serial.files import TEMP_SUFFIX
from firmware_sim.serial.onboard import PRELUDE
from firmware_sim.testing import VirtualBoardProcess

ROOT = Path(__file__).resolve().parents[2]
RUNNER = [sys.executable, "-m", "firmware_sim.serial"]


def runner(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The runner's command line as a user runs it; stdout/stderr as text."""
    return subprocess.run([*RUNNER, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def start_board(flash: Path) -> VirtualBoardProcess:
    return VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flash, cwd=ROOT)


def leave_a_part_file(flash: Path, tmp_path: Path) -> Path:
    """Start a put of a big file and kill the board mid-transfer (the port disappears): the part file
    stays on the flash, as in the killed put of test_serial_runner's test_board_fails_mid_transfer."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(600_000))
    part = flash / ("big.bin" + TEMP_SUFFIX)
    board = start_board(flash)
    put = subprocess.Popen(
        [*RUNNER, "put", "--port", board.port, "--reply-timeout", "2", str(big), "/flash/big.bin"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        end = time.monotonic() + 20
        while not (part.exists() and part.stat().st_size > 4096):
            assert time.monotonic() < end, "the transfer never started"
            time.sleep(0.005)
        board.kill()
        _, err = put.communicate(timeout=20)
    finally:
        if put.poll() is None:
            put.kill()
            put.wait(10)
        board.stop()
    assert put.returncode == 1 and b"disappeared" in err, err
    assert part.exists() and not (flash / "big.bin").exists()
    return part


@pytest.mark.process
def test_ls_hides_a_stale_part_file_and_the_next_put_removes_it(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    part = leave_a_part_file(flash, tmp_path)
    board = start_board(flash)
    try:
        listing = runner("ls", "--port", board.port, "/flash")
        assert listing.returncode == 0, listing.stderr
        assert "main.py" in listing.stdout and TEMP_SUFFIX not in listing.stdout, listing.stdout
        assert part.exists()  # ls only hides it

        small = tmp_path / "small.txt"
        small.write_text("hello\n")
        done = runner("put", "--port", board.port, str(small), "/flash/small.txt")
        assert done.returncode == 0, done.stderr
        assert (flash / "small.txt").read_text() == "hello\n"
        assert not part.exists(), "the next put left the stale part file"
    finally:
        board.stop()


@pytest.mark.process
def test_deploy_removes_stale_part_files_in_the_folders_it_writes(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    (flash / "lib").mkdir(parents=True)
    # parts of files this deploy does not send (a part of a file it sends would be overwritten anyway)
    stale = [flash / ("old.py" + TEMP_SUFFIX), flash / "lib" / ("gone.py" + TEMP_SUFFIX)]
    for path in stale:
        path.write_bytes(b"half a fi")
    elsewhere = flash / "data" / ("log.txt" + TEMP_SUFFIX)  # a folder deploy does not write to: kept
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"x")
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "main.py").write_text("print('main')\n")
    (project / "lib" / "util.py").write_text("X = 1\n")
    board = start_board(flash)
    try:
        done = runner("deploy", "--port", board.port, "--no-reset", str(project))
        assert done.returncode == 0, done.stderr
        assert (flash / "lib" / "util.py").read_text() == "X = 1\n"
        assert not any(path.exists() for path in stale), [p.name for p in stale if p.exists()]
        assert elsewhere.exists()
        walk = runner("get", "--port", board.port, "/flash/data", str(tmp_path / "back"))
        assert walk.returncode == 0, walk.stderr
        assert not (tmp_path / "back" / ("log.txt" + TEMP_SUFFIX)).exists()  # a folder's get skips parts
    finally:
        board.stop()


@pytest.mark.unit
def test_the_helpers_use_the_runners_part_suffix() -> None:
    assert repr(TEMP_SUFFIX) in PRELUDE
