"""How modcoap builds a client request (``send_request``, firmware 1.20.1 to 1.20.3.b4).

Always CON. Options in number order: Uri-Host (the host text), Uri-Port (always 2 bytes big-endian),
one Uri-Path per segment, Content-Format (always 2 bytes when given); ``include_options=False`` sends
none of them, but still the token and payload. The payload is added only when non-empty.

Sizes and ranges, as modcoap handles them (all versions): a port keeps its low 16 bits; the path is
split into a 300-byte buffer, leaving out the segments that do not fit; a payload that does not fit
the PDU (libcoap 4.1: 1400 bytes, firmware 1.20.1-1.20.2; libcoap 4.2: the session MTU, 1152 bytes,
1.20.3) is left out and the request sent without it. The strict profiles do the same; the docs
profile warns once, refuses an out-of-range port with ``ValueError``, and sends the whole request
when it fits one UDP datagram, else refuses it with ``OSError`` before anything is queued.
"""

from __future__ import annotations

from ...profile import LARGE_PAYLOAD, PATH_BUFFER, PATH_LEADING_SLASH, PORT_WRAP, FirmwareProfile
from ..protocol.codec import Message
from ..protocol.numbers import Code, MediaType, Option

DATAGRAM_LIMIT = 65507  # bytes: the largest UDP payload over IPv4
PDU_LIBCOAP_41 = 1400  # bytes with the header: COAP_MAX_PDU_SIZE of libcoap 4.1 (firmware 1.20.1-1.20.2)
PDU_LIBCOAP_42 = 1152  # bytes with the header: COAP_DEFAULT_MTU, a libcoap 4.2 session's PDU (1.20.3)
PATH_BUFFER_SIZE = 300  # modcoap's buffer for coap_split_path(): the Uri-Path options, headers included
LIBCOAP_DEFAULT_PORT = 5683  # libcoap 4.2 connects a session to it when the port is 0

# modcoap's REQUEST_* bit (GET 1, PUT 2, POST 4, DELETE 8) -> CoAP method code
METHOD_CODES = {1: int(Code.GET), 2: int(Code.PUT), 4: int(Code.POST), 8: int(Code.DELETE)}
CONTENT_FORMATS = frozenset({-1, *(int(media) for media in MediaType)})  # -1: no Content-Format


def check_method(method: int) -> int:
    code = METHOD_CODES.get(method)
    if code is None:
        raise ValueError('Invalid "method" parameter value!')
    return code


def check_content_format(content_format: int) -> int:
    if content_format not in CONTENT_FORMATS:
        raise ValueError('Invalid "content_format" parameter value!')
    return content_format


def path_segments(uri_path: str, profile: FirmwareProfile) -> list[str]:
    """Split like libcoap's ``coap_split_path``: '/' separates, '?' and '#' end the path.

    The firmware turns a leading '/' into an empty first segment; the documented behaviour (and the
    default profile) drops it.
    """
    for stop in "?#":
        uri_path = uri_path.split(stop, 1)[0]
    if uri_path.startswith("/") and not profile.quirk(PATH_LEADING_SLASH, path=uri_path):
        uri_path = uri_path[1:]
    if not uri_path:
        return []
    return uri_path.split("/")


def build_options(
    *,
    uri_host: bytes | None,
    uri_port: int | None,
    segments: list[str],
    content_format: int,
) -> list[tuple[int, bytes]]:
    options: list[tuple[int, bytes]] = []
    if uri_host is not None:
        options.append((Option.URI_HOST, uri_host))
    if uri_port is not None:
        options.append((Option.URI_PORT, (uri_port & 0xFFFF).to_bytes(2, "big")))
    options.extend((Option.URI_PATH, seg.encode()) for seg in segments)
    if content_format != -1:
        options.append((Option.CONTENT_FORMAT, content_format.to_bytes(2, "big")))
    return options


def check_port(port: int, profile: FirmwareProfile, parameter: str = "port") -> int:
    """A port as modcoap uses it: its low 16 bits (``netutils_parse_inet_addr`` returns it into a
    ``uint16_t``; libcoap's ``coap_uri_t.port`` is 16 bits), all versions. The docs profile raises
    ``ValueError`` for a port outside 0-65535 instead, and warns once."""
    if 0 <= port <= 0xFFFF:
        return port
    wrapped = port & 0xFFFF
    if profile.quirk(PORT_WRAP, port=port, wrapped=wrapped):
        return wrapped
    raise ValueError(f'Invalid "{parameter}" parameter value!')


def _extension(value: int) -> int:
    return 0 if value < 13 else 1 if value < 269 else 2


def option_size(delta: int, length: int) -> int:
    """Bytes one option takes on the wire (RFC 7252 §3.1)."""
    return 1 + _extension(delta) + _extension(length) + length


def message_size(token: bytes, options: list[tuple[int, bytes]], payload_length: int) -> int:
    """Bytes a message takes on the wire; never raises, however large."""
    size = 4 + len(token)
    last = 0
    for number, value in sorted(options, key=lambda option: option[0]):
        size += option_size(number - last, len(value))
        last = number
    return size + (1 + payload_length if payload_length else 0)


def fit_path(segments: list[str], profile: FirmwareProfile) -> list[str]:
    """The Uri-Path segments modcoap sends: ``coap_split_path`` writes each segment as an option into a
    300-byte buffer and leaves out one that does not fit (later, shorter ones may still fit), in libcoap
    4.1 and 4.2 alike. The docs profile keeps them all and warns once."""
    room = PATH_BUFFER_SIZE
    kept: list[str] = []
    needed = 0
    for segment in segments:
        size = option_size(0, len(segment.encode()))
        needed += size
        if size <= room:
            room -= size
            kept.append(segment)
    if len(kept) == len(segments) or not profile.quirk(PATH_BUFFER, size=needed):
        return segments
    return kept


def fit_request(request: Message, pdu_limit: int, profile: FirmwareProfile) -> None:
    """Make ``request`` what modcoap sends, or refuse it before anything is queued.

    Past ``pdu_limit`` bytes libcoap's ``coap_add_data`` refuses the payload and modcoap sends the
    request without it (strict profiles). Otherwise the request goes whole if it fits one datagram,
    and ``OSError("Cannot create request: ...")`` is raised if it does not."""
    size = message_size(request.token, request.options, len(request.payload))
    if size > pdu_limit and request.payload and profile.quirk(LARGE_PAYLOAD, size=size, limit=pdu_limit):
        request.payload = b""
        size = message_size(request.token, request.options, 0)
    if size > DATAGRAM_LIMIT:
        raise OSError(f"Cannot create request: it is {size} bytes, one UDP datagram holds {DATAGRAM_LIMIT}")
