"""MicroPython-style tracebacks: only the script's own frames, as the board prints them.

Traceback (most recent call last):
  File "main.py", line 7, in <module>
  File "/flash/lib/sensor.py", line 3, in read
ZeroDivisionError: divide by zero
"""

from __future__ import annotations

import errno
import os
import re
import types
from collections.abc import Callable

# CPython's wording -> MicroPython 1.11's (Pycom 1.20.2.r6 builds MICROPY_ERROR_REPORTING_NORMAL,
# esp32/mpconfigport.h:107), for the messages scripts meet most. Each row: the exception class it applies
# to, CPython's message (Python 3.10-3.13 forms), the board's. First match wins. Sources: py/*.c at tag
# v1.20.2.r6 of pycom/pycom-micropython-sigfox.
_BINARY = {
    "+": "__add__",
    "-": "__sub__",
    "*": "__mul__",
    "/": "__truediv__",
    "//": "__floordiv__",
    "%": "__mod__",
    "**": "__pow__",
    "pow()": "__pow__",
    "divmod()": "__divmod__",
    "|": "__or__",
    "^": "__xor__",
    "&": "__and__",
    "<<": "__lshift__",
    ">>": "__rshift__",
    "+=": "__iadd__",
    "-=": "__isub__",  # objtype.c:477-478 (the other in-place names are not built)
    "<": "__lt__",
    ">": "__gt__",
    "<=": "__le__",
    ">=": "__ge__",
}  # objtype.c:467-505 mp_binary_op_method_name
_UNARY = {"-": "__neg__", "+": "__pos__", "~": "__invert__", "abs()": "__abs__"}  # objtype.c:381-384


def _binary(match: re.Match[str]) -> str:
    """runtime.c:588-590: "unsupported types for %q: '%s', '%s'" (op method name, lhs, rhs)."""
    name = _BINARY.get(match["op"])
    if name is None:
        return match.group(0)
    return f"unsupported types for {name}: '{match['lhs']}', '{match['rhs']}'"


def _unary(match: re.Match[str]) -> str:
    """runtime.c:281-283: "unsupported type for %q: '%s'"."""
    name = _UNARY.get(match["op"])
    return f"unsupported type for {name}: '{match['type']}'" if name else match.group(0)


_Replacement = str | Callable[[re.Match[str]], str]
_MESSAGES: list[tuple[type[BaseException], re.Pattern[str], _Replacement]] = [
    # runtime.c:594 "divide by zero"
    (
        ZeroDivisionError,
        re.compile(r"^(float |integer )?(floor )?(division|modulo)( or modulo)? by zero$"),
        "divide by zero",
    ),
    (ZeroDivisionError, re.compile(r"^(float )?(modulo|divmod\(\)) by zero$"), "divide by zero"),
    # vm.c:252 "local variable referenced before assignment" (before NameError: a subclass in CPython)
    (
        UnboundLocalError,
        re.compile(
            r"^(cannot access local variable '\w+' where it is not associated with a value"
            r"|local variable '\w+' referenced before assignment)$"
        ),
        "local variable referenced before assignment",
    ),
    # runtime.c:172-173 "name '%q' isn't defined"
    (NameError, re.compile(r"^name '(\w+)' is not defined$"), r"name '\1' isn't defined"),
    # runtime.c:1094-1096 "'%s' object has no attribute '%q'": a module is "'module' object" in 1.11
    (
        AttributeError,
        re.compile(r"^(partially initialized )?module '[\w.]+' has no attribute '(\w+)'.*$", re.DOTALL),
        r"'module' object has no attribute '\2'",
    ),
    # builtinimport.c:403-404 and 507-508 "no module named '%q'"
    (ImportError, re.compile(r"^No module named '([\w.]+)'$"), r"no module named '\1'"),
    # runtime.c:588-590 "unsupported types for %q: '%s', '%s'"
    (
        TypeError,
        re.compile(
            r"^unsupported operand type\(s\) for (?P<op>\S+): '(?P<lhs>[\w.]+)' and '(?P<rhs>[\w.]+)'$"
        ),
        _binary,
    ),
    (
        TypeError,
        re.compile(
            r"^'(?P<op>[<>]=?)' not supported between instances of '(?P<lhs>[\w.]+)' and '(?P<rhs>[\w.]+)'$"
        ),
        _binary,
    ),
    # runtime.c:281-283 "unsupported type for %q: '%s'"
    (TypeError, re.compile(r"^bad operand type for (unary )?(?P<op>\S+?):? '(?P<type>[\w.]+)'$"), _unary),
    # objstr.c:2113-2120 bad_implicit_conversion: "can't convert '%q' object to %q implicitly"
    (
        TypeError,
        re.compile(r'^can only concatenate str \(not "(\w+)"\) to str$'),
        r"can't convert '\1' object to str implicitly",
    ),
    # runtime.c:588-590 again: list/tuple + other is an unsupported binary op (objlist.c, objtuple.c)
    (
        TypeError,
        re.compile(r'^can only concatenate (?P<lhs>list|tuple) \(not "(?P<rhs>\w+)"\) to (list|tuple)$'),
        lambda m: f"unsupported types for __add__: '{m['lhs']}', '{m['rhs']}'",
    ),
    (
        TypeError,
        re.compile(r"^can't concat (\w+) to bytes$"),
        r"unsupported types for __add__: 'bytes', '\1'",
    ),
    # obj.c:225-238 mp_obj_get_int -> runtime.c:277-278 "can't convert %s to int"
    (
        TypeError,
        re.compile(r"^'(\w+)' object cannot be interpreted as an integer$"),
        r"can't convert \1 to int",
    ),
    # obj.c:298-301 "can't convert %s to float"
    (TypeError, re.compile(r"^must be real number, not (\w+)$"), r"can't convert \1 to float"),
    # runtime.c:630-631 "'%s' object isn't callable"
    (TypeError, re.compile(r"^'(\w+)' object is not callable$"), r"'\1' object isn't callable"),
    # runtime.c:1173-1174 "'%s' object isn't iterable"
    (TypeError, re.compile(r"^'(\w+)' object is not iterable$"), r"'\1' object isn't iterable"),
    # runtime.c:1195-1196 "'%s' object isn't an iterator"
    (TypeError, re.compile(r"^'(\w+)' object is not an iterator$"), r"'\1' object isn't an iterator"),
    # obj.c:483-484 "'%s' object isn't subscriptable"
    (TypeError, re.compile(r"^'(\w+)' object is not subscriptable$"), r"'\1' object isn't subscriptable"),
    # obj.c:490-491 "'%s' object doesn't support item assignment"
    (
        TypeError,
        re.compile(r"^'(\w+)' object does not support item assignment$"),
        r"'\1' object doesn't support item assignment",
    ),
    # obj.c:380-381 "%q indices must be integers, not %s"
    (
        TypeError,
        re.compile(r"^(\w+) indices must be integers( or slices)?, not (\w+)$"),
        r"\1 indices must be integers, not \3",
    ),
    # bc.c:82-83 (ERROR_REPORTING_NORMAL) "function takes %d positional arguments but %d were given"
    (
        TypeError,
        re.compile(
            r"^[\w.<>]+\(\) takes (from \d+ to )?(\d+) positional arguments? but (\d+) (was|were) given$"
        ),
        r"function takes \2 positional arguments but \3 were given",
    ),
    # bc.c:208-209 "unexpected keyword argument '%q'"
    (
        TypeError,
        re.compile(r"^[\w.<>]+\(\) got an unexpected keyword argument '(\w+)'$"),
        r"unexpected keyword argument '\1'",
    ),
    # bc.c:196-197 "function got multiple values for argument '%q'"
    (
        TypeError,
        re.compile(r"^[\w.<>]+\(\) got multiple values for argument '(\w+)'$"),
        r"function got multiple values for argument '\1'",
    ),
    # bc.c:259 "function missing keyword-only argument" (no keyword given at the call)
    (
        TypeError,
        re.compile(r"^[\w.<>]+\(\) missing \d+ required keyword-only arguments?: .*$"),
        "function missing keyword-only argument",
    ),
    # obj.c mp_obj_get_int (int() of a non-number) -> "can't convert %s to int"
    (
        TypeError,
        re.compile(
            r"^int\(\) argument must be a string, a bytes-like object or a (real )?number, not '(\w+)'$"
        ),
        r"can't convert \2 to int",
    ),
    # objstrunicode.c:143 "string index out of range"; obj.c:400-401 "%q index out of range" (bytes)
    (IndexError, re.compile(r"^index out of range$"), "bytes index out of range"),
    # runtime.c:859-860 "need more than %d values to unpack";
    # runtime.c:866-867 "too many values to unpack (expected %d)"
    (
        ValueError,
        re.compile(r"^not enough values to unpack \(expected \d+, got (\d+)\)$"),
        r"need more than \1 values to unpack",
    ),
    (
        ValueError,
        re.compile(r"^too many values to unpack \(expected (\d+)(, got \d+)?\)$"),
        r"too many values to unpack (expected \1)",
    ),
    # parsenum.c:152-153 "invalid syntax for integer with base %d"; 353 "invalid syntax for number"
    (
        ValueError,
        re.compile(r"^invalid literal for int\(\) with base (\d+): .*$", re.DOTALL),
        r"invalid syntax for integer with base \1",
    ),
    (
        ValueError,
        re.compile(r"^could not convert string to float: .*$", re.DOTALL),
        "invalid syntax for number",
    ),
    # sequence.c:263 "object not in sequence" (list.index / list.remove, objlist.c)
    (
        ValueError,
        re.compile(r"^(list\.remove\(x\): x not in list|.* is not in list)$", re.DOTALL),
        "object not in sequence",
    ),
]


# The errno names the board's uerrno knows (esp32/mpconfigport.h MICROPY_PY_UERRNO_LIST, v1.20.2.r6), at
# ESP-IDF's newlib values (the port does not use MicroPython's internal errno numbers).
_BOARD_ERRNO = {
    1: "EPERM", 2: "ENOENT", 5: "EIO", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 17: "EEXIST",
    19: "ENODEV", 21: "EISDIR", 22: "EINVAL", 95: "EOPNOTSUPP", 104: "ECONNRESET", 105: "ENOBUFS",
    111: "ECONNREFUSED", 112: "EADDRINUSE", 113: "ECONNABORTED", 115: "ENETDOWN", 116: "ETIMEDOUT",
    118: "EHOSTUNREACH", 119: "EINPROGRESS", 120: "EALREADY", 122: "EMSGSIZE", 128: "ENOTCONN",
}  # fmt: skip


def _oserror_message(exc: OSError) -> str | None:
    """``OSError`` as py/objexcept.c ``mp_obj_exception_print`` prints it: one small-int argument the
    board's uerrno names is ``[Errno N] NAME``, any other single argument as it is, several as a tuple.
    An error of the host or the simulator (``OSError(errno, strerror or NAME)``) keeps ``[Errno N] NAME``
    with the host's number (None: print as any other exception)."""
    args = exc.args
    if len(args) == 1 and type(args[0]) is int and args[0] in _BOARD_ERRNO:
        return f"[Errno {args[0]}] {_BOARD_ERRNO[args[0]]}"
    if len(args) == 2 and isinstance(exc.errno, int) and isinstance(args[1], str):
        name = errno.errorcode.get(exc.errno)
        if args[1] == os.strerror(exc.errno) or (name is not None and args[1].startswith(name)):
            return f"[Errno {exc.errno}] {name or exc.strerror}"  # [Errno 2] ENOENT
    if len(args) >= 2:
        return repr(args)
    return None


_MISSING = re.compile(r"^(?P<name>[\w.]+)\(\) missing (?P<n>\d+) required positional arguments?: .*$")


def _missing_arguments(exc: BaseException, message: str) -> str | None:
    """bc.c:165 "function takes %d positional arguments but %d were given" for a call that left out
    required arguments: CPython names the function (``f() missing 1 required positional argument``), so
    its required count is found on the function, looked up where the call failed."""
    match = _MISSING.match(message)
    tb = exc.__traceback__
    if match is None or tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    first, *rest = match["name"].split(".")
    frame = tb.tb_frame
    found = frame.f_locals.get(first, frame.f_globals.get(first))
    for attribute in rest:
        found = getattr(found, attribute, None)
    code = getattr(found, "__code__", None)
    if code is None:
        return None
    required = code.co_argcount - len(getattr(found, "__defaults__", None) or ())
    given = required - int(match["n"])
    return f"function takes {required} positional arguments but {given} were given"


def board_message(exc: BaseException) -> str:
    """The message the board prints after the exception's name (see ``_MESSAGES`` for the sources)."""
    if isinstance(exc, SyntaxError):
        return exc.msg if isinstance(exc, IndentationError) else "invalid syntax"
    if isinstance(exc, OSError):
        oserror = _oserror_message(exc)
        if oserror is not None:
            return oserror
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        # objexcept.c mp_obj_exception_print: one argument is printed with PRINT_STR, not repr as CPython
        # does for KeyError: d["x"] prints "KeyError: x"
        return str(exc.args[0])
    message = str(exc)
    if isinstance(exc, TypeError):
        missing = _missing_arguments(exc, message)
        if missing is not None:
            return missing
    for kind, pattern, replacement in _MESSAGES:
        if isinstance(exc, kind):
            changed = pattern.sub(replacement, message, count=1)
            if changed != message or pattern.match(message):
                return changed
    return message


def board_name(exc: BaseException) -> str:
    """The exception's name on the board: CPython's OSError subclasses (FileNotFoundError...) are all
    ``OSError`` there."""
    kind = type(exc)
    if kind in (ModuleNotFoundError, UnboundLocalError):
        return kind.__mro__[1].__name__  # ImportError, NameError: the board has neither subclass
    if isinstance(exc, OSError) and kind is not OSError and kind.__module__ == "builtins":
        return "OSError"
    return kind.__name__


def format_exception(exc: BaseException, board_files: set[str]) -> str:
    lines = ["Traceback (most recent call last):"]
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in board_files:
            name = code.co_name
            lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {name}')
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename in board_files:
        lines.append(f'  File "{exc.filename}", line {exc.lineno}')  # where the compiler stopped
    message = board_message(exc)
    name = board_name(exc)
    lines.append(f"{name}: {message}" if message else name)
    return "\n".join(lines) + "\n"
