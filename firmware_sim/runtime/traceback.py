"""MicroPython-style tracebacks: only the script's own frames, as the board prints them.

Traceback (most recent call last):
  File "main.py", line 7, in <module>
  File "/flash/lib/sensor.py", line 3, in read
ZeroDivisionError: divide by zero
"""

from __future__ import annotations

import re
import types

# CPython's wording -> MicroPython's, for the messages scripts meet most.
_MESSAGES = [
    (ZeroDivisionError, re.compile(r"^(float |integer )?division( or modulo)? by zero$"), "divide by zero"),
    (NameError, re.compile(r"^name '(\w+)' is not defined$"), r"name '\1' isn't defined"),
]


def board_message(exc: BaseException) -> str:
    message = str(exc)
    for kind, pattern, replacement in _MESSAGES:
        if isinstance(exc, kind):
            return pattern.sub(replacement, message)
    return message


def format_exception(exc: BaseException, board_files: set[str]) -> str:
    lines = ["Traceback (most recent call last):"]
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in board_files:
            name = code.co_name
            lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {name}')
        tb = tb.tb_next
    message = board_message(exc)
    lines.append(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
    return "\n".join(lines) + "\n"
