"""The gateway's side of GWMP v2 without I/O: what to send when, what a datagram from the server means.

As Semtech's reference forwarder (``lora_pkt_fwd``, packet_forwarder v4) behaves: a ``PULL_DATA`` at
start and every ``keepalive`` seconds (``keepalive_interval``, 10 s in its global_conf.json), a
``PUSH_DATA`` with a ``stat`` object every ``stat_interval`` seconds (30 s) whose counters cover the
interval just ended (``rxnb``, ``rxok``, ``rxfw``, ``ackr`` = % of PUSH_DATA acknowledged, ``dwnb``,
``txnb``), a fresh random token per datagram, acknowledgements counted only when their token is one
the gateway sent, a ``PULL_RESP`` handed to the gateway as a :class:`Downlink` to answer with
:meth:`GatewayLink.tx_ack`. Times are the caller's monotonic seconds; nothing here reads a clock but
the wall time of the ``stat`` object (or the one given).
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .gwmp import (
    GwmpError,
    PullAck,
    PullData,
    PullResp,
    PushAck,
    PushData,
    RxPacket,
    TxAck,
    TxPacket,
    decode,
    encode,
)

__all__ = ["Acknowledged", "Downlink", "GatewayLink", "Ignored", "LinkStats"]

KEEPALIVE_S = 10.0
STAT_INTERVAL_S = 30.0
ACK_KINDS = ("PUSH_ACK", "PULL_ACK")
PENDING_MAX = 64  # tokens remembered per kind while waiting for their acknowledgement


@dataclass(frozen=True)
class Downlink:
    """A ``PULL_RESP``: emit ``txpk``, then answer with ``tx_ack(token, error)``."""

    token: int
    txpk: TxPacket


@dataclass(frozen=True)
class Acknowledged:
    """A ``PUSH_ACK`` or ``PULL_ACK`` for a datagram this gateway sent ``rtt`` seconds earlier."""

    kind: str  # "PUSH_ACK" or "PULL_ACK"
    token: int
    rtt: float


@dataclass(frozen=True)
class Ignored:
    """A datagram that means nothing here (malformed, a token never sent, a gateway's packet type)."""

    reason: str


Event = Downlink | Acknowledged | Ignored


@dataclass
class LinkStats:
    """Totals since start (the ``stat`` object reports per interval, as the reference forwarder)."""

    rx_received: int = 0  # rxnb
    rx_ok: int = 0  # rxok: CRC good
    rx_forwarded: int = 0  # rxfw
    push_sent: int = 0
    push_acked: int = 0
    pull_sent: int = 0
    pull_acked: int = 0
    downlinks: int = 0  # dwnb: PULL_RESP received
    tx_emitted: int = 0  # txnb
    tx_rejected: dict[str, int] = field(default_factory=dict)  # TX_ACK error -> count
    ignored: int = 0
    last_pull_ack: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "tx_rejected": dict(self.tx_rejected)}


class GatewayLink:
    """One gateway's protocol state toward one network server (gateway EUI ``eui``, 8 bytes).

    The caller sends every datagram a method returns to the server and feeds what arrives to
    :meth:`receive`; it calls :meth:`due` when :meth:`next_deadline` has come.
    """

    def __init__(
        self,
        eui: bytes,
        *,
        keepalive: float = KEEPALIVE_S,
        stat_interval: float = STAT_INTERVAL_S,
        position: tuple[float, float, int] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if len(eui) != 8:
            raise GwmpError(f"gateway EUI {eui!r} is not 8 bytes")
        if not keepalive > 0 or not stat_interval > 0:
            raise ValueError("keepalive and stat_interval must be above 0 seconds")
        self.eui = bytes(eui)
        self.keepalive = keepalive
        self.stat_interval = stat_interval
        self.position = position
        self.stats = LinkStats()
        self._rng = rng or random.Random()
        self._pending: dict[str, OrderedDict[int, float]] = {
            "PUSH_ACK": OrderedDict(),
            "PULL_ACK": OrderedDict(),
        }
        self._next_pull: float | None = None
        self._next_stat: float | None = None
        self._interval = LinkStats()  # counters of the current stat interval

    # -- what to send -----------------------------------------------------------------------------

    def _token(self, kind: str, now: float) -> int:
        token = self._rng.randrange(0x10000)
        pending = self._pending[kind]
        pending[token] = now
        while len(pending) > PENDING_MAX:
            pending.popitem(last=False)
        return token

    def start(self, now: float) -> list[bytes]:
        """The first ``PULL_DATA`` (the reference forwarder opens the downlink route at once)."""
        self._next_stat = now + self.stat_interval
        return [self._pull(now)]

    def _pull(self, now: float) -> bytes:
        self._next_pull = now + self.keepalive
        self.stats.pull_sent += 1
        return encode(PullData(self._token("PULL_ACK", now), self.eui))

    def push(self, packets: list[RxPacket], now: float) -> bytes:
        """A ``PUSH_DATA`` forwarding ``packets`` (heard with a good CRC, counted as forwarded)."""
        for counters in (self.stats, self._interval):
            counters.rx_forwarded += len(packets)
            counters.push_sent += 1
        return encode(PushData(self._token("PUSH_ACK", now), self.eui, tuple(packets)))

    def received(self, crc_ok: bool = True) -> None:
        """Count a frame the radio received (whether or not it is forwarded)."""
        for counters in (self.stats, self._interval):
            counters.rx_received += 1
            counters.rx_ok += int(crc_ok)

    def emitted(self) -> None:
        """Count a frame the radio emitted for a downlink."""
        for counters in (self.stats, self._interval):
            counters.tx_emitted += 1

    def stat_object(self, wall: float | None = None) -> dict[str, Any]:
        """The ``stat`` object of the interval now ending (``time`` in the 'expanded' UTC format)."""
        counters = self._interval
        stamp = time.strftime("%Y-%m-%d %H:%M:%S GMT", time.gmtime(time.time() if wall is None else wall))
        stat: dict[str, Any] = {"time": stamp}
        if self.position is not None:
            stat.update(lati=self.position[0], long=self.position[1], alti=self.position[2])
        ackr = 100.0 * counters.push_acked / counters.push_sent if counters.push_sent else 0.0
        stat.update(rxnb=counters.rx_received, rxok=counters.rx_ok, rxfw=counters.rx_forwarded)
        stat.update(ackr=round(ackr, 1), dwnb=counters.downlinks, txnb=counters.tx_emitted)
        return stat

    def due(self, now: float, wall: float | None = None) -> list[bytes]:
        """The keepalive and statistics datagrams due at ``now``."""
        out: list[bytes] = []
        if self._next_pull is None or now >= self._next_pull:
            out.append(self._pull(now))
        if self._next_stat is None:
            self._next_stat = now + self.stat_interval
        elif now >= self._next_stat:
            self._next_stat = now + self.stat_interval
            stat = self.stat_object(wall)
            self._interval = LinkStats()
            self._interval.push_sent = 1
            self.stats.push_sent += 1
            out.append(encode(PushData(self._token("PUSH_ACK", now), self.eui, (), stat)))
        return out

    def next_deadline(self) -> float:
        """When :meth:`due` has something to send next (``-inf`` before :meth:`start`)."""
        if self._next_pull is None or self._next_stat is None:
            return float("-inf")
        return min(self._next_pull, self._next_stat)

    def tx_ack(self, token: int, error: str | None = None) -> bytes:
        """The ``TX_ACK`` for the ``PULL_RESP`` of ``token``: accepted (``error`` None, no JSON, as
        the reference forwarder) or rejected with a ``TX_ERRORS`` value."""
        if error is not None and error != "NONE":
            self.stats.tx_rejected[error] = self.stats.tx_rejected.get(error, 0) + 1
        return encode(TxAck(token, self.eui, error))

    # -- what arrives -----------------------------------------------------------------------------

    def receive(self, datagram: bytes, now: float) -> list[Event]:
        """What ``datagram`` from the server means."""
        try:
            message = decode(datagram)
        except GwmpError as err:
            self.stats.ignored += 1
            return [Ignored(str(err))]
        if isinstance(message, (PushAck, PullAck)):
            kind = "PUSH_ACK" if isinstance(message, PushAck) else "PULL_ACK"
            sent = self._pending[kind].pop(message.token, None)
            if sent is None:
                self.stats.ignored += 1
                return [Ignored(f"{kind} with token {message.token:#06x}, which this gateway never sent")]
            if kind == "PUSH_ACK":
                self.stats.push_acked += 1
                self._interval.push_acked += 1
            else:
                self.stats.pull_acked += 1
                self.stats.last_pull_ack = now
            return [Acknowledged(kind, message.token, now - sent)]
        if isinstance(message, PullResp):
            self.stats.downlinks += 1
            self._interval.downlinks += 1
            return [Downlink(message.token, message.txpk)]
        self.stats.ignored += 1
        return [Ignored(f"{type(message).__name__} is a gateway's packet, not a server's")]
