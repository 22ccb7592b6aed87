"""CoAP numbers (RFC 7252 §12): the codes, option numbers, media types and transmission parameters
the emulator uses.

Small enums for readability at the edges; the hot path compares plain ints, which these are. Message
types are plain ints in :mod:`.exchange` (CON 0, NON 1, ACK 2, RST 3).
"""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    """A code byte: class * 32 + detail, so ``Code.CONTENT == 69`` (2.05). The methods, and the
    responses modcoap's built-in handlers (libcoap) send."""

    GET = 1
    POST = 2
    PUT = 3
    DELETE = 4
    DELETED = 66
    VALID = 67
    CHANGED = 68
    CONTENT = 69
    CONTINUE = 95  # 2.31, RFC 7959 §2.9.1
    BAD_REQUEST = 128
    BAD_OPTION = 130
    NOT_FOUND = 132
    METHOD_NOT_ALLOWED = 133
    NOT_ACCEPTABLE = 134
    REQUEST_ENTITY_INCOMPLETE = 136  # 4.08, RFC 7959 §2.9.2
    PRECONDITION_FAILED = 140
    REQUEST_ENTITY_TOO_LARGE = 141  # 4.13, RFC 7959 §2.9.3
    INTERNAL_SERVER_ERROR = 160
    PROXYING_NOT_SUPPORTED = 165


# Every response code's name: RFC 7252 §12.1.2, RFC 7959 §2.9, RFC 8516 (as libcoap's coap-client names them)
CODE_NAMES: dict[int, str] = {
    65: "Created", 66: "Deleted", 67: "Valid", 68: "Changed", 69: "Content", 95: "Continue",
    128: "Bad Request", 129: "Unauthorized", 130: "Bad Option", 131: "Forbidden", 132: "Not Found",
    133: "Method Not Allowed", 134: "Not Acceptable", 136: "Request Entity Incomplete",
    140: "Precondition Failed", 141: "Request Entity Too Large", 143: "Unsupported Content-Format",
    157: "Too Many Requests", 160: "Internal Server Error", 161: "Not Implemented", 162: "Bad Gateway",
    163: "Service Unavailable", 164: "Gateway Timeout", 165: "Proxying Not Supported",
}  # fmt: skip

# The reason phrase libcoap puts in the payload of an error response: the code's name.
PHRASES: dict[int, str] = {
    code: CODE_NAMES[code]
    for code in (
        Code.BAD_OPTION,
        Code.NOT_FOUND,
        Code.METHOD_NOT_ALLOWED,
        Code.NOT_ACCEPTABLE,
        Code.REQUEST_ENTITY_INCOMPLETE,
        Code.PRECONDITION_FAILED,
        Code.REQUEST_ENTITY_TOO_LARGE,
        Code.INTERNAL_SERVER_ERROR,
        Code.PROXYING_NOT_SUPPORTED,
    )
}


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


# The options the emulator recognises: a request with another, critical (odd) one is rejected (§5.4.1).
KNOWN_OPTIONS: frozenset[int] = frozenset(int(o) for o in Option)


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

ALL_COAP_NODES_V4 = "224.0.1.187"
