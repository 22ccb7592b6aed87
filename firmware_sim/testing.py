"""Processes for tests: start one, read its output as it comes, wait for something with a deadline,
and always end it (SIGTERM, then SIGKILL). The project's tests and board_tests start every
``firmware-sim`` process, virtual board and peer through :class:`Process` or :class:`VirtualBoardProcess`.

Every wait has a deadline; ``stop()`` never hangs; a stopped process leaves no child behind it that it
did not clean up itself (the boards do: see :mod:`firmware_sim.children`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

STOP_GRACE = 10.0  # seconds a process has to end after SIGTERM before SIGKILL


class Process:
    """A child process whose stdout lines (and stderr's, separately or merged) are collected in the
    background. ``stderr``: ``"merge"`` (into the output), ``"collect"`` (in :attr:`stderr_lines`), or a
    path to write it to."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        stderr: str | Path = "merge",
    ) -> None:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        self._stderr_file: IO[bytes] | None = None
        if stderr == "merge":
            err: int | IO[bytes] = subprocess.STDOUT
        elif stderr == "collect":
            err = subprocess.PIPE
        else:
            self._stderr_file = err = Path(stderr).open("wb")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(list(args), cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=err)
        self.lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._changed = threading.Condition()
        self._pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True)]
        if stderr == "collect":
            self._pumps.append(
                threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True)
            )
        for pump in self._pumps:
            pump.start()

    def _pump(self, stream: IO[bytes] | None, into: list[str]) -> None:
        assert stream is not None
        for raw in stream:
            with self._changed:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def output(self) -> str:
        """What it printed so far (with stderr when merged)."""
        return "\n".join(self.lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    def wait_for(self, predicate: Callable[[str], object], timeout: float = 10.0) -> bool:
        """Wait until ``predicate(output)`` holds (True), the process ended, or ``timeout`` passed."""
        end = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.output):
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._pumps[0].is_alive()):
                    return bool(predicate(self.output))
                self._changed.wait(min(left, 0.05))
        return True

    def first_line(self, timeout: float) -> str:
        """The first line it printed on stdout ('' if none came within ``timeout`` or it ended)."""
        self.wait_for(lambda output: self.lines, timeout)
        return self.lines[0].strip() if self.lines else ""

    def wait(self, timeout: float) -> int:
        """Its exit status once it ended (``subprocess.TimeoutExpired`` after ``timeout``)."""
        status = self.proc.wait(timeout)
        for pump in self._pumps:
            pump.join(2)
        return status

    def signal(self, signum: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signum)

    def freeze(self) -> None:
        """It stops (SIGSTOP): nothing it owns moves until :meth:`thaw`."""
        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)

    def kill(self) -> None:
        """It dies at once (SIGKILL), as a crash would."""
        self.thaw()
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait(10)

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def stop(self) -> str:
        """End it: SIGTERM, then SIGKILL after :data:`STOP_GRACE`; all it printed."""
        self.thaw()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pump in self._pumps:
            pump.join(2)
        for stream in (self.proc.stdout, self.proc.stderr, self._stderr_file):
            if stream is not None:
                stream.close()
        return self.output

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def memory_mb(pid: int) -> tuple[float, float] | None:
    """(USS, PSS) of ``pid`` in MB (10**6 bytes) from /proc/PID/smaps_rollup (Linux): USS its private
    pages (clean and dirty), PSS with its share of the shared ones; None once it is gone."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    fields[parts[0][:-1]] = int(parts[1])
    except OSError:
        return None
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return uss * 1024 / 1e6, fields.get("Pss", 0) * 1024 / 1e6


def alive(pid: int) -> bool:
    """Running (a zombie, ended but not yet reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def eventually(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Whether ``predicate()`` holds within ``timeout`` seconds (looked at every ``interval``)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def firmware_sim(*args: str) -> list[str]:
    """The command line of ``firmware-sim ARGS`` with this Python."""
    return [sys.executable, "-m", "firmware_sim", *args]


class VirtualBoardProcess(Process):
    """``firmware-sim board ARGS`` running; :attr:`port` is the port it printed first (a pty path or
    ``socket://127.0.0.1:PORT``). ``log``: the line's traffic goes there (``FIRMWARE_SIM_SERIAL_LOG``)."""

    def __init__(
        self,
        *args: str,
        flash: str | Path | None = None,
        log: str | Path | None = None,
        startup: float = 20.0,
        cwd: str | Path | None = None,
        stderr: str | Path = "collect",
    ) -> None:
        command = firmware_sim("board", *args)
        if flash is not None:
            command += ["--flash", str(flash)]
        self.log = None if log is None else Path(log)
        env = {} if log is None else {"FIRMWARE_SIM_SERIAL_LOG": str(log)}
        super().__init__(command, env=env, cwd=cwd, stderr=stderr)
        self.port = self.first_line(startup)
        if not self.port:
            self.stop()
            raise RuntimeError(
                f"the virtual board printed no port (exit status {self.returncode}): {self.stderr}"
            )

    @property
    def device(self) -> str:
        return self.port

    def traffic(self, last: int = 4000) -> str:
        """The end of the line's traffic log (when started with ``log``)."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-last:]
