"""Semtech's UDP packet-forwarder protocol, version 2 (GWMP), without I/O: datagrams <-> messages.

What a LoRa gateway and a network server (ChirpStack's gateway bridge, The Things Stack, Pycom's
nano-gateway) exchange, as ``PROTOCOL.TXT`` of Lora-net/packet_forwarder (v1.3 of the text, protocol
version 2) defines it. Every datagram starts ``version, token (2 bytes), identifier``:

* ``PUSH_DATA`` 0x00 (gateway -> server): + gateway EUI (8 bytes) + ``{"rxpk": [...], "stat": {...}}``;
  answered by ``PUSH_ACK`` 0x01 with the same token.
* ``PULL_DATA`` 0x02 (gateway -> server, the keepalive that opens the way down): + gateway EUI;
  answered by ``PULL_ACK`` 0x04 with the same token.
* ``PULL_RESP`` 0x03 (server -> gateway): + ``{"txpk": {...}}``, a frame to emit; answered by
  ``TX_ACK`` 0x05 with its token + gateway EUI + ``{"txpk_ack": {"error": ...}}``, no JSON when it
  was accepted (as the reference forwarder sends it; ``"error": "NONE"`` means the same).

The ``rxpk``/``txpk`` objects and their fields' syntax are :mod:`.gwmp_packets` (re-exported here).
:func:`decode` raises only :class:`GwmpError`. The gateway's side of the exchange (tokens, keepalives,
acknowledgements, statistics) is :class:`~network.lora.gwmp_link.GatewayLink`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .gwmp_packets import (
    TX_ERRORS,
    GwmpError,
    RxPacket,
    TxPacket,
    format_codr,
    format_datr,
    format_eui,
    parse_codr,
    parse_datr,
    parse_eui,
)

__all__ = ["PROTOCOL_VERSION", "PUSH_DATA", "PUSH_ACK", "PULL_DATA", "PULL_RESP", "PULL_ACK", "TX_ACK"]
__all__ += ["TX_ERRORS", "GwmpError", "Message", "RxPacket", "TxPacket", "decode", "encode"]
__all__ += ["PushData", "PushAck", "PullData", "PullAck", "PullResp", "TxAck"]
__all__ += ["format_codr", "format_datr", "format_eui", "parse_codr", "parse_datr", "parse_eui"]

PROTOCOL_VERSION = 2
PUSH_DATA, PUSH_ACK, PULL_DATA, PULL_RESP, PULL_ACK, TX_ACK = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class PushData:
    token: int
    eui: bytes
    rxpk: tuple[RxPacket, ...] = ()
    stat: dict[str, Any] | None = None


@dataclass(frozen=True)
class PushAck:
    token: int


@dataclass(frozen=True)
class PullData:
    token: int
    eui: bytes


@dataclass(frozen=True)
class PullAck:
    token: int


@dataclass(frozen=True)
class PullResp:
    token: int
    txpk: TxPacket


@dataclass(frozen=True)
class TxAck:
    """The gateway's answer to a PULL_RESP: ``error`` None (no JSON, as the reference forwarder says
    success) or one of :data:`TX_ERRORS`; ``warn`` as some forwarders add it."""

    token: int
    eui: bytes
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return self.error in (None, "NONE")


Message = PushData | PushAck | PullData | PullAck | PullResp | TxAck


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def encode(message: Message) -> bytes:
    """The datagram of ``message`` (protocol version 2)."""
    kind = {PushData: PUSH_DATA, PushAck: PUSH_ACK, PullData: PULL_DATA, PullAck: PULL_ACK}
    kind.update({PullResp: PULL_RESP, TxAck: TX_ACK})
    if not 0 <= message.token <= 0xFFFF:
        raise GwmpError(f"token {message.token} is not 0 .. 65535")
    head = bytes([PROTOCOL_VERSION]) + message.token.to_bytes(2, "big") + bytes([kind[type(message)]])
    if isinstance(message, (PushData, PullData, TxAck)):
        if len(message.eui) != 8:
            raise GwmpError(f"gateway EUI {message.eui!r} is not 8 bytes")
        head += message.eui
    if isinstance(message, PushData):
        body: dict[str, Any] = {}
        if message.rxpk:
            body["rxpk"] = [packet.to_json() for packet in message.rxpk]
        if message.stat is not None:
            body["stat"] = message.stat
        return head + _dump(body)
    if isinstance(message, PullResp):
        return head + _dump({"txpk": message.txpk.to_json()})
    if isinstance(message, TxAck) and (message.error is not None or message.extra):
        ack = {} if message.error is None else {"error": message.error}
        return head + _dump({"txpk_ack": {**ack, **message.extra}})
    return head


def _json(payload: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(payload.decode("utf-8").rstrip("\x00"))
    except (UnicodeDecodeError, ValueError):
        raise GwmpError(f"{what}: the payload is not JSON") from None
    if not isinstance(body, dict):
        raise GwmpError(f"{what}: the payload is not a JSON object")
    return body


def decode(datagram: bytes) -> Message:
    """The message in ``datagram`` (protocol version 1 or 2), or :class:`GwmpError`."""
    if len(datagram) < 4:
        raise GwmpError(f"{len(datagram)} bytes: shorter than the 4-byte GWMP header")
    version, token, kind = datagram[0], int.from_bytes(datagram[1:3], "big"), datagram[3]
    if version not in (1, 2):
        raise GwmpError(f"protocol version {version} is not GWMP's 1 or 2")
    names = {PUSH_DATA: "PUSH_DATA", PULL_DATA: "PULL_DATA", TX_ACK: "TX_ACK"}
    eui, payload = b"", b""
    if kind in names:
        if len(datagram) < 12:
            raise GwmpError(f"{names[kind]}: {len(datagram)} bytes, no room for the gateway EUI")
        eui, payload = bytes(datagram[4:12]), bytes(datagram[12:])
    if kind == PUSH_ACK:
        return PushAck(token)
    if kind == PULL_ACK:
        return PullAck(token)
    if kind == PULL_DATA:
        return PullData(token, eui)
    if kind == PUSH_DATA:
        body = _json(payload, "PUSH_DATA")
        rxpk = body.get("rxpk", [])
        if not isinstance(rxpk, list):
            raise GwmpError("PUSH_DATA: 'rxpk' is not an array")
        stat = body.get("stat")
        if stat is not None and not isinstance(stat, dict):
            raise GwmpError("PUSH_DATA: 'stat' is not an object")
        return PushData(token, eui, tuple(RxPacket.from_json(p) for p in rxpk), stat)
    if kind == PULL_RESP:
        body = _json(bytes(datagram[4:]), "PULL_RESP")
        if "txpk" not in body:
            raise GwmpError("PULL_RESP: no 'txpk' object")
        return PullResp(token, TxPacket.from_json(body["txpk"]))
    if kind == TX_ACK:
        if not payload.strip(b"\x00 \r\n"):
            return TxAck(token, eui)
        ack = _json(payload, "TX_ACK").get("txpk_ack")
        if not isinstance(ack, dict):
            raise GwmpError("TX_ACK: no 'txpk_ack' object")
        error = ack.get("error")
        extra = {k: v for k, v in ack.items() if k != "error"}
        return TxAck(token, eui, error if isinstance(error, str) else None, extra)
    raise GwmpError(f"identifier 0x{kind:02x} is not a GWMP packet type")
