"""``machine.I2C`` and ``machine.SPI`` as Pycom firmware 1.20.2.r6 has them (``esp32/mods/machine_i2c.c``,
``machspi.c``): constructors, defaults, every argument check with the firmware's text, transactions
reaching the chips on the bus of the object's pins (:mod:`firmware_sim.hardware.i2c` / ``.spi``), and
what a test sees of them in ``peripherals.jsonl``. The chips here are tiny models written for the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import outputs, raises, run_script

from firmware_sim import runtime
from firmware_sim.hardware import i2c as i2c_wires
from firmware_sim.hardware import spi as spi_wires
from firmware_sim.modules import machine
from firmware_sim.runtime import pins
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState

INVALID = "invalid argument(s) value"


def make_board(flash: Path, kind: str = "lopy4") -> Board:
    return Board(BoardState(flash=str(flash), kind=kind, time_scale=100.0))


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    b = make_board(tmp_path / "flash")
    runtime.set_current(b)
    yield b
    runtime.set_current(None)


class RegisterChip:
    """An I2C chip with a register file: a write sets the register pointer (1 or 2 address bytes)
    and stores what follows; a read returns registers from the pointer on (auto-increment)."""

    def __init__(self, address: int, address_bytes: int = 1, size: int = 256) -> None:
        self.address = address
        self.address_bytes = address_bytes
        self.mem = bytearray(size)
        self.pointer = 0
        self.stops: list[bool] = []

    def write(self, data: bytes, stop: bool = True) -> None:
        self.stops.append(stop)
        if len(data) >= self.address_bytes:
            self.pointer = int.from_bytes(data[: self.address_bytes], "big") % len(self.mem)
        for byte in data[self.address_bytes :]:
            self.mem[self.pointer] = byte
            self.pointer = (self.pointer + 1) % len(self.mem)

    def read(self, n: int, stop: bool = True) -> bytes:
        out = bytes(self.mem[(self.pointer + i) % len(self.mem)] for i in range(n))
        self.pointer = (self.pointer + n) % len(self.mem)
        return out


def attach(board: Board, chip: RegisterChip, sda: str = "P22", scl: str = "P21") -> RegisterChip:
    i2c_wires.buses(board).attach(sda, scl, chip)
    return chip


# -- I2C ------------------------------------------------------------------------------------------------


def test_i2c_defaults_one_object_per_bus_and_its_repr(board: Board) -> None:
    chip = attach(board, RegisterChip(0x40), "P9", "P10")  # the default pins: SDA P9, SCL P10
    i2c = machine.I2C(0)
    assert repr(i2c) == "I2C(0, I2C.MASTER, baudrate=100000)"
    assert i2c.scan() == [0x40] and machine.I2C.MASTER == 0
    assert machine.I2C(0, machine.I2C.MASTER, baudrate=400000) is i2c
    assert repr(i2c) == "I2C(0, I2C.MASTER, baudrate=400000)"
    i2c.writeto(0x40, b"\x05\xaa")
    assert chip.mem[5] == 0xAA
    for primitive in ("start", "stop", "readinto", "write", "read"):
        assert not hasattr(i2c, primitive)  # the firmware's class has no primitive operations
    i2c.deinit()
    assert repr(i2c) == "I2C(0)" and i2c.scan() == []
    with raises(OSError, "I2C bus error"):
        i2c.readfrom(0x40, 1)  # a hardware bus lets its pins go at deinit
    i2c.init(machine.I2C.MASTER, pins=("G9", "G8"))  # expansion board names: P22, P21
    attach(board, RegisterChip(0x1E))
    assert i2c.scan() == [0x1E]


def test_i2c_errors_are_the_firmwares(board: Board) -> None:
    attach(board, RegisterChip(0x40))
    with raises(OSError, "resource not available"):
        machine.I2C(3)
    with raises(OSError, "resource not available"):
        machine.I2C(-1)
    with raises(ValueError, INVALID):
        machine.I2C(0, mode=1)
    with raises(ValueError, INVALID):
        machine.I2C(0, baudrate=0)
    with raises(TypeError, "object 'str' isn't a tuple or list"):
        machine.I2C(0, pins="P9")
    with raises(ValueError, "requested length 2 but object has length 1"):
        machine.I2C(0, pins=("P9",))
    with raises(ValueError, INVALID):
        machine.I2C(0, pins=("P9", "P99"))
    with raises(TypeError, "extra positional arguments given"):
        machine.I2C(0, 0, 100000)
    with raises(TypeError, "extra keyword arguments given"):
        machine.I2C(0, speed=100000)
    with raises(TypeError, "can't convert str to int"):
        machine.I2C(0, baudrate="fast")
    i2c = machine.I2C(0, pins=("P22", "P21"))
    with raises(TypeError, "'nbytes' argument required"):
        i2c.readfrom(0x40)
    with raises(ValueError, "invalid memory address size 12"):
        i2c.readfrom_mem(0x40, 0, 2, addrsize=12)
    with raises(ValueError, "invalid memory address size 7"):
        i2c.writeto_mem(0x40, 0, b"x", addrsize=7)
    with raises(TypeError, "object with buffer protocol required"):
        i2c.writeto(0x40, 1.5)
    with raises(TypeError, "object with buffer protocol required"):
        i2c.readfrom_into(0x40, b"xx")  # bytes are read-only
    with raises(TypeError, "extra keyword arguments given"):
        i2c.readfrom_mem(0x40, 0, 2, stop=False)
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        i2c.scan(1)
    with raises(OSError, "I2C bus error"):
        i2c.writeto(0x41, b"\x00")  # nobody acknowledges 0x41
    with raises(OSError, "I2C bus error"):
        i2c.readfrom_mem(0x41, 0, 2)


def test_register_reads_writes_and_16_bit_addresses(board: Board) -> None:
    sensor = attach(board, RegisterChip(0x40))
    eeprom = attach(board, RegisterChip(0x50, address_bytes=2, size=4096))
    i2c = machine.I2C(0, pins=("P22", "P21"))
    assert i2c.scan() == [0x40, 0x50]
    assert i2c.writeto_mem(0x40, 0x10, b"\x01\x02\x03") == 3
    assert sensor.mem[0x10:0x13] == b"\x01\x02\x03" and sensor.stops[-1] is True
    assert i2c.readfrom_mem(0x40, 0x11, 2) == b"\x02\x03"
    assert sensor.stops[-1] is False  # the register address, then a repeated START
    buf = bytearray(3)
    assert i2c.readfrom_mem_into(0x40, 0x10, buf) == 3 and buf == b"\x01\x02\x03"
    assert i2c.readfrom_mem(0x40, 0x10, 0) == b""
    assert i2c.writeto(0x40, 0x12, stop=False) == 1  # an int is one byte
    assert sensor.stops[-1] is False and i2c.readfrom(0x40, 1) == b"\x03"
    assert i2c.writeto_mem(0x50, 0x0102, b"hello", addrsize=16) == 5
    assert eeprom.mem[0x0102:0x0107] == b"hello"
    assert i2c.readfrom_mem(0x50, 0x0102, 5, addrsize=16) == b"hello"
    i2c.writeto_mem(0x40, 0x20, "ok")  # a str is a buffer
    assert sensor.mem[0x20:0x22] == b"ok"
    assert i2c.readfrom(0x40 | 0x80, 1) == sensor.mem[0x22:0x23]  # the firmware sends addr << 1: 7 bits
    records = outputs(board, "I2C")
    first = {"bus": 0, "sda": "P22", "scl": "P21", "addr": 0x40, "write": "10010203"}
    assert records[0] == {**records[0], **first} and "read" not in records[0]
    assert records[1]["write"] == "11" and records[1]["read"] == "0203"


def test_the_software_bus_2_reaches_the_same_chips_and_survives_deinit(board: Board) -> None:
    chip = attach(board, RegisterChip(0x40))
    attach(board, RegisterChip(0x78))
    attach(board, RegisterChip(0x05))
    hardware = machine.I2C(0, pins=("P22", "P21"))
    software = machine.I2C(2, pins=("P22", "P21"), baudrate=50000)
    assert hardware.scan() == [0x40, 0x78]  # 0x08..0x78 on the controllers
    assert software.scan() == [0x40]  # 0x08..0x77 on the software master
    software.writeto_mem(0x40, 0, b"\x42")
    assert chip.mem[0] == 0x42
    software.deinit()
    assert repr(software) == "I2C(2)"
    assert software.readfrom_mem(0x40, 0, 1) == b"\x42"  # its pins stay: it still works


SENSOR_SCRIPT = """\
from machine import I2C
import time

SENSOR_ADDR = 0x48
REG_TEMP = 0x00  # MSB, LSB: 12 bits, 1/16 degree
REG_CTRL = 0x20


class TempSensor:
    def __init__(self, i2c, addr=SENSOR_ADDR):
        self.i2c = i2c
        self.addr = addr
        self.i2c.writeto_mem(self.addr, REG_CTRL, bytes([0x60, 0xA0]))  # 12 bits, 4 Hz

    def temperature(self):
        data = self.i2c.readfrom_mem(self.addr, REG_TEMP, 2)
        raw = ((data[0] << 8) | data[1]) >> 4
        if raw & 0x800:
            raw -= 4096
        return raw * 0.0625


i2c = I2C(0, I2C.MASTER, baudrate=400000, pins=('P22', 'P21'))
print('found', [hex(addr) for addr in i2c.scan()])
sensor = TempSensor(i2c)
print('temperature', sensor.temperature())
try:
    i2c.readfrom(0x49, 2)
except OSError as e:
    print('no chip at 0x49:', e)
"""


def test_a_sensor_driver_script_reads_a_register_chip(board: Board) -> None:
    chip = attach(board, RegisterChip(0x48))
    chip.mem[0:2] = ((round(21.5 / 0.0625) << 4) & 0xFFFF).to_bytes(2, "big")
    out = run_script(board, SENSOR_SCRIPT)
    assert out == "found ['0x48']\ntemperature 21.5\nno chip at 0x49: I2C bus error\n"
    assert chip.mem[0x20:0x22] == b"\x60\xa0"  # the driver's configuration reached the chip


# -- SPI ------------------------------------------------------------------------------------------------


class SpiRegisterChip:
    """An SPI chip selected by ``cs``: the first byte of a transfer is a command (bit 7: read, bits 0-6:
    register); a read answers the registers from there on, a write stores the bytes that follow."""

    def __init__(self, cs: str | None) -> None:
        self.cs = cs
        self.regs = bytearray(128)
        self.received: list[bytes] = []

    def transfer(self, data: bytes) -> bytes:
        self.received.append(data)
        command, rest = data[0], data[1:]
        reg = command & 0x7F
        if command & 0x80:
            return b"\xff" + bytes(self.regs[(reg + i) % 128] for i in range(len(rest)))
        self.regs[reg : reg + len(rest)] = rest
        return b"\xff" * len(data)


def test_spi_defaults_repr_and_constants(tmp_path: Path, board: Board) -> None:
    spi = machine.SPI(0)
    assert repr(spi) == "SPI(0, SPI.MASTER, baudrate=1000000, bits=8, polarity=0, phase=0, firstbit=SPI.MSB)"
    assert (machine.SPI.MASTER, machine.SPI.MSB, machine.SPI.LSB) == (0, 0, 1)
    assert machine.SPI(0, baudrate=2000000, bits=16, polarity=1, phase=1, firstbit=machine.SPI.LSB) is spi
    # the firmware prints firstbit=SPI.MSB whatever the bit order
    assert repr(spi) == "SPI(0, SPI.MASTER, baudrate=2000000, bits=16, polarity=1, phase=1, firstbit=SPI.MSB)"
    with raises(OSError, "resource not available"):
        machine.SPI(1)  # a LoPy4's second SPI drives its radio
    spi.deinit()
    assert repr(spi) == "SPI(0)"
    with raises(OSError, "the requested operation is not possible"):
        spi.write(b"x")
    wipy = make_board(tmp_path / "wipy", kind="wipy")
    runtime.set_current(wipy)
    spi1 = machine.SPI(1)
    assert repr(spi1).startswith("SPI(1, SPI.MASTER")
    spi1.write(b"\x01")
    assert outputs(wipy, "SPI")[-1] == {**outputs(wipy, "SPI")[-1], "clk": "P19", "mosi": "P20"}


def test_spi_errors_are_the_firmwares(board: Board) -> None:
    with raises(OSError, "resource not available"):
        machine.SPI(2)
    for bad in ({"mode": 1}, {"bits": 12}, {"polarity": 2}, {"phase": -1}, {"firstbit": 2}, {"baudrate": 0}):
        with raises(ValueError, INVALID):
            machine.SPI(0, **bad)
    with raises(TypeError, "object 'str' isn't a tuple or list"):
        machine.SPI(0, pins="P10")
    with raises(ValueError, "requested length 3 but object has length 2"):
        machine.SPI(0, pins=("P10", "P11"))
    with raises(ValueError, INVALID):
        machine.SPI(0, pins=("P10", "P11", "Q14"))
    with raises(TypeError, "extra keyword arguments given"):
        machine.SPI(0, cs="P9")
    spi = machine.SPI(0)
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        spi.write()
    with raises(TypeError, "'nbytes' argument required"):
        spi.read()
    with raises(TypeError, "extra positional arguments given"):
        spi.read(2, 0xFF)
    with raises(ValueError, INVALID):
        spi.write_readinto(b"ab", bytearray(3))
    with raises(TypeError, "object with buffer protocol required"):
        spi.write_readinto(b"ab", b"cd")
    with raises(TypeError, "object with buffer protocol required"):
        spi.write(None)


def test_miso_reads_high_when_released_and_what_a_selected_chip_answers(board: Board) -> None:
    spi = machine.SPI(0, mode=machine.SPI.MASTER, baudrate=8000000)
    assert spi.read(3) == b"\xff\xff\xff"  # nothing drives MISO: it idles high
    pins.drive("P14", 0)
    assert spi.read(2) == b"\x00\x00"  # a test holds MISO low
    pins.drive("P14", None)
    no_miso = machine.SPI(0, pins=("P10", "P11", None))
    assert no_miso.read(2) == b"\x00\x00"  # an unrouted MISO is tied low
    chip = SpiRegisterChip(cs="P9")
    chip.regs[0x0F] = 0x33
    spi_wires.buses(board).attach("P10", "P11", chip)
    spi.init(pins=("P10", "P11", "P14"))
    cs = machine.Pin("P9", mode=machine.Pin.OUT, value=1)
    buf = bytearray(2)
    assert spi.write_readinto(bytes([0x80 | 0x0F, 0x00]), buf) == 2
    assert buf == b"\xff\xff" and chip.received == []  # not selected: the chip heard nothing
    cs(0)
    spi.write_readinto(bytes([0x80 | 0x0F, 0x00]), buf)
    assert buf == b"\xff\x33"
    spi.write(bytes([0x20, 0x47]))
    assert chip.regs[0x20] == 0x47
    assert spi.readinto(bytearray(2), write=0xA0) == 2 and chip.received[-1] == b"\xa0\xa0"
    cs(1)


def test_words_of_16_bits_send_the_write_word_little_endian(board: Board) -> None:
    spi = machine.SPI(0, bits=16)
    assert spi.read(4, write=0x1234) == b"\xff" * 4
    assert spi.write(b"\x01\x02\x03") == 3  # a partial last word is padded
    records = outputs(board, "SPI")
    assert [r["write"] for r in records] == ["34123412", "01020300"]
    assert records[0]["read"] == "ffffffff" and "read" not in records[1]


DISPLAY_SCRIPT = """\
from machine import SPI, Pin


class Display:
    def __init__(self, spi, dc, cs):
        self.spi = spi
        self.dc = Pin(dc, mode=Pin.OUT)
        self.cs = Pin(cs, mode=Pin.OUT, value=1)

    def command(self, *cmds):
        self.cs(1)
        self.dc(0)
        self.cs(0)
        self.spi.write(bytearray(cmds))
        self.cs(1)

    def data(self, buf):
        self.cs(1)
        self.dc(1)
        self.cs(0)
        self.spi.write(buf)
        self.cs(1)


spi = SPI(0, mode=SPI.MASTER, baudrate=8000000, polarity=0, phase=0, pins=('P10', 'P11', 'P14'))
display = Display(spi, 'P20', 'P19')
display.command(0xAE, 0xD5, 0x80)
display.data(bytes([0xFF, 0x00, 0xFF]))
display.command(0xAF)
print('sent', spi)
"""


def test_a_display_driver_scripts_bytes_are_recorded(board: Board) -> None:
    out = run_script(board, DISPLAY_SCRIPT)
    assert out.startswith("sent SPI(0, SPI.MASTER, baudrate=8000000")
    records = outputs(board, "SPI")
    assert [r["write"] for r in records] == ["aed580", "ff00ff", "af"]
    assert all(r["bus"] == 0 and r["clk"] == "P10" and r["mosi"] == "P11" for r in records)
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
