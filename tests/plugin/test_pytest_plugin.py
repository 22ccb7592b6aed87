"""The pytest plugin (firmware_sim/pytest_plugin.py) as a user meets it: a small Pycom project and one
test file of theirs, run by pytester against a simulated board (the default) and against a virtual
board reached with ``--board-port socket://...``, the serial path a real board takes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from firmware_sim.testing import VirtualBoardProcess

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.process

BOOT = 'print("boot: up")\n'
MAIN = """\
import socket
import _thread
print("hello from main")

def answer(x):
    return x * 2

def echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", 7000))
    while True:
        data, peer = s.recvfrom(64)
        s.sendto(b"echo:" + data, peer)

_thread.start_new_thread(echo, ())
print("ready to serve")
"""
HELPER = "GREETING = 'hi'\n"

USER_TESTS = """\
import socket

def test_boots_and_answers(board):
    assert board.expect(r"boot: (\\w+)").group(1) == "up"
    board.expect_exact("ready to serve")
    board.expect_not("Traceback", within=0.2)
    assert board.exec("print(answer(21))").strip() == "42"
    assert board.eval("answer(4)") == 8
    assert board.eval("__import__('helper').GREETING") == "hi"

def test_files(board):
    board.expect("ready to serve")
    board.files.write("data/note.txt", "saved")
    assert board.files.read("data/note.txt") == b"saved"
    assert "note.txt" in board.files.list("/flash/data")
    assert "main.py" in board.files.list()

def test_pins_and_network(board):
    board.expect("ready to serve")
    board.drive("P10", 1)
    assert board.eval("__import__('machine').Pin('P10', mode=__import__('machine').Pin.IN)()") == 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"ping", (board.address, 7000))
        assert s.recvfrom(64)[0] == b"echo:ping"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    root = pytester.path / "firmware"
    (root / "lib").mkdir(parents=True)
    (root / "boot.py").write_text(BOOT)
    (root / "main.py").write_text(MAIN)
    (root / "lib" / "helper.py").write_text(HELPER)
    pytester.makeini("[pytest]\nfirmware_sim_project = firmware\nfirmware_sim_time_scale = 10\n")
    pytester.makepyfile(test_user=USER_TESTS)
    return root


def test_the_user_tests_pass_on_a_simulated_board(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(passed=3)


def test_the_same_tests_pass_on_a_board_at_a_port_and_sim_only_ones_skip(
    pytester: pytest.Pytester, project: Path, tmp_path: Path
) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    with VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flash) as other:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", f"--board-port={other.port}")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*simulator only: drive('P10', 1)*"])
    assert (flash / "main.py").read_text() == MAIN  # deployed over the serial line


def test_an_expect_failure_shows_the_pattern_and_the_tail(pytester: pytest.Pytester, project: Path) -> None:
    pytester.makepyfile(
        test_user=textwrap.dedent(
            """
            def test_waits_for_what_never_comes(board):
                board.expect("ready to serve")
                board.expect(r"never \\d+", timeout=0.5)
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*board 'board': expected 'never \\\\d+', not seen within 0.5 s; the last 20 lines it printed:*",
            "*hello from main*",
            "*- board 'board' output -*",
        ]
    )
