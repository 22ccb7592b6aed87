"""Reading what a board sends back while and after it runs code: the raw REPL's output sections
(stdout, ``\\x04``, error text, ``\\x04``; ../shared/spec/raw-repl.md §1.4), watched for a restart, and
the plain stream of a board running on its own. Functions over a :class:`SerialLine`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..replwire import END, HELP_LINE, SOFT_REBOOT
from .errors import BoardReset, BoardTimeout, ProgramTimeout
from .line import SerialLine

OutputCallback = Callable[[bytes], None]
# What a board prints when it restarts under a running program: the ESP32 ROM boot log, the
# soft-reboot line, the friendly banner.
RESET_MARKERS = (b"rst:0x", SOFT_REBOOT, HELP_LINE)


def read_section(
    line: SerialLine,
    on_output: OutputCallback | None,
    deadline: float | None,
    idle: float | None,
    detect_reset: bool,
) -> bytes:
    """Stream (to ``on_output``) or collect and return the output up to the next ``\\x04``, which is
    consumed. ``BoardReset`` when ``detect_reset`` and a restart shows in it; ``ProgramTimeout`` past
    ``deadline``; ``BoardTimeout`` after ``idle`` seconds of silence."""
    kept = bytearray()
    tail = b""
    last = time.monotonic()
    while True:
        i = line.buffer.find(END)
        chunk = line.take(i if i >= 0 else len(line.buffer))
        if i >= 0:
            del line.buffer[:1]
        if chunk:
            last = time.monotonic()
            if on_output is not None:
                on_output(chunk)
            else:
                kept += chunk
            if detect_reset:
                window = tail + chunk
                if any(marker in window for marker in RESET_MARKERS):
                    raise BoardReset(
                        f"the board on {line.port} restarted while running the code",
                        "the code called machine.reset() or deep sleep, the board crashed or lost "
                        "power; its boot output is shown above, and it is now running main.py",
                    )
                tail = window[-48:]
        if i >= 0:
            return bytes(kept)
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise ProgramTimeout("the program's deadline passed", "")
        if idle is not None and now - last >= idle:
            raise BoardTimeout(
                f"the board on {line.port} stopped answering for {idle:g} s while running the code"
                + (f" (it last sent {bytes(kept[-60:])!r})" if kept else ""),
                "check that the board is still running (power, cable); reset it and retry",
            )
        line.poll()


def stream_output(
    line: SerialLine, on_output: OutputCallback, timeout: float | None, until: bytes | None = None
) -> bool:
    """Pass everything the board prints to ``on_output`` until ``until`` shows (True) or ``timeout``
    passes (False). Ctrl-C propagates as ``KeyboardInterrupt``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    tail = b""
    while True:
        chunk = line.take(len(line.buffer))
        if chunk:
            on_output(chunk)
            if until is not None:
                window = tail + chunk
                if until in window:
                    return True
                tail = window[-len(until) :]
        if deadline is not None and time.monotonic() >= deadline:
            return False
        line.poll()
