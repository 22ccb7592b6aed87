"""The I/O layer: UDP sockets, a ``selectors`` loop, and the glue between them and the sans-I/O core.

One :class:`Engine` is one libcoap context: an optional server endpoint, an optional multicast
listener (224.0.1.187, ``service_discovery``), and client sessions with a socket each. ``read()``
waits on all of them at once (epoll on Linux, so thousands of sessions work), handles every ready
datagram, sends due retransmissions and returns. Nothing a peer sends raises out of ``read()``.

Thread-safety: one re-entrant lock guards the endpoints and the resource table; ``read()`` does not
hold it while it waits, and calls the response handler after releasing it, so the handler may call
any Coap function and other threads may change resources and sessions meanwhile.

Time is board time (``network.host.board_time()``, the board's one clock): retransmission timeouts,
de-duplication lifetimes and ``read(timeout)`` deadlines are board seconds, so ``--time-scale`` speeds
them up as it does ``utime``; only the waits in ``select`` are converted to host seconds. Without a
simulator, board time is the host's monotonic time.

Firmware differences, fixed per engine by its profile: 1.20.1-1.20.2 ``read()`` handles one datagram
(``one=True``), never retransmit, and give byte-swapped ids; 1.20.3 runs the response handler in an
"IRQ" thread of its own instead of inside ``read()``.
"""

from __future__ import annotations

import contextlib
import random
import resource as _rlimit
import selectors
import socket
import threading
from collections.abc import Callable

from .. import host
from ..binding import bind
from ..profile import IRQ_CALLBACKS, NO_RETRANSMIT, SWAPPED_IDS, FirmwareProfile
from .firmware.resources import ResourceTable
from .irq import Call, IrqThread
from .protocol.codec import Message
from .protocol.exchange import MessageLayer, RequestReceived
from .protocol.numbers import ALL_COAP_NODES_V4

_RECV_SIZE = 65536
_BATCH = 64  # datagrams read from one socket before looking at the others
_SWEEP_INTERVAL = 5.0  # board seconds between expiry sweeps of the de-duplication caches


class Endpoint:
    """One UDP socket and its message layer. ``peer`` is set for a client session (connected socket)."""

    __slots__ = ("sock", "layer", "peer", "send_sock", "multicast", "closed", "key")

    def __init__(
        self,
        sock: socket.socket,
        layer: MessageLayer,
        *,
        peer: tuple[str, int] | None = None,
        send_sock: socket.socket | None = None,
        multicast: bool = False,
    ) -> None:
        self.sock = sock
        self.layer = layer
        self.peer = peer
        self.send_sock = send_sock or sock
        self.multicast = multicast
        self.closed = False
        self.key: tuple[str, int] | None = None  # session key (address text, port)

    def flush(self) -> None:
        out = self.layer.outgoing
        if not out:
            return
        sendto = self.send_sock.sendto
        for data, peer in out:
            try:
                sendto(data, peer)
            except OSError:
                pass  # UDP is lossy by nature; CON requests are retransmitted
        out.clear()


def _raise_fd_limit() -> None:
    """Thousands of sessions need thousands of descriptors: lift the soft limit to the hard one."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = _rlimit.getrlimit(_rlimit.RLIMIT_NOFILE)
        if hard == _rlimit.RLIM_INFINITY:
            hard = 1 << 20
        if soft < hard:
            _rlimit.setrlimit(_rlimit.RLIMIT_NOFILE, (hard, hard))


def _udp_socket(address: tuple[str, int]) -> socket.socket:
    """A non-blocking UDP socket bound to ``address`` (an address in use: the explained ``OSError``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        bind(sock, address)
    except OSError:
        sock.close()
        raise
    return sock


class Engine:
    """A CoAP context: endpoints, sessions, resources, and the read loop."""

    def __init__(self, profile: FirmwareProfile, *, rng: random.Random | None = None) -> None:
        _raise_fd_limit()
        self.profile = profile
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.resources = ResourceTable(profile)
        self.response_handler: Callable[..., object] | None = None
        self.server: Endpoint | None = None
        self.client: Endpoint | None = None  # unbound helper for module-level send_request without server
        self.sessions: list[Endpoint] = []
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._timed: set[Endpoint] = set()
        self._next_sweep = 0.0
        self._waiting = 0
        self.closed = False
        self._retransmit = not profile.has(NO_RETRANSMIT)
        self._swap_ids = profile.has(SWAPPED_IDS)
        self._irq = IrqThread(lambda: self.response_handler) if profile.has(IRQ_CALLBACKS) else None

    # -- endpoints ---------------------------------------------------------------------------------

    def _layer(self) -> MessageLayer:
        return MessageLayer(random.Random(self.rng.getrandbits(64)), retransmit=self._retransmit)

    def _register(self, ep: Endpoint) -> Endpoint:
        self._selector.register(ep.sock, selectors.EVENT_READ, ep)
        return ep

    def start_server(self, address: str, port: int, service_discovery: bool) -> None:
        with self.lock:
            sock = _udp_socket((address, port))
            self.server = self._register(Endpoint(sock, self._layer()))
            if service_discovery:
                self._join_multicast(address, port)

    def _join_multicast(self, address: str, port: int) -> None:
        """Listen on 224.0.1.187:port on the interface of ``address`` (loopback here)."""
        group = ALL_COAP_NODES_V4
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setblocking(False)
            sock.bind((group, port))
            membership = socket.inet_aton(group) + socket.inet_aton(address)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError:
            sock.close()
            raise
        assert self.server is not None
        self._register(Endpoint(sock, self._layer(), send_sock=self.server.sock, multicast=True))

    def new_session(self, key: tuple[str, int], local: str, remote: tuple[str, int]) -> Endpoint:
        with self.lock:
            sock = _udp_socket((local, 0))
            try:
                sock.connect(remote)
            except OSError:
                sock.close()
                raise
            ep = Endpoint(sock, self._layer(), peer=remote)
            ep.key = key
            self.sessions.append(self._register(ep))
            return ep

    def remove_session(self, ep: Endpoint) -> None:
        with self.lock:
            if ep in self.sessions:
                self.sessions.remove(ep)
                self._close_endpoint(ep)

    def _close_endpoint(self, ep: Endpoint) -> None:
        ep.closed = True
        self._timed.discard(ep)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(ep.sock)
        ep.sock.close()

    def client_endpoint(self, local: str) -> Endpoint:
        """The socket module-level ``send_request`` uses: the server's, else an ephemeral one."""
        with self.lock:
            if self.server is not None:
                return self.server
            if self.client is None:
                self.client = self._register(Endpoint(_udp_socket((local, 0)), self._layer()))
            return self.client

    def close(self) -> None:
        """Close every socket; a ``read()`` blocked in another thread wakes up and returns."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if self._irq is not None:
                self._irq.close()
            with contextlib.suppress(OSError):
                self._wake_w.send(b"\0")
            for ep in self._endpoints():
                self._close_endpoint(ep)
            self.sessions.clear()
            self.server = self.client = None
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _endpoints(self) -> list[Endpoint]:
        return [key.data for key in self._selector.get_map().values() if key.data is not None]

    # -- sending -----------------------------------------------------------------------------------

    def send_request(self, ep: Endpoint, msg: Message, peer: tuple[str, int]) -> None:
        with self.lock:
            ep.layer.send(msg, peer, host.board_time())
            ep.flush()
            self._timed.add(ep)
            if self._waiting:
                with contextlib.suppress(OSError):
                    self._wake_w.send(b"\0")

    # -- the read loop -----------------------------------------------------------------------------

    def read(self, timeout_ms: float, *, one: bool = False) -> None:
        """Handle datagrams: block until some were handled (``timeout_ms == 0``) or ``timeout_ms`` board
        milliseconds pass.

        ``one``: handle exactly one datagram, the first ready, and return (firmware 1.20.1-1.20.2)."""
        clock = host.board_time
        deadline = None if timeout_ms <= 0 else clock() + timeout_ms / 1000.0
        batch = 1 if one else _BATCH
        select = self._selector.select
        while True:
            with self.lock:
                if self.closed:
                    return
                now = clock()
                wait = self._run_timers(now)
                if deadline is not None:
                    left = deadline - now
                    wait = left if wait is None or left < wait else wait
                self._waiting += 1
            try:
                ready = select(None if wait is None else host.host_seconds(max(wait, 0.0)))
            except (OSError, ValueError):
                ready = []  # the selector was closed under us (remove / deinit from another thread)
            finally:
                with self.lock:
                    self._waiting -= 1
            calls: list[Call] = []
            handled = 0
            with self.lock:
                if self.closed:
                    return
                now = clock()
                for key, _ in ready:
                    ep = key.data
                    if ep is None:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                    elif not ep.closed:
                        handled += self._drain(ep, now, calls, batch)
                        if one and handled:
                            break
            if calls:
                self._deliver(calls)
            if handled or (deadline is not None and clock() >= deadline):
                return

    def _drain(self, ep: Endpoint, now: float, calls: list[Call], batch: int = _BATCH) -> int:
        """Read up to ``batch`` datagrams from ``ep`` and process them. Returns how many."""
        recvfrom = ep.sock.recvfrom
        receive = ep.layer.receive
        respond = ep.layer.respond
        handle = self.resources.handle
        multicast = ep.multicast
        want_responses = self.response_handler is not None
        swap = self._swap_ids
        count = 0
        for _ in range(batch):
            try:
                data, peer = recvfrom(_RECV_SIZE)
            except BlockingIOError:
                break
            except OSError:
                continue  # e.g. ICMP port unreachable reported on a connected session socket
            count += 1
            event = receive(data, peer, now)
            if event is None:
                continue
            msg = event.message
            if type(event) is RequestReceived:
                if multicast and msg.mtype == 0:
                    continue  # RFC 7252 §8.1: multicast requests are NON; a CON one is ignored
                reply = handle(msg, multicast)
                if reply is None:
                    respond(event, None)
                else:
                    respond(event, reply[0], reply[1], reply[2])
            elif want_responses and msg.payload:
                # modcoap delivers only responses that carry a payload (firmware-coap.md §7.4)
                mid = ((msg.mid & 0xFF) << 8) | (msg.mid >> 8) if swap else msg.mid
                calls.append((msg.code, mid, msg.mtype, msg.token, msg.payload))
        ep.flush()
        if ep.layer.pending_count():
            self._timed.add(ep)
        return count

    def _run_timers(self, now: float) -> float | None:
        """Send due retransmissions; return seconds until the next one (None: nothing pending)."""
        nearest = None
        done = []
        for ep in self._timed:
            if ep.closed:
                done.append(ep)
                continue
            if ep.layer.poll(now):
                self.profile.quirk(NO_RETRANSMIT)
            if ep.layer.outgoing:  # retransmissions, and CONs started because the one ahead gave up
                ep.flush()
            due = ep.layer.next_deadline()
            if due is None:
                if not ep.layer.pending_count():
                    done.append(ep)
                continue
            if nearest is None or due < nearest:
                nearest = due
        for ep in done:
            self._timed.discard(ep)
        if now >= self._next_sweep:  # expire de-duplication entries of endpoints that send no CONs
            self._next_sweep = now + _SWEEP_INTERVAL
            for ep in self._endpoints():
                ep.layer.expire(now)
        return None if nearest is None else nearest - now

    def _deliver(self, calls: list[Call]) -> None:
        if self._irq is not None:
            self._irq.put(calls)
            return
        handler = self.response_handler
        if handler is None:
            return
        local = _handler_state
        local.active = True
        try:
            for args in calls:
                handler(*args)
        finally:
            local.active = False


_handler_state = threading.local()


def in_response_handler() -> bool:
    """True while this thread runs the script's response handler."""
    return getattr(_handler_state, "active", False)
