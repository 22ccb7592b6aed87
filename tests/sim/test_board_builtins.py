"""A script's builtins, modules and ``sys`` are MicroPython 1.11's as Pycom firmware 1.20.2.r6 builds it:
CPython-only names are a ``NameError``, modules the board lacks an ``ImportError`` with the board's
wording, and ``sys`` reports the firmware's values (py/modbuiltins.c, py/builtinimport.c, py/modsys.c)."""

from __future__ import annotations

import io

import pytest

from firmware_sim.runtime.board import Board
from firmware_sim.runtime.board_builtins import BOARD_BUILTINS
from firmware_sim.runtime.traceback import format_exception


def run_script(board: Board, source: str, name: str = "main.py") -> str:
    """Run ``source`` as ``/flash/<name>`` on the board: what it prints, then the traceback's last line
    if it ends with an uncaught exception (as the board's UART shows it)."""
    with board.loader.builtins["open"](f"/flash/{name}", "w") as f:
        f.write(source)
    out = io.StringIO()
    board.loader.builtins["print"] = lambda *a, sep=" ", end="\n", **k: out.write(sep.join(map(str, a)) + end)
    try:
        board.loader.run(f"/flash/{name}", name)
    except Exception as exc:
        out.write(format_exception(exc, board.loader.files).splitlines()[-1] + "\n")
    return out.getvalue()


# -- builtins -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "FileNotFoundError", "ModuleNotFoundError", "PermissionError", "TimeoutError", "IOError",
        "ConnectionError", "RecursionError", "UnboundLocalError", "Warning", "DeprecationWarning",
        "breakpoint", "ascii", "format", "vars", "compile", "aiter", "anext", "NotImplemented",
        "exit", "quit", "copyright", "credits", "license", "__loader__", "__spec__",
    ],
)  # fmt: skip
def test_cpython_only_names_are_name_errors(board: Board, name: str) -> None:
    assert run_script(board, f"{name}\n") == f"NameError: name '{name}' isn't defined\n"


def test_except_file_not_found_error_reached_is_a_name_error(board: Board) -> None:
    source = "try:\n    open('/flash/nope.txt')\nexcept FileNotFoundError:\n    print('caught')\n"
    assert run_script(board, source) == "NameError: name 'FileNotFoundError' isn't defined\n"


def test_host_file_not_found_is_the_boards_oserror(board: Board) -> None:
    source = "try:\n    open('/flash/nope.txt')\nexcept OSError as e:\n    print('caught', e.args[0])\n"
    assert run_script(board, source) == "caught 2\n"
    assert run_script(board, "open('/flash/nope.txt')\n") == "OSError: [Errno 2] ENOENT\n"


@pytest.mark.parametrize("name", sorted(BOARD_BUILTINS))
def test_the_boards_builtins_are_there(board: Board, name: str) -> None:
    assert run_script(board, f"x = {name}\nprint('ok')\n") == "ok\n"


def test_the_builtins_are_the_firmwares_and_no_more(board: Board) -> None:
    assert set(board.loader.builtins) == set(BOARD_BUILTINS) | {"__name__"}


def test_language_machinery_still_works(board: Board) -> None:
    source = (
        "class A:\n    def __init__(self):\n        super().__init__()\n"
        "try:\n    assert False, 'no'\nexcept AssertionError as e:\n    print('assert', e)\n"
        "def g():\n    yield 1\nprint(list(g()), [i for i in range(2)], A().__class__.__name__)\n"
        "import time\nprint(callable(time.sleep_ms))\n"
    )
    assert run_script(board, source) == "assert no\n[1] [0, 1] A\nTrue\n"


def test_execfile_runs_a_flash_file_in_the_callers_globals(board: Board) -> None:
    with board.loader.builtins["open"]("/flash/part.py", "w") as f:
        f.write("value = base * 2\n")
    assert run_script(board, "base = 21\nexecfile('/flash/part.py')\nprint(value)\n") == "42\n"


# -- modules ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement, missing",
    [
        ("import typing", "typing"),
        ("import dataclasses", "dataclasses"),
        ("import pathlib", "pathlib"),
        ("import asyncio", "asyncio"),
        ("import uasyncio", "uasyncio"),
        ("import abc", "abc"),
        ("import os.path", "os"),  # py/builtinimport.c: a built-in module is found only as the last part
        ("import uos.path", "uos"),
        ("import time.monotonic", "time"),
        ("import os\nimport os.path", "os"),
    ],
)
def test_modules_the_board_lacks_are_import_errors(board: Board, statement: str, missing: str) -> None:
    assert run_script(board, statement + "\n") == f"ImportError: no module named '{missing}'\n"


def test_dotted_imports_of_flash_packages_still_work(board: Board) -> None:
    uos = board.loader.import_module("os")
    uos.mkdir("/flash/lib/pkg")
    with board.loader.builtins["open"]("/flash/lib/pkg/__init__.py", "w") as f:
        f.write("")
    with board.loader.builtins["open"]("/flash/lib/pkg/mod.py", "w") as f:
        f.write("X = 3\n")
    assert run_script(board, "import pkg.mod\nprint(pkg.mod.X)\n") == "3\n"
    assert run_script(board, "import pkg.nope\n", "other.py") == "ImportError: no module named 'pkg.nope'\n"


# -- sys -------------------------------------------------------------------------------------------------


def test_sys_reports_the_firmwares_values(board: Board) -> None:
    source = (
        "import sys\n"
        "print(sys.version, sys.version_info, sys.platform)\n"
        "print(sys.implementation)\n"
        "print(sys.implementation.name, sys.implementation.version, sys.implementation[1][1])\n"
        "print(hasattr(sys.implementation, 'mpy'), hasattr(sys, 'getsizeof'), sys.maxsize)\n"
        "try:\n    1/0\nexcept ZeroDivisionError:\n    t, v, tb = sys.exc_info()\n"
        "    print(t.__name__, tb)\n"
    )
    assert run_script(board, source) == (
        "3.4.0 (3, 4, 0) LoPy4\n"
        "(name='micropython', version=(1, 11, 0))\n"
        "micropython (1, 11, 0) 11\n"
        "False False 2147483647\n"
        "ZeroDivisionError None\n"
    )
