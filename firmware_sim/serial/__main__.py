"""``python -m firmware_sim.serial COMMAND ...``: the serial runner's commands on their own (the same
ones ``firmware-sim`` offers), including ``run --port PORT FILE.py``."""

from __future__ import annotations

import argparse
import sys

from .commands import PORT_HELP, add_allow_lan, add_commands, run_on_port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_sim.serial", description="The serial runner: boards over a serial line."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(sub)
    run = sub.add_parser("run", help="run a local script on a board without copying it")
    run.add_argument("path", metavar="FILE.py")
    run.add_argument("--port", metavar="PORT", help=PORT_HELP)
    add_allow_lan(run)
    run.add_argument("--timeout", metavar="S", type=float, help="stop it after S seconds (exit 0)")
    run.add_argument("--reply-timeout", metavar="S", type=float, default=10.0, help=argparse.SUPPRESS)
    run.add_argument("--no-soft-reset", action="store_true", help="do not soft-reset the board first")
    run.set_defaults(handler=run_on_port)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
