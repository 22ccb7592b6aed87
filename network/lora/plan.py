"""A region's channel plan as LoRaMac-node keeps it (``lib/lora/mac/region/Region*.c``, firmware
1.20.2.r6): channels, channel masks, sub-bands with their time-off, and the region's answers to the
MAC commands that change them. :class:`ChannelPlan` holds what every region shares
(``RegionCommon.c``); the EU868 / AS923 / IN865 plan (a few default channels, more from the
JoinAccept's CFList and NewChannelReq) is in :mod:`.dynamicplan`, the fixed 64+8 (US915, AU915) and
96 channel (CN470) plans in :mod:`.fixedplan`. Times are milliseconds of the board clock, as the
firmware's timers count.

Public API::

    fixedplan.make_plan(region: str) -> ChannelPlan     # the region's plan, in its initial state
    ChannelPlan: .figures (RegionFigures), .channels (list[Channel]), .mask (list[int], 16 bits each)
        .next_channel(...) / .link_adr_req(...) / .new_channel_req(...) / ... (used by :mod:`.mac`)
        .add_channel(index, freq, dr_min, dr_max) -> int    # LoRa.add_channel: 0 or a LORAMAC_STATUS
        .remove_channel(index) -> bool                     # LoRa.remove_channel
        .save() -> dict;  .restore(dict) -> None
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from .regionfigures import RegionFigures

__all__ = [
    "STATUS_DATARATE_INVALID",
    "STATUS_FREQ_AND_DR_INVALID",
    "STATUS_FREQUENCY_INVALID",
    "STATUS_OK",
    "STATUS_PARAMETER_INVALID",
    "Band",
    "Channel",
    "ChannelPlan",
    "LinkAdrResult",
    "NextChannel",
]

# LoRaMacStatus_t values the channel functions return (LoRaMac.h)
STATUS_OK = 0
STATUS_PARAMETER_INVALID = 3
STATUS_FREQUENCY_INVALID = 4
STATUS_DATARATE_INVALID = 5
STATUS_FREQ_AND_DR_INVALID = 6

SRV_LINK_ADR_REQ = 0x03
BACKOFF_DC_1_HOUR, BACKOFF_DC_10_HOURS, BACKOFF_DC_24_HOURS = 100, 1000, 10000


@dataclass
class Channel:
    """``ChannelParams_t``: a frequency of 0 is an undefined channel."""

    freq: int = 0
    dr_min: int = 0
    dr_max: int = 0
    band: int = 0
    rx1_freq: int = 0


@dataclass
class Band:
    """``Band_t``: duty cycle (1/x), max power index, and the time-off bookkeeping (ms)."""

    dcycle: int
    tx_max_power: int = 0
    last_tx_done: float = 0.0
    last_join_tx_done: float = 0.0
    time_off: float = 0.0


@dataclass
class NextChannel:
    """What ``RegionNextChannel`` answers: ``found`` false means "no channel for this data rate"."""

    found: bool
    channel: int = 0
    delay_ms: float = 0.0
    aggregated_time_off: float = 0.0


@dataclass
class LinkAdrResult:
    status: int
    dr: int
    tx_power: int
    nb_rep: int
    parsed: int


@dataclass
class ChannelPlan:
    """What every region shares; subclasses fill the region's own rules."""

    figures: RegionFigures
    channels: list[Channel] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    default_mask: list[int] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bands = [Band(dc) for dc in self.figures.bands]
        self.init_defaults()

    # -- region rules the subclasses define ---------------------------------------------------------

    def init_defaults(self) -> None:
        raise NotImplementedError

    def restore_defaults(self) -> None:
        """``RegionInitDefaults(INIT_TYPE_RESTORE)``: after a confirmed uplink that was never acked."""
        raise NotImplementedError

    def rx1_frequency(self, channel: int) -> int:
        raise NotImplementedError

    def alternate_dr(self, nb_trials: int) -> int:
        raise NotImplementedError

    def force_join_trials(self, join_dr: int, nb_trials: int) -> int:
        """Pycom's ``RegionForceJoinDataRate``: the trial count that makes ``alternate_dr`` pick it."""
        raise NotImplementedError

    def apply_cflist(self, cflist: bytes) -> None:
        raise NotImplementedError

    # -- data rates ---------------------------------------------------------------------------------

    def min_tx_dr(self, uplink_dwell: int) -> int:
        return self.figures.tx_min_dr

    def next_lower_dr(self, dr: int, uplink_dwell: int) -> int:
        minimum = self.min_tx_dr(uplink_dwell)
        return minimum if dr == minimum else dr - 1

    def max_payload(self, dr: int, uplink_dwell: int) -> int:
        table = self.figures.max_payload
        return table[dr] if 0 <= dr < len(table) else 0

    def verify_tx_dr(self, dr: int, uplink_dwell: int) -> bool:
        return self.min_tx_dr(uplink_dwell) <= dr <= self.figures.tx_max_dr

    def verify_rx_dr(self, dr: int, downlink_dwell: int) -> bool:
        return self.figures.rx_min_dr <= dr <= self.figures.rx_max_dr

    def apply_dr_offset(self, dr: int, offset: int, downlink_dwell: int) -> int:
        return max(dr - offset, 0)

    def rx_window(self, dr: int, min_rx_symbols: int, rx_error_ms: int) -> tuple[int, int, int]:
        """(dr, window timeout in symbols, window offset in ms) of ``RegionComputeRxWindowParameters``
        (Pycom triples the symbol timeout in most regions; the offset uses the untripled one)."""
        dr = min(dr, self.figures.rx_max_dr)
        t_symbol = self.figures.symbol_ms(dr)
        timeout = max(
            math.ceil(((2 * min_rx_symbols - 8) * t_symbol + 2 * rx_error_ms) / t_symbol), min_rx_symbols
        )
        offset = math.ceil(4.0 * t_symbol - timeout * t_symbol / 2.0 - 1)  # RADIO_WAKEUP_TIME 1 ms
        return dr, timeout * self.figures.window_factor, offset

    # -- power --------------------------------------------------------------------------------------

    def limit_tx_power(self, tx_power: int, dr: int, channel: int) -> int:
        band = self.bands[self.channels[channel].band] if self.bands else None
        return max(tx_power, band.tx_max_power if band else 0)

    def tx_power_dbm(
        self, tx_power: int, dr: int, channel: int, max_eirp: float, antenna_gain: float
    ) -> tuple[int, int]:
        """(radio dBm, limited power index): ``floor(maxEirp - 2 * index - antennaGain)``."""
        limited = self.limit_tx_power(tx_power, dr, channel)
        return math.floor(max_eirp - limited * 2 - antenna_gain), limited

    def verify_tx_power(self, tx_power: int) -> bool:
        return self.figures.max_tx_power <= tx_power <= self.figures.min_tx_power

    # -- duty cycle ---------------------------------------------------------------------------------

    def set_band_tx_done(self, channel: int, joined: bool, now_ms: float) -> None:
        band = self.bands[self.channels[channel].band]
        band.last_tx_done = now_ms
        if not joined:
            band.last_join_tx_done = now_ms

    def calc_backoff(
        self, channel: int, joined: bool, duty_cycle: bool, elapsed_ms: float, air_ms: float, last_join: bool
    ) -> None:
        """``RegionCommonCalcBackOff``: the time-off of the last channel's band (the join duty cycle,
        1 % in the first hour, applies to join requests even with the duty cycle off)."""
        band = self.bands[self.channels[channel].band]
        band.time_off = 0.0
        dcycle = band.dcycle
        if not joined:
            if elapsed_ms < 3600000:
                join_dc = BACKOFF_DC_1_HOUR
            elif elapsed_ms < 3600000 + 36000000:
                join_dc = BACKOFF_DC_10_HOURS
            else:
                join_dc = BACKOFF_DC_24_HOURS
            dcycle = max(dcycle, join_dc)
            if duty_cycle or last_join:
                band.time_off = air_ms * dcycle - air_ms
        elif duty_cycle:
            band.time_off = air_ms * dcycle - air_ms

    def update_band_time_off(self, joined: bool, duty_cycle: bool, now_ms: float) -> float:
        """``RegionCommonUpdateBandTimeOff``: clears expired time-offs; the shortest wait left."""
        next_delay = math.inf
        for band in self.bands:
            if not joined:
                done = max(now_ms - band.last_join_tx_done, (now_ms - band.last_tx_done) if duty_cycle else 0)
                if band.time_off <= done:
                    band.time_off = 0
                if band.time_off:
                    next_delay = min(band.time_off - done, next_delay)
            elif duty_cycle:
                done = now_ms - band.last_tx_done
                if band.time_off <= done:
                    band.time_off = 0
                if band.time_off:
                    next_delay = min(band.time_off - done, next_delay)
            else:
                next_delay = 0
                band.time_off = 0
        return next_delay

    def enabled_channels(self, dr: int, joined: bool, mask: list[int]) -> tuple[list[int], int]:
        """``CountNbOfEnabledChannels``: the usable channels for ``dr`` and how many wait on a band."""
        found: list[int] = []
        delayed = 0
        for index, channel in enumerate(self.channels):
            if not mask[index // 16] & (1 << (index % 16)) or channel.freq == 0:
                continue
            if not joined and not self.join_channel(index):
                continue
            if not channel.dr_min <= dr <= channel.dr_max:
                continue
            if self.bands[channel.band].time_off > 0:
                delayed += 1
                continue
            found.append(index)
        return found, delayed

    def join_channel(self, index: int) -> bool:
        return True

    # -- the MAC commands -----------------------------------------------------------------------

    def parse_link_adr(self, payload: bytes) -> list[tuple[int, int, int, int, int]]:
        """The LinkAdrReq blocks at the start of ``payload``: (dr, power, ch_mask, ch_mask_ctrl, nb_rep)."""
        blocks = []
        at = 0
        while at + 5 <= len(payload) and payload[at] == SRV_LINK_ADR_REQ:
            dr_power, mask, redundancy = (
                payload[at + 1],
                payload[at + 2] | payload[at + 3] << 8,
                payload[at + 4],
            )
            blocks.append((dr_power >> 4, dr_power & 0x0F, mask, (redundancy >> 4) & 0x07, redundancy & 0x0F))
            at += 5
        return blocks

    def verify_link_adr(
        self,
        status: int,
        adr: bool,
        req: tuple[int, int, int, int, int],
        current: tuple[int, int, int],
        mask: list[int],
        uplink_dwell: int,
    ) -> tuple[int, int, int, int]:
        """``RegionCommonLinkAdrReqVerifyParams``: (status, dr, tx power, nb_rep)."""
        dr, power, _, _, nb_rep = req
        cur_dr, cur_power, cur_rep = current
        if not adr:
            if dr != 0x0F or power != 0x0F:
                status = 0
                nb_rep = cur_rep
            dr, power = cur_dr, cur_power
        if status:
            if not self.chan_verify_dr(dr, self.min_tx_dr(uplink_dwell), self.figures.tx_max_dr, mask):
                status &= 0xFD
            if not self.figures.max_tx_power <= power <= self.figures.min_tx_power:
                if self.figures.max_tx_power > power:
                    power = self.figures.max_tx_power
                else:
                    status &= 0xFB
        if status == 0x07 and nb_rep == 0:
            nb_rep = cur_rep
        return status, dr, power, nb_rep

    def chan_verify_dr(self, dr: int, min_dr: int, max_dr: int, mask: list[int]) -> bool:
        if not min_dr <= dr <= max_dr:
            return False
        return any(
            mask[i // 16] & (1 << (i % 16)) and (ch.dr_min & 0x0F) <= dr <= (ch.dr_max & 0x0F)
            for i, ch in enumerate(self.channels)
        )

    def tx_param_setup_req(self, uplink_dwell: int, downlink_dwell: int, max_eirp: int) -> bool:
        """Whether the region accepts a TxParamSetupReq (AS923 only)."""
        return False

    def adr_next(
        self, adr: bool, counter: int, dr: int, tx_power: int, uplink_dwell: int, update_mask: bool
    ) -> tuple[bool, int, int, int]:
        """``RegionAdrNext``: (ADRACKReq, data rate, tx power, ADR ack counter)."""
        figures = self.figures
        minimum = self.min_tx_dr(uplink_dwell)
        dr = max(dr, minimum)
        ack_req = False
        if adr:
            if dr == minimum:
                counter = 0
            else:
                if counter >= figures.adr_ack_limit:
                    ack_req = True
                    tx_power = figures.max_tx_power
                if (
                    counter >= figures.adr_ack_limit + figures.adr_ack_delay
                    and counter % figures.adr_ack_delay == 1
                ):
                    dr = self.next_lower_dr(dr, uplink_dwell)
                    if dr == minimum:
                        ack_req = False
                        if update_mask:
                            self.reenable_default_channels()
        return ack_req, dr, tx_power, counter

    def reenable_default_channels(self) -> None:
        raise NotImplementedError

    def link_adr_req(
        self, payload: bytes, adr: bool, current: tuple[int, int, int], uplink_dwell: int
    ) -> LinkAdrResult | None:
        """LinkADRReq blocks from ``payload[0]``: None when there is none to parse."""
        raise NotImplementedError

    def rx_param_setup_req(self, dr_offset: int, dr: int, freq: int, downlink_dwell: int) -> int:
        """RXParamSetupReq's status bits: 0x01 channel, 0x02 RX2 data rate, 0x04 RX1 offset OK."""
        raise NotImplementedError

    def new_channel_req(self, index: int, freq: int, dr_min: int, dr_max: int) -> int:
        raise NotImplementedError

    def dl_channel_req(self, index: int, freq: int) -> int:
        raise NotImplementedError

    # -- manual channels (LoRa.add_channel / remove_channel) ----------------------------------------

    def add_channel(self, index: int, freq: int, dr_min: int, dr_max: int) -> int:
        raise NotImplementedError

    def remove_channel(self, index: int) -> bool:
        raise NotImplementedError

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
        raise NotImplementedError

    # -- nvram --------------------------------------------------------------------------------------

    def save(self) -> dict[str, Any]:
        return {
            "channels": [[c.freq, c.dr_min, c.dr_max, c.band, c.rx1_freq] for c in self.channels],
            "mask": list(self.mask),
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.channels = [Channel(*map(int, row)) for row in saved["channels"]]
        self.mask = [int(m) for m in saved["mask"]]
