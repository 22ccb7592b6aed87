"""``ustruct`` / ``struct`` on the board, as py/modstruct.c (MicroPython 1.11) packs and unpacks.

Where CPython's ``struct`` is stricter than the board's:

* ``unpack``/``unpack_from`` read from a buffer at least as long as the format (a longer one is fine;
  ``unpack`` takes an offset too), a shorter one is ``ValueError: buffer too small``; a ``str`` is a
  buffer (its UTF-8 bytes);
* ``pack`` packs the values it is given: missing ones stay zero, extra ones are ignored, an integer too
  large for its field is cut to the field's bytes (``mp_binary_set_val``), a ``str`` fills an ``s`` field.

There is no ``struct.error``: wrong values raise MicroPython's ``TypeError``/``ValueError``.
"""

from __future__ import annotations

import struct
from typing import Any

from network.coap.api.mpargs import to_int

from ..runtime.buffers import as_buffer

# the board's names: all a script sees
__all__ = ["calcsize", "pack", "pack_into", "unpack", "unpack_from"]

_INTEGERS = "bBhHiIlLqQ"


def calcsize(fmt: str) -> int:
    return struct.calcsize(fmt)


def _bytes(data: Any) -> memoryview:
    """``data`` as the buffer protocol reads it: its bytes (a ``str``'s UTF-8)."""
    data = as_buffer(data)
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"object with buffer protocol required, not {type(data).__name__}") from None
    return view if view.format == "B" else view.cast("B")


def _start(offset: Any, length: int) -> int:
    start = offset if isinstance(offset, int) else to_int(offset)
    if start < 0:  # from the end of the buffer
        start += length
        if start < 0:
            raise ValueError("buffer too small")
    return start


def unpack_from(fmt: str, data: Any, offset: Any = 0) -> tuple[Any, ...]:
    raw = _bytes(data)
    start = _start(offset, len(raw))
    if start + struct.calcsize(fmt) > len(raw):
        raise ValueError("buffer too small")
    return struct.unpack_from(fmt, raw, start)


unpack = unpack_from  # py/modstruct.c: both names are struct_unpack_from


def _fields(fmt: str) -> tuple[str, list[str]]:
    """The byte-order prefix and one format code per value (``'3H'`` is three ``'H'``, ``'4s'`` one)."""
    order = fmt[0] if fmt[:1] in ("@", "=", "<", ">", "!") else ""
    fields: list[str] = []
    count = ""
    for ch in fmt[len(order) :]:
        if ch.isdigit():
            count += ch
            continue
        if ch == "s":
            fields.append(f"{count}s")
        elif ch != "x":
            fields.extend([ch] * int(count or "1"))
        count = ""
    return order, fields


def _value(order: str, code: str, value: Any) -> Any:
    if code.endswith("s"):
        return bytes(as_buffer(value))
    if code in _INTEGERS:
        number = value if isinstance(value, int) else to_int(value)
        bits = 8 * struct.calcsize(order + code)
        number &= (1 << bits) - 1
        if code.islower() and number >= 1 << (bits - 1):
            number -= 1 << bits
        return number
    if code in "fd":
        if isinstance(value, (int, float)):
            return float(value)
        raise TypeError(f"can't convert {type(value).__name__} to float")
    return value


def _packed_values(fmt: str, values: tuple[Any, ...]) -> list[Any]:
    order, fields = _fields(fmt)
    zeros = list(struct.unpack(fmt, bytes(struct.calcsize(fmt))))
    given = [_value(order, code, value) for code, value in zip(fields, values, strict=False)]
    return given + zeros[len(given) :]


def pack(fmt: str, *values: Any) -> bytes:
    return struct.pack(fmt, *_packed_values(fmt, values))


def pack_into(fmt: str, buffer: Any, offset: Any, *values: Any) -> None:
    start = _start(offset, len(buffer))
    if start + struct.calcsize(fmt) > len(buffer):
        raise ValueError("buffer too small")
    struct.pack_into(fmt, buffer, start, *_packed_values(fmt, values))
