"""The virtual board survives its line (issue 8): noise full of Ctrl-F (hard resets) never leaves it deaf,
what crosses a reset is bounded as a real UART's receive buffer is, and a board process whose input
thread fails says so and is started again by its relay, on the same port.

Every wait is bounded; everything is loopback; flashes are tmp_path folders, ports ephemeral.
"""

from __future__ import annotations

import errno
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.replwire import CTRL_F
from firmware_sim.runtime.state import ENV_STATE
from firmware_sim.testing import Process, VirtualBoardProcess, alive, children_of, eventually, firmware_sim
from firmware_sim.virtual.interrupts import KeyboardInterrupts, Receiver
from firmware_sim.virtual.uart import ENV_CARRIED_FD, RX_BUFFER, UartIn, carried_over, carry_over

ROOT = Path(__file__).resolve().parents[2]
RUNNER = [sys.executable, "-m", "firmware_sim.serial"]
NOISE = 100 * 1024  # bytes of random noise ...
CTRL_F_EVERY = 2048  # ... with a Ctrl-F (a hard reset into safe boot) at least this often


def socket_address(port: str) -> tuple[str, int]:
    host, _, number = port.removeprefix("socket://").rpartition(":")
    return host, int(number)


def exec_print_1(port: str, timeout: float = 30) -> tuple[subprocess.CompletedProcess, float]:
    """``firmware-sim exec --port PORT "print(1)"`` as a user runs it; (the result, seconds it took)."""
    start = time.monotonic()
    done = subprocess.run(
        [*RUNNER, "exec", "--port", port, "print(1)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, time.monotonic() - start


def send_noise(port: str, size: int = NOISE, every: int = CTRL_F_EVERY, seconds: float = 30) -> None:
    """Connect, send ``size`` random bytes with a Ctrl-F at the end of every ``every`` bytes (the board's
    output is read and dropped meanwhile), then hang up. Within ``seconds``."""
    rng = random.Random(8)
    client = socket.create_connection(socket_address(port), timeout=seconds)
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([client], [], [], 0.05)
            if ready:
                try:
                    if not client.recv(65536):
                        return
                except OSError:
                    return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        for _ in range(size // every):
            piece = bytearray(rng.randbytes(every))
            piece[-1] = CTRL_F
            client.sendall(piece)
    finally:
        stop.set()
        reader.join(5)
        client.close()


@pytest.fixture
def board(tmp_path: Path) -> Iterator[VirtualBoardProcess]:
    flash = tmp_path / "flash"
    flash.mkdir()
    process = VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flash, cwd=ROOT)
    yield process
    process.stop()


@pytest.mark.process
def test_noise_full_of_ctrl_f_never_leaves_the_board_deaf(board: VirtualBoardProcess) -> None:
    """~100 KB of random bytes with a Ctrl-F every 2 KB: once the noise stops the board answers a plain
    exec within seconds (it used to carry all unread input across every reset in its environment, until
    re-executing failed with E2BIG in the input thread and the board stayed deaf for good)."""
    send_noise(board.port)
    done, took = exec_print_1(board.port)
    assert done.returncode == 0 and done.stdout == "1\n", (done.stderr, board.stderr[-3000:])
    assert took < 10, f"took {took:.1f} s"
    assert board.returncode is None and "internal error" not in board.stderr, board.stderr[-3000:]


@pytest.mark.process
def test_a_failing_input_thread_ends_the_board_and_the_relay_starts_it_again(
    tmp_path: Path, monkeypatch
) -> None:
    """The board's re-exec fails (E2BIG, injected) in its input thread on a Ctrl-F: the board says so on the
    relay's stderr and ends; the relay starts it again and the port keeps working."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    flag = tmp_path / "exec-fails"
    (hooks / "sitecustomize.py").write_text(
        "import errno, os\n"
        "_execv = os.execv\n"
        "def _failing_execv(path, args):\n"
        f"    if os.path.exists({str(flag)!r}):\n"
        "        raise OSError(errno.E2BIG, os.strerror(errno.E2BIG))\n"
        "    _execv(path, args)\n"
        "os.execv = _failing_execv\n"
    )
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")]))
    )
    flash = tmp_path / "flash"
    flash.mkdir()
    board = VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flash, cwd=ROOT)
    try:
        first = children_of(board.pid)
        assert len(first) == 1
        flag.touch()
        with socket.create_connection(socket_address(board.port), timeout=10) as client:
            client.sendall(bytes((CTRL_F,)))
            assert eventually(lambda: not alive(first[0]), 10), "the board kept running without its input"
        flag.unlink()
        said = "could not re-execute the board's process: OSError: [Errno 7] Argument list too long (E2BIG)"
        assert eventually(lambda: said in board.stderr and "starting it again" in board.stderr, 5), (
            board.stderr
        )
        done, took = exec_print_1(board.port)
        assert done.returncode == 0 and done.stdout == "1\n", (done.stderr, board.stderr)
        assert board.returncode is None
        assert children_of(board.pid) and children_of(board.pid) != first
    finally:
        board.stop()


@pytest.mark.process
def test_the_relay_starts_a_board_process_that_died_again(board: VirtualBoardProcess) -> None:
    """The board's process dies (SIGKILL, as the kernel's OOM killer would): the relay says so and
    starts it again, the port stays the same and keeps working."""
    first = children_of(board.pid)
    assert len(first) == 1
    os.kill(first[0], signal.SIGKILL)
    assert eventually(lambda: len(children_of(board.pid)) == 1 and children_of(board.pid) != first, 10)
    done, _ = exec_print_1(board.port)
    assert done.returncode == 0 and done.stdout == "1\n", (done.stderr, board.stderr)
    assert "process was killed (SIGKILL); starting it again" in board.stderr and board.returncode is None


@pytest.mark.process
def test_a_board_process_that_keeps_ending_is_not_started_for_ever(tmp_path: Path, monkeypatch) -> None:
    """A board process that dies at once every time (injected): the relay gives up after 5 ends within
    60 s, says so, and ends with the board's status; no restart loop for ever."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        f"import os\nif {ENV_STATE!r} in os.environ:\n    os._exit(70)\n"  # only the board's process
    )
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    flash = tmp_path / "flash"
    flash.mkdir()
    relay = Process(firmware_sim("board", "--socket", "127.0.0.1:0", "--flash", str(flash)), stderr="collect")
    try:
        assert relay.wait(30) == 70, relay.stderr
        assert relay.stderr.count("starting it again") == 4, relay.stderr
        assert "ended 5 times within 60 s, so it is not started again" in relay.stderr
    finally:
        relay.stop()


@pytest.mark.unit
def test_the_input_thread_reports_its_failure_instead_of_dying_silently() -> None:
    failures: list[BaseException] = []
    got = threading.Event()
    read_end, write_end = os.pipe()

    def reset() -> None:
        raise OSError(errno.E2BIG, "Argument list too long")

    def failed(exc: BaseException) -> None:
        failures.append(exc)
        got.set()

    receiver = Receiver(
        UartIn(), KeyboardInterrupts(), lambda: (3, CTRL_F), reset, lambda: None, read_end, on_failure=failed
    )
    try:
        receiver.start()
        os.write(write_end, b"abc\x06")
        assert got.wait(5), "the failure was not reported"
        assert isinstance(failures[0], OSError) and failures[0].errno == errno.E2BIG
    finally:
        receiver.park(1.0)
        os.close(write_end)
        os.close(read_end)


def receiver_on(fd: int, resets: list[int] | None = None) -> tuple[Receiver, UartIn]:
    """A receiver on ``fd`` (its thread not started); each reset character appends to ``resets``."""
    uart_in = UartIn()
    seen = resets if resets is not None else []
    receiver = Receiver(
        uart_in, KeyboardInterrupts(), lambda: (3, CTRL_F), lambda: seen.append(1), lambda: None, fd
    )
    return receiver, uart_in


@pytest.mark.unit
def test_what_crosses_a_reset_is_bounded_by_the_uart_receive_buffer(monkeypatch) -> None:
    """Unread input crosses a hard reset through an inherited pipe, never the environment, and at most
    the REPL UART's receive buffer (4096 bytes, machuart.c) of it; after a power-on nothing comes."""
    monkeypatch.delenv(ENV_CARRIED_FD, raising=False)
    assert RX_BUFFER == 4096
    data = random.Random(1).randbytes(100_000)
    carry_over(data)
    fd = os.environ[ENV_CARRIED_FD]
    assert fd.isdigit() and os.get_inheritable(int(fd))
    assert carried_over() == data[:RX_BUFFER]
    assert ENV_CARRIED_FD not in os.environ and carried_over() == b""
    carry_over(b"")
    assert ENV_CARRIED_FD not in os.environ


@pytest.mark.unit
def test_at_boot_what_came_during_the_reset_fills_the_receive_buffer_the_rest_is_lost() -> None:
    read_end, write_end = os.pipe()
    try:
        noise = bytes(range(7, 107)) * 600  # 60,000 bytes, no Ctrl-C or Ctrl-F
        os.write(write_end, noise)
        receiver, uart_in = receiver_on(read_end)
        lost = receiver.boot(b"carried")
        assert uart_in.take() == (b"carried" + noise)[:RX_BUFFER]
        assert lost == len(b"carried") + len(noise) - RX_BUFFER
        assert receiver.boot(b"x") == 0 and uart_in.take() == b"x"  # the pipe is empty now
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.unit
def test_ctrl_f_loses_what_the_board_had_not_read_and_what_follows() -> None:
    """A real board resets at once on its reset character: its receive buffer is gone."""
    resets: list[int] = []
    receiver, uart_in = receiver_on(0, resets)
    receiver.receive(b"unread ")
    receiver.receive(b"before\x06after")
    assert resets == [1] and uart_in.take() == b""
    receiver.receive(b"next boot")
    assert uart_in.take() == b"next boot"
