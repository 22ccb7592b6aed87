"""The serial runner's commands on a ``firmware-sim``-style parser: devices, exec, put, get, ls, rm,
reset and deploy (their bodies are in :mod:`.handlers`; ``run --port`` is ``run_on_port``).

A ``socket://`` or ``rfc2217://`` PORT must be on this machine (loopback) unless ``--allow-lan``.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from .defaults import PORT_ENV, REPLY_TIMEOUT
from .paths import FLASH

__all__ = ["PORT_ENV", "PORT_HELP", "add_allow_lan", "add_commands", "run_on_port"]


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    """The command body ``name`` of :mod:`.handlers`, imported when the command runs (with pyserial and
    the REPL client), so that ``firmware-sim run`` and ``--help`` start without them."""

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(".handlers", __package__), name)(args)

    run.__name__ = name
    return run


run_on_port = _handler("run_on_port")

PORT_HELP = (
    "the board: a device path (/dev/ttyACM0, COM3), 'auto' (the one Pycom board plugged in) or "
    f"socket://host:port on this machine (default: ${PORT_ENV})"
)
ALLOW_LAN_HELP = (
    "let a socket:// or rfc2217:// PORT be on another machine (default: loopback addresses and "
    "localhost only, and no host name is looked up)"
)

SERIAL_EXAMPLES = """\
examples:
  firmware-sim devices
  firmware-sim exec --port auto "import os; print(os.uname())"
  firmware-sim put --port /dev/ttyACM0 lib/            # to /flash/lib, hash-verified
  firmware-sim get --port /dev/ttyACM0 /flash/data.csv
  firmware-sim deploy --port auto myproject/ --timeout 60
  firmware-sim exec --port socket://127.0.0.1:4000 "print(1+1)"   # a virtual board on a socket
"""


def add_allow_lan(p: argparse.ArgumentParser) -> None:
    """The ``--allow-lan`` opt-in: a network PORT may be on another machine."""
    p.add_argument("--allow-lan", action="store_true", help=ALLOW_LAN_HELP)


def _common(p: argparse.ArgumentParser, soft_reset: bool = True) -> None:
    """The options every board command takes: --port, --allow-lan, --reply-timeout (--no-soft-reset)."""
    p.add_argument("--port", metavar="PORT", help=PORT_HELP)
    add_allow_lan(p)
    p.add_argument(
        "--reply-timeout",
        metavar="S",
        type=float,
        default=REPLY_TIMEOUT,
        help=f"how long the board may stay silent when it owes an answer (default {REPLY_TIMEOUT:g} s)",
    )
    if soft_reset:
        p.add_argument(
            "--no-soft-reset",
            action="store_true",
            help="do not soft-reset the board first (keeps its state; main.py is only interrupted)",
        )


def _progress(p: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``."""
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register devices, exec, put, get, ls, rm, reset and deploy on the ``firmware-sim`` parser."""
    fmt = argparse.RawDescriptionHelpFormatter

    p = subparsers.add_parser(
        "devices",
        help="list serial ports, marking Pycom boards",
        description="List serial ports (device serial vid:pid manufacturer product); Pycom boards "
        "(USB vendor 04d8: Expansion Board 3, Pysense, Pytrack, Pyscan, Pygate) are marked.",
    )
    p.set_defaults(handler=_handler("cmd_devices"))

    p = subparsers.add_parser(
        "exec",
        help="run code on a board and print its output",
        description="Run CODE on the board (raw REPL) and stream its output. Exit 1 if it raised "
        "(the board's traceback on stderr).",
        epilog=SERIAL_EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument("code", metavar="CODE", help='MicroPython code, e.g. "import os; print(os.listdir())"')
    _common(p)
    p.add_argument(
        "--timeout", metavar="S", type=float, help="stop the code (Ctrl-C) after S seconds and fail (exit 1)"
    )
    p.set_defaults(handler=_handler("cmd_exec"))

    p = subparsers.add_parser(
        "put",
        help="copy a file or folder to a board (hash-verified, atomic)",
        description="Copy LOCAL to the board. A file goes to REMOTE (default /flash/<name>; into REMOTE "
        "when it is a folder or ends with /); a folder's contents go into REMOTE (default "
        "/flash/<folder name>). Each file is written under a temporary name, checked by SHA-256 on the "
        "board, then renamed: a broken transfer never leaves a half-written file under the final name.",
        epilog=SERIAL_EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument("local", metavar="LOCAL")
    p.add_argument("remote", metavar="REMOTE", nargs="?", help="board path (relative paths are under /flash)")
    _common(p)
    _progress(p)
    p.set_defaults(handler=_handler("cmd_put"))

    p = subparsers.add_parser(
        "get",
        help="copy a file or folder from a board",
        description="Copy REMOTE from the board to LOCAL (default: its name in the current folder), "
        "checked by SHA-256.",
    )
    p.add_argument("remote", metavar="REMOTE", help="board path (relative paths are under /flash)")
    p.add_argument("local", metavar="LOCAL", nargs="?")
    _common(p)
    _progress(p)
    p.set_defaults(handler=_handler("cmd_get"))

    p = subparsers.add_parser("ls", help="list a folder on a board", description="List a board folder.")
    p.add_argument("path", metavar="PATH", nargs="?", default=FLASH, help=f"default {FLASH}")
    _common(p)
    p.set_defaults(handler=_handler("cmd_ls"))

    p = subparsers.add_parser("rm", help="remove a file or folder on a board", description="Remove PATH.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("-r", "--recursive", action="store_true", help="remove a folder and everything in it")
    _common(p)
    p.set_defaults(handler=_handler("cmd_rm"))

    p = subparsers.add_parser(
        "reset",
        help="reset a board (hard, soft or into safe boot)",
        description="--hard (default): machine.reset(). --soft: Ctrl-D at the >>> prompt (boot.py and "
        "main.py run again). --safe-boot: Pycom's Ctrl-F, a hard reset that skips boot.py and main.py.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--hard", dest="mode", action="store_const", const="hard", help="machine.reset()")
    mode.add_argument("--soft", dest="mode", action="store_const", const="soft", help="soft reboot")
    mode.add_argument(
        "--safe-boot", dest="mode", action="store_const", const="safe-boot", help="reboot into safe boot"
    )
    p.set_defaults(mode="hard")
    _common(p, soft_reset=False)
    p.set_defaults(handler=_handler("cmd_reset"))

    p = subparsers.add_parser(
        "deploy",
        help="sync a project folder to /flash, reset, stream the output",
        description="Send the files of DIR whose SHA-256 differs from the board's copy under /flash "
        "(each hash-verified and atomic; dot files, __pycache__ and *.pyc are skipped; a pymakr.conf or "
        "pymakr.json selects the folder and files as Pymakr does), soft-reset the "
        "board so boot.py and main.py run, and stream its output until main.py ends, Ctrl-C (which "
        "stops the program on the board) or --timeout (the board keeps running).",
        epilog=SERIAL_EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument("dir", metavar="DIR")
    _common(p)
    p.add_argument("--timeout", metavar="S", type=float, help="stop streaming after S seconds (exit 0)")
    p.add_argument("--hard", action="store_true", help="reset with machine.reset() instead of a soft reset")
    p.add_argument("--no-reset", action="store_true", help="only send the files")
    _progress(p)
    p.set_defaults(handler=_handler("cmd_deploy"))
