"""modcoap's CoAP server, without I/O: the resource table and the built-in GET/PUT/POST/DELETE handlers.

Behaviour follows firmware 1.20.1-1.20.2 (libcoap 4.1) as read in shared/spec/firmware-coap.md §7:
resources are matched by their path segments (``"sensor"``, ``"/sensor"`` and ``"sensor/"`` are one
resource), a new resource answers 4.05 until ``callback(op, True)``, ETag is a 16-bit counter that
starts at 1 and wraps 65535 -> 1, error responses carry the reason phrase and no options, and
``/.well-known/core`` lists resources newest first with attributes in reverse order of addition.
A GET response past the firmware's PDU (1400 bytes with libcoap 4.1, 1152 with 4.2) is 2.05 with its
options and no payload (modcoap ignores ``coap_add_data``'s failure); the docs profile sends it whole
and warns, and answers 5.00 when it does not fit one datagram, as it does for a ``/.well-known/core``
that large (libcoap answers that one block-wise; Block2 is not done here yet).
Firmware 1.20.3 (profile quirks ``exact-uri``, ``wkc-oldest-first``) instead looks a resource up by its
exact ``uri`` string (a request's Uri-Path options joined by '/'), lists resources oldest first, and
(libcoap 4.2, ``delete-unknown``) answers a DELETE of an unknown URI 2.02 ``Deleted``. Firmware
1.20.3.b3/b4 (API C) add ``dynamic_resources`` (a PUT to an unknown URI creates a resource:
:meth:`ResourceTable._create`) and check a PUT's If-None-Match/If-Match their own way (``put-preconditions``).

:meth:`ResourceTable.handle` turns one request into ``(code, options, payload)`` or None (no answer).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from ...profile import (
    ACCEPT_HANG,
    DELETE_UNKNOWN,
    DYNAMIC_FIRST_SEGMENT,
    EXACT_URI,
    LARGE_VALUE,
    PUT_PRECONDITIONS,
    READ_ONE_DATAGRAM,
    UNSET_CONTENT_FORMAT,
    UNSET_MAX_AGE,
    URI_LEADING_SLASH,
    WKC_OLDEST_FIRST,
    FirmwareProfile,
)
from ..protocol.codec import Message, ParseError, decode, decode_uint, encode, encode_uint
from ..protocol.linkformat import Link, matches, render
from ..protocol.numbers import KNOWN_OPTIONS, PHRASES, Code, Option
from .requests import DATAGRAM_LIMIT, PDU_LIBCOAP_41, PDU_LIBCOAP_42, message_size
from .values import encode_value

REQUEST_GET, REQUEST_PUT, REQUEST_POST, REQUEST_DELETE = 1, 2, 4, 8
# CoAP method code -> modcoap's REQUEST_* bit
_METHOD_BITS = {
    int(Code.GET): REQUEST_GET,
    int(Code.POST): REQUEST_POST,
    int(Code.PUT): REQUEST_PUT,
    int(Code.DELETE): REQUEST_DELETE,
}
_WELL_KNOWN = (".well-known", "core")
_WELL_KNOWN_EXACT = ".well-known/core"
_SMALL_VALUE = 1024  # bytes; a response with a value this small fits any PDU (options and token < 128)
_UNKNOWN_URI = "- Unknown -"  # libcoap 4.2's unknown resource's uri_path (src/resource.c L330)
_CREATED = 65  # 2.01
_REPLY_CACHE = 64  # request option strings whose GET reply body :meth:`ResourceTable.cached_get` keeps
_GET_HEAD = b"\x40\x01\x00\x00"  # CON GET, message id 0, no token: to decode a request's options alone
_VERSIONS = itertools.count(1)  # Resource.version: unique over all resources, so never reused

Response = tuple[int, list[tuple[int, bytes]], bytes]

_OPT_IF_MATCH = int(Option.IF_MATCH)
_OPT_IF_NONE_MATCH = int(Option.IF_NONE_MATCH)
_OPT_ETAG = int(Option.ETAG)
_OPT_URI_PATH = int(Option.URI_PATH)
_OPT_CONTENT_FORMAT = int(Option.CONTENT_FORMAT)
_OPT_MAX_AGE = int(Option.MAX_AGE)
_OPT_URI_QUERY = int(Option.URI_QUERY)
_OPT_ACCEPT = int(Option.ACCEPT)
_PROXY_OPTIONS = frozenset({int(Option.PROXY_URI), int(Option.PROXY_SCHEME)})


def path_key(path: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """libcoap 4.1's view of a path: segments split on '/', stopping at '?' or '#', empty, '.' and
    '..' segments skipped."""
    if isinstance(path, str):
        for stop in "?#":
            path = path.split(stop, 1)[0]
        path = path.split("/")
    return tuple(seg for seg in path if seg not in ("", ".", ".."))


def _exact_key(uri: str) -> str:
    return uri


def _error(code: int) -> Response:
    return code, [], PHRASES[code].encode()


class Resource:
    """One resource's state. The facade's ``CoapResource`` wraps it."""

    __slots__ = (
        "uri",
        "key",
        "media_type",
        "max_age",
        "value",
        "etag_enabled",
        "etag",
        "methods",
        "attributes",
        "alive",
        "watcher",
        "version",
    )

    version: int  # a new value on every change of the resource (see __setattr__)

    def __init__(
        self, uri: str, key: tuple[str, ...] | str, media_type: int, max_age: int, value: bytes, etag: bool
    ) -> None:
        self.uri = uri
        self.key = key
        self.media_type = media_type
        self.max_age = max_age
        self.value = value
        self.etag_enabled = etag
        self.etag = 1 if etag else 0
        self.methods = 0  # REQUEST_* bits with a handler; none until callback(op, True)
        self.attributes: list[tuple[str, str | None]] = []
        self.alive = True
        self.watcher: Callable[[Resource], object] | None = None  # told of each change (extensions)

    def __setattr__(self, name: str, value: object) -> None:
        """Every assignment, whoever makes it, gives the resource a new :attr:`version` (never used
        before by any resource): a reply cached for one version is stale once it changes."""
        object.__setattr__(self, name, value)
        object.__setattr__(self, "version", next(_VERSIONS))

    def set_value(self, value: object) -> None:
        """Store a new value; the ETag counter goes up on every change, even to the same bytes."""
        self.value = encode_value(value)
        if self.etag_enabled:
            self.etag = self.etag + 1 if self.etag < 0xFFFF else 1
        if self.watcher is not None:
            self.watcher(self)

    def link(self) -> Link:
        return Link("/" + self.uri, self.attributes[::-1])


class ResourceTable:
    """The server's resources, newest first, and the request handlers of modcoap."""

    def __init__(self, profile: FirmwareProfile) -> None:
        self.profile = profile
        self._exact = profile.has(EXACT_URI)
        self._oldest_first = profile.has(WKC_OLDEST_FIRST)
        self._key = _exact_key if self._exact else path_key
        self._well_known_key = _WELL_KNOWN_EXACT if self._exact else _WELL_KNOWN
        # a response's PDU: libcoap 4.1's for the 1.20.1-1.20.2 profile, else 4.2's (the smaller one)
        self._pdu_limit = PDU_LIBCOAP_41 if profile.has(READ_ONE_DATAGRAM) else PDU_LIBCOAP_42
        self._by_key: dict[tuple[str, ...] | str, Resource] = {}
        self._newest_first: list[Resource] = []
        self._put_c = profile.has(PUT_PRECONDITIONS)
        self._delete_unknown = profile.has(DELETE_UNKNOWN)
        self.dynamic = False  # init(dynamic_resources=True): libcoap's unknown resource with modcoap's PUT
        self.blockwise = False  # the Block2 extension slices large bodies: no size limit here
        self.watcher: Callable[[Resource], object] | None = None  # given to every resource (extensions)
        self.created: list[Resource] = []  # made by dynamic PUTs; the engine takes them for the handler
        # encoded Uri-Path options -> (resource, its version, reply body): see cached_get
        self._replies: dict[bytes, tuple[Resource, int, bytes]] = {}

    # -- the script's side -------------------------------------------------------------------------

    def add(self, uri: str, media_type: int, max_age: int, value: object, etag: bool) -> Resource | None:
        """A new resource, or None when one with the same path exists."""
        key = self._key(uri)
        if key in self._by_key:
            return None
        resource = Resource(uri, key, media_type, max_age, encode_value(value), etag)
        resource.watcher = self.watcher
        if not self._exact and uri and "/".join(key) != uri:
            self.profile.quirk(URI_LEADING_SLASH, uri=uri, fixed="/".join(key))
        self._by_key[key] = resource
        self._newest_first.insert(0, resource)
        self._replies.clear()
        return resource

    def key_for(self, path: list[str]) -> tuple[str, ...] | str:
        """How a request's Uri-Path segments name a resource here (exact text on 1.20.3.b0+ profiles)."""
        return "/".join(path) if self._exact else path_key(path)

    def get(self, uri: str) -> Resource | None:
        return self._by_key.get(self._key(uri))

    def remove(self, uri: str) -> None:
        resource = self._by_key.pop(self._key(uri), None)
        if resource is not None:
            resource.alive = False
            self._newest_first.remove(resource)
            self._replies.clear()

    # -- the network's side ------------------------------------------------------------------------

    def handle(self, msg: Message, multicast: bool = False) -> Response | None:
        """The response to request ``msg``; None means no response at all."""
        reply = self._dispatch(msg)
        if reply is not None and multicast and reply[0] >= 128:
            return None  # RFC 7252 §8.1: no error responses to multicast requests
        return reply

    def cached_get(self, options: bytes) -> bytes | None:
        """What follows the token in the 2.05 reply to a GET whose options, encoded as they follow the
        token, are ``options``, when that reply is the same for every such GET: a resource with GET on
        and a value of up to 1,024 bytes, Uri-Path options only, no payload, no Block2 extension. None
        otherwise (:meth:`handle` answers). Kept per ``options`` while the resource is unchanged; bounded."""
        hit = self._replies.get(options)
        if hit is not None and hit[0].version == hit[1] and not self.blockwise:
            return hit[2]
        return self._cache_get(options)

    def _cache_get(self, options: bytes) -> bytes | None:
        if self.blockwise:
            return None
        try:
            msg = decode(_GET_HEAD + options)
        except ParseError:
            return None
        if msg.payload or any(number != _OPT_URI_PATH for number, _ in msg.options):
            return None
        resource = self._by_key.get(self.key_for(list(msg.path())))
        if resource is None or not resource.methods & REQUEST_GET or len(resource.value) > _SMALL_VALUE:
            return None
        version = resource.version  # before reading its state: a change meanwhile makes the entry stale
        code, reply_options, payload = self._get(resource, msg)
        if code != Code.CONTENT:
            return None
        body = encode(Message(0, code, 0, b"", reply_options, payload))[4:]
        if len(self._replies) >= _REPLY_CACHE:
            self._replies.clear()
        self._replies[options] = (resource, version, body)
        return body

    def _dispatch(self, msg: Message) -> Response | None:
        bit = _METHOD_BITS.get(msg.code)
        path: list[str] = []
        queries: list[str] = []
        for number, value in msg.options:
            if number == _OPT_URI_PATH:
                path.append(value.decode("utf-8", "replace"))
            elif number == _OPT_URI_QUERY:
                queries.append(value.decode("utf-8", "replace"))
            elif number not in KNOWN_OPTIONS and number & 1:
                # RFC 7252 §5.4.1: an unrecognised critical option; a NON is dropped (libcoap 4.1)
                return _error(Code.BAD_OPTION) if msg.mtype == 0 else None
            elif number in _PROXY_OPTIONS:
                return _error(Code.PROXYING_NOT_SUPPORTED)
        if bit is None:
            return _error(Code.METHOD_NOT_ALLOWED)
        key = self.key_for(path)
        resource = self._by_key.get(key)
        well_known = key == self._well_known_key
        if resource is None or (well_known and not resource.methods & REQUEST_GET):
            if well_known:
                if bit != REQUEST_GET:
                    return _error(Code.METHOD_NOT_ALLOWED)
                reply = self._well_known(queries)
                if not self.blockwise and message_size(msg.token, reply[1], len(reply[2])) > DATAGRAM_LIMIT:
                    return _error(Code.INTERNAL_SERVER_ERROR)  # libcoap would use Block2
                return reply
            if bit == REQUEST_PUT and self.dynamic:
                return self._create(path, msg)
            if bit == REQUEST_DELETE and self._delete_unknown:
                return Code.DELETED, [], b"Deleted"  # libcoap 4.2 src/net.c L1955-1965
            return _error(Code.NOT_FOUND)
        if not resource.methods & bit:
            return _error(Code.METHOD_NOT_ALLOWED)
        if bit == REQUEST_GET:
            return self._get(resource, msg)
        if bit == REQUEST_DELETE:
            self.remove(resource.uri)
            return Code.DELETED, [], b""
        return self._put_or_post(resource, msg, bit == REQUEST_PUT)

    def _well_known(self, queries: list[str]) -> Response:
        order = reversed(self._newest_first) if self._oldest_first else self._newest_first
        links = [r.link() for r in order]
        if queries:
            links = [link for link in links if matches(link, queries)]
        if not links:
            return Code.BAD_REQUEST, [], b""  # libcoap 4.1: nothing to list is 4.00, no payload
        return Code.CONTENT, [(_OPT_CONTENT_FORMAT, encode_uint(40))], render(links).encode()

    def _get(self, resource: Resource, msg: Message) -> Response:
        profile = self.profile
        media_type = resource.media_type
        if media_type == -1 and profile.quirk(UNSET_CONTENT_FORMAT, uri=resource.uri):
            media_type = 255
        if media_type != -1:
            accept = msg.option(_OPT_ACCEPT)
            if accept is not None and decode_uint(accept) != media_type:
                profile.quirk(ACCEPT_HANG)
                return _error(Code.NOT_ACCEPTABLE)
        code = Code.CONTENT
        options: list[tuple[int, bytes]] = []
        if resource.etag_enabled:
            etag = msg.option(_OPT_ETAG)
            if etag is not None and decode_uint(etag) == resource.etag:
                code = Code.VALID
            options.append((_OPT_ETAG, encode_uint(resource.etag)))
        if media_type != -1:
            options.append((_OPT_CONTENT_FORMAT, encode_uint(media_type)))
        max_age = resource.max_age
        if max_age == -1 and profile.quirk(UNSET_MAX_AGE, uri=resource.uri):
            max_age = 255
        if max_age != -1:
            options.append((_OPT_MAX_AGE, encode_uint(max_age)))
        if code == Code.VALID:
            return code, options, b""
        value = resource.value
        if len(value) > _SMALL_VALUE and not self.blockwise:
            size = message_size(msg.token, options, len(value))
            if size > self._pdu_limit and profile.quirk(LARGE_VALUE, size=size):
                return code, options, b""  # coap_add_data() refused it; modcoap answers all the same
            if size > DATAGRAM_LIMIT:
                return _error(Code.INTERNAL_SERVER_ERROR)
        return code, options, value

    def _create(self, path: list[str], msg: Message) -> Response:
        """A PUT to an unknown URI, ``dynamic_resources`` on (modcoap.c v1.20.3.b3 L613-687): a resource
        named by the first Uri-Path option only (copied as a C string: up to a NUL byte), value the
        payload (none: int 0, one byte 0x00), media type from Content-Format (none: -1), no Max-Age, no
        ETag, all four methods enabled; 2.01 ``Created``. No or an empty first Uri-Path: 4.00; a resource
        of that name exists (``PUT /a/b`` with ``a`` there): 5.00. The docs profile names it by the whole
        path and warns. modcoap first looks up its resource named like libcoap's unknown resource, ``- Unknown
        -``: if the script made one, the PUT updates that one instead (L613)."""
        named = self._by_key.get(self._key(_UNKNOWN_URI))
        if named is not None:
            return self._put_or_post(named, msg, True)
        if not path or not path[0]:
            return Code.BAD_REQUEST, [], b"Bad Request"
        full, uri = "/".join(path), path[0].split("\0", 1)[0]
        if uri != full and not self.profile.quirk(DYNAMIC_FIRST_SEGMENT, path=full, uri=uri):
            uri = full
        content_format = msg.option(_OPT_CONTENT_FORMAT)
        media_type = -1 if content_format is None else decode_uint(content_format)
        resource = self.add(uri, media_type, -1, msg.payload or 0, False)
        if resource is None:
            return _error(Code.INTERNAL_SERVER_ERROR)
        resource.methods = REQUEST_GET | REQUEST_PUT | REQUEST_POST | REQUEST_DELETE
        self.created.append(resource)
        return _CREATED, [], b"Created"

    def _preconditions(self, resource: Resource, msg: Message) -> bool:
        """Whether a PUT may change ``resource``. 1.20.1-1.20.3.b2 (A L448-462): a non-empty If-Match must
        be the ETag (ETag on), If-None-Match is ignored. 1.20.3.b3/b4 (C L694-718): any If-None-Match
        fails; with ETag on, the first If-Match (missing or empty: 0) must be the ETag; with ETag off,
        If-Match is ignored."""
        if_match = msg.option(_OPT_IF_MATCH)
        etag_matches = resource.etag_enabled and decode_uint(if_match or b"") == resource.etag
        older = not if_match or etag_matches
        newer = msg.option(_OPT_IF_NONE_MATCH) is None and (etag_matches or not resource.etag_enabled)
        if older == newer or self._put_c:
            return newer
        outcome = "4.12 Precondition Failed" if older else "past its preconditions"
        self.profile.quirk(PUT_PRECONDITIONS, uri=resource.uri, outcome=outcome)
        return older

    def _put_or_post(self, resource: Resource, msg: Message, put: bool) -> Response:
        if put and not self._preconditions(resource, msg):
            return _error(Code.PRECONDITION_FAILED)
        content_format = msg.option(_OPT_CONTENT_FORMAT)
        media_type = -1 if content_format is None else decode_uint(content_format)
        if not (put and self._put_c):  # C's PUT changes the media type only on success (L720-725)
            resource.media_type = media_type
        if not msg.payload:
            return _error(Code.INTERNAL_SERVER_ERROR)
        resource.media_type = media_type
        resource.set_value(msg.payload)
        options = [(_OPT_ETAG, encode_uint(resource.etag))] if resource.etag_enabled else []
        return Code.CHANGED, options, b""
