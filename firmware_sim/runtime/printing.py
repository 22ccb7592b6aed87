"""How MicroPython 1.11 on Pycom firmware 1.20 prints values: ``print()`` and ``repr()`` on the board.

Where the board's output differs from CPython's for the same value:

* floats are single precision (``MICROPY_FLOAT_IMPL_FLOAT`` in esp32/mpconfigport.h) and print with 7
  significant digits (py/objfloat.c ``float_print``: ``mp_format_float(..., 'g', 7)``, then ``.0`` when
  the text has no ``.``, ``e`` or ``n``): ``print(0.1 + 0.2)`` is ``0.3``, ``print(1/3)`` ``0.3333333``;
* a str's repr escapes every character outside printable ASCII (py/objstrunicode.c
  ``uni_print_quoted``: ``\\xe9``, ``\\u20ac``), where CPython shows printable ones as they are;
* an exception prints its one argument as str (``KeyError: k``), several as a tuple, an ``OSError`` with an
  errno the board names as ``[Errno 2] ENOENT``, and its repr is ``ValueError('x',)`` (py/objexcept.c
  ``mp_obj_exception_print``); CPython's wording of its own errors becomes MicroPython's
  (:func:`.traceback.board_message`);
* lists, tuples, dicts and sets print their members the board's way.

``str()``, ``%`` and ``format()`` are CPython's own and are not changed (see the README's "How close to a
real board").
"""

from __future__ import annotations

import math
import struct
import sys
from typing import Any

from .traceback import board_message, board_name

_FLOAT32 = struct.Struct("f")


def float32(value: float) -> float:
    """``value`` rounded to the board's single precision (inf beyond its range)."""
    try:
        return float(_FLOAT32.unpack(_FLOAT32.pack(value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def format_float(value: float) -> str:
    """A float as the board prints it (py/objfloat.c ``float_print``, single precision)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{float32(value):.7g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def repr_str(text: str) -> str:
    """A str's repr as py/objstrunicode.c ``uni_print_quoted`` writes it."""
    if text.isascii():
        return repr(text)  # CPython escapes ASCII exactly as MicroPython does
    quote = '"' if "'" in text and '"' not in text else "'"
    out = [quote]
    for ch in text:
        code = ord(ch)
        if ch == quote:
            out.append("\\" + quote)
        elif ch == "\\":
            out.append("\\\\")
        elif 32 <= code <= 126:
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append(quote)
    return "".join(out)


def _exception_args(exc: BaseException) -> tuple[Any, ...]:
    args = exc.args
    if len(args) == 1 and isinstance(args[0], str):
        return (board_message(exc),)
    return args


def board_repr(value: Any) -> str:
    """``repr(value)`` on the board."""
    kind = type(value)
    if kind is str:
        return repr_str(value)
    if kind is float:
        return format_float(value)
    if kind is list:
        return "[" + ", ".join(map(board_repr, value)) + "]"
    if kind is tuple:
        return "(" + ", ".join(map(board_repr, value)) + ("," if len(value) == 1 else "") + ")"
    if kind is dict:
        return "{" + ", ".join(f"{board_repr(k)}: {board_repr(v)}" for k, v in value.items()) + "}"
    if kind is set or kind is frozenset:
        if not value:
            return f"{kind.__name__}()"
        members = "{" + ", ".join(map(board_repr, value)) + "}"
        return members if kind is set else f"frozenset({members})"
    if isinstance(value, BaseException) and type(value).__module__ == "builtins":
        return board_name(value) + board_repr(_exception_args(value))
    if isinstance(value, type) and type(value).__repr__ is type.__repr__:
        return f"<class '{value.__name__}'>"  # py/objtype.c type_print: the name alone, no module
    return repr(value)


def board_str(value: Any) -> str:
    """What ``print(value)`` writes on the board."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float or kind is list or kind is tuple or kind is dict or kind is set or kind is frozenset:
        return board_repr(value)
    if isinstance(value, BaseException) and _builtin_str(type(value)):
        return board_message(value)
    if isinstance(value, type):
        return board_repr(value)
    return str(value)


def _builtin_str(kind: type) -> bool:
    """Does ``kind`` print with an exception's built-in ``__str__`` (not one a script defined)?"""
    for klass in kind.__mro__:
        if "__str__" in klass.__dict__:
            return klass.__module__ == "builtins"
    return True


def board_print(
    *values: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
) -> None:
    """``print`` as the board does it: values printed the board's way (:func:`board_str`), each call
    written whole, so threads never split a line."""
    stream = sys.stdout if file is None else file
    text = (" " if sep is None else sep).join(map(board_str, values))
    stream.write(text + ("\n" if end is None else end))
    if flush:
        stream.flush()


def board_round(number: Any, ndigits: Any = None) -> Any:
    """``round`` as py/modbuiltins.c ``mp_builtin_round`` (1.11, single-precision floats): an int is
    returned as is, an int with ``ndigits`` raises ``NotImplementedError`` (no
    ``MICROPY_PY_BUILTINS_ROUND_INT``); a float rounds half to even at single precision."""
    if isinstance(number, int):
        if ndigits is None:
            return number
        raise NotImplementedError
    if ndigits is None:
        return round(number)
    if not isinstance(number, float):
        return round(number, ndigits)
    mult = float32(10.0 ** ndigits.__index__())
    return float32(round(float32(float32(number) * mult)) / mult)


def board_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """``pow`` as py/modbuiltins.c: two arguments; a third raises ``NotImplementedError`` (no
    ``MICROPY_PY_BUILTINS_POW3``)."""
    if mod is not None:
        raise NotImplementedError("3-arg pow() not supported")
    return base**exp
