"""The virtual board's serial port: a pseudo-terminal (or a TCP socket) relayed to the board's process.

``python -m firmware_sim.virtual`` (``firmware-sim board``) opens the device, prints its name on the first
stdout line (``/dev/pts/7`` or ``socket://127.0.0.1:PORT``) and starts the board process
(:mod:`firmware_sim.virtual.board`) with its stdin/stdout on pipes. It then relays bytes both ways until
SIGTERM or SIGINT. A hard reset re-executes the board process, so the pipes and the port stay up while
the board reboots, as a USB serial bridge does. Hosts may open and close the port as often as they like;
while none has it open, what the board sends is lost, as on a real UART.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tty
from collections.abc import Callable
from pathlib import Path

from ..runtime.kinds import KINDS
from ..runtime.state import ENV_STATE, BoardState
from .board import ENV_READY_FD, ENV_VIRTUAL, VirtualOptions

DEFAULT_BOOT = b"# boot.py -- run on boot-up\r\n"
DEFAULT_MAIN = b"# main.py -- put your code here!\r\n"
BACKLOG = 256 * 1024  # bytes of board output held for a slow host before the board waits
IDLE_POLL_MS = 50  # how often a port nobody has open is looked at
ENV_LOG = "FIRMWARE_SIM_SERIAL_LOG"  # a file to log the line's traffic to (H>D host to device, D>H back)
READY_TIMEOUT = 30.0  # seconds to wait for the board to come up before announcing its port anyway


class UsageError(Exception):
    """A command-line problem; the message says how to fix it."""


# -- devices --------------------------------------------------------------------------------------------


class Device:
    """The host's end of the serial line."""

    name: str

    def poll_fds(self, want_write: bool) -> tuple[list[tuple[int, int]], int | None]:
        """The fds and events to wait for, and a timeout (ms) if the device needs looking at anyway."""
        raise NotImplementedError

    def connected(self) -> bool:
        raise NotImplementedError

    def on_event(self, fd: int, events: int) -> bytes:
        """Handle readiness of one of the fds; returns bytes from the host (maybe none)."""
        raise NotImplementedError

    def write(self, data: bytes) -> int:
        """Write without blocking; how much was taken (everything, when nobody listens: it is lost)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PtyDevice(Device):
    """A pseudo-terminal in raw mode; this process keeps the master, hosts open the slave by name."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        try:
            tty.setraw(slave)  # no echo, no CR/LF translation, no signals; kept while the master is open
            self.name = os.ttyname(slave)
        finally:
            os.close(slave)  # holding no slave: POLLHUP tells when no host has the port open
        os.set_blocking(self.master, False)
        self._host = False

    def _look(self) -> int:
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        events = poller.poll(0)
        return events[0][1] if events else 0

    def poll_fds(self, want_write: bool) -> tuple[list[tuple[int, int]], int | None]:
        events = self._look()
        self._host = not (events & select.POLLHUP) or bool(events & select.POLLIN)
        if not self._host:
            return [], IDLE_POLL_MS  # POLLHUP would wake poll() at once: look again a little later
        return [(self.master, select.POLLIN | (select.POLLOUT if want_write else 0))], None

    def connected(self) -> bool:
        return self._host

    def on_event(self, fd: int, events: int) -> bytes:
        if not events & select.POLLIN:
            if events & select.POLLHUP:
                self._host = False
            return b""
        try:
            return os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            self._host = False  # the host closed the port
            return b""

    def write(self, data: bytes) -> int:
        if not self._host:
            return len(data)
        try:
            return os.write(self.master, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            self._host = False
            return len(data)

    def close(self) -> None:
        os.close(self.master)


class SocketDevice(Device):
    """A TCP port on loopback (``socket://HOST:PORT`` for pyserial): one host at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(4)
        self.listener.setblocking(False)
        bound_host, bound_port = self.listener.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.name = f"socket://{shown}:{bound_port}"
        self.client: socket.socket | None = None

    def poll_fds(self, want_write: bool) -> tuple[list[tuple[int, int]], int | None]:
        fds = [(self.listener.fileno(), select.POLLIN)]
        if self.client is not None:
            fds.append((self.client.fileno(), select.POLLIN | (select.POLLOUT if want_write else 0)))
        return fds, None

    def connected(self) -> bool:
        return self.client is not None

    def on_event(self, fd: int, events: int) -> bytes:
        if self.client is not None and fd == self.client.fileno():
            if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                return self._receive()
            return b""
        if fd == self.listener.fileno():
            self._accept()
        return b""

    def _receive(self) -> bytes:
        assert self.client is not None
        try:
            data = self.client.recv(65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            data = b""
        if not data:
            self._drop()
        return data

    def _alive(self) -> bool:
        assert self.client is not None
        try:
            return self.client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False

    def _accept(self) -> None:
        try:
            new, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if self.client is not None and self._alive():
            new.close()  # the port is in use (as a serial port opened exclusively)
            print(
                "firmware-sim: refused a second connection: the port is in use", file=sys.stderr, flush=True
            )
            return
        if self.client is not None:
            self._drop()
        new.setblocking(False)
        new.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client = new

    def _drop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def write(self, data: bytes) -> int:
        if self.client is None:
            return len(data)
        try:
            return self.client.send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            self._drop()
            return len(data)

    def close(self) -> None:
        self._drop()
        self.listener.close()


# -- the relay ------------------------------------------------------------------------------------------


class Relay:
    """Moves bytes between the device and the board process until stopped or the board process ends."""

    def __init__(
        self,
        device: Device,
        child: subprocess.Popen,
        ready_fd: int | None = None,
        on_ready: Callable[[bool], None] | None = None,
    ) -> None:
        assert child.stdin is not None and child.stdout is not None
        self.device = device
        self.child = child
        self.child_in = child.stdin.fileno()
        self.child_out = child.stdout.fileno()
        os.set_blocking(self.child_in, False)
        os.set_blocking(self.child_out, False)
        self.to_child = bytearray()
        self.to_device = bytearray()
        self.stopping = False
        self.ready_fd = ready_fd  # readable once the board is up: then on_ready(True) (False: timed out)
        self.on_ready = on_ready
        self.ready_deadline = time.monotonic() + READY_TIMEOUT
        log = os.environ.get(ENV_LOG)
        self._log = open(log, "a", buffering=1) if log else None  # noqa: SIM115 - open while relaying
        self._started = time.monotonic()

    def log(self, direction: str, data: bytes) -> None:
        if self._log is not None:
            self._log.write(f"{time.monotonic() - self._started:9.3f} {direction} {data!r}\n")

    def stop(self, *_args: object) -> None:
        self.stopping = True

    def run(self) -> int:
        """Relay until :meth:`stop` (returns 0) or the board process ends (returns its status)."""
        while not self.stopping:
            fds, timeout = self.device.poll_fds(bool(self.to_device))
            if not self.device.connected():
                self.to_device.clear()  # nobody listens: the board's output is lost
            poller = select.poll()
            if len(self.to_device) < BACKLOG:
                poller.register(self.child_out, select.POLLIN)
            if self.to_child:
                poller.register(self.child_in, select.POLLOUT)
            for fd, events in fds:
                poller.register(fd, events)
            if self.ready_fd is not None and time.monotonic() > self.ready_deadline:
                self._announce(False)
            if self.ready_fd is not None:
                poller.register(self.ready_fd, select.POLLIN)
            wait = 200 if timeout is None else min(timeout, 200)
            try:
                ready = poller.poll(wait)
            except InterruptedError:
                continue
            for fd, events in ready:
                if fd == self.child_out:
                    if not self._from_board():
                        return self._board_ended()
                elif fd == self.child_in:
                    self._to_board()
                elif fd == self.ready_fd:
                    self._announce(True)
                else:
                    data = self.device.on_event(fd, events)
                    if data:
                        self.log("H>D", data)
                        self.to_child += data
                        self._to_board()
            if self.to_device:
                self._to_host()
        return 0

    def _announce(self, up: bool) -> None:
        if self.ready_fd is not None:
            os.close(self.ready_fd)
            self.ready_fd = None
            if self.on_ready is not None:
                self.on_ready(up)

    def _from_board(self) -> bool:
        try:
            data = os.read(self.child_out, 65536)
        except (BlockingIOError, InterruptedError):
            return True
        if not data:
            return False
        self.log("D>H" if self.device.connected() else "D>-", data)
        if self.device.connected():
            self.to_device += data
            self._to_host()
        return True

    def _to_host(self) -> None:
        written = self.device.write(bytes(self.to_device))
        del self.to_device[:written]

    def _to_board(self) -> None:
        try:
            written = os.write(self.child_in, self.to_child)
        except (BlockingIOError, InterruptedError):
            return
        except BrokenPipeError:
            self.to_child.clear()
            return
        del self.to_child[:written]

    def _board_ended(self) -> int:
        status = self.child.wait()
        print(
            f"firmware-sim: the virtual board's process ended (status {status})", file=sys.stderr, flush=True
        )
        return status if status > 0 else 1


# -- the command ----------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``firmware-sim board``."""
    from network import profile as profiles

    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--pty",
        action="store_true",
        help="serve the board on a new pseudo-terminal, e.g. /dev/pts/7 (the default)",
    )
    where.add_argument(
        "--socket",
        metavar="HOST:PORT",
        help="serve the board on TCP, for pyserial's socket://HOST:PORT (loopback only; port 0 picks one)",
    )
    parser.add_argument("--board", choices=sorted(KINDS), default="lopy4", help="board kind (default: lopy4)")
    parser.add_argument(
        "--flash",
        metavar="DIR",
        help="the folder that is the board's /flash, kept across runs (default: a temporary folder)",
    )
    parser.add_argument(
        "--firmware",
        choices=sorted(profiles.PROFILES),
        default="docs",
        help="firmware behaviour of the board's modules (default: docs)",
    )
    parser.add_argument(
        "--ip",
        metavar="ADDR",
        help="the board's own loopback address, where it serves CoAP (default: a free 127.0.0.x)",
    )
    parser.add_argument(
        "--map",
        metavar="ADDR=ADDR",
        action="append",
        default=[],
        help="deliver what the board sends to the first address to the second (loopback) one; repeatable",
    )
    parser.add_argument(
        "--raw-paste",
        action="store_true",
        help="answer raw-paste requests as newer MicroPython does (Pycom 1.20 firmware has no raw-paste)",
    )


def _socket_address(value: str) -> tuple[str, int]:
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(f"--socket {value}: expected HOST:PORT, e.g. 127.0.0.1:0 (port 0: any free port)")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
        host = "127.0.0.1" if loopback else host
    if not loopback:
        raise UsageError(f"--socket {value}: the virtual board only listens on loopback (e.g. 127.0.0.1)")
    return host, int(port_text)


def _prepare_flash(flash_dir: str | None) -> tuple[Path, bool]:
    """The folder that is /flash and whether it is temporary; a new flash gets Pycom's default files."""
    temporary = flash_dir is None
    flash = Path(tempfile.mkdtemp(prefix="firmware-sim-flash-")) if temporary else Path(flash_dir)
    if flash.exists() and not flash.is_dir():
        raise UsageError(f"--flash {flash_dir}: not a folder; give a folder for the board's /flash")
    flash.mkdir(parents=True, exist_ok=True)
    if not any(flash.iterdir()):  # a freshly formatted flash, as the firmware creates it
        (flash / "boot.py").write_bytes(DEFAULT_BOOT)
        (flash / "main.py").write_bytes(DEFAULT_MAIN)
    return flash, temporary


def run(args: argparse.Namespace) -> int:
    """Serve a virtual board as the parsed ``args`` (see :func:`add_arguments`) say, until SIGTERM or
    SIGINT; the exit status (2 after a usage error, explained on stderr)."""
    try:
        return _serve(args)
    except UsageError as err:
        print(f"firmware-sim: error: {err}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    from ..cli import UsageError as CliUsageError
    from ..cli import _free_board_ip, _loopback, _parse_map

    try:
        mapping = _parse_map(args.map)
        ip = _loopback(args.ip, "--ip") if args.ip else _free_board_ip()
    except CliUsageError as err:
        raise UsageError(str(err)) from None
    address = _socket_address(args.socket) if args.socket else None
    flash, temporary = _prepare_flash(args.flash)
    device: Device | None = None
    child: subprocess.Popen | None = None
    try:
        try:
            device = SocketDevice(*address) if address else PtyDevice()
        except OSError as err:
            raise UsageError(f"cannot open the board's port: {err}") from None
        state = BoardState(kind=args.board, flash=str(flash), ip=ip, mapping=mapping, firmware=args.firmware)
        env = dict(os.environ)
        env[ENV_STATE] = state.to_env()
        env[ENV_VIRTUAL] = VirtualOptions(raw_paste=args.raw_paste).to_env()
        ready_r, ready_w = os.pipe()
        env[ENV_READY_FD] = str(ready_w)
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "firmware_sim.virtual.board"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                pass_fds=(ready_w,),
                start_new_session=True,  # a Ctrl-C in the terminal stops the relay, not the board's code
                bufsize=0,
            )
        finally:
            os.close(ready_w)
        name = device.name
        summary = (
            f"virtual {KINDS[args.board].platform} on {name}, address {ip}, firmware {args.firmware}"
            f"{', raw-paste' if args.raw_paste else ''}, /flash in {flash}"
        )

        def announce(up: bool) -> None:
            print(name, flush=True)  # the first line: the port, once the board is up
            if not up:
                print(
                    f"firmware-sim: warning: the board is not up after {READY_TIMEOUT:.0f} s (long boot.py?)",
                    file=sys.stderr,
                    flush=True,
                )
            print(f"firmware-sim: {summary}", file=sys.stderr, flush=True)

        relay = Relay(device, child, ready_r, announce)
        previous = {sig: signal.signal(sig, relay.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            return relay.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        if child is not None:
            _end(child)
        if device is not None:
            device.close()
        if temporary:
            shutil.rmtree(flash, ignore_errors=True)


def _end(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(3)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(3)
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


def main(argv: list[str] | None = None) -> int:
    """``python -m firmware_sim.virtual [options]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="firmware-sim board",
        description="A simulated Pycom board on a serial line (a pseudo-terminal or a loopback TCP port) "
        "that mpremote, pyboard.py and the firmware-sim serial runner accept. The first output line "
        "is the port to connect to.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
