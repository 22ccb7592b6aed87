"""Duty-cycle bookkeeping as LoRaMac-node does it (``RegionCommon.c``: ``RegionCommonCalcBackOff``,
``RegionCommonSetBandTxDone``, ``RegionCommonUpdateBandTimeOff``, ``RegionCommonGetJoinDc``;
``LoRaMac.c``: the aggregated duty cycle of ``DutyCycleReq``; firmware 1.20.2.r6).

After a transmission of ``T`` seconds on a band whose duty cycle is ``DCycle`` (100 = 1 %), the band is
closed for ``T * DCycle - T`` from the end of the transmission. Before the device has joined, the
join duty cycle applies too (the larger of the two): 1 % in the first hour after start, 0.1 % up to
eleven hours, 0.01 % after that; it applies even with the duty cycle off once the last frame was a
join request. Note: Pycom's ``modlora.c`` turns the duty cycle off (``LoRaMacTestSetDutyCycleOn(false)``
in ``E_LORA_CMD_INIT`` for LoRaWAN), so on the board only the join duty cycle limits a LoRaWAN device.
Joined with the duty cycle off, every band is always free.

Public API::

    DutyCycle(region: Region | str, *, enabled: bool | None = None, started_at: float = 0.0)
        .enabled: bool                      # DutyCycleOn (default: the region's, EU868/IN865 on)
        .max_dcycle: int                    # DutyCycleReq's MaxDCycle (0: no aggregated limit)
        .tx_done(freq_hz: int, time_on_air: float, at: float, *, joined: bool = True,
                 join_request: bool = False) -> None
        .band_wait(band: int, now: float, *, joined: bool = True) -> float     # seconds, 0: free
        .wait(freq_hz: int, now: float, *, joined: bool = True) -> float       # band and aggregated
        .next_allowed(freq_hz: int, now: float, *, joined: bool = True) -> float   # now + wait
        .earliest(freqs: Iterable[int], now: float, *, joined: bool = True) -> float   # soonest of them
        .save() -> dict[str, Any];  .restore(state: dict[str, Any]) -> None
    join_duty_cycle(elapsed: float) -> int  # RegionCommonGetJoinDc: 100, 1000, then 10000

Times are seconds on any one clock (the board's); pass ``time_on_air_ms(...) / 1000`` for LoRaMac's own
whole-millisecond figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .regions import Region, region

__all__ = ["DutyCycle", "join_duty_cycle"]

HOUR = 3600.0


def join_duty_cycle(elapsed: float) -> int:
    """``RegionCommonGetJoinDc``: the join duty cycle ``elapsed`` seconds after the MAC started."""
    if elapsed < HOUR:
        return 100
    if elapsed < 11 * HOUR:
        return 1000
    return 10000


class DutyCycle:
    """The time-off of each band of a region, and the aggregated time-off."""

    def __init__(self, region_or_name: Region | str, *, enabled: bool | None = None, started_at: float = 0.0):
        self.region = region(region_or_name) if isinstance(region_or_name, str) else region_or_name
        self.enabled = self.region.duty_cycle_enabled if enabled is None else enabled
        self.started_at = started_at
        self.max_dcycle = 0
        count = len(self.region.bands)
        self._time_off = [0.0] * count
        self._last_done = [0.0] * count
        self._last_join_done = [0.0] * count
        self._aggregated_until = 0.0
        self._last_was_join = False

    def _band(self, freq_hz: int) -> int:
        band = self.region.band_of(freq_hz)
        if band is None:
            raise ValueError(f"{self.region.name}: {freq_hz} Hz is in no band")
        return band

    def tx_done(
        self, freq_hz: int, time_on_air: float, at: float, *, joined: bool = True, join_request: bool = False
    ) -> None:
        """A transmission of ``time_on_air`` seconds on ``freq_hz`` ended at ``at``."""
        band = self._band(freq_hz)
        self._last_done[band] = at
        if not joined:
            self._last_join_done[band] = at
        self._last_was_join = join_request
        dcycle = self.region.bands[band].duty_cycle
        if not joined:
            dcycle = max(dcycle, join_duty_cycle(at - self.started_at))
            applies = self.enabled or join_request
        else:
            applies = self.enabled
        self._time_off[band] = time_on_air * dcycle - time_on_air if applies else 0.0
        if self.max_dcycle:
            aggregated = 1 << self.max_dcycle
            self._aggregated_until = at + time_on_air * aggregated - time_on_air

    def band_wait(self, band: int, now: float, *, joined: bool = True) -> float:
        """Seconds until ``band`` may send again (``RegionCommonUpdateBandTimeOff``)."""
        if joined:
            if not self.enabled:
                return 0.0
            elapsed = now - self._last_done[band]
        else:
            elapsed = now - self._last_join_done[band]
            if self.enabled:
                elapsed = max(elapsed, now - self._last_done[band])
        return max(self._time_off[band] - elapsed, 0.0)

    def wait(self, freq_hz: int, now: float, *, joined: bool = True) -> float:
        """Seconds until a transmission on ``freq_hz`` is allowed (its band, the aggregated limit)."""
        if self.max_dcycle == 255:
            raise ValueError("the device is off (DutyCycleReq MaxDCycle 255)")
        aggregated = max(self._aggregated_until - now, 0.0) if self.max_dcycle else 0.0
        return max(self.band_wait(self._band(freq_hz), now, joined=joined), aggregated)

    def next_allowed(self, freq_hz: int, now: float, *, joined: bool = True) -> float:
        return now + self.wait(freq_hz, now, joined=joined)

    def earliest(self, freqs: Iterable[int], now: float, *, joined: bool = True) -> float:
        """The soonest moment any of ``freqs`` (the enabled channels) may send, as ``NextChannel``
        delays a frame when every channel's band is closed."""
        waits = [self.wait(freq, now, joined=joined) for freq in freqs]
        if not waits:
            raise ValueError("no channel")
        return now + min(waits)

    def save(self) -> dict[str, Any]:
        """The state to keep across a deep sleep (``nvram_save``); times are the caller's clock."""
        return {
            "enabled": self.enabled,
            "started_at": self.started_at,
            "max_dcycle": self.max_dcycle,
            "time_off": list(self._time_off),
            "last_done": list(self._last_done),
            "last_join_done": list(self._last_join_done),
            "aggregated_until": self._aggregated_until,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.enabled = bool(state["enabled"])
        self.started_at = float(state["started_at"])
        self.max_dcycle = int(state["max_dcycle"])
        self._time_off = [float(v) for v in state["time_off"]]
        self._last_done = [float(v) for v in state["last_done"]]
        self._last_join_done = [float(v) for v in state["last_join_done"]]
        self._aggregated_until = float(state["aggregated_until"])
