"""One DTLS 1.2 PSK session on python-mbedtls' in-memory buffers: the only module here that uses mbedtls.

python-mbedtls 2.10 (Mbed TLS 2.28) needs no socket: ``wrap_buffers()`` gives a buffer we feed datagrams
into and take records from. Two things it does not let us choose, handled here:

- Mbed TLS times handshake retransmissions itself, on the host's clock (``mbedtls_timing_*``); python-
  mbedtls has no way to give it another timer. So the retransmission *schedule* is Mbed TLS's, in host
  time (RFC 6347 §4.2.4.1: ``retransmit_initial``, doubled up to ``retransmit_max``). A session mirrors
  it in the caller's clock (:attr:`TlsSession.retransmit_at`) and calls into Mbed TLS when it is due,
  which is when Mbed TLS resends its last flight (with new record numbers, as the RFC wants). The
  caller's clock must therefore run at host speed (``time.monotonic()``, not a scaled board clock).
  Everything else, the handshake's overall bound and idle expiry, is the caller's clock alone.
- Records come out as one byte stream: :func:`record.datagrams` packs them into datagrams again.

Nothing here raises for anything a peer sends: a failure closes the session with a reason in words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from mbedtls import tls
from mbedtls.exceptions import TLSError

from .config import DtlsConfig
from .events import DtlsError, HandshakeFailed, HandshakeTimeout, NotEstablished, Peer
from .record import alert_name, datagrams, handshake_seq, plaintext_alert

Keys = Mapping[bytes, bytes] | Callable[[bytes], bytes | None]  # a PSK identity -> its key

MAX_RECORD = 16384  # plaintext bytes in one record (Mbed TLS's MBEDTLS_SSL_OUT_CONTENT_LEN)
MAX_DATAGRAM = MAX_RECORD + 512  # a larger datagram is no DTLS record of ours: dropped unread
MAX_STEPS = 64  # handshake steps (or records read) per datagram: a bound, never reached in practice
SLACK = 0.005  # s added to a retransmission deadline: Mbed TLS starts its timer after the caller's `now`

# Mbed TLS error codes (negated), as TLSError.err carries them
TIMEOUT, FATAL_ALERT, INVALID_MAC, UNKNOWN_IDENTITY = 0x6800, 0x7780, 0x7180, 0x6C80
CLOSE_NOTIFY, NO_CIPHER, BAD_VERSION, CONN_EOF = 0x7880, 0x7380, 0x6E80, 0x7280
WRONG_KEY_ALERTS = (20, 51)  # bad_record_mac, decrypt_error
# a client's handshake states once its Finished went out (it waits for the server's)
AFTER_OUR_FINISHED = ("SERVER_NEW_SESSION_TICKET", "SERVER_CHANGE_CIPHER_SPEC", "SERVER_FINISHED")


class KeyStore(Mapping[str, bytes]):
    """The server's keys as python-mbedtls asks for them (identity decoded as UTF-8). Remembers the
    identity it was last asked for: the server reads it after each call into a session."""

    def __init__(self, keys: Keys) -> None:
        self.lookup = keys
        self.asked: bytes | None = None

    def __getitem__(self, identity: str) -> bytes:
        raw = identity.encode("utf-8")
        self.asked = raw
        try:
            key = self.lookup.get(raw) if isinstance(self.lookup, Mapping) else self.lookup(raw)
        except Exception:  # a key callback's error is an unknown identity, not ours to raise
            key = None
        if not key:
            raise KeyError(identity)
        return bytes(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _configuration(
    config: DtlsConfig, psk: tuple[str, bytes] | None = None, store: KeyStore | None = None
) -> tls.DTLSConfiguration:
    return tls.DTLSConfiguration(
        validate_certificates=False,
        ciphers=config.ciphers,
        lowest_supported_version=tls.DTLSVersion.DTLSv1_2,
        highest_supported_version=tls.DTLSVersion.DTLSv1_2,
        handshake_timeout_min=config.retransmit_initial,
        handshake_timeout_max=config.retransmit_max,
        pre_shared_key=psk,
        pre_shared_key_store={} if store is None else store,
    )


def server_context(config: DtlsConfig, store: KeyStore) -> tls.ServerContext:
    """One context for all of a server's sessions: its HelloVerifyRequest cookie key is per context."""
    return tls.ServerContext(_configuration(config, store=store))


def client_context(config: DtlsConfig, identity: bytes, key: bytes) -> tls.ClientContext:
    if not key:
        raise ValueError("a PSK client needs a non-empty key")
    try:
        name = identity.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("python-mbedtls passes PSK identities as UTF-8 text: this one is not") from None
    return tls.ClientContext(_configuration(config, psk=(name, bytes(key))))


class TlsSession:
    """A DTLS session with one peer. Datagrams to send accumulate in :attr:`outgoing`; :attr:`closed`
    is the reason once it ended (:attr:`failure` the error to raise for it)."""

    def __init__(
        self,
        buffer: tls.TLSWrappedBuffer,
        config: DtlsConfig,
        now: float,
        server: bool,
        store: KeyStore | None,
    ) -> None:
        self.buffer = buffer
        self.config = config
        self.server = server
        self.store = store
        self.outgoing: list[bytes] = []
        self.established = False
        self.hello_verify = False  # a server answered a ClientHello with a HelloVerifyRequest
        self.mismatch = False  # it failed because the peers share no cipher suite or version
        self.closed: str | None = None
        self.failure: DtlsError | None = None
        self.identity: bytes | None = None
        self.cipher: str | None = None
        self.started = self.last_active = now
        self.received = False
        self.last_in = b""
        self.timeout = config.retransmit_initial
        self.retransmit_at: float | None = None
        self.flight_seq: int | None = None
        self.step = "HELLO_REQUEST"  # Mbed TLS's handshake state, as of the last call (it resets on errors)

    @classmethod
    def accept(
        cls, context: tls.ServerContext, peer: Peer, config: DtlsConfig, now: float, store: KeyStore
    ) -> TlsSession:
        """A server side for a ClientHello from ``peer`` (the cookie is bound to its address)."""
        buffer = context.wrap_buffers()
        buffer.setcookieparam(repr(peer).encode())
        return cls(buffer, config, now, server=True, store=store)

    @classmethod
    def connect(cls, context: tls.ClientContext, config: DtlsConfig, now: float) -> TlsSession:
        session = cls(context.wrap_buffers(None), config, now, server=False, store=None)
        session._handshake(now, timer=False)
        return session

    @property
    def handshaking(self) -> bool:
        return self.closed is None and not self.established

    @property
    def past_hello(self) -> bool:
        """A server session whose ClientHello carried a valid cookie: it answered with a ServerHello."""
        return self.handshaking and self._state() not in ("HELLO_REQUEST", "CLIENT_HELLO")

    def deadline(self) -> float | None:
        """When :meth:`poll` has something to do (a retransmission, the handshake's end), or None."""
        if not self.handshaking:
            return None
        end = self.started + self.config.handshake_timeout
        return end if self.retransmit_at is None else min(end, self.retransmit_at)

    def feed(self, datagram: bytes, now: float) -> list[bytes]:
        """One datagram from the peer; returns the application data it carried (one item per record)."""
        if self.closed is not None or len(datagram) > MAX_DATAGRAM:
            return []
        self.last_active = now
        self.received = True
        self.last_in = datagram
        self.buffer.receive_from_network(datagram)
        if not self.established:
            self._handshake(now, timer=False)
        return self._read() if self.established and self.closed is None else []

    def poll(self, now: float) -> None:
        """Retransmit a flight whose timer ran out; fail a handshake that took too long."""
        if not self.handshaking:
            return
        if now >= self.started + self.config.handshake_timeout:
            self._end(HandshakeTimeout(self._stalled(f"within {self.config.handshake_timeout:g} s")))
        elif self.retransmit_at is not None and now >= self.retransmit_at:
            self._handshake(now, timer=True)

    def write(self, data: bytes) -> None:
        """Encrypt ``data`` as one record (one datagram) for the peer."""
        if self.failure is not None:
            raise self.failure
        if not self.established:
            raise NotEstablished("the DTLS handshake has not finished")
        if len(data) > MAX_RECORD:
            raise ValueError(f"{len(data)} bytes do not fit one DTLS record ({MAX_RECORD} at most)")
        try:
            self.buffer.write(data)
        except TLSError as exc:
            self._send(self._take())
            self._fail(exc)
            raise self.failure or DtlsError(str(exc)) from exc
        self._send(self._take())

    def close(self, reason: str) -> None:
        """End the session: a close_notify goes to the peer if it was established."""
        if self.closed is not None:
            return
        if self.established:
            try:
                self.buffer.shutdown()
            except TLSError:
                pass
            self._send(self._take())
        self._end(DtlsError(reason))

    # -- Mbed TLS ------------------------------------------------------------------------------------

    def _state(self) -> str:
        """Mbed TLS's handshake state, by name (``CLIENT_HELLO`` ... ``HANDSHAKE_OVER``)."""
        return self.buffer._handshake_state.name

    def _take(self) -> bytes:
        out = self.buffer.peek_outgoing(1 << 16)
        if out:
            self.buffer.consume_outgoing(len(out))
        return out

    def _send(self, data: bytes) -> None:
        if data:
            self.outgoing.extend(datagrams(data, self.config.mtu))

    def _handshake(self, now: float, timer: bool) -> None:
        """Run Mbed TLS's handshake until it waits for the peer; then follow its retransmission timer."""
        sent = b""
        if self.store is not None:
            self.store.asked = None
        for _ in range(MAX_STEPS):
            state = self._state()
            if state == "HANDSHAKE_OVER":
                break
            waiting = False
            self.step = state
            try:
                self.buffer.do_handshake()
            except tls.WantWriteError:
                pass
            except tls.WantReadError:
                waiting = True
            except tls.HelloVerifyRequest:
                sent += self._take()
                self.hello_verify = True
                self._end(HandshakeFailed("a HelloVerifyRequest answered the ClientHello"))
                break
            except TLSError as exc:
                sent += self._take()
                self._note_identity()
                self._fail(exc)
                break
            out = self._take()
            sent += out
            if waiting and not out and self._state() == state:
                break
        self._note_identity()
        self._send(sent)
        if self.closed is None:
            self.step = self._state()
        if self.step == "HANDSHAKE_OVER":
            self.established = True
            self.cipher = str(self.buffer.cipher())
        if not self.handshaking:
            self.retransmit_at = None
        elif sent:
            seq = handshake_seq(sent)
            if seq is not None and seq != self.flight_seq:  # a new flight: Mbed TLS restarts at the minimum
                self.flight_seq, self.timeout = seq, self.config.retransmit_initial
            elif timer:  # Mbed TLS's timer ran out: it doubled the timeout and resent
                self.timeout = min(2 * self.timeout, self.config.retransmit_max)
            self.retransmit_at = now + self.timeout + SLACK
        elif timer:  # Mbed TLS's (host) clock is not there yet
            self.retransmit_at = now + max(SLACK, self.timeout / 16)

    def _note_identity(self) -> None:
        """The identity Mbed TLS looked up a key for in this call (the store is the server's, shared)."""
        if self.store is not None and self.store.asked is not None:
            self.identity = self.store.asked

    def _read(self) -> list[bytes]:
        plain: list[bytes] = []
        chunk = bytearray(MAX_RECORD)
        for _ in range(MAX_STEPS):
            try:
                size = self.buffer.readinto(chunk, len(chunk))  # type: ignore[arg-type]  # stub says bytes
            except (tls.WantReadError, tls.WantWriteError):
                break
            except tls.RaggedEOF:
                self._end(DtlsError(f"the {self._them} ended the session"))
                break
            except TLSError as exc:
                self._fail(exc)
                break
            finally:
                self._send(self._take())  # e.g. our last flight again, for a peer that resent its Finished
            plain.append(bytes(chunk[:size]))
        return plain

    # -- why it ended --------------------------------------------------------------------------------

    @property
    def _them(self) -> str:
        return "client" if self.server else "server"

    def _end(self, failure: DtlsError) -> None:
        self.closed = str(failure)
        self.failure = failure
        self.retransmit_at = None

    def _fail(self, exc: TLSError) -> None:
        code = abs(int(getattr(exc, "err", 0) or 0))
        self.mismatch = code in (NO_CIPHER, BAD_VERSION)
        handshaking = not self.established
        them = self._them
        if code == CLOSE_NOTIFY:
            self._end(DtlsError(f"the {them} closed the session (close_notify)"))
            return
        if code == TIMEOUT:  # Mbed TLS's timer reached retransmit_max
            self._end(HandshakeTimeout(self._stalled("after the last retransmission")))
            return
        if code == FATAL_ALERT:
            alert = plaintext_alert(self.last_in)
            name = "an encrypted alert" if alert is None else alert_name(alert)
            why = f"the {them} sent a fatal alert ({name})"
            if alert in WRONG_KEY_ALERTS:
                why += ": it could not verify our Finished, the pre-shared keys differ"
            elif alert == 115:
                why += ": it knows no key for our PSK identity"
        elif code == INVALID_MAC:
            why = f"the {them}'s Finished did not verify: it used a different pre-shared key"
        elif code == UNKNOWN_IDENTITY:
            who = "an identity that is not UTF-8" if self.identity is None else repr(self.identity)
            why = f"unknown PSK identity: no key for {who}"
        elif code == NO_CIPHER:
            why = f"no cipher suite in common with the {them}"
        elif code == BAD_VERSION:
            why = f"the {them} does not speak DTLS 1.2"
        elif code == CONN_EOF:
            why = f"the {them} ended the session"
        else:
            why = f"Mbed TLS: {exc}"
        if handshaking:
            self._end(HandshakeFailed(f"DTLS handshake failed: {why}"))
        else:
            self._end(DtlsError(f"DTLS session failed: {why}"))

    def _stalled(self, limit: str) -> str:
        state = self.step
        if not self.server and state in AFTER_OUR_FINISHED:
            return (
                f"DTLS handshake failed: the server never answered our Finished {limit} (a server "
                "drops records it cannot decrypt: the pre-shared key or identity is wrong)"
            )
        if not self.received:
            return f"DTLS handshake failed: no answer from the {self._them} {limit}"
        return f"DTLS handshake failed: the {self._them} stopped answering {limit} (at {state})"
