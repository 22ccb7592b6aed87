"""DTLS 1.2 with pre-shared keys for coaps:// (RFC 7252 §9.1.3.1, RFC 6347), without I/O, on
python-mbedtls (Mbed TLS 2.28): :class:`DtlsPskServer` (sessions by peer, cookies, limits) and
:class:`DtlsPskClient` (one session). The CoAP I/O layer puts them between its UDP socket and the codec.

Their ``now`` arguments are seconds on a clock that runs at host speed (``time.monotonic()``): Mbed TLS
times handshake retransmissions on the host's clock itself (see ``session``).

Inside: ``config`` (the knobs), ``events`` (what they report), ``record`` (record framing read without
keys), ``session`` (the one module that uses Mbed TLS), ``server``, ``client``.
"""

from __future__ import annotations

from .client import DtlsPskClient
from .config import PSK_CIPHERS, DtlsConfig
from .events import (
    Closed,
    DtlsError,
    Established,
    Event,
    HandshakeFailed,
    HandshakeTimeout,
    NotEstablished,
    Plaintext,
)
from .server import DtlsPskServer

__all__ = [
    "PSK_CIPHERS",
    "Closed",
    "DtlsConfig",
    "DtlsError",
    "DtlsPskClient",
    "DtlsPskServer",
    "Established",
    "Event",
    "HandshakeFailed",
    "HandshakeTimeout",
    "NotEstablished",
    "Plaintext",
]
