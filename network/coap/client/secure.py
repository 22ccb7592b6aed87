"""The client's coaps:// peers: one DTLS-PSK session (:class:`~network.coap.dtls.DtlsPskClient`) per
server, between the message layer and the socket, without I/O.

A request to a server with no session starts the handshake; the CoAP datagrams the message layer sends
meanwhile wait (at most :data:`MAX_WAITING` per server, duplicates once: retransmissions of the same
CON) and go out encrypted once it is established. A session that fails (a wrong key, no answer, the
server's alert or close_notify) is reported once by :meth:`SecurePeers.failures` and forgotten, so the
next request starts a new handshake.
"""

from __future__ import annotations

from ..dtls import DtlsConfig, DtlsError, DtlsPskClient
from .exchange import Peer

MAX_WAITING = 64  # CoAP datagrams kept per server while its handshake runs


class SecurePeers:
    """DTLS sessions by server address, for one identity and key."""

    def __init__(self, identity: bytes, key: bytes, config: DtlsConfig | None = None) -> None:
        self.identity, self.key = identity, key
        self.config = config or DtlsConfig()
        self.sessions: dict[Peer, DtlsPskClient] = {}
        self.waiting: dict[Peer, list[bytes]] = {}
        self.outgoing: list[tuple[bytes, Peer]] = []  # encrypted datagrams to send
        self._failed: list[tuple[Peer, DtlsError]] = []

    def open(self, peer: Peer, now: float) -> None:
        """Make sure a session with ``peer`` exists (its handshake starts now if not)."""
        if peer not in self.sessions:
            session = DtlsPskClient(self.identity, self.key, self.config)
            self.sessions[peer] = session
            session.start(now)
            self._collect(peer)

    def wrap(self, data: bytes, peer: Peer) -> None:
        """A CoAP datagram for ``peer``: encrypted now, or kept until the handshake is done."""
        session = self.sessions.get(peer)
        if session is None:
            return  # failed and forgotten: the message layer's exchange fails by its own timer
        if session.established:
            try:
                session.send(data)
            except DtlsError as err:
                self._fail(peer, err)
            self._collect(peer)
            return
        queue = self.waiting.setdefault(peer, [])
        if data not in queue and len(queue) < MAX_WAITING:
            queue.append(data)

    def unwrap(self, datagram: bytes, peer: Peer, now: float) -> list[bytes]:
        """A datagram from ``peer``: the CoAP datagrams it carried (none during the handshake)."""
        session = self.sessions.get(peer)
        if session is None:
            return []
        plaintexts = session.receive(datagram, now)
        self._after(peer, session)
        return plaintexts

    def next_deadline(self) -> float | None:
        times = [t for t in (s.next_deadline() for s in self.sessions.values()) if t is not None]
        return min(times) if times else None

    def poll(self, now: float) -> None:
        for peer, session in list(self.sessions.items()):
            session.poll(now)
            self._after(peer, session)

    def failures(self) -> list[tuple[Peer, DtlsError]]:
        """The sessions that failed since the last call (each once)."""
        out, self._failed = self._failed, []
        return out

    def close(self) -> None:
        """close_notify to every established server."""
        for peer, session in self.sessions.items():
            session.close()
            self._collect(peer)

    def _after(self, peer: Peer, session: DtlsPskClient) -> None:
        self._collect(peer)
        if session.failed is not None:
            self._fail(peer, session.failed)
        elif session.established and self.waiting.get(peer):
            for data in self.waiting.pop(peer):
                self.wrap(data, peer)

    def _fail(self, peer: Peer, error: DtlsError) -> None:
        if self.sessions.pop(peer, None) is not None:
            self.waiting.pop(peer, None)
            self._failed.append((peer, error))

    def _collect(self, peer: Peer) -> None:
        session = self.sessions.get(peer)
        if session is not None:
            self.outgoing.extend((data, peer) for data in session.outgoing)
            session.outgoing.clear()
