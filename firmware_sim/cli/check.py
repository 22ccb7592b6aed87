"""``firmware-sim check PATH``: report, with file and line, what a Pycom 1.20 board (MicroPython 1.11)
cannot run and the simulator cannot catch while running it: syntax MicroPython 1.11's compiler rejects
and calls of methods only CPython's built-in types have (``str.removeprefix`` ...).

Exit status: 1 when something is found, 0 when clean, 2 for a usage error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .usage import UsageError

EXAMPLES = """\
examples:
  firmware-sim check main.py
  firmware-sim check myproject/
      every .py file under the folder (boot.py, main.py, lib/ ...)

exit status: 0 when nothing was found, 1 when something was (one line each: file:line: why),
2 for a usage error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check",
        help="report what the board's MicroPython 1.11 cannot run (file and line)",
        description="Check a script or project folder statically for what Pycom firmware 1.20 "
        "(MicroPython 1.11) cannot run and a simulated board cannot catch at run time: syntax its "
        "compiler rejects, and methods CPython's built-in types have and MicroPython's lack.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("path", metavar="PATH", help="a .py script or a project folder")
    check.set_defaults(handler=cmd_check)


def run_check(path: Path) -> int:
    """Print every finding under ``path`` on stderr; 1 if there was one, else 0."""
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder; give a .py script or a project folder")
    if path.is_file() and path.suffix != ".py":
        raise UsageError(f"{path}: not a .py script; give a .py file or a project folder")
    from ..check import check_path

    findings = check_path(path)
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(f"firmware-sim: {len(findings)} thing(s) the board cannot run", file=sys.stderr, flush=True)
    return 1 if findings else 0


def cmd_check(args: argparse.Namespace) -> int:
    return run_check(Path(args.path))
