"""The REPL basics every MicroPython tool relies on."""

from __future__ import annotations

import pytest

from firmware_sim.serial import BoardError, ProgramTimeout


def test_exec_prints_with_board_newlines(board):
    assert board.exec("print('hello', 1 + 1)").replace(b"\r\n", b"\n") == b"hello 2\n"


def test_globals_persist_between_execs_until_a_soft_reset(board):
    board.exec("counter = 41")
    assert board.eval("counter + 1") == 42
    board.enter_raw_repl(soft_reset=True)
    with pytest.raises(BoardError, match="NameError"):
        board.exec("counter")


def test_exceptions_are_micropython_tracebacks(board):
    with pytest.raises(BoardError) as raised:
        board.exec("def f():\n    return 1 / 0\nf()")
    text = raised.value.traceback.replace("\r\n", "\n")
    assert "Traceback (most recent call last):" in text
    assert 'File "<stdin>", line 2, in f' in text
    assert "ZeroDivisionError: divide by zero" in text


def test_a_running_program_is_interrupted_and_the_board_answers_again(board):
    with pytest.raises(ProgramTimeout):
        board.run("import time\nwhile True:\n    time.sleep_ms(10)\n", timeout=1)
    assert board.eval("6 * 7") == 42


def test_the_board_reports_a_pycom_platform(board, platform):
    assert platform in {"LoPy", "LoPy4", "FiPy", "GPy", "SiPy", "WiPy"}
    assert board.eval("__import__('sys').implementation.name") == "micropython"
