"""coaps:// endpoints for the engine (firmware 1.20.3.b3/b4's ``psk``): DTLS-PSK between an endpoint's
UDP socket and its message layer, with :mod:`.dtls` doing the protocol.

:class:`SecureEndpoint` looks to the engine like a plain :class:`~.endpoint.Endpoint`: its ``recvfrom``
reads raw datagrams, feeds them to the DTLS server or client (handshakes answered on the spot) and hands
out the CoAP datagrams they carried; its ``flush`` encrypts what the message layer queued. Its layer
(:class:`SecureLayer`) adds the DTLS timers to the message layer's, so the engine's timer loop polls
them. DTLS runs on the host's clock (Mbed TLS times its own retransmissions): the engine's board-clock
``now`` is only used to say how soon to come back.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from .dtls import DtlsError, DtlsPskClient, DtlsPskServer, Plaintext
from .endpoint import DONTWAIT, RECV_SIZE, Endpoint
from .protocol.exchange import MessageLayer

Dtls = DtlsPskServer | DtlsPskClient


class SecureLayer(MessageLayer):
    """The message layer of a DTLS endpoint: its timers include the DTLS ones."""

    dtls: Dtls

    def poll(self, now: float) -> int:
        self.board_now = now
        self.dtls.poll(time.monotonic())
        return super().poll(now)

    def next_deadline(self) -> float | None:
        due = super().next_deadline()
        host_due = self.dtls.next_deadline()
        if host_due is None:
            return due
        board_due = self.board_now + max(host_due - time.monotonic(), 0.0)  # at most this soon on board time
        return board_due if due is None else min(due, board_due)

    def pending_count(self) -> int:
        return super().pending_count() + (self.dtls.next_deadline() is not None)

    board_now = 0.0  # the engine's clock at the last poll, for next_deadline


class SecureEndpoint(Endpoint):
    """An endpoint whose datagrams go through DTLS (``dtls``: the server's sessions, or one client)."""

    __slots__ = ("dtls", "_plain")

    def __init__(self, sock: socket.socket, layer: SecureLayer, dtls: Dtls, **kw: Any) -> None:
        super().__init__(sock, layer, **kw)
        layer.dtls = dtls
        self.dtls = dtls
        self._plain: list[tuple[bytes, Any]] = []
        self.recvfrom = self._recvfrom  # what the engine reads with

    def _recvfrom(self, size: int, flags: int = 0) -> tuple[bytes, Any]:
        """The next CoAP datagram the peers sent through DTLS; BlockingIOError when none is ready."""
        while not self._plain:
            data, peer = self.sock.recvfrom(RECV_SIZE, DONTWAIT)  # BlockingIOError ends the engine's batch
            now = time.monotonic()
            if isinstance(self.dtls, DtlsPskServer):
                for event in self.dtls.receive(data, peer, now):
                    if isinstance(event, Plaintext):
                        self._plain.append((event.data, event.peer))
            else:
                self._plain.extend((plain, peer) for plain in self.dtls.receive(data, now))
            self._send_dtls()
        return self._plain.pop(0)

    def flush(self) -> None:
        out = self.layer.outgoing
        dtls = self.dtls
        for data, peer in out:
            with contextlib.suppress(DtlsError):  # not established (yet, or any more): CONs retransmit
                if isinstance(dtls, DtlsPskServer):
                    dtls.send(data, peer)
                elif dtls.established:
                    dtls.send(data)
        out.clear()
        self._send_dtls()

    def _send_dtls(self) -> None:
        dtls = self.dtls
        if isinstance(dtls, DtlsPskServer):
            records = dtls.outgoing
        else:
            records = [(data, self.peer) for data in dtls.outgoing]
        for data, peer in records:
            with contextlib.suppress(OSError):
                self.send_sock.sendto(data, DONTWAIT, peer)
        dtls.outgoing.clear()


def secure_server(sock: socket.socket, layer: SecureLayer, psk: bytes, hint: bytes) -> SecureEndpoint:
    """A coaps:// server endpoint: any PSK identity with ``psk`` (libcoap's ``coap_context_set_psk``
    takes one key for every identity), ``hint`` as the server's identity hint."""
    return SecureEndpoint(sock, layer, DtlsPskServer(hint, lambda identity: psk))


def secure_session(
    sock: socket.socket, layer: SecureLayer, remote: tuple[str, int], identity: bytes, psk: bytes
) -> SecureEndpoint:
    """A coaps:// client session to ``remote``; the handshake starts at once."""
    client = DtlsPskClient(identity, psk)
    endpoint = SecureEndpoint(sock, layer, client, peer=remote)
    client.start(time.monotonic())
    endpoint.flush()
    return endpoint
