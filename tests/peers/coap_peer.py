"""A plain UDP socket standing in for a CoAP server, for tests that look at the exact datagrams a
board sends: it receives, decodes, answers a piggy-backed 2.05, or shows that nothing came."""

from __future__ import annotations

import socket

from network.coap.protocol.codec import Message, decode, encode
from network.host import free_address

MAX_DATAGRAM = 70000  # more than any UDP datagram: nothing is cut
ACK = 2


class Peer:
    """A UDP socket bound on ``ip`` (default: a fresh loopback address) and ``port``."""

    def __init__(self, port: int = 5683, ip: str | None = None) -> None:
        self.ip = ip or free_address(port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ip, port))

    def recv_wire(self, timeout: float = 3.0) -> tuple[Message, tuple[str, int], bytes]:
        """The next datagram, decoded, with where it came from and its bytes."""
        self.sock.settimeout(timeout)
        data, source = self.sock.recvfrom(MAX_DATAGRAM)
        return decode(data), source, data

    def recv(self, timeout: float = 3.0) -> tuple[Message, tuple[str, int]]:
        msg, source, _ = self.recv_wire(timeout)
        return msg, source

    def nothing(self, timeout: float = 0.3) -> bool:
        """True if nothing arrives within ``timeout`` seconds."""
        self.sock.settimeout(timeout)
        try:
            self.sock.recvfrom(MAX_DATAGRAM)
        except TimeoutError:
            return True
        return False

    def answer(self, msg: Message, source: tuple[str, int], payload: bytes) -> None:
        """Piggy-backed 2.05 with ``payload``."""
        self.sock.sendto(encode(Message(ACK, 69, msg.mid, msg.token, [], payload)), source)

    def close(self) -> None:
        self.sock.close()
