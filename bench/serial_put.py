"""Benchmark: copying a 100 KB file set to a board, ``firmware-sim put`` beside ``mpremote fs cp``.

    python bench/serial_put.py [--rounds 3] [--json out.json]

Both tools run as the commands a user types (process start-up included), against the SAME virtual
board (``python -m firmware_sim.virtual``) on a pseudo-terminal, in one run: first as Pycom firmware
1.20 behaves (no raw-paste, standard raw REPL), then with raw-paste (newer MicroPython). The file set is
10 binary files of 10 KB. Each round copies into a fresh folder on /flash; the best round counts.
Reported: bytes/s for each tool and the ratio ours / mpremote.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES, FILE_SIZE = 10, 10 * 1024


def start_board(flash: str, raw_paste: bool) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "firmware_sim.virtual", "--pty", "--flash", flash, "--ip", "127.0.0.1"]
    if raw_paste:
        command.append("--raw-paste")
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    if not port:
        proc.kill()
        raise SystemExit("the virtual board did not start")
    return proc, port


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def measure(port: str, files: Path, rounds: int, flash: Path) -> dict[str, list[float]]:
    total = FILES * FILE_SIZE
    results: dict[str, list[float]] = {"firmware-sim put": [], "mpremote fs cp": []}
    for i in range(rounds):
        ours = [
            sys.executable,
            "-m",
            "firmware_sim",
            "put",
            "--port",
            port,
            "--no-progress",
            str(files),
            f"/flash/ours{i}",
        ]
        # mpremote copies the same 10 files in one invocation: mkdir, then cp of every file into it
        theirs = [
            sys.executable,
            "-m",
            "mpremote",
            "connect",
            port,
            "fs",
            "mkdir",
            f":/flash/mp{i}",
            "+",
            "fs",
            "cp",
            *map(str, sorted(files.iterdir())),
            f":/flash/mp{i}/",
        ]
        for name, command in (("firmware-sim put", ours), ("mpremote fs cp", theirs)):
            results[name].append(total / timed(command))
        for name in (f"ours{i}", f"mp{i}"):  # both copies arrived whole
            copied = sorted((flash / name).rglob("*.bin"))
            assert len(copied) == FILES and all(p.stat().st_size == FILE_SIZE for p in copied), name
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="write every sample and the summary as JSON")
    args = parser.parse_args()
    summary: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-put-") as tmp:
        files = Path(tmp) / "files"
        files.mkdir()
        for n in range(FILES):
            (files / f"blob{n}.bin").write_bytes(os.urandom(FILE_SIZE))
        for raw_paste in (False, True):
            mode = "raw-paste" if raw_paste else "standard raw REPL (Pycom 1.20)"
            flash = Path(tmp) / ("flash-paste" if raw_paste else "flash-raw")
            flash.mkdir()
            proc, port = start_board(str(flash), raw_paste)
            try:
                samples = measure(port, files, args.rounds, flash)
            finally:
                proc.terminate()
                proc.wait(10)
            best = {name: max(values) for name, values in samples.items()}
            ratio = best["firmware-sim put"] / best["mpremote fs cp"]
            summary[mode] = {"samples_bytes_per_s": samples, "best_bytes_per_s": best, "ratio": ratio}
            print(f"\n{mode}: {FILES} files, {FILES * FILE_SIZE // 1024} KB, best of {args.rounds}")
            for name, value in best.items():
                print(f"  {name:<18} {value / 1024:8.1f} KB/s")
            print(f"  ratio firmware-sim / mpremote: {ratio:.2f}x (target: at least 1x)")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
