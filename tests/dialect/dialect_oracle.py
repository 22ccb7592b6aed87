"""The differential suite's two sides: the MicroPython VM (node, one process per test session) and an
in-process simulated board.

The VM is npm's ``@micropython/micropython-webassembly-pyscript`` (MicroPython 1.27 in WebAssembly),
installed by ``npm ci`` at the repository root (``.ci/run`` does it); ``tests/dialect/mpvm.mjs`` reads
snippets as JSON lines and answers each with its stdout or its exception's type and message. Without
node or the package the tests fail in CI and are skipped elsewhere (:func:`conftest.need`).

Not a ``conftest.py``: tests/conftest.py is imported as ``conftest`` by the other suites, and a second one
would take its place in ``sys.modules``; test_dialect.py imports these fixtures.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import ROOT, need
from peers.node import NodeProcess

from firmware_sim import runtime
from firmware_sim.runtime import syntax
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.loader import board_source
from firmware_sim.runtime.state import BoardState
from firmware_sim.runtime.traceback import board_message, board_name

RUNNER = Path(__file__).resolve().parent / "mpvm.mjs"
PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
SNIPPET_FILE = "<stdin>"  # the name the board's REPL gives typed code


class Outcome(NamedTuple):
    """What a snippet did: what it printed, then the exception that ended it (None: none)."""

    stdout: str
    error: tuple[str, str] | None = None  # (type name, message) as the board prints them

    def __str__(self) -> str:
        end = "" if self.error is None else f"\n!! {self.error[0]}: {self.error[1]}"
        return f"{self.stdout!r}{end}"


class MicroPythonVM(NodeProcess):
    """One node process running the MicroPython VM; :meth:`run` sends a snippet, returns its outcome."""

    def __init__(self, node: str) -> None:
        super().__init__(node, RUNNER, ROOT, "MicroPython VM")

    def run(self, code: str) -> Outcome:
        answer = self.request(code=code)
        error = answer["error"]
        return Outcome(answer["stdout"], None if error is None else (error["type"], error["message"]))


@pytest.fixture(scope="session")
def mpvm() -> Iterator[MicroPythonVM]:
    node = shutil.which("node")
    need(node is not None, "node", "apt-get install -y nodejs npm")
    need(PACKAGE.is_dir(), "@micropython/micropython-webassembly-pyscript", "npm ci")
    vm = MicroPythonVM(node)  # type: ignore[arg-type]
    yield vm
    vm.close()


class BoardRunner:
    """Snippets on an in-process board: MicroPython 1.11's compiler first (as the loader compiles a
    board file), then executed with the board's builtins in a fresh ``__main__`` namespace."""

    def __init__(self, board: Board) -> None:
        self.board = board

    def run(self, code: str) -> Outcome:
        out = io.StringIO()
        error: tuple[str, str] | None = None
        loader = self.board.loader
        with contextlib.redirect_stdout(out):
            try:
                source = code.encode()
                syntax.check(source, SNIPPET_FILE)
                compiled = compile(board_source(source), SNIPPET_FILE, "exec", dont_inherit=True)
                exec(compiled, loader.new_globals("__main__", SNIPPET_FILE))
            except Exception as exc:  # what the board prints as the snippet's last line
                error = (board_name(exc), board_message(exc))
        return Outcome(out.getvalue(), error)


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardRunner]:
    state = BoardState(
        flash=str(tmp_path_factory.mktemp("dialect") / "flash"), kind="lopy4", time_scale=100.0
    )
    board = Board(state)
    runtime.set_current(board)
    yield BoardRunner(board)
    runtime.set_current(None)
