"""The host's end of the virtual board's serial line: a pseudo-terminal (:class:`PtyDevice`, the
default) or a TCP port on loopback for pyserial's ``socket://HOST:PORT`` (:class:`SocketDevice`).

Hosts may open and close the port as often as they like; while none has it open, what the board sends
is lost, as on a real UART. The relay (:mod:`firmware_sim.virtual.relay`) polls a device and moves bytes.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import select
import socket
import sys
import tty

IDLE_POLL_MS = 50  # how often a port nobody has open is looked at
# Linux: acknowledge every segment at once. A host that writes small pieces without TCP_NODELAY
# (pyserial's socket://, so mpremote) waits for our ACK before sending its next piece (Nagle); a
# delayed ACK (40 ms) then costs 40 ms per command. Quick-ack mode does not stick: set after each read.
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def parse_socket_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` to listen on, loopback only (``localhost`` is 127.0.0.1, ``[::1]:PORT`` IPv6; port
    0 picks a free one). A ValueError with a one-line message says what is wrong."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"{text}: expected HOST:PORT, e.g. 127.0.0.1:0 (port 0: any free port)")
    if host == "localhost":
        return "127.0.0.1", int(port_text)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{text}: the virtual board only listens on loopback (e.g. 127.0.0.1)")
    return host, int(port_text)


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
    """A TCP port on loopback (``socket://HOST:PORT`` for pyserial): one host at a time; a second one is
    refused while the first is connected, as a serial port opened exclusively. OSError if the address
    cannot be bound."""

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
        else:
            self._quick_ack()
        return data

    def _quick_ack(self) -> None:
        """The host's next segment is acknowledged at once (see TCP_QUICKACK)."""
        if self.client is not None and TCP_QUICKACK is not None:
            try:
                self.client.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
            except OSError:
                pass

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
        new.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # our replies go out at once
        self.client = new
        self._quick_ack()

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
