"""The world around the board (firmware_sim.runtime.environment): values a test sets, as constants or
timelines on the board clock, from the environment file rewritten while the board runs or from the
test's own process; and the outputs timeline, peripherals.jsonl."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import in_process_board

from firmware_sim.runtime import environment
from firmware_sim.runtime.board import Board

pytestmark = pytest.mark.unit


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    with in_process_board(tmp_path / "flash", time_scale=1000.0) as b:
        yield b


def write(path: Path, data: dict) -> None:
    """As a test should: whole, then renamed over the old file."""
    part = path.with_suffix(".part")
    part.write_text(json.dumps(data))
    os.replace(part, path)


def hidden(board: Board) -> Path:
    return board.flash.private(environment.ENVIRONMENT_FILE)


def test_a_value_missing_everywhere_is_the_default(board) -> None:
    assert environment.reading("temperature", 20.0) == 20.0
    assert environment.reading("voltage/P16") is None


def test_constants_and_members_come_from_the_hidden_file(board) -> None:
    write(hidden(board), {"temperature": 21.5, "voltage": {"P16": 1.2}, "light": [120, 30]})
    assert environment.reading("temperature") == 21.5
    assert environment.reading("voltage/P16") == 1.2
    assert environment.reading("voltage/P17", 0.0) == 0.0
    assert environment.reading("light") == [120, 30]


def test_a_file_rewritten_while_the_board_runs_is_the_next_reading(board) -> None:
    write(hidden(board), {"humidity": 40})
    assert environment.reading("humidity") == 40
    write(hidden(board), {"humidity": 55})
    time.sleep(environment.POLL_INTERVAL * 2)
    assert environment.reading("humidity") == 55


def test_a_timeline_is_linear_between_points_and_held_outside_them(board) -> None:
    points = [[10, 4.2], [20, 3.2]]
    write(
        hidden(board),
        {"battery": {"timeline": points}, "position": {"timeline": [[0, [0, 0]], [10, [1, 2]]]}},
    )
    assert environment.reading("battery", at=0) == 4.2
    assert environment.reading("battery", at=15) == pytest.approx(3.7)
    assert environment.reading("battery", at=99) == 3.2
    assert environment.reading("position", at=5) == [0.5, 1.0]  # lists of numbers move together


def test_a_step_timeline_holds_each_value_until_the_next_point(board) -> None:
    write(hidden(board), {"voltage": {"P13": {"timeline": [[0, 0.5], [10, 2.0]], "step": True}}})
    assert environment.reading("voltage/P13", at=9.9) == 0.5
    assert environment.reading("voltage/P13", at=10) == 2.0


def test_a_timeline_follows_the_board_clock(board) -> None:
    environment.set("temperature", {"timeline": [[0, 0.0], [3600, 36.0]]})
    first = environment.reading("temperature")
    time.sleep(0.05)  # 50 board seconds at time scale 1000
    later = environment.reading("temperature")
    assert later > first + 0.3


def test_the_test_process_value_wins_over_the_file_and_none_unsets_it(board) -> None:
    write(hidden(board), {"pressure": 101325})
    environment.set("pressure", 90000)
    assert environment.reading("pressure") == 90000
    environment.set("pressure", None)
    assert environment.reading("pressure") == 101325


def test_an_environment_option_file_is_read_instead_of_the_hidden_one(tmp_path: Path) -> None:
    chosen = tmp_path / "env.json"
    with in_process_board(tmp_path / "flash", environment=str(chosen)) as b:
        write(b.flash.private(environment.ENVIRONMENT_FILE), {"temperature": 1})
        assert environment.reading("temperature") is None  # not written yet
        write(chosen, {"temperature": 2})
        time.sleep(environment.POLL_INTERVAL * 2)
        assert environment.reading("temperature") == 2


def test_half_written_or_malformed_files_keep_the_last_good_values(board) -> None:
    write(hidden(board), {"temperature": 19})
    assert environment.reading("temperature") == 19
    hidden(board).write_text('{"temperature": ')
    time.sleep(environment.POLL_INTERVAL * 2)
    assert environment.reading("temperature") == 19


def test_outputs_are_recorded_one_json_line_each(board) -> None:
    environment.record("PWM", timer=0, channel=1, pin="P12", frequency=1000, duty=0.25)
    environment.record("DAC", pin="P22", value=0.5)
    lines = board.flash.private(environment.OUTPUTS_FILE).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["source"] for r in records] == ["PWM", "DAC"]
    assert records[0]["duty"] == 0.25 and isinstance(records[0]["t"], float)
