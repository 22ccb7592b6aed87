"""Observing resources (RFC 7641) without I/O: the server's list of observers and a client's observation.

Server: one :class:`ObserveRegistry` per endpoint. After the resource handler has answered a request,
:meth:`ObserveRegistry.on_request` says what the Observe option does to it (register, refuse, deregister);
:meth:`ObserveRegistry.notify` lists the notifications to send when a resource changes, each with its
message type, message id and Observe value; the caller builds the body (content, ETag, Max-Age ...) with
:meth:`Notification.message`. ACKs, RSTs and given-up CONs of notifications are reported back by
(peer, message id). Max-Age is the caller's: it puts one in each notification (RFC 7641 §4.3.1) and may
notify again before it runs out; the registry does not look at it.

Client: one :class:`Observation` per observed request: the §3.4 reordering rule, re-registration after
Max-Age (§3.3.1), and both ways to cancel (§3.6).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from .codec import Message, decode_uint, encode_uint
from .exchange import CON, NON
from .numbers import Code, Option

OBSERVE_REGISTER, OBSERVE_DEREGISTER = 0, 1  # the Observe option's values in a GET (§2)
SEQUENCE_MODULUS = 1 << 24  # Observe values in notifications are 24 bits (§4.4)
_HALF = 1 << 23
FRESHNESS_WINDOW = 128.0  # seconds after which any notification counts as newer (§3.4)
CON_INTERVAL = 24 * 3600.0  # a CON notification at least this often per observer (§4.5)
MAX_OBSERVERS = 10_000  # per registry; a registration beyond it is processed as a plain GET (§4.1)
DEFAULT_MAX_AGE = 60  # seconds, when a notification carries no Max-Age (RFC 7252 §5.10.5)
REREGISTER_MARGIN = 5.0  # seconds past Max-Age a client waits for a notification before re-registering
_MIDS_KEPT = 4  # message ids of recent notifications kept per observer, for matching an ACK or RST

_OBSERVE = int(Option.OBSERVE)
Peer = Hashable  # a socket address
Options = list[tuple[int, bytes]]
ObserverKey = tuple[Peer, bytes]  # (peer, token): an observer's identity (§4.1)


def is_fresher(v1: int, t1: float, v2: int, t2: float) -> bool:
    """§3.4: is a notification with Observe ``v2`` received at ``t2`` newer than ``v1`` received at
    ``t1``? Values compare modulo 2**24; after 128 s any value is newer."""
    return (v1 < v2 and v2 - v1 < _HALF) or (v1 > v2 and v1 - v2 > _HALF) or t2 > t1 + FRESHNESS_WINDOW


def observe_value(msg: Message) -> int | None:
    """The message's Observe value, or None if it has none (or one longer than 3 bytes: elective, ignored)."""
    raw = msg.option(_OBSERVE)
    return None if raw is None or len(raw) > 3 else decode_uint(raw)


def _with_options(options: Options, extra: Options) -> Options:
    return sorted(options + extra, key=lambda o: o[0])


@dataclass(frozen=True, slots=True)
class RequestKey:
    """What identifies an observed request beside its peer: the resource (the caller's key, the Uri-Path
    segments by default), the Uri-Query options and the Accept option."""

    resource: Hashable
    query: tuple[str, ...] = ()
    accept: int | None = None

    @classmethod
    def of(cls, request: Message, resource: Hashable | None = None) -> RequestKey:
        accept = request.option(int(Option.ACCEPT))
        return cls(
            request.path() if resource is None else resource,
            tuple(request.queries()),
            None if accept is None else decode_uint(accept),
        )


@dataclass(slots=True, eq=False)
class Observer:
    """One entry of the list of observers: (peer, token) and the request it registered with."""

    peer: Peer
    token: bytes
    request: RequestKey
    registered: float
    last_con: float  # when the last CON notification went (the registration counts as one)
    last_heard: float  # when the observer last showed it is there: registration, ACK
    pending_con: int | None = None  # message id of a CON notification not yet acknowledged
    mids: deque[int] = field(default_factory=lambda: deque(maxlen=_MIDS_KEPT))

    @property
    def key(self) -> ObserverKey:
        return (self.peer, self.token)


@dataclass(frozen=True, slots=True)
class Registered:
    """The request registered (or re-registered) an observer: add :meth:`option` to the 2.xx response."""

    observer: Observer
    observe: int

    def option(self) -> tuple[int, bytes]:
        return (_OBSERVE, encode_uint(self.observe))


@dataclass(frozen=True, slots=True)
class Refused:
    """Not registered (the list is full, or the response is not 2.xx): answer without an Observe option."""

    reason: str


@dataclass(frozen=True, slots=True)
class Deregistered:
    """Observe=1 (§3.6): the entry is gone (``observer`` None if there was none); answer as a plain GET."""

    observer: Observer | None


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification to send. ``observe`` is None for a final non-2.xx one (§4.2: no Observe option)."""

    observer: Observer
    mtype: int  # CON or NON
    mid: int
    observe: int | None
    code: int

    def message(self, options: Options | None = None, payload: bytes = b"") -> Message:
        """The notification with the caller's options (Content-Format, ETag, Max-Age ...) and body."""
        extra = [] if self.observe is None else [(_OBSERVE, encode_uint(self.observe))]
        options = _with_options(options or [], extra)
        return Message(self.mtype, self.code, self.mid, self.observer.token, options, payload)


class ObserveRegistry:
    """The observers of every resource of one server endpoint (§4).

    Observe values come from one registry-wide counter, taken once per :meth:`notify` call and once per
    registration, so each observer sees them increase (modulo 2**24) whatever the resource. Notifications
    are NON unless ``confirmable``; one is CON when the observer's last CON is ``con_interval`` old
    (24 hours, §4.5), when its last CON notification is still unacknowledged, or, with ``ack_interval``
    set, when nothing has been heard from it for that long. At most ``max_observers`` entries.
    """

    def __init__(
        self,
        *,
        max_observers: int = MAX_OBSERVERS,
        confirmable: bool = False,
        con_interval: float = CON_INTERVAL,
        ack_interval: float | None = None,
        first_value: int = 0,
    ) -> None:
        self.max_observers = max_observers
        self.confirmable = confirmable
        self.con_interval = con_interval
        self.ack_interval = ack_interval
        self._next_value = first_value % SEQUENCE_MODULUS
        self._observers: dict[ObserverKey, Observer] = {}
        self._by_resource: dict[Hashable, dict[ObserverKey, Observer]] = {}
        self._by_request: dict[tuple[Peer, RequestKey], Observer] = {}
        self._by_mid: dict[tuple[Peer, int], Observer] = {}

    def __len__(self) -> int:
        return len(self._observers)

    def observers(self, resource: Hashable) -> list[Observer]:
        return list(self._by_resource.get(resource, {}).values())

    def find(self, peer: Peer, token: bytes) -> Observer | None:
        return self._observers.get((peer, token))

    def _take_value(self) -> int:
        value = self._next_value
        self._next_value = (value + 1) % SEQUENCE_MODULUS
        return value

    # -- requests ------------------------------------------------------------------------------

    def on_request(
        self, request: Message, peer: Peer, code: int, now: float, resource: Hashable | None = None
    ) -> Registered | Refused | Deregistered | None:
        """What the Observe option of ``request`` (from ``peer``, answered with ``code``) does.

        None: not a GET with Observe 0 or 1 (other values are ignored, §2): a plain response.
        ``resource`` is the caller's key for the resource (default: the Uri-Path segments), the one
        it later passes to :meth:`notify`. A registration replaces the entry with the same (peer, token),
        or the same peer and :class:`RequestKey` (§4.1); a non-2.xx response registers nothing and ends
        such an entry (§4.2)."""
        if request.code != Code.GET:
            return None
        value = observe_value(request)
        if value not in (OBSERVE_REGISTER, OBSERVE_DEREGISTER):
            return None
        key = RequestKey.of(request, resource)
        old = self._observers.get((peer, request.token)) or self._by_request.get((peer, key))
        if value == OBSERVE_DEREGISTER:
            if old is not None:
                self._remove(old)
            return Deregistered(old)
        if old is not None:
            self._remove(old)
        if code >> 5 != 2:
            return Refused(f"response {code >> 5}.{code & 31:02d} is not 2.xx")
        if len(self._observers) >= self.max_observers:
            return Refused("too many observers")
        obs = Observer(peer, request.token, key, now, now, now)
        self._observers[obs.key] = obs
        self._by_resource.setdefault(key.resource, {})[obs.key] = obs
        self._by_request[(peer, key)] = obs
        return Registered(obs, self._take_value())

    def cancel(self, peer: Peer, token: bytes) -> Observer | None:
        """Remove the entry of (peer, token), if any: the caller's own reason (e.g. the engine closing)."""
        obs = self._observers.get((peer, token))
        if obs is not None:
            self._remove(obs)
        return obs

    def remove_resource(self, resource: Hashable) -> list[Observer]:
        """Forget every observer of ``resource`` without notifying them (to tell them, notify 4.04)."""
        gone = self.observers(resource)
        for obs in gone:
            self._remove(obs)
        return gone

    def _remove(self, obs: Observer) -> None:
        del self._observers[obs.key]
        entries = self._by_resource[obs.request.resource]
        del entries[obs.key]
        if not entries:
            del self._by_resource[obs.request.resource]
        self._by_request.pop((obs.peer, obs.request), None)
        for mid in obs.mids:
            if self._by_mid.get((obs.peer, mid)) is obs:
                del self._by_mid[(obs.peer, mid)]

    # -- notifications -------------------------------------------------------------------------

    def _confirmable(self, obs: Observer, now: float) -> bool:
        return (
            self.confirmable
            or obs.pending_con is not None
            or now - obs.last_con >= self.con_interval
            or (self.ack_interval is not None and now - obs.last_heard >= self.ack_interval)
        )

    def notify(
        self, resource: Hashable, now: float, next_mid: Callable[[], int], *, code: int = Code.CONTENT
    ) -> list[Notification]:
        """The notifications for a change of ``resource``, one per observer, message ids from
        ``next_mid`` (e.g. ``MessageLayer.next_mid``). A non-2.xx ``code`` (e.g. 4.04 when the resource
        is deleted) makes final notifications without Observe and removes the observers (§4.2)."""
        observers = self.observers(resource)
        if not observers:
            return []
        final = code >> 5 != 2
        value = None if final else self._take_value()
        out = []
        for obs in observers:
            mtype = CON if self._confirmable(obs, now) else NON
            mid = next_mid()
            out.append(Notification(obs, mtype, mid, value, code))
            if final:
                self._remove(obs)
                continue
            if mtype == CON:
                obs.pending_con, obs.last_con = mid, now
            if len(obs.mids) == obs.mids.maxlen:
                dropped = obs.mids[0]
                if self._by_mid.get((obs.peer, dropped)) is obs:
                    del self._by_mid[(obs.peer, dropped)]
            obs.mids.append(mid)
            self._by_mid[(obs.peer, mid)] = obs
        return out

    def on_ack(self, peer: Peer, mid: int, now: float) -> Observer | None:
        """An ACK of a notification: the observer is there."""
        obs = self._by_mid.get((peer, mid))
        if obs is not None:
            obs.last_heard = now
            if obs.pending_con == mid:
                obs.pending_con = None
        return obs

    def on_rst(self, peer: Peer, mid: int) -> Observer | None:
        """An RST answering a notification (CON or NON): the client is no longer interested (§3.6, §4.5)."""
        obs = self._by_mid.get((peer, mid))
        if obs is not None:
            self._remove(obs)
        return obs

    def on_timeout(self, peer: Peer, mid: int) -> Observer | None:
        """A CON notification was never acknowledged (MAX_RETRANSMIT reached): remove the observer (§4.5)."""
        return self.on_rst(peer, mid)


# -- client -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notified:
    """A fresh notification (or the registration's response): deliver it."""

    message: Message
    observe: int


@dataclass(frozen=True, slots=True)
class Stale:
    """An older notification than one already delivered (§3.4): drop it."""

    message: Message
    observe: int


@dataclass(frozen=True, slots=True)
class Ended:
    """A response without Observe: the server does not (or no longer) notify (§3.2, §4.2). Deliver it;
    the observation is over."""

    message: Message


@dataclass(frozen=True, slots=True)
class Reject:
    """A notification for a cancelled or ended observation: answer it with an RST (§3.6)."""

    message: Message


class Observation:
    """The client's side of one observed GET (``request``, with Observe=0 and its token)."""

    def __init__(self, request: Message, *, margin: float = REREGISTER_MARGIN) -> None:
        self.request = request
        self.margin = margin
        self.state = "active"  # "active", "cancelling" (Observe=1 sent), "forgotten", "ended"
        self.last_value: int | None = None
        self.last_time = 0.0
        self.fresh_until: float | None = None  # Max-Age of the last delivered notification runs out

    @property
    def token(self) -> bytes:
        return self.request.token

    def accept(self, value: int, now: float) -> bool:
        """§3.4: is Observe ``value`` received at ``now`` newer than the last one accepted? If so it
        becomes the last one."""
        if self.last_value is not None and not is_fresher(self.last_value, self.last_time, value, now):
            return False
        self.last_value, self.last_time = value, now
        return True

    def receive(self, msg: Message, now: float) -> Notified | Stale | Ended | Reject:
        """Classify a response carrying this observation's token."""
        value = observe_value(msg)
        if value is None or msg.code >> 5 != 2:
            self.state, self.fresh_until = "ended", None
            return Ended(msg)
        if self.state != "active":
            return Reject(msg)
        if not self.accept(value, now):
            return Stale(msg, value)
        max_age = msg.option(int(Option.MAX_AGE))
        self.fresh_until = now + (DEFAULT_MAX_AGE if max_age is None else decode_uint(max_age))
        return Notified(msg, value)

    def reregister_due(self, now: float) -> bool:
        """§3.3.1: the last notification's Max-Age (plus ``margin``) has run out with no newer one."""
        at = self.reregister_at()
        return at is not None and now >= at

    def reregister_at(self) -> float | None:
        """When to re-register, or None (nothing delivered yet, or the observation is over)."""
        if self.state != "active" or self.fresh_until is None:
            return None
        return self.fresh_until + self.margin

    def reregistration(self, mid: int, mtype: int = CON) -> Message:
        """The GET that (re-)registers again: the same token and options (Observe=0) in a new message."""
        req, self.state = self.request, "active"
        return Message(mtype, req.code, mid, req.token, list(req.options), req.payload)

    def cancel(self, mid: int, mtype: int = CON) -> Message:
        """Cancel actively (§3.6): the GET with Observe=1, same token and options, for the caller to send.
        Notifications arriving meanwhile are :class:`Reject`; the answer to this GET is :class:`Ended`."""
        self.state = "cancelling"
        options = [(n, v) for n, v in self.request.options if n != _OBSERVE]
        options = _with_options(options, [(_OBSERVE, encode_uint(OBSERVE_DEREGISTER))])
        return Message(mtype, self.request.code, mid, self.token, options, self.request.payload)

    def forget(self) -> None:
        """Cancel lazily (§3.6): the next notification is :class:`Reject`, answered with an RST."""
        self.state = "forgotten"
