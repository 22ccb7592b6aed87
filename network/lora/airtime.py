"""Time on air of a LoRa frame, by the SX1276 datasheet's formula (Semtech SX1276/77/78/79 datasheet
rev. 7, section 4.1.1.7 "Time on air"), as the firmware's driver computes it
(``drivers/sx127x/sx1276/sx1276.c`` ``SX1276GetTimeOnAir``, firmware 1.20.2.r6).

Public API::

    symbol_time(sf: int, bw_hz: int) -> float                      # seconds, 2**SF / BW
    low_dr_optimize_default(sf: int, bw_hz: int) -> bool           # symbol time over 16 ms
    preamble_time(sf: int, bw_hz: int, preamble: int = 8) -> float  # (preamble + 4.25) symbols
    payload_symbols(payload_len, sf, cr, implicit=False, crc=True, low_dr_optimize=False) -> int
    time_on_air(payload_len, sf, bw_hz, cr, preamble=8, implicit=False, crc=True,
                low_dr_optimize=None) -> float                     # seconds, exact
    time_on_air_ms(...same arguments...) -> int                    # SX1276GetTimeOnAir: whole ms, up

``cr`` is 1..4 for coding rates 4/5..4/8 (the firmware's ``LoRa.CODING_4_5`` .. ``CODING_4_8``).
``low_dr_optimize=None`` follows the driver: on for a symbol time over 16 ms (SF11/SF12 at 125 kHz,
SF12 at 250 kHz), as ``SX1276SetTxConfig`` sets it.

Checked against Semtech's LoRa calculator (preamble 8, CRC on, explicit header, CR 4/5):
SF7/125 kHz, 20 bytes -> 56.576 ms; SF12/125 kHz, 51 bytes -> 2465.792 ms.
"""

from __future__ import annotations

import math

__all__ = [
    "low_dr_optimize_default",
    "payload_symbols",
    "preamble_time",
    "symbol_time",
    "time_on_air",
    "time_on_air_ms",
]

MIN_SF, MAX_SF = 6, 12


def _check(sf: int, bw_hz: int, cr: int = 1) -> None:
    if not MIN_SF <= sf <= MAX_SF:
        raise ValueError(f"spreading factor {sf} is not 6..12")
    if bw_hz <= 0:
        raise ValueError(f"bandwidth {bw_hz} Hz is not positive")
    if not 1 <= cr <= 4:
        raise ValueError(f"coding rate {cr} is not 1..4 (4/5..4/8)")


def symbol_time(sf: int, bw_hz: int) -> float:
    """Seconds per LoRa symbol: 2**SF / BW."""
    _check(sf, bw_hz)
    return (1 << sf) / bw_hz


def low_dr_optimize_default(sf: int, bw_hz: int) -> bool:
    """The low data rate optimisation the driver sets: on when a symbol lasts over 16 ms."""
    return symbol_time(sf, bw_hz) > 0.016


def preamble_time(sf: int, bw_hz: int, preamble: int = 8) -> float:
    """Seconds of the preamble: the programmed symbols plus 4.25 (sync word and SFD)."""
    return (preamble + 4.25) * symbol_time(sf, bw_hz)


def payload_symbols(
    payload_len: int,
    sf: int,
    cr: int,
    implicit: bool = False,
    crc: bool = True,
    low_dr_optimize: bool = False,
) -> int:
    """Symbols after the preamble (datasheet):
    8 + max(ceil((8PL - 4SF + 28 + 16CRC - 20IH) / 4(SF - 2DE)) (CR + 4), 0)."""
    _check(sf, 125000, cr)
    if not 0 <= payload_len <= 255:
        raise ValueError(f"payload length {payload_len} is not 0..255")
    numerator = 8 * payload_len - 4 * sf + 28 + (16 if crc else 0) - (20 if implicit else 0)
    denominator = 4 * (sf - (2 if low_dr_optimize else 0))
    blocks = math.ceil(numerator / denominator) * (cr + 4)
    return 8 + max(blocks, 0)


def time_on_air(
    payload_len: int,
    sf: int,
    bw_hz: int,
    cr: int,
    preamble: int = 8,
    implicit: bool = False,
    crc: bool = True,
    low_dr_optimize: bool | None = None,
) -> float:
    """Seconds a frame of ``payload_len`` bytes lasts on the air (preamble, header, payload, CRC)."""
    _check(sf, bw_hz, cr)
    if low_dr_optimize is None:
        low_dr_optimize = low_dr_optimize_default(sf, bw_hz)
    symbols = payload_symbols(payload_len, sf, cr, implicit, crc, low_dr_optimize)
    return preamble_time(sf, bw_hz, preamble) + symbols * symbol_time(sf, bw_hz)


def time_on_air_ms(
    payload_len: int,
    sf: int,
    bw_hz: int,
    cr: int,
    preamble: int = 8,
    implicit: bool = False,
    crc: bool = True,
    low_dr_optimize: bool | None = None,
) -> int:
    """Whole milliseconds as ``SX1276GetTimeOnAir`` returns them (``floor(t * 1000 + 0.999)``): what
    ``LoRa.time_on_air()`` and ``stats().tx_time_on_air`` report, and LoRaMac's duty-cycle figure."""
    seconds = time_on_air(payload_len, sf, bw_hz, cr, preamble, implicit, crc, low_dr_optimize)
    return math.floor(seconds * 1000 + 0.999)
