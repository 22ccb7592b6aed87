"""The methods MicroPython 1.11's built-in types have as Pycom firmware 1.20.2.r6 builds them, from the
types' ``locals_dict`` tables in the firmware source (tag v1.20.2.r6 of pycom/pycom-micropython-sigfox),
and the methods CPython's built-in types have that none of them has: a call of such a method raises
``AttributeError`` on the board whatever the script's types are, unless the script defines the name.

Configuration: esp32/mpconfigport.h:64 ``MICROPY_PY_BUILTINS_STR_UNICODE`` 1, :102 ``MICROPY_CPYTHON_COMPAT``
1, :67 ``MICROPY_PY_BUILTINS_FROZENSET`` 1; the port leaves py/mpconfig.h's defaults for
``MICROPY_PY_BUILTINS_STR_CENTER`` (0, :821), ``STR_COUNT`` (1, :826), ``STR_PARTITION`` (0, :836),
``STR_SPLITLINES`` (0, :841) and ``DICT_FROMKEYS`` (1, :851): the board's str has no ``center``,
``partition``, ``rpartition`` or ``splitlines``.
"""

from __future__ import annotations

_STR_COMMON = (
    "find", "rfind", "index", "rindex", "join", "split", "rsplit", "startswith", "endswith", "strip",
    "lstrip", "rstrip", "format", "replace", "count", "lower", "upper", "isspace", "isalpha", "isdigit",
    "isupper", "islower",
)  # fmt: skip

# type -> its methods on the board, each with the table it comes from
# fmt: off
BOARD_METHODS: dict[str, frozenset[str]] = {
    # py/objstrunicode.c:225-263 struni_locals_dict_table (encode under CPYTHON_COMPAT, :226-228)
    "str": frozenset(("encode", *_STR_COMMON)),
    # py/objstr.c:1923-1969 str8_locals_dict_table (decode under CPYTHON_COMPAT, :1924-1926)
    "bytes": frozenset(("decode", *_STR_COMMON)),
    # py/objarray.c:530-536 array_locals_dict_table (bytearray and array.array)
    "bytearray": frozenset(("append", "extend", "decode")),
    # py/objlist.c:428-440 list_locals_dict_table
    "list": frozenset(
        (
            "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse",
            "sort",
        )
    ),
    # py/objtuple.c:214-217 tuple_locals_dict_table
    "tuple": frozenset(("count", "index")),
    # py/objdict.c:536-553 dict_locals_dict_table (fromkeys: MICROPY_PY_BUILTINS_DICT_FROMKEYS)
    "dict": frozenset(
        (
            "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault",
            "update", "values", "__getitem__", "__setitem__", "__delitem__",
        )
    ),
    # py/objset.c:517-536 set_locals_dict_table
    "set": frozenset(
        (
            "add", "clear", "copy", "discard", "difference", "difference_update", "intersection",
            "intersection_update", "isdisjoint", "issubset", "issuperset", "pop", "remove",
            "symmetric_difference", "symmetric_difference_update", "union", "update", "__contains__",
        )
    ),
    # py/objset.c:551-561 frozenset_locals_dict_table
    "frozenset": frozenset(
        (
            "copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
            "symmetric_difference", "union", "__contains__",
        )
    ),
    # py/objint.c:449-452 int_locals_dict_table
    "int": frozenset(("from_bytes", "to_bytes")),
    # py/objfloat.c: mp_type_float has no locals_dict
    "float": frozenset(),
    # py/objobject.c:65-72 object_locals_dict_table
    "object": frozenset(("__init__", "__new__")),
}
# fmt: on

BOARD_NAMES: frozenset[str] = frozenset().union(*BOARD_METHODS.values())

# CPython's built-in types whose methods scripts call most
CPYTHON_TYPES: tuple[type, ...] = (str, bytes, bytearray, list, tuple, dict, set, frozenset, int, float)


def _cpython_only() -> dict[str, str]:
    """Method name -> the first CPython type having it, for public names no board type has."""
    found: dict[str, str] = {}
    for kind in CPYTHON_TYPES:
        for name in sorted(vars(kind)):
            if name.startswith("_") or name in BOARD_NAMES or not callable(getattr(kind, name)):
                continue
            found.setdefault(name, kind.__name__)
    return found


CPYTHON_ONLY: dict[str, str] = _cpython_only()
