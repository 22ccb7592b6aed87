"""What a DTLS endpoint of ours may do: cipher suites, retransmission timers, limits (one frozen object)."""

from __future__ import annotations

from dataclasses import dataclass

# RFC 7252 §9.1.3.1: a CoAP PSK endpoint implements TLS_PSK_WITH_AES_128_CCM_8, so it comes first. The
# others are plain-PSK AEAD/CBC suites a peer might prefer (libcoap's OpenSSL build offers CCM_8 too).
PSK_CIPHERS: tuple[str, ...] = (
    "TLS-PSK-WITH-AES-128-CCM-8",
    "TLS-PSK-WITH-AES-128-CCM",
    "TLS-PSK-WITH-AES-128-GCM-SHA256",
    "TLS-PSK-WITH-AES-256-GCM-SHA384",
    "TLS-PSK-WITH-CHACHA20-POLY1305-SHA256",
    "TLS-PSK-WITH-AES-128-CBC-SHA256",
)


@dataclass(frozen=True)
class DtlsConfig:
    """``retransmit_initial``/``retransmit_max``: RFC 6347 §4.2.4.1's handshake timer (1 s, doubled up
    to 60 s). ``handshake_timeout``: a handshake not finished this long after it started fails.
    ``idle_timeout``: a server closes a session with no datagram either way for this long.
    ``max_sessions``: sessions and handshakes a server keeps at once (the least recently active goes).
    ``mtu``: outgoing records are packed into datagrams up to this size."""

    ciphers: tuple[str, ...] = PSK_CIPHERS
    retransmit_initial: float = 1.0
    retransmit_max: float = 60.0
    handshake_timeout: float = 60.0
    idle_timeout: float = 600.0
    max_sessions: int = 1000
    mtu: int = 1280

    def __post_init__(self) -> None:
        if not self.ciphers:
            raise ValueError("DtlsConfig needs at least one cipher suite")
        if not 0 < self.retransmit_initial <= self.retransmit_max:
            raise ValueError("DtlsConfig needs 0 < retransmit_initial <= retransmit_max")
        if self.handshake_timeout <= 0 or self.idle_timeout <= 0:
            raise ValueError("DtlsConfig's timeouts must be positive")
        if self.max_sessions < 1 or self.mtu < 64:
            raise ValueError("DtlsConfig needs max_sessions >= 1 and mtu >= 64")
