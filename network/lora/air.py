"""What goes through the air and how strongly it arrives: radio settings, transmissions, receptions,
the SX127x's matching rules and link budget. Plain values, no I/O; :mod:`.medium` uses them.

Public API::

    RadioParams(freq_hz: int, sf: int, bw_hz: int, cr: int = 1, iq_inverted: bool = False)
    Transmission(sender, freq_hz, sf, bw_hz, cr, iq_inverted, tx_power_dbm, payload, start, end,
                 preamble=8, implicit=False)      # start/end: host monotonic seconds
    Reception(payload, rssi, snr, freq, sf, bw, at, cr, sender, iq_inverted)
    matches(tx: Transmission, rx: RadioParams) -> bool
    same_channel(a: Transmission, b: Transmission) -> bool
    noise_floor_dbm(bw_hz: int, noise_figure_db: float = 6.0) -> float
    free_space_path_loss(meters: float, freq_hz: int) -> float
    encode(tx: Transmission) -> bytes;  decode(data: bytes) -> Transmission   # the wire between processes
    DEMOD_FLOOR_DB, CAPTURE_DB, DEFAULT_DISTANCE_M, FREQ_TOLERANCE, SNR_CEILING_DB
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import NamedTuple

from .airtime import preamble_time

__all__ = [
    "CAPTURE_DB",
    "DEFAULT_DISTANCE_M",
    "DEMOD_FLOOR_DB",
    "FREQ_TOLERANCE",
    "SNR_CEILING_DB",
    "RadioParams",
    "Reception",
    "Transmission",
    "decode",
    "encode",
    "free_space_path_loss",
    "matches",
    "noise_floor_dbm",
    "same_channel",
]

# SX1276 datasheet rev. 7, table 13: the SNR below which a spreading factor cannot be demodulated
DEMOD_FLOOR_DB: dict[int, float] = {6: -5.0, 7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}
CAPTURE_DB = 6.0  # co-channel rejection of one SF against itself: the stronger survives at this margin
DEFAULT_DISTANCE_M = 10.0  # between two members whose path loss nobody set
FREQ_TOLERANCE = 0.25  # SX1276: a receiver locks on a carrier within +-25 % of the bandwidth
NOISE_FIGURE_DB = 6.0
SNR_CEILING_DB = 10.0  # the highest SNR a receiver reports (the decision uses the true figure)


class RadioParams(NamedTuple):
    """A radio's modulation: carrier (Hz), spreading factor 6..12, bandwidth (Hz), coding rate 1..4
    (4/5..4/8) and whether I and Q are inverted (LoRaWAN downlinks are; ``LoRa(tx_iq=, rx_iq=)``)."""

    freq_hz: int
    sf: int
    bw_hz: int
    cr: int = 1
    iq_inverted: bool = False


@dataclass(frozen=True)
class Transmission:
    """One frame on the air from ``start`` to ``end`` (host monotonic seconds)."""

    sender: str
    freq_hz: int
    sf: int
    bw_hz: int
    cr: int
    iq_inverted: bool
    tx_power_dbm: float
    payload: bytes
    start: float
    end: float
    preamble: int = 8
    implicit: bool = False

    @property
    def params(self) -> RadioParams:
        return RadioParams(self.freq_hz, self.sf, self.bw_hz, self.cr, self.iq_inverted)

    @property
    def preamble_end(self) -> float:
        """When the preamble (and sync word) is over: a receiver must be listening before this."""
        return self.start + preamble_time(self.sf, self.bw_hz, self.preamble)

    def overlaps(self, other: Transmission) -> bool:
        return self.start < other.end and other.start < self.end


class Reception(NamedTuple):
    """A frame a member received: RSSI (dBm) and SNR (dB) as floats, ``at`` the host time its
    reception ended (``Transmission.end``)."""

    payload: bytes
    rssi: float
    snr: float
    freq: int
    sf: int
    bw: int
    at: float
    cr: int
    sender: str
    iq_inverted: bool


def matches(tx: Transmission, rx: RadioParams) -> bool:
    """Whether a receiver set to ``rx`` demodulates ``tx`` (SX127x): same SF, BW and IQ sense, carrier
    within 25 % of the bandwidth; the coding rate must match only with an implicit header."""
    return (
        tx.sf == rx.sf
        and tx.bw_hz == rx.bw_hz
        and tx.iq_inverted == rx.iq_inverted
        and abs(tx.freq_hz - rx.freq_hz) <= FREQ_TOLERANCE * rx.bw_hz
        and (not tx.implicit or tx.cr == rx.cr)
    )


def same_channel(a: Transmission, b: Transmission) -> bool:
    """Whether ``a`` and ``b`` interfere: the same SF on overlapping channels (other SFs are
    quasi-orthogonal and ignored)."""
    return a.sf == b.sf and abs(a.freq_hz - b.freq_hz) < (a.bw_hz + b.bw_hz) / 2


def noise_floor_dbm(bw_hz: int, noise_figure_db: float = NOISE_FIGURE_DB) -> float:
    """Thermal noise in the bandwidth plus the receiver's noise figure: -174 + 10 log10(BW) + NF."""
    return -174.0 + 10.0 * math.log10(bw_hz) + noise_figure_db


def free_space_path_loss(meters: float, freq_hz: int) -> float:
    """Free-space path loss in dB: 20 log10(d) + 20 log10(f) - 147.55 (d in m, f in Hz); 0 below 1 m."""
    meters = max(meters, 1.0)
    return 20.0 * math.log10(meters) + 20.0 * math.log10(freq_hz) - 147.55


def encode(tx: Transmission) -> bytes:
    """The datagram a process sends its peers for ``tx``."""
    fields = {
        "v": 1,
        "sender": tx.sender,
        "freq": tx.freq_hz,
        "sf": tx.sf,
        "bw": tx.bw_hz,
        "cr": tx.cr,
        "iq": tx.iq_inverted,
        "power": tx.tx_power_dbm,
        "data": base64.b64encode(tx.payload).decode("ascii"),
        "start": tx.start,
        "end": tx.end,
        "preamble": tx.preamble,
        "implicit": tx.implicit,
    }
    return json.dumps(fields, separators=(",", ":")).encode("utf-8")


def decode(data: bytes) -> Transmission:
    """A peer's datagram back into a :class:`Transmission` (``ValueError`` when it is not one)."""
    try:
        fields = json.loads(data.decode("utf-8"))
        if fields.get("v") != 1:
            raise ValueError("unknown version")
        tx = Transmission(
            sender=str(fields["sender"]),
            freq_hz=int(fields["freq"]),
            sf=int(fields["sf"]),
            bw_hz=int(fields["bw"]),
            cr=int(fields["cr"]),
            iq_inverted=bool(fields["iq"]),
            tx_power_dbm=float(fields["power"]),
            payload=base64.b64decode(fields["data"], validate=True),
            start=float(fields["start"]),
            end=float(fields["end"]),
            preamble=int(fields["preamble"]),
            implicit=bool(fields["implicit"]),
        )
        if not 6 <= tx.sf <= 12 or tx.bw_hz <= 0 or not 1 <= tx.cr <= 4 or tx.end < tx.start:
            raise ValueError("out of range")
        return tx
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not a transmission: {err}") from None
