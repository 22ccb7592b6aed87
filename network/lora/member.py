"""One radio on a LoRa medium (:mod:`.medium`): its receive windows, what it transmits, and the
SX127x's verdict on each frame it could hear (matching, locking on the preamble, collisions with the
capture effect, demodulation floor). Public API: see :mod:`.medium`'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .air import (
    CAPTURE_DB,
    DEMOD_FLOOR_DB,
    SNR_CEILING_DB,
    RadioParams,
    Reception,
    Transmission,
    matches,
    noise_floor_dbm,
    same_channel,
)
from .airtime import time_on_air

if TYPE_CHECKING:
    from .medium import Medium

__all__ = ["Member", "OnReceive"]

OnReceive = Callable[[Reception], None]


@dataclass
class _Window:
    params: tuple[RadioParams, ...]
    start: float
    end: float


class Member:
    """One radio on a medium. Its receiver is a list of windows (``listen``: open-ended from now;
    ``open_window``: a LoRaWAN RX window); ``standby`` ends them and aborts a frame being received."""

    def __init__(self, medium: Medium, member_id: str, on_receive: OnReceive | None) -> None:
        self.medium = medium
        self.id = member_id
        self.on_receive = on_receive
        self._windows: list[_Window] = []
        self._aborts: list[float] = []

    def _now(self, at: float | None) -> float:
        return self.medium.clock() if at is None else at

    def listen(self, *params: RadioParams, at: float | None = None) -> None:
        """Receive continuously with ``params`` (several for a multi-channel gateway) from ``at``/now
        on. Already listening so: nothing changes; otherwise the radio retunes (``standby`` first)."""
        now = self._now(at)
        wanted = tuple(params)
        with self.medium.lock:
            for window in self._windows:
                if window.start <= now and window.end == math.inf and set(window.params) == set(wanted):
                    return
            self.standby(now)
            if wanted:
                self._windows.append(_Window(wanted, now, math.inf))

    def open_window(self, *params: RadioParams, start: float, length: float) -> None:
        """An RX window from ``start`` for ``length`` seconds: a frame whose preamble it catches is
        received to its end (the SX1276 RX timeout stops counting once a preamble is detected)."""
        if length < 0:
            raise ValueError("window length must not be negative")
        with self.medium.lock:
            self._windows.append(_Window(tuple(params), start, start + length))

    def standby(self, at: float | None = None) -> None:
        """Stop receiving at ``at``/now: open windows end, later ones are cancelled, and a frame being
        received is lost."""
        now = self._now(at)
        with self.medium.lock:
            kept = []
            for window in self._windows:
                if window.start >= now:
                    continue
                window.end = min(window.end, now)
                kept.append(window)
            self._windows = kept
            self._aborts.append(now)

    def transmit(
        self,
        payload: bytes,
        params: RadioParams,
        tx_power_dbm: float = 14.0,
        *,
        start: float | None = None,
        preamble: int = 8,
        crc: bool = True,
        implicit: bool = False,
    ) -> Transmission:
        """Put ``payload`` on the air from ``start``/now for its time on air; returns the
        transmission (its ``end`` is TxDone). While it lasts this radio receives nothing."""
        begin = self._now(start)
        length = time_on_air(len(payload), params.sf, params.bw_hz, params.cr, preamble, implicit, crc)
        tx = Transmission(
            self.id,
            params.freq_hz,
            params.sf,
            params.bw_hz,
            params.cr,
            params.iq_inverted,
            float(tx_power_dbm),
            bytes(payload),
            begin,
            begin + length,
            preamble,
            implicit,
        )
        return self.medium.transmit(tx)

    def receiving(self, at: float | None = None) -> tuple[RadioParams, ...]:
        """The params this radio listens with at ``at``/now (empty: not receiving); a radio that is
        transmitting receives nothing."""
        now = self._now(at)
        with self.medium.lock:
            if self.transmitting(now) is not None:
                return ()
            found: list[RadioParams] = []
            for window in self._windows:
                if window.start <= now < window.end:
                    found.extend(p for p in window.params if p not in found)
            return tuple(found)

    def transmitting(self, at: float | None = None) -> Transmission | None:
        """This radio's transmission on the air at ``at``/now, if any."""
        now = self._now(at)
        for tx in self.medium.on_air(now):
            if tx.sender == self.id:
                return tx
        return None

    def channel_rssi(self, freq_hz: int, bw_hz: int = 125000, at: float | None = None) -> float:
        """The RSSI (dBm) this radio reads on ``freq_hz`` at ``at``/now: the strongest other
        transmission there, else the noise floor (``LoRa.ischannel_free``)."""
        now = self._now(at)
        level = noise_floor_dbm(bw_hz)
        for tx in self.medium.on_air(now):
            if tx.sender != self.id and abs(tx.freq_hz - freq_hz) < (tx.bw_hz + bw_hz) / 2:
                level = max(level, tx.tx_power_dbm - self.medium.path_loss(tx.sender, self.id, tx.freq_hz))
        return level

    def leave(self) -> None:
        """Leave the medium: nothing more is delivered to this member."""
        self.medium.remove(self)

    def hears(self, tx: Transmission, air: list[Transmission]) -> Reception | None:
        """What this member receives of ``tx`` given everything on the ``air`` (None: nothing)."""
        if tx.sender == self.id:
            return None
        locked: float | None = None
        for window in self._windows:
            caught = window.start <= tx.preamble_end and window.end >= tx.start
            if caught and any(matches(tx, p) for p in window.params):
                moment = max(window.start, tx.start)
                locked = moment if locked is None else min(locked, moment)
        if locked is None or any(locked < abort < tx.end for abort in self._aborts):
            return None
        if any(o.sender == self.id and o.start < tx.end and o.end > locked for o in air):
            return None
        medium = self.medium
        rssi = tx.tx_power_dbm - medium.path_loss(tx.sender, self.id, tx.freq_hz)
        snr = rssi - noise_floor_dbm(tx.bw_hz)
        if snr < DEMOD_FLOOR_DB[tx.sf]:
            return None
        for other in air:
            if other is tx or not other.overlaps(tx) or not same_channel(other, tx):
                continue
            interference = other.tx_power_dbm - medium.path_loss(other.sender, self.id, other.freq_hz)
            if rssi - interference < CAPTURE_DB:
                return None
        return Reception(
            tx.payload,
            rssi,
            min(snr, SNR_CEILING_DB),
            tx.freq_hz,
            tx.sf,
            tx.bw_hz,
            tx.end,
            tx.cr,
            tx.sender,
            tx.iq_inverted,
        )

    def forget(self, before: float) -> None:
        """Drop windows and aborts that ended before ``before`` (the medium prunes its history)."""
        self._windows = [w for w in self._windows if w.end >= before]
        self._aborts = [a for a in self._aborts if a >= before]
