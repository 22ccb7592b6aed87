"""The I/O layer: UDP sockets, a ``selectors`` loop, and the glue between them and the sans-I/O core.

One :class:`Engine` is one libcoap context: an optional server endpoint (its common GETs answered by
:mod:`.fastpath`), an optional multicast listener (224.0.1.187), and client sessions with a socket each.
``read()`` waits on all at once (epoll), handles every ready datagram, sends due retransmissions and
returns; nothing a peer sends raises out of it. One re-entrant lock guards endpoints and resources;
``read()`` waits and calls the handlers without it. ``Coap.socket()`` is a second descriptor of the
server's socket (:meth:`Engine.script_socket`); the engine uses ``MSG_DONTWAIT``, so it never stalls.
Time is board time (``network.host.board_time()``); only ``select``'s waits are host seconds.

Per profile: 1.20.1-1.20.2 ``read()`` handles one datagram, never retransmits, gives byte-swapped ids
and lets a handler's exception out; 1.20.3 calls the handlers in an "IRQ" thread; 1.20.3.b3/b4 have no
``read()`` (:meth:`Engine.serve_in_background` is their task); the docs profile calls them in ``read()``
and prints their exceptions. With ``psk`` an endpoint speaks DTLS (:mod:`.secure`, loaded then);
Observe/Block2 are :mod:`.extensions`, opt in.
"""

from __future__ import annotations

import contextlib
import errno
import random
import selectors
import socket
import threading
from collections.abc import Callable

from .. import host
from ..profile import (
    CLOSED_SOCKET,
    HANDLER_EXCEPTION,
    IRQ_CALLBACKS,
    NO_RETRANSMIT,
    SWAPPED_IDS,
    FirmwareProfile,
)
from .endpoint import DONTWAIT, RECV_SIZE, Endpoint, multicast_socket, raise_fd_limit, udp_socket
from .extensions import server_extensions
from .fastpath import FastPath
from .firmware.resources import Resource, ResourceTable
from .irq import IrqThread, Job, call_here
from .protocol.codec import Message
from .protocol.exchange import MessageLayer, RequestReceived
from .protocol.numbers import ALL_COAP_NODES_V4

_BATCH = 64  # datagrams read from one socket before looking at the others
_SWEEP_INTERVAL = 5.0  # board seconds between expiry sweeps of the de-duplication caches
_MAX_WAIT = 3600.0  # host seconds: the longest single wait in select (read() loops for longer timeouts)
_RUN_ONCE_MS = 100  # TASK_MODCOAP's coap_run_once(ctx, 100) (modcoap.c v1.20.3.b3 L166)
# libcoap 4.1's coap_network_read() on a closed descriptor (newlib's strerror(EBADF)), to stdout
_CLOSED_SOCKET_LINE = "WARN coap_network_read: Bad file number"


class Engine:
    """A CoAP context: endpoints, sessions, resources, and the read loop."""

    def __init__(self, profile: FirmwareProfile, *, rng: random.Random | None = None) -> None:
        raise_fd_limit()
        self.profile = profile
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.resources = ResourceTable(profile)
        self.response_handler: object | None = None
        self.new_resource_handler: object | None = None  # register_new_resource_handler (1.20.3.b3+)
        self.resource_object: Callable[[Resource], object] = lambda resource: resource  # the facade's
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
        self._script_sock: socket.socket | None = None  # Coap.socket(): the script's descriptor
        self.server_lost = False  # the script closed Coap.socket(): the server socket is gone
        self.closed = False
        self._serving = False
        self._retransmit = not profile.has(NO_RETRANSMIT)
        self._swap_ids = profile.has(SWAPPED_IDS)
        self._irq = IrqThread() if profile.has(IRQ_CALLBACKS) else None
        self.extensions = server_extensions(self)  # Observe / Block2: opt in, beyond the firmware
        self._response = lambda: self.response_handler  # the registered function when a job runs
        self._new_resource = lambda: self.new_resource_handler

    # -- endpoints ---------------------------------------------------------------------------------

    def _layer(self) -> MessageLayer:
        return MessageLayer(random.Random(self.rng.getrandbits(64)), retransmit=self._retransmit)

    def _register(self, ep: Endpoint) -> Endpoint:
        self._selector.register(ep.sock, selectors.EVENT_READ, ep)
        return ep

    def start_server(self, address: str, port: int, service_discovery: bool) -> None:
        with self.lock:
            self.server = ep = self._register(Endpoint(udp_socket((address, port)), self._layer()))
            if self.extensions is None:  # the common GETs from bytes (Observe/Block2 shape their replies)
                ep.fast = FastPath(ep.layer.dedup, self.resources).answer
            if service_discovery:
                self._join_multicast(address, port)

    def start_dtls_server(
        self, address: str, port: int, service_discovery: bool, psk: bytes, hint: bytes
    ) -> None:
        """``init(address, psk=..., hint=...)`` (1.20.3.b3+): a DTLS-PSK server endpoint (modcoap.c
        L1354-1359: ``coap_context_set_psk``, both C strings cut at a NUL), multicast as start_server."""
        from .secure import SecureLayer, secure_server  # Mbed TLS loads only for a coaps:// endpoint

        with self.lock:
            layer = SecureLayer(random.Random(self.rng.getrandbits(64)), retransmit=self._retransmit)
            self.server = self._register(secure_server(udp_socket((address, port)), layer, psk, hint))
            self._timed.add(self.server)
            if service_discovery:
                self._join_multicast(address, port)

    def _join_multicast(self, address: str, port: int) -> None:
        """Listen on 224.0.1.187:port on the interface of ``address`` (loopback here)."""
        sock, send = multicast_socket(ALL_COAP_NODES_V4, address, port), self.server and self.server.sock
        self._register(Endpoint(sock, self._layer(), send_sock=send or None, multicast=True))

    def new_session(self, key: tuple[str, int], local: str, remote: tuple[str, int]) -> Endpoint:
        with self.lock:
            ep = Endpoint(udp_socket((local, 0), remote), self._layer(), peer=remote)
            ep.key = key
            self.sessions.append(self._register(ep))
            return ep

    def start_dtls_session(
        self, key: tuple[str, int], local: str, remote: tuple[str, int], identity: bytes, psk: bytes
    ) -> Endpoint:
        """``new_client_session(address, psk=..., identity=...)`` (1.20.3.b3+): a DTLS-PSK session to
        ``remote`` (modcoap.c L203-209, ``coap_new_client_session_psk``); the handshake starts now."""
        from .secure import SecureLayer, secure_session

        with self.lock:
            layer = SecureLayer(random.Random(self.rng.getrandbits(64)), retransmit=self._retransmit)
            ep = secure_session(udp_socket((local, 0), remote), layer, remote, identity, psk)
            ep.key = key
            self.sessions.append(self._register(ep))
            self._timed.add(ep)
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

    def script_socket(self) -> socket.socket:
        """What ``Coap.socket()`` hands the script: a second descriptor of the server's socket (the same
        object every call), non-blocking as modcoap's socket object is. Polling, reading and sending on
        it work as on the board; its blocking mode and timeout are its own (the engine's reads and
        sends never wait), and its ``close()`` is noticed by :meth:`read` (firmware 1.20.1-1.20.2)."""
        with self.lock:
            if self._script_sock is None:
                if self.server is None:
                    raise OSError(errno.EBADF, "EBADF")
                self._script_sock = self.server.sock.dup()
                self._script_sock.setblocking(False)
            return self._script_sock

    def _lost_server(self) -> bool:
        """True once the script has closed ``Coap.socket()``. On the board that closes the descriptor
        libcoap reads, so the server socket (and its multicast membership) is closed here too."""
        sock = self._script_sock
        if sock is None or sock.fileno() != -1:
            return False
        if not self.server_lost:
            self.server_lost = True
            for ep in self._endpoints():
                if ep is self.server or ep.multicast:
                    self._close_endpoint(ep)
        return True

    def client_endpoint(self, local: str) -> Endpoint:
        """The socket module-level ``send_request`` uses: the server's, else an ephemeral one."""
        with self.lock:
            if self.server is not None:
                return self.server
            if self.client is None:
                self.client = self._register(Endpoint(udp_socket((local, 0)), self._layer()))
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
            if self._script_sock is not None:
                self._script_sock.close()
            self.sessions.clear()
            self.server = self.client = None
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _endpoints(self) -> list[Endpoint]:
        return [key.data for key in self._selector.get_map().values() if key.data is not None]

    # -- sending -----------------------------------------------------------------------------------

    def send_request(self, ep: Endpoint, msg: Message, peer: tuple[str, int]) -> None:
        """Queue ``msg`` and send it. From a closed server socket (the script closed ``Coap.socket()``):
        ``OSError("Sending message failed!")``, as modcoap raises when libcoap's sendto fails."""
        with self.lock:
            if ep is self.server and self._lost_server():
                raise OSError("Sending message failed!")
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

        ``one``: handle exactly one datagram, the first ready, and return (firmware 1.20.1-1.20.2).

        Once the script has closed ``Coap.socket()``: firmware 1.20.1-1.20.2 print libcoap's warning line
        and return at once (the server never answers again); the docs profile raises ``OSError(EBADF)``."""
        clock = host.board_time
        deadline = None if timeout_ms <= 0 else clock() + timeout_ms / 1000.0
        batch = 1 if one else _BATCH
        select = self._selector.select
        while True:
            with self.lock:
                if self.closed:
                    return
                if self._script_sock is not None and self._lost_server():
                    if self.profile.quirk(CLOSED_SOCKET):
                        print(_CLOSED_SOCKET_LINE, flush=True)
                        return
                    raise OSError(errno.EBADF, "EBADF")
                now = clock()
                wait = self._run_timers(now)
                if deadline is not None:
                    left = deadline - now
                    wait = left if wait is None or left < wait else wait
                self._waiting += 1
            try:
                ready = select(None if wait is None else min(host.host_seconds(max(wait, 0.0)), _MAX_WAIT))
            except (OSError, ValueError):
                ready = []  # the selector was closed under us (remove / deinit from another thread)
            finally:
                with self.lock:
                    self._waiting -= 1
            jobs: list[Job] = []
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
                        handled += self._drain(ep, now, jobs, batch)
                        if one and handled:
                            break
            if jobs:
                self._deliver(jobs)
            if handled or (deadline is not None and clock() >= deadline):
                return

    def _drain(self, ep: Endpoint, now: float, jobs: list[Job], batch: int = _BATCH) -> int:
        """Read up to ``batch`` datagrams from ``ep`` and process them; the handler calls they make go
        to ``jobs``. Returns how many."""
        recvfrom, fast, sendto, outgoing = ep.recvfrom, ep.fast, ep.send_sock.sendto, ep.layer.outgoing
        receive = ep.layer.receive
        respond = ep.layer.respond
        handle = self.resources.handle
        created = self.resources.created
        extensions = self.extensions
        multicast = ep.multicast
        want_responses = self.response_handler is not None
        swap = self._swap_ids
        count = 0
        for _ in range(batch):
            if outgoing:  # what the last datagram made (RST, ACK, reply): sent before reading the next
                ep.flush()
            try:
                data, peer = recvfrom(RECV_SIZE, DONTWAIT)
            except BlockingIOError:
                break
            except OSError:
                continue  # e.g. ICMP port unreachable reported on a connected session socket
            count += 1
            if fast is not None and (answer := fast(data, peer, now)) is not None:
                try:  # a common GET answered from bytes (.fastpath), sent at once
                    sendto(answer, DONTWAIT, peer)
                except OSError:
                    pass  # as Endpoint.flush: UDP is lossy
                continue
            event = receive(data, peer, now)
            if event is None:
                continue
            msg = event.message
            if type(event) is RequestReceived:
                if multicast and msg.mtype == 0:
                    continue  # RFC 7252 §8.1: multicast requests are NON; a CON one is ignored
                reply = handle(msg, multicast)
                if extensions is not None and reply is not None:
                    reply = extensions.shape(event, reply, now)
                if reply is None:
                    respond(event, None)
                else:
                    respond(event, reply[0], reply[1], reply[2])
                if created:  # a dynamic PUT made a resource: queued only if a handler is registered now
                    if self.new_resource_handler is not None:
                        jobs.extend((self._new_resource, (self.resource_object(r),)) for r in created)
                    created.clear()
            elif want_responses and msg.payload:
                # modcoap delivers only responses that carry a payload (firmware-coap.md §7.4)
                mid = ((msg.mid & 0xFF) << 8) | (msg.mid >> 8) if swap else msg.mid
                jobs.append((self._response, (msg.code, mid, msg.mtype, msg.token, msg.payload)))
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
            ep.flush()  # retransmissions, CONs started because the one ahead gave up, DTLS records
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

    def _deliver(self, jobs: list[Job]) -> None:
        """Call the handlers: queued for the IRQ thread (1.20.3), or here in the reading thread. There a
        response handler's exception leaves ``read()`` on 1.20.1-1.20.2 (modcoap calls it inside
        ``coap_read`` with no guard); the docs profile prints it and goes on with the next call."""
        if self._irq is not None:
            self._irq.put(jobs)
            return
        response = self._response
        call_here(jobs, lambda job: job[0] is response, lambda: self.profile.quirk(HANDLER_EXCEPTION))

    def serve_in_background(self) -> threading.Thread:
        """``TASK_MODCOAP`` (firmware 1.20.3.b3 and later, started by ``init()``, modcoap.c L162-168 and
        L1458): a thread "Coap" doing ``coap_run_once(ctx, 100)`` until the context is closed (or
        :meth:`stop_serving`)."""
        self._serving = True
        thread = threading.Thread(target=self._serve, name="Coap", daemon=True)
        thread.start()
        return thread

    def stop_serving(self) -> None:
        self._serving = False

    def _serve(self) -> None:
        while self._serving and not self.closed:
            self.read(_RUN_ONCE_MS)
