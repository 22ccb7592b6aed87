"""LoRaWAN regional parameters as the firmware's LoRaMac-node has them (``lib/lora/mac/region/Region*.h``
and ``Region*.c``, ``RegionCommon.c``; firmware 1.20.2.r6), for the six regions Pycom's ``network.LoRa``
offers: EU868, US915, AS923, AU915, CN470, IN865.

Public API::

    REGIONS: tuple[str, ...]                  # ("EU868", "US915", "AS923", "AU915", "CN470", "IN865")
    region(name: str) -> Region               # KeyError for another name
    DataRate(sf: int, bw_hz: int, fsk_kbps: int = 0)       # sf/bw 0 for the FSK data rate
    Channel(freq_hz: int, dr_min: int, dr_max: int, band: int = 0)
    Band(duty_cycle: int, ranges: tuple[tuple[int, int], ...])   # 1/duty_cycle of the time (100: 1 %)
    Region fields: name, datarates (dict DR -> DataRate), max_payload, max_payload_repeater (per DR),
        tx_dr / rx_dr (min, max), default_dr, max_rx1_dr_offset, rx2 (freq_hz, dr),
        default_channels (tuple[Channel, ...]), bands (tuple[Band, ...]), duty_cycle_enabled,
        max_eirp, antenna_gain, min_tx_power (the lowest power's index), frequency_range (modlora.c's
        ``lora_validate_frequency``), uplink_dwell / downlink_dwell (AS923: 1), fixed_plan (bool)
    Region methods:
        datarate(dr) -> DataRate                  # ValueError for a DR the region does not define
        dr_of(sf, bw_hz, uplink=True) -> int      # the DR index of a LoRa modulation (ValueError if none)
        max_payload_of(dr, repeater=False, uplink_dwell=None) -> int   # PHY_MAX_PAYLOAD (0: not allowed)
        rx1_datarate(dr, offset, downlink_dwell=None) -> int           # Region*ApplyDrOffset
        rx1_frequency(channel_index, uplink_freq_hz) -> int            # Region*RxConfig, window 1
        band_of(freq_hz) -> int | None            # VerifyTxFreq's band (None: not a frequency to send on)
        tx_powers() -> tuple[float, ...]          # EIRP (dBm) of TX_POWER_0 .. min_tx_power
        phy_tx_power(index, dr=None, channels_125=64) -> int   # LimitTxPower + RegionCommonComputeTxPower
The duty-cycle bookkeeping on these bands (band time-off, the join duty cycle) is the channel plan's
(:mod:`network.lora.plan`), as LoRaMac-node's ``RegionCommonCalcBackOff``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["REGIONS", "Band", "Channel", "DataRate", "Region", "region"]


class DataRate(NamedTuple):
    """A data rate: LoRa spreading factor and bandwidth, or FSK (``sf`` and ``bw_hz`` 0)."""

    sf: int
    bw_hz: int
    fsk_kbps: int = 0


class Channel(NamedTuple):
    """``ChannelParams_t``: frequency, the data-rate range it allows, its band."""

    freq_hz: int
    dr_min: int
    dr_max: int
    band: int = 0


class Band(NamedTuple):
    """``Band_t``: the duty cycle as LoRaMac-node writes it (``DCycle``: 100 is 1 %) and the
    frequency ranges (Hz, both ends included) that belong to it."""

    duty_cycle: int
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Region:
    """One region's constants (the ``<REGION>_*`` macros and tables of ``Region<REGION>.h``)."""

    name: str
    datarates: dict[int, DataRate]
    max_payload: tuple[int, ...]
    max_payload_repeater: tuple[int, ...]
    tx_dr: tuple[int, int]
    rx_dr: tuple[int, int]
    default_dr: int
    max_rx1_dr_offset: int
    rx2: tuple[int, int]
    default_channels: tuple[Channel, ...]
    bands: tuple[Band, ...]
    duty_cycle_enabled: bool
    max_eirp: float
    antenna_gain: float
    min_tx_power: int
    frequency_range: tuple[int, int]
    fixed_plan: bool = False
    uplink_dwell: int = 0
    downlink_dwell: int = 0
    max_payload_dwell_up: tuple[int, ...] = ()
    dwell_limit_dr: int = 0
    rx1_offset_table: tuple[tuple[int, ...], ...] = ()
    effective_rx1_offsets: tuple[int, ...] = ()
    rx1_channels: tuple[int, int, int] = (0, 0, 0)  # fixed plans: first frequency, step, count

    def datarate(self, dr: int) -> DataRate:
        try:
            return self.datarates[dr]
        except KeyError:
            raise ValueError(f"{self.name} has no data rate DR{dr}") from None

    def dr_of(self, sf: int, bw_hz: int, uplink: bool = True) -> int:
        """The data rate index of ``sf``/``bw_hz`` among the uplink (or downlink) data rates."""
        low, high = self.tx_dr if uplink else self.rx_dr
        for dr in range(low, high + 1):
            rate = self.datarates.get(dr)
            if rate is not None and (rate.sf, rate.bw_hz) == (sf, bw_hz):
                return dr
        raise ValueError(f"{self.name} has no {'uplink' if uplink else 'downlink'} SF{sf}BW{bw_hz // 1000}")

    def max_payload_of(self, dr: int, repeater: bool = False, uplink_dwell: int | None = None) -> int:
        """``PHY_MAX_PAYLOAD`` (``_REPEATER``): the longest MAC payload (FHDR + FPort + FRMPayload) at
        ``dr``; AS923 with uplink dwell time 1 (its default) has its own table."""
        dwell = self.uplink_dwell if uplink_dwell is None else uplink_dwell
        if dwell and self.max_payload_dwell_up and not repeater:
            return self.max_payload_dwell_up[dr]
        return (self.max_payload_repeater if repeater else self.max_payload)[dr]

    def rx1_datarate(self, dr: int, offset: int, downlink_dwell: int | None = None) -> int:
        """The RX1 data rate for an uplink at ``dr`` with ``offset`` (``Region*ApplyDrOffset``)."""
        if not 0 <= offset <= self.max_rx1_dr_offset:
            raise ValueError(f"{self.name}: RX1 DR offset {offset} is not 0..{self.max_rx1_dr_offset}")
        if self.rx1_offset_table:
            return max(self.rx1_offset_table[dr][offset], 0)
        if self.effective_rx1_offsets:
            dwell = self.downlink_dwell if downlink_dwell is None else downlink_dwell
            low = self.dwell_limit_dr if dwell else 0
            return min(5, max(low, dr - self.effective_rx1_offsets[offset]))
        return max(dr - offset, 0)

    def rx1_frequency(self, channel_index: int, uplink_freq_hz: int) -> int:
        """Window 1's frequency: the uplink's own channel, or in fixed plans ``first + (channel %
        count) * step`` (US915/AU915: 923.3 MHz + 600 kHz steps over 8; CN470: 500.3 MHz, 200 kHz, 48)."""
        first, step, count = self.rx1_channels
        if not self.fixed_plan:
            return uplink_freq_hz
        return first + (channel_index % count) * step

    def band_of(self, freq_hz: int) -> int | None:
        """The band a frequency belongs to (``VerifyTxFreq``); None where the region sends nothing."""
        for index, band in enumerate(self.bands):
            if any(low <= freq_hz <= high for low, high in band.ranges):
                return index
        return None

    def tx_powers(self) -> tuple[float, ...]:
        """The EIRP (dBm) of each TX power index: ``max_eirp - 2 * index`` (LoRaWAN regional parameters,
        as ``RegionCommonComputeTxPower`` counts it)."""
        return tuple(self.max_eirp - 2 * index for index in range(self.min_tx_power + 1))

    def phy_tx_power(self, index: int, dr: int | None = None, channels_125: int = 64) -> int:
        """The power (dBm) the radio is set to for TX power ``index``: the region's ``LimitTxPower``
        (US915: at most index 2 at DR4, index 5 with fewer than 50 125 kHz channels enabled), then
        ``floor(max_eirp - 2 * index - antenna_gain)``."""
        if not 0 <= index <= self.min_tx_power:
            raise ValueError(f"{self.name}: TX power index {index} is not 0..{self.min_tx_power}")
        if self.name == "US915":
            index = max(index, 2) if dr == 4 else (max(index, 5) if channels_125 < 50 else index)
        return math.floor(self.max_eirp - 2 * index - self.antenna_gain)


_LORA_125 = {dr: DataRate(12 - dr, 125000) for dr in range(6)}
_DYNAMIC_RATES = {**_LORA_125, 6: DataRate(7, 250000), 7: DataRate(0, 0, 50)}  # DR7: FSK 50 kbps
_US_DOWN = {8 + i: DataRate(12 - i, 500000) for i in range(6)}  # DR8..DR13: SF12..SF7 at 500 kHz
_EU_LIKE_PAYLOAD = (51, 51, 51, 115, 242, 242, 242, 242)
_EU_LIKE_REPEATER = (51, 51, 51, 115, 222, 222, 222, 222)


def _band(duty_cycle: int, *ranges: tuple[int, int]) -> Band:
    return Band(duty_cycle, tuple(ranges))


_EU868 = Region(
    name="EU868",
    datarates=_DYNAMIC_RATES,
    max_payload=_EU_LIKE_PAYLOAD,
    max_payload_repeater=_EU_LIKE_REPEATER,
    tx_dr=(0, 6),
    rx_dr=(0, 6),
    default_dr=0,
    max_rx1_dr_offset=5,
    rx2=(869525000, 0),
    default_channels=(
        Channel(868100000, 0, 5, 1),
        Channel(868300000, 0, 5, 1),
        Channel(868500000, 0, 5, 1),
    ),
    bands=(  # VerifyTxFreq: 1 %, 1 %, 0.1 %, 10 %, 1 % (g, g1, g2, g3, g4 of ETSI EN 300 220)
        _band(100, (865000000, 868000000)),
        _band(100, (868000001, 868600000)),
        _band(1000, (863000000, 864999999), (868700000, 869200000)),
        _band(10, (869400000, 869650000)),
        _band(100, (869700000, 870000000)),
    ),
    duty_cycle_enabled=True,
    max_eirp=16.0,
    antenna_gain=2.15,
    min_tx_power=7,
    frequency_range=(863000000, 870000000),
)

_US915 = Region(
    name="US915",
    datarates={**{dr: DataRate(10 - dr, 125000) for dr in range(4)}, 4: DataRate(8, 500000), **_US_DOWN},
    max_payload=(11, 53, 125, 242, 242, 0, 0, 0, 53, 129, 242, 242, 242, 242, 0, 0),
    max_payload_repeater=(11, 53, 125, 242, 242, 0, 0, 0, 33, 109, 222, 222, 222, 222, 0, 0),
    tx_dr=(0, 4),
    rx_dr=(8, 13),
    default_dr=0,
    max_rx1_dr_offset=3,
    rx2=(923300000, 8),
    default_channels=(
        *(Channel(902300000 + i * 200000, 0, 3) for i in range(64)),
        *(Channel(903000000 + i * 1600000, 4, 4) for i in range(8)),
    ),
    bands=(_band(1, (902000000, 928000000)),),
    duty_cycle_enabled=False,
    max_eirp=30.0,  # US915_DEFAULT_MAX_ERP, with no antenna gain
    antenna_gain=0.0,
    min_tx_power=10,
    frequency_range=(902000000, 928000000),
    fixed_plan=True,
    rx1_offset_table=((10, 9, 8, 8), (11, 10, 9, 8), (12, 11, 10, 9), (13, 12, 11, 10), (13, 13, 12, 11)),
    rx1_channels=(923300000, 600000, 8),
)

_AS923 = Region(
    name="AS923",
    datarates=_DYNAMIC_RATES,
    max_payload=_EU_LIKE_PAYLOAD,
    max_payload_repeater=_EU_LIKE_REPEATER,
    tx_dr=(0, 6),
    rx_dr=(0, 6),
    default_dr=2,
    max_rx1_dr_offset=7,
    rx2=(923200000, 2),
    default_channels=(Channel(923200000, 0, 5), Channel(923400000, 0, 5)),
    bands=(_band(100, (915000000, 928000000)),),
    duty_cycle_enabled=False,
    max_eirp=16.0,
    antenna_gain=2.15,
    min_tx_power=7,
    frequency_range=(915000000, 928000000),
    uplink_dwell=1,
    downlink_dwell=1,
    max_payload_dwell_up=(0, 0, 11, 53, 125, 242, 242, 242),
    dwell_limit_dr=2,
    effective_rx1_offsets=(0, 1, 2, 3, 4, 5, -1, -2),
)

_AU915 = Region(
    name="AU915",
    datarates={**_LORA_125, 6: DataRate(8, 500000), **_US_DOWN},
    max_payload=(51, 51, 51, 115, 242, 242, 242, 0, 53, 129, 242, 242, 242, 242, 0, 0),
    max_payload_repeater=(51, 51, 51, 115, 222, 222, 222, 0, 33, 109, 222, 222, 222, 222, 0, 0),
    tx_dr=(0, 6),
    rx_dr=(8, 13),
    default_dr=0,
    max_rx1_dr_offset=6,
    rx2=(923300000, 8),
    default_channels=(
        *(Channel(915200000 + i * 200000, 0, 5) for i in range(64)),
        *(Channel(915900000 + i * 1600000, 6, 6) for i in range(8)),
    ),
    bands=(_band(1, (915000000, 928000000)),),
    duty_cycle_enabled=False,
    max_eirp=30.0,
    antenna_gain=2.15,
    min_tx_power=10,
    frequency_range=(915000000, 928000000),
    fixed_plan=True,
    rx1_offset_table=(
        (8, 8, 8, 8, 8, 8),
        (9, 8, 8, 8, 8, 8),
        (10, 9, 8, 8, 8, 8),
        (11, 10, 9, 8, 8, 8),
        (12, 11, 10, 9, 8, 8),
        (13, 12, 11, 10, 9, 8),
        (13, 13, 12, 11, 10, 9),
    ),
    rx1_channels=(923300000, 600000, 8),
)

_CN470 = Region(
    name="CN470",
    datarates=_LORA_125,
    max_payload=(51, 51, 51, 115, 222, 222),
    max_payload_repeater=(51, 51, 51, 115, 222, 222),
    tx_dr=(0, 5),
    rx_dr=(0, 5),
    default_dr=0,
    max_rx1_dr_offset=3,
    rx2=(505300000, 0),
    default_channels=tuple(Channel(470300000 + i * 200000, 0, 5) for i in range(96)),
    bands=(_band(1, (470000000, 510000000)),),
    duty_cycle_enabled=False,
    max_eirp=19.15,
    antenna_gain=2.15,
    min_tx_power=7,
    frequency_range=(470000000, 510000000),
    fixed_plan=True,
    rx1_channels=(500300000, 200000, 48),
)

_IN865 = Region(
    name="IN865",
    datarates=_DYNAMIC_RATES,
    max_payload=_EU_LIKE_PAYLOAD,
    max_payload_repeater=_EU_LIKE_REPEATER,
    tx_dr=(0, 7),
    rx_dr=(0, 7),
    default_dr=0,
    max_rx1_dr_offset=7,
    rx2=(866550000, 2),
    default_channels=(Channel(865062500, 0, 5), Channel(865402500, 0, 5), Channel(865985000, 0, 5)),
    bands=(_band(1, (865000000, 867000000)),),
    duty_cycle_enabled=True,
    max_eirp=30.0,
    antenna_gain=2.15,
    min_tx_power=10,
    frequency_range=(865000000, 867000000),
    effective_rx1_offsets=(0, 1, 2, 3, 4, 5, -1, -2),
)

_BY_NAME = {r.name: r for r in (_EU868, _US915, _AS923, _AU915, _CN470, _IN865)}
REGIONS: tuple[str, ...] = tuple(_BY_NAME)


def region(name: str) -> Region:
    """The region called ``name`` (``"EU868"`` ...); KeyError for one the firmware does not offer."""
    return _BY_NAME[name]
