"""CoAP numbers (RFC 7252 §12): message types, codes, option numbers and transmission parameters.

Small enums for readability at the edges; the hot path compares plain ints, which these are.
"""

from __future__ import annotations

from enum import IntEnum


class Type(IntEnum):
    CON = 0
    NON = 1
    ACK = 2
    RST = 3


class Code(IntEnum):
    """A code byte: class * 32 + detail, so ``Code.CONTENT == 69`` (2.05)."""

    EMPTY = 0
    GET = 1
    POST = 2
    PUT = 3
    DELETE = 4
    FETCH = 5
    PATCH = 6
    IPATCH = 7
    CREATED = 65
    DELETED = 66
    VALID = 67
    CHANGED = 68
    CONTENT = 69
    CONTINUE = 95
    BAD_REQUEST = 128
    UNAUTHORIZED = 129
    BAD_OPTION = 130
    FORBIDDEN = 131
    NOT_FOUND = 132
    METHOD_NOT_ALLOWED = 133
    NOT_ACCEPTABLE = 134
    REQUEST_ENTITY_INCOMPLETE = 136
    PRECONDITION_FAILED = 140
    REQUEST_ENTITY_TOO_LARGE = 141
    UNSUPPORTED_CONTENT_FORMAT = 143
    INTERNAL_SERVER_ERROR = 160
    NOT_IMPLEMENTED = 161
    BAD_GATEWAY = 162
    SERVICE_UNAVAILABLE = 163
    GATEWAY_TIMEOUT = 164
    PROXYING_NOT_SUPPORTED = 165

    @property
    def dotted(self) -> str:
        return dotted(self)

    @property
    def phrase(self) -> str:
        """The reason phrase libcoap puts in error payloads, e.g. ``Not Found``."""
        return PHRASES.get(self, "")


def dotted(code: int) -> str:
    """``69`` -> ``'2.05'``."""
    return f"{code >> 5}.{code & 31:02d}"


PHRASES: dict[int, str] = {
    Code.CREATED: "Created",
    Code.DELETED: "Deleted",
    Code.VALID: "Valid",
    Code.CHANGED: "Changed",
    Code.CONTENT: "Content",
    Code.CONTINUE: "Continue",
    Code.BAD_REQUEST: "Bad Request",
    Code.UNAUTHORIZED: "Unauthorized",
    Code.BAD_OPTION: "Bad Option",
    Code.FORBIDDEN: "Forbidden",
    Code.NOT_FOUND: "Not Found",
    Code.METHOD_NOT_ALLOWED: "Method Not Allowed",
    Code.NOT_ACCEPTABLE: "Not Acceptable",
    Code.REQUEST_ENTITY_INCOMPLETE: "Request Entity Incomplete",
    Code.PRECONDITION_FAILED: "Precondition Failed",
    Code.REQUEST_ENTITY_TOO_LARGE: "Request Entity Too Large",
    Code.UNSUPPORTED_CONTENT_FORMAT: "Unsupported Content-Format",
    Code.INTERNAL_SERVER_ERROR: "Internal Server Error",
    Code.NOT_IMPLEMENTED: "Not Implemented",
    Code.BAD_GATEWAY: "Bad Gateway",
    Code.SERVICE_UNAVAILABLE: "Service Unavailable",
    Code.GATEWAY_TIMEOUT: "Gateway Timeout",
    Code.PROXYING_NOT_SUPPORTED: "Proxying Not Supported",
}


def is_request(code: int) -> bool:
    return 1 <= code <= 31


def is_response(code: int) -> bool:
    return 64 <= code <= 191


class Option(IntEnum):
    IF_MATCH = 1
    URI_HOST = 3
    ETAG = 4
    IF_NONE_MATCH = 5
    OBSERVE = 6
    URI_PORT = 7
    LOCATION_PATH = 8
    URI_PATH = 11
    CONTENT_FORMAT = 12
    MAX_AGE = 14
    URI_QUERY = 15
    ACCEPT = 17
    LOCATION_QUERY = 20
    BLOCK2 = 23
    BLOCK1 = 27
    SIZE2 = 28
    PROXY_URI = 35
    PROXY_SCHEME = 39
    SIZE1 = 60
    NO_RESPONSE = 258


KNOWN_OPTIONS: frozenset[int] = frozenset(int(o) for o in Option)


def is_critical(number: int) -> bool:
    """RFC 7252 §5.4.6: odd option numbers are critical."""
    return bool(number & 1)


class MediaType(IntEnum):
    TEXT_PLAIN = 0
    APP_LINK_FORMAT = 40
    APP_XML = 41
    APP_OCTET_STREAM = 42
    APP_RDF_XML = 43
    APP_EXI = 47
    APP_JSON = 50
    APP_CBOR = 60


# RFC 7252 §4.8 transmission parameters and derived times (seconds).
ACK_TIMEOUT = 2.0
ACK_RANDOM_FACTOR = 1.5
MAX_RETRANSMIT = 4
NSTART = 1  # unacknowledged CONs a client keeps outstanding to one server (§4.7)
MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2**MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR  # 45 s
MAX_LATENCY = 100.0
PROCESSING_DELAY = ACK_TIMEOUT
EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY  # 247 s
NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY  # 145 s

DEFAULT_PORT = 5683
ALL_COAP_NODES_V4 = "224.0.1.187"
