"""A DTLS 1.2 PSK server without I/O (CoAP's coaps://, RFC 7252 §9.1): sessions by peer address.

Feed it datagrams with :meth:`DtlsPskServer.receive` and a clock value; it returns events
(:class:`Plaintext`, :class:`Established`, :class:`Closed`), and datagrams to send accumulate in
:attr:`DtlsPskServer.outgoing` as ``(bytes, peer)``, as :class:`~..protocol.exchange.MessageLayer` does.

- A ClientHello from a peer with no session is answered with a HelloVerifyRequest by a throw-away Mbed
  TLS context (RFC 6347 §4.2.1): nothing is kept until a ClientHello comes back with the cookie, so
  spoofed ClientHellos cost a few microseconds each and no memory. Datagrams that are not a ClientHello
  from a peer with no session are dropped unread.
- At most ``config.max_sessions`` sessions and handshakes at once: a new one evicts the oldest
  unfinished handshake, or if there is none the least recently active session. An established session
  with no datagram either way for ``config.idle_timeout`` is closed (close_notify); a handshake not
  finished within ``config.handshake_timeout`` ends with a :class:`Closed`.
- A wrong key (the client's Finished does not verify) or an unknown identity ends the handshake with
  Mbed TLS's alert (bad_record_mac, unknown_psk_identity) and a :class:`Closed` naming it.
- A ClientHello refused at once (no cipher suite in common, not DTLS 1.2) gets Mbed TLS's alert and a
  :class:`Closed`; any other that Mbed TLS rejects is dropped without an event. Nothing is kept.
- A ClientHello with a valid cookie from a peer that has an established session starts a new session
  (the client restarted); until the cookie checks, the old session stays.

Nothing here raises for anything a peer sends. ``identity_hint`` is kept for the caller, but Mbed TLS
2.28 sends no hint (its server writes no ServerKeyExchange for plain PSK suites).
"""

from __future__ import annotations

from collections import OrderedDict

from .config import DtlsConfig
from .events import Closed, Established, Event, NotEstablished, Peer, Plaintext
from .record import is_client_hello
from .session import MAX_DATAGRAM, Keys, KeyStore, TlsSession, server_context


class DtlsPskServer:
    """The server side of coaps:// with pre-shared keys: ``keys`` maps a PSK identity to its key (a
    mapping, or a function returning the key or None)."""

    def __init__(self, identity_hint: bytes | None, keys: Keys, config: DtlsConfig | None = None) -> None:
        self.identity_hint = identity_hint
        self.config = config or DtlsConfig()
        self.store = KeyStore(keys)
        self.context = server_context(self.config, self.store)
        # peer -> session, least recently active first
        self.sessions: OrderedDict[Peer, TlsSession] = OrderedDict()
        self.handshakes: dict[Peer, TlsSession] = {}  # the sessions of `sessions` still in a handshake
        self.outgoing: list[tuple[bytes, Peer]] = []
        self.now = 0.0

    def receive(self, datagram: bytes, peer: Peer, now: float) -> list[Event]:
        """One datagram from ``peer``: what it meant, as events."""
        self.now = now
        events: list[Event] = []
        if not datagram or len(datagram) > MAX_DATAGRAM:
            return events
        session = self.sessions.get(peer)
        if session is None or (session.established and is_client_hello(datagram)):
            if is_client_hello(datagram):
                self._hello(datagram, peer, now, events)
            return events
        self.sessions.move_to_end(peer)
        was_established = session.established
        plaintexts = session.feed(datagram, now)
        self._collect(peer, session, was_established, events)
        events.extend(Plaintext(peer, data) for data in plaintexts)
        self._forget_if_closed(peer, session, events)
        return events

    def send(self, data: bytes, peer: Peer) -> None:
        """Encrypt one datagram of application data for ``peer``; :class:`NotEstablished` if there is
        no established session with it, the session's :class:`DtlsError` if it fails now."""
        session = self.sessions.get(peer)
        if session is None or not session.established:
            raise NotEstablished(f"no established DTLS session with {peer}")
        session.last_active = self.now
        self.sessions.move_to_end(peer)
        try:
            session.write(data)
        finally:
            self._collect(peer, session, True, [])
            if session.closed is not None:
                self._drop(peer)

    def established(self, peer: Peer) -> bool:
        session = self.sessions.get(peer)
        return session is not None and session.established

    def identity(self, peer: Peer) -> bytes | None:
        """The PSK identity of ``peer``'s established session (None if there is none)."""
        session = self.sessions.get(peer)
        return session.identity if session is not None and session.established else None

    def cipher(self, peer: Peer) -> str | None:
        session = self.sessions.get(peer)
        return session.cipher if session is not None else None

    def close(self, peer: Peer, reason: str = "closed by this server") -> None:
        """End the session with ``peer`` (close_notify if it was established); no event for it."""
        session = self._drop(peer)
        if session is not None:
            session.close(reason)
            self._collect(peer, session, True, [])

    def close_all(self) -> None:
        for peer in list(self.sessions):
            self.close(peer)

    def next_deadline(self) -> float | None:
        """When :meth:`poll` has something to do next, or None."""
        deadlines = [d for s in self.handshakes.values() if (d := s.deadline()) is not None]
        if self.sessions:
            oldest = next(iter(self.sessions.values()))
            deadlines.append(oldest.last_active + self.config.idle_timeout)
        return min(deadlines, default=None)

    def poll(self, now: float) -> list[Event]:
        """Handshake retransmissions and timeouts, idle sessions' expiry, up to ``now``."""
        self.now = now
        events: list[Event] = []
        for peer, session in list(self.handshakes.items()):
            deadline = session.deadline()
            if deadline is not None and deadline <= now:
                session.poll(now)
                self._collect(peer, session, False, events)
                self._forget_if_closed(peer, session, events)
        idle = now - self.config.idle_timeout
        while self.sessions:
            peer, session = next(iter(self.sessions.items()))
            if session.last_active > idle:
                break
            self._drop(peer)
            session.close(f"idle for {self.config.idle_timeout:g} s")
            self._collect(peer, session, True, [])
            events.append(Closed(peer, session.closed or "idle"))
        return events

    # -- internals -----------------------------------------------------------------------------------

    def _hello(self, datagram: bytes, peer: Peer, now: float, events: list[Event]) -> None:
        """A ClientHello from a peer with no session (or a restarting one): the cookie exchange."""
        session = TlsSession.accept(self.context, peer, self.config, now, self.store)
        session.feed(datagram, now)
        self.outgoing.extend((data, peer) for data in session.outgoing)
        if session.hello_verify:
            return  # stateless until the cookie comes back
        if not session.past_hello:
            if session.mismatch and peer not in self.sessions:
                events.append(Closed(peer, session.closed or "refused"))
            return
        old = self._drop(peer)
        if old is not None:
            events.append(Closed(peer, "the client started a new handshake"))
        while len(self.sessions) >= self.config.max_sessions:
            # the oldest handshake first (a peer without the key gets no further), else the least active
            oldest, victim = next(iter(self.handshakes.items() or self.sessions.items()))
            self._drop(oldest)
            victim.close(f"evicted: {self.config.max_sessions} DTLS sessions at once is the limit")
            self._collect(oldest, victim, True, [])
            events.append(Closed(oldest, victim.closed or "evicted"))
        session.outgoing.clear()
        self.sessions[peer] = session
        self.handshakes[peer] = session

    def _collect(self, peer: Peer, session: TlsSession, was_established: bool, events: list[Event]) -> None:
        """Move the session's datagrams to :attr:`outgoing`; report a handshake that just finished."""
        self.outgoing.extend((data, peer) for data in session.outgoing)
        session.outgoing.clear()
        if session.established and not was_established:
            self.handshakes.pop(peer, None)
            events.append(Established(peer, session.identity))

    def _forget_if_closed(self, peer: Peer, session: TlsSession, events: list[Event]) -> None:
        if session.closed is not None and self.sessions.get(peer) is session:
            self._drop(peer)
            events.append(Closed(peer, session.closed))

    def _drop(self, peer: Peer) -> TlsSession | None:
        self.handshakes.pop(peer, None)
        return self.sessions.pop(peer, None)
