"""MicroPython-style tracebacks: only the script's own frames, as the board prints them.

Traceback (most recent call last):
  File "main.py", line 7, in <module>
  File "/flash/lib/sensor.py", line 3, in read
ZeroDivisionError: divide by zero
"""

from __future__ import annotations

import errno
import re
import types

# CPython's wording -> MicroPython's, for the messages scripts meet most.
_MESSAGES = [
    (ZeroDivisionError, re.compile(r"^(float |integer )?division( or modulo)? by zero$"), "divide by zero"),
    (NameError, re.compile(r"^name '(\w+)' is not defined$"), r"name '\1' isn't defined"),
]


def board_message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg if isinstance(exc, IndentationError) else "invalid syntax"
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and len(exc.args) == 2:
        return f"[Errno {exc.errno}] {errno.errorcode.get(exc.errno, exc.strerror)}"  # [Errno 2] ENOENT
    message = str(exc)
    for kind, pattern, replacement in _MESSAGES:
        if isinstance(exc, kind):
            return pattern.sub(replacement, message)
    return message


def board_name(exc: BaseException) -> str:
    """The exception's name on the board: CPython's OSError subclasses (FileNotFoundError...) are all
    ``OSError`` there."""
    kind = type(exc)
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
