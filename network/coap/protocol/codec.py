"""CoAP message codec (RFC 7252 §3): bytes <-> :class:`Message`, nothing else.

``decode`` raises only :class:`ParseError`, for anything RFC 7252 calls a message format error.
When the 4-byte header itself was readable the error carries the message's type and id, so the
message layer can reject a malformed CON with an RST (§4.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

_PAYLOAD_MARKER = 0xFF


class ParseError(ValueError):
    """A datagram that is not a well-formed CoAP message."""

    def __init__(self, reason: str, mtype: int | None = None, mid: int | None = None) -> None:
        super().__init__(reason)
        self.mtype = mtype
        self.mid = mid


class IgnoredVersion(ParseError):
    """Version field is not 1: RFC 7252 §3 says such messages are silently ignored."""


@dataclass(slots=True)
class Message:
    """One CoAP message. ``options`` is a list of ``(number, value)`` in option-number order."""

    mtype: int
    code: int
    mid: int
    token: bytes = b""
    options: list[tuple[int, bytes]] = field(default_factory=list)
    payload: bytes = b""

    def option(self, number: int) -> bytes | None:
        """The first value of option ``number``, or None."""
        for num, value in self.options:
            if num == number:
                return value
        return None

    def option_values(self, number: int) -> list[bytes]:
        return [value for num, value in self.options if num == number]

    def path(self) -> tuple[str, ...]:
        """The Uri-Path segments, decoded as UTF-8 (undecodable bytes replaced)."""
        return tuple(v.decode("utf-8", "replace") for n, v in self.options if n == 11)

    def queries(self) -> list[str]:
        return [v.decode("utf-8", "replace") for n, v in self.options if n == 15]


def encode_uint(value: int) -> bytes:
    """Minimal big-endian unsigned encoding (RFC 7252 §3.2 ``uint``): 0 is the empty string."""
    if value <= 0:
        return b""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def decode_uint(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _ext(value: int) -> tuple[int, bytes]:
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes((value - 13,))
    return 14, (value - 269).to_bytes(2, "big")


def encode(msg: Message) -> bytes:
    """Serialise ``msg``. Options are written in number order (stable for repeated options)."""
    token = msg.token
    if len(token) > 8:
        raise ValueError("token longer than 8 bytes")
    out = bytearray(((0x40 | (msg.mtype << 4) | len(token)), msg.code, msg.mid >> 8, msg.mid & 0xFF))
    out += token
    last = 0
    options = msg.options
    if any(options[i][0] > options[i + 1][0] for i in range(len(options) - 1)):
        options = sorted(options, key=lambda o: o[0])
    for number, value in options:
        delta = number - last
        last = number
        length = len(value)
        if delta < 13 and length < 13:
            out.append((delta << 4) | length)
        else:
            dn, dx = _ext(delta)
            ln, lx = _ext(length)
            out.append((dn << 4) | ln)
            out += dx
            out += lx
        out += value
    if msg.payload:
        out.append(_PAYLOAD_MARKER)
        out += msg.payload
    return bytes(out)


def _extended(nibble: int, data: bytes, pos: int, what: str, mtype: int, mid: int) -> tuple[int, int]:
    """An option delta or length nibble of 13 or 14 and its extension bytes (§3.1); 15 is an error."""
    if nibble == 13:
        if pos >= len(data):
            raise ParseError(f"truncated option {what}", mtype, mid)
        return data[pos] + 13, pos + 1
    if nibble == 14:
        if pos + 2 > len(data):
            raise ParseError(f"truncated option {what}", mtype, mid)
        return ((data[pos] << 8) | data[pos + 1]) + 269, pos + 2
    raise ParseError(f"option {what} nibble 15", mtype, mid)


def decode(data: bytes) -> Message:
    """Parse one datagram. Raises :class:`ParseError` (never anything else) on a format error."""
    n = len(data)
    if n < 4:
        raise ParseError("shorter than the 4-byte header")
    first = data[0]
    mtype = (first >> 4) & 3
    mid = (data[2] << 8) | data[3]
    if first >> 6 != 1:
        raise IgnoredVersion(f"unknown version {first >> 6}", mtype, mid)
    tkl = first & 0x0F
    code = data[1]
    if tkl > 8:
        raise ParseError(f"token length {tkl} is reserved", mtype, mid)
    if code == 0:
        if n != 4 or tkl:
            raise ParseError("empty message with bytes after the header", mtype, mid)
        return Message(mtype, 0, mid)
    pos = 4 + tkl
    if pos > n:
        raise ParseError("truncated token", mtype, mid)
    token = data[4:pos]
    options: list[tuple[int, bytes]] = []
    number = 0
    payload = b""
    while pos < n:
        byte = data[pos]
        pos += 1
        if byte == _PAYLOAD_MARKER:
            if pos == n:
                raise ParseError("payload marker followed by no payload", mtype, mid)
            payload = data[pos:]
            break
        delta = byte >> 4
        length = byte & 0x0F
        if delta >= 13:  # small values stay inline: they are the common case
            delta, pos = _extended(delta, data, pos, "delta", mtype, mid)
        if length >= 13:
            length, pos = _extended(length, data, pos, "length", mtype, mid)
        number += delta
        if number > 0xFFFF:
            raise ParseError("option number above 65535", mtype, mid)
        end = pos + length
        if end > n:
            raise ParseError("option value runs past the datagram", mtype, mid)
        options.append((number, data[pos:end]))
        pos = end
    return Message(mtype, code, mid, token, options, payload)
