"""MicroPython's argument checking, with its exception types and messages.

``parse`` is ``mp_arg_parse_all`` (py/argcheck.c): keyword-only parameters, "extra positional
arguments given", "extra keyword arguments given", "'<name>' argument required". ``check_count`` is
the fixed-arity check of ``MP_DEFINE_CONST_FUN_OBJ_N`` / ``VAR_BETWEEN`` functions. The converters
raise what ``mp_obj_get_int`` / ``mp_obj_str_get_str`` raise.
"""

from __future__ import annotations

from typing import Any, NamedTuple

_REQUIRED = object()


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


# The default of a parameter whose absence the C code tells from any value, None included (modcoap's
# ``{.u_obj = mp_const_none}`` defaults of MP_ARG_INT parameters, which a given None cannot be).
NOT_GIVEN: Any = _NotGiven()


class Param(NamedTuple):
    name: str
    default: Any = _REQUIRED
    keyword_only: bool = False


def parse(args: tuple[Any, ...], kwargs: dict[str, Any], params: tuple[Param, ...]) -> list[Any]:
    n_positional = sum(1 for p in params if not p.keyword_only)
    if len(args) > n_positional:
        raise TypeError("extra positional arguments given")
    values: list[Any] = []
    used = 0
    for i, param in enumerate(params):
        if i < len(args):
            if param.keyword_only:  # a positional argument where a keyword-only parameter stands
                raise TypeError("extra positional arguments given")
            values.append(args[i])
        elif param.name in kwargs:
            values.append(kwargs[param.name])
            used += 1
        elif param.default is _REQUIRED:
            raise TypeError(f"'{param.name}' argument required")
        else:
            values.append(param.default)
    if used < len(kwargs):
        raise TypeError("extra keyword arguments given")
    return values


def check_count(args: tuple[Any, ...], kwargs: dict[str, Any], n_min: int, n_max: int) -> None:
    """Arity of a C function taking positional arguments only (``self`` counts for methods)."""
    if kwargs:
        raise TypeError("function doesn't take keyword arguments")
    n = len(args)
    if n_min == n_max and n != n_min:
        raise TypeError(f"function takes {n_min} positional arguments but {n} were given")
    if n < n_min:
        raise TypeError(f"function missing {n_min - n} required positional arguments")
    if n > n_max:
        raise TypeError(f"function expected at most {n_max} arguments, got {n}")


def _type_name(obj: object) -> str:
    return type(obj).__name__


# mp_int_t is 32 bits on the ESP32, and ``mpz_as_int_checked`` (py/mpz.c) takes the magnitude only up to
# 2**31 - 1, so -2**31 overflows too.
_MP_INT_MAX = 2**31 - 1


def to_int(obj: object) -> int:
    """``mp_obj_get_int`` (py/obj.c, MicroPython 1.11): an int or bool; beyond a 32-bit machine word
    ``OverflowError("overflow converting long int to machine word")`` (py/objint_mpz.c)."""
    if isinstance(obj, int):  # bool too: True is 1
        value = int(obj)
        if -_MP_INT_MAX <= value <= _MP_INT_MAX:
            return value
        raise OverflowError("overflow converting long int to machine word")
    raise TypeError(f"can't convert {_type_name(obj)} to int")


def to_str(obj: object) -> str:
    """str or bytes, as ``mp_obj_str_get_str`` accepts both."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "surrogateescape")
    raise TypeError(f"can't convert '{_type_name(obj)}' object to str implicitly")


def to_bytes(obj: object) -> bytes:
    """str (as UTF-8) or bytes, as ``mp_obj_str_get_data`` accepts both."""
    if isinstance(obj, str):
        return obj.encode("utf-8")
    if isinstance(obj, bytes):
        return obj
    raise TypeError(f"can't convert '{_type_name(obj)}' object to str implicitly")


def get_array(obj: object) -> list[Any]:
    """``mp_obj_get_array`` (py/obj.c, 1.11): the items of a tuple or list, else TypeError."""
    if isinstance(obj, (tuple, list)):
        return list(obj)
    raise TypeError(f"object '{_type_name(obj)}' isn't a tuple or list")


def get_array_fixed_n(obj: object, n: int) -> list[Any]:
    """``mp_obj_get_array_fixed_n``: a tuple or list of exactly ``n`` items."""
    items = get_array(obj)
    if len(items) != n:
        raise ValueError(f"requested length {n} but object has length {len(items)}")
    return items
