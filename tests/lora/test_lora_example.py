"""The bundled raw-LoRa example (examples/lora_ping_pong) runs as the README says, under `firmware-sim up`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.process


def test_the_ping_pong_example_answers_every_ping_with_an_rssi() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "up", "--timeout", "8", "examples/lora_ping_pong/boards.toml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    heard = re.findall(r"\[ponger\] heard b'Ping (\d+)' RSSI (-\d+) dBm", done.stdout)
    answers = re.findall(r"\[pinger\] answer: b'Pong' RSSI (-\d+) dBm", done.stdout)
    assert len(heard) >= 2 and len(answers) >= 2, done.stdout
    assert [int(n) for n, _ in heard] == list(range(len(heard)))  # no ping lost at 2 km
    assert all(-120 < int(rssi) < -60 for _, rssi in heard), heard  # the 2 km path of the [[link]]
