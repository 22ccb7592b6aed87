"""A synchronous CoAP client for the host side: tests, tools, the pytest plugin, ``firmware-sim coap``.

Not part of Pycom's API (a board script never sees it). In the style of aiocoap's and IPWorks' clients,
on the project's sans-I/O message layer (:mod:`..protocol.exchange`: RFC 7252 retransmission, NSTART,
de-duplication, separate responses) and one UDP socket served by one thread::

    from network.coap.client import Client

    with Client() as coap:
        response = coap.get("coap://127.0.0.2/temperature", timeout=5)
        print(response.code, response.text)          # 2.05 21.5

``request``/``get``/``put``/``post``/``delete`` wait for the response, block-wise when large (RFC 7959:
:mod:`.transfer`); :meth:`Client.start` returns an :class:`Exchange` at once (wait, cancel, ``on_done``);
:meth:`Client.observe` follows a resource (RFC 7641, :mod:`.observing`); ``coaps://`` goes through DTLS
with a PSK (:mod:`.secure`). An exchange that ends without a response raises, for whoever waits,
:class:`CoapTimeout`, :class:`CoapReset` (RST) or :class:`CoapCancelled`; an error code is a response.

Addresses: loopback only (127.0.0.0/8, ``localhost``) unless ``allow_lan=True``; no host name is looked
up. Time is the host's monotonic clock.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from ..dtls import DtlsConfig
from ..protocol.codec import Message, encode_uint
from ..protocol.exchange import ExchangeFailed, MessageLayer, ResponseReceived
from ..protocol.numbers import Code, Option
from .exchange import (
    CON,
    MAX_TRANSMIT_WAIT,
    NON,
    Callback,
    CoapCancelled,
    CoapError,
    CoapReset,
    CoapTimeout,
    Exchange,
    Peer,
    Response,
    parse_uri,
    secure,
)
from .observing import Notify, Observing, OnError
from .secure import SecurePeers
from .transfer import transfer

RECV_SIZE = 65536
MAX_BODY = 16 * 1024 * 1024  # the largest block-wise body a request reassembles
Options = list[tuple[int, bytes]]
Later = Callable[[], object]  # what the thread does once it has let go of the lock


class Client:
    """CoAP requests from one UDP socket bound on ``bind`` (a loopback address by default)."""

    def __init__(
        self,
        bind: str = "127.0.0.1",
        *,
        allow_lan: bool = False,
        seed: int | None = None,
        psk: bytes | None = None,
        identity: bytes | None = None,
        dtls: DtlsConfig | None = None,
    ) -> None:
        if (psk is None) != (identity is None):
            raise ValueError("coaps:// needs both psk= and identity= (the pre-shared key and its identity)")
        self.allow_lan = allow_lan
        self._secure = None if psk is None or identity is None else SecurePeers(identity, psk, dtls)
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

    def _target(
        self, uri: str, content_format: int | None, accept: int | None, options: Options | None
    ) -> tuple[Peer, Options]:
        """The server of ``uri`` and the request's options; a coaps:// server's DTLS handshake starts here."""
        peer, uri_options = parse_uri(uri, self.allow_lan)
        if secure(uri):
            if self._secure is None:
                raise ValueError(f"{uri}: coaps:// needs a client made with psk= and identity=")
            with self._lock:
                self._secure.open(peer, time.monotonic())
                self._flush()
        extra = list(options or [])
        if content_format is not None:
            extra.append((Option.CONTENT_FORMAT, encode_uint(content_format)))
        if accept is not None:
            extra.append((Option.ACCEPT, encode_uint(accept)))
        return peer, uri_options + extra  # encode() writes them in number order

    def _send(
        self, exchange: Exchange, method: int, options: Options, payload: bytes, confirmable: bool
    ) -> None:
        """Register ``exchange`` and send its request (under the lock)."""
        with self._lock:
            if self._closed:
                raise CoapError("the client is closed")
            self._exchanges[(exchange.peer, exchange.token)] = exchange
            mtype = CON if confirmable else NON
            msg = Message(mtype, method, self._layer.next_mid(), exchange.token, options, payload)
            self._layer.send(msg, exchange.peer, time.monotonic())
            self._flush()
        self._wake()

    def _new_token(self, peer: Peer) -> bytes:
        with self._lock:
            while True:
                token = os.urandom(4)
                if (peer, token) not in self._exchanges:
                    return token

    def start(
        self,
        method: int,
        uri: str,
        payload: bytes = b"",
        *,
        content_format: int | None = None,
        accept: int | None = None,
        options: Options | None = None,
        confirmable: bool = True,
        on_done: Callback | None = None,
    ) -> Exchange:
        """Send one request (no block-wise transfer); its :class:`Exchange` at once."""
        peer, all_options = self._target(uri, content_format, accept, options)
        exchange = Exchange(self, peer, self._new_token(peer), f"{Code(method).name} {uri}", on_done)
        self._send(exchange, method, all_options, payload, confirmable)
        return exchange

    def request(
        self,
        method: int,
        uri: str,
        payload: bytes = b"",
        *,
        timeout: float | None = None,
        content_format: int | None = None,
        accept: int | None = None,
        options: Options | None = None,
        confirmable: bool = True,
        block_size: int | None = None,
        on_block: Callable[[int, bytes, bool], object] | None = None,
        max_size: int = MAX_BODY,
    ) -> Response:
        """Send a request and wait for its response, block-wise where needed. ``timeout``: for the whole
        transfer (None: as long as the message layer tries; a NON request: MAX_TRANSMIT_WAIT).
        ``block_size`` (16 .. 1024 bytes): ask for blocks of that size and send a larger ``payload``
        in Block1 blocks of it (default 1024); ``on_block(offset, data, last)`` for each block of a
        Block2 response; ``max_size`` bounds the body reassembled."""
        if timeout is None and not confirmable:
            timeout = MAX_TRANSMIT_WAIT
        deadline = None if timeout is None else time.monotonic() + timeout
        peer, all_options = self._target(uri, content_format, accept, options)
        what = f"{Code(method).name} {uri}"

        def send(code: int, opts: Options, body: bytes, left: float | None) -> tuple[Message, Peer]:
            exchange = Exchange(self, peer, self._new_token(peer), what, None)
            self._send(exchange, code, opts, body, confirmable)
            try:
                exchange.wait(left)
            except CoapTimeout:
                raise CoapTimeout(f"{what}: no response within {timeout:g} s") from None
            assert exchange.message is not None
            return exchange.message, peer

        return transfer(send, method, all_options, payload, deadline, block_size, on_block, max_size)

    def get(self, uri: str, *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.GET, uri, timeout=timeout, **kw)

    def put(self, uri: str, payload: bytes = b"", *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.PUT, uri, payload, timeout=timeout, **kw)

    def post(self, uri: str, payload: bytes = b"", *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.POST, uri, payload, timeout=timeout, **kw)

    def delete(self, uri: str, *, timeout: float | None = None, **kw: Any) -> Response:
        return self.request(Code.DELETE, uri, timeout=timeout, **kw)

    def observe(
        self,
        uri: str,
        callback: Notify,
        *,
        on_error: OnError | None = None,
        accept: int | None = None,
        options: Options | None = None,
    ) -> Observing:
        """Observe ``uri`` (RFC 7641): ``callback(response)`` for the first response and each fresh
        notification, in order, from the client's thread, until ``cancel()`` or the server ends it;
        ``on_error(error)`` if the registration gets no answer. The handle at once."""
        peer, all_options = self._target(uri, None, accept, options)
        all_options = [*all_options, (Option.OBSERVE, b"")]
        token = self._new_token(peer)
        request = Message(CON, Code.GET, 0, token, all_options)
        handle = Observing(self, peer, request, f"observe {uri}", callback, on_error)
        with self._lock:
            self._layer.listening.add((peer, token))
        self._send(handle, Code.GET, all_options, b"", True)
        return handle

    # -- what exchanges ask of the client ------------------------------------------------------------

    def send_built(self, exchange: Exchange, build: Callable[[int], Message]) -> None:
        """Send the message ``build(mid)`` makes for ``exchange`` (its token: a re-registration, a
        cancel); a CON is retransmitted and its failure ends the exchange."""
        with self._lock:
            if self._closed:
                return
            msg = build(self._layer.next_mid())
            self._layer.send(msg, exchange.peer, time.monotonic())
            self._flush()
        self._wake()

    def unlisten(self, exchange: Exchange) -> None:
        """Stop accepting responses for ``exchange``'s token once its own requests are answered."""
        with self._lock:
            self._layer.listening.discard((exchange.peer, exchange.token))

    def forget(self, exchange: Exchange) -> None:
        """``exchange`` is over: no response reaches it any more."""
        with self._lock:
            if self._exchanges.get((exchange.peer, exchange.token)) is exchange:
                del self._exchanges[(exchange.peer, exchange.token)]

    def cancel(self, exchange: Exchange, error: CoapError) -> None:
        """End ``exchange`` with ``error`` (see :meth:`Exchange.cancel`)."""
        with self._lock:
            if self._exchanges.get((exchange.peer, exchange.token)) is exchange:
                del self._exchanges[(exchange.peer, exchange.token)]
                if not self._closed:
                    self._layer.cancel(exchange.peer, exchange.token, time.monotonic())
                    self._flush()
        exchange.finish(None, error)

    # -- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                times = [t for t in (e.next_time() for e in self._exchanges.values() if e.persistent) if t]
                deadline = self._layer.next_deadline()
                if self._secure is not None:
                    dtls_due = self._secure.next_deadline()
                    if dtls_due is not None:
                        times.append(dtls_due)
            if times:
                deadline = min(times) if deadline is None else min(deadline, *times)
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                self._selector.select(wait)
            except (OSError, ValueError):
                return  # closed under us
            later: list[Later] = []
            with self._lock:
                if self._closed:
                    return
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
                now = time.monotonic()
                self._receive(now, later)
                self._layer.poll(now)
                if self._secure is not None:
                    self._secure.poll(now)
                    self._dtls_failures(later)
                self._failures(later)
                self._flush()
                for exchange in list(self._exchanges.values()):
                    due = exchange.next_time() if exchange.persistent else None
                    if due is not None and due <= now:
                        later.append(functools.partial(exchange.on_time, now))
            for job in later:
                job()

    def _receive(self, now: float, later: list[Later]) -> None:
        for _ in range(64):
            try:
                data, peer = self._sock.recvfrom(RECV_SIZE)
            except BlockingIOError:
                return
            except OSError:
                continue  # an ICMP error reported on the socket: the layer's timers handle it
            if self._secure is not None and peer in self._secure.sessions:
                for plain in self._secure.unwrap(data, peer, now):
                    self._handle(plain, peer, now, later)
                continue
            self._handle(data, peer, now, later)

    def _handle(self, data: bytes, peer: Peer, now: float, later: list[Later]) -> None:
        """One CoAP datagram from ``peer`` (decrypted, for a coaps:// peer)."""
        event = self._layer.receive(data, peer, now)
        if type(event) is ResponseReceived:
            key = (peer, event.message.token)
            exchange = self._exchanges.get(key)
            if exchange is None:
                return
            if not exchange.persistent:
                del self._exchanges[key]
            later.append(functools.partial(exchange.deliver, event.message, peer, now))

    def _failures(self, later: list[Later]) -> None:
        failures: list[ExchangeFailed] = self._layer.failures
        for failure in failures:
            exchange = self._exchanges.pop((failure.peer, failure.token), None)
            if exchange is None:
                continue
            if failure.reason == "reset":
                error: CoapError = CoapReset(f"{exchange.what}: the server answered RST")
            else:
                error = CoapTimeout(f"{exchange.what}: no response after every retransmission")
            later.append(functools.partial(exchange.finish, None, error))
        failures.clear()

    def _dtls_failures(self, later: list[Later]) -> None:
        """Every exchange with a server whose DTLS session failed ends with that error."""
        assert self._secure is not None
        for peer, error in self._secure.failures():
            for key, exchange in list(self._exchanges.items()):
                if key[0] == peer:
                    del self._exchanges[key]
                    self._layer.cancel(peer, key[1], time.monotonic())
                    failed = CoapError(f"{exchange.what}: DTLS with {peer[0]}:{peer[1]}: {error}")
                    later.append(functools.partial(exchange.finish, None, failed))

    def _flush(self) -> None:
        secure = self._secure
        for data, peer in self._layer.outgoing:
            if secure is not None and peer in secure.sessions:
                secure.wrap(data, peer)
                continue
            with contextlib.suppress(OSError):  # a full buffer or an ICMP error: the layer retransmits
                self._sock.sendto(data, peer)
        self._layer.outgoing.clear()
        if secure is not None:
            for data, peer in secure.outgoing:
                with contextlib.suppress(OSError):
                    self._sock.sendto(data, peer)
            secure.outgoing.clear()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    # -- ending --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the thread and close the socket; every exchange still open ends with CoapCancelled."""
        with self._lock:
            if self._closed:
                return
            if self._secure is not None:
                self._secure.close()
                self._flush()
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
