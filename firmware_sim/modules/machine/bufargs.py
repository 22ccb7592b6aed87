"""The buffers the bus classes take, as the firmware gets them (``ports/stm32/bufhelper.c``, which the
Pycom 1.20 build compiles, and ``mp_get_buffer_raise`` of py/obj.c, MicroPython 1.11)."""

from __future__ import annotations

from typing import Any

from network.coap.api.mpargs import to_int

NO_BUFFER = "object with buffer protocol required"


def _bytes_view(obj: Any) -> memoryview:
    if isinstance(obj, bool) or obj is None:
        raise TypeError(NO_BUFFER)
    try:
        return memoryview(obj).cast("B")
    except TypeError:
        raise TypeError(NO_BUFFER) from None


def readable(obj: Any) -> bytes:
    """``mp_get_buffer_raise(obj, MP_BUFFER_READ)``: bytes, bytearray, array, memoryview, or a str
    (its UTF-8 bytes)."""
    if isinstance(obj, str):
        return obj.encode()
    return bytes(_bytes_view(obj))


def for_send(obj: Any) -> bytes:
    """``pyb_buf_get_for_send``: an int is one byte (its low 8 bits), anything else a readable buffer."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        return bytes([to_int(obj) & 0xFF])
    return readable(obj)


def writable(obj: Any) -> memoryview:
    """``mp_get_buffer_raise(obj, MP_BUFFER_WRITE)``: the bytes of a bytearray, array or writable
    memoryview (bytes and str are read-only buffers: TypeError)."""
    if isinstance(obj, (str, bytes)):
        raise TypeError(NO_BUFFER)
    view = _bytes_view(obj)
    if view.readonly:
        raise TypeError(NO_BUFFER)
    return view


def new_length(n: int) -> int:
    """The length of a new buffer of ``n`` bytes (``vstr_init_len``): a negative size is an allocation
    the heap cannot make."""
    if n < 0:
        raise MemoryError(f"memory allocation failed, allocating {(n + 1) & 0xFFFFFFFF} bytes")
    return n
