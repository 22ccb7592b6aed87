"""The pytest plugin (firmware_sim/pytest_plugin.py) as a user meets it: a small Pycom project and one
test file of theirs, run by pytester against a simulated board (the default) and against a virtual
board reached with ``--board-port socket://...``, the serial path a real board takes."""

from __future__ import annotations

import textwrap
from pathlib import Path
from xml.etree import ElementTree

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
    try:
        s.bind(("", 7000))
    except OSError:  # a soft reset leaves the last run's socket bound, as on the board
        return
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

def test_echo_through_a_link_the_test_cuts(board, link):
    board.expect("ready to serve")
    cable = link(board, port=7000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"one", (cable.address, 7000))
        assert s.recvfrom(64)[0] == b"echo:one"
        cable.partition()
        s.settimeout(0.3)
        s.sendto(b"two", (cable.address, 7000))
        try:
            s.recvfrom(64)
            raise AssertionError("an answer came through a cut link")
        except socket.timeout:
            pass
    assert cable.stats["to_target"]["dropped"] == 1

def test_main_ends_and_the_repl_starts(board):
    ended = board.wait_for_exit()
    assert ended.error is None
    assert "hello from main" in ended.output and "ready to serve" in ended.output

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
    result.assert_outcomes(passed=5)


def test_the_same_tests_pass_on_a_board_at_a_port_and_sim_only_ones_skip(
    pytester: pytest.Pytester, project: Path, tmp_path: Path
) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    with VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flash) as other:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", f"--board-port={other.port}")
    result.assert_outcomes(passed=3, skipped=2)
    result.stdout.fnmatch_lines(["*SKIPPED*simulator only: link()*"])
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
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=report.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*board 'board': expected 'never \\\\d+', not seen within 0.5 s; the last 20 lines it printed:*",
            "*hello from main*",
            "*- board 'board' output -*",
        ]
    )
    case = ElementTree.parse(pytester.path / "report.xml").find(".//testcase")
    assert case is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert "ready to serve" in properties["firmware-sim board board output"]


SERVER_MAIN = """\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 7001))
print("server up")
while True:
    data, peer = s.recvfrom(64)
    s.sendto(b"pong:" + data, peer)
"""
CLIENT_MAIN = """\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"ping", ("192.168.0.10", 7001))
print("client got", s.recv(64))
"""
TWO_BOARD_TESTS = """\
LORA = (
    "from network import LoRa\\nimport socket\\n"
    "lora = LoRa(mode=LoRa.LORA, region=LoRa.EU868)\\n"
    "s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)\\n"
)

def test_a_client_board_reaches_the_server_board_by_its_lan_address(boards):
    server = boards("server", project="server")
    server.expect("server up")
    client = boards("client", project="client", map={"192.168.0.10": server})
    client.expect_exact("client got b'pong:ping'")

def test_how_main_ended(boards):
    ended = boards("bad", project="failing").wait_for_exit()
    assert ended.error == "ValueError: no sensor"
    assert ended.output.endswith("checking\\nTraceback (most recent call last):\\n"
        '  File "main.py", line 2, in <module>\\nValueError: no sensor\\n')

def test_the_boards_of_a_test_share_lora_air(boards):
    one, two = boards("one", project="server"), boards("two", project="server")
    one.exec(LORA)
    two.exec(LORA + "s.setblocking(False)")
    one.exec("s.send(b'over the air')")
    for _ in range(50):
        got = two.exec("print(s.recv(64))").strip()
        if got != "b''":
            break
        two.exec("import time; time.sleep_ms(20)")
    assert got == "b'over the air'"
"""


def test_boards_reach_each_other_through_maps_and_share_lora_air(pytester: pytest.Pytester) -> None:
    failing = "print('checking')\nraise ValueError('no sensor')\n"
    for name, main in (("server", SERVER_MAIN), ("client", CLIENT_MAIN), ("failing", failing)):
        (pytester.path / name).mkdir()
        (pytester.path / name / "main.py").write_text(main)
    pytester.makepyfile(test_two=TWO_BOARD_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=3)
