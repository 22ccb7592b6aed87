"""Boot time of ``firmware-sim run hello.py`` with MicroPython 1.11's syntax check and without it.

Three configurations, interleaved, in one run on the machine at hand:

- ``cpython``: ``FIRMWARE_SIM_SYNTAX=cpython``, CPython's compiler only (the simulator before the check);
- ``cold``: the check with an empty cache (a new cache folder per boot: mpy-cross runs for the script);
- ``warm``: the check with the cache filled by an earlier boot (mpy-cross does not run).

Prints the median wall time of each and the ratios to ``cpython``. A benchmark, not a test.

    python bench/boot_time.py                # 15 boots of each
    python bench/boot_time.py --boots 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = 'print("hello")\n'


def boot(script: Path, cache: Path, mode: str) -> float:
    """Wall time of one ``firmware-sim run`` of ``script``, in seconds."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), FIRMWARE_SIM_SYNTAX=mode)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "hello" not in done.stdout:
        raise SystemExit(f"boot_time: the board did not print hello ({mode}):\n{done.stderr}")
    return elapsed


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--boots", type=int, default=15, help="boots of each configuration (default 15)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"cpython": [], "cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="firmware-sim-bench-") as folder:
        work = Path(folder)
        script = work / "hello.py"
        script.write_text(HELLO)
        warm_cache = work / "warm"
        boot(script, warm_cache, "mpy-cross")  # fills the warm cache (and warms the OS's file cache)
        for i in range(args.boots):
            times["cpython"].append(boot(script, work / "unused", "cpython"))
            times["cold"].append(boot(script, work / f"cold-{i}", "mpy-cross"))
            times["warm"].append(boot(script, warm_cache, "mpy-cross"))
    base = statistics.median(times["cpython"])
    print(f"firmware-sim run hello.py, median of {args.boots} boots each (wall time):")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:8s} {median * 1000:7.1f} ms   ratio to cpython {median / base:.3f}")


if __name__ == "__main__":
    main()
