"""``firmware-sim multitest``: a MicroPython run-multitests.py-style file, each instance on its own
simulated board, their output compared with the expected file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.process

# instance0 serves UDP on its own address; instance1 learns it through multitest.globals and sends
# datagrams to it; the server's "done" reaches the client through the runner (broadcast / wait).
EXAMPLE = ROOT / "examples" / "multitest" / "udp_pair.py"  # the bundled example, run by the README
UDP_PAIR = EXAMPLE.read_text()

UDP_PAIR_EXP = Path(f"{EXAMPLE}.exp").read_text()


def multitest(*args: str | Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "firmware_sim", "multitest", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)


def udp_pair(tmp_path: Path) -> Path:
    test = tmp_path / "udp_pair.py"
    test.write_text(UDP_PAIR)
    return test


def test_udp_server_and_client_boards_pass_against_the_exp_file_beside(tmp_path):
    test = udp_pair(tmp_path)
    (tmp_path / "udp_pair.py.exp").write_text(UDP_PAIR_EXP)
    done = multitest(test)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"{test}: pass\n"


def test_a_mismatch_exits_1_with_a_unified_diff(tmp_path):
    test = udp_pair(tmp_path)
    expected = tmp_path / "wrong.exp"
    expected.write_text(UDP_PAIR_EXP.replace("ping 1'\n", "ping 7'\n", 1))
    done = multitest("--exp", expected, test)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{test}: FAIL" in done.stdout
    assert "-server got b'ping 7'\n" in done.stdout
    assert "+server got b'ping 1'\n" in done.stdout


def test_without_an_exp_file_the_sections_are_printed(tmp_path):
    done = multitest(udp_pair(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == UDP_PAIR_EXP


def test_each_board_has_its_own_address_and_tracebacks_are_output(tmp_path):
    test = tmp_path / "addresses.py"
    test.write_text(
        "def instance0():\n"
        "    multitest.globals(FIRST=multitest.get_network_ip())\n"
        "    multitest.next()\n"
        "    print(multitest.get_network_ip().startswith('127.'))\n"
        "def instance1():\n"
        "    multitest.next()\n"
        "    print(multitest.get_network_ip() != FIRST)\n"
        "    raise ValueError('boom')\n"
    )
    done = multitest(test)
    assert done.returncode == 0, done.stderr
    sections = done.stdout.split("--- instance1 ---\n")
    assert sections[0] == "--- instance0 ---\nTrue\n"
    assert sections[1].startswith("True\nTraceback (most recent call last):\n")
    assert sections[1].endswith("ValueError: boom\n")


def test_an_instance_silent_past_the_timeout_ends_the_test_with_timeout(tmp_path):
    test = tmp_path / "never.py"
    test.write_text(
        "def instance0():\n"
        "    multitest.next()\n"
        "    print('waiting')\n"
        "    multitest.wait('never sent')\n"
        "def instance1():\n"
        "    multitest.next()\n"
    )
    done = multitest("--timeout", "1", test)
    assert done.returncode == 1
    assert done.stdout == "--- instance0 ---\nwaiting\nTIMEOUT\n--- instance1 ---\n"


def test_skip_ends_every_board_with_status_0(tmp_path):
    test = tmp_path / "skipping.py"
    test.write_text("def instance0():\n    multitest.skip()\ndef instance1():\n    multitest.next()\n")
    (tmp_path / "skipping.py.exp").write_text("--- instance0 ---\n--- instance1 ---\nnot this\n")
    done = multitest(test)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" in done.stderr


def test_a_file_without_instances_is_a_usage_error(tmp_path):
    test = tmp_path / "plain.py"
    test.write_text("print('no instances')\n")
    done = multitest(test)
    assert done.returncode == 2
    assert "defines no instance0()" in done.stderr


def test_the_same_file_passes_on_boards_at_ports(tmp_path):
    """The serial path real boards take: two virtual boards at socket:// ports, each soft-reset, sent
    its instance over the raw REPL, its broadcasts read from its stdin."""
    from firmware_sim.testing import VirtualBoardProcess

    test = udp_pair(tmp_path)
    (tmp_path / "udp_pair.py.exp").write_text(UDP_PAIR_EXP)
    flashes = [tmp_path / "flash0", tmp_path / "flash1"]
    for flash in flashes:
        flash.mkdir()
    with (
        VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flashes[0]) as one,
        VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flashes[1]) as two,
    ):
        done = multitest("--port", one.port, "--port", two.port, test)
        again = multitest("--port", one.port, test)  # instance1 simulated, beside the board at a port
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"{test}: pass\n"
    assert again.returncode == 0, again.stdout + again.stderr


def test_more_ports_than_instances_is_a_usage_error(tmp_path):
    done = multitest(
        "--port",
        "socket://127.0.0.1:1",
        "--port",
        "socket://127.0.0.1:2",
        "--instances",
        "1",
        udp_pair(tmp_path),
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "firmware-sim: error: 2 --port options for 1 instance(s); give at most one per instance"
    )
