"""The EU868 / AS923 / IN865 channel plan (``RegionEU868.c``, ``RegionAS923.c``, ``RegionIN865.c`` in
the firmware 1.20.2.r6): 16 channels, the first two or three fixed by the region, the others set by
the JoinAccept's CFList, NewChannelReq or ``LoRa.add_channel``; DlChannelReq moves a channel's RX1
frequency. AS923's listen-before-talk is not modelled (every channel is free).

Public API::

    DynamicPlan(figures: RegionFigures)      # a ChannelPlan (:mod:`.plan`)
"""

from __future__ import annotations

import random

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

__all__ = ["DynamicPlan"]


class DynamicPlan(ChannelPlan):
    """EU868, AS923, IN865 (``RegionEU868.c`` and its siblings): 16 channels, the first few fixed."""

    def init_defaults(self) -> None:
        figures = self.figures
        self.channels = [Channel() for _ in range(figures.max_channels)]
        for index, (freq, dr_min, dr_max) in enumerate(figures.default_channels):
            self.channels[index] = Channel(freq, dr_min, dr_max, figures.band_of(freq) or 0)
        self.default_mask = [(1 << len(figures.default_channels)) - 1]
        self.mask = list(self.default_mask)

    def restore_defaults(self) -> None:
        self.mask[0] |= self.default_mask[0]

    def reenable_default_channels(self) -> None:
        self.mask[0] |= (1 << len(self.figures.default_channels)) - 1

    def join_channel(self, index: int) -> bool:
        return index < len(self.figures.default_channels)

    def min_tx_dr(self, uplink_dwell: int) -> int:
        """AS923 with the uplink dwell time limit (its default) sends at DR2 or faster."""
        return (
            self.figures.dwell_limit_dr
            if uplink_dwell and self.figures.dwell_limit_dr
            else self.figures.tx_min_dr
        )

    def verify_rx_dr(self, dr: int, downlink_dwell: int) -> bool:
        minimum = self.figures.dwell_limit_dr if downlink_dwell else self.figures.rx_min_dr
        return minimum <= dr <= self.figures.rx_max_dr

    def next_lower_dr(self, dr: int, uplink_dwell: int) -> int:
        if self.figures.name == "IN865" and dr == 7:
            return 5
        return super().next_lower_dr(dr, uplink_dwell)

    def max_payload(self, dr: int, uplink_dwell: int) -> int:
        if uplink_dwell and self.figures.max_payload_dwell_up:
            return self.figures.max_payload_dwell_up[dr] if 0 <= dr < 8 else 0
        return super().max_payload(dr, uplink_dwell)

    def rx1_frequency(self, channel: int) -> int:
        ch = self.channels[channel]
        return ch.rx1_freq or ch.freq

    def apply_dr_offset(self, dr: int, offset: int, downlink_dwell: int) -> int:
        effective = self.figures.effective_rx1_offsets
        if effective is None:  # EU868
            return max(dr - offset, 0)
        minimum = self.figures.dwell_limit_dr if downlink_dwell else 0
        return min(5, max(minimum, dr - effective[offset]))

    def alternate_dr(self, nb_trials: int) -> int:
        if self.figures.name == "AS923":
            return self.figures.dwell_limit_dr
        for period, dr in ((48, 0), (32, 1), (24, 2), (16, 3), (8, 4)):
            if nb_trials % period == 0:
                return dr
        return 5

    def force_join_trials(self, join_dr: int, nb_trials: int) -> int:
        if self.figures.name == "AS923":
            return nb_trials
        return (48, 32, 24, 16, 8, 1)[join_dr] if 0 <= join_dr < 6 else nb_trials

    def apply_cflist(self, cflist: bytes) -> None:
        """Five more channels from a 16-byte CFList (the last byte is RFU); channels past them go."""
        if len(cflist) != 16:
            return
        first = len(self.figures.default_channels)
        for n, index in enumerate(range(first, self.figures.max_channels)):
            freq = int.from_bytes(cflist[3 * n : 3 * n + 3], "little") * 100 if n < 5 else 0
            if freq:
                self.new_channel(index, freq, 0, 5, manual=False)
            else:
                self.remove_channel(index)

    def verify_freq(self, freq: int) -> int | None:
        """The band of a frequency the region allows, or None (``VerifyTxFreq``)."""
        return self.figures.band_of(freq)

    def new_channel(self, index: int, freq: int, dr_min: int, dr_max: int, manual: bool) -> int:
        """``RegionChannelAdd`` (NewChannelReq, CFList) and ``RegionChannelManualAdd`` (the API)."""
        figures = self.figures
        if index >= figures.max_channels:
            return STATUS_PARAMETER_INVALID
        dr_bad = not (
            figures.tx_min_dr <= dr_min <= figures.tx_max_dr
            and figures.tx_min_dr <= dr_max <= figures.tx_max_dr
        )
        dr_bad = dr_bad or dr_min > dr_max
        freq_bad = False
        if index < len(figures.default_channels):
            dr_bad = dr_bad or dr_min > 0 or not 5 <= dr_max <= figures.tx_max_dr
            if not manual and freq != self.channels[index].freq:
                freq_bad = True
        band = None
        if not freq_bad:
            band = self.verify_freq(freq)
            freq_bad = band is None
        if dr_bad and freq_bad:
            return STATUS_FREQ_AND_DR_INVALID
        if dr_bad:
            return STATUS_DATARATE_INVALID
        if freq_bad:
            return STATUS_FREQUENCY_INVALID
        self.channels[index] = Channel(freq, dr_min, dr_max, band or 0)
        self.mask[0] |= 1 << index
        return STATUS_OK

    def add_channel(self, index: int, freq: int, dr_min: int, dr_max: int) -> int:
        return self.new_channel(index, freq, dr_min, dr_max, manual=True)

    def remove_channel(self, index: int) -> bool:
        if index < len(self.figures.default_channels) or index >= self.figures.max_channels:
            return False
        self.channels[index] = Channel()
        self.mask[index // 16] &= ~(1 << (index % 16))
        return True

    def new_channel_req(self, index: int, freq: int, dr_min: int, dr_max: int) -> int:
        """NewChannelReq's status bits: 0x01 frequency OK, 0x02 data rate range OK."""
        if freq == 0:
            return 0x03 if self.remove_channel(index) else 0x00
        result = self.new_channel(index, freq, dr_min, dr_max, manual=False)
        return {STATUS_OK: 0x03, STATUS_FREQUENCY_INVALID: 0x02, STATUS_DATARATE_INVALID: 0x01}.get(
            result, 0x00
        )

    def dl_channel_req(self, index: int, freq: int) -> int:
        status = 0x03
        if self.verify_freq(freq) is None:
            status &= 0xFE
        if index >= len(self.channels) or self.channels[index].freq == 0:
            status &= 0xFD
        if status == 0x03:
            self.channels[index].rx1_freq = freq
        return status

    def rx_param_setup_req(self, dr_offset: int, dr: int, freq: int, downlink_dwell: int) -> int:
        status = 0x07
        if not self.figures.rx_min_dr <= dr <= self.figures.rx_max_dr:
            status &= 0xFD
        if not 0 <= dr_offset <= self.figures.max_rx1_dr_offset:
            status &= 0xFB
        return status

    def tx_param_setup_req(self, uplink_dwell: int, downlink_dwell: int, max_eirp: int) -> bool:
        return self.figures.name == "AS923"

    def link_adr_req(
        self, payload: bytes, adr: bool, current: tuple[int, int, int], uplink_dwell: int
    ) -> LinkAdrResult | None:
        blocks = self.parse_link_adr(payload)
        if not blocks:
            return None
        status, mask = 0x07, 0
        for _, _, ch_mask, ctrl, _ in blocks:
            status, mask = 0x07, ch_mask  # only the last block's mask counts
            if (ctrl == 0 and mask == 0) or 1 <= ctrl <= 5 or ctrl >= 7:
                status &= 0xFE
                continue
            for i, ch in enumerate(self.channels):
                if ctrl == 6:
                    if ch.freq:
                        mask |= 1 << i
                elif mask & (1 << i) and ch.freq == 0:
                    status &= 0xFE
        status, dr, power, nb_rep = self.verify_link_adr(
            status, adr, blocks[-1], current, [mask], uplink_dwell
        )
        if status == 0x07:
            self.mask = [mask]
        return LinkAdrResult(status, dr, power, nb_rep, 5 * len(blocks))

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
        if self.mask[0] == 0:
            self.reenable_default_channels()
        found: list[int] = []
        delayed = 0
        next_delay = 0.0
        if aggr_time_off <= since_aggr_tx:
            aggr_time_off = 0
            next_delay = self.update_band_time_off(joined, duty_cycle, now_ms)
            found, delayed = self.enabled_channels(dr, joined, self.mask)
        else:
            delayed += 1
            next_delay = aggr_time_off - since_aggr_tx
        if found:
            return NextChannel(True, found[rng.randint(0, len(found) - 1)], 0, aggr_time_off)
        if delayed:
            return NextChannel(True, 0, next_delay, aggr_time_off)
        self.reenable_default_channels()
        return NextChannel(False, 0, 0, aggr_time_off)
