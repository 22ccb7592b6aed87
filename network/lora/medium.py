# in-process API stable (phy helper): names and signatures below will not change; across processes too.
"""The air: LoRa radios (members) on a named medium hear each other's transmissions as SX127x radios do.

Times are HOST ``time.monotonic()`` seconds (one clock for every process of the machine; boards on one
medium may run different time scales, so the LoRa API converts board time to host time).

Public API::

    RadioParams(freq_hz: int, sf: int, bw_hz: int, cr: int = 1, iq_inverted: bool = False)
    Transmission(sender: str, freq_hz: int, sf: int, bw_hz: int, cr: int, iq_inverted: bool,
                 tx_power_dbm: float, payload: bytes, start: float, end: float,
                 preamble: int = 8, implicit: bool = False)
        .params -> RadioParams;  .preamble_end -> float;  .overlaps(other) -> bool
    Reception(payload: bytes, rssi: float, snr: float, freq: int, sf: int, bw: int, at: float,
              cr: int, sender: str, iq_inverted: bool)       # ``at``: host time of end of reception
    (these three and the figures below live in :mod:`.air`; this module re-exports them)
    default_name() -> str      # $FIRMWARE_SIM_LORA_MEDIUM, else "lora"
    Medium(name: str = "", *, clock: Callable[[], float] = time.monotonic, threaded: bool = True)
        Medium.named(name, *, across_processes=False, address=None) -> Medium   # one per name and process
        Medium.join(name, member_id, on_receive=None, *, across_processes=False, address=None) -> Member
        .member(member_id, on_receive=None) -> Member;  .members() -> list[str];  .remove(member)
        .set_path_loss(a: str, b: str, loss_db: float) -> None     # both directions
        .set_distance(a: str, b: str, meters: float) -> None       # free-space loss at the frequency
        .path_loss(sender: str, receiver: str, freq_hz: int) -> float
        .transmit(tx: Transmission) -> Transmission                 # e.g. a gateway's scheduled txpk
        .on_air(at: float | None = None) -> list[Transmission]
        .peers() -> list[tuple[str, int]]   # the other processes met on this name (loopback UDP)
        .poll() -> int            # deliver what is due now (threaded=False; the thread does it otherwise)
        .close() -> None
    Member (from join/member): .id, .medium, .on_receive (Callable[[Reception], None] | None)
        .listen(*params: RadioParams, at: float | None = None) -> None   # continuous RX from ``at``/now
        .open_window(*params: RadioParams, start: float, length: float) -> None  # an RX window
        .standby(at: float | None = None) -> None   # stop receiving (aborts a frame being received)
        .transmit(payload: bytes, params: RadioParams, tx_power_dbm: float = 14.0, *,
                  start: float | None = None, preamble: int = 8, crc: bool = True,
                  implicit: bool = False) -> Transmission   # ``.end`` is when TxDone fires
        .receiving(at=None) -> tuple[RadioParams, ...];  .transmitting(at=None) -> Transmission | None
        .channel_rssi(freq_hz: int, bw_hz: int = 125000, at: float | None = None) -> float
        .leave() -> None
    noise_floor_dbm(bw_hz, noise_figure_db=6.0) -> float;  free_space_path_loss(meters, freq_hz) -> float
    DEMOD_FLOOR_DB: dict[int, float];  CAPTURE_DB = 6.0;  DEFAULT_DISTANCE_M = 10.0;  SNR_CEILING_DB = 10.0

Who hears what (decided at ``end`` + a few ms, then ``on_receive`` is called on the medium's thread):
- a member whose receiver catches the preamble: listening (``listen`` or an ``open_window``) with params
  that match at some moment between ``start`` and the preamble's end. Match (SX127x): same SF and BW, same
  IQ sense (an inverted transmitter is heard by an inverted receiver only), a frequency within 25 % of
  the bandwidth; the coding rate only with an implicit header (an explicit header carries it). A caught
  frame is received to its end even past the window's end (as the SX1276 past its RX timeout), unless
  the member transmits, retunes or goes to ``standby`` before it ends.
- collisions: another transmission overlapping in time with the same SF on an overlapping channel
  destroys the frame unless the frame is at least ``CAPTURE_DB`` (6 dB) stronger there (capture effect).
- RSSI = tx power - path loss (per pair, default free space at ``DEFAULT_DISTANCE_M``); SNR = RSSI -
  (-174 + 10 log10(BW) + 6 dB noise figure); a frame below the SF's demodulation floor (SX1276 datasheet
  table 13: -7.5 dB at SF7 ... -20 dB at SF12) is lost. Values are floats (the LoRa API rounds them as
  the firmware reports them); the reported SNR stops at ``SNR_CEILING_DB`` (+10 dB: the SX127x's
  estimate does not go higher in practice, Semtech gives -20..+10 dB as LoRa's SNR range).
A member never hears itself. Across processes (``across_processes=True``) each process holds the same
medium and sends its transmissions to the others over loopback UDP (:mod:`.airlink`); each process
decides what its own members hear, with its own path-loss table.
"""

from __future__ import annotations

import heapq
import itertools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable

from .. import host
from .air import (
    CAPTURE_DB,
    DEFAULT_DISTANCE_M,
    DEMOD_FLOOR_DB,
    SNR_CEILING_DB,
    RadioParams,
    Reception,
    Transmission,
    decode,
    encode,
    free_space_path_loss,
    noise_floor_dbm,
)
from .airlink import Link
from .member import Member, OnReceive

__all__ = [
    "CAPTURE_DB",
    "DEFAULT_DISTANCE_M",
    "DEMOD_FLOOR_DB",
    "ENV_MEDIUM",
    "Medium",
    "Member",
    "SNR_CEILING_DB",
    "RadioParams",
    "Reception",
    "Transmission",
    "default_name",
    "free_space_path_loss",
    "noise_floor_dbm",
]

ENV_MEDIUM = "FIRMWARE_SIM_LORA_MEDIUM"
SETTLE_S = 0.01  # a frame is judged this long after its end: peers' overlapping frames have arrived
HISTORY_S = 60.0  # windows and frames older than this are forgotten (longer than any LoRa frame)


def default_name() -> str:
    """The medium a board joins unless told otherwise: ``$FIRMWARE_SIM_LORA_MEDIUM``, else ``lora``."""
    return os.environ.get(ENV_MEDIUM) or "lora"


_media: dict[str, Medium] = {}
_media_lock = threading.Lock()


class Medium:
    """The air shared by members. ``threaded``: a thread delivers frames when due; else the owner
    calls :meth:`poll` (tests with their own ``clock``)."""

    def __init__(self, name: str = "", *, clock: Callable[[], float] = time.monotonic, threaded: bool = True):
        self.name = name
        self.clock = clock
        self.lock = threading.RLock()
        self._wake = threading.Condition(self.lock)
        self._members: dict[str, Member] = {}
        self._air: list[Transmission] = []
        self._due: list[tuple[float, int, Transmission]] = []
        self._order = itertools.count()
        self._losses: dict[tuple[str, str], float] = {}
        self._distances: dict[tuple[str, str], float] = {}
        self._link: Link | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name=f"lora-medium-{name}", daemon=True)
            self._thread.start()

    @classmethod
    def named(cls, name: str, *, across_processes: bool = False, address: str | None = None) -> Medium:
        """This process's medium called ``name`` (created on first use, threaded). With
        ``across_processes`` it also meets the other processes' media of that name over loopback UDP,
        from ``address`` (default: the board's own, ``network.host.own_address()``)."""
        with _media_lock:
            medium = _media.get(name)
            if medium is None or medium._closed:
                medium = _media[name] = cls(name)
            if across_processes and medium._link is None:
                medium._link = Link(name, address or host.own_address(), medium._remote)
            return medium

    @classmethod
    def join(
        cls,
        name: str,
        member_id: str,
        on_receive: OnReceive | None = None,
        *,
        across_processes: bool = False,
        address: str | None = None,
    ) -> Member:
        """Join medium ``name`` as ``member_id``; ``on_receive(Reception)`` gets each frame heard."""
        medium = cls.named(name, across_processes=across_processes, address=address)
        return medium.member(member_id, on_receive)

    def member(self, member_id: str, on_receive: OnReceive | None = None) -> Member:
        """A new member of this medium (``ValueError`` if the id is already here)."""
        with self.lock:
            if member_id in self._members:
                raise ValueError(f"{member_id!r} is already a member of LoRa medium {self.name!r}")
            joined = self._members[member_id] = Member(self, member_id, on_receive)
            return joined

    def remove(self, member: Member) -> None:
        with self.lock:
            if self._members.get(member.id) is member:
                del self._members[member.id]

    def members(self) -> list[str]:
        with self.lock:
            return list(self._members)

    def set_path_loss(self, a: str, b: str, loss_db: float) -> None:
        """The path loss between members ``a`` and ``b`` (both directions), in dB."""
        with self.lock:
            self._losses[(a, b)] = self._losses[(b, a)] = float(loss_db)

    def set_distance(self, a: str, b: str, meters: float) -> None:
        """The distance between ``a`` and ``b``: their path loss is free space at each frequency."""
        with self.lock:
            self._distances[(a, b)] = self._distances[(b, a)] = float(meters)

    def path_loss(self, sender: str, receiver: str, freq_hz: int) -> float:
        with self.lock:
            loss = self._losses.get((sender, receiver))
            if loss is not None:
                return loss
            return free_space_path_loss(self._distances.get((sender, receiver), DEFAULT_DISTANCE_M), freq_hz)

    def transmit(self, tx: Transmission) -> Transmission:
        """Put ``tx`` on the air (and send it to the other processes of this medium)."""
        self._add(tx)
        link = self._link
        if link is not None:
            link.broadcast(encode(tx))
        return tx

    def _add(self, tx: Transmission) -> None:
        with self.lock:
            self._air.append(tx)
            heapq.heappush(self._due, (tx.end + SETTLE_S, next(self._order), tx))
            self._wake.notify_all()

    def _remote(self, data: bytes) -> None:
        self._add(decode(data))

    def peers(self) -> list[tuple[str, int]]:
        """The other processes' sockets on this medium name (none unless ``across_processes``)."""
        link = self._link
        return link.peers() if link is not None else []

    def on_air(self, at: float | None = None) -> list[Transmission]:
        """The transmissions on the air at ``at``/now."""
        now = self.clock() if at is None else at
        with self.lock:
            return [tx for tx in self._air if tx.start <= now < tx.end]

    def poll(self) -> int:
        """Deliver every frame due by now; returns how many receptions were delivered. A failing
        ``on_receive`` does not stop the others; the first failure is raised after them all."""
        delivered, errors = self._deliver_due()
        if errors:
            raise errors[0]
        return delivered

    def _deliver_due(self) -> tuple[int, list[Exception]]:
        calls: list[tuple[OnReceive, Reception]] = []
        with self.lock:
            now = self.clock()
            while self._due and self._due[0][0] <= now:
                tx = heapq.heappop(self._due)[2]
                for member in list(self._members.values()):
                    heard = member.hears(tx, self._air)
                    if heard is not None and member.on_receive is not None:
                        calls.append((member.on_receive, heard))
            horizon = now - HISTORY_S
            self._air = [tx for tx in self._air if tx.end >= horizon]
            for member in self._members.values():
                member.forget(horizon)
        errors: list[Exception] = []
        for call, reception in calls:
            try:
                call(reception)
            except Exception as err:
                errors.append(err)
        return len(calls), errors

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._closed:
                    return
                wait = (self._due[0][0] - self.clock()) if self._due else 1.0
                if wait > 0:
                    self._wake.wait(min(wait, 1.0))
                    continue
            _count, errors = self._deliver_due()
            for err in errors:
                traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)

    def close(self) -> None:
        """Stop delivering, leave the other processes; ``named`` makes a new one after this."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._link is not None:
            self._link.close()
            self._link = None
        with _media_lock:
            if _media.get(self.name) is self:
                del _media[self.name]
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
