"""Bringing a user's project up on a board for a test, the same way on both kinds of board.

* Simulated: a ``firmware-sim board --socket 127.0.0.1:0`` process on a temporary copy of the project
  (a pymakr.conf/pymakr.json's selection, else every file). boot.py and main.py are copied in only once
  the board is up, so the one run of them is the one the test watches.
* Real (``port``): the project's changed files are sent (the serial runner's ``deploy`` sync).

Then, on both, the fixture connects with a ``ReplSession`` over pyserial and soft-resets the board
(Ctrl-D: boot.py and main.py run) while listening.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .board import TestBoard

FIRST_FILES = ("boot.py", "main.py")  # copied after the board is up
SUMMARY_WAIT = 5.0  # seconds for the board's summary line after its port line


@dataclass
class BoardOptions:
    """How to start a board; None leaves the simulator's default."""

    project: Path
    port: str | None = None
    kind: str | None = None
    firmware: str | None = None
    shield: str | None = None
    time_scale: float | None = None
    map: dict[str, str] = field(default_factory=dict)  # script's address or host name -> loopback address
    lora_medium: str | None = None  # the LoRa air it shares with the boards of the same name


def _project_files(project: Path) -> tuple[Path, list[tuple[Path, str]]]:
    from ..serial.pymakr import project_files

    if not project.is_dir():
        raise FileNotFoundError(
            f"the project folder {project} does not exist: set firmware_sim_project in your pytest "
            "configuration (relative to the rootdir) or give project= to boards()"
        )
    return project_files(project)


def _board_args(options: BoardOptions) -> list[str]:
    args = ["--socket", "127.0.0.1:0"]
    for flag, value in (
        ("--board", options.kind),
        ("--firmware", options.firmware),
        ("--shield", options.shield),
        ("--time-scale", options.time_scale),
    ):
        if value is not None:
            args += [flag, str(value)]
    for source, destination in options.map.items():
        args += ["--map", f"{source}={destination}"]
    if options.lora_medium is not None:
        args += ["--lora-medium", options.lora_medium]
    return args


def start_simulated(name: str, options: BoardOptions, flash: Path) -> TestBoard:
    """A simulated board on ``flash`` (an empty folder) running the project, soft-reset and watched."""
    from ..serial import ReplSession
    from ..testing import VirtualBoardProcess, eventually

    root, chosen = _project_files(options.project)
    later = []
    for path, rel in chosen:
        dest = flash / rel
        if rel in FIRST_FILES:
            later.append((path, dest))
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    process = VirtualBoardProcess(*_board_args(options), flash=flash)
    try:
        for path, dest in later:  # over the defaults an empty flash gets
            shutil.copyfile(path, dest)
        # the summary line (stderr) names the board's address; it comes with the port line
        eventually(lambda: any("address" in line for line in process.stderr_lines), SUMMARY_WAIT)
        summary = next((line for line in process.stderr_lines if "address" in line), "")
        found = re.search(r"address (\d+\.\d+\.\d+\.\d+)", summary)
        session = ReplSession(process.port, resolve=False).open()
    except BaseException:
        process.stop()
        raise
    board = TestBoard(name, session, process=process, flash=flash, address=found.group(1) if found else None)
    _boot(board)
    return board


def start_real(name: str, options: BoardOptions) -> TestBoard:
    """The board at ``options.port``: the project's changed files sent, then soft-reset and watched."""
    from ..serial import RemoteFS, ReplSession
    from ..serial.paths import FLASH

    assert options.port is not None
    root, chosen = _project_files(options.project)
    session = ReplSession(options.port).open()
    board = TestBoard(name, session)
    try:
        session.enter_raw_repl()
        RemoteFS(session).sync(root, FLASH, progress=False, chosen=chosen)
        _boot(board)
    except BaseException:
        board.close()
        raise
    return board


def _boot(board: TestBoard) -> None:
    try:
        board.reset("soft")
    except BaseException:
        board.close()
        raise


def start_board(name: str, options: BoardOptions, flash: Path) -> TestBoard:
    """A real board when ``options.port`` is set, else a simulated one on ``flash``."""
    if options.port:
        return start_real(name, options)
    return start_simulated(name, options, flash)
