"""The one form every ``firmware-sim`` error takes: one line on stderr, ``firmware-sim: error: ...``,
naming the problem and the fix (never a Python traceback of ours). Used by the CLI, the serial runner
and the virtual board alike."""

from __future__ import annotations

import sys


def print_error(message: object) -> None:
    """Print ``message`` as a firmware-sim error line on stderr."""
    print(f"firmware-sim: error: {message}", file=sys.stderr, flush=True)
