"""``firmware-sim multitest FILE.py``: a MicroPython ``run-multitests.py``-style test on simulated boards.

The file defines ``instance0()``, ``instance1()`` ...; each instance runs as main.py of its own
``firmware-sim run`` board, at its own loopback address, with a ``multitest`` helper appended (the
board-side text is :data:`BOARD_HELPER`). The helper talks to this runner by lines on the board's
stdout and stdin, as run-multitests.py does over the REPL: ``NEXT`` (start the next instance),
``BROADCAST msg`` (copied to every other board's stdin, where ``multitest.wait(msg)`` reads it),
``SET name = repr`` (a global for the instances started after), ``SKIP``. Every other line is the
instance's output; the runner prints each instance's lines under ``--- instanceN ---`` and compares the
whole with the expected file.
"""

from __future__ import annotations

import argparse
import difflib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..children import Children
from ..serial.commands import add_allow_lan
from . import options
from .multiport import PortInstance
from .usage import UsageError

INSTANCE_DEF = re.compile(r"^def instance([0-9]+)\(\):", re.MULTILINE)
DEFAULT_TIMEOUT = 10.0  # run-multitests.py's INSTANCE_READ_TIMEOUT_S

# Appended to the test file on each board (MicroPython 1.11 syntax). ``skip`` does not raise
# SystemExit: under ``firmware-sim run`` that is a soft reset, which would run the file again; the
# runner stops every board when it reads SKIP.
BOARD_HELPER = """
import sys
class multitest:
    @staticmethod
    def flush():
        try:
            sys.stdout.flush()
        except AttributeError:
            pass
    @staticmethod
    def skip():
        print("SKIP")
        multitest.flush()
        while True:
            sys.stdin.readline()
    @staticmethod
    def next():
        print("NEXT")
        multitest.flush()
    @staticmethod
    def broadcast(msg):
        print("BROADCAST", msg)
        multitest.flush()
    @staticmethod
    def wait(msg):
        want = "BROADCAST " + msg
        while True:
            line = sys.stdin.readline()
            if not line:
                raise OSError("multitest.wait: the runner closed the line")
            if line.rstrip() == want:
                return
    @staticmethod
    def globals(**gs):
        for g in gs:
            print("SET {{}} = {{!r}}".format(g, gs[g]))
        multitest.flush()
    @staticmethod
    def get_network_ip():
        try:
            import network
            return network.WLAN().ifconfig()[0]
        except Exception:
            return BOARD_IP
    @staticmethod
    def output_metric(data):
        print("OUTPUT_METRIC", data)
        multitest.flush()

{globals}
instance{index}()
multitest.flush()
"""

EXAMPLES = """\
The test file (e.g. udp_echo.py) defines one function per board; each runs on its own simulated board,
at its own loopback address, and they meet over real UDP/TCP:

  import usocket as socket
  PORT = 8000

  def instance0():                              # the first board: a UDP server
      multitest.globals(IP=multitest.get_network_ip())   # IP is a global on the boards started after
      s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
      multitest.next()                          # ready: start instance1 now
      print(s.recv(64))

  def instance1():                              # the second board: the client
      multitest.next()
      s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      s.sendto(b"hello", socket.getaddrinfo(IP, PORT)[0][-1])

The helper every instance gets: multitest.next(), multitest.broadcast(msg) / multitest.wait(msg)
(wait until another instance broadcasts msg), multitest.globals(NAME=value), multitest.get_network_ip()
(the board's own address), multitest.skip(), multitest.output_metric(data).

Output: each instance's lines under "--- instance0 ---", "--- instance1 ---" ..., as MicroPython's
tests/run-multitests.py prints them; an instance silent for --timeout seconds gets a TIMEOUT line.

examples:
  firmware-sim multitest udp_echo.py
      compare with udp_echo.py.exp beside it (if there is none, print the output)
  firmware-sim multitest --exp expected.txt --timeout 20 udp_echo.py

exit status: 0 when the output equals the expected file (or, without one, no instance timed out;
or the test skipped itself), 1 otherwise (a unified diff is printed), 2 for a usage error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "multitest",
        help="run a MicroPython multitest file (instance0, instance1 ...) on simulated boards",
        description="Run a MicroPython run-multitests.py-style test: each instanceN() on its own "
        "simulated board, exchanging real datagrams on loopback; compare their output with FILE.py.exp.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE.py", help="the test file defining instance0(), instance1() ...")
    parser.add_argument(
        "--exp", metavar="FILE.exp", help="the expected output (default: FILE.py.exp beside FILE.py, if any)"
    )
    parser.add_argument(
        "--instances",
        metavar="N",
        type=int,
        help="how many boards (default: one per instanceN() the file defines)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"an instance silent this long is stopped with a TIMEOUT line (default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--port",
        metavar="PORT",
        action="append",
        help="run the next instance on the board at PORT (a device path, auto, or socket://host:port of "
        "a `firmware-sim board`) instead of a simulated board; repeatable: the first --port is "
        "instance0's. Each is soft-reset first",
    )
    add_allow_lan(parser)
    parser.add_argument(
        "--board", metavar="KIND", help="board kind of every simulated instance (default: lopy4)"
    )
    parser.add_argument("--firmware", metavar="VERSION", help="firmware of every instance (default: docs)")
    parser.set_defaults(handler=cmd_multitest)


@dataclass
class Instance:
    """One board of the test and what the runner knows of it."""

    index: int
    ip: str | None  # None: a board at a port, whose address the runner does not know
    output: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    on_port: PortInstance | None = None
    started: bool = False  # past its NEXT (or finished): later instances may start
    finished: bool = False
    pending: list[str] = field(default_factory=list)  # broadcasts sent before it started
    last_line: float = 0.0

    def write(self, line: str) -> None:
        if self.on_port is not None:
            self.on_port.write(line)
            return
        if self.proc is None:
            self.pending.append(line)
            return
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the board has ended


def count_instances(text: str) -> int:
    """How many boards the file needs, as run-multitests.py counts them (highest ``instanceN`` + 1)."""
    return max((int(n) + 1 for n in INSTANCE_DEF.findall(text)), default=0)


def board_script(test: str, index: int, ip: str | None, injected: list[str]) -> str:
    """The file as instance ``index`` runs it: the test, then the helper, the globals, the call."""
    lines = [f"BOARD_IP = {ip!r}", *injected]
    return test.rstrip("\n") + "\n" + BOARD_HELPER.format(globals="\n".join(lines), index=index)


def expected_text(args: argparse.Namespace, test_path: Path) -> str | None:
    """The expected output: ``--exp``, else FILE.py.exp beside the file, else None."""
    if args.exp is not None:
        path = Path(args.exp)
        if not path.is_file():
            raise UsageError(f"--exp {path}: no such file; give the expected output of {test_path}")
        return path.read_text()
    beside = test_path.with_name(test_path.name + ".exp")
    return beside.read_text() if beside.is_file() else None


def board_command(args: argparse.Namespace, ip: str, script: Path) -> list[str]:
    command = [sys.executable, "-m", "firmware_sim", "run", "--ip", ip]
    if args.board is not None:
        command += ["--board", args.board]
    if args.firmware is not None:
        command += ["--firmware", args.firmware]
    return [*command, str(script)]


def check_args(args: argparse.Namespace) -> tuple[Path, str, int]:
    path = Path(args.file)
    if not path.is_file() or path.suffix != ".py":
        raise UsageError(f"{path}: no such .py file; give a test file defining instance0(), instance1() ...")
    test = path.read_text()
    if args.instances is not None and args.instances < 1:
        raise UsageError(f"--instances {args.instances}: give 1 or more boards")
    count = count_instances(test) if args.instances is None else args.instances
    if count < 1:
        raise UsageError(
            f"{path}: defines no instance0(); a multitest file defines instance0(), instance1() ..."
        )
    if not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be above 0 seconds")
    if args.port and len(args.port) > count:
        raise UsageError(
            f"{len(args.port)} --port options for {count} instance(s); give at most one per instance"
        )
    for key in ("board", "firmware"):
        value = getattr(args, key)
        if value is not None:
            try:
                options.BY_KEY[key].check(value)
            except ValueError as err:
                raise UsageError(f"--{key} {value}: {err}") from None
    return path, test, count


def cmd_multitest(args: argparse.Namespace) -> int:
    path, test, count = check_args(args)
    expected = expected_text(args, path)
    output, skipped = run_instances(args, path, test, count)
    if skipped:
        print(output, end="")
        print(f"firmware-sim: {path}: skipped (an instance called multitest.skip())", file=sys.stderr)
        return 0
    if expected is None:
        print(output, end="")
        return 1 if "\nTIMEOUT\n" in output else 0
    if output == expected:
        print(f"{path}: pass")
        return 0
    print(f"{path}: FAIL")
    exp_name = args.exp or f"{path}.exp"
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True), output.splitlines(keepends=True), exp_name, f"{path} (boards)"
    )
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
    return 1


def run_instances(args: argparse.Namespace, path: Path, test: str, count: int) -> tuple[str, bool]:
    """Run every instance to its end (or TIMEOUT, or SKIP); the output as run-multitests.py prints it."""
    ports = args.port or []
    ips: list[str] = []
    for _ in range(count - min(len(ports), count)):
        ips.append(options.BoardOptions().reserve_ip(taken=tuple(ips)))
    instances = [Instance(i, None if i < len(ports) else ips[i - len(ports)]) for i in range(count)]
    lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
    folder = Path(tempfile.mkdtemp(prefix="firmware-sim-multitest-"))
    injected: list[str] = []
    skipped = False
    try:
        with Children(signals=(signal.SIGTERM, signal.SIGHUP)) as children:

            def start(instance: Instance) -> None:
                if instance.ip is None:
                    instance.on_port = PortInstance(
                        instance.index, ports[instance.index], args.allow_lan, lines
                    )
                    instance.on_port.start(board_script(test, instance.index, None, injected))
                    instance.last_line = time.monotonic()
                    return
                script = folder / f"instance{instance.index}" / path.name
                script.parent.mkdir()
                script.write_text(board_script(test, instance.index, instance.ip, injected))
                instance.proc = children.start(
                    board_command(args, instance.ip, script),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
                instance.last_line = time.monotonic()
                for line in instance.pending:
                    instance.write(line)
                instance.pending.clear()
                children.thread(pump, instance.index, instance.proc, lines)

            next_index = 0
            while True:
                if next_index < count and all(i.started for i in instances[:next_index]):
                    start(instances[next_index])
                    next_index += 1
                    continue
                running = [i for i in instances if (i.proc or i.on_port) and not i.finished]
                if not running and next_index >= count:
                    break
                try:
                    index, line = lines.get(timeout=0.1)
                except queue.Empty:
                    silent = [i for i in running if time.monotonic() - i.last_line > args.timeout]
                    for instance in silent:  # as run-multitests.py: a TIMEOUT ends the whole test
                        instance.output.append("TIMEOUT")
                    if silent:
                        break
                    continue
                instance = instances[index]
                if instance.finished:
                    continue
                instance.last_line = time.monotonic()
                if line is None:
                    instance.finished = instance.started = True
                elif handle_line(instance, line, instances, injected):
                    skipped = True
                    break
            for instance in instances:
                if instance.on_port is not None:
                    instance.on_port.stop()
                    if instance.on_port.error:
                        instance.output.append(f"CRASH {instance.on_port.error}")
            children.terminate()
        if children.stopped is not None:
            raise children.stopped
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = "".join(f"--- instance{i.index} ---\n" + "".join(f"{o}\n" for o in i.output) for i in instances)
    return text, skipped


def handle_line(instance: Instance, line: str, instances: list[Instance], injected: list[str]) -> bool:
    """Act on one line of a board; True when the test skips itself."""
    if line.startswith("firmware-sim: "):
        print(f"[instance{instance.index}] {line}", file=sys.stderr)  # the simulator's, not the board's
    elif line == "SKIP":
        return True
    elif line == "NEXT" and not instance.started:
        instance.started = True
    elif line.startswith("SET ") and not instance.started:
        injected.append(line[4:])
    elif line.startswith("BROADCAST "):
        for other in instances:
            if other is not instance:
                other.write(line)
    else:
        instance.output.append(line)
    return False


def pump(index: int, proc: subprocess.Popen, lines: queue.Queue[tuple[int, str | None]]) -> None:
    """Queue each line the board prints, then None when its output ends."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put((index, line.rstrip("\r\n")))
    lines.put((index, None))
