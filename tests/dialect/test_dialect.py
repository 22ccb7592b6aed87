"""The differential suite: every snippet of the corpus does the same on a simulated board as on
MicroPython (the VM in node; where MicroPython 1.11 differs from the VM's 1.27, the 1.11 outcome the
snippet carries): the same printed output, and the same exception type and message if one ends it.

A snippet whose ``gap`` is set is a strict xfail: it names what the simulator still does differently,
and the suite turns red when that gap closes without the corpus saying so. A ``static`` snippet (a method
the board's str lacks, which CPython's str has) must be flagged by ``firmware-sim check`` instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dialect_oracle import BoardRunner, MicroPythonVM, Outcome
from dialect_oracle import mpvm as mpvm  # the fixtures
from dialect_oracle import sim as sim
from snippets import CORPUS, Snippet

from firmware_sim.check.scan import check_path


def _param(snippet: Snippet):
    marks = [pytest.mark.xfail(strict=True, reason=snippet.gap)] if snippet.gap else []
    return pytest.param(snippet, id=f"{snippet.category}-{snippet.name}", marks=marks)


def expected(snippet: Snippet, mpvm: MicroPythonVM) -> Outcome:
    if snippet.v111 is not None:
        stdout, error = snippet.v111
        return Outcome(stdout, error)
    return mpvm.run(snippet.code)


@pytest.mark.parametrize("snippet", [_param(snippet) for snippet in CORPUS if not snippet.static])
def test_board_does_what_micropython_does(snippet: Snippet, mpvm: MicroPythonVM, sim: BoardRunner) -> None:
    board = expected(snippet, mpvm)
    got = sim.run(snippet.code)
    assert got == board, f"\nsnippet:\n{snippet.code}\nboard (MicroPython): {board}\nsimulator: {got}"


@pytest.mark.parametrize("snippet", [_param(snippet) for snippet in CORPUS if snippet.static])
def test_check_flags_what_the_board_refuses(snippet: Snippet, mpvm: MicroPythonVM, tmp_path: Path) -> None:
    board = expected(snippet, mpvm)
    assert board.error is not None, "the board runs this snippet: it is not static"
    script = tmp_path / "main.py"
    script.write_text(snippet.code)
    findings = [str(finding) for finding in check_path(script)]
    assert any(f"{snippet.static}" in finding for finding in findings), findings


def test_corpus_is_large_enough() -> None:
    names = [(snippet.category, snippet.name) for snippet in CORPUS]
    assert len(names) == len(set(names)), "snippet names repeat"
    assert len(CORPUS) >= 150
