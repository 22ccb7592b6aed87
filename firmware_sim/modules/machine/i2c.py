"""``machine.I2C`` (Pycom 1.20.2.r6, ``esp32/mods/machine_i2c.c``): a master on the board's I2C buses.

Buses 0 and 1 are the ESP32's I2C controllers (ESP-IDF's driver); bus 2 is the firmware's software
(bit-banged) master. Each drives the pins it was given (default SDA ``P9``, SCL ``P10``), and its
transactions go to the devices of :mod:`firmware_sim.hardware.i2c` on the bus of those pins, whichever
id drives them. A transaction that no device acknowledges raises ``OSError: I2C bus error``, as both
masters do. There is no slave mode and no primitive operations (``start``/``stop``/``readinto``/``write``
are not in the firmware's class). Every transaction is one line of ``peripherals.jsonl``:
``{"source": "I2C", "bus": 0, "sda": "P9", "scl": "P10", "addr": 64, "write": "e3", "read": "6a3c"}``
(``"ack": false`` when no device answered).

Where the firmware has undefined behaviour (a bus 0/1 initialised with ``pins=None``, whose driver
would dereference no pins), the simulated bus has no pins: its transactions fail with the bus error.
"""

from __future__ import annotations

from typing import Any

from network.coap.api.mpargs import Param, check_count, get_array_fixed_n, parse, to_int

from ...hardware import i2c as wires
from ...runtime import environment
from . import bufargs
from .consts import INVALID_ARGUMENTS, RESOURCE_NOT_AVAILABLE
from .pin import find
from .state import machine_part

BUS_ERROR = "I2C bus error"
MASTER = 0
_NULL = object()  # MP_OBJ_NULL: the argument was not given
_DEFAULT_PINS = ("P9", "P10")  # mach_i2c_def_pin: SDA, SCL
_INIT = (Param("mode", MASTER), Param("baudrate", 100000, True), Param("pins", _NULL, True))
_ADDR = Param("addr")
_MEM = (_ADDR, Param("memaddr"))
_ADDRSIZE = Param("addrsize", 8, True)


def _addrsize(value: Any) -> int:
    size = to_int(value) & 0xFF  # uint8_t addr_size
    if size not in (8, 16):
        raise ValueError(f"invalid memory address size {size}")
    return size


def _memaddr(memaddr: int, addrsize: int) -> bytes:
    low = bytes([memaddr & 0xFF])
    return bytes([(memaddr >> 8) & 0xFF]) + low if addrsize == 16 else low


class I2C:
    """``machine.I2C(id=0, mode=I2C.MASTER, *, baudrate=100000, pins=('P9', 'P10'))``: one object per
    bus id (0, 1: the hardware controllers; 2: the software master)."""

    MASTER = MASTER

    _id: int
    _baudrate: int
    _sda: str | None
    _scl: str | None
    _driver: bool  # buses 0/1: ESP-IDF's driver is installed

    def __new__(cls, *args: Any, **kwargs: Any) -> I2C:
        bus_id, mode, baudrate, pins_arg = parse(args, kwargs, (Param("id", 0), *_INIT))
        bus_id, mode, baudrate = to_int(bus_id), to_int(mode), to_int(baudrate)  # as mp_arg_parse_all
        if not 0 <= bus_id <= 2:  # a uint32_t: a negative id is out of range too
            raise OSError(RESOURCE_NOT_AVAILABLE)
        self = machine_part().one(("I2C", bus_id), lambda: cls._made(bus_id))
        self._configure(mode, baudrate, pins_arg)
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """All done by ``__new__`` (the firmware's ``make_new``)."""

    @classmethod
    def _made(cls, bus_id: int) -> I2C:
        bus = object.__new__(cls)
        bus._id = bus_id
        bus._baudrate = 0
        bus._sda = bus._scl = None
        bus._driver = False
        return bus

    def _configure(self, mode: int, baudrate: int, pins_arg: Any) -> None:
        """``machine_i2c_init_helper``, step by step (a failing step leaves what the steps before did)."""
        if mode != MASTER:
            raise ValueError(INVALID_ARGUMENTS)
        if self._id < 2:
            self._driver = False
            self._sda = self._scl = None
        if pins_arg is not None:
            chosen = _DEFAULT_PINS if pins_arg is _NULL else get_array_fixed_n(pins_arg, 2)
            machine = machine_part()
            self._sda = find(machine, chosen[0]).id()
            self._scl = find(machine, chosen[1]).id()
        if baudrate <= 0:
            raise ValueError(INVALID_ARGUMENTS)
        self._baudrate = baudrate
        if self._id < 2:
            self._driver = True

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(mode=I2C.MASTER, *, baudrate=100000, pins=('P9', 'P10'))``."""
        mode, baudrate, pins_arg = parse(args, kwargs, _INIT)
        self._configure(to_int(mode), to_int(baudrate), pins_arg)

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        """Stop the bus: a hardware bus lets its pins go (and fails from then on); the software bus
        keeps its pins, so it still works, as the firmware's does."""
        check_count((self, *args), kwargs, 1, 1)
        if self._baudrate > 0:
            if self._id < 2:
                self._driver = False
                self._sda = self._scl = None
            self._baudrate = 0

    # -- the wires -----------------------------------------------------------------------------------

    def _usable(self) -> bool:
        return self._sda is not None and self._scl is not None and (self._id == 2 or self._driver)

    def _device(self, addr: int) -> wires.I2CDevice | None:
        if not self._usable():
            return None
        assert self._sda is not None and self._scl is not None
        return wires.buses(machine_part().board).device(self._sda, self._scl, addr & 0x7F)

    def _record(self, addr: int, write: bytes, read: bytes | None, ack: bool = True) -> None:
        fields: dict[str, Any] = {"bus": self._id, "sda": self._sda, "scl": self._scl, "addr": addr & 0x7F}
        fields["write"] = write.hex()
        if read is not None:
            fields["read"] = read.hex()
        if not ack:
            fields["ack"] = False
        environment.record("I2C", board=machine_part().board, **fields)

    def _write(self, addr: int, data: bytes, stop: bool) -> None:
        device = self._device(addr)
        if device is None:
            self._record(addr, data, None, ack=False)
            raise OSError(BUS_ERROR)
        device.write(data, stop)
        self._record(addr, data, None)

    def _read(self, addr: int, n: int, register: bytes = b"") -> bytes:
        device = self._device(addr)
        if device is None:
            self._record(addr, register, None, ack=False)
            raise OSError(BUS_ERROR)
        if register:
            device.write(register, False)  # then a repeated START
        # the hardware master clocks in one byte even when asked for none (the firmware reads it
        # before the buffer); the software master reads none
        data = bytes(device.read(1 if n == 0 and self._id < 2 else n))[:n]
        data = data.ljust(n, b"\xff")  # a device that stops answering leaves SDA high
        self._record(addr, register, data)
        return data

    # -- the class's methods (locals dict of machine_i2c.c) ------------------------------------------

    def scan(self, *args: Any, **kwargs: Any) -> list[int]:
        """The addresses that acknowledge: 0x08..0x78 on buses 0/1, 0x08..0x77 on the software bus."""
        check_count((self, *args), kwargs, 1, 1)
        if not self._usable():
            return []
        assert self._sda is not None and self._scl is not None
        last = 0x78 if self._id < 2 else 0x77
        found = wires.buses(machine_part().board).addresses(self._sda, self._scl)
        return [addr for addr in found if 0x08 <= addr <= last]

    def readfrom(self, *args: Any, **kwargs: Any) -> bytes:
        """``readfrom(addr, nbytes)``."""
        addr, n = parse(args, kwargs, (_ADDR, Param("nbytes")))
        return self._read(to_int(addr), bufargs.new_length(to_int(n)))

    def readfrom_into(self, *args: Any, **kwargs: Any) -> int:
        """``readfrom_into(addr, buf)``: fills ``buf``; returns its length."""
        addr, buf = parse(args, kwargs, (_ADDR, Param("buf")))
        addr = to_int(addr)
        view = bufargs.writable(buf)
        view[:] = self._read(addr, len(view))
        return len(view)

    def writeto(self, *args: Any, **kwargs: Any) -> int:
        """``writeto(addr, buf, *, stop=True)``: ``buf`` may be an int (one byte); returns the count."""
        addr, buf, stop = parse(args, kwargs, (_ADDR, Param("buf"), Param("stop", True, True)))
        addr = to_int(addr)
        data = bufargs.for_send(buf)
        self._write(addr, data, bool(stop))
        return len(data)

    def readfrom_mem(self, *args: Any, **kwargs: Any) -> bytes:
        """``readfrom_mem(addr, memaddr, nbytes, *, addrsize=8)``: nothing on the bus when ``nbytes``
        is not positive."""
        addr, memaddr, n, size = parse(args, kwargs, (*_MEM, Param("nbytes"), _ADDRSIZE))
        addr, memaddr, n = to_int(addr), to_int(memaddr), to_int(n)
        size = _addrsize(size)
        if n <= 0:
            return b""
        return self._read(addr, n, _memaddr(memaddr, size))

    def readfrom_mem_into(self, *args: Any, **kwargs: Any) -> int:
        """``readfrom_mem_into(addr, memaddr, buf, *, addrsize=8)``: returns ``len(buf)``."""
        addr, memaddr, buf, size = parse(args, kwargs, (*_MEM, Param("buf"), _ADDRSIZE))
        addr, memaddr = to_int(addr), to_int(memaddr)
        size = _addrsize(size)
        view = bufargs.writable(buf)
        if len(view):
            view[:] = self._read(addr, len(view), _memaddr(memaddr, size))
        return len(view)

    def writeto_mem(self, *args: Any, **kwargs: Any) -> int:
        """``writeto_mem(addr, memaddr, buf, *, addrsize=8)``: one write of the register address then
        ``buf``; returns ``len(buf)``."""
        addr, memaddr, buf, size = parse(args, kwargs, (*_MEM, Param("buf"), _ADDRSIZE))
        addr, memaddr = to_int(addr), to_int(memaddr)
        size = _addrsize(size)
        data = bufargs.for_send(buf)
        self._write(addr, _memaddr(memaddr, size) + data, True)
        return len(data)

    def __repr__(self) -> str:
        if self._baudrate > 0:
            return f"I2C({self._id}, I2C.MASTER, baudrate={self._baudrate})"
        return f"I2C({self._id})"
