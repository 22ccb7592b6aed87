"""A soft reset deletes the script's threads, as firmware 1.20's does (``mp_thread_deinit`` in
esp32/mptask.c's soft-reset path: ``vTaskDelete`` for every thread but the main one), on a virtual board
driven over its serial line as a real one is."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from firmware_sim.testkit.launch import BoardOptions, start_board

pytestmark = pytest.mark.process

TICKER = """\
import _thread, os, time
boot = "".join("%02x" % b for b in os.urandom(3))
def tick():
    while True:
        print("tick", boot)
        time.sleep(0.2)
_thread.start_new_thread(tick, ())
print("started", boot)
"""


def test_a_soft_reset_ends_the_old_boots_threads(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text(TICKER)
    flash = tmp_path / "flash"
    flash.mkdir()
    board = start_board("b", BoardOptions(project=project, time_scale=1.0), flash)
    try:
        first = board.expect(r"started (\w+)").group(1)
        board.expect(f"tick {first}")
        board.reset("soft")
        second = board.expect(r"started (\w+)").group(1)
        assert second != first
        board.expect(f"tick {second}")
        time.sleep(0.8)  # four ticks of the new thread
        later = board.output[board.output.rindex(f"started {second}") :]
        assert re.findall(r"tick (\w+)", later).count(first) == 0, later
    finally:
        board.close()
