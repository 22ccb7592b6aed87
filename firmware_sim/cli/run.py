"""``firmware-sim run``: boot a script or a project folder on a simulated board in this process (or,
with ``--port``, run a script on a real board without copying it)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import signal
import stat
import sys
from pathlib import Path

from ..children import stop_on
from ..runtime.flash import MAX_LINKS
from . import expect, options
from .usage import UsageError

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
  firmware-sim run --timeout 10 --expect-text "server up" --fail-text "sensor error" myproject/
      CI check (Wokwi CI's exit codes): 0 as soon as the board prints "server up" (the board is
      stopped then), 1 if it prints "sensor error" first, 42 if 10 s pass without "server up"

exit status: 0 when the board was still running without error at --timeout (or finished),
1 after an uncaught exception (a MicroPython-style traceback is printed) or a reboot loop, or
(--strict) when `firmware-sim check` finds what the board cannot run,
2 for a usage error. With --expect-text/--fail-text: 0 when the expected text appeared, 1 when a
fail text appeared first, 42 when --timeout passed (or the board finished) without the expected text.
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
        help="stop the board after this many seconds; exit 0 if it was running fine (42 if an "
        "--expect-text was not seen)",
    )
    expect.add_options(run)
    add_allow_lan(run)
    run.add_argument(
        "--strict",
        action="store_true",
        help="run `firmware-sim check` on PATH first; stop with status 1 if it finds anything",
    )
    run.set_defaults(handler=cmd_run)


def check_project(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder; give a .py script or a project folder")
    if path.is_file() and path.suffix != ".py":
        raise UsageError(f"{path}: not a .py script; give a .py file or a folder with boot.py/main.py")
    if path.is_dir():
        root = board_files(path)[0]
        if not (root / "main.py").is_file() and not (root / "boot.py").is_file():
            raise UsageError(f"{root}: this folder has neither main.py nor boot.py; not a board project")


def board_files(path: Path) -> tuple[Path, list[tuple[Path, str]] | None]:
    """The folder of project ``path`` that becomes /flash and, when a ``pymakr.conf``/``pymakr.json``
    selects them (``serial/pymakr.py``), the files that go there; None: the whole folder."""
    from ..serial.pymakr import PymakrError, project_files, read_rules

    try:
        return project_files(path) if read_rules(path) else (path, None)
    except PymakrError as err:
        raise UsageError(str(err)) from None


def copy_project(path: Path, flash: Path) -> str:
    """Put the script or project on the flash; the name tracebacks use for main.py.

    A symlink on the flash where a file of the project goes is replaced by that file, never written
    through: the flash is the board's storage, whose files are its own (a board has no links), so the
    script becomes the board's ``main.py`` while the file the link pointed to is left as it was. Each
    replaced link is named on stderr."""
    try:
        if path.is_file():
            replaced = copy_in(path, flash, "main.py")
        elif path.resolve() == flash.resolve():
            replaced = []
        else:
            root, files = board_files(path)
            replaced = copy_in(root, flash) if files is None else copy_files(files, flash)
    except OSError as err:
        raise UsageError(f"{path}: could not put it on the flash in {flash}: {err.strerror or err}") from None
    for name in dict.fromkeys(replaced):
        print(
            f"firmware-sim: {flash / name} was a symlink: replaced by the project's file "
            "(what it pointed to is left as it was)",
            file=sys.stderr,
        )
    return path.name if path.is_file() else "main.py"


def copy_in(source: Path, root: Path, name: str | None = None) -> list[str]:
    """Copy host file ``source`` to ``name`` in the flash folder ``root``, or (``name`` None) the contents
    of host folder ``source`` into it. Nothing is written through a symlink: one in the way is replaced
    by the board's own file or folder (its target is left as it was). Returns the replaced links, as
    paths relative to ``root``."""
    replaced: list[str] = []
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        if name is None:
            _copy_tree(source, root_fd, "", replaced, os.fstat(root_fd))
        else:
            _copy_file(source, root_fd, name, name, replaced)
    finally:
        os.close(root_fd)
    return replaced


def copy_files(files: list[tuple[Path, str]], root: Path) -> list[str]:
    """Copy each host file to its POSIX path (relative to the flash folder ``root``) as :func:`copy_in`
    does: folders made as needed, no write through a symlink, a file inside ``root`` itself skipped."""
    replaced: list[str] = []
    inside = root.resolve()
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        for source, rel in files:
            base = source.parents[rel.count("/")].resolve()  # the folder that becomes /flash
            if inside != base and inside.is_relative_to(base) and source.resolve().is_relative_to(inside):
                continue  # the flash folder inside the project: never copied into itself
            *folders, name = rel.split("/")
            folder_fd = os.dup(root_fd)
            try:
                for depth, part in enumerate(folders, 1):
                    sub = _own_folder(folder_fd, part, "/".join(folders[:depth]), replaced)
                    os.close(folder_fd)
                    folder_fd = sub
                _copy_file(source, folder_fd, name, rel, replaced)
            finally:
                os.close(folder_fd)
    finally:
        os.close(root_fd)
    return replaced


def _copy_tree(source: Path, folder_fd: int, where: str, replaced: list[str], flash: os.stat_result) -> None:
    """Copy the contents of host folder ``source`` into ``folder_fd`` (``flash``: the flash folder's stat)."""
    for entry in sorted(source.iterdir()):
        shown = f"{where}{entry.name}"
        if entry.is_dir():
            found = entry.stat()
            if (found.st_dev, found.st_ino) == (flash.st_dev, flash.st_ino):
                continue  # the flash folder itself, inside the project: never copied into itself
            sub = _own_folder(folder_fd, entry.name, shown, replaced)
            try:
                _copy_tree(entry, sub, shown + "/", replaced, flash)
            finally:
                os.close(sub)
        else:
            _copy_file(entry, folder_fd, entry.name, shown, replaced)


def _own_folder(parent_fd: int, name: str, shown: str, replaced: list[str]) -> int:
    """A descriptor of folder ``name`` in ``parent_fd``, made if missing; a symlink there is replaced."""
    for _ in range(MAX_LINKS):  # a host swapping links as fast as we replace them gets an error
        try:
            return os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, dir_fd=parent_fd)
        except NotADirectoryError:
            if not stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode):
                raise
            os.unlink(name, dir_fd=parent_fd)
            replaced.append(shown)
    raise OSError(errno.ELOOP, f"{shown}: replaced by a symlink again and again while copying")


def _copy_file(source: Path, parent_fd: int, name: str, shown: str, replaced: list[str]) -> None:
    """Write ``source``'s bytes (and times) to file ``name`` in ``parent_fd``; a symlink there is replaced.
    A file that is ``source`` itself (``run --flash DIR DIR/main.py``) is left as it is."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
    for _ in range(MAX_LINKS):
        try:
            fd = os.open(name, flags, 0o666, dir_fd=parent_fd)
        except OSError as err:
            if err.errno != errno.ELOOP:
                raise
            os.unlink(name, dir_fd=parent_fd)
            replaced.append(shown)
            continue
        with open(fd, "wb") as out, source.open("rb") as data:
            if os.path.sameopenfile(out.fileno(), data.fileno()):
                return
            out.truncate()
            shutil.copyfileobj(data, out)
            out.flush()
            times = os.fstat(data.fileno())
            os.utime(out.fileno(), ns=(times.st_atime_ns, times.st_mtime_ns))
        return
    raise OSError(errno.ELOOP, f"{shown}: replaced by a symlink again and again while copying")


def cmd_run(args: argparse.Namespace) -> int:
    watch = expect.Watch.from_args(args)
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
    if args.strict:
        from .check import run_check

        if run_check(path):
            return 1  # what the board cannot run: named above, the board is not started
    board.reserve_ip()
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
            return expect.boot_watching(state, watch)  # never returns: the board ends the process
        except BaseException:
            if temporary:
                shutil.rmtree(flash, ignore_errors=True)
            raise
