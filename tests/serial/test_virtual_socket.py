"""The virtual board on ``--socket``: as fast for mpremote as the pseudo-terminal, but for mpremote's own
polling.

mpremote sends a file as one raw-REPL command per 256 bytes, each written in small pieces. pyserial's
``socket://`` does not set TCP_NODELAY, so each piece waits for our ACK of the one before (Nagle), and a
delayed ACK made every command cost about 50 ms over the socket against under 1 ms over the pty. What
remains over a socket is mpremote's own wait: on a port that is not a pty it polls for the board's
answer every 10 ms (``read_until``), once per command; on a pty (mpremote >= 1.29) it blocks instead.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import need
from test_virtual_board import VirtualBoardProcess

from firmware_sim.virtual.devices import parse_socket_address

SIZE = 48 * 1024  # the issue measured 135 KB; a third shows the same per-command cost
CHUNK = 256  # mpremote's fs cp: one command per 256 bytes
MPREMOTE_POLL = 0.010  # mpremote's read_until sleeps this long when nothing has arrived (not on a pty)
PER_COMMAND_ALLOWANCE = 2.5 * MPREMOTE_POLL  # before the fix: about 50 ms per command


def _copy_time(device: str, source: Path, workdir: Path, timeout: float = 120.0) -> float:
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mpremote", "connect", device, "fs", "cp", str(source), ":copy.py"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"mpremote fs cp over {device} took over {timeout} s") from None
    elapsed = time.monotonic() - start
    assert done.returncode == 0, f"{device}: {done.stdout}{done.stderr}"
    return elapsed


@pytest.mark.process
def test_mpremote_copies_over_the_socket_about_as_fast_as_over_the_pty(tmp_path: Path) -> None:
    try:
        import mpremote  # noqa: F401
    except ImportError:
        need(False, "mpremote", "pip install -e '.[test]'")
    source = tmp_path / "big.py"
    source.write_text("".join(f"print('line {i}', {i * 7919 % 10007})\n" for i in range(8000))[:SIZE])
    times = {}
    for name, args in (("pty", []), ("socket", ["--socket", "127.0.0.1:0"])):
        flash = tmp_path / f"flash-{name}"
        flash.mkdir()
        board = VirtualBoardProcess(*args, "--raw-paste", flash=flash)
        try:
            times[name] = _copy_time(board.device, source, tmp_path)
            assert (flash / "copy.py").read_bytes() == source.read_bytes()
        finally:
            board.stop()
    commands = math.ceil(SIZE / CHUNK) + 3  # the chunks, open, close, the hash check
    bound = 2 * times["pty"] + commands * PER_COMMAND_ALLOWANCE + 1.0
    assert times["socket"] < bound, (
        f"{SIZE // 1024} KB over socket:// took {times['socket']:.1f} s, over the pty {times['pty']:.1f} s "
        f"(allowed: {bound:.1f} s)"
    )


@pytest.mark.unit
def test_socket_addresses_are_loopback_host_and_port() -> None:
    assert parse_socket_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_socket_address("localhost:4000") == ("127.0.0.1", 4000)
    assert parse_socket_address("[::1]:4000") == ("::1", 4000)
    for text, message in (
        ("192.0.2.1:0", "only listens on loopback"),
        ("nonsense", "expected HOST:PORT"),
        ("127.0.0.1:70000", "expected HOST:PORT"),
        ("board.example:23", "only listens on loopback"),
    ):
        with pytest.raises(ValueError, match=message) as info:
            parse_socket_address(text)
        assert str(info.value).startswith(text) and "\n" not in str(info.value)
