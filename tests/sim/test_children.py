"""Children made by forking (``firmware-sim up``'s boards): output, exit status, failures and signals as
a started process would have them. Each case runs in its own Python process, as ``up`` does."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.process

DRIVER = """\
import os, signal, sys, time
from firmware_sim.children import Children

def child():
{body}

with Children() as children:
    proc = children.fork(child)
    output = b""
    while chunk := os.read(proc.stdout.fileno(), 4096):
        output += chunk
        if {signal_at!r} and {signal_at!r}.encode() in output:
            proc.send_signal(signal.SIGTERM)
    print(repr(output.decode()), proc.wait(10), proc.pid != os.getpid())
"""


def fork_child(body: str, signal_at: str = "") -> tuple[str, int, bool]:
    """Run ``body`` as a forked child's function: (its output, exit status, whether it had its own pid)."""
    code = DRIVER.format(body=textwrap.indent(textwrap.dedent(body), "    "), signal_at=signal_at)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    output, status, own_pid = done.stdout.rsplit(" ", 2)
    return eval(output), int(status), own_pid.strip() == "True"  # noqa: S307 (our own repr)


def test_output_and_errors_come_through_one_pipe_in_order() -> None:
    output, status, own_pid = fork_child(
        "print('out'); print('err', file=sys.stderr); print('out 2')\nreturn 3"
    )
    assert (output, status, own_pid) == ("out\nerr\nout 2\n", 3, True)


def test_sys_exit_and_an_exception_end_the_child_with_their_status() -> None:
    assert fork_child("sys.exit(5)")[1] == 5
    output, status, _ = fork_child("raise ValueError('broken')")
    assert status == 1
    assert output.startswith("Traceback") and output.endswith("ValueError: broken\n")


def test_the_parents_stop_handlers_are_not_the_childs() -> None:
    """The parent turns SIGTERM into Stopped; the child dies of it as a new process would (-15)."""
    output, status, _ = fork_child(
        "print('waiting', flush=True)\ntime.sleep(20)\nreturn 0", signal_at="waiting\n"
    )  # print writes the text and its newline apart: wait for the whole line
    assert (output, status) == ("waiting\n", -15)
