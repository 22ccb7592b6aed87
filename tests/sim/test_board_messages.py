"""Uncaught exceptions print MicroPython 1.11's wording (Pycom 1.20.2.r6, MICROPY_ERROR_REPORTING_NORMAL),
not CPython's: each case is a script on an in-process board and the traceback's last line it ends with.
Sources: py/runtime.c, py/obj.c, py/objstr.c, py/objtype.c, py/bc.c, py/vm.c, py/parsenum.c,
py/builtinimport.c, py/objexcept.c at tag v1.20.2.r6."""

from __future__ import annotations

import pytest

from firmware_sim.runtime.board import Board
from firmware_sim.runtime.traceback import format_exception


def last_line(board: Board, source: str) -> str:
    """Run ``source`` as /flash/main.py; the last line of the traceback it ends with."""
    with board.loader.builtins["open"]("/flash/main.py", "w") as f:
        f.write(source)
    board.loader.builtins["print"] = lambda *a, **k: None
    try:
        board.loader.run("/flash/main.py", "main.py")
    except Exception as exc:
        return format_exception(exc, board.loader.files).splitlines()[-1]
    raise AssertionError("the script raised nothing")


CASES = [
    # runtime.c:1094-1096: a module is a "'module' object" in 1.11
    ("import utime\nutime.nothing", "AttributeError: 'module' object has no attribute 'nothing'"),
    # runtime.c:588-590
    ("1 + 'a'", "TypeError: unsupported types for __add__: 'int', 'str'"),
    ("[1] - 2", "TypeError: unsupported types for __sub__: 'list', 'int'"),
    ("1 < 'a'", "TypeError: unsupported types for __lt__: 'int', 'str'"),
    ("x = 1\nx += 'a'", "TypeError: unsupported types for __iadd__: 'int', 'str'"),
    ("[1] + 'a'", "TypeError: unsupported types for __add__: 'list', 'str'"),
    # runtime.c:281-283
    ("-'a'", "TypeError: unsupported type for __neg__: 'str'"),
    # objstr.c:2113-2120
    ("'a' + 1", "TypeError: can't convert 'int' object to str implicitly"),
    # obj.c:225-238 -> runtime.c:277-278
    ("range('3')", "TypeError: can't convert str to int"),
    # runtime.c:630, 1173, obj.c:483, 490, 380
    ("x = 5\nx()", "TypeError: 'int' object isn't callable"),
    ("for i in 5:\n    pass", "TypeError: 'int' object isn't iterable"),
    ("x = 5\nx[0]", "TypeError: 'int' object isn't subscriptable"),
    ("t = (1,)\nt[0] = 2", "TypeError: 'tuple' object doesn't support item assignment"),
    ("i = 'a'\n[1][i]", "TypeError: list indices must be integers, not str"),
    # bc.c:82-83, 208-209
    ("def f(a):\n    pass\nf(1, 2)", "TypeError: function takes 1 positional arguments but 2 were given"),
    ("def f(a):\n    pass\nf(1, b=2)", "TypeError: unexpected keyword argument 'b'"),
    # objexcept.c: KeyError's one argument printed as str
    ("d = {}\nd['key']", "KeyError: key"),
    ("b'ab'[5]", "IndexError: bytes index out of range"),
    # runtime.c:859-860, 866-867
    ("a, b, c = (1, 2)", "ValueError: need more than 2 values to unpack"),
    # parsenum.c:152-153, 353
    ("int('x1')", "ValueError: invalid syntax for integer with base 10"),
    ("float('x1')", "ValueError: invalid syntax for number"),
    # sequence.c:263
    ("[1].remove(2)", "ValueError: object not in sequence"),
    # vm.c:252
    ("def f():\n    x += 1\nf()", "NameError: local variable referenced before assignment"),
    # runtime.c:594
    ("1 % 0", "ZeroDivisionError: divide by zero"),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[expected for _, expected in CASES])
def test_uncaught_exception_prints_the_boards_message(board: Board, source: str, expected: str) -> None:
    assert last_line(board, source + "\n") == expected


SAME = [
    # runtime.c:1094-1096, obj.c:400-401, builtinimport.c:507-508 (the loader raises it), runtime.c:866-867,
    # objlist.c:271: CPython's text is already the board's; the table must leave it alone
    ("x = None\nx.y", "AttributeError: 'NoneType' object has no attribute 'y'"),
    ("[1, 2][5]", "IndexError: list index out of range"),
    ("import nowhere", "ImportError: no module named 'nowhere'"),
    ("a, b = (1, 2, 3)", "ValueError: too many values to unpack (expected 2)"),
    ("[].pop()", "IndexError: pop from empty list"),
    ("raise ValueError('bad value')", "ValueError: bad value"),
]


@pytest.mark.parametrize(("source", "expected"), SAME, ids=[expected for _, expected in SAME])
def test_a_message_the_board_shares_with_cpython_is_left_alone(
    board: Board, source: str, expected: str
) -> None:
    assert last_line(board, source + "\n") == expected
