"""The ``firmware-sim`` command (also ``python -m firmware_sim``)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import network.host
from network import profile as profiles

from .runtime.kinds import KINDS
from .runtime.state import BoardState

RUN_EXAMPLES = """\
examples:
  firmware-sim run main.py
      run one script as the board's main.py (a fresh, temporary /flash)
  firmware-sim run --board fipy --timeout 30 myproject/
      boot a project folder (boot.py, main.py, lib/) as a FiPy; stop it after 30 s
  firmware-sim run --ip 127.0.0.2 examples/docs/server.py
      the board's address is 127.0.0.2: coap-client-notls -m get coap://127.0.0.2/.well-known/core
  firmware-sim run --map 192.168.0.234=127.0.0.2 examples/docs/client_blocking.py
      the script sends to 192.168.0.234; the simulator delivers to 127.0.0.2
  firmware-sim run --firmware 1.20.2.r6 --flash ./board-a main.py
      behave as firmware 1.20.2.r6 (API A); keep files and nvs in ./board-a across runs
  firmware-sim run --time-scale 60 --timeout 10 logger.py
      a minute of board time per second: sleep(60) takes one second

exit status: 0 when the board was still running without error at --timeout (or finished),
1 after an uncaught exception (a MicroPython-style traceback is printed) or a reboot loop.
"""

UP_EXAMPLES = """\
The file lists boards to start together; every output line is prefixed with the board's name:

  [[board]]
  name = "sensor"            # prefix of its output lines
  path = "sensor/"           # a script or a project folder, relative to this file
  board = "lopy4"            # optional: lopy4 (default), lopy, fipy, gpy, sipy, wipy
  ip = "127.0.0.2"           # optional: default a free 127.0.0.x
  firmware = "docs"          # optional
  map = { "192.168.0.10" = "sensor" }   # optional: to an address or another board's name
  delay = 0.5                # optional: seconds to wait before starting this board

example:
  firmware-sim up --timeout 5 examples/two_boards/boards.toml
"""


class UsageError(Exception):
    """A command-line problem: the message says what is wrong and how to fix it."""


def _free_board_ip(taken: set[str] = frozenset()) -> str:
    """A free 127.0.0.x for a board, so several boards can each serve CoAP on port 5683."""
    return network.host.free_address(first_free=True, taken=frozenset(taken))


def _loopback(value: str, option: str) -> str:
    try:
        ok = ipaddress.ip_address(value).is_loopback
    except ValueError:
        raise UsageError(
            f"{option} {value}: not an IP address; give a loopback address such as 127.0.0.2"
        ) from None
    if not ok:
        raise UsageError(
            f"{option} {value}: the simulator only uses loopback addresses (127.0.0.0/8); "
            "pick one such as 127.0.0.2"
        )
    return value


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        source, sep, destination = item.partition("=")
        if not sep or not source or not destination:
            raise UsageError(
                f"--map {item}: expected SCRIPT_ADDRESS=LOOPBACK_ADDRESS, e.g. 192.168.0.234=127.0.0.3"
            )
        mapping[source] = _loopback(destination, f"--map {item}:")
    return mapping


def _prepare_flash(path: Path, flash_dir: str | None) -> tuple[Path, bool, str]:
    """The folder that is /flash, whether it is temporary, and the name tracebacks use for main.py."""
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder; give a .py script or a project folder")
    if path.is_file() and path.suffix != ".py":
        raise UsageError(f"{path}: not a .py script; give a .py file or a folder with boot.py/main.py")
    if path.is_dir() and not (path / "main.py").is_file() and not (path / "boot.py").is_file():
        raise UsageError(f"{path}: this folder has neither main.py nor boot.py; it is not a board project")
    temporary = flash_dir is None
    flash = Path(tempfile.mkdtemp(prefix="firmware-sim-flash-")) if temporary else Path(flash_dir)
    flash.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        shutil.copyfile(path, flash / "main.py")
        return flash, temporary, path.name
    if path.resolve() != flash.resolve():
        shutil.copytree(path, flash, dirs_exist_ok=True)
    return flash, temporary, "main.py"


def cmd_run(args: argparse.Namespace) -> int:
    if args.port:
        from .serial.commands import run_on_port

        return run_on_port(args)
    mapping = _parse_map(args.map)
    ip = _loopback(args.ip, "--ip") if args.ip else _free_board_ip()
    if args.time_scale <= 0:
        raise UsageError(f"--time-scale {args.time_scale}: must be above 0 (e.g. 10 runs sleeps 10x faster)")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout}: must be above 0 seconds")
    flash, temporary, display = _prepare_flash(Path(args.path), args.flash)
    state = BoardState(
        kind=args.board,
        flash=str(flash),
        display_name=display,
        ip=ip,
        mapping=mapping,
        firmware=args.firmware,
        time_scale=args.time_scale,
        deadline=None if args.timeout is None else time.monotonic() + args.timeout,
        flash_is_temporary=temporary,
    )
    print(
        f"firmware-sim: {KINDS[args.board].platform} at {ip}, firmware {args.firmware}, /flash in {flash}",
        file=sys.stderr,
        flush=True,
    )
    from .runtime.boot import boot

    return boot(state)


# -- several boards ------------------------------------------------------------------------------


def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file; give the path of a boards file (see firmware-sim up --help)"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(
            f"{path}: not valid TOML ({err}); see firmware-sim up --help for the format"
        ) from None


def _board_command(
    entry: dict, base: Path, args: argparse.Namespace, ips: dict[str, str]
) -> tuple[str, list[str], float]:
    """The ``firmware-sim run`` command line of one board of the file; ``ips`` maps names to addresses."""
    known = {"name", "path", "board", "ip", "firmware", "map", "delay", "flash", "time_scale"}
    name = str(entry["name"])
    unknown = set(entry) - known
    if unknown:
        raise UsageError(
            f"board '{name}': unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    if "path" not in entry:
        raise UsageError(f"board '{name}': no path; add path = \"main.py\" (a script or a project folder)")
    command = [sys.executable, "-m", "firmware_sim", "run", "--board", str(entry.get("board", "lopy4"))]
    command += ["--ip", ips[name]]
    if "firmware" in entry:
        command += ["--firmware", str(entry["firmware"])]
    for source, destination in dict(entry.get("map", {})).items():
        command += ["--map", f"{source}={ips.get(destination, destination)}"]  # a board's name: its address
    if "flash" in entry:
        command += ["--flash", str(base / entry["flash"])]
    scale = entry.get("time_scale", args.time_scale)
    command += ["--time-scale", str(scale)]
    if args.timeout is not None:
        command += ["--timeout", str(args.timeout)]
    command.append(str(base / entry["path"]))
    return name, command, float(entry.get("delay", 0))


def cmd_up(args: argparse.Namespace) -> int:
    path = Path(args.file)
    boards = _load_toml(path).get("board")
    if not boards:
        raise UsageError(f"{path}: no [[board]] tables; see firmware-sim up --help for the format")
    ips: dict[str, str] = {}
    for i, entry in enumerate(boards):
        entry.setdefault("name", f"board{i + 1}")
        name = str(entry["name"])
        if name in ips:
            raise UsageError(f"{path}: two boards are named '{name}'; give each board its own name")
        if "ip" in entry:
            ips[name] = _loopback(str(entry["ip"]), f"board '{name}': ip")
    for entry in boards:
        ips.setdefault(str(entry["name"]), _free_board_ip(set(ips.values())))
    commands = [_board_command(entry, path.parent, args, ips) for entry in boards]
    width = max(len(name) for name, _, _ in commands)
    lock = threading.Lock()
    procs: list[subprocess.Popen] = []
    pumps = []

    def pump(name: str, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with lock:
                sys.stdout.write(f"[{name:<{width}}] {line}")
                sys.stdout.flush()

    try:
        for name, command, delay in commands:
            time.sleep(delay)
            proc = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            procs.append(proc)
            thread = threading.Thread(target=pump, args=(name, proc), daemon=True)
            thread.start()
            pumps.append(thread)
        while any(p.poll() is None for p in procs):
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:
                continue  # the boards got the Ctrl-C too; a second one stops them
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        for thread in pumps:
            thread.join(2)
    return max((p.returncode or 0) for p in procs) if procs else 0


# -- the parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firmware-sim",
        description="Run Pycom MicroPython firmware scripts on a PC: simulated LoPy4/FiPy/WiPy boards "
        "with real networking on loopback.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="boot a script or project folder on a simulated board",
        description="Boot a simulated Pycom board: boot.py, then main.py, as the firmware does. The "
        "board's sockets bind to its own loopback address; its network.Coap, WLAN, LTE talk over real "
        "UDP on loopback.",
        epilog=RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("path", metavar="PATH", help="a .py script (run as main.py) or a folder used as /flash")
    run.add_argument(
        "--port",
        metavar="PORT",
        help="run the script on the board at PORT (a device path, auto, or socket://host:port) instead of "
        "a simulated board; it is not copied, its output streams live",
    )
    run.add_argument(
        "--board",
        choices=sorted(KINDS),
        default="lopy4",
        help="board kind: decides the modules it has (LTE on fipy/gpy) (default: lopy4)",
    )
    run.add_argument(
        "--firmware",
        choices=sorted(profiles.PROFILES),
        default="docs",
        help="firmware behaviour: 'docs' does what the documentation says and warns where "
        "versions differ; a version number reproduces that version, bugs included "
        "(default: docs)",
    )
    run.add_argument(
        "--ip",
        metavar="ADDR",
        help="the board's own loopback address: WLAN.ifconfig()[0] and where it binds "
        "(default: a free 127.0.0.x)",
    )
    run.add_argument(
        "--map",
        metavar="ADDR=ADDR",
        action="append",
        default=[],
        help="deliver what the script sends to the first address to the second (loopback) "
        "one; repeatable. Unmapped addresses outside loopback are refused",
    )
    run.add_argument(
        "--flash",
        metavar="DIR",
        help="keep the board's flash (files it writes, nvs) in DIR across runs (default: a temporary folder)",
    )
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        help="stop the board after this many seconds; exit 0 if it was running fine",
    )
    run.add_argument(
        "--time-scale",
        metavar="N",
        type=float,
        default=1.0,
        help="board time runs N times faster: sleeps, ticks_ms, time() and timers (default 1)",
    )
    run.set_defaults(handler=cmd_run)

    up = sub.add_parser(
        "up",
        help="start several boards described in a TOML file",
        description="Start a described set of boards at once (e.g. a CoAP server board and client boards).",
        epilog=UP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("file", metavar="FILE.toml", help="the boards file")
    up.add_argument(
        "--timeout", metavar="SECONDS", type=float, help="stop every board after this many seconds"
    )
    up.add_argument(
        "--time-scale", metavar="N", type=float, default=1.0, help="board time speed-up for all boards"
    )
    up.set_defaults(handler=cmd_up)

    from .virtual import relay

    board = sub.add_parser(
        "board",
        help="a virtual Pycom board on a pseudo-terminal or TCP port, for mpremote and the serial runner",
        description="A simulated Pycom board on a serial line (a pseudo-terminal or a loopback TCP port) "
        "that mpremote, pyboard.py and the firmware-sim serial runner accept. The first output line is "
        "the port to connect to, e.g.: firmware-sim board  ->  /dev/pts/7, then "
        "firmware-sim exec --port /dev/pts/7 'print(1)' or mpremote connect /dev/pts/7 fs ls",
    )
    relay.add_arguments(board)
    board.set_defaults(handler=_cmd_board)

    from .serial.commands import add_commands

    add_commands(sub)
    return parser


def _cmd_board(args: argparse.Namespace) -> int:
    from .virtual import relay

    try:
        return relay.run(args)
    except relay.UsageError as err:
        raise UsageError(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except UsageError as err:
        print(f"firmware-sim: error: {err}", file=sys.stderr)
        return 2
