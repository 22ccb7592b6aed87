"""Firmware profiles: which Pycom firmware behaviour the emulator reproduces.

Internal to the emulator (scripts never see it): the simulator activates the profile of
``--firmware``; a plain Python process has the ``docs`` profile.

Where the firmware has an outright bug, the default profile (``docs``) does what the documentation
says and, the first time a script reaches such a place, prints one warning line to stderr naming the
firmware versions that behave differently. A strict profile lists the quirks it reproduces instead:
``1.20.2.r6`` (API A), ``1.20.3.b2`` (API B) and ``1.20.3.b4`` (API C; ``1.20.3.b3`` has the same
modcoap.c), each without the other APIs' functions. The engine and the ``network.Coap`` facade ask the
active profile with :meth:`FirmwareProfile.quirk`, or, for the differences between the APIs (which the
docs profile offers together, silently), with :meth:`FirmwareProfile.has` once per context.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Quirk:
    """A place where some firmware versions differ from the documentation."""

    key: str
    versions: str
    text: str  # format string; ``{versions}`` and the call's own fields are filled in

    def describe(self, **fields: object) -> str:
        return self.text.format(versions=self.versions, **fields)


A_AND_B = "1.20.1 to 1.20.3.b2"
A_ONLY = "1.20.1 to 1.20.2.r6"
B_ONLY = "1.20.3.b0 to 1.20.3.b2"
B_ON = "1.20.3.b0 and later"
C_ON = "1.20.3.b3 and later"

INIT_PORT = Quirk("init-port", A_AND_B, "Coap.init(port={port}) binds port {bound} on firmware {versions}")
UNSET_CONTENT_FORMAT = Quirk(
    "unset-content-format",
    A_AND_B,
    "resource '{uri}' has no media_type: firmware {versions} send Content-Format 255 in its responses "
    "and answer 4.06 to any Accept",
)
UNSET_MAX_AGE = Quirk(
    "unset-max-age", A_AND_B, "resource '{uri}' has no max_age: firmware {versions} send Max-Age 255"
)
MAX_AGE_8BIT = Quirk(
    "max-age-8bit", A_AND_B, "Coap.add_resource(max_age={max_age}) sends Max-Age {cut} on firmware {versions}"
)
CALLBACK_DISABLE = Quirk(
    "callback-disable",
    "1.20.1 to 1.20.2.r4 and 1.20.3.b0 to 1.20.3.b2",
    "resource.callback({operation}, False) enables those methods instead on firmware {versions}",
)
ACCEPT_HANG = Quirk(
    "accept-hang",
    B_ON,  # B L488; C L503-508 (v1.20.3.b3) still returns without xSemaphoreGive
    "answering 4.06 to a GET with a mismatching Accept hangs every later Coap call on firmware {versions}",
)
SEND_WITHOUT_PATH = Quirk(
    "send-without-path",
    A_ONLY,
    "Coap.send_request() without uri_path dereferences NULL and crashes firmware {versions}",
)
HANDLER_REENTRY = Quirk(
    "handler-reentry",
    A_ONLY,
    "calling Coap.{function}() from the response handler deadlocks firmware {versions}",
)
NO_RETRANSMIT = Quirk(
    "no-retransmit", A_ONLY, "firmware {versions} never retransmit a CON request; this one was sent again"
)
URI_LEADING_SLASH = Quirk(
    "uri-leading-slash",
    "1.20.3.b0 and later",
    "resource '{uri}' is never reached by a request on firmware {versions} (exact URI match): use '{fixed}'",
)
PATH_LEADING_SLASH = Quirk(
    "path-leading-slash",
    "1.20.1 to 1.20.3.b4",
    "send_request(uri_path='{path}') sends an empty first Uri-Path option on firmware {versions}",
)
URI_HOST_BINARY = Quirk(
    "uri-host-binary",
    "1.20.3.b0 and later",
    "client sessions on firmware {versions} send Uri-Host as the 4 raw bytes of the address, not as text",
)
LARGE_VALUE = Quirk(
    "large-value",
    "1.20.1 to 1.20.3.b4",
    "a {size}-byte response does not fit one PDU (1400 bytes on 1.20.1 to 1.20.2.r6, 1152 on 1.20.3) on "
    "firmware {versions}, which answer 2.05 without payload",
)
LARGE_PAYLOAD = Quirk(
    "large-payload",
    "1.20.1 to 1.20.3.b4",
    "a {size}-byte request does not fit one PDU ({limit} bytes) on firmware {versions}, which send it "
    "without its payload",
)
PATH_BUFFER = Quirk(
    "path-buffer",
    "1.20.1 to 1.20.3.b4",
    "send_request(uri_path=...) needs {size} bytes of Uri-Path options: firmware {versions} split the path "
    "into a 300-byte buffer and leave out the segments that do not fit",
)
PORT_WRAP = Quirk(
    "port-wrap",
    "1.20.1 to 1.20.3.b4",
    "port {port} is out of range: firmware {versions} use its low 16 bits ({wrapped}) without an error",
)
CLOSED_SOCKET = Quirk(
    "closed-socket",
    A_ONLY,
    "after Coap.socket().close(), every Coap.read() on firmware {versions} prints 'WARN coap_network_read: "
    "Bad file number' and returns at once, and the server never answers again",
)
HANDLER_EXCEPTION = Quirk(
    "handler-exception",
    A_ONLY,
    "the response handler raised: on firmware {versions} the exception leaves Coap.read() and every later "
    "Coap call hangs (modcoap's semaphore stays taken); 1.20.3.b0 to 1.20.3.b2 print it and call no "
    "handler again",
)

# Behaviour of one API generation that the docs profile does not warn about (it offers the union of
# both APIs); strict profiles ask :meth:`FirmwareProfile.has` for these, once per context.
INIT_ADDRESS_REQUIRED = Quirk(
    "init-address-required",
    A_ONLY,
    "Coap.init() needs an address on firmware {versions} (no client-only mode)",
)
READ_ONE_DATAGRAM = Quirk(
    "read-one-datagram",
    A_ONLY,
    "Coap.read() takes no argument on firmware {versions}: it blocks until one datagram came and handles it",
)
SWAPPED_IDS = Quirk(
    "swapped-ids",
    A_ONLY,
    "send_request() and the response handler give the byte-swapped message id on firmware {versions}",
)
POSITIONAL_SESSIONS = Quirk(
    "positional-sessions",
    B_ONLY,
    "new_client_session(address, port=5683) and remove_client_session(address, port) take positional "
    "arguments only on firmware {versions}",
)
EXACT_URI = Quirk(
    "exact-uri",
    B_ON,
    "resources are looked up by their exact uri string on firmware {versions} ('/sensor' is not 'sensor')",
)
WKC_OLDEST_FIRST = Quirk(
    "wkc-oldest-first", B_ON, "/.well-known/core lists resources oldest first on firmware {versions}"
)
EMPTY_URI_PATH = Quirk(
    "empty-uri-path",
    B_ON,
    "a session's send_request() without uri_path sends one empty Uri-Path option on firmware {versions}",
)
IRQ_CALLBACKS = Quirk(
    "irq-callbacks",
    B_ON,
    "the response handler runs in the IRQ thread, not inside Coap.read(), on firmware {versions}",
)

NO_API_C = Quirk(
    "no-api-c",
    A_AND_B,
    "firmware {versions} have no {feature} (Coap.init(dynamic_resources, psk, hint), "
    "register_new_resource_handler, CoapResource.get_details/set_details, PROTOCOL_*)",
)
BACKGROUND_TASK = Quirk(  # has(): API C's signatures and TASK_MODCOAP; quirk(): docs' read() with C features
    "background-task",
    C_ON,
    "Coap.read() with {feature}: firmware {versions} have {feature} but no Coap.read(); their task "
    "serves the context from Coap.init() on",
)
DELETE_UNKNOWN = Quirk(
    "delete-unknown", B_ON, "DELETE of an unknown URI gets 2.02 Deleted on firmware {versions} (libcoap 4.2)"
)
INIT_PORT_HALVED = Quirk(
    "init-port-halved",
    C_ON,
    "Coap.init(port={port}) {effect} on firmware {versions} (port read as an object: only the default works)",
)
SESSION_PORT_HALVED = Quirk(
    "session-port-halved",
    C_ON,
    "new_client_session(port={port}) {effect} on firmware {versions} (port read as an object)",
)
PUT_PRECONDITIONS = Quirk(
    "put-preconditions",
    C_ON,
    "PUT to '{uri}' gets {outcome} on firmware {versions}: 4.12 for any If-None-Match and, with etag, for "
    "an If-Match that is missing or not the ETag; without etag If-Match is ignored",
)
DYNAMIC_FIRST_SEGMENT = Quirk(
    "dynamic-first-segment",
    C_ON,
    "a PUT to the unknown '{path}' creates resource '{uri}' on firmware {versions} (first Uri-Path only)",
)

RESET_CAUSE_WDT = Quirk(
    "reset-cause-wdt",
    "1.18 to 1.20.3",
    "reset_cause() is HARD_RESET after machine.reset() here; firmware {versions} reset through the "
    "watchdog and report WDT_RESET (2)",
)

ALL_QUIRKS: tuple[Quirk, ...] = tuple(q for q in list(globals().values()) if isinstance(q, Quirk))


@dataclass
class FirmwareProfile:
    """What one firmware version does.

    ``reproduces``: quirk keys done as that firmware does them. ``hidden``: ``Coap`` functions the
    version lacks (an ``AttributeError`` as on the board). ``network_lacks``: classes of ``network``
    the version's default build lacks (an ``ImportError`` on a simulated board). ``warn``: print a
    warning line the first time a script reaches a quirk this profile does not reproduce.
    """

    name: str
    reproduces: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    network_lacks: frozenset[str] = frozenset()
    warn: bool = True
    _warned: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def quirk(self, quirk: Quirk, **fields: object) -> bool:
        """True if this profile reproduces ``quirk``; otherwise warn once (docs profile) and say False."""
        if quirk.key in self.reproduces:
            return True
        if self.warn and quirk.key not in self._warned:
            with self._lock:
                first = quirk.key not in self._warned
                self._warned.add(quirk.key)
            if first:
                print(f"firmware-sim: warning: {quirk.describe(**fields)}", file=sys.stderr, flush=True)
        return False

    def has(self, quirk: Quirk) -> bool:
        """True if this profile reproduces ``quirk``; never warns. For the differences between the two
        APIs, which the docs profile offers side by side; callers compute it once per context."""
        return quirk.key in self.reproduces

    def reset_warnings(self) -> None:
        with self._lock:
            self._warned.clear()


def docs_profile() -> FirmwareProfile:
    """The default: the documented API (union of 1.20.1-1.20.2, 1.20.3.b0-b2 and the 1.20.3 features of
    API C), bugs warned about."""
    return FirmwareProfile(name="docs")


def _keys(*quirks: Quirk) -> frozenset[str]:
    return frozenset(q.key for q in quirks)


# what every release reproduces, and what the libcoap 4.2 builds (1.20.3) have in common
_ALL_RELEASES = (RESET_CAUSE_WDT, PATH_LEADING_SLASH, LARGE_VALUE, LARGE_PAYLOAD, PATH_BUFFER, PORT_WRAP)
_LIBCOAP_42 = (URI_HOST_BINARY, URI_LEADING_SLASH, EXACT_URI, WKC_OLDEST_FIRST, EMPTY_URI_PATH, IRQ_CALLBACKS)
_EIGHT_BIT_FIELDS = (INIT_PORT, UNSET_CONTENT_FORMAT, UNSET_MAX_AGE, MAX_AGE_8BIT)  # fixed in C (8bfbf1f12)


def firmware_1_20_2_r6() -> FirmwareProfile:
    """1.20.2.r6, the last stable release (API A): ``socket()``, module-level ``send_request``,
    ``read()`` without arguments handling one datagram, no client sessions; its cheap bugs."""
    return FirmwareProfile(
        name="1.20.2.r6",
        reproduces=_keys(
            *_ALL_RELEASES,
            *_EIGHT_BIT_FIELDS,
            NO_RETRANSMIT,
            INIT_ADDRESS_REQUIRED,
            READ_ONE_DATAGRAM,
            SWAPPED_IDS,
            CLOSED_SOCKET,
            HANDLER_EXCEPTION,
            NO_API_C,
        ),
        hidden=frozenset({"new_client_session", "remove_client_session", "get_client_sessions"}),
        warn=False,
    )


def firmware_1_20_3_b2() -> FirmwareProfile:
    """1.20.3.b2, the last beta with ``read()`` (API B): client sessions, ``read(timeout)``, response
    handler in the IRQ thread, no ``socket()`` or ``send_request``, no ``network.MDNS``; its cheap
    bugs."""
    return FirmwareProfile(
        name="1.20.3.b2",
        reproduces=_keys(
            *_ALL_RELEASES,
            *_LIBCOAP_42,
            *_EIGHT_BIT_FIELDS,
            CALLBACK_DISABLE,
            POSITIONAL_SESSIONS,
            DELETE_UNKNOWN,
            NO_API_C,
        ),
        hidden=frozenset({"socket", "send_request"}),
        network_lacks=frozenset({"MDNS"}),  # esp32/Makefile at 87ca0c40b: MOD_MDNS_ENABLED ?= 0
        warn=False,
    )


def firmware_1_20_3_b4(name: str = "1.20.3.b4") -> FirmwareProfile:
    """1.20.3.b4 (and 1.20.3.b3: the same modcoap.c, blob 92ae4d05), API C: no ``read()``, ``socket()``
    or ``send_request``; a background task serves the context from ``init()`` on; ``init(...,
    dynamic_resources, psk, hint)``, keyword-only session ports, ``register_new_resource_handler``,
    ``get_details``/``set_details``; its cheap bugs (the port read as an object pointer, PUT's
    preconditions, dynamic PUT's first segment). No ``network.MDNS`` (esp32/Makefile: MOD_MDNS_ENABLED
    ?= 0)."""
    return FirmwareProfile(
        name=name,
        reproduces=_keys(
            *_ALL_RELEASES,
            *_LIBCOAP_42,
            DELETE_UNKNOWN,
            BACKGROUND_TASK,
            INIT_PORT_HALVED,
            SESSION_PORT_HALVED,
            PUT_PRECONDITIONS,
            DYNAMIC_FIRST_SEGMENT,
        ),
        hidden=frozenset({"read", "socket", "send_request"}),
        network_lacks=frozenset({"MDNS"}),
        warn=False,
    )


def firmware_1_20_3_b3() -> FirmwareProfile:
    return firmware_1_20_3_b4("1.20.3.b3")


# Profile factories by --firmware name.
PROFILES = {
    "docs": docs_profile,
    "1.20.2.r6": firmware_1_20_2_r6,
    "1.20.3.b2": firmware_1_20_3_b2,
    "1.20.3.b3": firmware_1_20_3_b3,
    "1.20.3.b4": firmware_1_20_3_b4,
}


def by_name(name: str) -> FirmwareProfile:
    """A fresh profile for ``--firmware NAME``; ValueError naming the choices for an unknown one."""
    factory = PROFILES.get(name)
    if factory is None:
        raise ValueError(f"unknown firmware profile '{name}': choose one of {', '.join(sorted(PROFILES))}")
    return factory()


_active = docs_profile()


def active() -> FirmwareProfile:
    return _active


def activate(profile: FirmwareProfile) -> None:
    global _active
    _active = profile
