"""``firmware-sim run --expect-text/--fail-text/--timeout``: Wokwi CI's exit codes (0, 1, 42) on real
``firmware-sim run`` processes, the board stopped at once and cleanly when the text appears."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from firmware_sim.cli.expect import Watch

pytestmark = pytest.mark.process

FOREVER = "import time\nwhile True:\n    time.sleep(1)\n"


def run(tmp_path: Path, source: str, *options: str, name: str = "main.py") -> subprocess.CompletedProcess:
    """A real ``firmware-sim run`` of ``source``, in its own process group (to see what is left of it)."""
    script = tmp_path / name
    script.write_text(source)
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "run", *options, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    done.group = proc.pid  # type: ignore[attr-defined]
    return done


def flash_of(done: subprocess.CompletedProcess) -> Path:
    found = re.search(r"/flash in (\S+)", done.stderr)
    assert found, done.stderr
    return Path(found.group(1))


def nothing_left(done: subprocess.CompletedProcess) -> bool:
    """No process of the run's group remains (the board's threads and children ended with it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(done.group, 0)  # type: ignore[attr-defined]
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_expected_text_split_across_prints_and_lines_ends_a_board_that_would_run_forever(tmp_path):
    source = (
        "import _thread, time\n"
        "def beat():\n"
        "    while True:\n"
        "        time.sleep(0.01)\n"
        "_thread.start_new_thread(beat, ())\n"
        "print('sensor', end='')\n"
        "print(' ready', 42)\n"
        "print('on', end='\\n')\n"
        "print('line', 'two')\n"
        "print('never printed')\n" + FOREVER
    )
    started = time.monotonic()
    done = run(tmp_path, source, "--expect-text", "ready 42\non\nline")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 15  # at once, not a timeout (there is none)
    assert done.stdout == "sensor ready 42\non\nline two\n"  # stopped inside the print that matched
    assert done.stderr.splitlines()[-1] == "firmware-sim: expected text seen: 'ready 42\\non\\nline'"
    assert not flash_of(done).exists()
    assert nothing_left(done)


def test_fail_text_first_exits_1_even_if_the_expected_text_follows(tmp_path):
    source = (
        "print('boot ok')\nprint('sensor ERR', end='')\nprint('OR: no I2C ack')\nprint('READY')\n" + FOREVER
    )
    done = run(tmp_path, source, "--expect-text", "READY", "--fail-text", "ERROR", "--fail-text", "panic")
    assert done.returncode == 1, done.stderr
    assert "READY" not in done.stdout
    assert done.stderr.splitlines()[-1] == "firmware-sim: fail text seen: 'ERROR'"
    assert not flash_of(done).exists()
    assert nothing_left(done)


def test_timeout_without_the_expected_text_exits_42(tmp_path):
    done = run(
        tmp_path, "print('waiting for a fix')\n" + FOREVER, "--timeout", "1", "--expect-text", "fix: 3D"
    )
    assert done.returncode == 42, done.stderr
    assert done.stdout == "waiting for a fix\n"
    assert done.stderr.splitlines()[-1] == "firmware-sim: timeout: expected text not seen: 'fix: 3D'"
    assert not flash_of(done).exists()
    assert nothing_left(done)


def test_several_expected_texts_must_all_appear_and_the_timeout_names_the_missing(tmp_path):
    source = "print('wlan up')\n" + FOREVER
    done = run(tmp_path, source, "--timeout", "1", "--expect-text", "wlan up", "--expect-text", "coap up")
    assert done.returncode == 42, done.stderr
    assert done.stderr.splitlines()[-1] == "firmware-sim: timeout: expected text not seen: 'coap up'"
    done = run(
        tmp_path,
        "print('coap up')\nprint('wlan up')\n" + FOREVER,
        "--expect-text",
        "wlan up",
        "--expect-text",
        "coap up",
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "firmware-sim: expected text seen: 'coap up', 'wlan up'"


def test_a_board_that_finishes_without_the_expected_text_exits_42(tmp_path):
    done = run(tmp_path, "print('hello')\n", "--expect-text", "goodbye")
    assert done.returncode == 42, done.stderr
    assert (
        done.stderr.splitlines()[-1] == "firmware-sim: the board finished: expected text not seen: 'goodbye'"
    )
    assert not flash_of(done).exists()


def test_without_expect_text_timeout_keeps_its_meaning(tmp_path):
    done = run(tmp_path, "print('running')\n" + FOREVER, "--timeout", "1", "--fail-text", "ERROR")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "running\n"
    assert not flash_of(done).exists()


def test_a_failing_script_exits_1_as_without_the_options(tmp_path):
    source = "print('starting')\nprint(undefined_sensor)\n"
    done = run(tmp_path, source, "--timeout", "5", "--expect-text", "READY")
    assert done.returncode == 1, done.stderr
    assert "Traceback (most recent call last):" in done.stderr
    assert "expected text not seen" not in done.stderr


def test_the_match_spans_a_reboot(tmp_path):
    source = (
        "import machine, pycom\n"
        "try:\n"
        "    n = pycom.nvs_get('boots')\n"
        "except ValueError:\n"
        "    n = 0\n"
        "pycom.nvs_set('boots', n + 1)\n"
        "if n == 0:\n"
        "    print('going ', end='')\n"
        "    machine.reset()\n"
        "print('down, boot', n)\n" + FOREVER
    )
    done = run(tmp_path, source, "--timeout", "20", "--expect-text", "going down, boot 1")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "firmware-sim: expected text seen: 'going down, boot 1'"
    assert not flash_of(done).exists()


def test_usage_mistakes_are_one_line_and_status_2(tmp_path):
    done = run(tmp_path, "print(1)\n", "--expect-text", "")
    assert done.returncode == 2
    assert done.stderr.strip() == "firmware-sim: error: --expect-text: give a text that is not empty"
    done = run(tmp_path, "print(1)\n", "--port", "socket://127.0.0.1:9", "--fail-text", "x")
    assert done.returncode == 2
    assert "--fail-text is for simulated boards" in done.stderr


def test_help_teaches_the_options_with_an_example():
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert "--expect-text TEXT" in done.stdout and "--fail-text TEXT" in done.stdout
    assert '--expect-text "server up"' in done.stdout and "42" in done.stdout


@pytest.mark.unit
def test_the_matcher_reads_a_stream_and_a_fail_text_ending_with_the_expected_one_wins():
    watch = Watch(expect=["abcdef"], fail=["xyz"], expecting=True)
    assert [watch.feed(part) for part in ("ab", "c", "de")] == [None, None, None]
    assert watch.feed("f!") == (0, "firmware-sim: expected text seen: 'abcdef'")
    watch = Watch(expect=["OK"], fail=["NOT OK"], expecting=True)
    assert watch.feed("NOT ") is None
    assert watch.feed("OK") == (1, "firmware-sim: fail text seen: 'NOT OK'")
    watch = Watch(expect=["READY"], fail=["ERROR"], expecting=True)
    assert watch.feed("READY then ERROR") == (0, "firmware-sim: expected text seen: 'READY'")
    watch = Watch(fail=["boom"])
    assert watch.feed("bo") is None and watch.feed("om") == (1, "firmware-sim: fail text seen: 'boom'")
