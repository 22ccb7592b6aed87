"""The air between processes: one medium name, many processes, UDP on loopback only.

Each process that joins a medium name across processes binds one UDP socket on its own loopback
address (the board's, ``network.host.own_address()``; port 0, so no fixed port) and registers it as a
file ``<address>_<port>_<pid>`` in a folder for that name (under the host's temporary folder, or
``$FIRMWARE_SIM_LORA_REGISTRY``). A datagram is sent to every registered peer; the entries of processes
that have died are removed by whoever sees them first. Nothing here knows LoRa: :mod:`.medium` encodes
its transmissions. Different medium names never meet, so parallel tests use unique names.

Public API::

    Link(name: str, address: str, on_datagram: Callable[[bytes], None])
    Link.port -> int;  Link.peers() -> list[tuple[str, int]];  Link.broadcast(data: bytes) -> int
    Link.close() -> None
    registry_folder(name: str) -> pathlib.Path
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import socket
import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

from ..addresses import check_loopback

__all__ = ["ENV_REGISTRY", "Link", "registry_folder"]

ENV_REGISTRY = "FIRMWARE_SIM_LORA_REGISTRY"
MAX_DATAGRAM = 4096
_POLL_S = 0.2  # how often the receiving thread looks whether the link was closed

_open_links: weakref.WeakSet[Link] = weakref.WeakSet()


def registry_folder(name: str) -> Path:
    """The folder where the processes sharing medium ``name`` register (one per user and name)."""
    base = os.environ.get(ENV_REGISTRY)
    if not base:
        user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
        base = str(Path(tempfile.gettempdir()) / f"firmware-sim-lora-{user}")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
    return Path(base) / digest


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows: trust the entry
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Link:
    """One process's UDP socket for one medium name: ``broadcast`` to the other processes,
    ``on_datagram`` called (on the link's thread) with what they send."""

    def __init__(self, name: str, address: str, on_datagram: Callable[[bytes], None]) -> None:
        self.address = check_loopback(address)
        self._on_datagram = on_datagram
        self._closed = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.address, 0))
        self._sock.settimeout(_POLL_S)
        self.port: int = self._sock.getsockname()[1]
        self.folder = registry_folder(name)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._entry = self.folder / f"{self.address}_{self.port}_{os.getpid()}"
        self._entry.touch()
        self._thread = threading.Thread(target=self._receive, name=f"lora-air-{name}", daemon=True)
        self._thread.start()
        _open_links.add(self)

    def peers(self) -> list[tuple[str, int]]:
        """The other registered sockets of this medium name (stale entries are removed)."""
        found: list[tuple[str, int]] = []
        try:
            names = os.listdir(self.folder)
        except OSError:
            return found
        for entry in names:
            parts = entry.split("_")
            if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
                continue
            address, port, pid = parts[0], int(parts[1]), int(parts[2])
            if (address, port) == (self.address, self.port):
                continue
            if not _alive(pid):
                with contextlib.suppress(OSError):
                    (self.folder / entry).unlink()
                continue
            try:
                found.append((check_loopback(address), port))
            except ValueError:
                continue
        return found

    def broadcast(self, data: bytes) -> int:
        """Send ``data`` to every peer; returns how many it went to."""
        sent = 0
        for peer in self.peers():
            try:
                self._sock.sendto(data, peer)
                sent += 1
            except OSError:
                continue
        return sent

    def _receive(self) -> None:
        while not self._closed.is_set():
            try:
                data, _source = self._sock.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                continue
            try:
                self._on_datagram(data)
            except Exception:  # a bad datagram or a failing receiver must not end the link
                continue

    def close(self) -> None:
        """Unregister and close; the receiving thread ends within a fraction of a second."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._entry.unlink()
        self._sock.close()
        if threading.current_thread() is not self._thread:
            self._thread.join(1.0)


@atexit.register
def _close_all() -> None:
    for link in list(_open_links):
        link.close()
