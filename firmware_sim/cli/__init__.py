"""The ``firmware-sim`` command (also ``python -m firmware_sim``): simulated boards (``run``, ``up``,
``board``, ``multitest``), a virtual LoRa gateway (``gateway``) and the serial runner's commands for
real boards."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from ..children import Stopped
from . import board, check, gateway, multitest, run, up
from .options import UsageError, print_error


class Parser(argparse.ArgumentParser):
    """argparse whose mistakes are one line naming the problem and where the help is."""

    def error(self, message: str) -> NoReturn:
        print_error(f"{message} (see {self.prog} --help)")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="firmware-sim",
        description="Run Pycom MicroPython firmware scripts on a PC: simulated LoPy4/FiPy/WiPy boards "
        "with real networking on loopback, and the same scripts on real boards over USB serial.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    run.add_parser(sub)
    up.add_parser(sub)
    board.add_parser(sub)
    gateway.add_parser(sub)
    check.add_parser(sub)
    multitest.add_parser(sub)
    from ..serial.commands import add_commands

    add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except UsageError as err:
        print_error(err)
        return 2
    except Stopped as stopped:
        return 128 + stopped.signum
