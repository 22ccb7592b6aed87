"""``firmware-sim run --expect-text TEXT --fail-text TEXT --timeout N``: Wokwi CI's exit codes.

A small matcher over what the board prints on stdout (its serial output): the text is matched on the
stream, so it may span ``print()`` calls and lines. The run ends at once, cleanly (temporary flash
removed, as every stop of a board), with

- 0 when every ``--expect-text`` has appeared (repeated: each of them, in any order);
- 1 when a ``--fail-text`` (repeated: any of them) appears first, or the script fails as without these
  options (an uncaught exception in main.py, a traceback in boot.py, a reboot loop);
- 42 when ``--timeout`` passes, or the board finishes by itself, before the expected text appeared
  (only with ``--expect-text``; without it, ``--timeout`` keeps its meaning: 0 if the board ran fine).

Wokwi's CLI (``wokwi-cli --expect-text/--fail-text``, docs.wokwi.com/wokwi-ci/cli-usage) takes one text
per option and 42 as its timeout exit code; here both options may be repeated. What is still to be seen
crosses a reboot in the environment (the process re-executes ``cli/rebooted.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, cast

from .usage import UsageError

if TYPE_CHECKING:
    from ..runtime.boot import RunBoard
    from ..runtime.state import BoardState

ENV_WATCH = "FIRMWARE_SIM_EXPECT"  # what is still to be seen, across a reboot
EXPECTED, FAILED, NOT_SEEN = 0, 1, 42  # Wokwi CI's exit codes (42: its --timeout-exit-code default)

HELP_EXPECT = (
    "end the run with status 0 as soon as TEXT appears in what the board prints (it may span prints "
    "and lines); repeat it to wait for several texts (each of them, in any order). Without it by "
    "--timeout (or when the board finishes), exit 42"
)
HELP_FAIL = "end the run with status 1 as soon as TEXT appears in what the board prints (repeatable: any)"


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--expect-text`` and ``--fail-text`` on ``firmware-sim run``."""
    parser.add_argument("--expect-text", metavar="TEXT", action="append", default=[], help=HELP_EXPECT)
    parser.add_argument("--fail-text", metavar="TEXT", action="append", default=[], help=HELP_FAIL)


def quoted(texts: list[str]) -> str:
    return ", ".join(repr(text) for text in texts)


@dataclass
class Watch:
    """The matcher: texts still expected, fail texts, and the end of the stream an unfinished match
    may start in."""

    expect: list[str] = field(default_factory=list)  # still to be seen
    fail: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # expected texts seen so far
    expecting: bool = False  # --expect-text was given (once all are seen: status 0)
    tail: str = ""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Watch | None:
        """The watch ``run``'s options ask for (None: neither option given); a mistake is a UsageError."""
        expect: list[str] = list(dict.fromkeys(getattr(args, "expect_text", None) or []))
        fail: list[str] = list(dict.fromkeys(getattr(args, "fail_text", None) or []))
        if not expect and not fail:
            return None
        for flag, texts in (("--expect-text", expect), ("--fail-text", fail)):
            if texts and getattr(args, "port", None):
                raise UsageError(f"{flag} is for simulated boards; drop it with --port {args.port}")
            if "" in texts:
                raise UsageError(f"{flag}: give a text that is not empty")
        return cls(expect=expect, fail=fail, expecting=bool(expect))

    def feed(self, text: str) -> tuple[int, str] | None:
        """Take what the board printed next; (status, why) when that ends the run, else None. A fail
        text ending where (or before) the last expected text ends wins."""
        window = self.tail + text
        new = len(self.tail)

        def end_of(needle: str) -> int | None:
            at = window.find(needle, max(0, new - len(needle) + 1))  # a match that reaches the new text
            return None if at < 0 else at + len(needle)

        fails = sorted((end, needle) for needle in self.fail if (end := end_of(needle)) is not None)
        fail_end = fails[0][0] if fails else len(window) + 1
        found = [needle for needle in self.expect if (end := end_of(needle)) is not None and end < fail_end]
        self.seen += [needle for needle in self.expect if needle in found]
        self.expect = [needle for needle in self.expect if needle not in found]
        if self.expecting and not self.expect:
            return EXPECTED, f"firmware-sim: expected text seen: {quoted(self.seen)}"
        if fails:
            return FAILED, f"firmware-sim: fail text seen: {quoted([fails[0][1]])}"
        keep = max((len(needle) for needle in self.expect + self.fail), default=1) - 1
        self.tail = window[max(0, len(window) - keep) :]
        return None

    def not_seen(self, deadline: float | None) -> str:
        """Why a run ends with 42: its ``--timeout`` passed, or the board finished by itself."""
        why = "timeout" if deadline is not None and time.monotonic() >= deadline else "the board finished"
        return f"firmware-sim: {why}: expected text not seen: {quoted(self.expect)}"

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Watch | None:
        text = os.environ.get(ENV_WATCH)
        return None if not text else cls(**json.loads(text))


class WatchedStdout:
    """The board's stdout: each write goes on to the real stream, then to the watch; a verdict stops
    the board from the writing thread (the rest of the board never runs again)."""

    def __init__(self, stream: TextIO, watch: Watch, stop: Callable[[int, str], None]) -> None:
        self.stream = stream
        self.watch = watch
        self.stop = stop
        self.lock = threading.Lock()  # one write at a time: the stream's order is the match's order

    def write(self, text: str) -> int:
        with self.lock:
            written = self.stream.write(text)
            verdict = self.watch.feed(text)
            if verdict is not None:
                self.stop(*verdict)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def watched_board(state: BoardState, watch: Watch) -> RunBoard:
    """A ``RunBoard`` whose stdout goes through ``watch``: a match stops it (0 or 1); where it would
    end with 0 (its --timeout, or finished) while an expected text is missing, it ends with 42."""
    from ..runtime.boot import RunBoard

    class WatchedBoard(RunBoard):
        entry_module = "firmware_sim.cli.rebooted"  # a reboot comes back to this board, watched

        def __init__(self, state: BoardState) -> None:
            super().__init__(state)
            self.stopping = threading.RLock()  # the first stop decides the status; another thread's waits
            sys.stdout = cast(TextIO, WatchedStdout(sys.stdout, watch, self.stop))

        def stop(self, status: int, message: str = "") -> None:
            self.stopping.acquire()
            if status == 0 and watch.expecting and watch.expect:
                status, message = NOT_SEEN, watch.not_seen(self.state.deadline)
            sys.stdout.flush()  # the board's output, then the line saying why it ended
            super().stop(status, message)

        def before_exec(self) -> None:
            super().before_exec()
            os.environ[ENV_WATCH] = watch.to_env()

    return WatchedBoard(state)


def boot_watching(state: BoardState, watch: Watch | None) -> int:
    """Boot the board as ``firmware-sim run`` does, watching its output when ``watch`` is given."""
    from ..runtime.boot import boot

    if watch is None:
        return boot(state)
    return boot(state, lambda state: watched_board(state, watch))
