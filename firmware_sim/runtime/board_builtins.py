"""The board's builtins: MicroPython 1.11's as Pycom firmware 1.20.2.r6 configures them.

A script's ``__builtins__`` holds these names only, so a CPython-only name (``FileNotFoundError``,
``ModuleNotFoundError``, ``breakpoint``, ``format``, ``NotImplemented``...) is a ``NameError`` on the
simulated board as on the real one. The lists come from the firmware source at tag v1.20.2.r6:
``py/modbuiltins.c`` (``mp_module_builtins_globals_table``) filtered by the ``MICROPY_PY_*`` switches of
``esp32/mpconfigport.h`` and the defaults of ``py/mpconfig.h``, plus ``MICROPY_PORT_BUILTINS``.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import buffers
from .modtable import ALIASES, BUILTIN
from .printing import board_pow, board_print, board_repr, board_round

if TYPE_CHECKING:
    from .loader import Loader

# py/modbuiltins.c, "built-in core functions": __build_class__ and __import__ (the REPL's own
# __repl_print__ is left out: CPython's REPL machinery does its job).
CORE = ("__build_class__", "__import__")

# py/modbuiltins.c, "built-in types". Switched: bytearray (MICROPY_PY_BUILTINS_BYTEARRAY 1), complex
# (..._COMPLEX 1), frozenset/set (..._FROZENSET/_SET 1), memoryview (..._MEMORYVIEW 1), property
# (..._PROPERTY 1), slice (..._SLICE 1): all set in esp32/mpconfigport.h; enumerate, filter, reversed
# (mpconfig.h defaults 1), float (MICROPY_FLOAT_IMPL_FLOAT).
TYPES = (
    "bool", "bytes", "bytearray", "complex", "dict", "enumerate", "filter", "float", "frozenset", "int",
    "list", "map", "memoryview", "object", "property", "range", "reversed", "set", "slice", "str",
    "super", "tuple", "type", "zip", "classmethod", "staticmethod",
)  # fmt: skip

# py/modbuiltins.c, "built-in objects": Ellipsis only. NotImplemented needs
# MICROPY_PY_BUILTINS_NOTIMPLEMENTED, which py/mpconfig.h defaults to 0 and the esp32 port leaves unset.
OBJECTS = ("Ellipsis",)

# py/modbuiltins.c, "built-in user functions". Left out: compile (MICROPY_PY_BUILTINS_COMPILE defaults
# to 0). In: eval/exec (..._EVAL_EXEC = MICROPY_ENABLE_COMPILER 1), execfile (..._EXECFILE 1 in
# mpconfigport.h), help/input (..._HELP/_INPUT 1), max/min (..._MIN_MAX 1), delattr (CPYTHON_COMPAT 1);
# open comes from esp32/mpconfigport.h's MICROPY_PORT_BUILTINS (help, input, open).
FUNCTIONS = (
    "abs", "all", "any", "bin", "callable", "chr", "delattr", "dir", "divmod", "eval", "exec",
    "execfile", "getattr", "setattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
    "isinstance", "issubclass", "iter", "len", "locals", "max", "min", "next", "oct", "ord", "pow",
    "print", "repr", "round", "sorted", "sum", "open",
)  # fmt: skip

# py/modbuiltins.c, "built-in exceptions". StopAsyncIteration: MICROPY_PY_ASYNC_AWAIT defaults to 1;
# UnicodeError: MICROPY_PY_BUILTINS_STR_UNICODE 1; ViperTypeError left out (no native emitter: the esp32
# port sets no MICROPY_EMIT_XTENSA). TimeoutError exists (MICROPY_PY_BUILTINS_TIMEOUTERROR 1,
# py/objexcept.c) but is not in the table: scripts reach it as socket.timeout, never as a builtin name.
EXCEPTIONS = (
    "BaseException", "ArithmeticError", "AssertionError", "AttributeError", "EOFError", "Exception",
    "GeneratorExit", "ImportError", "IndentationError", "IndexError", "KeyboardInterrupt", "KeyError",
    "LookupError", "MemoryError", "NameError", "NotImplementedError", "OSError", "OverflowError",
    "RuntimeError", "StopAsyncIteration", "StopIteration", "SyntaxError", "SystemExit", "TypeError",
    "UnicodeError", "ValueError", "ZeroDivisionError",
)  # fmt: skip

BOARD_BUILTINS: tuple[str, ...] = CORE + TYPES + OBJECTS + FUNCTIONS + EXCEPTIONS


def _no_module(name: str) -> ImportError:
    return ImportError(f"no module named '{name}'")


def board_import(loader: Loader) -> Callable[..., Any]:
    """``__import__`` with py/builtinimport.c's rule for dotted names: a built-in module is found only as
    the last component (weak links are looked up for ``i == mod_len`` only), so ``import os.path``
    raises ``ImportError: no module named 'os'`` on the board, not ``'os.path'``."""

    def __import__(name: str, globals=None, locals=None, fromlist=(), level: int = 0) -> Any:
        try:
            return loader.import_module(name, globals, locals, fromlist, level)
        except ImportError as exc:
            top = name.split(".", 1)[0]
            if level or "." not in name or exc.args != (f"no module named '{name}'",):
                raise
            if top in BUILTIN or top in ALIASES:
                raise _no_module(top) from None
            raise

    return __import__


def board_execfile(loader: Loader) -> Callable[..., None]:
    """``execfile(filename[, globals[, locals]])`` (MICROPY_PY_BUILTINS_EXECFILE): a flash file run in
    the caller's globals unless given others."""

    def execfile(filename: str, globals: dict | None = None, locals: Any = None) -> None:
        if globals is None:
            caller = sys._getframe(1)
            globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
        globals.setdefault("__builtins__", loader.builtins)
        exec(loader.compile(filename, filename), globals, globals if locals is None else locals)

    return execfile


def board_builtins(loader: Loader) -> dict[str, Any]:
    """The names a script on the board sees as builtins (see the tables above), with the board's own
    ``__import__``, ``open``, ``print``, ``repr``, ``round``, ``pow`` (:mod:`.printing`) and
    ``execfile``; the virtual board sets ``input``/``help``."""

    host = builtins.__dict__
    table: dict[str, Any] = {name: host[name] for name in BOARD_BUILTINS if name in host}
    table["__name__"] = "builtins"
    table["__import__"] = board_import(loader)
    table["open"] = loader.flash.open
    table["print"] = board_print
    table["repr"] = board_repr
    table["round"] = board_round
    table["pow"] = board_pow
    table["execfile"] = board_execfile(loader)
    table["bytearray"] = buffers.bytearray  # a str is a buffer, as on MicroPython
    return table
