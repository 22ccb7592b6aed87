"""A one-line progress bar on stderr for long transfers (no third-party dependencies)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} MB"


class Progress:
    """``update(n)`` adds transferred bytes; ``done()`` ends the line. Silent unless ``enabled``
    (default: when the stream is a terminal). Redraws at most every 0.1 s."""

    WIDTH = 24

    def __init__(
        self, total: int, label: str, enabled: bool | None = None, stream: TextIO | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 0)
        self.label = label
        self.count = 0
        self.start = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    def update(self, n: int) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        fraction = min(self.count / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * self.WIDTH)
        rate = self.count / max(now - self.start, 1e-6)
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction * 100:3.0f}% "
            f"{_size(self.count)}/{_size(self.total)} {_size(rate)}/s"
        )
        pad = max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
