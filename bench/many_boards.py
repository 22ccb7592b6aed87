"""Many boards on one machine: ``firmware-sim up`` with N boards each serving CoAP, beside N plain Python
processes each running a minimal CoAP responder (``bench/responder.py``), in one run.

For each side: the wall time from the start until every board answers a CoAP GET (ACK 2.05), and each
process's unshared memory (USS: private clean + private dirty pages, from /proc/PID/smaps_rollup) and
PSS, once all answer. Prints the figures and the ratios of ours to the plain processes. A benchmark,
not a test; loopback only (the boards get 127.0.0.x addresses).

    python bench/many_boards.py                 # 200 boards
    python bench/many_boards.py --boards 50 --json figures.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from firmware_sim.testing import children_of, memory_mb

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """\
import time
from network import WLAN, Coap

wlan = WLAN(mode=WLAN.STA)
wlan.connect("lab", auth=(WLAN.WPA2, "secret"))
while not wlan.isconnected():
    time.sleep_ms(20)
address = wlan.ifconfig()[0]
Coap.init(address)
resource = Coap.add_resource("name", media_type=Coap.MEDIATYPE_TEXT_PLAIN, value=address)
resource.callback(Coap.REQUEST_GET, True)
while True:
    Coap.read()
"""
ANSWER_WAIT = 120.0  # seconds for every board to answer before the run counts as failed


def get_request(message_id: int, path: str) -> bytes:
    """A CON GET for one Uri-Path segment, token-less."""
    segment = path.encode()
    return struct.pack("!BBH", 0x40, 0x01, message_id) + bytes([0xB0 | len(segment)]) + segment


def wait_all_answer(addresses: list[str], path: str, deadline: float) -> float:
    """Poll every address with CON GETs (every 50 ms until it answers); the time the last one answered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    waiting = set(addresses)
    message_id = 1
    try:
        while waiting:
            if time.monotonic() > deadline:
                raise SystemExit(f"many_boards: {len(waiting)} of {len(addresses)} never answered")
            for address in sorted(waiting):
                message_id = message_id % 0xFFFF + 1
                sock.sendto(get_request(message_id, path), (address, 5683))
            end = time.monotonic() + 0.05
            while time.monotonic() < end:
                try:
                    data, (source, _) = sock.recvfrom(2048)
                except TimeoutError:
                    break
                if len(data) >= 2 and data[1] == 0x45:  # 2.05 Content
                    waiting.discard(source)
        return time.monotonic()
    finally:
        sock.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_ours(count: int, work: Path) -> dict:
    (work / "board.py").write_text(SCRIPT)
    addresses = [f"127.0.0.{2 + i}" for i in range(count)]
    boards = "".join(
        f'[[board]]\nname = "b{i}"\npath = "board.py"\nip = "{ip}"\n\n' for i, ip in enumerate(addresses)
    )
    (work / "boards.toml").write_text(boards)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "up", str(work / "boards.toml")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        answered = wait_all_answer(addresses, "name", start + ANSWER_WAIT)
        pids = children_of(proc.pid)
        sizes = [m for m in map(memory_mb, pids) if m is not None]
        up_size = memory_mb(proc.pid)
    finally:
        stop(proc)
    return {"seconds": answered - start, "memory": sizes, "parent": up_size, "processes": len(pids)}


def run_plain(count: int) -> dict:
    addresses = [f"127.0.0.{2 + i}" for i in range(count)]
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "responder.py"), "--ip", ip],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for ip in addresses
    ]
    try:
        answered = wait_all_answer(addresses, "name", start + ANSWER_WAIT)
        sizes = [m for m in (memory_mb(p.pid) for p in procs) if m is not None]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            stop(proc)
    return {"seconds": answered - start, "memory": sizes, "processes": len(procs)}


def summary(name: str, result: dict) -> dict:
    uss = [u for u, _ in result["memory"]]
    pss = [p for _, p in result["memory"]]
    figures = {
        "seconds": result["seconds"],
        "uss_median_mb": statistics.median(uss),
        "uss_max_mb": max(uss),
        "pss_median_mb": statistics.median(pss),
    }
    print(
        f"  {name:30s} all answering after {figures['seconds']:6.2f} s   "
        f"USS median {figures['uss_median_mb']:5.1f} MB (max {figures['uss_max_mb']:5.1f})   "
        f"PSS median {figures['pss_median_mb']:5.1f} MB   ({result['processes']} processes)"
    )
    return figures


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument(
        "--boards", type=int, default=200, help="boards on each side (default 200, at most 250)"
    )
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE")
    args = parser.parse_args()
    if not 1 <= args.boards <= 250:
        parser.error("--boards: between 1 and 250 (one 127.0.0.x address each)")
    with tempfile.TemporaryDirectory(prefix="firmware-sim-bench-") as folder:
        print(f"{args.boards} boards, {os.cpu_count()} CPUs:")
        plain = summary("python responder.py", run_plain(args.boards))
        ours = summary("firmware-sim up (CoAP boards)", run_ours(args.boards, Path(folder)))
    ratios = {key: ours[key] / plain[key] for key in ("seconds", "uss_median_mb")}
    print(f"  ratios ours/plain: time {ratios['seconds']:.2f}x, USS {ratios['uss_median_mb']:.2f}x")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"boards": args.boards, "plain": plain, "ours": ours, "ratios": ratios}, indent=2)
        )


if __name__ == "__main__":
    main()
