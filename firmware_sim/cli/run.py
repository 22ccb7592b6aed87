"""``firmware-sim run``: boot a script or a project folder on a simulated board in this process (or,
with ``--port``, run a script on a real board without copying it)."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
from pathlib import Path

from ..children import stop_on
from . import options
from .options import UsageError

EXAMPLES = """\
examples:
  firmware-sim run main.py
      run one script as the board's main.py (a fresh, temporary /flash)
  firmware-sim run --board fipy --timeout 30 myproject/
      boot a project folder (boot.py, main.py, lib/) as a FiPy; stop it after 30 s
  firmware-sim run --ip 127.0.0.2 examples/docs/server.py
      the board's address is 127.0.0.2: coap-client-notls -m get coap://127.0.0.2/.well-known/core
  firmware-sim run --map 192.168.0.234=127.0.0.2 examples/docs/client_blocking.py
      the script sends to 192.168.0.234; the simulator delivers to 127.0.0.2
  firmware-sim run --map sensor.local=127.0.0.2 client.py
      a host name the script uses goes to 127.0.0.2 as well (no DNS is ever asked)
  firmware-sim run --firmware 1.20.2.r6 --flash ./board-a main.py
      behave as firmware 1.20.2.r6 (API A); keep files and nvs in ./board-a across runs
  firmware-sim run --time-scale 60 --timeout 10 logger.py
      a minute of board time per second: sleep(60) takes one second
  firmware-sim run --port /dev/ttyACM0 main.py
      run the script on a real board instead (output live; the board options do not apply)

exit status: 0 when the board was still running without error at --timeout (or finished),
1 after an uncaught exception (a MicroPython-style traceback is printed) or a reboot loop,
2 for a usage error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="boot a script or project folder on a simulated board",
        description="Boot a simulated Pycom board: boot.py, then main.py, as the firmware does. The "
        "board's sockets bind to its own loopback address; its network.Coap, WLAN, LTE talk over real "
        "UDP on loopback.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("path", metavar="PATH", help="a .py script (run as main.py) or a folder used as /flash")
    run.add_argument(
        "--port",
        metavar="PORT",
        help="run the script on the board at PORT (a device path, auto, or socket://host:port) instead of "
        "a simulated board; it is not copied, its output streams live",
    )
    from ..serial.commands import add_allow_lan

    options.add_board_options(run)
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        help="stop the board after this many seconds; exit 0 if it was running fine",
    )
    add_allow_lan(run)
    run.set_defaults(handler=cmd_run)


def check_project(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder; give a .py script or a project folder")
    if path.is_file() and path.suffix != ".py":
        raise UsageError(f"{path}: not a .py script; give a .py file or a folder with boot.py/main.py")
    if path.is_dir() and not (path / "main.py").is_file() and not (path / "boot.py").is_file():
        raise UsageError(f"{path}: this folder has neither main.py nor boot.py; it is not a board project")


def copy_project(path: Path, flash: Path) -> str:
    """Put the script or project on the flash; the name tracebacks use for main.py."""
    if path.is_file():
        shutil.copyfile(path, flash / "main.py")
        return path.name
    if path.resolve() != flash.resolve():
        shutil.copytree(path, flash, dirs_exist_ok=True)
    return "main.py"


def cmd_run(args: argparse.Namespace) -> int:
    if args.port:
        extra = options.given(args)
        if extra:
            raise UsageError(
                f"{extra[0]} is for simulated boards; with --port the script runs on the board at "
                f"{args.port}: drop {extra[0]}"
            )
        from ..serial.commands import run_on_port

        return run_on_port(args)
    board = options.from_args(args)
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be above 0 seconds")
    path = Path(args.path)
    check_project(path)
    board.reserve_ip()
    from ..runtime.boot import boot
    from ..runtime.kinds import KINDS

    with stop_on((signal.SIGTERM, signal.SIGHUP)):  # until the board's own handlers: no flash left behind
        flash, temporary = board.make_flash()
        try:
            display = copy_project(path, flash)
            state = board.state(
                flash, temporary, display_name=display, deadline=options.deadline(args.timeout)
            )
            print(
                f"firmware-sim: {KINDS[state.kind].platform} at {state.ip}, firmware {state.firmware}, "
                f"/flash in {flash}",
                file=sys.stderr,
                flush=True,
            )
            return boot(state)  # never returns: the board ends the process
        except BaseException:
            if temporary:
                shutil.rmtree(flash, ignore_errors=True)
            raise
