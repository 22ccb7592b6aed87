"""What a DTLS endpoint reports: the server's events and the errors both sides raise or keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Peer = Any  # a socket address tuple, as the CoAP message layer uses


@dataclass(frozen=True, slots=True)
class Plaintext:
    """A datagram of application data (a CoAP message) decrypted from ``peer``."""

    peer: Peer
    data: bytes


@dataclass(frozen=True, slots=True)
class Established:
    """The handshake with ``peer`` finished; it used the PSK of ``identity``."""

    peer: Peer
    identity: bytes | None


@dataclass(frozen=True, slots=True)
class Closed:
    """The session (or handshake) with ``peer`` ended; ``reason`` says why, in words."""

    peer: Peer
    reason: str


Event = Plaintext | Established | Closed


class DtlsError(Exception):
    """A DTLS session cannot be used: it failed, or it was closed."""


class HandshakeFailed(DtlsError):
    """The handshake ended without a session: the peer's alert, a key that did not match, no common
    cipher suite ..."""


class HandshakeTimeout(HandshakeFailed):
    """The handshake got no (usable) answer within the configured time."""


class NotEstablished(DtlsError):
    """Application data for a peer with no established session."""
