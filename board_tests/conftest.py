"""Where the board tests run: a virtual board started here (default, what CI does), or a real board.

    pytest board_tests                          # starts a virtual LoPy4 on a pseudo-terminal
    pytest board_tests --board-port /dev/ttyACM0   # your board (or --board-port auto)

A test that needs something a board kind does not have (LTE on a LoPy4) is skipped with the reason.
Tests that talk to the board over the network reach it only at a loopback address unless
``--allow-lan`` says the board's own LAN address may be used; likewise a ``--board-port socket://HOST:PORT``
(or ``rfc2217://``) must be on this machine unless ``--allow-lan``, checked before anything connects.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.serial import ConnectError, ReplSession, check_on_this_machine
from firmware_sim.testing import VirtualBoardProcess
from network.host import free_address

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    # --board-port and --board-kind come from the firmware-sim pytest plugin (firmware_sim/pytest_plugin.py)
    group = parser.getgroup("board", "board tests")
    group.addoption(
        "--allow-lan",
        action="store_true",
        help="let network tests reach a real board at its LAN address, and --board-port be a socket:// "
        "port on another machine",
    )


def check_board_port(port: str | None, allow_lan: bool) -> None:
    """``pytest.UsageError`` when ``port`` is a network port off this machine and not ``allow_lan``
    (decided from its text: nothing is sent, no name is looked up)."""
    if port:
        try:
            check_on_this_machine(port, allow_lan)
        except ConnectError as err:
            raise pytest.UsageError(f"--board-port {err}") from None


def pytest_configure(config: pytest.Config) -> None:
    check_board_port(config.getoption("--board-port", None), config.getoption("--allow-lan", False))


@pytest.fixture(scope="session")
def allow_lan(request: pytest.FixtureRequest) -> bool:
    """Whether ``--allow-lan`` was given."""
    return bool(request.config.getoption("--allow-lan"))


@pytest.fixture(scope="session")
def board_port(request: pytest.FixtureRequest) -> Iterator[str]:
    port = request.config.getoption("--board-port")
    if port:
        yield port
        return
    flash = tempfile.mkdtemp(prefix="board-tests-flash-")
    kind = request.config.getoption("--board-kind") or "lopy4"
    try:
        board = VirtualBoardProcess("--pty", "--ip", free_address(), "--board", kind, flash=flash, cwd=ROOT)
    except RuntimeError as err:
        shutil.rmtree(flash, ignore_errors=True)
        pytest.fail(str(err))
    try:
        yield board.port
    finally:
        board.stop()
        shutil.rmtree(flash, ignore_errors=True)


@pytest.fixture
def board(board_port: str, allow_lan: bool) -> Iterator[ReplSession]:
    """The board, connected, in the raw REPL after a soft reset (a clean namespace for each test)."""
    with ReplSession(board_port, allow_lan=allow_lan).open() as connected:
        connected.enter_raw_repl(soft_reset=True)
        yield connected


@pytest.fixture
def platform(board: ReplSession) -> str:
    return board.eval("__import__('sys').platform")


def reconnect_after_reset(port: str, timeout: float = 20.0, *, allow_lan: bool = False) -> ReplSession:
    """A board that was reset: open it again once it answers (a real board reboots for a few seconds)."""
    check_on_this_machine(port, allow_lan)  # a refusal is not worth retrying
    end = time.monotonic() + timeout
    while True:
        try:
            connected = ReplSession(port, allow_lan=allow_lan).open()
            connected.enter_raw_repl()
            return connected
        except Exception:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def board_address(board: ReplSession, allow_lan: bool) -> str:
    """The board's address; skip unless it is loopback or --allow-lan was given."""
    address = board.eval("__import__('network').WLAN().ifconfig()[0]")
    if not ipaddress.ip_address(address).is_loopback and not allow_lan:
        pytest.skip(f"the board is at {address}, not on loopback; pass --allow-lan to let the test reach it")
    return address


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
