"""MicroPython's buffer protocol where CPython's differs: a ``str`` is a buffer (its UTF-8 bytes).

MicroPython 1.11 takes any object with the buffer protocol where it reads bytes, and ``str`` has it
(py/objstr.c ``mp_obj_str_get_buffer``): ``bytearray.extend('abc')``, ``bytearray += 'x'``,
``bytearray + 'x'`` (py/objarray.c ``array_binary_op``/``array_extend``, v1.20.2.r6), ``socket.send('x')``
and ``socket.write(buf, n)`` (py/stream.c ``stream_write_method``). The board's ``bytearray`` builtin is
the class below, so every bytearray a script makes behaves so; board modules read their inputs with
:func:`as_buffer`.
"""

from __future__ import annotations

import builtins
from typing import Any


def as_buffer(data: Any) -> Any:
    """``data`` as CPython takes a buffer: a ``str`` as its UTF-8 bytes, anything else as it is."""
    return data.encode() if isinstance(data, str) else data


class bytearray(builtins.bytearray):  # noqa: N801, A001 - the board's bytearray, named as scripts see it
    """``bytearray`` as MicroPython's: ``extend``, ``+=`` and ``+`` take a ``str`` as a buffer."""

    def extend(self, data: Any) -> None:  # type: ignore[override]
        super().extend(as_buffer(data))

    def __iadd__(self, data: Any) -> bytearray:  # type: ignore[override]
        super().__iadd__(as_buffer(data))
        return self

    def __add__(self, data: Any) -> bytearray:  # type: ignore[override]
        return bytearray(builtins.bytearray(self) + as_buffer(data))
