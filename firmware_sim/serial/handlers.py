"""The serial runner's commands: devices, exec, put, get, ls, rm, reset, deploy (and ``run --port``),
each taking the parsed arguments and returning the exit status (see :mod:`.printer`).
Their options are declared in :mod:`.commands`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..replwire import CTRL_C, FRIENDLY_PROMPT
from ..report import print_error
from .defaults import PORT_ENV, REPLY_TIMEOUT
from .errors import ConnectError, Interrupted, ProgramTimeout, RunnerError
from .files import RemoteFS
from .paths import FLASH
from .ports import comports, describe
from .printer import OutputPrinter, guarded
from .pymakr import project_files
from .session import ReplSession


def _port(args: argparse.Namespace) -> str:
    """``--port``, else ``$FIRMWARE_SIM_PORT``; ``ConnectError`` when neither is given."""
    port = getattr(args, "port", None) or os.environ.get(PORT_ENV)
    if not port:
        raise ConnectError(
            "no board port given",
            f"pass --port PORT (a device path such as /dev/ttyACM0, auto, or socket://host:port) or set "
            f"{PORT_ENV}; `firmware-sim devices` lists the ports",
        )
    return port


def _session(args: argparse.Namespace) -> ReplSession:
    """A session with the board of ``--port``, opened (not yet in the raw REPL). A network port must be
    on this machine unless ``--allow-lan``: refused before anything is sent."""
    timeout = getattr(args, "reply_timeout", REPLY_TIMEOUT)
    if timeout is None or timeout <= 0:
        raise RunnerError(f"--reply-timeout {timeout}: must be above 0 seconds", "e.g. --reply-timeout 10")
    return ReplSession(_port(args), timeout=timeout, allow_lan=getattr(args, "allow_lan", False)).open()


def _raw(session: ReplSession, args: argparse.Namespace) -> None:
    """Enter the raw REPL, soft-resetting first (as mpremote does) unless ``--no-soft-reset``."""
    session.enter_raw_repl(soft_reset=not getattr(args, "no_soft_reset", False))


def _check_timeout(timeout: float | None) -> None:
    """``RunnerError`` for a ``--timeout`` that is not above 0."""
    if timeout is not None and timeout <= 0:
        raise RunnerError(f"--timeout {timeout}: must be above 0 seconds", "e.g. --timeout 30")


@guarded
def cmd_devices(args: argparse.Namespace) -> int:
    ports = comports()
    if not ports:
        print(
            "no serial ports found (plug the board in; a virtual board is reached by its path or "
            "socket://host:port)",
            file=sys.stderr,
        )
        return 0
    for port in ports:
        print(describe(port))
    return 0


def _run_program(args: argparse.Namespace, code: str, timeout_ok: bool) -> int:
    _check_timeout(args.timeout)
    printer = OutputPrinter()
    with _session(args) as session:
        _raw(session, args)
        try:
            session.run(code, on_output=printer, timeout=args.timeout)
        except ProgramTimeout as err:
            printer.end()
            if timeout_ok:
                print(
                    f"firmware-sim: stopped the program after --timeout {args.timeout:g} s", file=sys.stderr
                )
                return 0
            raise err
        finally:
            printer.end()
    return 0


@guarded
def cmd_exec(args: argparse.Namespace) -> int:
    return _run_program(args, args.code, timeout_ok=False)


@guarded
def run_on_port(args: argparse.Namespace) -> int:
    """``firmware-sim run --port PORT FILE.py``: run a local script on the board without copying it;
    its output streams live. ``--timeout``: stop it (Ctrl-C) after that long and exit 0. (The
    simulator's board options are refused by the ``run`` command before it gets here.)"""
    path = Path(args.path)
    if path.is_dir():
        raise RunnerError(
            f"{path}: a folder; run --port runs one script",
            f"copy a project to the board with `firmware-sim deploy --port {args.port} {path}`",
        )
    if not path.is_file():
        raise RunnerError(f"{path}: no such file", "give the path of a .py script")
    code = path.read_text(encoding="utf-8")
    return _run_program(args, code, timeout_ok=True)


@guarded
def cmd_put(args: argparse.Namespace) -> int:
    local = Path(args.local)
    if not local.exists():
        raise RunnerError(f"{local}: no such file or folder", "give an existing local file or folder")
    with _session(args) as session:
        _raw(session, args)
        fs = RemoteFS(session)
        pairs = fs.put(local, args.remote, progress=args.progress)
    for path, dest in pairs:
        print(f"{path} -> {dest}")
    return 0


@guarded
def cmd_get(args: argparse.Namespace) -> int:
    with _session(args) as session:
        _raw(session, args)
        written = RemoteFS(session).get(args.remote, Path(args.local) if args.local else None, args.progress)
    for path in written:
        print(path)
    return 0


@guarded
def cmd_ls(args: argparse.Namespace) -> int:
    with _session(args) as session:
        _raw(session, args)
        entries = RemoteFS(session).ls(args.path)
    for entry in entries:
        print(f"{'' if entry.is_dir else entry.size:>10} {entry.name}{'/' if entry.is_dir else ''}")
    return 0


@guarded
def cmd_rm(args: argparse.Namespace) -> int:
    with _session(args) as session:
        _raw(session, args)
        RemoteFS(session).rm(args.path, recursive=args.recursive)
    return 0


@guarded
def cmd_reset(args: argparse.Namespace) -> int:
    with _session(args) as session:
        if args.mode == "soft":
            session.soft_reset(run_main=True)
            print("soft reset: boot.py and main.py run again", file=sys.stderr)
        elif args.mode == "safe-boot":
            session.safe_boot()
            print("safe boot: the board is at its REPL without boot.py and main.py", file=sys.stderr)
        else:
            session.enter_raw_repl()
            session.hard_reset()
            print("hard reset: machine.reset() sent", file=sys.stderr)
    return 0


@guarded
def cmd_deploy(args: argparse.Namespace) -> int:
    _check_timeout(args.timeout)
    folder = Path(args.dir)
    if not folder.is_dir():
        raise RunnerError(f"{folder}: not a folder", "give the project folder (the one with main.py)")
    root, chosen = project_files(folder)  # a pymakr.conf/pymakr.json's selection, else every file
    printer = OutputPrinter()
    with _session(args) as session:
        _raw(session, args)
        result = RemoteFS(session).sync(root, FLASH, progress=args.progress, chosen=chosen)
        n = len(result.sent)
        print(
            f"deploy: sent {n} file{'s' if n != 1 else ''} ({result.bytes_sent} bytes), "
            f"{len(result.unchanged)} unchanged",
            file=sys.stderr,
            flush=True,
        )
        for dest in result.sent:
            print(f"  {dest}", file=sys.stderr)
        if args.no_reset:
            return 0
        if args.hard:
            session.hard_reset()
        else:
            printer(session.soft_reset(run_main=True))
        try:
            finished = session.stream(printer, args.timeout, until=FRIENDLY_PROMPT)
        except KeyboardInterrupt:
            session.line.write(bytes((CTRL_C,)))  # stop main.py on the board too
            printer.end()
            raise Interrupted("interrupted (Ctrl-C): the program on the board was stopped", "") from None
        printer.end()
        if finished:
            printer(b"\n")  # after the board's >>> prompt
        if finished and b"Traceback (most recent call last):" in printer.tail:
            print_error("main.py ended with an exception on the board — see its traceback above")
            return 1
        if not finished:
            print(f"\nfirmware-sim: --timeout {args.timeout:g} s: the board keeps running", file=sys.stderr)
    return 0
