"""A synchronous CoAP client for the host side: tests, tools, the pytest plugin, ``firmware-sim coap``.

Not part of Pycom's API (a board script never sees it). In the style of aiocoap's and IPWorks' clients,
on the project's sans-I/O message layer (:mod:`.protocol.exchange`: RFC 7252 retransmission, NSTART,
de-duplication, separate responses) and one UDP socket served by one thread::

    from network.coap.client import Client

    with Client() as coap:
        response = coap.get("coap://127.0.0.2/temperature", timeout=5)
        print(response.code, response.text)          # 2.05 21.5

``request``/``get``/``put``/``post``/``delete`` wait for the response; :meth:`Client.start` returns an
:class:`Exchange` at once, to wait on, cancel, or be called back when it ends (``on_done``). Every way an
exchange can end without a response is an error delivered to whoever waits: :class:`CoapTimeout` (no
response within the call's ``timeout``, or the message layer gave up after MAX_RETRANSMIT),
:class:`CoapReset` (the server answered RST), :class:`CoapCancelled`. A response with an error code
(4.xx, 5.xx) is a response, not an exception.

Addresses: loopback only (127.0.0.0/8, ``localhost``) unless ``allow_lan=True``; no host name is looked
up. Time is the host's monotonic clock.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from .protocol.codec import Message, encode_uint
from .protocol.exchange import ExchangeFailed, MessageLayer, ResponseReceived
from .protocol.numbers import Code, Option

CON, NON = 0, 1
DEFAULT_PORT = 5683
MAX_TRANSMIT_WAIT = 93.0  # RFC 7252 §4.8.2: the longest a CON exchange can take
RECV_SIZE = 65536
Peer = tuple[str, int]
# RFC 7252 §12.1.2, RFC 7959 §2.9 and RFC 8516's response codes, as coap-client names them
REASONS = {
    65: "Created", 66: "Deleted", 67: "Valid", 68: "Changed", 69: "Content", 95: "Continue",
    128: "Bad Request", 129: "Unauthorized", 130: "Bad Option", 131: "Forbidden", 132: "Not Found",
    133: "Method Not Allowed", 134: "Not Acceptable", 136: "Request Entity Incomplete",
    140: "Precondition Failed", 141: "Request Entity Too Large", 143: "Unsupported Content-Format",
    157: "Too Many Requests", 160: "Internal Server Error", 161: "Not Implemented", 162: "Bad Gateway",
    163: "Service Unavailable", 164: "Gateway Timeout", 165: "Proxying Not Supported",
}  # fmt: skip


class CoapError(Exception):
    """A request that ended without a response, or could not be sent; the message says which and why."""


class CoapTimeout(CoapError):
    """No response within the timeout (or the message layer gave up retransmitting)."""


class CoapReset(CoapError):
    """The server answered the request with RST (it does not know it, or rejected it)."""


class CoapCancelled(CoapError):
    """The request was cancelled before its response came."""


def dotted(code: int) -> str:
    """``69`` -> ``"2.05"`` (class.detail, RFC 7252 §3)."""
    return f"{code >> 5}.{code & 31:02d}"


@dataclass
class Response:
    """A response: ``code`` as the RFC writes it (``"2.05"``), ``number`` the code byte (69), the
    options in wire order, the payload, and where it came from."""

    code: str
    number: int
    options: list[tuple[int, bytes]] = field(default_factory=list)
    payload: bytes = b""
    peer: Peer | None = None

    @classmethod
    def from_message(cls, msg: Message, peer: Peer | None = None) -> Response:
        return cls(dotted(msg.code), msg.code, list(msg.options), msg.payload, peer)

    def option(self, number: int) -> bytes | None:
        """The first value of option ``number`` (e.g. ``Option.ETAG``), or None."""
        return next((value for num, value in self.options if num == number), None)

    @property
    def content_format(self) -> int | None:
        value = self.option(Option.CONTENT_FORMAT)
        return None if value is None else int.from_bytes(value, "big")

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    @property
    def success(self) -> bool:
        """A 2.xx response."""
        return self.number >> 5 == 2

    @property
    def reason(self) -> str:
        """``"2.05 Content"``, as libcoap's coap-client prints a code."""
        name = REASONS.get(self.number)
        return f"{self.code} {name}" if name else self.code


def parse_uri(uri: str, allow_lan: bool = False) -> tuple[Peer, list[tuple[int, bytes]]]:
    """``coap://host[:port]/path?query`` -> the server's address and its Uri-Path/Uri-Query options
    (RFC 7252 §6.4). ValueError naming what is wrong."""
    parts = urlsplit(uri)
    if parts.scheme != "coap":
        scheme = parts.scheme or "none"
        raise ValueError(f"{uri}: scheme {scheme}; give a coap://host/path URI")
    host = parts.hostname
    if not host:
        raise ValueError(f"{uri}: no host; give e.g. coap://127.0.0.2/temperature")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{uri}: '{host}' is not an IP address; no host name is looked up") from None
    if address.version != 4:
        raise ValueError(f"{uri}: IPv6 is not supported by this client; give an IPv4 address")
    if not address.is_loopback and not allow_lan:
        raise ValueError(f"{uri}: {host} is not a loopback address; pass allow_lan=True to reach it")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"{uri}: the port is not a number from 1 to 65535") from None
    options: list[tuple[int, bytes]] = []
    path = parts.path.lstrip("/")
    if path:
        options += [(Option.URI_PATH, unquote(seg).encode()) for seg in path.split("/")]
    if parts.query:
        options += [(Option.URI_QUERY, unquote(arg).encode()) for arg in parts.query.split("&")]
    return (str(address), port), options


class Exchange:
    """One request on its way: :meth:`wait` for its response, :meth:`cancel` it, or get ``on_done``
    called (from the client's thread) with ``(response, error)`` once it ends."""

    def __init__(self, client: Client, peer: Peer, token: bytes, what: str, on_done: Callback | None) -> None:
        self.client = client
        self.peer = peer
        self.token = token
        self.what = what  # "GET coap://..." for messages
        self.response: Response | None = None
        self.error: CoapError | None = None
        self._done = threading.Event()
        self._on_done = on_done

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def finish(self, response: Response | None, error: CoapError | None) -> None:
        """Called once by the client (its thread, or a canceller) with the outcome."""
        if self._done.is_set():
            return
        self.response, self.error = response, error
        self._done.set()
        if self._on_done is not None:
            self._on_done(response, error)

    def wait(self, timeout: float | None = None) -> Response:
        """The response; CoapTimeout past ``timeout`` seconds (the exchange is then cancelled), or the
        error the exchange ended with."""
        if not self._done.wait(timeout):
            self.client.cancel(self, CoapTimeout(f"{self.what}: no response within {timeout:g} s"))
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response

    def cancel(self) -> None:
        """Stop it: no more retransmissions; a waiter gets CoapCancelled (nothing if it already ended)."""
        self.client.cancel(self, CoapCancelled(f"{self.what}: cancelled"))


Callback = Callable[[Response | None, CoapError | None], object]
Outcome = tuple[Exchange, Response | None, CoapError | None]


class Client:
    """CoAP requests from one UDP socket bound on ``bind`` (a loopback address by default)."""

    def __init__(self, bind: str = "127.0.0.1", *, allow_lan: bool = False, seed: int | None = None) -> None:
        self.allow_lan = allow_lan
        self._rng = random.Random(seed)
        self._layer = MessageLayer(random.Random(self._rng.getrandbits(64)), report_failures=True)
        self._lock = threading.Lock()
        self._exchanges: dict[tuple[Peer, bytes], Exchange] = {}
        self._closed = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind((bind, 0))
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._sock, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="coap client", daemon=True)
        self._thread.start()

    # -- requests ------------------------------------------------------------------------------------

    def start(
        self,
        method: int,
        uri: str,
        payload: bytes = b"",
        *,
        content_format: int | None = None,
        accept: int | None = None,
        options: list[tuple[int, bytes]] | None = None,
        confirmable: bool = True,
        on_done: Callback | None = None,
    ) -> Exchange:
        """Send a request; its :class:`Exchange` at once."""
        peer, uri_options = parse_uri(uri, self.allow_lan)
        extra = list(options or [])
        if content_format is not None:
            extra.append((Option.CONTENT_FORMAT, encode_uint(content_format)))
        if accept is not None:
            extra.append((Option.ACCEPT, encode_uint(accept)))
        all_options = sorted(uri_options + extra, key=lambda option: option[0])
        with self._lock:
            if self._closed:
                raise CoapError("the client is closed")
            token = self._fresh_token(peer)
            exchange = Exchange(self, peer, token, f"{Code(method).name} {uri}", on_done)
            self._exchanges[(peer, token)] = exchange
            msg = Message(
                CON if confirmable else NON, method, self._layer.next_mid(), token, all_options, payload
            )
            self._layer.send(msg, peer, time.monotonic())
            self._flush()
        self._wake()
        return exchange

    def request(
        self, method: int, uri: str, payload: bytes = b"", *, timeout: float | None = None, **kw: Any
    ) -> Response:
        """Send a request and wait for its response (see :meth:`start` for the keywords). ``timeout``
        None waits as long as the message layer tries (a NON request: MAX_TRANSMIT_WAIT)."""
        exchange = self.start(method, uri, payload, **kw)
        if timeout is None and not kw.get("confirmable", True):
            timeout = MAX_TRANSMIT_WAIT
        return exchange.wait(timeout)

    def get(self, uri: str, *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.GET, uri, timeout=timeout, **kw)

    def put(self, uri: str, payload: bytes = b"", *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.PUT, uri, payload, timeout=timeout, **kw)

    def post(self, uri: str, payload: bytes = b"", *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.POST, uri, payload, timeout=timeout, **kw)

    def delete(self, uri: str, *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.DELETE, uri, timeout=timeout, **kw)

    def cancel(self, exchange: Exchange, error: CoapError) -> None:
        """End ``exchange`` with ``error`` (see :meth:`Exchange.cancel`)."""
        with self._lock:
            if self._exchanges.get((exchange.peer, exchange.token)) is exchange:
                del self._exchanges[(exchange.peer, exchange.token)]
                if not self._closed:
                    self._layer.cancel(exchange.peer, exchange.token, time.monotonic())
                    self._flush()
        exchange.finish(None, error)

    def _fresh_token(self, peer: Peer) -> bytes:
        while True:
            token = os.urandom(4)
            if (peer, token) not in self._exchanges:
                return token

    # -- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                deadline = self._layer.next_deadline()
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                self._selector.select(wait)
            except (OSError, ValueError):
                return  # closed under us
            done: list[Outcome] = []
            with self._lock:
                if self._closed:
                    return
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
                now = time.monotonic()
                self._receive(now, done)
                self._layer.poll(now)
                self._failures(done)
                self._flush()
            for exchange, response, error in done:
                exchange.finish(response, error)

    def _receive(self, now: float, done: list[Outcome]) -> None:
        for _ in range(64):
            try:
                data, peer = self._sock.recvfrom(RECV_SIZE)
            except BlockingIOError:
                return
            except OSError:
                continue  # an ICMP error reported on the socket: the layer's timers handle it
            event = self._layer.receive(data, peer, now)
            if type(event) is ResponseReceived:
                exchange = self._exchanges.pop((peer, event.message.token), None)
                if exchange is not None:
                    done.append((exchange, Response.from_message(event.message, peer), None))

    def _failures(self, done: list[Outcome]) -> None:
        failures: list[ExchangeFailed] = self._layer.failures
        for failure in failures:
            exchange = self._exchanges.pop((failure.peer, failure.token), None)
            if exchange is None:
                continue
            if failure.reason == "reset":
                error: CoapError = CoapReset(f"{exchange.what}: the server answered RST")
            else:
                error = CoapTimeout(f"{exchange.what}: no response after every retransmission")
            done.append((exchange, None, error))
        failures.clear()

    def _flush(self) -> None:
        for data, peer in self._layer.outgoing:
            with contextlib.suppress(OSError):  # a full buffer or an ICMP error: the layer retransmits
                self._sock.sendto(data, peer)
        self._layer.outgoing.clear()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    # -- ending --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the thread and close the socket; every exchange still open ends with CoapCancelled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            left = list(self._exchanges.values())
            self._exchanges.clear()
        self._wake()
        if self._thread is not threading.current_thread():
            self._thread.join(2.0)
        for exchange in left:
            exchange.finish(None, CoapCancelled(f"{exchange.what}: the client was closed"))
        self._selector.close()
        for sock in (self._sock, self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
