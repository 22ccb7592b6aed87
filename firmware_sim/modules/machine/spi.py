"""``machine.SPI`` (Pycom 1.20.2.r6, ``esp32/mods/machspi.c``): the SPI master, full duplex, in words of
``bits`` (8, 16 or 32).

SPI 0 on every board (default pins CLK ``P10``, MOSI ``P11``, MISO ``P14``); the WiPy and the GPy also
have SPI 1 (``P19``, ``P20``, ``P21``): the other boards' second controller drives their LoRa or Sigfox
radio. Master mode only. What the master clocks out goes to the devices of
:mod:`firmware_sim.hardware.spi` on its CLK/MOSI pins that are selected; MISO reads their answer.

With no device answering, MISO reads ``0xFF`` bytes: the firmware configures MISO as an input without a
pull, and a released MISO line idles high on the boards and breakouts that SPI chips sit on (they pull
it up, or the chips' tri-stated outputs float there); a test can pull it low by driving the MISO pin
(``pins.json``: ``{"P14": 0}``). An SPI with no MISO pin (``pins=(clk, mosi, None)``) reads ``0x00``:
the firmware ties an unrouted input signal low.

Each transfer is one line of ``peripherals.jsonl``:
``{"source": "SPI", "bus": 0, "clk": "P10", "mosi": "P11", "write": "a0ff", "read": "ffff"}`` (``read``
for the calls that return data), so a test sees what a display driver sent.
"""

from __future__ import annotations

from typing import Any

from network.coap.api.mpargs import Param, check_count, get_array_fixed_n, parse, to_int

from ...hardware import spi as wires
from ...runtime import environment, pins
from . import bufargs
from .consts import INVALID_ARGUMENTS, RESOURCE_NOT_AVAILABLE
from .pin import find
from .state import machine_part

REQUEST_NOT_POSSIBLE = "the requested operation is not possible"  # esp32/util/mpexception.c
MASTER = 0  # SpiMode_Master
MSB, LSB = 0, 1  # SpiBitOrder_MSBFirst, SpiBitOrder_LSBFirst
_NULL = object()  # MP_OBJ_NULL: the argument was not given
_DEFAULT_PINS = (("P10", "P11", "P14"), ("P19", "P20", "P21"))  # mach_spi_def_pin: CLK, MOSI, MISO
_TWO_BUSES = ("wipy", "gpy")  # #if defined(WIPY) || defined(GPY)
_INIT = (
    Param("mode", MASTER),
    Param("baudrate", 1000000, True),
    Param("bits", 8, True),
    Param("polarity", 0, True),
    Param("phase", 0, True),
    Param("firstbit", MSB, True),
    Param("pins", _NULL, True),
)
_READ = (Param("write", 0x00, True),)


def _is_int(obj: object) -> bool:
    """``MP_OBJ_IS_INT``: an int, not a bool (True is an object of its own on MicroPython)."""
    return isinstance(obj, int) and not isinstance(obj, bool)


class SPI:
    """``machine.SPI(id=0, mode=SPI.MASTER, *, baudrate=1000000, bits=8, polarity=0, phase=0,
    firstbit=SPI.MSB, pins=(CLK, MOSI, MISO))``: one object per bus."""

    MASTER, MSB, LSB = MASTER, MSB, LSB

    _id: int
    _baudrate: int
    _wlen: int  # bytes per word
    _polarity: int
    _phase: int
    _firstbit: int
    _pins: list[str | None]  # CLK, MOSI, MISO

    def __new__(cls, *args: Any, **kwargs: Any) -> SPI:
        values = parse(args, kwargs, (Param("id", 0), *_INIT))
        bus_id, *numbers = [to_int(v) for v in values[:7]]  # as mp_arg_parse_all converts
        machine = machine_part()
        buses = 2 if machine.board.state.kind in _TWO_BUSES else 1
        if not 0 <= bus_id < buses:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        self = machine.one(("SPI", bus_id), lambda: cls._made(bus_id))
        self._configure(numbers, values[7])
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """All done by ``__new__`` (the firmware's ``make_new``)."""

    @classmethod
    def _made(cls, bus_id: int) -> SPI:
        bus = object.__new__(cls)
        bus._id = bus_id
        bus._baudrate = 0
        bus._wlen = 1
        bus._polarity = bus._phase = 0
        bus._firstbit = MSB
        bus._pins = [None, None, None]
        return bus

    def _configure(self, numbers: list[int], pins_arg: Any) -> None:
        """``pyb_spi_init_helper`` with (mode, baudrate, bits, polarity, phase, firstbit) and the pins,
        step by step (a failing step leaves what the steps before did)."""
        mode, baudrate, bits, polarity, phase, firstbit = numbers
        if mode != MASTER or bits not in (8, 16, 32):
            raise ValueError(INVALID_ARGUMENTS)
        self._wlen = bits >> 3
        self._polarity, self._phase = polarity & 0xFF, phase & 0xFF  # byte fields
        if self._polarity > 1 or self._phase > 1:
            raise ValueError(INVALID_ARGUMENTS)
        self._firstbit = firstbit & 0xFFFFFFFF
        if self._firstbit not in (MSB, LSB):
            raise ValueError(INVALID_ARGUMENTS)
        self._baudrate = baudrate & 0xFFFFFFFF
        if not self._baudrate:
            raise ValueError(INVALID_ARGUMENTS)
        self._pins = [None, None, None]
        if pins_arg is None:
            return
        chosen = _DEFAULT_PINS[self._id] if pins_arg is _NULL else get_array_fixed_n(pins_arg, 3)
        machine = machine_part()
        for i, pin in enumerate(chosen):
            if pin is not None:
                self._pins[i] = find(machine, pin).id()

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(mode=SPI.MASTER, *, baudrate=1000000, bits=8, polarity=0, phase=0, firstbit=SPI.MSB,
        pins=(CLK, MOSI, MISO))``."""
        values = parse(args, kwargs, _INIT)
        self._configure([to_int(v) for v in values[:6]], values[6])

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        if self._baudrate > 0:
            self._baudrate = 0
            self._pins = [None, None, None]

    # -- the wires -----------------------------------------------------------------------------------

    def _transfer(self, out: bytes, reads: bool) -> bytes:
        """``pybspi_transfer``: ``out`` clocked out in whole words (a last partial word is padded with
        zeros: the firmware sends whatever memory follows the buffer); what MISO carried back."""
        if not self._baudrate:
            raise OSError(REQUEST_NOT_POSSIBLE)
        n = len(out)
        wire = out.ljust(-(-n // self._wlen) * self._wlen, b"\x00")
        board = machine_part().board
        clk, mosi, miso = self._pins
        answer = None
        if clk is not None and mosi is not None:
            answer = wires.buses(board).transfer(clk, mosi, wire)
        if miso is None:
            back = bytes(len(wire))
        elif answer is not None:
            back = answer
        else:
            bank = pins.bank(board)
            bank.sync_file()
            back = (b"\x00" if bank.state(miso).driven == 0 else b"\xff") * len(wire)
        fields: dict[str, Any] = {"bus": self._id, "clk": clk, "mosi": mosi, "write": wire.hex()}
        if reads:
            fields["read"] = back[:n].hex()
        environment.record("SPI", board=board, **fields)
        return back[:n]

    def _filler(self, write: int, n: int) -> bytes:
        """What ``read``/``readinto`` clock out: the ``write`` word, little-endian, once per word."""
        word = (write & 0xFFFFFFFF).to_bytes(4, "little")[: self._wlen]
        return (word * (-(-n // self._wlen)))[:n]

    # -- the class's methods (locals dict of machspi.c) ----------------------------------------------

    def write(self, *args: Any, **kwargs: Any) -> int:
        """``write(buf)``: ``buf`` may be an int (one byte); returns the number of bytes written."""
        check_count((self, *args), kwargs, 2, 2)
        data = bufargs.for_send(args[0])
        self._transfer(data, reads=False)
        return len(data)

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        """``read(nbytes, *, write=0x00)``: ``nbytes`` may be a buffer (its length is read)."""
        nbytes, write = parse(args, kwargs, (Param("nbytes"), *_READ))
        write = to_int(write)
        if _is_int(nbytes):
            n = bufargs.new_length(to_int(nbytes))
            return self._transfer(self._filler(write, n), reads=True)
        view = bufargs.writable(nbytes)  # the firmware reads into that buffer and returns its bytes
        view[:] = data = self._transfer(self._filler(write, len(view)), reads=True)
        return data

    def readinto(self, *args: Any, **kwargs: Any) -> int:
        """``readinto(buf, *, write=0x00)``: fills ``buf`` (an int: a new buffer of that size, dropped);
        returns the number of bytes read."""
        buf, write = parse(args, kwargs, (Param("buf"), *_READ))
        write = to_int(write)
        if _is_int(buf):
            n = bufargs.new_length(to_int(buf))
            self._transfer(self._filler(write, n), reads=True)
            return n
        view = bufargs.writable(buf)
        view[:] = self._transfer(self._filler(write, len(view)), reads=True)
        return len(view)

    def write_readinto(self, *args: Any, **kwargs: Any) -> int:
        """``write_readinto(write_buf, read_buf)``: the same length (or the same object, read-write)."""
        check_count((self, *args), kwargs, 3, 3)
        write_buf, read_buf = args
        if write_buf is read_buf:
            view = bufargs.writable(read_buf)
            data = bytes(view)
        else:
            data = bufargs.for_send(write_buf)
            view = bufargs.writable(read_buf)
            if len(view) != len(data):
                raise ValueError(INVALID_ARGUMENTS)
        view[:] = self._transfer(data, reads=True)
        return len(data)

    def __repr__(self) -> str:
        if self._baudrate > 0:
            return (
                f"SPI({self._id}, SPI.MASTER, baudrate={self._baudrate}, bits={self._wlen * 8}, "
                f"polarity={self._polarity}, phase={self._phase}, firstbit=SPI.MSB)"
            )
        return "SPI(0)"
