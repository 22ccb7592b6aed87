"""The board stays on after the script: while the script's threads (a ``Coap.read()`` loop) or, on
firmware 1.20.3.b3/b4, modcoap's own task run, the process does not end at interpreter exit."""

from __future__ import annotations

import math
import os
import sys
import threading
import time

from ..engine import Engine

ENV_TIMEOUT = "FIRMWARE_SIM_TIMEOUT"
_THREAD_START_GRACE = 0.5  # seconds


def other_threads() -> bool:
    main = threading.main_thread().ident
    return any(ident != main for ident in sys._current_frames())


def board_stays_on(engine: Engine) -> None:
    """At interpreter exit: while the script's other threads run (a ``Coap.read()`` loop, say), keep
    the process up, as a board keeps running its threads after ``main.py`` returns. Ctrl-C, the
    threads ending, or ``FIRMWARE_SIM_TIMEOUT`` seconds end it."""
    if engine.closed:
        return
    started = time.monotonic() + _THREAD_START_GRACE  # a thread just started may not show up yet
    while not other_threads():
        if time.monotonic() > started:
            return
        time.sleep(0.01)
    limit = float(os.environ.get(ENV_TIMEOUT) or math.inf)
    end = time.monotonic() + limit
    announce = time.monotonic() + _THREAD_START_GRACE  # threads about to end need no announcement
    try:
        while not engine.closed and other_threads() and time.monotonic() < end:
            if announce and time.monotonic() > announce:
                announce = 0.0
                print(
                    "firmware-sim: the script has finished; its threads keep running as on the board "
                    "(Ctrl-C stops)",
                    file=sys.stderr,
                    flush=True,
                )
            time.sleep(min(0.05, max(end - time.monotonic(), 0.0)))
    except KeyboardInterrupt:
        pass
