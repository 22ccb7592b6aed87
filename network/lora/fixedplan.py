"""The fixed channel plans: US915 and AU915 (64 channels of 125 kHz + 8 of 500 kHz, hopping through
a "remaining" mask so that every enabled channel is used once before any twice) and CN470 (96 channels
of 125 kHz), as ``RegionUS915.c`` / ``RegionAU915.c`` / ``RegionCN470.c`` in the firmware 1.20.2.r6.
``make_plan`` picks the plan class of a region.

Public API::

    make_plan(region: str) -> ChannelPlan          # DynamicPlan (EU868, AS923, IN865) or FixedPlan
    FixedPlan(figures: RegionFigures)
"""

from __future__ import annotations

import math
import random
from typing import Any

from .dynamicplan import DynamicPlan
from .plan import (
    STATUS_DATARATE_INVALID,
    STATUS_FREQ_AND_DR_INVALID,
    STATUS_FREQUENCY_INVALID,
    STATUS_OK,
    STATUS_PARAMETER_INVALID,
    Channel,
    ChannelPlan,
    LinkAdrResult,
    NextChannel,
)
from .regionfigures import figures_of

__all__ = ["FixedPlan", "make_plan"]


def _count(mask: list[int], start: int, stop: int) -> int:
    return sum(bin(word & 0xFFFF).count("1") for word in mask[start:stop])


class FixedPlan(ChannelPlan):
    """US915 / AU915 / CN470."""

    remaining: list[int]

    @property
    def cn470(self) -> bool:
        return self.figures.name == "CN470"

    def init_defaults(self) -> None:
        f = self.figures
        top = f.tx_max_dr if self.cn470 else f.dr_500 - 1
        self.channels = [Channel(f.first_125 + i * 200000, 0, top) for i in range(f.count_125)]
        if not self.cn470:
            self.channels += [Channel(f.first_500 + i * 1600000, f.dr_500, f.dr_500) for i in range(8)]
            self.default_mask = [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x00FF, 0x0000]
        else:
            self.default_mask = [0xFFFF] * 6
        self.mask = list(self.default_mask)
        self.remaining = list(self.mask)

    def restore_defaults(self) -> None:
        self.mask = list(self.default_mask)
        self.remaining = [r & m for r, m in zip(self.remaining, self.mask, strict=True)]

    def reenable_default_channels(self) -> None:
        self.mask = list(self.default_mask)

    def rx1_frequency(self, channel: int) -> int:
        f = self.figures
        return f.rx1_first + (channel % f.rx1_modulo) * f.rx1_step

    def apply_dr_offset(self, dr: int, offset: int, downlink_dwell: int) -> int:
        if self.cn470:
            return max(dr - offset, 0)
        return max(self.figures.rx1_offset_table[dr][offset], 0)

    def alternate_dr(self, nb_trials: int) -> int:
        if self.cn470:
            for period, dr in ((48, 0), (32, 1), (24, 2), (16, 3), (8, 4)):
                if nb_trials % period == 0:
                    return dr
            return 5
        self.mask[4] = 0x00FF
        return self.figures.dr_500 if nb_trials & 1 else 0

    def force_join_trials(self, join_dr: int, nb_trials: int) -> int:
        if self.cn470:
            return (48, 32, 24, 16, 8, 1)[join_dr] if 0 <= join_dr < 6 else nb_trials
        return 1 if join_dr == self.figures.dr_500 else 0

    def apply_cflist(self, cflist: bytes) -> None:
        """LoRaWAN 1.0.2 fixed plans ignore a CFList."""

    def limit_tx_power(self, tx_power: int, dr: int, channel: int) -> int:
        result = max(tx_power, 0)
        if self.figures.name == "US915":  # FCC: 26 dBm on DR4, 21 dBm under 50 channels
            result = (
                max(tx_power, 2)
                if dr == 4
                else (max(tx_power, 5) if _count(self.mask, 0, 4) < 50 else result)
            )
        return result

    def link_adr_req(
        self, payload: bytes, adr: bool, current: tuple[int, int, int], uplink_dwell: int
    ) -> LinkAdrResult | None:
        blocks = self.parse_link_adr(payload)
        if not blocks:
            return None
        mask = list(self.mask)
        status = 0x07
        for _, _, ch_mask, ctrl, _ in blocks:
            status = 0x07
            if self.cn470:
                if ctrl == 6:
                    mask = [0xFFFF] * 6
                elif ctrl == 7:
                    status &= 0xFE
                else:
                    if any(ch_mask & (1 << i) and self.channels[ctrl * 16 + i].freq == 0 for i in range(16)):
                        status &= 0xFE
                    mask[ctrl] = ch_mask
            elif ctrl == 6:
                mask[0:5] = [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, ch_mask]
            elif ctrl == 7:
                mask[0:5] = [0, 0, 0, 0, ch_mask]
            elif ctrl == 5:
                status &= 0xFE
            else:
                mask[ctrl] = ch_mask
        if not self.cn470 and blocks[-1][0] < self.figures.dr_500 and _count(mask, 0, 4) < 2:
            status &= 0xFE  # FCC 15.247: hop on at least two 125 kHz channels
        status, dr, power, nb_rep = self.verify_link_adr(status, adr, blocks[-1], current, mask, uplink_dwell)
        if status == 0x07:
            self.mask = mask
            if not self.cn470:
                self.remaining[0:4] = [r & m for r, m in zip(self.remaining[0:4], mask[0:4], strict=True)]
                self.remaining[4:6] = mask[4:6]
        return LinkAdrResult(status, dr, power, nb_rep, 5 * len(blocks))

    def rx_param_setup_req(self, dr_offset: int, dr: int, freq: int, downlink_dwell: int) -> int:
        f = self.figures
        status = 0x07
        if freq < f.rx1_first or freq > f.rx1_last or (freq - f.rx1_first) % f.rx1_step:
            status &= 0xFE
        if not f.rx_min_dr <= dr <= f.rx_max_dr:
            status &= 0xFD
        if f.name == "US915" and (5 <= dr <= 7 or dr > 13):
            status &= 0xFD
        if f.name == "AU915" and (dr == 7 or dr > 13):
            status &= 0xFD
        if not 0 <= dr_offset <= f.max_rx1_dr_offset:
            status &= 0xFB
        return status

    def new_channel_req(self, index: int, freq: int, dr_min: int, dr_max: int) -> int:
        return 0

    def dl_channel_req(self, index: int, freq: int) -> int:
        return 0

    def add_channel(self, index: int, freq: int, dr_min: int, dr_max: int) -> int:
        f = self.figures
        if index >= f.max_channels:
            return STATUS_PARAMETER_INVALID
        dr_bad = dr_min != 0 or dr_max > f.tx_max_dr
        low, high = f.freq_range
        freq_bad = not low <= freq <= high
        if dr_bad and freq_bad:
            return STATUS_FREQ_AND_DR_INVALID
        if dr_bad:
            return STATUS_DATARATE_INVALID
        if freq_bad:
            return STATUS_FREQUENCY_INVALID
        self.channels[index] = Channel(freq, dr_min, dr_max)
        self.mask[index // 16] |= 1 << (index % 16)
        if not self.cn470:
            self.remaining[index // 16] |= self.mask[index // 16]
        return STATUS_OK

    def remove_channel(self, index: int) -> bool:
        if self.cn470:
            return True  # RegionCN470ChannelsRemove answers LORAMAC_STATUS_PARAMETER_INVALID, a true bool
        if index >= self.figures.max_channels:
            return False
        self.mask[index // 16] &= ~(1 << (index % 16))
        self.channels[index] = Channel()
        self.remaining[index // 16] &= self.mask[index // 16]
        return True

    def next_channel(
        self,
        dr: int,
        joined: bool,
        duty_cycle: bool,
        aggr_time_off: float,
        since_aggr_tx: float,
        now_ms: float,
        rng: random.Random,
    ) -> NextChannel:
        if self.cn470:
            if _count(self.mask, 0, 6) == 0:
                self.mask = [0xFFFF] * 6
            hopping = self.mask
        else:
            if _count(self.remaining, 0, 4) == 0:
                self.remaining[0:4] = self.mask[0:4]
            if dr >= self.figures.dr_500 and self.remaining[4] & 0x00FF == 0:
                self.remaining[4] = self.mask[4]
            hopping = self.remaining
        found: list[int] = []
        delayed = 0
        next_delay = 0.0
        if aggr_time_off <= since_aggr_tx:
            aggr_time_off = 0
            next_delay = self.update_band_time_off(joined, duty_cycle, now_ms)
            found, delayed = self.enabled_channels(dr, joined, hopping)
        else:
            delayed += 1
            next_delay = aggr_time_off - since_aggr_tx
        if found:
            channel = found[rng.randint(0, len(found) - 1)]
            if not self.cn470 and channel < self.figures.max_channels - 8:
                self.remaining[channel // 16] &= ~(1 << (channel % 16))
            return NextChannel(True, channel, 0, aggr_time_off)
        if delayed:
            return NextChannel(True, 0, next_delay if next_delay != math.inf else 0, aggr_time_off)
        return NextChannel(False, 0, 0, aggr_time_off)

    def save(self) -> dict[str, Any]:
        saved = super().save()
        if not self.cn470:
            saved["remaining"] = list(self.remaining)
        return saved

    def restore(self, saved: dict[str, Any]) -> None:
        super().restore(saved)
        if "remaining" in saved:
            self.remaining = [int(m) for m in saved["remaining"]]


def make_plan(region: str) -> ChannelPlan:
    """The channel plan of a region name (``"EU868"``, ``"US915"`` ...), in its initial state."""
    figures = figures_of(region)
    return FixedPlan(figures) if figures.fixed else DynamicPlan(figures)
