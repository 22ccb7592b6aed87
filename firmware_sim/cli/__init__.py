"""The ``firmware-sim`` command (also ``python -m firmware_sim``): simulated boards (``run``, ``up``,
``board``, ``multitest``), a virtual LoRa gateway (``gateway``) and the serial runner's commands for
real boards."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from ..children import Stopped
from ..report import print_error
from ..serial.commands import add_commands
from .usage import UsageError

# the simulator's commands, one module each, in --help's order; then the serial runner's
SIMULATOR_COMMANDS = ("run", "up", "board", "gateway", "check", "multitest", "coap")
SERIAL_COMMANDS = ("devices", "exec", "put", "get", "ls", "rm", "reset", "deploy")


class Parser(argparse.ArgumentParser):
    """argparse whose mistakes are one line naming the problem and where the help is."""

    def error(self, message: str) -> NoReturn:
        print_error(f"{message} (see {self.prog} --help)")
        sys.exit(2)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (``command``) only that command's part of it: a command's module is
    imported only when it is the one that runs, so ``firmware-sim run`` starts without the others."""
    known = command in SIMULATOR_COMMANDS or command in SERIAL_COMMANDS
    parser = Parser(
        prog="firmware-sim",
        description="Run Pycom MicroPython firmware scripts on a PC: simulated LoPy4/FiPy/WiPy boards "
        "with real networking on loopback, and the same scripts on real boards over USB serial.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in SIMULATOR_COMMANDS:
        if not known or name == command:
            importlib.import_module(f".{name}", __package__).add_parser(sub)
    if not known or command in SERIAL_COMMANDS:
        add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(given[0] if given else None)
    args = parser.parse_args(given)
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
