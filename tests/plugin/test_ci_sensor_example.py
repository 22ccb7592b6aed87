"""The example user project examples/ci_sensor passes its own tests as a user runs them in CI
(``pytest -n 2`` in the project's folder, the plugin found through its entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ci_sensor"


@pytest.mark.process
def test_the_ci_sensor_example_passes_its_tests_under_xdist() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-n", "2", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "6 passed" in run.stdout
