"""A DTLS 1.2 PSK client without I/O: one session with one server (CoAP's coaps://, RFC 7252 §9.1).

:meth:`DtlsPskClient.start` writes the ClientHello; feed the server's datagrams to :meth:`receive`,
which returns the application data (CoAP datagrams) they carried; datagrams to send accumulate in
:attr:`DtlsPskClient.outgoing`. Call :meth:`poll` at :meth:`next_deadline` for retransmissions (see
:mod:`.session` on the clock) and the handshake's bound. A handshake that fails leaves its error in
:attr:`failed`: :class:`HandshakeFailed` (the server's alert, a key that does not match ...) or
:class:`HandshakeTimeout` (no usable answer within ``config.handshake_timeout``; libcoap's OpenSSL
server answers a Finished made with a wrong key with silence, so that is how a wrong key shows there).
"""

from __future__ import annotations

from .config import DtlsConfig
from .events import DtlsError, NotEstablished
from .session import TlsSession, client_context


class DtlsPskClient:
    """The client side of coaps:// with the pre-shared key ``key`` for ``identity``."""

    def __init__(self, identity: bytes, key: bytes, config: DtlsConfig | None = None) -> None:
        self.identity = identity
        self.config = config or DtlsConfig()
        self.context = client_context(self.config, identity, key)
        self.session: TlsSession | None = None
        self.outgoing: list[bytes] = []

    def start(self, now: float) -> None:
        """Begin the handshake (again, from scratch, if one was started before)."""
        self.session = TlsSession.connect(self.context, self.config, now)
        self._collect()

    def receive(self, datagram: bytes, now: float) -> list[bytes]:
        """One datagram from the server; returns the application data it carried."""
        if self.session is None:
            return []
        plaintexts = self.session.feed(datagram, now)
        self._collect()
        return plaintexts

    def send(self, data: bytes) -> None:
        """Encrypt one datagram of application data; the failure if the session failed or was closed,
        :class:`NotEstablished` before the handshake finished."""
        if self.session is None:
            raise NotEstablished("the DTLS handshake has not started")
        try:
            self.session.write(data)
        finally:
            self._collect()

    @property
    def established(self) -> bool:
        """The handshake finished and the session was not closed since."""
        return self.session is not None and self.session.established and self.session.closed is None

    @property
    def failed(self) -> DtlsError | None:
        """Why the session ended (a handshake failure, the server's close_notify, :meth:`close`), or None."""
        return None if self.session is None else self.session.failure

    @property
    def cipher(self) -> str | None:
        """The cipher suite the handshake chose, Mbed TLS's name (``TLS-PSK-WITH-AES-128-CCM-8``)."""
        return None if self.session is None else self.session.cipher

    def next_deadline(self) -> float | None:
        return None if self.session is None else self.session.deadline()

    def poll(self, now: float) -> None:
        if self.session is not None:
            self.session.poll(now)
            self._collect()

    def close(self) -> None:
        """End the session (close_notify if it was established)."""
        if self.session is not None:
            self.session.close("closed by this client")
            self._collect()

    def _collect(self) -> None:
        assert self.session is not None
        self.outgoing.extend(self.session.outgoing)
        self.session.outgoing.clear()
