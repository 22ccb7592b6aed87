"""``machine.UART`` (Pycom 1.20.2.r6, ``esp32/mods/machuart.c``, with MicroPython 1.11's stream methods
of ``py/stream.c``): UART 0, 1 and 2 (0 and 1 on the FiPy and GPy, whose UART 2 drives the LTE modem).

``UART(0)`` is the REPL's UART, which the firmware's ``_boot.py`` opens at 115200 baud: what a script
writes there is the board's output, and it receives nothing. UART 1 and 2 are wired to a device on
their pins (default TX/RX ``P3``/``P4`` and ``P8``/``P9``): what the device sends comes from
:mod:`firmware_sim.hardware.serial_lines` (the bytes a test appends to the hidden file
``/flash/.firmware-sim/uart<id>.in``, or sends in the process), and what the board writes is one line
of ``peripherals.jsonl`` per ``write``: ``{"source": "UART", "id": 1, "tx": "P3", "write": "4154",
"text": "AT"}`` (``text`` when the bytes are UTF-8), after a line for each ``init``: ``{"source":
"UART", "id": 1, "baudrate": 9600, "bits": 8, "parity": null, "stop": 1, "pins": ["P3", "P4"]}``; a
break is ``{"source": "UART", "id": 1, "tx": "P3", "break": 13}``.

As the firmware: every constructor call (re)initialises the UART with its defaults (9600 baud even on
UART 0, which the simulator warns about once: a terminal would see garbage); ``read``, ``readline``
and ``readinto`` wait ``timeout_chars`` character times (11 bits each) for a byte and return what
arrived until such a gap (None when nothing did); the receive buffer holds ``rx_buffer_size`` bytes
(more, not read in time, are lost; ``init`` and ``deinit`` empty it); ``write`` returns once all but
the 128 bytes of the TX FIFO are out, on the board clock, and ``wait_tx_done(ms)`` waits for the rest.
Not modelled: RTS/CTS flow control (the pins are accepted), the arrival time of each byte (the device's
bytes are there as soon as it sends them), the UART's pins' ``Pin`` objects (their mode and ``alt`` stay
as the script left them), ``uselect`` on a UART.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from network.coap.api.mpargs import Param, check_count, get_array, parse, to_int

from ...hardware.serial_lines import SerialLine, serial_lines
from ...runtime import environment
from ...runtime.pins import POLL_INTERVAL
from . import bufargs
from .consts import INVALID_ARGUMENTS, RESOURCE_NOT_AVAILABLE, to_float
from .pin import find
from .seqargs import float32
from .state import Machine, machine_part

NOT_INITIALISED = "UART not Initialized!"
OPERATION_FAILED = "the requested operation failed"  # esp32/util/mpexception.c
EVEN, ODD = 2, 3  # ESP-IDF uart_parity_t
FIFO_LEN = 128  # UART_FIFO_LEN: also the smallest RX buffer refused
RX_BUFFER_LEN = 4096  # MACHUART_RX_BUFFER_LEN
REPL_BAUDRATE = 115200  # esp32/frozen/Base/_boot.py: os.dupterm(UART(0, 115200))
_DEFAULT_PINS = (("P1", "P0"), ("P3", "P4"), ("P8", "P9"))  # mach_uart_def_pin: TX, RX
_NULL = object()  # MP_OBJ_NULL: the argument was not given
_INIT = (
    Param("baudrate", 9600),
    Param("bits", 8),
    Param("parity", None),
    Param("stop", None),
    Param("pins", _NULL, True),
    Param("timeout_chars", 2, True),
    Param("rx_buffer_size", RX_BUFFER_LEN, True),
)


def _truncated(obj: object) -> int:
    """``mp_obj_get_int_truncated`` as a C ``size_t``: an int's low 32 bits."""
    if isinstance(obj, int):
        return int(obj) & 0xFFFFFFFF
    raise TypeError(f"can't convert {type(obj).__name__} to int")


def _stop_bits(stop: object) -> float:
    """The stop bits ``mach_uart_init_helper`` makes of ``stop``: [1.5, 2) is 1.5, else the integer part
    must be 1 or 2."""
    value = 1.0 if stop is None else float32(to_float(stop))
    if 1.5 <= value < 2.0:
        return 1.5
    if math.isfinite(value) and int(value) in (1, 2):
        return float(int(value))
    raise ValueError(f"invalid stop bits {value:f}")


class UART:
    """``machine.UART(id=1, baudrate=9600, bits=8, parity=None, stop=1, *, pins=(TX, RX[, RTS, CTS]),
    timeout_chars=2, rx_buffer_size=4096)``: one object per UART."""

    EVEN, ODD = EVEN, ODD

    _machine: Machine
    _id: int
    _ready: bool  # self->init
    _baudrate: int  # 0: deinitialised
    _bits: int
    _parity: int | None
    _stop: float
    _pins: list[str | None]  # TX, RX[, RTS, CTS] as assigned; one pin: half duplex
    _timeout_chars: int
    _rx_size: int
    _rx: bytearray  # the driver's receive buffer
    _tx_end: float  # board time at which the last byte written is out
    _warned: bool  # UART 0: the user was told the REPL's baud rate changed

    def __new__(cls, *args: Any, **kwargs: Any) -> UART:
        values = parse(args, kwargs, (Param("id", 1), *_INIT))
        uart_id, baudrate, bits = (to_int(v) for v in values[:3])  # as mp_arg_parse_all converts
        timeout_chars, rx_size = to_int(values[6]), to_int(values[7])
        machine = machine_part()
        if not 0 <= uart_id <= (1 if machine.board.kind.lte else 2):  # a uint: negative ids too
            raise OSError(RESOURCE_NOT_AVAILABLE)
        self = machine.one(("UART", uart_id), lambda: cls._made(machine, uart_id))
        self._configure(baudrate, bits, values[3], values[4], values[5], timeout_chars, rx_size)
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """All done by ``__new__`` (the firmware's ``make_new``)."""

    @classmethod
    def _made(cls, machine: Machine, uart_id: int) -> UART:
        """The session's UART object; UART 0 as ``_boot.py`` left it (115200 baud, the REPL's)."""
        uart = object.__new__(cls)
        uart._machine = machine
        uart._id = uart_id
        uart._ready = uart_id == 0
        uart._baudrate = REPL_BAUDRATE if uart_id == 0 else 0
        uart._bits, uart._parity, uart._stop = 8, None, 1.0
        uart._pins = list(_DEFAULT_PINS[0]) if uart_id == 0 else []
        uart._timeout_chars, uart._rx_size = 2, RX_BUFFER_LEN
        uart._rx = bytearray()
        uart._tx_end = 0.0
        uart._warned = False
        return uart

    def _configure(
        self, baudrate: int, bits: int, parity: Any, stop: Any, pins_arg: Any, timeout: int, rx_size: int
    ) -> None:
        """``mach_uart_init_helper``: the checks in the firmware's order, then the pins (a bad pin there
        leaves the UART with the pins assigned before it), then the new configuration."""
        if baudrate <= 0:
            raise ValueError(INVALID_ARGUMENTS)
        if bits not in (5, 6, 7, 8):
            raise ValueError(f"invalid bits size {bits}")
        if parity is not None:
            parity = to_int(parity)
            if parity not in (EVEN, ODD):
                raise ValueError(f"invalid parity {parity}")
        stop_bits = _stop_bits(stop)
        if not rx_size > FIFO_LEN:
            raise ValueError("invalid RX buffer size, should be > 128 bytes")
        self._rx.clear()  # uart_driver_delete
        self._pins = []
        if pins_arg is not None:
            chosen = list(_DEFAULT_PINS[self._id]) if pins_arg is _NULL else get_array(pins_arg)
            if len(chosen) not in (1, 2, 4):
                raise ValueError(INVALID_ARGUMENTS)
            if len(chosen) == 4 and (
                (chosen[2] is not None and chosen[1] is None) or (chosen[3] is not None and chosen[0] is None)
            ):
                raise ValueError(INVALID_ARGUMENTS)  # RTS in TX-only mode, or CTS in RX-only mode
            for pin in chosen:
                self._pins.append(None if pin is None and len(chosen) > 1 else find(self._machine, pin).id())
        self._timeout_chars = timeout & 0xFF  # uint8_t rx_timeout
        self._baudrate, self._bits, self._parity, self._stop = baudrate, bits, parity, stop_bits
        self._rx_size = rx_size
        self._ready = True
        if self._id == 0 and baudrate != REPL_BAUDRATE and not self._warned:
            self._warned = True
            print(
                f"firmware-sim: warning: UART(0), the REPL's UART, now runs at {baudrate} baud: on a board, "
                f"a terminal at {REPL_BAUDRATE} shows garbage from here on",
                file=sys.stderr,
            )
        if self._id:
            self._record(
                baudrate=baudrate, bits=bits, parity=parity, stop=self._stop_number(), pins=self._pins
            )

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(baudrate=9600, bits=8, parity=None, stop=1, *, pins, timeout_chars=2,
        rx_buffer_size=4096)``."""
        values = parse(args, kwargs, _INIT)
        baudrate, bits = to_int(values[0]), to_int(values[1])
        timeout_chars, rx_size = to_int(values[5]), to_int(values[6])
        self._configure(baudrate, bits, values[2], values[3], values[4], timeout_chars, rx_size)

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        if self._baudrate > 0:
            self._baudrate = 0
            self._pins = []
            self._rx.clear()
        self._ready = False

    # -- the line ------------------------------------------------------------------------------------

    def _check(self) -> None:
        if not self._ready:
            raise OSError(NOT_INITIALISED)

    def _line(self) -> SerialLine | None:
        return serial_lines(self._machine.board).line(self._id) if self._id else None

    def _pins_for(self, direction: int) -> str | None:
        """The pin that carries TX (0) or RX (1) now: one pin does both (half duplex)."""
        if len(self._pins) == 1:
            return self._pins[0]
        return self._pins[direction] if len(self._pins) > direction else None

    def _receive(self) -> int:
        """Take what the device sent into the receive buffer (what does not fit is lost; with no RX pin
        nothing reaches the UART); the bytes buffered."""
        line = self._line()
        if line is not None:
            arrived = line.take()
            if arrived and self._pins_for(1) is not None:
                self._rx += arrived[: max(0, self._rx_size - len(self._rx))]
        return len(self._rx)

    def _wait_byte(self) -> bool:
        """``uart_rx_wait``: is a byte there within ``timeout_chars`` character times (11 bits each)?"""
        clock = self._machine.board.clock
        end = clock.elapsed() + ((11 * 1_000_000) // self._baudrate * self._timeout_chars + 1) / 1e6
        while True:
            if self._receive():
                return True
            left = end - clock.elapsed()
            if left <= 0:
                return False
            time.sleep(min(POLL_INTERVAL, clock.host_seconds(left)))

    def _read(self, n: int) -> bytes | None:
        """``mp_stream_rw`` over ``mach_uart_read``: up to ``n`` bytes, until a gap of the timeout
        (None: nothing came)."""
        self._check()
        out = bytearray()
        while len(out) < n and self._wait_byte():
            take = min(n - len(out), len(self._rx))
            out += self._rx[:take]
            del self._rx[:take]
        return bytes(out) if out else None

    def _record(self, **fields: Any) -> None:
        environment.record("UART", board=self._machine.board, id=self._id, **fields)

    def _stop_number(self) -> float | int:
        return 1.5 if self._stop == 1.5 else int(self._stop)

    # -- the class's methods (mach_uart_locals_dict_table) -------------------------------------------

    def any(self, *args: Any, **kwargs: Any) -> int:
        check_count((self, *args), kwargs, 1, 1)
        self._check()
        return self._receive()

    def read(self, *args: Any, **kwargs: Any) -> bytes | None:
        """``read([nbytes])``: all that comes until a gap, or up to ``nbytes``; None if nothing came."""
        check_count((self, *args), kwargs, 1, 2)
        n = -1 if not args else to_int(args[0])
        if n == -1:
            return self._read(sys.maxsize)
        n = bufargs.new_length(n)
        return b"" if n == 0 else self._read(n)

    def readline(self, *args: Any, **kwargs: Any) -> bytes | None:
        """``readline([max])``: up to and including ``\\n``, or what came until a gap (None: nothing)."""
        check_count((self, *args), kwargs, 1, 2)
        limit = to_int(args[0]) if args else -1
        out = bytearray()
        while limit == -1 or limit < -1 or len(out) < limit:
            byte = self._read(1)
            if byte is None:
                if not out:
                    return None
                break
            out += byte
            if byte == b"\n":
                break
        return bytes(out)

    def readinto(self, *args: Any, **kwargs: Any) -> int | None:
        """``readinto(buf[, nbytes])``: the number of bytes read into ``buf``, None if nothing came."""
        check_count((self, *args), kwargs, 2, 3)
        view = bufargs.writable(args[0])
        n = len(view) if len(args) < 2 else min(to_int(args[1]) & 0xFFFFFFFF, len(view))
        if n == 0:
            return 0
        data = self._read(n)
        if data is None:
            return None
        view[: len(data)] = data
        return len(data)

    def write(self, *args: Any, **kwargs: Any) -> int:
        """``write(buf[, max_len])`` or ``write(buf, off, max_len)``: the number of bytes written."""
        check_count((self, *args), kwargs, 2, 4)
        data = bufargs.readable(args[0])
        off, max_len = 0, len(data)
        if len(args) == 2:
            max_len = _truncated(args[1])
        elif len(args) == 3:
            off, max_len = min(_truncated(args[1]), len(data)), _truncated(args[2])
        data = data[off : off + max_len]
        if not data:
            return 0
        self._check()
        if self._id == 0:
            sys.stdout.write(data.decode("utf-8", "replace"))
            sys.stdout.flush()
            return len(data)
        self._transmit(data)
        return len(data)

    def _transmit(self, data: bytes) -> None:
        """``uart_tx_strn``: the bytes go out at the baud rate; returns when the rest fits the FIFO."""
        clock = self._machine.board.clock
        now = clock.elapsed()
        frame = (1 + self._bits + (self._parity is not None) + self._stop) / self._baudrate
        self._tx_end = max(now, self._tx_end) + len(data) * frame
        tx = self._pins_for(0)
        fields: dict[str, Any] = {"tx": tx, "write": data.hex()}
        try:
            fields["text"] = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        self._record(**fields)
        line = self._line()
        if line is not None and tx is not None:
            line.transmit(data)
        clock.sleep(self._tx_end - FIFO_LEN * frame - now)

    def wait_tx_done(self, *args: Any, **kwargs: Any) -> bool:
        """``wait_tx_done(timeout_ms)``: True once all written bytes are out, False if that takes longer."""
        check_count((self, *args), kwargs, 2, 2)
        timeout_ms = _truncated(args[0])  # TickType_t ticks of 1 ms (CONFIG_FREERTOS_HZ 1000)
        self._check()
        clock = self._machine.board.clock
        left = self._tx_end - clock.elapsed()
        if left <= 0:
            return True
        if left <= timeout_ms / 1000:
            clock.sleep(left)
            return True
        clock.sleep(timeout_ms / 1000)
        return False

    def sendbreak(self, *args: Any, **kwargs: Any) -> None:
        """``sendbreak(bits=13)``: TX held low for ``bits + 1`` bit times (at most 32767 us)."""
        (bits,) = parse(args, kwargs, (Param("bits", 13),))
        bits = to_int(bits)
        self._check()
        delay_us = (((bits + 1) * 1_000_000) // self._baudrate) & 0x7FFF
        if self._id:
            self._record(tx=self._pins_for(0), **{"break": bits})
        self._machine.board.clock.sleep(max(delay_us, 1) / 1e6)

    def __iter__(self) -> UART:
        return self

    def __next__(self) -> bytes:
        """``mp_stream_unbuffered_iter``: the next line, until a read finds nothing."""
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __repr__(self) -> str:
        self._check()
        parity = "None" if self._parity is None else ("UART.EVEN" if self._parity == EVEN else "UART.ODD")
        return (
            f"UART({self._id}, baudrate={self._baudrate}, bits={self._bits}, parity={parity}, "
            f"stop={self._stop_number()})"
        )
