"""Shared fixtures: distinct loopback addresses, real peers, an in-process Coap, script runs.

Parallel-safe (pytest-xdist): every test that binds gets its own 127.x.y.z, so CoAP's default port
5683 can be used everywhere at once. A test that needs a peer (libcoap3-bin, aiocoap) fails when the
peer is missing and ``CI=true``; elsewhere it is skipped with the install command.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_sim import runtime
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState
from firmware_sim.runtime.traceback import format_exception
from firmware_sim.testing import Process
from network import host
from network import profile as profiles

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``, folders made as needed; returns ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def board_example_files() -> list[Path]:
    """Every board file of examples/ (scripts, projects' boot.py/main.py/lib), not an example project's
    own desktop tests (``examples/*/tests/``, run by pytest on the host)."""
    examples = ROOT / "examples"
    return sorted(p for p in examples.rglob("*.py") if "tests" not in p.relative_to(examples).parts[1:-1])


def free_loopback_ip(port: int = 5683) -> str:
    """A random 127.x.y.z on which UDP ``port`` is free (checked by binding it)."""
    return host.free_address(port)


@pytest.fixture
def ip() -> str:
    return free_loopback_ip()


def raises(exc: type[BaseException], message: str):
    """``pytest.raises`` for exactly ``message`` (the firmware's text, not a part of it)."""
    return pytest.raises(exc, match=f"^{re.escape(message)}$")


def need(ok: bool, what: str, install: str) -> None:
    """Fail in CI, skip elsewhere, when a real peer is missing."""
    if ok:
        return
    message = f"{what} is missing: install it with `{install}`"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def libcoap(tool: str) -> str:
    """Path of ``coap-client-notls`` / ``coap-server-notls`` (Debian package libcoap3-bin)."""
    path = shutil.which(tool)
    need(path is not None, tool, "apt-get install -y libcoap3-bin")
    return path  # type: ignore[return-value]


AIOCOAP_CLI = ROOT / ".peers" / "aiocoap-cli"  # aiocoap 0.4.7, whose aiocoap-client observes to the end
AIOCOAP_SERVER_SCRIPT = ROOT / "tests" / "peers" / "aiocoap_server.py"  # the aiocoap peer (its docstring)


def require_aiocoap() -> None:
    try:
        import aiocoap  # noqa: F401
    except ImportError:
        need(False, "aiocoap", "pip install -e '.[test]'")


@pytest.fixture
def coap_client_tool() -> str:
    return libcoap("coap-client-notls")


@pytest.fixture
def coap_server_tool() -> str:
    return libcoap("coap-server-notls")


@pytest.fixture
def firmware() -> Iterator[Callable[[str], profiles.FirmwareProfile]]:
    """``firmware(name)`` activates a firmware profile for this test; the previous one comes back after."""
    previous = profiles.active()

    def use(name: str) -> profiles.FirmwareProfile:
        chosen = profiles.by_name(name)
        profiles.activate(chosen)
        return chosen

    yield use
    profiles.activate(previous)


@pytest.fixture
def coap(ip: str):
    """``network.Coap`` in this process, on a board at a fresh loopback address; reset afterwards."""
    from network import Coap, host
    from network.coap.api.module import hard_reset

    host.configure(ip=ip, mapping={})
    yield Coap
    hard_reset()
    host.reset()


class Reader:
    """A thread looping ``Coap.read(timeout)`` as scripts do, from the moment the test calls ``init()``
    until the test ends."""

    def __init__(self, coap, timeout_ms: int = 100) -> None:
        self.coap = coap
        self.timeout_ms = timeout_ms
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.coap.read(self.timeout_ms)
            except RuntimeError:
                time.sleep(0.01)  # not initialised yet (the test calls init() after starting us), or reset
            except BaseException as err:  # surfaced by the test
                self.errors.append(err)
                return

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


class BlockingReader:
    """API A's loop, ``while True: Coap.read()``, in a thread: no timeout, one datagram per call.
    ``stop()`` wakes the blocked ``read()`` with one datagram."""

    def __init__(self, coap, server: tuple[str, int]) -> None:
        self.coap = coap
        self.server = server
        self.calls = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.coap.read()
            except RuntimeError:
                return  # the module was reset
            except BaseException as err:
                self.errors.append(err)
                return
            self.calls += 1

    def stop(self) -> None:
        self._stop.set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"\x50\x00\x00\x00", self.server)  # an empty NON: ignored, but one datagram
        self.thread.join(5.0)
        assert not self.thread.is_alive(), "Coap.read() did not return"


def read_loop(coap, firmware: str, server: tuple[str, int]) -> BlockingReader | Reader:
    """The read loop a script for that firmware's API runs: 1.20.2.r6's blocking ``read()`` (API A),
    else ``read(timeout)``."""
    return BlockingReader(coap, server) if firmware == "1.20.2.r6" else Reader(coap, timeout_ms=20)


@pytest.fixture
def reader(coap) -> Iterator[Reader]:
    r = Reader(coap)
    yield r
    r.stop()
    assert not r.errors, r.errors


@pytest.fixture
def spawn() -> Iterator:
    """``spawn(args, env=...)`` starts a :class:`firmware_sim.testing.Process` (stdout and stderr
    collected together); every one is stopped after the test."""
    started: list[Process] = []

    def start(args: list[str], env: dict[str, str] | None = None) -> Process:
        proc = Process(args, env=env, cwd=ROOT)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@contextlib.contextmanager
def in_process_board(flash: Path, **fields) -> Iterator[Board]:
    """A simulated board in this process (a LoPy4 unless ``fields`` say otherwise), the current board
    while the block runs; its session ends afterwards (timers, watchers, mounts stop)."""
    b = Board(BoardState(flash=str(flash), **{"kind": "lopy4", **fields}))
    runtime.set_current(b)
    try:
        yield b
    finally:
        b.new_session()
        runtime.set_current(None)


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    """An in-process LoPy4 whose time runs 100x faster (a test file may define its own ``board``)."""
    with in_process_board(tmp_path / "flash", time_scale=100.0) as b:
        yield b


def run_script(board: Board, source: str) -> str:
    """Run ``source`` as the board's main.py: what it prints, then the last traceback line if it fails."""
    with board.loader.builtins["open"]("/flash/main.py", "w") as f:
        f.write(source)
    out = io.StringIO()
    board.loader.builtins["print"] = lambda *a, sep=" ", end="\n", **k: out.write(sep.join(map(str, a)) + end)
    try:
        board.loader.run("/flash/main.py", "main.py")
    except Exception as exc:
        out.write(format_exception(exc, board.loader.files).splitlines()[-1] + "\n")
    return out.getvalue()


def outputs(where: Board | Path, source: str) -> list[dict]:
    """The lines of ``source`` (``"PWM"``, ``"I2C"`` ...) in a board's peripherals.jsonl (``where``: the
    board, or its flash folder)."""
    path = (
        where.flash.private("peripherals.jsonl")
        if isinstance(where, Board)
        else where / ".firmware-sim" / "peripherals.jsonl"
    )
    lines = path.read_text().splitlines() if path.exists() else []
    return [line for line in map(json.loads, lines) if line["source"] == source]


def python_script(path: str | Path) -> list[str]:
    return [sys.executable, "-u", str(path)]


def bound(ip: str, port: int) -> bool:
    """True if UDP ``ip:port`` is taken (something is bound to it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return True
    return False


def wait_udp_port(ip: str, port: int = 5683, timeout: float = 10.0) -> None:
    """Wait until something is bound to UDP ``ip:port`` (a peer server has started)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((ip, port))
            except OSError:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing bound UDP {ip}:{port} within {timeout} s")


def run_board(  # boots a board process directly, below the command line (tests of the board runtime)
    flash: Path, main: str, *, scale: float = 1000.0, timeout: float = 60.0, **fields
) -> subprocess.CompletedProcess:
    """Boot a board process on ``flash`` with ``main`` as its main.py; it ends when main.py has
    returned and nothing of the board runs any more (``timeout`` bounds it in any case)."""
    flash.mkdir(parents=True, exist_ok=True)
    (flash / "main.py").write_text(main)
    state = BoardState(flash=str(flash), kind=fields.pop("kind", "lopy4"), time_scale=scale, **fields)
    env = dict(os.environ, FIRMWARE_SIM_BOARD_STATE=state.to_env(), PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "firmware_sim.runtime.boot"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- module surface ----------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on an in-process board (the ``board`` fixture of tests/sim) that starts no process is a
    unit test: ``pytest -m unit`` runs the sans-I/O cores and the board modules in seconds."""
    for item in items:
        in_process_board = item.path.parent.name == "sim" and "board" in getattr(item, "fixturenames", ())
        if in_process_board and not item.get_closest_marker("process"):
            item.add_marker(pytest.mark.unit)
