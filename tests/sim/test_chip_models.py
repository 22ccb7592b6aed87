"""The expansion boards' chips at their register level (firmware_sim/hardware/), on in-process boards.

Each test talks to a chip as a master on the shield's bus does (write transactions, then reads), with
the values a test sets in the board's environment, and checks what the chip's datasheet says it
answers. The same chips under unchanged-style scripts, end to end, are in test_shields.py.
"""

from __future__ import annotations

import contextlib
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import in_process_board

from firmware_sim.hardware import i2c, l76, lis2hh12, ltr329, mpl3115a2, pic, shields, si7006
from firmware_sim.runtime import environment, pins
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.constfold import compile_board
from firmware_sim.testing import eventually

pytestmark = pytest.mark.unit

SCALE = 100.0  # board time runs 100 times faster


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Board]]:
    """``make(shield)``: a current in-process board with that expansion board (the last one made is
    the current board)."""
    with contextlib.ExitStack() as stack:

        def build(shield: str = "pysense", **fields) -> Board:
            fields = {"time_scale": SCALE, **fields}
            return stack.enter_context(in_process_board(tmp_path / "flash", shield=shield, **fields))

        yield build


@pytest.fixture
def board(make) -> Board:
    return make("pysense")


def chip(board: Board, address: int):
    found = i2c.buses(board).device(shields.SDA, shields.SCL, address)
    assert found is not None, f"nothing answers at {address:#x}"
    return found


def read_mem(device, register: int, n: int = 1) -> bytes:
    device.write(bytes([register]), stop=False)
    return device.read(n)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    return eventually(predicate, timeout, interval=0.002)


# -- which chips each shield has ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shield", "addresses"),
    [
        ("pysense", [0x08, 0x1E, 0x29, 0x40, 0x60]),
        ("pysense2", [0x08, 0x1E, 0x29, 0x40, 0x60]),
        ("pytrack", [0x08, 0x10, 0x1E]),
        ("pytrack2", [0x08, 0x10, 0x1E]),
        ("none", []),
    ],
)
def test_each_shield_puts_its_chips_on_p22_p21(make, shield: str, addresses: list[int]) -> None:
    board = make(shield)
    assert i2c.buses(board).addresses("P22", "P21") == addresses
    assert i2c.buses(board).addresses("P9", "P10") == []


# -- SI7006-A20 ---------------------------------------------------------------------------------------


def test_si7006_measures_the_environment_with_crc(board: Board) -> None:
    environment.set("temperature", 23.5)
    environment.set("humidity", 55.0)
    sensor = chip(board, 0x40)
    sensor.write(bytes([0xF3]))
    high, low, crc = sensor.read(3)
    code = (high << 8) | low
    assert abs(175.72 * code / 65536 - 46.85 - 23.5) < 0.011  # 14 bits
    assert crc == si7006.crc8(bytes([high, low])) and code & 0x03 == 0
    sensor.write(bytes([0xF5]))
    high, low = sensor.read(2)
    code = (high << 8) | low
    assert abs(125 * code / 65536 - 6 - 55.0) < 0.031 and code & 0x0F == 0  # 12 bits
    sensor.write(bytes([0xE0]))  # the temperature measured with that humidity
    assert sensor.read(2) == si7006.temperature_code(23.5).to_bytes(2, "big")


def test_si7006_crc_is_the_datasheets() -> None:
    assert si7006.crc8(b"\xdc") == 0x79  # CRC-8, x^8+x^5+x^4+1, initial 0
    assert si7006.crc8(b"") == 0


def test_si7006_resolution_user_and_heater_registers(board: Board) -> None:
    environment.set("humidity", 47.3)
    sensor = chip(board, 0x40)
    sensor.write(bytes([0xE7]))
    assert sensor.read(1) == b"\x3a"  # power-on value
    sensor.write(bytes([0xE6, 0x3B]))  # RES1:RES0 = 01: RH 8 bits, T 12 bits
    sensor.write(bytes([0xF5]))
    assert sensor.read(2)[1] == 0x00
    sensor.write(bytes([0x51, 0xF5]))
    sensor.write(bytes([0x11]))
    assert sensor.read(1) == b"\x05"  # only the low 4 bits
    sensor.write(bytes([0xFE]))  # reset
    sensor.write(bytes([0xE7]))
    assert sensor.read(1) == b"\x3a"


def test_si7006_electronic_id_and_firmware(board: Board) -> None:
    sensor = chip(board, 0x40)
    sensor.write(bytes([0xFC, 0xC9]))
    snb = sensor.read(6)
    assert snb[0] == 0x06  # SNB_3: a Si7006
    assert snb[2] == si7006.crc8(snb[:2]) and snb[5] == si7006.crc8(snb[:2] + snb[3:5])
    sensor.write(bytes([0xFA, 0x0F]))
    sna = sensor.read(8)
    assert sna[1] == si7006.crc8(sna[:1]) and sna[7] == si7006.crc8(bytes(sna[0:8:2]))
    sensor.write(bytes([0x84, 0xB8]))
    assert sensor.read(1) == b"\x20"


# -- LTR-329ALS-01 -------------------------------------------------------------------------------------


def test_ltr329_ids_standby_and_active_channels(board: Board) -> None:
    environment.set("light", [812, 403])
    sensor = chip(board, 0x29)
    assert read_mem(sensor, 0x86, 2) == b"\xa0\x05"  # PART_ID, MANUFAC_ID
    assert read_mem(sensor, 0x85) == b"\x03"
    assert read_mem(sensor, 0x88, 4) == b"\x00" * 4  # standby after power-on
    sensor.write(bytes([0x80, 0x01 | (3 << 2)]))  # active, gain 8x
    data = read_mem(sensor, 0x88, 4)
    assert struct.unpack("<HH", data) == (403, 812)  # CH1 then CH0
    assert read_mem(sensor, 0x8C)[0] >> 4 & 0x07 == 3
    environment.set("light", [70000, -5])
    assert struct.unpack("<HH", read_mem(sensor, 0x88, 4)) == (0, 0xFFFF)  # saturated


def test_ltr329_latches_the_group_and_resets(board: Board) -> None:
    environment.set("light", [100, 50])
    sensor = chip(board, 0x29)
    sensor.write(bytes([0x80, 0x01]))
    low = read_mem(sensor, 0x88)
    environment.set("light", [999, 999])
    rest = read_mem(sensor, 0x89) + read_mem(sensor, 0x8A) + read_mem(sensor, 0x8B)
    assert struct.unpack("<HH", low + rest) == (50, 100)  # one measurement, read byte by byte
    sensor.write(bytes([0x80, 0x02]))  # SW reset: standby again
    assert read_mem(sensor, 0x80) == b"\x00"


# -- MPL3115A2 ----------------------------------------------------------------------------------------


def test_mpl3115a2_barometer_after_its_conversion_time(board: Board) -> None:
    environment.set("pressure", 98000.25)
    environment.set("temperature", -4.5)
    sensor = chip(board, 0x60)
    assert read_mem(sensor, 0x0C) == b"\xc4"
    sensor.write(bytes([0x26, 0x38]))  # barometer, OS 128, standby
    sensor.write(bytes([0x13, 0x07]))
    sensor.write(bytes([0x26, 0x39]))  # active
    assert read_mem(sensor, 0x00) == b"\x00"  # 512 ms of board time to go
    assert wait_until(lambda: read_mem(sensor, 0x00)[0] & 0x04)
    msb, csb, lsb = read_mem(sensor, 0x01, 3)
    pascals = (msb << 10) + (csb << 2) + ((lsb >> 6) & 0x03) + ((lsb >> 4) & 0x03) / 4.0
    assert pascals == 98000.25
    assert read_mem(sensor, 0x00)[0] & 0x04 == 0  # reading OUT_P_MSB cleared PDR
    t_msb, t_lsb = read_mem(sensor, 0x04, 2)
    assert (t_msb - 256 if t_msb > 127 else t_msb) + t_lsb / 256.0 == -4.5


def test_mpl3115a2_altimeter_uses_bar_in_and_offsets(board: Board) -> None:
    environment.set("pressure", 95000)
    sensor = chip(board, 0x60)
    sensor.write(bytes([0x26, 0x80]))  # altimeter, OS 1, standby
    sensor.write(bytes([0x2D, 0x05]))  # OFF_H +5 m
    sensor.write(bytes([0x26, 0x82]))  # one shot
    assert wait_until(lambda: read_mem(sensor, 0x00)[0] & 0x04)
    assert read_mem(sensor, 0x26)[0] & 0x02 == 0  # OST clears itself
    msb, csb, lsb = read_mem(sensor, 0x01, 3)
    metres = struct.unpack(">h", bytes([msb, csb]))[0] + (lsb >> 4) / 16.0
    expected = mpl3115a2.altitude(95000, 101326) + 5
    assert abs(metres - expected) <= 1 / 16
    assert abs(expected - 5 - 540.2) < 1.0  # the barometric formula, 95 kPa against 101.326 kPa


def test_mpl3115a2_reset_and_who_am_i(board: Board) -> None:
    sensor = chip(board, 0x60)
    sensor.write(bytes([0x26, 0x39]))
    assert read_mem(sensor, 0x11) == b"\x01"  # SYSMOD active
    sensor.write(bytes([0x26, 0x04]))  # RST
    assert read_mem(sensor, 0x26) == b"\x00" and read_mem(sensor, 0x11) == b"\x00"
    assert read_mem(sensor, 0x14, 2) == bytes([0xC5, 0xE7])  # BAR_IN: 101326 Pa in 2 Pa units


# -- LIS2HH12 -----------------------------------------------------------------------------------------


def test_lis2hh12_acceleration_at_each_full_scale(board: Board) -> None:
    environment.set("acceleration", [0.5, -0.25, 1.0])
    sensor = chip(board, 0x1E)
    assert read_mem(sensor, 0x0F) == b"\x41"
    assert read_mem(sensor, 0x20) == b"\x07" and read_mem(sensor, 0x23) == b"\x04"
    assert read_mem(sensor, 0x28, 6) == b"\x00" * 6  # power-down: nothing sampled yet
    sensor.write(bytes([0x20, 0x27]))  # 50 Hz, x/y/z on
    for fs_bits, full_scale in ((0, 2.0), (2, 4.0), (3, 8.0)):
        sensor.write(bytes([0x23, 0x04 | fs_bits << 4]))  # the next read samples at the new scale
        x, y, z = struct.unpack("<hhh", read_mem(sensor, 0x28, 6))  # auto-increment
        per_lsb = full_scale / 32768
        assert (round(x * per_lsb, 3), round(y * per_lsb, 3), round(z * per_lsb, 3)) == (0.5, -0.25, 1.0)


def test_lis2hh12_pointer_temperature_and_soft_reset(board: Board) -> None:
    environment.set("temperature", 27.0)
    sensor = chip(board, 0x1E)
    assert struct.unpack("<h", read_mem(sensor, 0x0B, 2))[0] == 16  # 8 LSB per deg C from 25
    sensor.write(bytes([0x23, 0x00]))  # IF_ADD_INC off: the pointer stays
    assert read_mem(sensor, 0x0F, 2) == b"\x41\x41"
    sensor.write(bytes([0x24, 0x40]))  # SOFT_RESET
    assert read_mem(sensor, 0x23) == b"\x04"


def test_lis2hh12_inactivity_on_int1_drives_p13(make) -> None:
    board = make("pysense", time_scale=5.0)  # the filter's 1 s is 0.2 s here: time to see each state
    environment.set("acceleration", [0.0, 0.0, 1.0])
    sensor = chip(board, 0x1E)
    sensor.write(bytes([0x20, 0x27]))  # 50 Hz
    sensor.write(bytes([0x24, 0x03]))  # INT active low, open drain (as LIS2HH12.py sets it)
    sensor.write(bytes([0x1E, 0x03, 0x01]))  # ACT_THS 3 (94 mg at 4 g... here 2 g: 47 mg), ACT_DUR 1
    sensor.write(bytes([0x22, 0x20]))  # INT1_INACT
    assert pins.bank(board).state("P13").driven is not None  # the chip drives the line now
    assert wait_until(lambda: pins.read("P13") == 0)  # still for (8*1+1)/50 s: inactive (active low)
    environment.set("acceleration", [0.4, 0.0, 0.9])  # moved
    assert wait_until(lambda: pins.read("P13") == 1)  # active: high
    assert wait_until(lambda: pins.read("P13") == 0)  # and still again
    sensor.write(bytes([0x22, 0x00]))  # interrupt off: the line is let go
    assert pins.bank(board).state("P13").driven is None


# -- L76-L GNSS ---------------------------------------------------------------------------------------


def drain(gps, reads: int = 40) -> bytes:
    """What the receiver has waiting (254 bytes a read: no idle byte inside a sentence)."""
    return b"".join(gps.read(254) for _ in range(reads))


def sentences(stream: bytes) -> list[str]:
    out = []
    for raw in stream.split(b"\r\n"):
        line = raw.strip(b"\n").decode()
        if line.startswith("$") and "*" in line:
            body, cs = line[1:].split("*")
            assert int(cs, 16) == l76.checksum(body), line
            out.append(body)
    return out


def test_l76_outputs_a_fix_of_the_environments_position(make) -> None:
    board = make("pytrack")
    environment.set("position", [48.8584, -2.2945, 35.2])
    gps = chip(board, 0x10)
    lines = sentences(drain(gps))
    gga = next(s for s in lines if s.startswith("GNGGA")).split(",")
    assert gga[2:6] == ["4851.5040", "N", "00217.6700", "W"] and gga[6] == "1" and gga[9] == "35.2"
    rmc = next(s for s in lines if s.startswith("GNRMC")).split(",")
    assert rmc[2] == "A" and rmc[3:7] == gga[2:6] and rmc[1].endswith(".000")
    gll = next(s for s in lines if s.startswith("GNGLL")).split(",")
    assert gll[1:5] == gga[2:6] and gll[6] == "A"
    assert [s[:5] for s in lines[:6]] == ["GNRMC", "GNVTG", "GNGGA", "GNGSA", "GPGSV", "GPGSV"]


def test_l76_without_a_fix(make) -> None:
    gps = chip(make("pytrack2"), 0x10)
    lines = sentences(drain(gps))
    assert "GNGLL,,,,," in next(s for s in lines if s.startswith("GNGLL"))
    rmc = next(s for s in lines if s.startswith("GNRMC")).split(",")
    assert rmc[2] == "V" and rmc[9] == "060180"  # the receiver's clock from the GPS epoch
    assert next(s for s in lines if s.startswith("GNGGA")).split(",")[6] == "0"


def test_l76_reads_are_packets_padded_with_line_feeds(make) -> None:
    gps = chip(make("pytrack"), 0x10)
    first = gps.read(512)
    assert len(first) == 512 and first[254:] == b"\n" * 258 and first.startswith(b"$GNRMC")
    drain(gps)
    assert gps.read(16) == b"\n" * 16  # nothing waiting until the next fix


def test_l76_pmtk_commands(make) -> None:
    gps = chip(make("pytrack"), 0x10)
    drain(gps)
    body = "PMTK314,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"  # GGA only
    gps.write(l76.sentence(body))
    gps.write(b"$PMTK220,9999*00\r\n")  # a bad checksum: ignored
    assert [s for s in sentences(drain(gps)) if s.startswith("PMTK")] == ["PMTK001,314,3"]
    time.sleep(1.5 / SCALE)
    assert {s[:5] for s in sentences(drain(gps))} == {"GNGGA"}
    gps.write(l76.sentence("PMTK220,50"))  # below 100 ms
    assert [s for s in sentences(drain(gps)) if s.startswith("PMTK")] == ["PMTK001,220,2"]


def test_l76_buffered_fixes_follow_a_track(make) -> None:
    board = make("pytrack")
    track = {"timeline": [[0, [10.0, 20.0]], [4, [10.0, 20.0]], [4.5, [11.0, 21.0]]], "step": True}
    environment.set("position", track)
    gps = chip(board, 0x10)
    drain(gps)
    assert wait_until(lambda: board.clock.elapsed() > 8, timeout=2)
    latitudes = [s.split(",")[2] for s in sentences(drain(gps)) if s.startswith("GNGGA")]
    assert "1000.0000" in latitudes and "1100.0000" in latitudes  # the past fixes in the buffer
    assert latitudes.index("1000.0000") < latitudes.index("1100.0000")


def test_l76_coordinates_round_trip() -> None:
    assert l76.coordinate(48.8584, 2) == "4851.5040"
    assert l76.coordinate(-0.1246, 3) == "00007.4760"
    assert l76.coordinate(59.99999999, 2) == "6000.0000"
    assert l76.sentence("GPGLL,,,,,,V,N") == b"$GPGLL,,,,,,V,N*64\r\n"


# -- the PIC --------------------------------------------------------------------------------------------


def command(device, *data: int, answer: int = 0) -> bytes:
    device.write(bytes(data))
    assert device.read(1) == b"\xff"  # done
    return device.read(answer + 1)[1:]


@pytest.mark.parametrize(
    ("shield", "fw", "product"),
    [("pysense", 8, 0xF012), ("pytrack", 8, 0xF013), ("pysense2", 16, 0xF012), ("pytrack2", 16, 0xF013)],
)
def test_pic_versions_and_product_ids(make, shield: str, fw: int, product: int) -> None:
    device = chip(make(shield), 0x08)
    assert int.from_bytes(command(device, 0x11, answer=2), "little") == fw
    assert int.from_bytes(command(device, 0x12, answer=2), "little") == product
    assert int.from_bytes(command(device, 0x10, answer=2), "little") == (2 if shield.endswith("2") else 1)


def test_pic_memory_peek_poke_magic(board: Board) -> None:
    device = chip(board, 0x08)
    command(device, 0x01, 0x20, 0x06, 0x5A)  # POKE 0x0620
    assert command(device, 0x00, 0x20, 0x06, answer=1) == b"\x5a"
    assert command(device, 0x02, 0x20, 0x06, 0x0F, 0x80, 0x01, answer=1) == bytes([(0x5A & 0x0F | 0x80) ^ 1])
    assert command(device, 0x00, 0x8E, 0x00, answer=1) == b"\xff"  # TRISC: inputs after power-on


def test_pic_battery_adc_and_button(board: Board) -> None:
    environment.set("battery", 3.7)
    device = chip(board, 0x08)
    command(device, 0x01, 0x9D, 0x00, (6 << 2) | 1)  # ADCON0: AN6, ADON
    command(device, 0x01, 0x9E, 0x00, 0x60)  # ADCON1: left justified
    command(device, 0x02, 0x9D, 0x00, 0xFF, 0x02, 0x00, answer=1)  # GO
    assert command(device, 0x00, 0x9D, 0x00, answer=1)[0] & 0x02 == 0  # done
    high = command(device, 0x00, 0x9C, 0x00, answer=1)[0]
    low = command(device, 0x00, 0x9B, 0x00, answer=1)[0]
    code = (high << 2) + (low >> 6)
    assert code == pic.battery_code(3.7)
    assert abs(code * 3.3 * 280 / 1023 / 180 + 0.01 - 3.7) < 0.006  # what read_battery_voltage makes
    assert command(device, 0x00, 0x0C, 0x00, answer=1)[0] & 0x08  # RA3 high: not pressed
    environment.set("button", True)
    assert not command(device, 0x00, 0x0C, 0x00, answer=1)[0] & 0x08


def test_pic_keeps_its_memory_across_the_modules_reset(make) -> None:
    board = make("pysense")
    device = chip(board, 0x08)
    command(device, 0x20, 0x2C, 0x01, 0x00)  # SETUP_SLEEP 300 s
    command(device, 0x01, 0x91, 0x03, 0x20)  # IOCAP: accelerometer wake on RA5 rising
    board.going_down()  # what every reset does first
    saved = board.state.shield_state["pic"]
    assert saved["sleep"] == 300 and saved["memory"][str(0x391)] == 0x20
    again = make("pysense", shield_state=board.state.shield_state)
    assert command(chip(again, 0x08), 0x00, 0x91, 0x03, answer=1) == b"\x20"


def test_pic_nap_leaves_the_bus_until_p9_wakes_it(make) -> None:
    board = make("pysense2")
    device = chip(board, 0x08)
    command(device, 0x02, 0x0B, 0x00, 0xFF, 0x10, 0x00, answer=1)  # INTCON: INTE
    command(device, 0x20, 0x10, 0x0E, 0x00)  # 3600 s
    device.write(bytes([0x23, 0x06]))  # GO_NAP, the module left on
    assert 0x08 not in i2c.buses(board).addresses("P22", "P21")
    pins.drive("P9", 1)  # pycoproc_2's wake_up(): RC1 rises
    assert wait_until(lambda: 0x08 in i2c.buses(board).addresses("P22", "P21"))
    assert command(device, 0x00, 0x4C, 0x06, answer=1) == bytes([pic.WAKE_INT_PIN])
    left = sum(command(device, 0x00, 0x4D + i, 0x06, answer=1)[0] << (8 * i) for i in range(3))
    assert 3500 < left <= 3600  # the seconds of the nap left when it woke


# -- MicroPython's const(), which the libraries rely on -----------------------------------------------

CONST_CASES = {  # each printed what MicroPython's VM prints for the same code (checked with it)
    "class X:\n    A = const(8)\n    def f(self):\n        return A + 1\nprint(X().f(), X.A)\n": "9 8\n",
    "_P = const(5)\nprint(_P * 2, '_P' in globals())\n": "10 False\n",
    "A = const(1 << 4)\nB = const(A | 3)\nC = const(~(1 << 3) & 0xFF)\nprint(A, B, C)\n": "16 19 247\n",
    "Z = const(2)\nclass K:\n    def __init__(self):\n        self.Z = 'a'\nprint(K().Z, Z)\n": "a 2\n",
    "P = const(1)\ndef f(mode=P):\n    return mode is P\nprint(f())\n": "True\n",
    "Q = const(7)\ndef h(Q2):\n    return Q\nprint(h(1))\n": "7\n",
    "class E:\n    _H = const(3)\n    def g(self):\n        return _H\nprint(E().g())\n": "3\n",
}


@pytest.mark.parametrize("code", list(CONST_CASES))
def test_const_is_folded_as_micropythons_parser_does(code: str, capsys) -> None:
    exec(compile_board(code.encode(), "<const>"), {"__name__": "__main__"})
    assert capsys.readouterr().out == CONST_CASES[code]


def test_lis2hh12_and_sensors_defaults_are_a_still_board(board: Board) -> None:
    sensor = chip(board, 0x1E)
    sensor.write(bytes([0x20, 0x27]))
    assert struct.unpack("<hhh", read_mem(sensor, 0x28, 6)) == (0, 0, 16384)  # [0, 0, 1] g at 2 g
    assert lis2hh12.DEFAULT_ACCELERATION == [0.0, 0.0, 1.0]
    assert ltr329.DEFAULT_LIGHT and mpl3115a2.DEFAULT_PRESSURE == 101325.0
