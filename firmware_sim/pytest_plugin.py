"""The firmware-sim pytest plugin (entry point ``pytest11``): test a Pycom project on a simulated
board, or on a real one with ``--board-port``, with the same test file.

    def test_greets(board):
        board.expect(r"hello from (\\w+)")
        assert board.eval("1 + 1") == 2

Fixtures: ``board`` (the project booted, function scope), ``boards`` (``boards("name",
project=..., kind=..., shield=..., map=..., ...)`` for several boards) and ``link`` (``link(board)``:
a relay in front of a board whose traffic the test can lose, duplicate, delay, reorder or cut). The
object's API is :class:`firmware_sim.testkit.board.TestBoard`. Options (command line, else ini key
``firmware_sim_*``): ``--board-port``, ``--board-kind``, ``--firmware``, ``--shield``,
``--time-scale``; the ini key ``firmware_sim_project`` names the folder holding boot.py/main.py/lib
(relative to the rootdir).

Loading this module is cheap: it imports pytest only; the simulator and the serial runner load when a
test asks for a board. A failing test's report gets a section with each board's whole output, also a
property of the test case in the JUnit XML (``--junitxml``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .testkit.board import TestBoard
    from .testkit.link import Link

SETTINGS = (  # option name, ini key, help
    ("board_kind", "firmware_sim_board_kind", "board kind of simulated boards (lopy4, fipy, wipy ...)"),
    ("firmware", "firmware_sim_firmware", "firmware behaviour of simulated boards (docs, 1.20.2.r6 ...)"),
    ("shield", "firmware_sim_shield", "expansion board of simulated boards (pysense, pytrack ...)"),
    ("time_scale", "firmware_sim_time_scale", "simulated board time runs this many times faster"),
)
BOARDS_KEY = pytest.StashKey[list]()  # the boards a test started, for its report
_AIRS = itertools.count(1)  # each test's boards get LoRa air of their own


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("firmware-sim", "firmware-sim boards")
    group.addoption(
        "--board-port",
        default=None,
        help="run the board fixture on the board at PORT (a serial port, auto, or socket://127.0.0.1:N of "
        "a `firmware-sim board`) instead of a simulated one: the project's changed files are sent to it",
    )
    for dest, ini, text in SETTINGS:
        group.addoption("--" + dest.replace("_", "-"), dest=dest, default=None, help=f"{text} (ini: {ini})")
        parser.addini(ini, text)
    parser.addini(
        "firmware_sim_project",
        "the project folder (boot.py, main.py, lib/), relative to the rootdir (default: the rootdir)",
    )


def _setting(config: pytest.Config, dest: str, ini: str) -> str | None:
    value = config.getoption(dest)
    if value is None:
        value = config.getini(ini) or None
    return None if value is None else str(value).strip()


def _project(config: pytest.Config, project: str | Path | None) -> Path:
    root = Path(config.rootpath)
    if project is None:
        project = config.getini("firmware_sim_project") or "."
    return (root / project).resolve()


@pytest.fixture
def boards(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    """``boards(name, project=None, port=None, kind=None, firmware=None, shield=None, time_scale=None,
    map=None, lora_medium=None)``: a booted board (simulated unless ``port``); all of them end with the
    test. ``map``: what the script's addresses or host names reach (``{"192.168.0.10": other_board}``, a
    board or a loopback address). The simulated boards of one test share LoRa air that no other test
    hears (``lora_medium`` names another)."""
    from .testkit.launch import BoardOptions, start_board

    config = request.config
    started: list[TestBoard] = []
    request.node.stash[BOARDS_KEY] = started
    air = f"pytest-{os.getpid()}-{next(_AIRS)}"

    def start(
        name: str,
        project: str | Path | None = None,
        map: dict[str, TestBoard | str] | None = None,  # noqa: A002 (the option's name everywhere)
        **options: Any,
    ) -> TestBoard:
        defaults = {
            "kind": _setting(config, "board_kind", "firmware_sim_board_kind"),
            "firmware": _setting(config, "firmware", "firmware_sim_firmware"),
            "shield": _setting(config, "shield", "firmware_sim_shield"),
            "time_scale": _setting(config, "time_scale", "firmware_sim_time_scale"),
        }
        unknown = set(options) - {"port", "lora_medium", *defaults}
        if unknown:
            raise TypeError(f"boards() got unknown options: {', '.join(sorted(unknown))}")
        if options.get("port") and map:
            pytest.skip("simulator only: map= (a real board reaches real addresses)")
        routes = {source: _address_of(target) for source, target in (map or {}).items()}
        chosen = BoardOptions(
            project=_project(config, project),
            map=routes,
            **{**defaults, "lora_medium": air, **options},
        )
        flash = tmp_path_factory.mktemp(f"flash-{name}")
        board = start_board(name, chosen, flash)
        started.append(board)
        return board

    yield start
    for board in started:
        board.close()


def _address_of(target: TestBoard | str) -> str:
    if isinstance(target, str):
        return target
    if target.address is None:
        raise ValueError(f"board {target.name!r} has no known address to map to")
    return target.address


@pytest.fixture
def board(request: pytest.FixtureRequest, boards: Callable) -> TestBoard:
    """The project booted on a simulated board, or on the real one at ``--board-port``."""
    return boards("board", port=request.config.getoption("board_port"))  # type: ignore[no-any-return]


@pytest.fixture
def link() -> Iterator[Callable[..., Link]]:
    """``link(target, port=5683, seed=None)``: a UDP relay in front of ``target`` (a simulated board, or
    a loopback address) that the test can impair: ``.impair(loss=, duplicate=, delay=, jitter=,
    reorder=)``, ``.partition()``, ``.heal()``, ``.clear()``, ``.stats``. Give its ``.address`` to a
    board's ``map`` (or send to it) instead of the target's. Simulator only: a real board's traffic does
    not pass through this machine. Every link closes with the test."""
    from .testkit.link import Link

    made: list[Link] = []

    def make(target: TestBoard | str, port: int = 5683, seed: int | None = None) -> Link:
        if not isinstance(target, str) and target.process is None:
            pytest.skip("simulator only: link() (a real board's traffic does not pass through this machine)")
        one = Link((_address_of(target), port), seed=seed)
        made.append(one)
        return one

    yield make
    for one in made:
        one.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    started = item.stash.get(BOARDS_KEY, None)
    if started and report.failed:
        for one in started:
            try:
                text = one.output
            except Exception as err:  # the line went away: what was read before
                text = one.transcript.printable() + f"\n[firmware-sim: reading the board failed: {err}]"
            report.sections.append((f"board {one.name!r} output", text))
            # JUnit XML: --junitxml writes the properties of the item that the teardown report carries
            item.user_properties.append((f"firmware-sim board {one.name} output", text))
    return report
