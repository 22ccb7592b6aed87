"""Pycom's expansion boards end to end: scripts in the style of real Pysense / Pytrack projects, with
their own small drivers (the register accesses Pycom's public libraries make), on board processes
started with ``--shield`` and the environment a test sets.

The drivers below are ours, written from the chips' datasheets and the libraries' documented calls;
Pycom's own libraries run unchanged on the same models (see the report of the change that added
them), but are not copied here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_board

pytestmark = pytest.mark.process

EXAMPLE = ROOT / "examples" / "pysense_sensor"
DRIVERS = (EXAMPLE / "lib" / "sensors.py").read_text()  # the bundled example's drivers

PYSENSE_MAIN = (EXAMPLE / "main.py").read_text()


def sim(*args: str) -> list[str]:
    return [sys.executable, "-m", "firmware_sim", *args]


def project(tmp_path: Path, main: str) -> Path:
    folder = tmp_path / "project"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "sensors.py").write_text(DRIVERS)
    (folder / "main.py").write_text(main)
    return folder


def board_flash(tmp_path: Path, environment: dict | None = None) -> Path:
    """A board's flash with the drivers in lib/ (and ``environment`` in its hidden file)."""
    flash = tmp_path / "flash"
    (flash / "lib").mkdir(parents=True)
    (flash / "lib" / "sensors.py").write_text(DRIVERS)
    (flash / ".firmware-sim").mkdir()
    if environment is not None:
        write_json(flash / ".firmware-sim" / "environment.json", environment)
    return flash


def write_json(path: Path, data: dict) -> None:
    """Replace ``path`` whole (a temporary file renamed over it), as a test driving a board should."""
    part = path.with_suffix(".part")
    part.write_text(json.dumps(data))
    os.replace(part, path)


def values(output: str) -> dict[str, list[float]]:
    found = {}
    for line in output.splitlines():
        name, sep, rest = line.partition(": ")
        if sep:
            found[name] = [float(word) for word in rest.split() if word[0].isdigit() or word[0] == "-"]
    return found


@pytest.mark.parametrize("shield", ["pysense", "pysense2"])
def test_a_pysense_script_prints_the_values_the_test_set(tmp_path: Path, shield: str) -> None:
    env = tmp_path / "environment.json"
    write_json(
        env,
        {
            "temperature": 23.5,
            "humidity": 55.0,
            "light": [812, 403],
            "pressure": 98000.25,
            "acceleration": [0.1, -0.2, 0.97],
            "battery": 3.87,
        },
    )
    folder = project(tmp_path, PYSENSE_MAIN)
    args = ("run", "--shield", shield, "--environment", str(env), "--time-scale", "10", str(folder))
    done = subprocess.run(sim(*args), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert values(done.stdout) == {
        "Temperature": [23.5],
        "Humidity": [55.0],
        "Light": [812, 403],
        "Pressure": [98000.25],
        "Acceleration": [0.1, -0.2, 0.97],
        "Battery": [3.87],
    }


def test_without_the_shield_nothing_answers(tmp_path: Path) -> None:
    folder = project(tmp_path, "from sensors import Coproc\nCoproc()\n")
    done = subprocess.run(sim("run", str(folder)), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1
    assert "OSError: I2C bus error" in done.stderr


LOOP_MAIN = """\
import time
from sensors import Coproc, temperature, light

py = Coproc()
while True:
    print('Temperature: %.2f Light: %d %d' % ((temperature(py.i2c),) + light(py.i2c)))
    time.sleep(1)
"""


def test_changing_the_environment_file_changes_the_next_reading(tmp_path: Path, spawn) -> None:
    env = tmp_path / "environment.json"
    write_json(env, {"temperature": 21.0, "light": [100, 50]})
    folder = project(tmp_path, LOOP_MAIN)
    args = ("run", "--shield", "pysense", "--environment", str(env), "--time-scale", "5", "--timeout", "30")
    board = spawn(sim(*args, str(folder)))
    assert board.wait_for(lambda out: "Temperature: 21.00 Light: 100 50" in out, timeout=30), board.output
    write_json(env, {"temperature": 35.25, "light": [900, 450]})
    assert board.wait_for(lambda out: "Temperature: 35.25 Light: 900 450" in out, timeout=10), board.output
    lines = [line for line in board.lines if line.startswith("Temperature")]
    changed = lines.index("Temperature: 35.25 Light: 900 450")
    assert set(lines[:changed]) == {"Temperature: 21.00 Light: 100 50"}  # no reading in between


PYTRACK_MAIN = """\
import time
from sensors import Coproc, position

py = Coproc()
for _ in range(4):
    where = position(py.i2c)
    print('Position: %.5f %.5f %.1f' % where if where else 'Position: none')
    time.sleep(10)
"""


@pytest.mark.parametrize("shield", ["pytrack", "pytrack2"])
def test_a_pytrack_script_prints_the_position_of_the_track(tmp_path: Path, shield: str) -> None:
    env = tmp_path / "environment.json"
    track = [[0, [48.8584, 2.2945, 35.0]], [25, [48.8584, 2.2945, 35.0]], [26, [-33.8568, 151.2153, 4.5]]]
    write_json(env, {"position": {"timeline": track, "step": True}})
    folder = project(tmp_path, PYTRACK_MAIN)
    args = ("run", "--shield", shield, "--environment", str(env), "--time-scale", "5", str(folder))
    done = subprocess.run(sim(*args), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    printed = [line for line in done.stdout.splitlines() if line.startswith("Position")]
    assert printed[0] == "Position: 48.85840 2.29450 35.0"
    assert printed[-1] == "Position: -33.85680 151.21530 4.5"  # the track moved on
    assert set(printed) == {printed[0], printed[-1]}


def test_a_pytrack_without_a_fix(tmp_path: Path) -> None:
    folder = project(tmp_path, PYTRACK_MAIN.replace("range(4)", "range(1)"))
    done = subprocess.run(
        sim("run", "--shield", "pytrack", "--time-scale", "20", str(folder)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Position: none"]


SLEEP_MAIN = """\
import machine, time
from sensors import Coproc

py = Coproc()
reason = py.wake_reason()
print('boot', machine.reset_cause(), reason, py.sleep_left(), time.time())
if reason == 0:
    py.sleep(SECONDS)
    print('still awake')
"""


@pytest.mark.parametrize("shield", ["pysense", "pytrack2"])
def test_deep_sleep_through_the_pic_reboots_with_the_timer_wake_reason(tmp_path: Path, shield: str) -> None:
    started = time.monotonic()
    flash = board_flash(tmp_path)
    result = run_board(flash, SLEEP_MAIN.replace("SECONDS", "600"), scale=100.0, shield=shield)
    assert result.returncode == 0, result.stderr
    first, second = (line.split() for line in result.stdout.splitlines())
    assert first[:4] == ["boot", "0", "0", "0"]
    assert second[:4] == ["boot", "0", "4", "0"]  # a power-on reset of the module; the PIC: timer
    asleep = int(second[4]) - int(first[4])  # board seconds (the RTC went on), with the new boot's own
    assert 600 <= asleep < 900
    assert time.monotonic() - started < 30  # 600 board seconds are 6 s here


def test_the_shields_button_ends_the_sleep_early(tmp_path: Path) -> None:
    pressed = {"timeline": [[0, 0], [300, 1], [310, 0]], "step": True}  # board seconds since boot
    flash = board_flash(tmp_path, {"button": pressed})
    result = run_board(flash, SLEEP_MAIN.replace("SECONDS", "3600"), scale=100.0, shield="pysense")
    assert result.returncode == 0, result.stderr
    second = result.stdout.splitlines()[1].split()
    assert second[:3] == ["boot", "0", "2"]  # WAKE_REASON_PUSH_BUTTON
    assert 3300 <= int(second[3]) < 3600  # get_sleep_remaining(): the hour less (300 s - its boot time)


ACTIVITY_MAIN = """\
import machine, time
from machine import I2C, Pin

i2c = I2C(0, mode=I2C.MASTER, pins=('P22', 'P21'))
print('boot', machine.reset_cause(), machine.wake_reason()[0])
if machine.reset_cause() != machine.DEEPSLEEP_RESET:
    i2c.writeto_mem(0x1E, 0x20, bytes([0x27]))  # 50 Hz
    i2c.writeto_mem(0x1E, 0x23, bytes([0x24]))  # 4 g
    i2c.writeto_mem(0x1E, 0x24, bytes([0x03]))  # INT active low, open drain
    i2c.writeto_mem(0x1E, 0x1E, 3)  # ACT_THS: 94 mg
    i2c.writeto_mem(0x1E, 0x1F, 1)  # ACT_DUR: 180 ms
    i2c.writeto_mem(0x1E, 0x22, bytes([0x20]))  # inactivity on INT1
    time.sleep(1)  # still: the line goes low (inactive)
    machine.pin_sleep_wakeup([Pin('P13', mode=Pin.IN, pull=Pin.PULL_DOWN)], machine.WAKEUP_ANY_HIGH)
    machine.deepsleep(3600000)
"""


def test_the_accelerometer_wakes_a_deep_sleeping_module_on_p13(tmp_path: Path) -> None:
    moved = {"timeline": [[0, [0, 0, 1]], [30, [0, 0, 1]], [30.5, [0.5, 0.2, 0.8]]], "step": True}
    flash = board_flash(tmp_path, {"acceleration": moved})
    result = run_board(flash, ACTIVITY_MAIN, scale=10.0, shield="pysense2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["boot 0 0", "boot 3 1"]  # DEEPSLEEP_RESET, PIN_WAKE
