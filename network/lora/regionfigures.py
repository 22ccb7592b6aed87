"""The figures of each region the LoRaWAN MAC needs, as the firmware's LoRaMac-node has them
(``lib/lora/mac/region/Region*.h`` and ``Region*.c``, firmware 1.20.2.r6): the regional tables of
:mod:`.regions` (data rates, payload limits, RX1 offsets, RX2 defaults, sub-bands, power) flattened
for the MAC, plus the MAC's own constants (ADR ack limit and delay, delays, ack timeout, MAX_FCNT_GAP,
the RX window symbol timeout Pycom triples in all regions but IN865).

Public API::

    figures_of(region: str) -> RegionFigures       # "EU868", "US915", "AS923", "AU915", "CN470", "IN865"
    REGIONS: tuple[str, ...]
    RegionFigures: .sf_bw(dr) -> (sf, bw_hz) (sf 0 for FSK);  .symbol_ms(dr);  .band_of(freq) -> int | None
"""

from __future__ import annotations

from dataclasses import dataclass

from .regions import REGIONS, DataRate, Region, region

__all__ = ["REGIONS", "RegionFigures", "figures_of"]


@dataclass(frozen=True)
class RegionFigures:
    """One region's constants (the ``<REGION>_*`` macros and tables)."""

    name: str
    fixed: bool
    max_channels: int
    datarates: tuple[tuple[int, int], ...]
    max_payload: tuple[int, ...]
    tx_min_dr: int
    tx_max_dr: int
    rx_min_dr: int
    rx_max_dr: int
    default_dr: int
    max_rx1_dr_offset: int
    rx2_freq: int
    rx2_dr: int
    min_tx_power: int
    max_eirp: float
    antenna_gain: float
    bands: tuple[int, ...]
    duty_cycle: bool = False
    default_channels: tuple[tuple[int, int, int], ...] = ()
    freq_range: tuple[int, int] = (0, 0)
    effective_rx1_offsets: tuple[int, ...] | None = None
    rx1_offset_table: tuple[tuple[int, ...], ...] = ()
    dwell_limit_dr: int = 0
    default_dwell: int = 0
    max_payload_dwell_up: tuple[int, ...] = ()
    window_factor: int = 3
    max_tx_power: int = 0
    adr_ack_limit: int = 64
    adr_ack_delay: int = 32
    receive_delay1: int = 1000
    receive_delay2: int = 2000
    join_accept_delay1: int = 5000
    join_accept_delay2: int = 6000
    max_rx_window: int = 3000
    max_fcnt_gap: int = 16384
    ack_timeout: int = 2000
    ack_timeout_rnd: int = 1000
    # fixed plans: the 125 kHz block, the 500 kHz block, the RX1 channels
    first_125: int = 0
    count_125: int = 0
    first_500: int = 0
    dr_500: int = 0
    rx1_first: int = 0
    rx1_last: int = 0
    rx1_step: int = 0
    rx1_modulo: int = 8

    def sf_bw(self, dr: int) -> tuple[int, int]:
        """(spreading factor, bandwidth Hz) of a data rate; (0, 0) for FSK or an unused index."""
        return self.datarates[dr] if 0 <= dr < len(self.datarates) else (0, 0)

    def symbol_ms(self, dr: int) -> float:
        """Milliseconds per symbol (``RegionCommonComputeSymbolTime*``; FSK: one byte at 50 kbps)."""
        sf, bw = self.sf_bw(dr)
        if sf == 0:
            return 8.0 / 50
        return (1 << sf) / bw * 1000

    def band_of(self, freq: int) -> int | None:
        """The sub-band of an uplink frequency, or None when the region refuses it (``VerifyTxFreq``)."""
        return region(self.name).band_of(freq)


def _figures(r: Region) -> RegionFigures:
    datarates = tuple(
        (rate.sf, rate.bw_hz) if rate.sf else (0, 0)
        for rate in (r.datarates.get(dr, DataRate(0, 0)) for dr in range(max(r.datarates) + 1))
    )
    fixed = r.fixed_plan
    first_rx1, step_rx1, count_rx1 = r.rx1_channels
    channels = r.default_channels
    wide = channels[64] if fixed and len(channels) > 64 else None
    return RegionFigures(
        name=r.name,
        fixed=fixed,
        max_channels=len(channels) if fixed else 16,
        datarates=datarates,
        max_payload=r.max_payload,
        tx_min_dr=r.tx_dr[0],
        tx_max_dr=r.tx_dr[1],
        rx_min_dr=r.rx_dr[0],
        rx_max_dr=r.rx_dr[1],
        default_dr=r.default_dr,
        max_rx1_dr_offset=r.max_rx1_dr_offset,
        rx2_freq=r.rx2[0],
        rx2_dr=r.rx2[1],
        min_tx_power=r.min_tx_power,
        max_eirp=r.max_eirp,
        antenna_gain=r.antenna_gain,
        bands=tuple(band.duty_cycle for band in r.bands),
        duty_cycle=r.duty_cycle_enabled,
        default_channels=() if fixed else tuple((c.freq_hz, c.dr_min, c.dr_max) for c in channels),
        freq_range=r.frequency_range,
        effective_rx1_offsets=r.effective_rx1_offsets or None,
        rx1_offset_table=r.rx1_offset_table,
        dwell_limit_dr=r.dwell_limit_dr,
        default_dwell=r.uplink_dwell,
        max_payload_dwell_up=r.max_payload_dwell_up,
        window_factor=1 if r.name == "IN865" else 3,  # Pycom triples the symbol timeout elsewhere
        first_125=channels[0].freq_hz if fixed else 0,
        count_125=64 if wide else len(channels) if fixed else 0,
        first_500=wide.freq_hz if wide else 0,
        dr_500=wide.dr_min if wide else 0,
        rx1_first=first_rx1,
        rx1_last=first_rx1 + step_rx1 * (count_rx1 - 1) if fixed else 0,
        rx1_step=step_rx1,
        rx1_modulo=count_rx1 or 8,
    )


def figures_of(name: str) -> RegionFigures:
    """The figures of a region by its name (``KeyError`` for one the firmware does not have)."""
    return _figures(region(name))
