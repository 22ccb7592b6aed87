"""Child processes that never outlive their parent: ``firmware-sim up``'s boards, the virtual board.

:func:`die_with_parent` (Linux ``PR_SET_PDEATHSIG``) makes a child get SIGTERM when its parent dies, even
by SIGKILL. :class:`Children` starts such children (a command, or with :meth:`Children.fork` a function
in a copy of this process, which shares the modules it has imported) and, however the block ends (they
finish, an exception, SIGTERM/SIGHUP turned into :class:`Stopped`), terminates those still running
(SIGTERM, then SIGKILL after a grace period) and joins the threads that read their output.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, NoReturn

PR_SET_PDEATHSIG = 1
TERMINATE_GRACE = 5.0  # seconds a child has to end after SIGTERM before SIGKILL


class Stopped(Exception):
    """The parent was asked to stop (SIGTERM, SIGHUP): end the children and exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def die_with_parent(parent: int | None = None, signum: int = signal.SIGTERM) -> None:
    """In a child: receive ``signum`` when the parent process dies (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
    if parent is not None and os.getppid() != parent:  # the parent died before the line above
        os.kill(os.getpid(), signum)


@contextlib.contextmanager
def stop_on(signals: tuple[int, ...]) -> Iterator[None]:
    """Within the block, ``signals`` raise :class:`Stopped` in the main thread (so ``finally`` runs). A
    signal the process was started ignoring (SIGHUP under ``nohup``) stays ignored."""

    def raise_stopped(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)

    wanted = [sig for sig in signals if signal.getsignal(sig) != signal.SIG_IGN]
    previous = {sig: signal.signal(sig, raise_stopped) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def can_fork() -> bool:
    """Whether :meth:`Children.fork` is available (Linux: a forked CPython is safe to go on running)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class Forked:
    """A child made by :meth:`Children.fork`, with the part of ``subprocess.Popen`` that
    :class:`Children` uses; ``stdout``: its output and errors (binary, unbuffered)."""

    def __init__(self, pid: int, stdout: io.FileIO) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its status is lost
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _in_child(run: Callable[[], int], output: int, parent: int, signals: tuple[int, ...]) -> NoReturn:
    """The forked child: output to the pipe, signals as a new process has them, ``run()``, exit."""
    status = 1
    try:
        die_with_parent(parent)
        for signum in signals:
            if signal.getsignal(signum) != signal.SIG_IGN:
                signal.signal(signum, signal.SIG_DFL)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        os.environ["PYTHONUNBUFFERED"] = "1"  # and for a process a reset re-executes into
        for name in ("stdout", "stderr"):  # new objects: the parent's may hold a lock copied mid-write
            old = getattr(sys, name)
            stream = io.TextIOWrapper(
                io.FileIO(1 if name == "stdout" else 2, "w", closefd=False),
                encoding=old.encoding,
                errors=old.errors,
                write_through=True,
            )
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
        status = run()
    except SystemExit as end:
        status = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:  # noqa: BLE001 (reported on the child's stderr, which the parent shows)
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


class Children:
    """Children that end with this block; ``status()`` is the highest exit status among them."""

    def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)) -> None:
        self.signals = signals
        self.procs: list[subprocess.Popen | Forked] = []
        self.threads: list[threading.Thread] = []
        self.stopped: Stopped | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Children:
        self._stack.enter_context(stop_on(self.signals))
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        try:
            self.terminate()
        finally:
            self._stack.close()
        if isinstance(exc, Stopped):
            self.stopped = exc
            return True  # the caller's status() says how it ended
        return False

    def start(self, command: list[str], **popen: Any) -> subprocess.Popen:
        parent = os.getpid()
        proc = subprocess.Popen(command, preexec_fn=lambda: die_with_parent(parent), **popen)
        self.procs.append(proc)
        return proc

    def fork(self, run: Callable[[], int]) -> Forked:
        """A child that is a copy of this process running ``run()`` and exiting with its status; its
        stdout and stderr go to the returned child's ``stdout``. Fork only from a process with no other
        thread running (see :func:`can_fork`)."""
        parent = os.getpid()
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _in_child(run, write, parent, self.signals)
        os.close(write)
        child = Forked(pid, io.FileIO(read, "r"))
        self.procs.append(child)
        return child

    def thread(self, target: Callable[..., object], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def wait_all(self, interrupts_pass: bool = False) -> None:
        """Until every child has ended. ``interrupts_pass``: a Ctrl-C (which the children got too, in the
        same process group) does not end the wait; the children decide."""
        while any(proc.poll() is None for proc in self.procs):
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:
                if not interrupts_pass:
                    raise

    def terminate(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.send_signal(signal.SIGTERM)
        end = time.monotonic() + TERMINATE_GRACE
        for proc in self.procs:
            try:
                proc.wait(max(end - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(2)
        for thread in self.threads:
            thread.join(2)

    def status(self) -> int:
        if self.stopped is not None:
            return 128 + self.stopped.signum
        return max((proc.returncode or 0 for proc in self.procs), default=0)
