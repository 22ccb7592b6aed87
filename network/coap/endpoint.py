"""The engine's sockets: one UDP socket and its message layer per endpoint (:class:`Endpoint`).

Every read and send is ``MSG_DONTWAIT``: the engine never waits in ``recvfrom``/``sendto``, whatever
the descriptor's blocking mode (a script can change it through ``Coap.socket()``, which shares it).
"""

from __future__ import annotations

import contextlib
import resource as _rlimit
import socket
from collections.abc import Callable
from typing import Any

from ..binding import bind
from .protocol.exchange import MessageLayer

RECV_SIZE = 65536  # larger than any UDP datagram
DONTWAIT = socket.MSG_DONTWAIT


class Endpoint:
    """One UDP socket and its message layer. ``peer`` is set for a client session (connected socket)."""

    __slots__ = ("sock", "layer", "peer", "send_sock", "multicast", "closed", "key", "recvfrom", "fast")

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
        self.recvfrom: Any = sock.recvfrom  # what the engine reads datagrams with (DTLS: decrypted ones)
        # (datagram, peer, now) -> the reply to send at once, or None for the message layer (.fastpath)
        self.fast: Callable[[bytes, Any, float], bytes | None] | None = None

    def flush(self) -> None:
        out = self.layer.outgoing
        if not out:
            return
        sendto = self.send_sock.sendto
        for data, peer in out:
            try:
                sendto(data, DONTWAIT, peer)
            except OSError:
                pass  # UDP is lossy by nature; CON requests are retransmitted
        out.clear()


def raise_fd_limit() -> None:
    """Thousands of sessions need thousands of descriptors: lift the soft limit to the hard one."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = _rlimit.getrlimit(_rlimit.RLIMIT_NOFILE)
        if hard == _rlimit.RLIM_INFINITY:
            hard = 1 << 20
        if soft < hard:
            _rlimit.setrlimit(_rlimit.RLIMIT_NOFILE, (hard, hard))


def udp_socket(address: tuple[str, int], remote: tuple[str, int] | None = None) -> socket.socket:
    """A non-blocking UDP socket bound to ``address`` (an address in use: the explained ``OSError``),
    connected to ``remote`` if given (a client session's)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        bind(sock, address)
        if remote is not None:
            sock.connect(remote)
    except OSError:
        sock.close()
        raise
    return sock


def multicast_socket(group: str, address: str, port: int) -> socket.socket:
    """A non-blocking UDP socket on ``group:port`` that joined ``group`` on the interface of ``address``."""
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
    return sock
