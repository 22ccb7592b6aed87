"""``ubinascii`` / ``binascii`` on the board (extmod/modubinascii.c, MicroPython 1.11): every input is
read with the buffer protocol, so a ``str`` is its UTF-8 bytes; ``hexlify`` takes MicroPython's optional
separator."""

from __future__ import annotations

import binascii
from typing import Any

from ..runtime.buffers import as_buffer

# the board's names: all a script sees
__all__ = ["a2b_base64", "b2a_base64", "crc32", "hexlify", "unhexlify"]


def hexlify(data: Any, sep: Any = None) -> bytes:
    if sep is None:
        return binascii.hexlify(as_buffer(data))
    return binascii.hexlify(as_buffer(data), as_buffer(sep))


def unhexlify(data: Any) -> bytes:
    return binascii.unhexlify(as_buffer(data))


def a2b_base64(data: Any) -> bytes:
    return binascii.a2b_base64(as_buffer(data))


def b2a_base64(data: Any) -> bytes:
    return binascii.b2a_base64(as_buffer(data))


def crc32(data: Any, value: int = 0) -> int:
    return binascii.crc32(as_buffer(data), value)
