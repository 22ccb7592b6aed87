"""``firmware-sim up FILE.toml``: start several boards together, each a ``firmware-sim run`` process,
their output lines prefixed with the board's name.

``up`` imports the simulator once (every board module, :mod:`firmware_sim.modules.preload`) and forks
each board from itself (Linux), so a board starts in milliseconds and shares that code with the others:
200 CoAP boards are up in about 2 s on 2 cores at under 8 MB of unshared memory each
(``bench/many_boards.py``). Elsewhere each board is a new process.

The file is checked whole before any board starts: every mistake is one line naming the file, the board
and the key. However ``up`` ends (the boards finish, ``--timeout``, Ctrl-C, SIGTERM, SIGHUP, an error,
even SIGKILL: the boards get SIGTERM when their parent dies), every board stops and removes its
temporary flash.
"""

from __future__ import annotations

import argparse
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..children import Children, Forked, can_fork
from . import gateway, options
from .lora_options import check_lora_medium, lora_link_value
from .usage import UsageError

KEYS = {"name", "path", "delay", *options.BY_KEY}

EXAMPLES = """\
The file lists boards to start together; every output line is prefixed with the board's name:

  [[board]]                  # one such table per board (two brackets)
  name = "sensor"            # prefix of its output lines; names are unique (default: board1, board2 ...)
  path = "sensor/"           # a script or a project folder, relative to this file (required)
  board = "lopy4"            # optional: lopy4 (default), lopy, fipy, gpy, sipy, wipy
  ip = "127.0.0.2"           # optional: default a free 127.0.0.x
  firmware = "docs"          # optional: docs (default), 1.20.2.r6, 1.20.3.b2, 1.20.3.b4
  map = { "192.168.0.10" = "sensor", "api.example.com" = "127.0.0.9" }
                             # optional: an address or host name the script uses = another board's
                             # name or a loopback address
  flash = "sensor-flash/"    # optional: keep this board's flash (files, nvs) in this folder, relative
                             # to this file (default: a temporary folder, removed at the end)
  time_scale = 10            # optional: this board's time runs 10x faster (default: up's --time-scale)
  shield = "pysense"         # optional: its expansion board: none (default), pysense, pysense2, pytrack,
                             # pytrack2
  environment = "env.json"   # optional: what its sensors read, relative to this file (see the README)
  delay = 0.5                # optional: seconds to wait before starting this board
  lora_medium = "lab"        # optional: the LoRa medium of this board (default: the file's, below)
  lora_link = { gateway = "120dB" }
                             # optional: path loss (or distance, "2km") from this board to another

LoRa: the boards of one file share one radio medium (what one LoRa board sends, the others hear), and
no other run hears them unless it names the same medium:

  lora_medium = "lab"        # optional, top level: the file's medium (default: one of its own)

  [[link]]                   # optional, one per pair: the radio path between two boards
  boards = ["node", "gateway"]
  path_loss = 120            # dB (RSSI = tx power - path loss), or:
  distance = 2000            # metres ("2km" too): free-space loss at the frequency
                             # (pairs without a link are 10 m apart)

example:
  firmware-sim up --timeout 5 examples/two_boards/boards.toml
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser(
        "up",
        help="start several boards described in a TOML file",
        description="Start a described set of boards at once (e.g. a CoAP server board and client boards).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("file", metavar="FILE.toml", help="the boards file")
    up.add_argument(
        "--timeout", metavar="SECONDS", type=float, help="stop every board after this many seconds"
    )
    up.add_argument(
        "--time-scale", metavar="N", help="board time speed-up for every board without its own time_scale"
    )
    up.set_defaults(handler=cmd_up)


@dataclass
class PlannedBoard:
    name: str
    command: list[str]
    delay: float


def load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (FileNotFoundError, IsADirectoryError):
        raise UsageError(
            f"{path}: no such file; give the path of a boards file (see firmware-sim up --help)"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(
            f"{path}: not valid TOML ({err}); see firmware-sim up --help for the format"
        ) from None


def board_tables(path: Path, data: dict) -> list[dict]:
    """The file's ``[[board]]`` tables, or UsageError saying what the file has instead."""
    unknown = sorted(set(data) - {"board", "lora_medium", "link", "gateway"})
    if unknown:
        raise UsageError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}; the file lists [[board]] tables "
            "(and lora_medium, [[link]]: see firmware-sim up --help)"
        )
    boards = data.get("board")
    if boards is None or boards == []:
        raise UsageError(f"{path}: no [[board]] tables; see firmware-sim up --help for the format")
    if isinstance(boards, dict):
        raise UsageError(f"{path}: [board] is one table; write [[board]] (two brackets) before each board")
    if not isinstance(boards, list) or not all(isinstance(entry, dict) for entry in boards):
        raise UsageError(
            f"{path}: 'board' must be [[board]] tables, one per board, not {boards!r} "
            "(see firmware-sim up --help)"
        )
    return boards


def _delay(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise UsageError(f"{where}: key 'delay': {value!r} is not a number of seconds (e.g. delay = 0.5)")
    return float(value)


def plan(path: Path, args: argparse.Namespace) -> list[PlannedBoard]:
    """Check the whole file and return each board's ``firmware-sim run`` command line; free addresses
    are reserved for this process until it ends."""
    data = load_toml(path)
    boards = board_tables(path, data)
    names: list[str] = []
    for index, entry in enumerate(boards, 1):
        name = entry.get("name", f"board{index}")
        if not isinstance(name, str) or not name.strip():
            raise UsageError(
                f"{path}: board {index}: key 'name': {name!r} is not a name (e.g. name = \"sensor\")"
            )
        if name in names:
            raise UsageError(f"{path}: two boards are named '{name}'; give each board its own name")
        names.append(name)
        where = f"{path}: board '{name}'"
        unknown = sorted(set(entry) - KEYS)
        if unknown:
            raise UsageError(
                f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}"
            )
        if "path" not in entry:
            raise UsageError(f'{where}: no path; add path = "main.py" (a script or a project folder)')
        if not isinstance(entry["path"], str):
            raise UsageError(
                f"{where}: key 'path': {entry['path']!r} is not a path (e.g. path = \"sensor/\")"
            )
    gateways = _gateway_tables(path, data, names)
    scale = _scale(args.time_scale)
    ips: dict[str, str] = {}
    for name, entry in zip(names, boards, strict=True):
        if "ip" in entry:
            ips[name] = options.from_toml({"ip": entry["ip"]}, f"{path}: board '{name}'", {}).reserve_ip()
    for name, table in gateways.items():
        if "ip" in table:
            ips[name] = options.from_toml({"ip": table["ip"]}, f"{path}: gateway '{name}'", {}).reserve_ip()
    for name in [*names, *gateways]:
        if name not in ips:
            ips[name] = options.BoardOptions().reserve_ip(taken=tuple(ips.values()))
    medium = _file_medium(path, data)
    links = lora_links(path, data.get("link", []), ips)
    planned = []
    for name, table in gateways.items():  # first: the boards' first frames find them listening
        where = f"{path}: gateway '{name}'"
        command = gateway.gateway_command(
            table,
            where,
            base=path.parent,
            ip=ips[name],
            medium=medium,
            links=links.get(ips[name], {}),
            scale=scale,
            timeout=args.timeout,
        )
        planned.append(PlannedBoard(name, command, _delay(table.get("delay", 0), where)))
    for name, entry in zip(names, boards, strict=True):
        where = f"{path}: board '{name}'"
        board = options.from_toml(entry, where, ips)
        board.lora_link = {**links.get(ips[name], {}), **board.lora_link}
        board.ip = ips[name]
        check_run = Path(path.parent, entry["path"])
        if not check_run.exists():
            raise UsageError(
                f"{where}: key 'path': {check_run} does not exist; give a script or project folder"
            )
        command = [sys.executable, "-m", "firmware_sim", "run", "--board", board.board, "--ip", board.ip]
        command += ["--firmware", board.firmware]
        for source, destination in board.map.items():
            command += ["--map", f"{source}={destination}"]
        if board.flash is not None:
            command += ["--flash", str(path.parent / board.flash)]
        command += ["--time-scale", repr(board.time_scale if "time_scale" in entry else scale)]
        command += ["--shield", board.shield]
        if "environment" in entry:
            command += ["--environment", str((path.parent / entry["environment"]).resolve())]
        command += ["--lora-medium", board.lora_medium or medium]
        for peer, (kind, amount) in board.lora_link.items():
            command += ["--lora-link", f"{peer}={amount!r}{'dB' if kind == 'loss' else 'm'}"]
        if args.timeout is not None:
            command += ["--timeout", repr(args.timeout)]
        command.append(str(check_run))
        planned.append(PlannedBoard(name, command, _delay(entry.get("delay", 0), where)))
    return planned


def _gateway_tables(path: Path, data: dict, board_names: list[str]) -> dict[str, dict]:
    """The file's ``[[gateway]]`` tables by name (names unique among boards and gateways)."""
    tables = data.get("gateway", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UsageError(f"{path}: 'gateway' must be [[gateway]] tables (two brackets), one per gateway")
    found: dict[str, dict] = {}
    for index, table in enumerate(tables, 1):
        name = table.get("name", f"gateway{index}")
        if not isinstance(name, str) or not name.strip() or name in found or name in board_names:
            raise UsageError(f"{path}: gateway {index}: key 'name': {name!r} is not a name of its own")
        found[name] = table
    return found


def _file_medium(path: Path, data: dict) -> str:
    """The file's LoRa medium: its ``lora_medium``, else one of this run's own."""
    if "lora_medium" not in data:
        return f"up-{os.getpid()}-{path.stem}"
    try:
        return check_lora_medium(data["lora_medium"])
    except ValueError as err:
        raise UsageError(f"{path}: key 'lora_medium': {err}") from None


def lora_links(path: Path, tables: object, ips: dict[str, str]) -> dict[str, dict[str, tuple[str, float]]]:
    """The ``[[link]]`` tables as each board's ``--lora-link`` entries (by address, both directions)."""
    if isinstance(tables, dict) or not isinstance(tables, list):
        raise UsageError(f"{path}: 'link' must be [[link]] tables (two brackets), one per pair of boards")
    links: dict[str, dict[str, tuple[str, float]]] = {}
    for index, table in enumerate(tables, 1):
        where = f"{path}: link {index}"
        if not isinstance(table, dict):
            raise UsageError(f"{where}: not a table; write [[link]] then boards = [...] and path_loss = ...")
        unknown = sorted(set(table) - {"boards", "path_loss", "distance"})
        if unknown:
            known = "boards, distance, path_loss"
            raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {known}")
        pair = table.get("boards")
        if not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]:
            example = 'boards = ["node", "gateway"]'
            raise UsageError(f"{where}: key 'boards': give two board names, e.g. {example}")
        for name in pair:
            if name not in ips:
                known = ", ".join(sorted(ips))
                raise UsageError(f"{where}: key 'boards': no board is named {name!r} (boards: {known})")
        if ("path_loss" in table) == ("distance" in table):
            raise UsageError(f"{where}: give either path_loss (dB) or distance (metres), not both or neither")
        key = "path_loss" if "path_loss" in table else "distance"
        raw = table[key]
        try:
            if key == "path_loss":
                if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                    raise ValueError(f"{raw!r} is not a number of dB (e.g. path_loss = 120)")
                kind, amount = lora_link_value(f"{raw}dB")
            else:
                numeric = isinstance(raw, (int, float)) and not isinstance(raw, bool)
                kind, amount = lora_link_value(f"{raw}m" if numeric else raw)
                if kind != "distance":
                    raise ValueError(f'{raw!r} is not a distance (e.g. distance = 2000 or "2km")')
        except ValueError as err:
            raise UsageError(f"{where}: key '{key}': {err}") from None
        a, b = ips[pair[0]], ips[pair[1]]
        links.setdefault(a, {})[b] = (kind, amount)
        links.setdefault(b, {})[a] = (kind, amount)
    return links


def _scale(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return options.check_scale(value)
    except ValueError as err:
        raise UsageError(f"--time-scale {value}: {err}") from None


def cmd_up(args: argparse.Namespace) -> int:
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be above 0 seconds")
    boards = plan(Path(args.file), args)
    forking = can_fork()
    if forking:
        from ..modules.preload import preload
        from . import run as _run  # noqa: F401  (the command every board runs: shared too)

        preload()
    lines = PrefixedLines(max(len(board.name) for board in boards))
    with Children(signals=(signal.SIGTERM, signal.SIGHUP)) as children:
        with selectors.DefaultSelector() as outputs:
            _start_and_relay(children, outputs, boards, forking, lines)
        children.wait_all(interrupts_pass=True)
    return children.status()


def _start_and_relay(
    children: Children,
    outputs: selectors.BaseSelector,
    boards: list[PlannedBoard],
    forking: bool,
    lines: PrefixedLines,
) -> None:
    """Start each board after its delay and relay every board's output, in this one thread (a process
    that forks must have no other thread), until all boards have started and closed their output."""
    due = time.monotonic()
    waiting = list(boards)
    while waiting or outputs.get_map():
        now = time.monotonic()
        while waiting and due + waiting[0].delay <= now:
            board = waiting.pop(0)
            due += board.delay
            proc = start(children, board, forking)
            outputs.register(proc.stdout.fileno(), selectors.EVENT_READ, board.name)
        timeout = max(due + waiting[0].delay - now, 0.0) if waiting else None
        try:
            ready = outputs.select(timeout)
        except KeyboardInterrupt:  # the boards got it too (same process group): they decide
            continue
        for key, _ in ready:
            chunk = os.read(key.fd, 65536)
            if not chunk:
                outputs.unregister(key.fd)
                os.close(key.fd)
            lines.feed(key.data, chunk)


def start(children: Children, board: PlannedBoard, forking: bool) -> Forked | subprocess.Popen:
    """Start one planned board (or gateway): a fork of this process running its command, where forking
    is possible, else the command as a new process. Its output and errors come on its ``stdout``."""
    if forking and board.command[1:3] == ["-m", "firmware_sim"]:
        from . import main

        argv = board.command[3:]
        return children.fork(lambda: main(argv))
    proc = children.start(
        board.command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    return proc


class PrefixedLines:
    """Each board's output on this process's stdout, line by line, prefixed with the board's name."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.partial: dict[str, bytes] = {}

    def feed(self, name: str, chunk: bytes) -> None:
        """``chunk`` of ``name``'s output; an empty chunk: it ended (an unfinished last line goes out)."""
        *complete, unfinished = (self.partial.pop(name, b"") + chunk).split(b"\n")
        shown = [f"{self._prefix(name)}{self._text(line)}\n" for line in complete]
        if unfinished and not chunk:
            shown.append(f"{self._prefix(name)}{self._text(unfinished)}")
        elif unfinished:
            self.partial[name] = unfinished
        if shown:
            sys.stdout.write("".join(shown))
            sys.stdout.flush()

    def _prefix(self, name: str) -> str:
        return f"[{name:<{self.width}}] "

    @staticmethod
    def _text(line: bytes) -> str:
        return line.removesuffix(b"\r").decode("utf-8", "replace")
