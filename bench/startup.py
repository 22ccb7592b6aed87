"""How fast a board starts, beside a plain Python process, in one run on the machine at hand:

- ``python hello.py`` (the baseline) and ``firmware-sim run hello.py``, interleaved: wall time from
  start to exit;
- the pytest plugin's ``board`` fixture (``firmware_sim.testkit.launch.start_board``, what the fixture
  calls): wall time from the call until the board's first line (``ready``, printed by main.py) is seen.

Prints medians and the ratios to the baseline. A benchmark, not a test. ``bench/many_boards.py`` measures
``firmware-sim up`` with 200 boards.

    python bench/startup.py                  # 20 of each
    python bench/startup.py --runs 40 --json figures.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from firmware_sim.testkit.launch import BoardOptions, start_board


def command_line() -> list[str]:
    """``firmware-sim`` as installed beside this Python (not through a shim), else ``python -m``."""
    script = Path(sys.executable).with_name("firmware-sim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "firmware_sim"]


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or done.stdout != "hello\n":
        raise SystemExit(f"startup: {' '.join(command)} did not print hello:\n{done.stdout}{done.stderr}")
    return elapsed


def fixture_ready(project: Path) -> float:
    """Seconds from starting a board on ``project`` until it printed its first line."""
    with tempfile.TemporaryDirectory(prefix="firmware-sim-bench-flash-") as flash:
        start = time.perf_counter()
        board = start_board("bench", BoardOptions(project=project), Path(flash))
        try:
            board.expect("ready", timeout=30)
            return time.perf_counter() - start
        finally:
            board.close()


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--runs", type=int, default=20, help="runs of each (default 20)")
    parser.add_argument("--json", metavar="FILE", help="write every sample and the medians to FILE")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {
        "python hello.py": [],
        "firmware-sim run hello.py": [],
        "board fixture": [],
    }
    work = Path(tempfile.mkdtemp(prefix="firmware-sim-bench-"))
    try:
        (work / "hello.py").write_text('print("hello")\n')
        project = work / "project"
        project.mkdir()
        (project / "main.py").write_text('print("ready")\n')
        ours = [*command_line(), "run", "hello.py"]
        timed(ours, work)  # warms the file cache and the syntax check's cache
        for _ in range(args.runs):
            samples["python hello.py"].append(timed([sys.executable, "hello.py"], work))
            samples["firmware-sim run hello.py"].append(timed(ours, work))
            samples["board fixture"].append(fixture_ready(project))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["python hello.py"]
    print(f"median of {args.runs} runs each (wall time):")
    for name, median in medians.items():
        extra = (median - base) * 1000
        print(f"  {name:28s} {median * 1000:7.1f} ms   {median / base:5.2f}x python   {extra:+7.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"samples": samples, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
