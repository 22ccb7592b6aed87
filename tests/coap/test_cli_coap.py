"""``firmware-sim coap``: one request from the command line, printed as libcoap's coap-client prints it
(checked side by side with coap-client against libcoap's example server)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, free_loopback_ip, libcoap

from firmware_sim.testing import eventually

pytestmark = [pytest.mark.process, pytest.mark.peer]


def ours(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "firmware_sim", "coap", *args]
    return subprocess.run(command, capture_output=True, timeout=60, cwd=ROOT)


def theirs(*args: str) -> subprocess.CompletedProcess:
    command = [libcoap("coap-client-notls"), *args]
    return subprocess.run(command, capture_output=True, timeout=60)


@pytest.fixture
def server(spawn, coap_server_tool) -> str:
    ip = free_loopback_ip()
    spawn([coap_server_tool, "-A", ip])
    assert eventually(lambda: ours("get", "-B", "0.3", f"coap://{ip}/").returncode == 0, 10)
    return ip


def test_prints_what_coap_client_prints(server: str) -> None:
    core = f"coap://{server}/.well-known/core"
    assert ours("get", core).stdout == theirs("-m", "get", core).stdout != b""
    data = f"coap://{server}/example_data"
    put = ours("put", "-e", "from firmware-sim", "-t", "text", data)
    assert (put.returncode, put.stdout, put.stderr) == (0, b"", b"")
    assert ours("get", data).stdout == theirs("-m", "get", data).stdout == b"from firmware-sim\n"


def test_an_error_response_is_its_code_on_stderr_as_coap_client(server: str) -> None:
    missing = f"coap://{server}/no/such"
    mine, libcoaps = ours("get", missing), theirs("-m", "get", missing)
    assert (mine.stdout, mine.stderr) == (libcoaps.stdout, libcoaps.stderr) == (b"", b"4.04 Not Found\n")
    assert mine.returncode == 1  # coap-client says 0; a CI step wants to fail


def test_no_answer_within_b_seconds_is_one_line_and_status_1() -> None:
    silent = free_loopback_ip()
    done = ours("get", "-B", "0.5", f"coap://{silent}/x")
    assert done.returncode == 1
    assert done.stderr.decode() == f"firmware-sim: GET coap://{silent}/x: no response within 0.5 s\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("get", "coap://192.168.1.20/x"),
            "192.168.1.20 is not a loopback address; add --allow-lan to reach it",
        ),
        (("get", "coap://sensor.local/x"), "'sensor.local' is not an IP address; no host name is looked up"),
        (("get", "-t", "bogus", "coap://127.0.0.1/x"), "-t bogus: not a Content-Format"),
        (("put", "-f", "/no/such/file", "coap://127.0.0.1/x"), "-f /no/such/file: No such file or directory"),
    ],
)
def test_usage_errors_are_one_line_naming_the_fix(args: tuple[str, ...], message: str) -> None:
    done = ours(*args)
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("firmware-sim: error: ") and message in lines[0]


def test_observe_prints_each_notification_on_a_line_until_s_seconds(server: str) -> None:
    done = ours("observe", "-s", "2.5", f"coap://{server}/time")
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 0, done.stderr
    assert len(lines) >= 3 and len(set(lines)) >= 2  # the registration's answer, then every second


def test_block_wise_put_and_get_match_coap_client(server: str, tmp_path) -> None:
    data = tmp_path / "big.txt"
    data.write_bytes(bytes(range(48, 58)) * 500)  # 5000 bytes: several blocks at any size
    uri = f"coap://{server}/example_data"
    assert ours("put", "-b", "256", "-f", str(data), uri).returncode == 0
    assert ours("get", "-b", "64", uri).stdout == theirs("-m", "get", "-b", "64", uri).stdout
    assert ours("get", uri).stdout == data.read_bytes() + b"\n"
