"""``firmware-sim check``: what a Pycom 1.20 board (MicroPython 1.11) cannot run and a simulated board
cannot catch at run time, reported statically with file and line (method tables from the firmware's
py/objstr*.c, objlist.c, objdict.c, objset.c ... locals_dict tables at tag v1.20.2.r6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, board_example_files, write_tree

from firmware_sim.check.methods import BOARD_METHODS, CPYTHON_ONLY
from firmware_sim.cli import main

EXAMPLES = board_example_files()


def test_removeprefix_is_flagged_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        tmp_path / "project",
        {"main.py": "import sensor\n", "lib/sensor.py": "name = 'dev-1'\nprint(name.removeprefix('dev-'))\n"},
    )
    assert main(["check", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"{root / 'lib' / 'sensor.py'}:2: str.removeprefix() is CPython's" in err
    assert "AttributeError on the board" in err


@pytest.mark.parametrize(
    "call", ["'{a}'.format_map(d)", "'7'.zfill(3)", "'a\\nb'.splitlines()", "(5).bit_length()"]
)
def test_other_methods_the_board_lacks_are_flagged(tmp_path: Path, call: str) -> None:
    script = tmp_path / "main.py"
    script.write_text(f"d = {{'a': 1}}\nx = {call}\n")
    assert main(["check", str(script)]) == 1


def test_a_clean_project_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tree(
        tmp_path / "project",
        {
            "main.py": "d = {}\nd.setdefault('a', []).append(1)\nl = [1].copy()\n"
            "print('x'.startswith('x'), 'a b'.split(), (5).to_bytes(2, 'big'), d.get('a'))\n"
        },
    )
    assert main(["check", str(root)]) == 0
    assert capsys.readouterr().err == ""


def test_a_method_the_project_defines_is_not_flagged(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "project",
        {
            "main.py": "from lib.path import Path\nprint(Path('a/b').removeprefix('a/'))\n",
            "lib/path.py": "class Path:\n    def __init__(self, s):\n        self.s = s\n\n"
            "    def removeprefix(self, p):\n        return self.s[len(p):]\n",
        },
    )
    assert main(["check", str(root)]) == 0


def test_syntax_the_board_cannot_compile_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "main.py"
    script.write_text("value = 1\nprint(f'{value}')\n")
    assert main(["check", str(script)]) == 1
    assert f"{script}:2: SyntaxError: invalid syntax" in capsys.readouterr().err


def test_usage_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    (tmp_path / "notes.txt").write_text("x")
    assert main(["check", str(tmp_path / "notes.txt")]) == 2


def test_run_strict_stops_before_booting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "main.py"
    script.write_text("print('booted')\nprint('v1'.removeprefix('v'))\n")
    assert main(["run", "--strict", str(script)]) == 1
    captured = capsys.readouterr()
    assert "booted" not in captured.out
    assert f"{script}:2: str.removeprefix()" in captured.err


def test_the_tables_are_the_firmwares() -> None:
    # py/mpconfig.h:821, 836, 841: Pycom 1.20 builds str without center, partition, splitlines
    assert {"center", "partition", "rpartition", "splitlines"} <= set(CPYTHON_ONLY)
    assert "removeprefix" in CPYTHON_ONLY and "setdefault" in BOARD_METHODS["dict"]
    assert "copy" in BOARD_METHODS["list"] and "format_map" not in BOARD_METHODS["str"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_every_example_passes_check(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(example)]) == 0, capsys.readouterr().err
