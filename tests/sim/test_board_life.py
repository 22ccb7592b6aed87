"""A board's life through the command: default addresses never shared, nothing left behind however
``run`` and ``up`` end, a run kept alive by its threads says so, and the board reports its firmware."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from firmware_sim.testing import Process, alive, children_of, memory_mb
from firmware_sim.testing import eventually as wait
from firmware_sim.testkit.coap import CoapClient

pytestmark = pytest.mark.process


def sim(*args: str) -> list[str]:
    return [sys.executable, "-m", "firmware_sim", *args]


# -- default addresses -------------------------------------------------------------------------------

SERVER = """\
from network import Coap, WLAN
import time
Coap.init(WLAN().ifconfig()[0], service_discovery=False)
print("serving on", WLAN().ifconfig()[0])
"""


def test_boards_started_at_the_same_moment_get_distinct_default_addresses(tmp_path: Path) -> None:
    main = tmp_path / "main.py"
    main.write_text(SERVER)
    procs = [
        subprocess.Popen(
            sim("run", "--timeout", "2", str(main)),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    addresses = [re.search(r"serving on (\S+)", out).group(1) for out, _ in results]  # type: ignore[union-attr]
    assert len(set(addresses)) == 6, addresses


# -- nothing left behind -------------------------------------------------------------------------------

QUIET = "import time\nwhile True:\n    time.sleep(0.2)\n"


def _start_up(tmp_path: Path) -> tuple[Process, list[int], list[str]]:
    """``firmware-sim up`` with two quiet boards; (up, its board pids, their temporary flash folders)."""
    (tmp_path / "a.py").write_text(QUIET)
    (tmp_path / "b.py").write_text(QUIET)
    boards = tmp_path / "boards.toml"
    boards.write_text('[[board]]\nname = "a"\npath = "a.py"\n\n[[board]]\nname = "b"\npath = "b.py"\n')
    up = Process(sim("up", "--timeout", "60", str(boards)), cwd=ROOT)
    assert up.wait_for(lambda out: len(re.findall(r"/flash in (\S+)", out)) == 2, 30), up.output
    flashes = re.findall(r"/flash in (\S+)", up.output)
    boards_pids = children_of(up.pid)
    assert len(boards_pids) == 2
    return up, boards_pids, flashes


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL])
def test_up_ended_any_way_stops_every_board_and_removes_their_flash(tmp_path: Path, signum: int) -> None:
    up, boards, flashes = _start_up(tmp_path)
    try:
        up.signal(signum)
        if signum == signal.SIGINT:  # Ctrl-C in a terminal reaches the boards too (one process group)
            for pid in boards:
                os.kill(pid, signal.SIGINT)
                os.kill(pid, signal.SIGINT)
        assert wait(lambda: not any(alive(pid) for pid in boards), 15), "boards outlived firmware-sim up"
        assert wait(lambda: not any(Path(f).exists() for f in flashes), 5), "temporary flash left behind"
        up.wait(15)
    finally:
        up.stop()
        for pid in boards:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_run_ended_by_a_signal_removes_its_temporary_flash(tmp_path: Path, signum: int) -> None:
    main = tmp_path / "main.py"
    main.write_text("print('up', flush=True)\n" + QUIET)
    with Process(sim("run", "--timeout", "60", str(main)), cwd=ROOT) as run:
        assert run.wait_for(lambda out: "/flash in " in out and "\nup" in out, 20), run.output
        flash = re.search(r"/flash in (\S+)", run.output).group(1)  # type: ignore[union-attr]
        run.signal(signum)
        assert run.wait(10) == 128 + signum
        assert not Path(flash).exists()


# -- a run that goes on says so ------------------------------------------------------------------------

THREADED = """\
import _thread, time
def work():
    time.sleep(1.5)
    print("worker done")
_thread.start_new_thread(work, ())
print("main done")
"""


def test_run_kept_alive_by_threads_says_so_once(tmp_path: Path) -> None:
    main = tmp_path / "main.py"
    main.write_text(THREADED)
    done = subprocess.run(sim("run", str(main)), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["main done", "worker done"]
    notes = [line for line in done.stderr.splitlines() if "keep the board running" in line]
    assert len(notes) == 1, done.stderr
    assert "main.py has finished" in notes[0] and "Ctrl-C or --timeout" in notes[0]


def test_a_thread_started_as_main_py_ends_still_runs(tmp_path: Path) -> None:
    """No grace period: start_new_thread returns with the thread running, so the board sees it and
    waits for it even when main.py ends at once (several runs: a race would show)."""
    main = tmp_path / "main.py"
    main.write_text("import _thread\n_thread.start_new_thread(print, ('from the thread',))\n")
    for _ in range(4):
        done = subprocess.run(sim("run", str(main)), cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stdout) == (0, "from the thread\n"), done.stderr


def test_run_that_ends_by_itself_says_nothing_more(tmp_path: Path) -> None:
    main = tmp_path / "main.py"
    main.write_text("print('bye')\n")
    done = subprocess.run(sim("run", str(main)), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "keep the board running" not in done.stderr


# -- what the board says it runs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("firmware", "release", "version"),
    [
        ("1.20.3.b2", "1.20.3.b2", "v1.11-668cd53 on 2020-12-16"),
        ("1.20.2.r6", "1.20.2.r6", "v1.11-c5a0a97 on 2021-10-28"),
        ("docs", "1.20.2.r6", "v1.11-c5a0a97 on 2021-10-28"),
    ],
)
def test_uname_follows_firmware(tmp_path: Path, firmware: str, release: str, version: str) -> None:
    main = tmp_path / "main.py"
    main.write_text("import os\nprint(os.uname().release)\nprint(os.uname().version)\n")
    done = subprocess.run(
        sim("run", "--firmware", firmware, str(main)), cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.stdout.splitlines() == [release, version], done.stderr


# -- many boards from one up ----------------------------------------------------------------------------

COAP_BOARD = """\
from network import Coap, WLAN
address = WLAN().ifconfig()[0]
Coap.init(address)
resource = Coap.add_resource("name", media_type=Coap.MEDIATYPE_TEXT_PLAIN, value=address)
resource.callback(Coap.REQUEST_GET, True)
print("serving", address)
while True:
    Coap.read()
"""


def test_up_boards_share_the_simulator_each_answering_coap(tmp_path: Path) -> None:
    """``up`` loads the simulator once and forks its boards: each is a process of its own (its own
    address, answering CoAP) whose unshared memory stays under 10 MB (a new Python process alone is ~8)."""
    (tmp_path / "board.py").write_text(COAP_BOARD)
    count = 6
    (tmp_path / "boards.toml").write_text(
        "".join(f'[[board]]\nname = "b{i}"\npath = "board.py"\n' for i in range(count))
    )
    with Process(sim("up", "--timeout", "60", str(tmp_path / "boards.toml")), cwd=ROOT) as up:
        assert up.wait_for(lambda out: out.count("serving 127.") == count, 60), up.output
        addresses = re.findall(r"serving (\S+)", up.output)
        client = CoapClient(None)
        try:
            answers = {address: client.get("name", address=address).payload for address in addresses}
        finally:
            client.close()
        boards = children_of(up.pid)
        memory = [memory_mb(pid) for pid in boards]
    assert answers == {address: address.encode() for address in addresses}
    assert len(boards) == count
    assert all(memory), memory
    assert max(uss for uss, _ in filter(None, memory)) < 10.0, memory
