"""What a client request is and how it ends: :class:`Response`, the errors, :func:`parse_uri`, and
:class:`Exchange` (one request on its way, waited on, cancelled or called back)."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..protocol.codec import Message
from ..protocol.numbers import CODE_NAMES, Option

if TYPE_CHECKING:
    from .core import Client

CON, NON = 0, 1
DEFAULT_PORT = 5683
DEFAULT_SECURE_PORT = 5684
MAX_TRANSMIT_WAIT = 93.0  # RFC 7252 §4.8.2: the longest a CON exchange can take
RECV_SIZE = 65536
Peer = tuple[str, int]


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
        name = CODE_NAMES.get(self.number)
        return f"{self.code} {name}" if name else self.code


def secure(uri: str) -> bool:
    """Is ``uri`` a ``coaps://`` one (DTLS, RFC 7252 §6.2)?"""
    return urlsplit(uri).scheme == "coaps"


def parse_uri(uri: str, allow_lan: bool = False) -> tuple[Peer, list[tuple[int, bytes]]]:
    """``coap://host[:port]/path?query`` (or ``coaps://``, port 5684) -> the server's address and its
    Uri-Path/Uri-Query options (RFC 7252 §6.4). ValueError naming what is wrong."""
    parts = urlsplit(uri)
    if parts.scheme not in ("coap", "coaps"):
        scheme = parts.scheme or "none"
        raise ValueError(f"{uri}: scheme {scheme}; give a coap://host/path (or coaps://) URI")
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
        port = parts.port or (DEFAULT_SECURE_PORT if parts.scheme == "coaps" else DEFAULT_PORT)
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
        self.message: Message | None = None  # the response as it came (block-wise transfers read it)
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

    # what the client's thread calls (outside its lock)

    persistent = False  # True: stays registered after a response (an observation)

    def deliver(self, msg: Message, peer: Peer, now: float) -> None:
        """A response with this exchange's token came."""
        self.message = msg
        self.finish(Response.from_message(msg, peer), None)

    def next_time(self) -> float | None:
        """When :meth:`on_time` wants to be called (None: never)."""
        return None

    def on_time(self, now: float) -> None:
        """Its time (:meth:`next_time`) has come."""


Callback = Callable[[Response | None, CoapError | None], object]
Outcome = tuple[Exchange, Response | None, CoapError | None]
