"""The DTLS 1.2 record layer's framing (RFC 6347 §4.1), read without keys: where records start and end,
whether a datagram opens a handshake, which alert a plaintext record carries."""

from __future__ import annotations

from collections.abc import Iterator

HEADER = 13  # content type, version (2), epoch (2), sequence number (6), length (2)
HANDSHAKE_HEADER = 12  # msg_type, length (3), message_seq (2), fragment offset (3), fragment length (3)
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
CLIENT_HELLO = 1

ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    47: "illegal_parameter",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    90: "user_canceled",
    115: "unknown_psk_identity",
}


def records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(content type, epoch, whole record) for each record of ``data``; stops at a truncated one."""
    pos = 0
    while pos + HEADER <= len(data):
        end = pos + HEADER + int.from_bytes(data[pos + 11 : pos + 13], "big")
        if end > len(data):
            return
        yield data[pos], int.from_bytes(data[pos + 3 : pos + 5], "big"), data[pos:end]
        pos = end


def datagrams(data: bytes, mtu: int) -> list[bytes]:
    """Records written back to back, packed into datagrams of at most ``mtu`` bytes (a record that is
    larger goes alone). Bytes that are not whole records go out as they are, in one datagram."""
    out: list[bytes] = []
    current = b""
    used = 0
    for _, _, record in records(data):
        used += len(record)
        if current and len(current) + len(record) > mtu:
            out.append(current)
            current = b""
        current += record
    if current:
        out.append(current)
    if used < len(data):
        out.append(data[used:])
    return out


def is_client_hello(datagram: bytes) -> bool:
    """Whether the datagram's first record is an epoch-0 handshake record holding a ClientHello."""
    return (
        len(datagram) > HEADER
        and datagram[0] == HANDSHAKE
        and datagram[3:5] == b"\0\0"
        and datagram[HEADER] == CLIENT_HELLO
    )


def handshake_seq(datagram: bytes) -> int | None:
    """The message_seq of the first plaintext (epoch 0) handshake message in ``datagram``, or None."""
    for ctype, epoch, record in records(datagram):
        if ctype == HANDSHAKE and epoch == 0 and len(record) >= HEADER + HANDSHAKE_HEADER:
            return int.from_bytes(record[HEADER + 4 : HEADER + 6], "big")
    return None


def plaintext_alert(datagram: bytes) -> int | None:
    """The description of the first alert in ``datagram`` sent in the clear (epoch 0), or None."""
    for ctype, epoch, record in records(datagram):
        if ctype == ALERT and epoch == 0 and len(record) == HEADER + 2:
            return record[HEADER + 1]
    return None


def alert_name(description: int) -> str:
    return ALERTS.get(description, f"alert {description}")
