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

DRIVERS = """\
# Small drivers for the Pysense / Pytrack chips (I2C on P22/P21), as a project would write them.
from machine import I2C
import struct
import time

PIC = 8


class Coproc:
    def __init__(self):
        self.i2c = I2C(0, mode=I2C.MASTER, pins=('P22', 'P21'))
        self.fw = self.cmd(bytes([0x11]), 2)
        self.fw = self.fw[0] + (self.fw[1] << 8)

    def cmd(self, data, n=0):
        self.i2c.writeto(PIC, data)
        while self.i2c.readfrom(PIC, 1)[0] != 0xFF:
            time.sleep_ms(1)
        return self.i2c.readfrom(PIC, n + 1)[1:]

    def peek(self, addr):
        return self.cmd(bytes([0, addr & 0xFF, addr >> 8]), 1)[0]

    def poke(self, addr, value):
        self.cmd(bytes([1, addr & 0xFF, addr >> 8, value]))

    def battery(self):
        self.poke(0x9D, (6 << 2) | 1)
        self.poke(0x9E, 0x60)
        self.poke(0x9D, (6 << 2) | 3)
        while self.peek(0x9D) & 2:
            time.sleep_ms(1)
        adc = (self.peek(0x9C) << 2) + (self.peek(0x9B) >> 6)
        return adc * 3.3 * 280 / 1023 / 180 + 0.01

    def wake_reason(self):
        return self.peek(0x64C)

    def sleep_left(self):
        return self.peek(0x64D) + (self.peek(0x64E) << 8) + (self.peek(0x64F) << 16)

    def sleep(self, seconds):
        self.cmd(bytes([0x20, seconds & 0xFF, (seconds >> 8) & 0xFF, seconds >> 16]))
        if self.fw < 16:
            self.i2c.writeto(PIC, bytes([0x21]))
        else:
            self.i2c.writeto(PIC, bytes([0x23, 0x0F]))


def temperature(i2c):
    i2c.writeto(0x40, bytes([0xF3]))
    time.sleep_ms(20)
    d = i2c.readfrom(0x40, 3)
    return 175.72 * ((d[0] << 8) + d[1]) / 65536 - 46.85


def humidity(i2c):
    i2c.writeto(0x40, bytes([0xF5]))
    time.sleep_ms(20)
    d = i2c.readfrom(0x40, 2)
    return 125.0 * ((d[0] << 8) + d[1]) / 65536 - 6


def light(i2c):
    i2c.writeto_mem(0x29, 0x80, bytes([0x01]))
    time.sleep_ms(10)
    ch1 = i2c.readfrom_mem(0x29, 0x88, 2)
    ch0 = i2c.readfrom_mem(0x29, 0x8A, 2)
    return (ch0[0] + (ch0[1] << 8), ch1[0] + (ch1[1] << 8))


def pressure(i2c):
    i2c.writeto_mem(0x60, 0x26, bytes([0x38]))
    i2c.writeto_mem(0x60, 0x26, bytes([0x39]))
    status = bytearray(1)
    while not status[0] & 0x04:
        time.sleep_ms(10)
        i2c.readfrom_mem_into(0x60, 0x00, status)
    p = i2c.readfrom_mem(0x60, 0x01, 3)
    return (p[0] << 10) + (p[1] << 2) + (p[2] >> 6) + ((p[2] >> 4) & 3) / 4.0


def acceleration(i2c):
    if i2c.readfrom_mem(0x1E, 0x0F, 1)[0] != 0x41:
        raise ValueError('no LIS2HH12')
    i2c.writeto_mem(0x1E, 0x20, bytes([0x27]))
    i2c.writeto_mem(0x1E, 0x23, bytes([0x24]))
    x, y, z = struct.unpack('<hhh', i2c.readfrom_mem(0x1E, 0x28, 6))
    return (x * 4.0 / 32768, y * 4.0 / 32768, z * 4.0 / 32768)


def position(i2c, timeout_ms=5000):
    # what waits in the receiver is old: let it go, then read the next fix's GGA
    while i2c.readfrom(0x10, 255).strip(b'\\n'):
        pass
    start = time.ticks_ms()
    buf = b''
    while time.ticks_diff(time.ticks_ms(), start) < timeout_ms:
        buf += i2c.readfrom(0x10, 64)
        while b'\\n' in buf:
            line, buf = buf.split(b'\\n', 1)
            if not line.startswith(b'$GNGGA'):
                continue
            f = line.strip().decode().split(',')
            if f[6] == '0':
                return None
            lat = int(f[2][:2]) + float(f[2][2:]) / 60
            lon = int(f[4][:3]) + float(f[4][3:]) / 60
            return (-lat if f[3] == 'S' else lat, -lon if f[5] == 'W' else lon, float(f[9]))
        time.sleep_ms(20)
    return None
"""

PYSENSE_MAIN = """\
import time
from sensors import Coproc, temperature, humidity, light, pressure, acceleration

py = Coproc()
print('Temperature: %.2f deg C' % temperature(py.i2c))
print('Humidity: %.2f %%RH' % humidity(py.i2c))
print('Light: %d %d' % light(py.i2c))
print('Pressure: %.2f Pa' % pressure(py.i2c))
print('Acceleration: %.3f %.3f %.3f' % acceleration(py.i2c))
print('Battery: %.2f V' % py.battery())
"""


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
