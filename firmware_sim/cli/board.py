"""``firmware-sim board``: a virtual Pycom board on a pseudo-terminal or a loopback TCP port."""

from __future__ import annotations

import argparse
import signal

from ..children import stop_on
from . import options
from .usage import UsageError

DESCRIPTION = (
    "A simulated Pycom board on a serial line (a pseudo-terminal or a loopback TCP port) that mpremote, "
    "pyboard.py and the firmware-sim serial runner accept. The first output line is the port to connect "
    "to, e.g.: firmware-sim board  ->  /dev/pts/7, then firmware-sim exec --port /dev/pts/7 'print(1)' "
    "or mpremote connect /dev/pts/7 fs ls. It runs until Ctrl-C, SIGTERM or SIGHUP; a temporary flash "
    "is removed then."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    board = sub.add_parser(
        "board",
        help="a virtual Pycom board on a pseudo-terminal or TCP port, for mpremote and the serial runner",
        description=DESCRIPTION,
    )
    where = board.add_mutually_exclusive_group()
    where.add_argument(
        "--pty",
        action="store_true",
        help="serve the board on a new pseudo-terminal, e.g. /dev/pts/7 (the default)",
    )
    where.add_argument(
        "--socket",
        metavar="HOST:PORT",
        help="serve the board on TCP, for pyserial's socket://HOST:PORT (loopback only; port 0 picks one)",
    )
    options.add_board_options(board)
    board.add_argument(
        "--raw-paste",
        action="store_true",
        help="answer raw-paste requests as newer MicroPython does (Pycom 1.20 firmware has no raw-paste)",
    )
    board.set_defaults(handler=cmd_board)


def cmd_board(args: argparse.Namespace) -> int:
    from ..virtual import serve_board
    from ..virtual.devices import parse_socket_address

    board = options.from_args(args)
    try:
        address = parse_socket_address(args.socket) if args.socket else None
    except ValueError as err:
        raise UsageError(f"--socket {err}") from None
    board.reserve_ip()
    with stop_on((signal.SIGTERM, signal.SIGHUP)):  # until serve_board's own handlers: no flash left behind
        flash, temporary = board.make_flash()
        state = board.state(flash, temporary)
        try:
            return serve_board(state, socket_address=address, raw_paste=args.raw_paste)
        except BaseException:
            options.remove_flash(state)
            raise
