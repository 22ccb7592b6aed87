"""``machine.UART`` (``machuart.c``): ``UART(0)`` is the REPL's UART, so what a script writes there goes
to the board's output; UART 1 and 2 accept writes and never receive anything."""

from __future__ import annotations

import sys

from network.coap.api.mpargs import Param, parse, to_int

from .consts import RESOURCE_NOT_AVAILABLE, to_float
from .state import machine_part

_UART_ARGS = (
    Param("baudrate", 9600),
    Param("bits", 8),
    Param("parity", None),
    Param("stop", None),
    Param("pins", None, True),
    Param("timeout_chars", 2, True),
    Param("rx_buffer_size", 512, True),
)


class UART:
    """``machine.UART``: UART 0 is the REPL's (writes go to the board's output); UART 1 and 2 send into
    the void and never receive."""

    EVEN, ODD = 2, 3  # ESP-IDF uart_parity_t

    _id: int
    _ready: bool
    _baudrate: int

    def __new__(cls, *args, **kwargs) -> UART:
        uart_id = to_int(args[0] if args else kwargs.get("id", 1))
        if not 0 <= uart_id <= 2:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        return machine_part().one(("UART", uart_id), lambda: cls._made(uart_id))

    @classmethod
    def _made(cls, uart_id: int) -> UART:
        """A new, uninitialised UART object (``UART(...)`` finds the existing one instead)."""
        uart = object.__new__(cls)
        uart._id = uart_id
        uart._ready = False
        uart._baudrate = 9600
        return uart

    def __init__(self, *args, **kwargs) -> None:
        kwargs = dict(kwargs)
        kwargs.pop("id", None)
        if args[1:] or kwargs or not self._ready:
            self.init(*args[1:], **kwargs)

    def init(self, *args, **kwargs) -> None:
        baudrate, bits, parity, stop, _pins_arg, _timeout, rx_buffer = parse(args, kwargs, _UART_ARGS)
        bits = to_int(bits)
        if not 5 <= bits <= 8:
            raise ValueError(f"invalid bits size {bits}")
        if parity is not None and to_int(parity) not in (self.EVEN, self.ODD):
            raise ValueError(f"invalid parity {to_int(parity)}")
        stop_bits = 1.0 if stop is None else to_float(stop)
        if stop_bits not in (1.0, 1.5, 2.0):
            raise ValueError(f"invalid stop bits {stop_bits:f}")
        if to_int(rx_buffer) <= 128:
            raise ValueError("invalid RX buffer size, should be > 128 bytes")
        self._baudrate = to_int(baudrate)
        self._ready = True

    def deinit(self) -> None:
        self._ready = False

    def _check(self) -> None:
        if not self._ready:
            raise OSError("UART not Initialized!")

    def any(self) -> int:
        self._check()
        return 0

    def read(self, *args) -> bytes | None:
        self._check()
        return None

    def readline(self, *args) -> bytes | None:
        self._check()
        return None

    def readinto(self, *args) -> int | None:
        self._check()
        return None

    def write(self, data: bytes | bytearray | str) -> int:
        self._check()
        raw = data.encode() if isinstance(data, str) else bytes(data)
        if self._id == 0:
            sys.stdout.write(raw.decode("utf-8", "replace"))
            sys.stdout.flush()
        return len(raw)

    def wait_tx_done(self, *args) -> bool:
        self._check()
        return True

    def sendbreak(self) -> None:
        self._check()

    def __repr__(self) -> str:
        return f"UART({self._id}, baudrate={self._baudrate}, bits=8, parity=None, stop=1)"
