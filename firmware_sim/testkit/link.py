"""A UDP relay on loopback that impairs what it carries: loss, duplication, delay, reordering, partition.

``Link(target)`` listens on ``(address, target port)``: the same port as the target, because the
simulator's address map maps addresses, not ports. A board (or test) that sends there instead of to
the target reaches the target through the link; the target's answers come back the same way. Like a
symmetric NAT, each client (source address and port) gets its own upstream socket, bound to
``(address, 0)``, from which its datagrams go to the target; what the target sends to that socket goes
back to that client from the listening socket. Datagrams from anyone but the target on an upstream
socket are ignored; at most ``MAX_CLIENTS`` clients are remembered (the one idle longest is forgotten).

Both directions go through an :class:`~.impairment.ImpairedPath` (``to_target``, ``from_target``),
driven by one daemon thread with a ``selectors`` loop on the monotonic clock. :meth:`Link.impair`
replaces the settings (``partition``/``heal`` cut and restore both directions and keep the rest);
:attr:`Link.stats` counts. Only 127.0.0.0/8 addresses are accepted, for the target as for the link.
"""

from __future__ import annotations

import ipaddress
import random
import selectors
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from types import TracebackType

from network.addresses import Reservation, reserve_address

from .impairment import Address, ImpairedPath, Impairment

MAX_CLIENTS = 1024
MAX_DATAGRAM = 65507  # the largest UDP payload over IPv4; larger ones are dropped
MAX_WAIT = 0.5  # the loop's longest sleep (it is woken for due datagrams and for close() anyway)
BATCH = 64  # datagrams read from one socket before the loop looks at the others
JOIN_TIMEOUT = 2.0
DIRECTIONS = ("both", "to_target", "from_target")


def _loopback(name: str, ip: str) -> str:
    try:
        ok = ipaddress.IPv4Address(ip) in ipaddress.IPv4Network("127.0.0.0/8")
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an IPv4 loopback address (127.0.0.0/8), not {ip!r}")
    return ip


class Link:
    """A relay from ``(address, port)`` to ``target`` with impairments; ``seed`` makes them repeatable.

    ``listen_ip`` None reserves a free loopback address (held until :meth:`close`)."""

    def __init__(self, target: Address, listen_ip: str | None = None, seed: int | None = None) -> None:
        target_ip, port = target
        _loopback("the target", target_ip)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"the target's port must be 1..65535, not {port!r}")
        self._reservation: Reservation | None = None
        if listen_ip is None:
            self._reservation = reserve_address(port)
            listen_ip = self._reservation.ip
        elif _loopback("listen_ip", listen_ip) == target_ip:
            raise ValueError(f"listen_ip must differ from the target's address {target_ip} (same port)")
        self._target: Address = (target_ip, port)
        self._ip = listen_ip
        rng = random.Random(seed)
        self.to_target = ImpairedPath(Impairment(), random.Random(rng.getrandbits(64)))
        self.from_target = ImpairedPath(Impairment(), random.Random(rng.getrandbits(64)))
        self._lock = threading.Lock()  # the paths, between the loop and impair()/stats
        self._clients: OrderedDict[Address, socket.socket] = OrderedDict()  # oldest activity first
        self._closing = False
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._listen.bind((listen_ip, port))
        except OSError:
            self._close_sockets()
            raise
        for sock in (self._listen, self._wake_r, self._wake_w):
            sock.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._selector.register(self._listen, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name=f"link {listen_ip}:{port}", daemon=True)
        self._thread.start()

    # -- the test's side ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """The loopback address the link listens on (map the target's name or address to it)."""
        return self._ip

    @property
    def port(self) -> int:
        """The port it listens on: the target's."""
        return self._target[1]

    @property
    def target(self) -> Address:
        return self._target

    @property
    def running(self) -> bool:
        """Whether the relay's thread still runs (False once :meth:`close` has returned)."""
        return self._thread.is_alive()

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Both paths' counters: ``{"to_target": {"sent": .., "dropped": .., ...}, "from_target": ...}``."""
        with self._lock:
            return {"to_target": self.to_target.counters(), "from_target": self.from_target.counters()}

    def impair(
        self,
        *,
        loss: float = 0.0,
        duplicate: float = 0.0,
        delay: float = 0.0,
        jitter: float = 0.0,
        reorder: float = 0.0,
        direction: str = "both",
    ) -> None:
        """Replace the settings of ``direction`` (``"both"``, ``"to_target"``, ``"from_target"``); a field
        not given is 0. A partition stays as it is (see :meth:`partition`, :meth:`heal`)."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        paths = [self.to_target, self.from_target]
        if direction != "both":
            paths = [self.to_target if direction == "to_target" else self.from_target]
        with self._lock:
            for path in paths:
                settings = Impairment(loss, duplicate, delay, jitter, reorder, path.impairment.partition)
                path.impairment = settings
        self._wake()

    def partition(self) -> None:
        """Drop everything, both ways, including what is in flight, until :meth:`heal`."""
        self._set_partition(True)

    def heal(self) -> None:
        """End the partition; the other settings apply again."""
        self._set_partition(False)

    def clear(self) -> None:
        """No impairment at all (a partition ends too); what is in flight still arrives."""
        with self._lock:
            for path in (self.to_target, self.from_target):
                path.impairment = Impairment()
        self._wake()

    def _set_partition(self, on: bool) -> None:
        with self._lock:
            for path in (self.to_target, self.from_target):
                path.impairment = replace(path.impairment, partition=on)
        self._wake()

    def close(self) -> None:
        """Stop the thread, close every socket, release the reserved address. Idempotent."""
        if self._closing:
            return
        self._closing = True
        self._wake()
        if self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT)
        self._close_sockets()

    def __enter__(self) -> Link:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Link({self._ip}:{self.port} -> {self._target[0]}:{self.port})"

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # already awake (buffer full) or closed

    def _close_sockets(self) -> None:
        for sock in (self._listen, self._wake_r, self._wake_w, *self._clients.values()):
            sock.close()
        self._clients.clear()
        self._selector.close()
        if self._reservation is not None:
            self._reservation.release()
            self._reservation = None

    # -- the relay's thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closing:
            with self._lock:
                due = [d for d in (self.to_target.next_due(), self.from_target.next_due()) if d is not None]
            wait = MAX_WAIT if not due else min(MAX_WAIT, max(0.0, min(due) - time.monotonic()))
            try:
                events = self._selector.select(wait)
            except (OSError, ValueError):
                if self._closing:
                    return
                events = []
            for key, _ in events:
                if self._closing:
                    return
                if key.fileobj is self._wake_r:
                    self._drain_wake()
                elif key.fileobj is self._listen:
                    self._from_clients()
                else:
                    self._from_target(key.fileobj, key.data)  # type: ignore[arg-type]
            if not self._closing:
                self._release(time.monotonic())

    def _drain_wake(self) -> None:
        try:
            self._wake_r.recv(4096)
        except OSError:
            pass

    def _from_clients(self) -> None:
        for _ in range(BATCH):
            try:
                data, client = self._listen.recvfrom(65536)
            except BlockingIOError:
                return
            except OSError:
                continue  # e.g. ECONNREFUSED left by an ICMP unreachable: this datagram only
            if len(data) > MAX_DATAGRAM or self._upstream(client) is None:
                continue
            with self._lock:
                self.to_target.send(time.monotonic(), data, client)

    def _from_target(self, upstream: socket.socket, client: Address) -> None:
        if self._clients.get(client) is not upstream:
            return  # forgotten (and closed) earlier in this round
        for _ in range(BATCH):
            try:
                data, source = upstream.recvfrom(65536)
            except BlockingIOError:
                return
            except OSError:
                continue
            if source != self._target or len(data) > MAX_DATAGRAM:
                continue
            self._clients.move_to_end(client)
            with self._lock:
                self.from_target.send(time.monotonic(), data, client)

    def _upstream(self, client: Address) -> socket.socket | None:
        """The client's upstream socket (made on its first datagram), or None if none can be made."""
        sock = self._clients.get(client)
        if sock is not None:
            self._clients.move_to_end(client)
            return sock
        if len(self._clients) >= MAX_CLIENTS:
            _, oldest = self._clients.popitem(last=False)
            self._selector.unregister(oldest)
            oldest.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((self._ip, 0))
        except OSError:
            sock.close()
            return None
        self._clients[client] = sock
        self._selector.register(sock, selectors.EVENT_READ, client)
        return sock

    def _release(self, now: float) -> None:
        with self._lock:
            to_target = self.to_target.due_routed(now)
            from_target = self.from_target.due_routed(now)
        for data, client in to_target:
            upstream = self._clients.get(client) if client is not None else None
            if upstream is not None:
                self._send(upstream, data, self._target)
        for data, client in from_target:
            if client is not None:
                self._send(self._listen, data, client)

    @staticmethod
    def _send(sock: socket.socket, data: bytes, to: Address) -> None:
        try:
            sock.sendto(data, to)
        except OSError:
            pass  # a full buffer, an ICMP error reported late: this datagram is lost, the link goes on
