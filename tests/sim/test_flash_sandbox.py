"""The board's ``/flash`` stays a sandbox: no symlink swap, symlink loop or ``run --flash`` copy reaches
outside the folder, no error shows a host path, and no board module carries a host module or host
file/process function."""

from __future__ import annotations

import builtins
import errno
import io
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT

from firmware_sim import runtime
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.modtable import BUILTIN

SECRET = "host secret\n"
INSIDE = "board file\n"


def board_open(board: Board) -> Callable:
    """``open`` as a script on the board calls it."""
    return board.loader.builtins["open"]


def board_os(board: Board):
    """``import os`` as a script on the board does it."""
    return board.loader.import_module("os")


class Flipper:
    """A host thread that swaps the symlink ``link`` between two targets as fast as it can (each swap
    atomic: a new link renamed over the old one)."""

    def __init__(self, link: Path, targets: tuple[str, str]) -> None:
        self.link, self.targets = link, targets
        self.stop = threading.Event()
        self.swaps = 0
        os.symlink(targets[0], link)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        spare = self.link.with_name(self.link.name + ".new")
        while not self.stop.is_set():
            for target in self.targets:
                os.symlink(target, spare)
                os.replace(spare, self.link)
                self.swaps += 1

    def __enter__(self) -> Flipper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def test_a_symlink_swapped_by_the_host_never_lets_the_board_read_outside(board: Board, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text(SECRET)
    (outside / "only-outside.txt").write_text(SECRET)
    flash = tmp_path / "flash"
    (flash / "inside").mkdir()
    (flash / "inside" / "data.txt").write_text(INSIDE)
    open_, os_ = board_open(board), board_os(board)
    seen = {"inside": 0, "refused": 0}
    leaks: list[str] = []

    def read(path: str) -> None:
        try:
            with open_(path) as f:
                text = f.read()
        except OSError:
            seen["refused"] += 1
            return
        if text == SECRET:
            leaks.append(f"open({path!r})")
        else:
            seen["inside"] += 1

    # a folder link (/flash/dir/data.txt) and a file link (/flash/file) flipping between inside and out
    with (
        Flipper(flash / "dir", ("inside", str(outside))),
        Flipper(flash / "file", ("inside/data.txt", str(outside / "data.txt"))),
    ):
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            read("/flash/dir/data.txt")
            read("file")
            try:
                if "only-outside.txt" in os_.listdir("/flash/dir"):
                    leaks.append("listdir('/flash/dir')")
                if os_.stat("/flash/dir/data.txt")[6] == len(SECRET):
                    leaks.append("stat('/flash/dir/data.txt')")
            except OSError:
                seen["refused"] += 1
    assert not leaks, f"{len(leaks)} reads reached outside the flash, e.g. {leaks[:3]}; {seen}"
    assert seen["inside"] > 100 and seen["refused"] > 100, seen  # both sides of the swap were exercised


def test_run_flash_never_writes_through_a_symlink_that_leaves_the_flash(tmp_path: Path):
    outside = tmp_path / "outside"
    (outside / "lib").mkdir(parents=True)
    (outside / "main.py").write_text("# the user's own file, outside the flash\n")
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").symlink_to(outside / "main.py")
    (flash / "lib").symlink_to(outside / "lib")
    script = tmp_path / "script.py"
    script.write_text("print('ran')\n")
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--flash", str(flash), str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran\n"
    assert (outside / "main.py").read_text() == "# the user's own file, outside the flash\n"
    assert not (flash / "main.py").is_symlink() and (flash / "main.py").read_text() == "print('ran')\n"
    assert f"firmware-sim: {flash / 'main.py'} was a symlink: replaced by the project's file" in done.stderr

    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "main.py").write_text("import helper\nprint(helper.VALUE)\n")
    (project / "lib" / "helper.py").write_text("VALUE = 'from the project'\n")
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--flash", str(flash), str(project)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from the project\n"
    assert sorted(outside.rglob("*")) == [outside / "lib", outside / "main.py"]  # nothing written outside
    assert (outside / "main.py").read_text() == "# the user's own file, outside the flash\n"


def test_a_symlink_loop_is_the_boards_enoent_without_a_host_path(board: Board, tmp_path: Path):
    flash = tmp_path / "flash"
    (flash / "loop").symlink_to("loop")
    (flash / "ping").symlink_to("pong")
    (flash / "pong").symlink_to("ping")
    (flash / "lib" / "looped").symlink_to("looped")
    open_, os_ = board_open(board), board_os(board)
    for call in (
        lambda: open_("loop"),
        lambda: open_("/flash/ping", "w"),
        lambda: open_("loop/x.txt"),
        lambda: os_.stat("pong"),
        lambda: os_.listdir("loop"),
        lambda: os_.chdir("ping"),
        lambda: os_.mkdir("loop/sub"),
    ):
        with pytest.raises(OSError) as caught:
            call()
        assert caught.value.args == (errno.ENOENT, "ENOENT")
        assert str(caught.value) == "[Errno 2] ENOENT"
    with pytest.raises(ImportError, match="^no module named 'looped'$"):
        board.loader.import_module("looped")
    assert not {"loop", "ping", "pong"} & set(os_.listdir())  # not there for the board


def test_no_error_of_the_flash_shows_a_host_path(board: Board, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text(SECRET)
    flash = tmp_path / "flash"
    (flash / "dir").mkdir()
    (flash / "dir" / "f.txt").write_text(INSIDE)
    (flash / "file.txt").write_text(INSIDE)
    (flash / "out").symlink_to(outside)
    (flash / "out-file").symlink_to(outside / "f.txt")
    (flash / "dangling").symlink_to(tmp_path / "nowhere")
    open_, os_ = board_open(board), board_os(board)
    calls: list[Callable[[], object]] = [
        lambda: open_("missing.txt"),
        lambda: open_("dir"),
        lambda: open_("dir", "w"),
        lambda: open_("file.txt/x"),
        lambda: open_("out/f.txt"),
        lambda: open_("out-file"),
        lambda: open_("out-file", "w"),
        lambda: open_("dangling", "w"),
        lambda: open_("/flash/.firmware-sim/nvs.json", "w"),
        lambda: os_.listdir("file.txt"),
        lambda: os_.listdir("out"),
        lambda: os_.listdir("missing"),
        lambda: os_.stat("out-file"),
        lambda: os_.stat("missing"),
        lambda: os_.chdir("file.txt"),
        lambda: os_.chdir("out"),
        lambda: os_.mkdir("dir"),
        lambda: os_.mkdir("out/new"),
        lambda: os_.mkdir("missing/new"),
        lambda: os_.rmdir("dir"),
        lambda: os_.rmdir("missing"),
        lambda: os_.remove("missing"),
        lambda: os_.remove("out/f.txt"),
        lambda: os_.rename("missing", "x"),
        lambda: os_.rename("file.txt", "out/f.txt"),
        lambda: os_.rename("file.txt", "missing/x"),
        lambda: list(os_.ilistdir("out")),
    ]
    for number, call in enumerate(calls):
        with pytest.raises(OSError) as caught:
            call()
        err = caught.value  # OSError(2, ...) is a FileNotFoundError in CPython: an OSError all the same
        assert len(err.args) == 2, (number, err)
        assert err.args[1] == errno.errorcode[err.args[0]], (number, err)
        assert str(tmp_path) not in repr(err) and err.filename is None, (number, err)
    assert (outside / "f.txt").read_text() == SECRET
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt"]
    # an entry that does not exist for the board is not listed either
    listed = os_.listdir()
    assert "out" not in listed and "out-file" not in listed and "dangling" not in listed
    assert {entry[0] for entry in os_.ilistdir()} == set(listed)


HOST_OBJECTS = {
    id(value): f"{module.__name__}.{name}"
    for module in (os, sys, shutil, subprocess, pathlib, io, builtins)
    for name, value in vars(module).items()
    if callable(value) and not isinstance(value, type) or module is pathlib and isinstance(value, type)
}
HOST_OBJECTS.update({id(runtime.current): "firmware_sim.runtime.current"})
HOST_TYPES = (Board, pathlib.PurePath)


def host_things(module: types.ModuleType, where: str, board: Board) -> list[str]:
    """What of the host hangs off ``module``'s attributes (dunders aside), looking into the board's own
    module objects it holds (``network.Coap`` is one)."""
    host_modules = {id(m) for m in list(sys.modules.values())}
    found = []
    for attribute in dir(module):
        if attribute.startswith("__") and attribute.endswith("__"):
            continue
        value = getattr(module, attribute)
        name = f"{where}.{attribute}"
        if isinstance(value, types.ModuleType):
            if id(value) in host_modules:
                found.append(f"{name} is the host module {value.__name__}")
            else:
                found += host_things(value, name, board)
        elif id(value) in HOST_OBJECTS and HOST_OBJECTS[id(value)] != "sys.exit":
            found.append(f"{name} is {HOST_OBJECTS[id(value)]}")
        elif isinstance(value, HOST_TYPES) or value is board.flash or value is board.loader:
            found.append(f"{name} is the simulator's {type(value).__name__}")
    return found


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_board_modules_expose_nothing_of_the_host(board: Board, name: str):
    found = host_things(board.loader.import_module(name), name, board)
    assert not found, found


def test_a_scripts_builtins_hold_no_import_machinery(board: Board):
    assert "__loader__" not in board.loader.builtins and "__spec__" not in board.loader.builtins
