"""The serial runner's commands: devices, exec, put, get, ls, rm, reset, deploy (and ``run --port``).

Exit status: 0 ok; 1 the board raised, a command failed, or Ctrl-C; 2 the board could not be reached
(no such port, in use, no raw REPL). Errors print as ``firmware-sim: error: <what> — <fix>``; a board's
traceback goes to stderr before it.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .files import FLASH, RemoteFS
from .ports import comports, describe
from .transport import (
    FRIENDLY_PROMPT,
    REPLY_TIMEOUT,
    Board,
    BoardError,
    ConnectError,
    Interrupted,
    ProgramTimeout,
    RunnerError,
)

PORT_ENV = "FIRMWARE_SIM_PORT"
PORT_HELP = (
    "the board: a device path (/dev/ttyACM0, COM3), 'auto' (the one Pycom board plugged in) or "
    f"socket://host:port (default: ${PORT_ENV})"
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


def _error(message: object) -> None:
    print(f"firmware-sim: error: {message}", file=sys.stderr, flush=True)


class Console:
    """Board output to our stdout, live: ``\\r\\n`` becomes ``\\n``."""

    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self._cr = False
        self.tail = b""  # the last few KB, to look at after the fact

    def __call__(self, data: bytes) -> None:
        if self._cr:
            data = b"\r" + data
        self._cr = data.endswith(b"\r")
        if self._cr:
            data = data[:-1]
        self.tail = (self.tail + data)[-4096:]
        self.stream.write(data.replace(b"\r\n", b"\n"))
        self.stream.flush()

    def end(self) -> None:
        if self._cr:
            self._cr = False
            self.stream.write(b"\r")
            self.stream.flush()


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn every runner failure into one error line and an exit status; never a Python traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except BoardError as err:
            sys.stdout.flush()
            sys.stderr.write(err.traceback.replace("\r\n", "\n"))
            if not err.traceback.endswith("\n"):
                sys.stderr.write("\n")
            _error(f"the code raised {err.message} on the board — see its traceback above")
            return 1
        except RunnerError as err:
            sys.stdout.flush()
            _error(err)
            return err.exit_code
        except KeyboardInterrupt:
            _error("interrupted (Ctrl-C) — run the command again when ready")
            return 1
        except OSError as err:  # local files
            name = f"{err.filename}: " if err.filename else ""
            _error(f"{name}{err.strerror or err} — check the local path")
            return 1

    return run


def _port(args: argparse.Namespace) -> str:
    port = getattr(args, "port", None) or os.environ.get(PORT_ENV)
    if not port:
        raise ConnectError(
            "no board port given",
            f"pass --port PORT (a device path such as /dev/ttyACM0, auto, or socket://host:port) or set "
            f"{PORT_ENV}; `firmware-sim devices` lists the ports",
        )
    return port


def _board(args: argparse.Namespace) -> Board:
    """The board of ``--port``, opened (not yet in the raw REPL)."""
    timeout = getattr(args, "reply_timeout", REPLY_TIMEOUT)
    if timeout is None or timeout <= 0:
        raise RunnerError(f"--reply-timeout {timeout}: must be above 0 seconds", "e.g. --reply-timeout 10")
    return Board(_port(args), timeout=timeout).open()


def _raw(board: Board, args: argparse.Namespace) -> None:
    """Enter the raw REPL, soft-resetting first (as mpremote does) unless ``--no-soft-reset``."""
    board.enter_raw_repl(soft_reset=not getattr(args, "no_soft_reset", False))


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout <= 0:
        raise RunnerError(f"--timeout {timeout}: must be above 0 seconds", "e.g. --timeout 30")


# -- the commands ---------------------------------------------------------------------------------


@_guarded
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
    console = Console()
    with _board(args) as board:
        _raw(board, args)
        try:
            board.run(code, on_output=console, timeout=args.timeout)
        except ProgramTimeout as err:
            console.end()
            if timeout_ok:
                print(
                    f"firmware-sim: stopped the program after --timeout {args.timeout:g} s", file=sys.stderr
                )
                return 0
            raise err
        finally:
            console.end()
    return 0


@_guarded
def cmd_exec(args: argparse.Namespace) -> int:
    return _run_program(args, args.code, timeout_ok=False)


_SIMULATOR_ONLY = {
    "board": ("--board", "lopy4"),
    "firmware": ("--firmware", "docs"),
    "ip": ("--ip", None),
    "map": ("--map", []),
    "flash": ("--flash", None),
    "time_scale": ("--time-scale", 1.0),
}


@_guarded
def run_on_port(args: argparse.Namespace) -> int:
    """``firmware-sim run --port PORT FILE.py``: run a local script on the board without copying it;
    its output streams live. ``--timeout``: stop it (Ctrl-C) after that long and exit 0."""
    for attr, (option, default) in _SIMULATOR_ONLY.items():
        if getattr(args, attr, default) not in (default, None):
            print(
                f"firmware-sim: error: {option} is for simulated boards; with --port the script runs on "
                f"the board at {args.port} — drop {option}",
                file=sys.stderr,
            )
            return 2
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


@_guarded
def cmd_put(args: argparse.Namespace) -> int:
    local = Path(args.local)
    if not local.exists():
        raise RunnerError(f"{local}: no such file or folder", "give an existing local file or folder")
    with _board(args) as board:
        _raw(board, args)
        fs = RemoteFS(board)
        pairs = fs.put(local, args.remote, progress=args.progress)
    for path, dest in pairs:
        print(f"{path} -> {dest}")
    return 0


@_guarded
def cmd_get(args: argparse.Namespace) -> int:
    with _board(args) as board:
        _raw(board, args)
        written = RemoteFS(board).get(args.remote, Path(args.local) if args.local else None, args.progress)
    for path in written:
        print(path)
    return 0


@_guarded
def cmd_ls(args: argparse.Namespace) -> int:
    with _board(args) as board:
        _raw(board, args)
        entries = RemoteFS(board).ls(args.path)
    for entry in entries:
        print(f"{'' if entry.is_dir else entry.size:>10} {entry.name}{'/' if entry.is_dir else ''}")
    return 0


@_guarded
def cmd_rm(args: argparse.Namespace) -> int:
    with _board(args) as board:
        _raw(board, args)
        RemoteFS(board).rm(args.path, recursive=args.recursive)
    return 0


@_guarded
def cmd_reset(args: argparse.Namespace) -> int:
    with _board(args) as board:
        if args.mode == "soft":
            board.soft_reset(run_main=True)
            print("soft reset: boot.py and main.py run again", file=sys.stderr)
        elif args.mode == "safe-boot":
            board.safe_boot()
            print("safe boot: the board is at its REPL without boot.py and main.py", file=sys.stderr)
        else:
            board.enter_raw_repl()
            board.hard_reset()
            print("hard reset: machine.reset() sent", file=sys.stderr)
    return 0


@_guarded
def cmd_deploy(args: argparse.Namespace) -> int:
    _check_timeout(args.timeout)
    folder = Path(args.dir)
    if not folder.is_dir():
        raise RunnerError(f"{folder}: not a folder", "give the project folder (the one with main.py)")
    console = Console()
    with _board(args) as board:
        _raw(board, args)
        result = RemoteFS(board).sync(folder, FLASH, progress=args.progress)
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
            board.hard_reset()
        else:
            console(board.soft_reset(run_main=True))
        try:
            finished = board.stream(console, args.timeout, until=FRIENDLY_PROMPT)
        except KeyboardInterrupt:
            board.transport.write(b"\x03")  # stop main.py on the board too
            console.end()
            raise Interrupted("interrupted (Ctrl-C): the program on the board was stopped", "") from None
        console.end()
        if finished:
            console(b"\n")  # after the board's >>> prompt
        if finished and b"Traceback (most recent call last):" in console.tail:
            _error("main.py ended with an exception on the board — see its traceback above")
            return 1
        if not finished:
            print(f"\nfirmware-sim: --timeout {args.timeout:g} s: the board keeps running", file=sys.stderr)
    return 0


# -- registration ---------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, soft_reset: bool = True) -> None:
    p.add_argument("--port", metavar="PORT", help=PORT_HELP)
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
    p.set_defaults(handler=cmd_devices)

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
    p.set_defaults(handler=cmd_exec)

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
    p.set_defaults(handler=cmd_put)

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
    p.set_defaults(handler=cmd_get)

    p = subparsers.add_parser("ls", help="list a folder on a board", description="List a board folder.")
    p.add_argument("path", metavar="PATH", nargs="?", default=FLASH, help=f"default {FLASH}")
    _common(p)
    p.set_defaults(handler=cmd_ls)

    p = subparsers.add_parser("rm", help="remove a file or folder on a board", description="Remove PATH.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("-r", "--recursive", action="store_true", help="remove a folder and everything in it")
    _common(p)
    p.set_defaults(handler=cmd_rm)

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
    p.set_defaults(handler=cmd_reset)

    p = subparsers.add_parser(
        "deploy",
        help="sync a project folder to /flash, reset, stream the output",
        description="Send the files of DIR whose SHA-256 differs from the board's copy under /flash "
        "(each hash-verified and atomic; dot files, __pycache__ and *.pyc are skipped), soft-reset the "
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
    p.set_defaults(handler=cmd_deploy)
