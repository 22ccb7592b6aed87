"""``board.coap``: a small CoAP client a test uses on the board it booted (pytest plugin).

Requests are built and read with the project's own sans-I/O codec (:mod:`network.coap.protocol.codec`)
and go out from one UDP socket: a CON request with a fresh token, retransmitted as RFC 7252 §4.2 says
(first wait ACK_TIMEOUT .. ACK_TIMEOUT * ACK_RANDOM_FACTOR, doubling, at most MAX_RETRANSMIT times) but
never past the call's ``timeout``. A piggybacked response comes in the ACK; after an empty ACK the client
waits for the separate response and acknowledges it when it is a CON (§5.2.2). An RST, or no response
within ``timeout``, raises :class:`CoapError`.

A simulated board's address is known; a real one's is not, so there a test gives ``address=`` (to
:meth:`TestBoard.coap <firmware_sim.testkit.board.TestBoard.coap>` calls) or is skipped with the reason.
"""

from __future__ import annotations

import ipaddress
import os
import random
import socket
import time
from dataclasses import dataclass, field

import pytest

from network.coap.protocol.codec import Message, ParseError, decode, encode, encode_uint
from network.coap.protocol.numbers import ACK_RANDOM_FACTOR, ACK_TIMEOUT, MAX_RETRANSMIT, Code, Option

CON, NON, ACK, RST = 0, 1, 2, 3
COAP_PORT = 5683


class CoapError(Exception):
    """The request got no response within its timeout, or the board reset it (RST)."""


@dataclass
class CoapResponse:
    """A response: ``code`` as the RFC writes it (``"2.05"``), ``number`` the code byte (69)."""

    code: str
    number: int
    options: list[tuple[int, bytes]] = field(default_factory=list)
    payload: bytes = b""

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


def dotted(code: int) -> str:
    """``69`` -> ``"2.05"`` (class.detail, RFC 7252 §3)."""
    return f"{code >> 5}.{code & 0x1F:02d}"


def request_options(path: str, content_format: int | None) -> list[tuple[int, bytes]]:
    """Uri-Path segments (and Uri-Query after a ``?``) of ``path``, and the Content-Format."""
    path, _, query = path.partition("?")
    options = [(int(Option.URI_PATH), part.encode()) for part in path.strip("/").split("/") if part]
    if content_format is not None:
        options.append((int(Option.CONTENT_FORMAT), encode_uint(content_format)))
    options += [(int(Option.URI_QUERY), part.encode()) for part in query.split("&") if part]
    return sorted(options, key=lambda option: option[0])


class CoapClient:
    """GET/PUT/POST/DELETE to ``address`` (port ``port``) from one UDP socket, opened on first use."""

    def __init__(self, address: str | None, port: int = COAP_PORT) -> None:
        self.address = address
        self.port = port
        self._socket: socket.socket | None = None
        self._mid = random.randrange(0x10000)

    def _target(self, address: str | None) -> str:
        target = address or self.address
        if target is None:
            pytest.skip("board.coap: the board's address is unknown on a real board: pass address=")
        return target

    def _open(self, target: str) -> socket.socket:
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            local = "127.0.0.1" if ipaddress.ip_address(target).is_loopback else "0.0.0.0"
            sock.bind((local, 0))
            self._socket = sock
        return self._socket

    def request(
        self,
        method: int,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> CoapResponse:
        """Send one CON request and return its response (see the module's docstring)."""
        target = (self._target(address), self.port)
        sock = self._open(target[0])
        self._mid = (self._mid + 1) & 0xFFFF
        token = os.urandom(4)
        datagram = encode(
            Message(CON, method, self._mid, token, request_options(path, content_format), payload)
        )
        deadline = time.monotonic() + timeout
        wait = random.uniform(ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR)
        retransmits, acked = 0, False
        sock.sendto(datagram, target)
        resend_at = time.monotonic() + wait
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise CoapError(
                    f"no response to {dotted(method)} {path} from {target[0]} within {timeout:g} s"
                )
            if not acked and now >= resend_at and retransmits < MAX_RETRANSMIT:
                sock.sendto(datagram, target)
                retransmits += 1
                wait *= 2
                resend_at = now + wait
            limit = deadline if acked or retransmits >= MAX_RETRANSMIT else min(deadline, resend_at)
            sock.settimeout(max(0.001, limit - now))
            try:
                data, peer = sock.recvfrom(65536)
            except TimeoutError:
                continue
            if peer != target:
                continue
            try:
                msg = decode(data)
            except ParseError:
                continue
            if msg.mid == self._mid and msg.mtype == RST:
                raise CoapError(f"{dotted(method)} {path}: the board reset the request (RST)")
            if msg.mid == self._mid and msg.mtype == ACK and msg.code == 0:
                acked = True  # a separate response follows (§5.2.2)
                continue
            if msg.token != token or msg.code == 0:
                continue
            if msg.mtype == CON:
                sock.sendto(encode(Message(ACK, 0, msg.mid)), target)
            if msg.mtype == ACK and msg.mid != self._mid:
                continue
            return CoapResponse(dotted(msg.code), msg.code, list(msg.options), msg.payload)

    def get(self, path: str, timeout: float = 5.0, address: str | None = None) -> CoapResponse:
        return self.request(Code.GET, path, timeout=timeout, address=address)

    def put(
        self,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> CoapResponse:
        return self.request(Code.PUT, path, payload, content_format, timeout, address)

    def post(
        self,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> CoapResponse:
        return self.request(Code.POST, path, payload, content_format, timeout, address)

    def delete(
        self,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> CoapResponse:
        return self.request(Code.DELETE, path, payload, content_format, timeout, address)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
