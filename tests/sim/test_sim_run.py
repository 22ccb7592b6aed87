"""``firmware-sim run`` / ``up``: unchanged Pycom scripts booted on simulated boards, end to end."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, free_loopback_ip, libcoap, wait_udp_port

pytestmark = pytest.mark.process

DOCS = ROOT / "examples" / "docs"
DOCS_LINKS = "</resource2>,</resource1>;ct=0;title=resource1"


def sim(*args: str) -> list[str]:
    return [sys.executable, "-m", "firmware_sim", *args]


def run(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(sim(*args), capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def script(tmp_path: Path, text: str, name: str = "main.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.peer
def test_docs_server_board_answers_docs_client_board(ip, spawn):
    server = spawn(sim("run", "--ip", ip, "--timeout", "15", str(DOCS / "server.py")))
    wait_udp_port(ip, 5683)
    client_ip = free_loopback_ip()
    done = run(
        "run",
        "--ip",
        client_ip,
        "--map",
        f"192.168.0.234={ip}",
        "--timeout",
        "3",
        str(DOCS / "client_blocking.py"),
    )
    assert done.returncode == 0, done.stderr
    assert f"Payload: b'{DOCS_LINKS}'" in done.stdout
    assert "Code: 69" in done.stdout and "Token: b'token1'" in done.stdout
    assert "Code: 132" in done.stdout  # /time is not a resource of the docs server: 4.04 with payload
    assert server.proc.poll() is None, server.output


@pytest.mark.peer
def test_docs_client_board_against_libcoap(ip, spawn):
    spawn([libcoap("coap-server-notls"), "-A", ip, "-p", "5683"])
    wait_udp_port(ip, 5683)
    done = run(
        "run",
        "--ip",
        free_loopback_ip(),
        "--map",
        f"192.168.0.234={ip}",
        "--timeout",
        "3",
        str(DOCS / "client_blocking.py"),
    )
    assert done.returncode == 0, done.stderr
    assert "Token: b'token2'" in done.stdout  # GET /time answered by libcoap's example server
    assert 'title="Internal Clock"' in done.stdout


def test_a_script_already_in_the_flash_folder_is_run_not_emptied(tmp_path, ip):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text("print('still here')\n")
    done = run("run", "--ip", ip, "--flash", str(flash), str(flash / "main.py"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "still here\n"
    assert (flash / "main.py").read_text() == "print('still here')\n"


def test_flash_is_sandboxed(tmp_path, ip):
    main = script(
        tmp_path,
        """
import os
print(os.listdir('/'))
with open('note.txt', 'w') as f:
    f.write('kept')
print(open('/flash/note.txt').read(), 'note.txt' in os.listdir('/flash'))
for path in ('/flash/../../etc/passwd', '/etc/passwd', '../etc/passwd'):
    try:
        open(path)
    except OSError as err:
        print('refused', err)
""",
    )
    done = run("run", "--ip", ip, str(main))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['flash']",
        "kept True",
        "refused [Errno 2] ENOENT",
        "refused [Errno 2] ENOENT",
        "refused [Errno 2] ENOENT",
    ]


def test_uncaught_exception_prints_a_micropython_traceback_and_exits_1(tmp_path, ip):
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "lib" / "sensor.py").write_text("def read(n):\n    return 10 / n\n")
    (project / "main.py").write_text("import sensor\nprint('reading')\nsensor.read(0)\n")
    done = run("run", "--ip", ip, str(project))
    assert done.returncode == 1
    assert done.stdout == "reading\n"
    assert done.stderr.splitlines()[-4:] == [
        "Traceback (most recent call last):",
        '  File "main.py", line 3, in <module>',
        '  File "/flash/lib/sensor.py", line 2, in read',
        "ZeroDivisionError: divide by zero",
    ]


def test_unknown_module_is_an_import_error_as_on_the_board(tmp_path, ip):
    done = run("run", "--ip", ip, str(script(tmp_path, "import requests\n")))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "ImportError: no module named 'requests'"


def test_timeout_stops_a_running_board_with_status_0(tmp_path, ip):
    main = script(tmp_path, "import time\nprint('up')\nwhile True:\n    time.sleep(1)\n")
    start = time.monotonic()
    done = run("run", "--ip", ip, "--timeout", "1", str(main))
    assert done.returncode == 0
    assert done.stdout == "up\n"
    assert 0.9 < time.monotonic() - start < 8


def test_time_scale_speeds_up_sleeps_ticks_and_time(tmp_path, ip):
    main = script(
        tmp_path,
        """
import time
t0, s0 = time.ticks_ms(), time.time()
time.sleep(60)
time.sleep_ms(30000)
print(time.ticks_diff(time.ticks_ms(), t0), time.time() - s0)
""",
    )
    start = time.monotonic()
    done = run("run", "--ip", ip, "--time-scale", "200", str(main))
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    ticks, seconds = (int(v) for v in done.stdout.split())
    assert 90_000 <= ticks < 95_000
    assert 89 <= seconds <= 95
    assert elapsed < 8  # 90 board seconds in under half a host second, plus start-up


def test_script_address_outside_loopback_is_refused_naming_map(tmp_path, ip):
    main = script(
        tmp_path,
        """
from network import Coap
Coap.init()
Coap.new_client_session('192.168.0.234', 5683)
""",
    )
    done = run("run", "--ip", ip, str(main))
    assert done.returncode == 1
    assert "192.168.0.234 is outside loopback" in done.stderr
    assert "--map 192.168.0.234=" in done.stderr


def test_usage_errors_name_the_problem_and_the_fix(tmp_path):
    missing = run("run", str(tmp_path / "nope.py"))
    assert missing.returncode == 2
    assert "nope.py: no such file or folder; give a .py script or a project folder" in missing.stderr
    bad_map = run("run", "--map", "192.168.0.1", str(script(tmp_path, "pass\n")))
    assert bad_map.returncode == 2
    assert "expected SCRIPT_ADDRESS=LOOPBACK_ADDRESS" in bad_map.stderr
    outside = run("run", "--ip", "10.0.0.5", str(script(tmp_path, "pass\n")))
    assert outside.returncode == 2
    assert "only uses loopback addresses" in outside.stderr


def test_python_m_and_help_teach_every_option():
    command = subprocess.run(["firmware-sim", "run", "--help"], capture_output=True, text=True, timeout=20)
    module = run("run", "--help")
    assert command.stdout == module.stdout
    for option in ("--board", "--firmware", "--ip", "--map", "--flash", "--timeout", "--time-scale"):
        assert option in module.stdout
    assert "examples:" in module.stdout and "firmware-sim run --map 192.168.0.234=127.0.0.2" in module.stdout


def test_ctrl_c_raises_keyboard_interrupt_in_the_script_and_a_second_stops(tmp_path, ip, spawn):
    main = script(
        tmp_path,
        """
import time
try:
    print('waiting', flush=True)
    while True:
        time.sleep(0.1)
except KeyboardInterrupt:
    print('script saw KeyboardInterrupt', flush=True)
while True:
    time.sleep(0.1)
""",
    )
    board = spawn(sim("run", "--ip", ip, "--timeout", "20", str(main)))
    assert board.wait_for(lambda out: "waiting" in out, 10)
    board.proc.send_signal(signal.SIGINT)
    assert board.wait_for(lambda out: "script saw KeyboardInterrupt" in out, 5)
    board.proc.send_signal(signal.SIGINT)
    assert board.proc.wait(5) == 130
    assert "firmware-sim: stopped (second Ctrl-C)" in board.stop()


def test_up_starts_the_boards_of_a_file_with_prefixed_output(tmp_path):
    boards = tmp_path / "boards.toml"
    example = ROOT / "examples" / "two_boards"
    boards.write_text(f"""
[[board]]
name = "sensor"
path = "{example / "sensor"}"
ip = "{free_loopback_ip()}"

[[board]]
name = "client"
path = "{example / "client"}"
ip = "{free_loopback_ip()}"
map = {{ "192.168.0.10" = "sensor" }}
delay = 0.3
""")
    done = run("up", "--timeout", "3", str(boards))
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert any(line.startswith("[sensor] sensor: temperature now") for line in lines)
    assert "[client] client: 2.05 from the sensor: </temperature>;rt=temperature-c" in lines
    assert any(line.startswith("[client] client: 2.05 from the sensor: 2") for line in lines)


def test_reset_reboots_with_fresh_state_and_flash_keeps_nvs_and_led_timeline(tmp_path, ip):
    main = script(
        tmp_path,
        f"""
import machine
import pycom
from network import Coap
boots = pycom.nvs_get('boots', 0) + 1
pycom.nvs_set('boots', boots)
Coap.init('{ip}')  # a fresh boot: the one-per-boot Coap context can be created again
pycom.heartbeat(False)
pycom.rgbled(0x000010 * boots)
print('boot', boots, 'cause', machine.reset_cause())
if boots % 3:
    machine.reset()
""",
    )
    flash = tmp_path / "board-flash"
    first = run("run", "--ip", ip, "--flash", str(flash), str(main))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["boot 1 cause 0", "boot 2 cause 1", "boot 3 cause 1"]
    second = run("run", "--ip", ip, "--flash", str(flash), str(main))
    assert second.stdout.splitlines() == ["boot 4 cause 0", "boot 5 cause 1", "boot 6 cause 1"]
    timeline = (flash / ".firmware-sim" / "rgbled.jsonl").read_text()
    assert '"color": 64' in timeline and '"color": 96' in timeline  # this run's boots 4 and 6


def test_a_reboot_loop_is_stopped_with_a_clear_message(tmp_path, ip):
    done = run("run", "--ip", ip, str(script(tmp_path, "import machine\nmachine.reset()\n")))
    assert done.returncode == 1
    assert "firmware-sim: reboot loop: the board reset 10 times" in done.stderr


def test_a_terminated_board_removes_its_temporary_flash(tmp_path, ip, spawn):
    main = script(tmp_path, "import time\nprint('up', flush=True)\nwhile True:\n    time.sleep(0.1)\n")
    board = spawn(sim("run", "--ip", ip, str(main)))
    assert board.wait_for(lambda out: "up" in out.splitlines(), 10)
    flash = Path(board.output.split("/flash in ", 1)[1].splitlines()[0])
    assert flash.is_dir()
    board.proc.terminate()
    assert board.proc.wait(10) == 128 + signal.SIGTERM
    assert not flash.exists()
