"""LoRaWAN 1.0.2 PHYPayloads as bytes (spec chapter 4 and 6.2), both sides: what the device sends
and reads (``PrepareFrame`` / ``OnRadioRxDone`` in LoRaMac-node, ``lib/lora/mac/LoRaMac.c`` at
firmware 1.20.2.r6) and what a network server sends and reads (for tests and the virtual network).

EUIs are given as the firmware's API takes them (8 bytes, most significant first, as printed) and go
on air reversed (``memcpyr``). DevAddr is an int; on air little-endian.

Public API::

    JOIN_REQUEST, JOIN_ACCEPT, UNCONFIRMED_UP, UNCONFIRMED_DOWN, CONFIRMED_UP, CONFIRMED_DOWN, PROPRIETARY
    mtype(frame: bytes) -> int
    join_request(app_eui: bytes, dev_eui: bytes, dev_nonce: int, app_key: bytes) -> bytes
    JoinRequest.parse(frame) -> JoinRequest(app_eui, dev_eui, dev_nonce, mic)
    join_accept(app_key, app_nonce: int, net_id: int, dev_addr: int, rx1_dr_offset=0, rx2_dr=0,
                rx_delay=1, cflist=b"") -> bytes                      # encrypted, as on air
    JoinAccept.open(frame, app_key) -> JoinAccept | None               # None: bad MIC or length
    data_frame(mtype, dev_addr, fcnt, nwk_skey, app_skey, port=None, payload=b"", fopts=b"",
               adr=False, ack=False, adr_ack_req=False, fpending=False) -> bytes
    DataFrame.parse(frame) -> DataFrame | None                         # header fields, not decrypted
        .mic_ok(nwk_skey, fcnt32) / .plain(nwk_skey, app_skey, fcnt32) -> bytes
"""

from __future__ import annotations

from dataclasses import dataclass

from . import crypto

__all__ = [
    "CONFIRMED_DOWN",
    "CONFIRMED_UP",
    "JOIN_ACCEPT",
    "JOIN_REQUEST",
    "PROPRIETARY",
    "UNCONFIRMED_DOWN",
    "UNCONFIRMED_UP",
    "DataFrame",
    "JoinAccept",
    "JoinRequest",
    "data_frame",
    "join_accept",
    "join_request",
    "mtype",
]

JOIN_REQUEST, JOIN_ACCEPT = 0, 1
UNCONFIRMED_UP, UNCONFIRMED_DOWN, CONFIRMED_UP, CONFIRMED_DOWN = 2, 3, 4, 5
PROPRIETARY = 7
UPLINKS = (UNCONFIRMED_UP, CONFIRMED_UP)
LORAWAN_R1 = 0  # MHDR's major version


def mhdr(kind: int) -> int:
    return kind << 5 | LORAWAN_R1


def mtype(frame: bytes) -> int:
    """The message type of a PHYPayload (MHDR bits 7..5)."""
    return frame[0] >> 5 if frame else -1


def join_request(app_eui: bytes, dev_eui: bytes, dev_nonce: int, app_key: bytes) -> bytes:
    """MHDR | AppEUI | DevEUI | DevNonce | MIC (23 bytes)."""
    body = (
        bytes([mhdr(JOIN_REQUEST)])
        + app_eui[::-1]
        + dev_eui[::-1]
        + (dev_nonce & 0xFFFF).to_bytes(2, "little")
    )
    return body + crypto.join_mic(app_key, body)


@dataclass(frozen=True)
class JoinRequest:
    app_eui: bytes
    dev_eui: bytes
    dev_nonce: int
    mic: bytes

    @classmethod
    def parse(cls, frame: bytes) -> JoinRequest | None:
        if len(frame) != 23 or mtype(frame) != JOIN_REQUEST:
            return None
        return cls(frame[1:9][::-1], frame[9:17][::-1], int.from_bytes(frame[17:19], "little"), frame[19:23])

    def mic_ok(self, app_key: bytes, frame: bytes) -> bool:
        return crypto.join_mic(app_key, frame[:19]) == frame[19:23]


def join_accept(
    app_key: bytes,
    app_nonce: int,
    net_id: int,
    dev_addr: int,
    rx1_dr_offset: int = 0,
    rx2_dr: int = 0,
    rx_delay: int = 1,
    cflist: bytes = b"",
) -> bytes:
    """A JoinAccept as the network server sends it (encrypted with AppKey)."""
    plain = (
        bytes([mhdr(JOIN_ACCEPT)])
        + (app_nonce & 0xFFFFFF).to_bytes(3, "little")
        + (net_id & 0xFFFFFF).to_bytes(3, "little")
        + (dev_addr & 0xFFFFFFFF).to_bytes(4, "little")
        + bytes([(rx1_dr_offset & 0x07) << 4 | (rx2_dr & 0x0F), rx_delay & 0x0F])
        + cflist
    )
    return crypto.encrypt_join_accept(app_key, plain + crypto.join_mic(app_key, plain))


@dataclass(frozen=True)
class JoinAccept:
    """A decrypted, MIC-checked JoinAccept."""

    app_nonce: bytes
    net_id: bytes
    dev_addr: int
    rx1_dr_offset: int
    rx2_dr: int
    rx_delay: int
    cflist: bytes

    @classmethod
    def open(cls, frame: bytes, app_key: bytes) -> JoinAccept | None:
        """Decrypt and check a JoinAccept (``LoRaMacJoinDecrypt`` + ``LoRaMacJoinComputeMic``)."""
        if mtype(frame) != JOIN_ACCEPT or len(frame) not in (17, 33):
            return None
        plain = crypto.decrypt_join_accept(app_key, frame)
        if crypto.join_mic(app_key, plain[:-4]) != plain[-4:]:
            return None
        settings = plain[11]
        return cls(
            app_nonce=plain[1:4],
            net_id=plain[4:7],
            dev_addr=int.from_bytes(plain[7:11], "little"),
            rx1_dr_offset=(settings >> 4) & 0x07,
            rx2_dr=settings & 0x0F,
            rx_delay=plain[12] & 0x0F,
            cflist=plain[13:-4],
        )

    def session_keys(self, app_key: bytes, dev_nonce: int) -> tuple[bytes, bytes]:
        """(NwkSKey, AppSKey) for the DevNonce of the JoinRequest this accepts."""
        return crypto.session_keys(app_key, self.app_nonce, self.net_id, dev_nonce)


def data_frame(
    kind: int,
    dev_addr: int,
    fcnt: int,
    nwk_skey: bytes,
    app_skey: bytes,
    port: int | None = None,
    payload: bytes = b"",
    fopts: bytes = b"",
    adr: bool = False,
    ack: bool = False,
    adr_ack_req: bool = False,
    fpending: bool = False,
) -> bytes:
    """MHDR | FHDR | [FPort | FRMPayload] | MIC; ``fcnt`` is the 32-bit counter (16 bits go on air).
    Port 0 payloads are encrypted with NwkSKey, others with AppSKey."""
    if len(fopts) > 15:
        raise ValueError("FOpts holds at most 15 bytes")
    direction = crypto.UP if kind in UPLINKS else crypto.DOWN
    fctrl = (adr << 7) | (adr_ack_req << 6) | (ack << 5) | (fpending << 4) | len(fopts)
    frame = bytes([mhdr(kind)]) + (dev_addr & 0xFFFFFFFF).to_bytes(4, "little") + bytes([fctrl])
    frame += (fcnt & 0xFFFF).to_bytes(2, "little") + fopts
    if port is not None:
        key = nwk_skey if port == 0 else app_skey
        frame += bytes([port]) + crypto.payload_cipher(key, payload, dev_addr, direction, fcnt)
    return frame + crypto.data_mic(nwk_skey, frame, dev_addr, direction, fcnt)


@dataclass(frozen=True)
class DataFrame:
    """A data frame's fields as on air (FRMPayload still encrypted)."""

    kind: int
    dev_addr: int
    adr: bool
    adr_ack_req: bool  # in a downlink this bit is RFU
    ack: bool
    fpending: bool
    fcnt16: int
    fopts: bytes
    port: int | None
    frm_payload: bytes
    mic: bytes
    raw: bytes

    @classmethod
    def parse(cls, frame: bytes) -> DataFrame | None:
        if len(frame) < 12 or mtype(frame) not in (
            UNCONFIRMED_UP,
            UNCONFIRMED_DOWN,
            CONFIRMED_UP,
            CONFIRMED_DOWN,
        ):
            return None
        fctrl = frame[5]
        fopts_end = 8 + (fctrl & 0x0F)
        if fopts_end > len(frame) - 4:
            return None
        body_end = len(frame) - 4
        port = frame[fopts_end] if body_end > fopts_end else None
        return cls(
            kind=mtype(frame),
            dev_addr=int.from_bytes(frame[1:5], "little"),
            adr=bool(fctrl & 0x80),
            adr_ack_req=bool(fctrl & 0x40),
            ack=bool(fctrl & 0x20),
            fpending=bool(fctrl & 0x10),
            fcnt16=int.from_bytes(frame[6:8], "little"),
            fopts=frame[8:fopts_end],
            port=port,
            frm_payload=frame[fopts_end + 1 : body_end] if port is not None else b"",
            mic=frame[body_end:],
            raw=frame,
        )

    @property
    def direction(self) -> int:
        return crypto.UP if self.kind in UPLINKS else crypto.DOWN

    def mic_ok(self, nwk_skey: bytes, fcnt32: int) -> bool:
        return crypto.data_mic(nwk_skey, self.raw[:-4], self.dev_addr, self.direction, fcnt32) == self.mic

    def plain(self, nwk_skey: bytes, app_skey: bytes, fcnt32: int) -> bytes:
        """The FRMPayload decrypted (NwkSKey on port 0)."""
        key = nwk_skey if self.port == 0 else app_skey
        return crypto.payload_cipher(key, self.frm_payload, self.dev_addr, self.direction, fcnt32)
