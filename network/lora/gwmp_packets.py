"""The JSON half of Semtech's packet-forwarder protocol (GWMP v2, ``PROTOCOL.TXT`` sections 4 and 6):
``rxpk`` (a frame the gateway heard) and ``txpk`` (a frame to emit) objects, and their field syntax.

Frequencies are MHz with Hz precision on the wire (``868.1``) and Hz here; ``datr`` is ``"SF7BW125"``
(LoRa) or a bit rate (FSK); ``codr`` ``"4/5"`` is coding rate 1 (4/5 .. 4/8 are 1 .. 4, as SX127x counts
them); ``data`` is base64 (padding optional, ``-``/``_`` accepted on the way in); ``tmst`` is the
gateway's free-running 32-bit microsecond counter. Anything malformed is :class:`GwmpError`. The
datagrams around them are :mod:`.gwmp`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from typing import Any

# TX_ACK's "error" values (PROTOCOL.TXT section 6); "NONE" is success
TX_ERRORS: tuple[str, ...] = ("NONE", "TOO_LATE", "TOO_EARLY", "COLLISION_PACKET", "COLLISION_BEACON")
TX_ERRORS += ("TX_FREQ", "TX_POWER", "GPS_UNLOCKED")

_DATR = re.compile(r"^SF(\d{1,2})BW(\d{1,4}(?:\.\d+)?)$")
_CODR = re.compile(r"^4/([5-8])$")
_BANDWIDTHS_KHZ = {"7.8": 7800, "125": 125_000, "250": 250_000, "500": 500_000, "62.5": 62_500}


class GwmpError(ValueError):
    """A datagram or a JSON field that is not GWMP; the message says which part."""


def parse_datr(datr: str) -> tuple[int, int]:
    """``"SF7BW125"`` -> ``(7, 125000)``: spreading factor and bandwidth in Hz."""
    match = _DATR.match(datr) if isinstance(datr, str) else None
    if match is None or not 5 <= int(match[1]) <= 12:
        raise GwmpError(f"datr {datr!r} is not a LoRa data rate such as 'SF7BW125'")
    bw = match[2]
    hz = _BANDWIDTHS_KHZ.get(bw)
    if hz is None:
        hz = round(float(bw) * 1000)
        if hz <= 0:
            raise GwmpError(f"datr {datr!r}: bandwidth {bw} kHz")
    return int(match[1]), hz


def format_datr(sf: int, bw_hz: int) -> str:
    """``(7, 125000)`` -> ``"SF7BW125"``."""
    khz = bw_hz / 1000
    return f"SF{sf}BW{int(khz) if khz == int(khz) else khz:g}"


def parse_codr(codr: str) -> int:
    """``"4/5"`` .. ``"4/8"`` -> 1 .. 4."""
    match = _CODR.match(codr) if isinstance(codr, str) else None
    if match is None:
        raise GwmpError(f"codr {codr!r} is not a LoRa coding rate '4/5' .. '4/8'")
    return int(match[1]) - 4


def format_codr(cr: int) -> str:
    """1 .. 4 -> ``"4/5"`` .. ``"4/8"``."""
    if cr not in (1, 2, 3, 4):
        raise GwmpError(f"coding rate {cr} is not 1 .. 4 (4/5 .. 4/8)")
    return f"4/{cr + 4}"


def parse_eui(text: str) -> bytes:
    """``"AA555A0000000000"`` (hex, ``:``/``-`` separators allowed) -> 8 bytes."""
    try:
        eui = bytes.fromhex(text.replace(":", "").replace("-", ""))
    except ValueError:
        eui = b""
    if len(eui) != 8:
        raise GwmpError(f"gateway EUI {text!r} is not 8 bytes of hex (e.g. AA555A0000000000)")
    return eui


def format_eui(eui: bytes) -> str:
    return eui.hex().upper()


def _mhz(freq_hz: int) -> float:
    return round(freq_hz / 1e6, 6)


def _hz(obj: dict[str, Any], what: str) -> int:
    value = obj.get("freq")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 10_000:
        raise GwmpError(f"{what}: 'freq' {value!r} is not a frequency in MHz")
    return round(value * 1e6)


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise GwmpError(f"{what}: 'data' {text!r} is not base64 text")
    raw = text.strip().rstrip("=")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise GwmpError(f"{what}: 'data' is not base64") from None


def _int(obj: dict[str, Any], key: str, what: str, default: int | None = None) -> int:
    value = obj.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise GwmpError(f"{what}: '{key}' {value!r} is not an integer")
    return value


def _modulation(obj: dict[str, Any], what: str) -> tuple[str, int, int, int, int | None]:
    """(modu, sf, bw_hz, cr, fsk bit rate) of an rxpk/txpk; LoRa unless ``modu`` says FSK."""
    modu = obj.get("modu", "LORA")
    if modu == "FSK":
        rate = obj.get("datr")
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
            raise GwmpError(f"{what}: FSK 'datr' {rate!r} is not a bit rate")
        return modu, 0, 0, 0, int(rate)
    if modu != "LORA":
        raise GwmpError(f"{what}: 'modu' {modu!r} is neither 'LORA' nor 'FSK'")
    sf, bw = parse_datr(obj.get("datr"))  # type: ignore[arg-type]
    codr = obj.get("codr", "4/5")
    return modu, sf, bw, (1 if codr == "OFF" else parse_codr(codr)), None


def _radio_json(modu: str, sf: int, bw_hz: int, cr: int, bitrate: int | None) -> dict[str, Any]:
    if modu == "FSK":
        return {"modu": "FSK", "datr": bitrate}
    return {"modu": "LORA", "datr": format_datr(sf, bw_hz), "codr": format_codr(cr)}


_RX_KEYS = {"time", "tmst", "chan", "rfch", "freq", "stat", "modu", "datr", "codr", "rssi", "lsnr"}
_TX_KEYS = {"imme", "tmst", "time", "freq", "rfch", "powe", "modu", "datr", "codr", "ipol", "prea", "ncrc"}


@dataclass(frozen=True)
class RxPacket:
    """One frame the gateway heard (an ``rxpk`` entry). ``extra`` keeps fields not modelled here
    (``brd``, ``rssis``, ``tmms`` ...) as they came."""

    data: bytes
    tmst: int
    freq_hz: int
    sf: int = 7
    bw_hz: int = 125_000
    cr: int = 1
    rssi: int = -60
    lsnr: float = 7.0
    chan: int = 0
    rfch: int = 0
    stat: int = 1
    time: str | None = None
    modu: str = "LORA"
    bitrate: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def datr(self) -> str:
        return format_datr(self.sf, self.bw_hz)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {} if self.time is None else {"time": self.time}
        obj.update(tmst=self.tmst & 0xFFFFFFFF, chan=self.chan, rfch=self.rfch, freq=_mhz(self.freq_hz))
        obj["stat"] = self.stat
        obj.update(_radio_json(self.modu, self.sf, self.bw_hz, self.cr, self.bitrate))
        obj["rssi"] = round(self.rssi)
        if self.modu == "LORA":
            obj["lsnr"] = round(self.lsnr, 1)
        obj.update(size=len(self.data), data=base64.b64encode(self.data).decode())
        return {**obj, **self.extra}

    @classmethod
    def from_json(cls, obj: object) -> RxPacket:
        if not isinstance(obj, dict):
            raise GwmpError(f"rxpk entry {obj!r} is not an object")
        what = "rxpk"
        modu, sf, bw, cr, bitrate = _modulation(obj, what)
        lsnr = obj.get("lsnr", 0.0)
        if not isinstance(lsnr, (int, float)) or isinstance(lsnr, bool):
            raise GwmpError(f"{what}: 'lsnr' {lsnr!r} is not a number")
        when = obj.get("time")
        return cls(
            data=_b64(obj.get("data"), what),
            tmst=_int(obj, "tmst", what),
            freq_hz=_hz(obj, what),
            sf=sf,
            bw_hz=bw,
            cr=cr,
            rssi=_int(obj, "rssi", what, 0),
            lsnr=float(lsnr),
            chan=_int(obj, "chan", what, 0),
            rfch=_int(obj, "rfch", what, 0),
            stat=_int(obj, "stat", what, 1),
            time=when if isinstance(when, str) else None,
            modu=modu,
            bitrate=bitrate,
            extra={k: v for k, v in obj.items() if k not in _RX_KEYS | {"size", "data"}},
        )


@dataclass(frozen=True)
class TxPacket:
    """One frame the server asks the gateway to emit (a ``txpk``): at once (``imme``), when the
    gateway's counter reads ``tmst``, or at GPS ``time``/``tmms`` (needs a GPS)."""

    data: bytes
    freq_hz: int
    sf: int = 7
    bw_hz: int = 125_000
    cr: int = 1
    powe: int = 14
    ipol: bool = False
    imme: bool = False
    tmst: int | None = None
    time: str | None = None
    rfch: int = 0
    prea: int | None = None
    ncrc: bool = False
    modu: str = "LORA"
    bitrate: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def datr(self) -> str:
        return format_datr(self.sf, self.bw_hz)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"imme": self.imme}
        if self.tmst is not None:
            obj["tmst"] = self.tmst & 0xFFFFFFFF
        if self.time is not None:
            obj["time"] = self.time
        obj.update(freq=_mhz(self.freq_hz), rfch=self.rfch, powe=self.powe)
        obj.update(_radio_json(self.modu, self.sf, self.bw_hz, self.cr, self.bitrate))
        obj["ipol"] = self.ipol
        if self.prea is not None:
            obj["prea"] = self.prea
        if self.ncrc:
            obj["ncrc"] = True
        obj.update(size=len(self.data), data=base64.b64encode(self.data).decode())
        return {**obj, **self.extra}

    @classmethod
    def from_json(cls, obj: object) -> TxPacket:
        if not isinstance(obj, dict):
            raise GwmpError(f"txpk {obj!r} is not an object")
        what = "txpk"
        modu, sf, bw, cr, bitrate = _modulation(obj, what)
        when = obj.get("time")
        powe = obj.get("powe", 14)
        if not isinstance(powe, (int, float)) or isinstance(powe, bool) or not math.isfinite(powe):
            raise GwmpError(f"{what}: 'powe' {powe!r} is not a power in dBm")
        return cls(
            data=_b64(obj.get("data"), what),
            freq_hz=_hz(obj, what),
            sf=sf,
            bw_hz=bw,
            cr=cr,
            powe=round(powe),
            ipol=bool(obj.get("ipol", False)),
            imme=bool(obj.get("imme", False)),
            tmst=_int(obj, "tmst", what) if "tmst" in obj else None,
            time=when if isinstance(when, str) else None,
            rfch=_int(obj, "rfch", what, 0),
            prea=_int(obj, "prea", what) if "prea" in obj else None,
            ncrc=bool(obj.get("ncrc", False)),
            modu=modu,
            bitrate=bitrate,
            extra={k: v for k, v in obj.items() if k not in _TX_KEYS | {"size", "data"}},
        )
