"""``pycom.pulses_get`` as Pycom 1.20.2.r6 does it (``esp32/mods/modpycom.c``: RMT channel 0 at 1 us a
tick, 65.535 ms idle threshold, one memory block, timeout in ms) and a DHT22 (AM2302) a test attaches to
a pin (environment ``devices/<Pin>``), read by our own driver in the style of public Pycom DHT libraries.

In-process tests run board scripts with ``board.loader.run`` on a board that is never run or reset; one
test runs ``firmware-sim run`` with an environment file it rewrites while the board runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, raises

from firmware_sim import runtime
from firmware_sim.hardware.dht import Dht22, encode
from firmware_sim.modules import machine
from firmware_sim.modules.pycom_pulses import pulses_get, start_signal
from firmware_sim.runtime import environment, pins
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState

SCALE = 100.0

# Our own driver, shaped as the public Pycom DHT22 libraries are: OPEN_DRAIN pin, ~18 ms low, release,
# pulses_get(pin, 100), bits from the lengths of the highs.
DRIVER = """\
import pycom
import time
from machine import Pin


class DHTError(Exception):
    pass


class DHT22:
    def __init__(self, pin_name):
        self.pin = Pin(pin_name, mode=Pin.OPEN_DRAIN)
        self.pin(1)

    def _capture(self):
        self.pin(0)  # start signal
        time.sleep_ms(18)
        self.pin(1)
        pulses = pycom.pulses_get(self.pin, 100)
        self.pin.init(Pin.OPEN_DRAIN)  # pulses_get leaves the pin an input
        self.pin(1)
        return pulses

    def read(self):
        pulses = self._capture()
        highs = [length for level, length in pulses if level == 1 and length > 0]
        if len(highs) < 40:
            raise DHTError('no answer (%d pulses)' % len(pulses))
        data = bytearray(5)
        for i, length in enumerate(highs[-40:]):
            data[i // 8] = (data[i // 8] << 1) | (1 if length > 48 else 0)
        if (data[0] + data[1] + data[2] + data[3]) & 0xFF != data[4]:
            raise DHTError('checksum')
        humidity = ((data[0] << 8) | data[1]) / 10
        temperature = (((data[2] & 0x7F) << 8) | data[3]) / 10
        if data[2] & 0x80:
            temperature = -temperature
        return temperature, humidity
"""

MAIN = """\
from dht22 import DHT22, DHTError

sensor = DHT22('{pin}')
try:
    temperature, humidity = sensor.read()
    print('temperature %.1f C, humidity %.1f %%' % (temperature, humidity))
except DHTError as e:
    print('DHT22 error:', e)
"""

# the other public shape: the line left low for pulses_get to release, 82 pulses expected
HELD_LOW = """\
import pycom
import time
from machine import Pin

pin = Pin('P9', mode=Pin.OPEN_DRAIN)
pin(1)
time.sleep(2)
pin(0)
time.sleep_ms(1)
pulses = pycom.pulses_get(pin, 100)
pin.init(Pin.OPEN_DRAIN)
print(len(pulses), pulses[0])
bits = [0 if length < 50 else 1 for level, length in pulses[1:] if level == 1]
data = [int(''.join(str(b) for b in bits[n * 8:n * 8 + 8]), 2) for n in range(5)]
print(data, (data[0] + data[1] + data[2] + data[3]) & 0xFF == data[4])
"""


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    b = Board(BoardState(flash=str(tmp_path / "flash"), kind="lopy4", time_scale=SCALE))
    runtime.set_current(b)
    yield b
    runtime.set_current(None)


def run_main(board: Board, main: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    flash = Path(board.state.flash)
    (flash / "lib").mkdir(parents=True, exist_ok=True)
    (flash / "lib" / "dht22.py").write_text(DRIVER)
    (flash / "main.py").write_text(main)
    board.loader.run("main.py", "main.py")
    return capsys.readouterr().out.splitlines()


# -- the DHT22 read by a driver --------------------------------------------------------------------


def test_a_dht22_driver_prints_what_the_test_set(board: Board, capsys) -> None:
    environment.set("devices", {"P23": "dht22"})
    environment.set("temperature", 21.5)
    environment.set("humidity", 48.3)
    assert run_main(board, MAIN.format(pin="P23"), capsys) == ["temperature 21.5 C, humidity 48.3 %"]


def test_a_sensor_with_its_own_values_on_an_expansion_board_pin(board: Board, capsys) -> None:
    environment.set("temperature", 21.5)  # the room; this sensor has its own values
    environment.set("devices", {"G10": {"type": "am2302", "temperature": -12.7, "humidity": 99.95}})
    # G10 is P23; below 0 the sign bit is set; humidity stays within the sensor's 99.9 %RH
    assert run_main(board, MAIN.format(pin="P23"), capsys) == ["temperature -12.7 C, humidity 99.9 %"]


def test_a_changed_value_is_sent_at_the_reading_after_next(board: Board, capsys) -> None:
    # AM2302 datasheet: the host always reads the measurement made after the previous transmission
    environment.set("devices", {"P23": "dht22"})
    environment.set("temperature", 21.5)
    environment.set("humidity", 40.0)
    main = MAIN.format(pin="P23")
    assert run_main(board, main, capsys) == ["temperature 21.5 C, humidity 40.0 %"]
    environment.set("temperature", -3.2)
    environment.set("humidity", 55.0)
    assert run_main(board, main, capsys) == ["temperature 21.5 C, humidity 40.0 %"]
    assert run_main(board, main, capsys) == ["temperature -3.2 C, humidity 55.0 %"]
    assert run_main(board, main, capsys) == ["temperature -3.2 C, humidity 55.0 %"]


def test_a_missing_sensor_gives_an_empty_list_after_the_timeout(board: Board, capsys) -> None:
    assert run_main(board, MAIN.format(pin="P23"), capsys) == ["DHT22 error: no answer (0 pulses)"]
    pin = machine.Pin("P23", mode=machine.Pin.OPEN_DRAIN)
    pin(0)
    board.clock.sleep(0.02)
    before = board.clock.elapsed()
    assert pulses_get(pin, 250) == []
    assert board.clock.elapsed() - before >= 0.25  # the whole timeout, in milliseconds


def test_a_line_left_low_is_released_by_pulses_get_and_gives_82_pulses(board: Board, capsys) -> None:
    environment.set("devices", {"P9": "dht22"})
    environment.set("temperature", 26.9)
    environment.set("humidity", 65.8)
    # the receiver starts during the 80 us acknowledge low: the first pulse is the 80 us high
    assert run_main(board, HELD_LOW, capsys) == ["82 (1, 80)", "[2, 146, 1, 13, 162] True"]


def test_the_pin_stays_an_input_until_configured_again(board: Board, capsys) -> None:
    # the documentation's example read twice without re-initialising the pin: pin(0) no longer drives
    environment.set("devices", {"P10": "dht22"})
    main = (
        "from machine import Pin\n"
        "from pycom import pulses_get\n"
        "from time import sleep_ms\n"
        "pin = Pin('P10', mode=Pin.OPEN_DRAIN)\n"
        "for attempt in range(2):\n"
        "    pin(0)\n"
        "    sleep_ms(20)\n"
        "    pin(1)\n"
        "    print(len(pulses_get(pin, 100)))\n"
        "print(pin.mode() == Pin.OPEN_DRAIN)\n"
        "pin.init(Pin.OPEN_DRAIN)\n"
        "pin(0)\n"
        "sleep_ms(20)\n"
        "pin(1)\n"
        "print(len(pulses_get(pin, 100)))\n"
    )
    assert run_main(board, main, capsys) == ["82", "0", "True", "82"]


def test_each_start_signal_is_answered_once(board: Board) -> None:
    environment.set("devices", {"P10": "dht22"})
    pin = machine.Pin("P10", mode=machine.Pin.OPEN_DRAIN)
    pin(0)
    board.clock.sleep(0.002)
    assert len(pulses_get(pin, 100)) == 82
    assert pulses_get(pin, 100) == []


def test_the_sensor_answers_a_start_signal_of_1_ms_or_more_once() -> None:
    sensor = Dht22(lambda key, default: {"temperature": 26.9, "humidity": 65.8}.get(key, default))
    assert sensor.start_signal(10.0, 10.0009, "dht22") is None  # 0.9 ms: too short
    wave = sensor.start_signal(12.0, 12.001, "dht22")
    assert wave is not None and wave.start == 12.001
    assert wave.pulses[:3] == ((1, 30), (0, 80), (1, 80)) and wave.pulses[-1] == (0, 50)
    assert len(wave.pulses) == 3 + 80 + 1
    assert sensor.start_signal(12.0, 12.002, "dht22") is None  # the same low: answered already
    assert encode(26.9, 65.8) == bytes([0x02, 0x92, 0x01, 0x0D, 0xA2])  # the datasheet's example
    assert encode(-10.1, 0) == bytes([0x00, 0x00, 0x80, 0x65, 0xE5])


def test_the_start_signal_is_read_from_the_pins_drive_changes() -> None:
    call = 5.0
    # held low until the call: pulses_get's rmt_config releases it 10 us into the call
    assert start_signal([(0.0, None), (4.98, 0), (5.0, None)], call, 1.0) == (4.98, 5.00001)
    # released by pin(1) just before the call (host time): a statement's 30 us before it
    held = [(0.0, None), (4.9, 0), (4.999, 1), (5.0, None)]
    assert start_signal(held, call, 1.0) == (4.9, call - 30e-6)
    # the same 1 ms of board time under --time-scale 100 is 10 us of host time: still back to back
    assert start_signal(held, call, 100.0) == (4.9, call - 30e-6)
    # released 10 ms of host time before the call (a sleep_ms(10)): as it was, the answer is over
    assert start_signal([(0.0, None), (4.9, 0), (4.99, 1), (5.0, None)], call, 1.0) == (4.9, 4.99)
    assert start_signal([(0.0, None), (4.9, 1), (5.0, None)], call, 1.0) is None  # never low


def test_the_answer_arrives_after_the_idle_threshold(board: Board) -> None:
    # the frame is delivered once the line has been still for 65.535 ms: a 50 ms timeout is too short
    environment.set("devices", {"P10": "dht22"})
    pin = machine.Pin("P10", mode=machine.Pin.OPEN_DRAIN)
    pin(0)
    board.clock.sleep(0.02)
    assert pulses_get(pin, 50) == []
    pin.init(machine.Pin.OPEN_DRAIN)
    pin(0)
    board.clock.sleep(0.02)
    before = board.clock.elapsed()
    assert len(pulses_get(pin, 100)) == 82
    assert board.clock.elapsed() - before >= 0.0695  # ~4 ms of answer, then 65.535 ms of idle


# -- a plain pulse train ---------------------------------------------------------------------------


def test_a_pulse_train_comes_back_as_the_rmt_records_it(board: Board) -> None:
    train = [[0, 500], [1, 1500], [0, 560], [1, 1690]]
    environment.set("pulses", {"P11": train})
    assert pulses_get("P11", 100) == [(0, 500), (1, 1500), (0, 560), (1, 1690)]
    assert pulses_get(machine.Pin("P11"), 100) == [(0, 500), (1, 1500), (0, 560), (1, 1690)]  # each time
    # an odd number of pulses: the idle level ends the list as (level, 0), and it feeds back unchanged
    environment.set("pulses", {"P11": [[1, 100], [0, 200], [1, 300]]})
    assert pulses_get("P11", 100) == [(1, 100), (0, 200), (1, 300), (0, 0)]
    environment.set("pulses", {"P11": [[1, 100], [0, 200], [1, 300], [0, 0]]})
    assert pulses_get("P11", 100) == [(1, 100), (0, 200), (1, 300), (0, 0)]


def test_the_receiver_filters_glitches_and_keeps_128_pulses(board: Board) -> None:
    environment.set("pulses", {"G4": [[1, 100], [0, 1], [1, 100], [0, 50]]})  # G4 is P14
    assert pulses_get("P14", 100) == [(1, 201), (0, 50)]  # a 1 us glitch is under the 1.25 us filter
    environment.set("pulses", {"P14": [[i % 2, 10] for i in range(200)]})
    got = pulses_get("P14", 100)
    assert len(got) == 128 and got[0] == (0, 10) and got[-1] == (1, 10)
    # a level longer than the idle threshold ends the frame there
    environment.set("pulses", {"P14": [[1, 30], [0, 70000], [1, 30]]})
    assert pulses_get("P14", 200) == [(1, 30), (0, 0)]


def test_a_train_longer_than_the_timeout_gives_nothing(board: Board) -> None:
    environment.set("pulses", {"P11": [[1, 20000], [0, 20000]]})
    assert pulses_get("P11", 100) == []  # complete at 40 + 65.5 ms
    assert pulses_get("P11", 110) == [(1, 20000), (0, 20000)]
    assert pulses_get("P11", -1) == [(1, 20000), (0, 20000)]  # portMAX_DELAY: until the frame ends


# -- argument errors -------------------------------------------------------------------------------


def test_wrong_arguments_raise_the_firmwares_errors(board: Board) -> None:
    with raises(ValueError, "invalid argument(s) value"):
        pulses_get("P99", 100)
    with raises(ValueError, "invalid argument(s) value"):
        pulses_get(10, 100)
    with raises(TypeError, "can't convert str to int"):
        pulses_get("P10", "100")
    with raises(TypeError, "can't convert float to int"):
        pulses_get("P10", 100.0)
    with raises(OverflowError, "overflow converting long int to machine word"):
        pulses_get("P10", 2**31)
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        pulses_get("P10")
    with raises(TypeError, "function takes 2 positional arguments but 3 were given"):
        pulses_get("P10", 100, 1)
    with raises(TypeError, "function doesn't take keyword arguments"):
        pulses_get(pin="P10", timeout=100)


def test_the_pin_is_taken_before_the_timeout_is_converted(board: Board) -> None:
    # modpycom.c: rmt_config() has made the pin the receiver's input when mp_obj_get_int(timeout) fails
    pin = machine.Pin("P12", mode=machine.Pin.OPEN_DRAIN, pull=machine.Pin.PULL_UP)
    pin(0)
    assert pins.read("P12") == 0
    with raises(TypeError, "can't convert NoneType to int"):
        pulses_get(pin, None)
    assert pins.read("P12") == 1  # released: the pull-up holds the line high


# -- firmware-sim run, the environment file rewritten while the board runs -------------------------


@pytest.mark.process
def test_firmware_sim_run_reads_the_environment_file_as_it_changes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "lib" / "dht22.py").write_text(DRIVER)
    (project / "main.py").write_text(
        "import time\n"
        "from dht22 import DHT22\n"
        "sensor = DHT22('P23')\n"
        "while True:\n"
        "    temperature, humidity = sensor.read()\n"
        "    print('%.1f %.1f' % (temperature, humidity))\n"
        "    time.sleep(2)\n"
    )
    env_file = tmp_path / "environment.json"

    def write_env(values: dict) -> None:
        tmp = env_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"devices": {"P23": "dht22"}, **values}))
        os.replace(tmp, env_file)

    write_env({"temperature": 18.4, "humidity": 62.0})
    args = ["run", "--time-scale", "100", "--timeout", "30", "--environment", str(env_file), str(project)]
    stderr = tmp_path / "stderr.txt"
    with (
        stderr.open("w") as errors,
        subprocess.Popen(
            [sys.executable, "-m", "firmware_sim", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as board_process,
    ):
        assert board_process.stdout is not None
        lines = []
        try:  # every readline ends by the board's --timeout at the latest
            lines.append(board_process.stdout.readline().strip())
            write_env({"temperature": 23.1, "humidity": 45.5})
            while "23.1 45.5" not in lines and len(lines) < 200:
                lines.append(board_process.stdout.readline().strip())
        finally:
            board_process.kill()
    assert lines[0] == "18.4 62.0", stderr.read_text()
    assert "23.1 45.5" in lines
    assert set(lines) == {"18.4 62.0", "23.1 45.5"}
