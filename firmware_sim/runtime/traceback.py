"""MicroPython-style tracebacks: only the script's own frames, as the board prints them.

    Traceback (most recent call last):
      File "main.py", line 7, in <module>
      File "/flash/lib/sensor.py", line 3, in read
    ZeroDivisionError: division by zero
"""

from __future__ import annotations

import types


def format_exception(exc: BaseException, board_files: set[str]) -> str:
    lines = ["Traceback (most recent call last):"]
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in board_files:
            name = code.co_name
            lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {name}')
        tb = tb.tb_next
    message = str(exc)
    lines.append(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
    return "\n".join(lines) + "\n"
