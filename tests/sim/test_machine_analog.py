"""``machine.ADC`` (with its channels) and ``machine.DAC`` as Pycom firmware 1.20.2.r6 has them
(``esp32/mods/pybadc.c``, ``pybdac.c``, ESP-IDF's ``esp_adc_cal``): every argument check with the
firmware's text, readings from the voltage a test sets on a pin (``voltage/<pin>`` of the environment),
the millivolts the firmware computes, and the DAC's output in ``peripherals.jsonl``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from conftest import outputs, raises

from firmware_sim.modules import machine
from firmware_sim.runtime import environment
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState

INVALID = "invalid argument(s) value"
NOT_POSSIBLE = "the requested operation is not possible"


def linear_mv(raw: int, attn: int, vref: int = 1100, bits: int = 12) -> int:
    """esp_adc_cal's linear characterisation (default Vref), as the firmware computes voltage()."""
    scale, offset = (57431, 76236, 105481, 196602)[attn], (75, 78, 107, 142)[attn]
    return ((vref * scale // 4096) * (raw << (12 - bits)) + 32768) // 65536 + offset


# -- ADC ------------------------------------------------------------------------------------------------


def test_adc_constants_channels_and_reprs(board: Board) -> None:
    adc = machine.ADC()
    assert (adc.ATTN_0DB, adc.ATTN_2_5DB, adc.ATTN_6DB, adc.ATTN_11DB) == (0, 1, 2, 3)
    assert repr(adc) == "ADC(0, bits=12)"
    assert machine.ADC(0, bits=10) is adc and repr(adc) == "ADC(0, bits=10)"
    pins = [repr(adc.channel(n)) for n in range(8)]
    assert pins == [f"ADCChannel({n}, pin={p}, attn=0)" for n, p in enumerate(
        ["P13", "P14", "P15", "P16", "P19", "P20", "P18", "P17"])]  # fmt: skip
    channel = adc.channel(pin="G3", attn=adc.ATTN_11DB)  # G3 is P16: channel 3
    assert channel is adc.channel(3) and repr(channel) == "ADCChannel(3, pin=P16, attn=0)"
    channel.deinit()
    assert repr(channel) == "ADCChannel(3)"
    adc.deinit()
    assert repr(adc) == "ADC(0)"
    with raises(OSError, NOT_POSSIBLE):
        adc.channel(pin="P16")  # the ADC block is off
    with raises(OSError, NOT_POSSIBLE):
        channel.init()
    adc.init(bits=12)
    channel.init()
    assert adc.vref() == 1100


def test_adc_errors_are_the_firmwares(board: Board) -> None:
    with raises(OSError, "resource not available"):
        machine.ADC(1)
    with raises(ValueError, INVALID):
        machine.ADC(bits=13)
    with raises(ValueError, INVALID):
        machine.ADC(bits=8)
    with raises(TypeError, "extra positional arguments given"):
        machine.ADC(0, 12)
    adc = machine.ADC()
    with raises(ValueError, INVALID):
        adc.init(bits=7)
    with raises(ValueError, "resource not available"):  # a ValueError with that text, as the firmware
        adc.channel(8)
    with raises(OSError, "resource not available"):
        adc.channel(pin="P10")  # not an ADC pin
    with raises(ValueError, INVALID):
        adc.channel(pin="P99")
    with raises(ValueError, INVALID):
        adc.channel()  # neither a channel nor a pin
    with raises(ValueError, INVALID):
        adc.channel(3, pin="P13")  # channel 3 is P16
    with raises(ValueError, INVALID):
        adc.channel(pin="P16", attn=4)
    with raises(TypeError, "extra keyword arguments given"):
        adc.channel(pin="P16", attn=adc.ATTN_11DB, bits=12)  # as a public driver calls it: it fails
    with raises(ValueError, "only pins P6, P21 and P22 are able to output VREF"):
        adc.vref_to_pin("P10")
    adc.vref_to_pin("P22")
    assert outputs(board, "ADC")[-1]["vref_pin"] == "P22"
    with raises(TypeError, "function expected at most 2 arguments, got 3"):
        adc.vref(1100, 1)
    channel = adc.channel(pin="P16")
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        channel.value(1)
    with raises(TypeError, "function takes 0 positional arguments but 1 were given"):
        channel(1)
    with raises(TypeError, "can't convert str to int"):
        channel.value_to_voltage("1")
    channel.deinit()
    for read in (channel.value, channel.voltage, channel):
        with raises(OSError, NOT_POSSIBLE):
            read()


POINTS = [(0, 500), (0, 1000), (1, 1200), (2, 1500), (3, 1000), (3, 2900)]


@pytest.mark.parametrize("attn, millivolts", POINTS)
def test_a_reading_is_the_set_voltage_through_the_curve(board: Board, attn: int, millivolts: int) -> None:
    environment.set("voltage", {"P16": millivolts / 1000})
    channel = machine.ADC().channel(pin="P16", attn=attn)
    raw = channel.value()
    assert 0 < raw < 4095 and channel() == raw
    assert channel.voltage() == channel.value_to_voltage(raw)
    assert abs(channel.voltage() - millivolts) <= 1
    if attn < 3 or raw < 2880:
        assert channel.voltage() == linear_mv(raw, attn)


def test_readings_clip_and_follow_bits_and_vref(board: Board) -> None:
    adc = machine.ADC()
    channel = adc.channel(pin="P13", attn=adc.ATTN_11DB)
    environment.set("voltage", {"P13": 5.0})
    assert channel.value() == 4095 and channel.voltage() == 3134  # the ESP32 saturates near 3.1 V
    environment.set("voltage", {"P13": -0.2})
    assert channel.value() == 0 and channel.voltage() == 142  # the curve's offset at 11 dB
    environment.set("voltage", None)
    assert channel.value() == 0  # no voltage set: 0 V
    environment.set("voltage", {"P13": 1.0})
    adc.init(bits=9)
    assert channel.value() == 1065 >> 3  # the width now, the calibration of the channel's init
    channel.init()
    assert channel.voltage() == linear_mv(133, 3, bits=9) == 999
    adc.init(bits=12)
    channel.init()
    raw = channel.value()
    adc.vref(1200)
    assert channel.value_to_voltage(raw) == linear_mv(raw, 3)  # not re-calibrated yet
    assert channel.voltage() == linear_mv(raw, 3, vref=1200) > 1070  # re-calibrated at voltage()
    assert channel.value_to_voltage(raw) == linear_mv(raw, 3, vref=1200)
    assert channel.value_to_voltage(4095) == 3209  # above raw 2880 at 11 dB: the table of Vref 1200 mV


def test_a_value_changed_by_the_test_is_the_next_reading(board: Board) -> None:
    channel = machine.ADC().channel(pin="P16", attn=machine.ADC.ATTN_11DB)
    environment.set("voltage", {"P16": 2.05})
    assert channel.voltage() == 2050
    environment.set("voltage", {"P16": 1.85})
    assert channel.voltage() == 1850


BATTERY_SCRIPT = """\
import time
from machine import ADC

DIVIDER = 2  # two equal resistors from the battery to ground, P16 between them

adc = ADC(0)
vbat = adc.channel(pin='P16', attn=ADC.ATTN_11DB)


def battery_volts():
    return vbat.voltage() * DIVIDER / 1000


for i in range(300):
    print('battery %.2f V' % battery_volts())
    time.sleep(0.1)
"""


@pytest.mark.process
def test_a_battery_script_reads_the_environment_file_while_it_runs(tmp_path: Path, spawn) -> None:
    flash = tmp_path / "flash"
    (flash / ".firmware-sim").mkdir(parents=True)
    (flash / "main.py").write_text(BATTERY_SCRIPT)
    env_file = flash / ".firmware-sim" / "environment.json"
    env_file.write_text(json.dumps({"voltage": {"P16": 2.05}}))
    state = BoardState(flash=str(flash), kind="lopy4", deadline=time.monotonic() + 40)
    board = spawn(
        [sys.executable, "-m", "firmware_sim.runtime.boot"], env={"FIRMWARE_SIM_BOARD_STATE": state.to_env()}
    )
    assert board.wait_for(lambda out: "battery 4.10 V" in out, 20), board.output
    tmp = env_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"voltage": {"P16": 1.85}}))
    tmp.replace(env_file)
    assert board.wait_for(lambda out: "battery 3.70 V" in out, 10), board.output
    lines = [line for line in board.output.splitlines() if line.startswith("battery")]
    assert set(lines) == {"battery 4.10 V", "battery 3.70 V"}
    assert lines.index("battery 3.70 V") > lines.index("battery 4.10 V")


# -- DAC ------------------------------------------------------------------------------------------------


def test_dac_pins_repr_and_errors(board: Board) -> None:
    dac = machine.DAC("P22")
    assert repr(dac) == "DAC()"  # the firmware prints its id with %q: the empty qstr
    assert machine.DAC("G9") is dac and machine.DAC(pin="P21") is not dac
    with raises(OSError, "resource not available"):
        machine.DAC("P10")
    with raises(OSError, "resource not available"):
        machine.DAC()
    with raises(ValueError, INVALID):
        machine.DAC("P99")
    with raises(TypeError, "extra positional arguments given"):
        machine.DAC("P22", 1)
    with raises(TypeError, "extra positional arguments given"):
        dac.init(1)
    with raises(TypeError, "can't convert str to float"):
        dac.write("half")
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        dac.write()
    with raises(ValueError, "tone frequency out of range"):
        dac.tone(100, 0)
    with raises(ValueError, "tone frequency out of range"):
        dac.tone(20001, 0)
    with raises(ValueError, "tone scale out of range"):
        dac.tone(1000, 4)
    with raises(TypeError, "'scale' argument required"):
        dac.tone(1000)


def test_dac_levels_and_tones_are_recorded(board: Board) -> None:
    dac = machine.DAC("P22")
    for value in (0.5, 2, -1, 0.2):
        dac.write(value)
    dac.tone(1000, 1)
    dac.deinit()
    records = outputs(board, "DAC")
    assert [r.get("value") for r in records] == [127, 255, 0, 51, None, None]
    assert records[0] == {**records[0], "pin": "P22", "enabled": True, "volts": 1.644}
    assert records[4] == {**records[4], "tone_hz": 1098.6, "freq": 1000, "scale": 1, "enabled": True}
    assert records[5] == {**records[5], "enabled": False, "tone_hz": 1098.6}  # off, keeping its mode
