"""How modcoap builds a client request (``send_request``, firmware 1.20.1 to 1.20.3.b4).

Always CON. Options in number order: Uri-Host (the host text), Uri-Port (always 2 bytes big-endian),
one Uri-Path per segment, Content-Format (always 2 bytes when given); ``include_options=False`` sends
none of them, but still the token and payload. The payload is added only when non-empty.
"""

from __future__ import annotations

from ...profile import PATH_LEADING_SLASH, FirmwareProfile
from ..protocol.numbers import Code, MediaType, Option

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
