"""A virtual LoRa gateway: a member of a LoRa medium that forwards what it hears to a network server over
Semtech's UDP packet-forwarder protocol (GWMP v2) and emits what the server sends back.

It behaves as an 8-channel concentrator running Semtech's reference forwarder (``lora_pkt_fwd``):

* it listens on its region's channels (:data:`REGION_CHANNELS`, or ``channels``) with every spreading
  factor at 125 kHz, non-inverted IQ (uplinks), and forwards each frame in a ``PUSH_DATA`` ``rxpk``
  (``tmst`` = its microsecond counter when the frame ended, ``time``, ``chan``, ``rfch``, ``freq``,
  ``stat``, ``modu``, ``datr``, ``codr``, ``rssi``, ``lsnr``, ``size``, ``data``);
* it keeps the downlink route open with ``PULL_DATA`` every ``keepalive`` seconds and reports ``stat``
  every ``stat_interval`` seconds (:class:`~network.lora.gwmp_link.GatewayLink`);
* each ``PULL_RESP`` is checked as the reference forwarder's just-in-time queue does (``TX_FREQ``
  outside the region's transmit band, ``TX_POWER`` outside -6..30 dBm, ``GPS_UNLOCKED`` for a GPS
  time, ``TOO_LATE`` under 32.5 ms ahead or past, ``TOO_EARLY`` over 512 s ahead, ``COLLISION_PACKET``
  overlapping a downlink already scheduled), answered with ``TX_ACK`` at once, and put on the air at
  its ``tmst`` (``imme``: 1 s from now, as the reference queue does) with its ``ipol``.

The counter runs ``time_scale`` times faster than the host's clock, as a board of ``--time-scale N``
does, so a server's ``tmst + 1 s`` lands in the RX1 window of nodes running at that scale. The server
must be on loopback unless ``allow_remote`` (the ``--allow-lan`` opt-in): anything else is refused with
a :class:`GatewayError` before anything is sent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from .air import RadioParams, Reception, Transmission
from .airtime import time_on_air
from .gwmp import RxPacket, TxPacket, format_eui
from .gwmp_link import Downlink, GatewayLink
from .medium import Medium, Member

__all__ = ["REGION_CHANNELS", "Gateway", "GatewayError", "check_server", "default_eui"]


def _mhz(*values: float) -> tuple[int, ...]:
    return tuple(round(v * 1_000_000) for v in values)


# an 8-channel concentrator's usual receive channels and its transmit band, per region (Hz)
REGION_CHANNELS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "EU868": (_mhz(868.1, 868.3, 868.5, 867.1, 867.3, 867.5, 867.7, 867.9), _mhz(863, 870)),
    "US915": (_mhz(903.9, 904.1, 904.3, 904.5, 904.7, 904.9, 905.1, 905.3), _mhz(923, 928)),
    "AU915": (_mhz(916.8, 917.0, 917.2, 917.4, 917.6, 917.8, 918.0, 918.2), _mhz(915, 928)),
    "AS923": (_mhz(923.2, 923.4, 922.2, 922.4, 922.6, 922.8, 923.0, 922.0), _mhz(915, 928)),
    "IN865": (_mhz(865.0625, 865.4025, 865.985), _mhz(865, 867)),
    "CN470": (_mhz(470.3, 470.5, 470.7, 470.9, 471.1, 471.3, 471.5, 471.7), _mhz(500, 510)),
}
SPREADING_FACTORS = (7, 8, 9, 10, 11, 12)
TX_POWER_RANGE = (-6, 30)  # dBm
TOO_LATE_US = 1500 + 1000 + 30000  # TX_START_DELAY + TX_MARGIN_DELAY + TX_JIT_DELAY (jitqueue.c)
TOO_EARLY_US = (3 + 1) * 128 * 1_000_000  # TX_MAX_ADVANCE_DELAY
MARGIN_US = 1000  # TX_MARGIN_DELAY between two downlinks
IMMEDIATE_US = 1_000_000  # an "imme" downlink goes 1 s from now (jit_enqueue's ASAP)
WRAP = 1 << 32


class GatewayError(ValueError):
    """A gateway setting that cannot work; one line saying what to give instead."""


def default_eui(member_id: str) -> bytes:
    """An EUI for a gateway without one: Pycom's nano-gateway style (``xxxxxxFFFExxxxxx``), from the id."""
    digest = hashlib.sha256(f"firmware-sim-gateway/{member_id}".encode()).digest()
    return digest[:3] + b"\xff\xfe" + digest[3:6]


def check_server(text: str, allow_remote: bool = False) -> tuple[str, int]:
    """``HOST:PORT`` of the network server, as an address to send to. Without ``allow_remote`` only
    loopback (127.0.0.0/8, ``::1``, ``localhost``) and no name is looked up."""
    host, sep, port_text = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise GatewayError(f"{text}: the network server's address is not HOST:PORT (e.g. 127.0.0.1:1700)")
    port = int(port_text)
    if host.lower() == "localhost":
        return "127.0.0.1", port
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and address.is_loopback:
        return str(address), port
    if not allow_remote:
        raise GatewayError(
            f"{text} is not on this machine: the gateway only sends to loopback (127.0.0.0/8, ::1, "
            "localhost) unless you pass --allow-lan"
        )
    try:
        return str(socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]), port
    except OSError as err:
        raise GatewayError(f"{text}: cannot resolve {host} ({err.strerror or err})") from None


class Gateway:
    """A running virtual gateway (``start()``/``stop()``, or a ``with`` block)."""

    def __init__(
        self,
        medium: Medium | str,
        server: tuple[str, int],
        *,
        eui: bytes | None = None,
        member_id: str | None = None,
        region: str = "EU868",
        channels: tuple[int, ...] | None = None,
        keepalive: float = 10.0,
        stat_interval: float = 30.0,
        time_scale: float = 1.0,
        bind: str = "127.0.0.1",
        across_processes: bool = False,
        tmst_offset: int = 0,
        links: dict[str, tuple[str, float]] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if region not in REGION_CHANNELS:
            raise GatewayError(f"region '{region}' is not one of {', '.join(REGION_CHANNELS)}")
        if not time_scale > 0:
            raise GatewayError("time scale must be above 0")
        self.member_id = member_id or bind  # boards are members by their address: --lora-link names it
        self.eui = eui or default_eui(self.member_id)
        self.server = server
        self.region = region
        self.channels = channels or REGION_CHANNELS[region][0]
        self.tx_band = REGION_CHANNELS[region][1]
        self.time_scale = time_scale
        self.link = GatewayLink(self.eui, keepalive=keepalive, stat_interval=stat_interval)
        self._medium_arg = medium
        self._across = across_processes
        self._bind = bind
        self._links = dict(links or {})
        self._log = log or (lambda _line: None)
        self._clock: Callable[[], float] = time.monotonic  # the medium's, once joined
        self._epoch = self._clock()
        self._offset = tmst_offset
        self._lock = threading.RLock()
        self._scheduled: list[tuple[float, float]] = []  # host (start - pre delay, end) of downlinks
        self._sock: socket.socket | None = None
        self._member: Member | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.rejected: dict[str, int] = {}
        self.transmitted: list[TxPacket] = []

    # -- the gateway's clock ----------------------------------------------------------------------------

    def tmst(self, host_time: float | None = None) -> int:
        """The concentrator's 32-bit microsecond counter at host ``time.monotonic()`` ``host_time``."""
        moment = self._clock() if host_time is None else host_time
        return (math.floor((moment - self._epoch) * self.time_scale * 1e6) + self._offset) % WRAP

    def ahead_us(self, tmst: int, host_time: float | None = None) -> int:
        """How many counter µs ``tmst`` is ahead of now (negative: past), the nearest way round."""
        delta = (tmst - self.tmst(host_time)) % WRAP
        return delta - WRAP if delta >= WRAP // 2 else delta

    def host_time(self, tmst: int, now: float | None = None) -> float:
        """The host time at which the counter reads ``tmst`` (the nearest such moment)."""
        moment = self._clock() if now is None else now
        return moment + self.ahead_us(tmst, moment) / 1e6 / self.time_scale

    # -- life -------------------------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """The gateway's own UDP address (where the server's datagrams come to)."""
        if self._sock is None:
            raise RuntimeError("the gateway is not started")
        name = self._sock.getsockname()
        return name[0], name[1]

    def start(self) -> Gateway:
        family = socket.AF_INET6 if ":" in self.server[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((self._bind if family == socket.AF_INET else "::1", 0))
        sock.connect(self.server)
        self._sock = sock
        medium = self._medium_arg
        if isinstance(medium, str):
            medium = Medium.named(medium, across_processes=self._across, address=self._bind)
        self._member = medium.member(self.member_id, self._on_receive)
        self._clock = medium.clock
        self._epoch = self._clock()
        for peer, (kind, amount) in self._links.items():
            if kind == "loss":
                medium.set_path_loss(self.member_id, peer, amount)
            else:
                medium.set_distance(self.member_id, peer, amount)
        params = [RadioParams(f, sf, 125_000) for f in self.channels for sf in SPREADING_FACTORS]
        self._member.listen(*params)
        with self._lock:
            for datagram in self.link.start(time.monotonic()):
                self._send(datagram)
        self._thread = threading.Thread(target=self._run, name=f"gateway-{self.member_id}", daemon=True)
        self._thread.start()
        here, there = self.address, self.server
        plan = f"{len(self.channels)} channels ({self.region})"
        self._log(f"gateway {format_eui(self.eui)} on {here[0]}:{here[1]} -> {there[0]}:{there[1]}, {plan}")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        if self._member is not None:
            self._member.leave()
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """The link's totals (frames received/forwarded, datagrams acknowledged, downlinks) and the
        downlinks rejected per ``TX_ACK`` error."""
        with self._lock:
            return {**self.link.stats.as_dict(), "tmst": self.tmst(), "eui": format_eui(self.eui)}

    # -- uplinks ----------------------------------------------------------------------------------------

    def _send(self, datagram: bytes) -> None:
        if self._sock is None:
            return
        try:
            self._sock.send(datagram)
        except OSError as err:  # the server is not there (yet): UDP, as the forwarder, goes on
            self._log(f"gateway: send to {self.server[0]}:{self.server[1]} failed: {err.strerror or err}")

    def _on_receive(self, heard: Reception) -> None:
        """A frame the medium delivered (on its thread): forward it in a PUSH_DATA."""
        wall = time.time() - (self._clock() - heard.at)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{int(wall % 1 * 1e6):06d}Z"
        chan = min(range(len(self.channels)), key=lambda i: abs(self.channels[i] - heard.freq))
        packet = RxPacket(
            heard.payload,
            self.tmst(heard.at),
            heard.freq,
            heard.sf,
            heard.bw,
            heard.cr,
            round(heard.rssi),
            round(heard.snr, 1),
            chan,
            0 if chan < 4 else 1,
            time=stamp,
        )
        with self._lock:
            self.link.received(crc_ok=True)
            self._send(self.link.push([packet], time.monotonic()))
        radio = f"{heard.freq / 1e6:.6g} MHz {packet.datr} rssi {packet.rssi} snr {packet.lsnr}"
        self._log(f"gateway: uplink {len(heard.payload)} bytes, {radio}, tmst {packet.tmst}")

    # -- the server's side ------------------------------------------------------------------------------

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                for datagram in self.link.due(now):
                    self._send(datagram)
                wait = min(max(self.link.next_deadline() - now, 0.0), 0.2)
            try:
                ready, _, _ = select.select([sock], [], [], wait)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            try:
                datagram = sock.recv(65535)
            except OSError:  # ICMP port unreachable of an earlier send: the server is not up yet
                continue
            with self._lock:
                for event in self.link.receive(datagram, time.monotonic()):
                    if isinstance(event, Downlink):
                        self._downlink(event)

    def _downlink(self, event: Downlink) -> None:
        txpk = event.txpk
        error = self._schedule(txpk)
        self._send(self.link.tx_ack(event.token, error))
        if error is None:
            when = "now" if txpk.imme else f"tmst {txpk.tmst}"
            radio = f"{txpk.freq_hz / 1e6:.6g} MHz {txpk.datr}"
            self._log(f"gateway: downlink {len(txpk.data)} bytes, {radio}, at {when}")
        else:
            self.rejected[error] = self.rejected.get(error, 0) + 1
            self._log(f"gateway: downlink rejected: {error}")

    def _schedule(self, txpk: TxPacket) -> str | None:
        """Check ``txpk`` as lora_pkt_fwd and its JIT queue do; put it on the air. The TX_ACK error, or
        None when it was accepted."""
        if txpk.modu != "LORA":
            return "TX_FREQ"  # the medium carries LoRa only
        if not self.tx_band[0] <= txpk.freq_hz <= self.tx_band[1]:
            return "TX_FREQ"
        if not TX_POWER_RANGE[0] <= txpk.powe <= TX_POWER_RANGE[1]:
            return "TX_POWER"
        now = self._clock()
        if txpk.imme:
            ahead = IMMEDIATE_US
        elif txpk.tmst is not None:
            ahead = self.ahead_us(txpk.tmst, now)
        else:
            return "GPS_UNLOCKED"
        if ahead <= TOO_LATE_US:
            return "TOO_LATE"
        if ahead > TOO_EARLY_US:
            return "TOO_EARLY"
        start = now + ahead / 1e6 / self.time_scale
        preamble = txpk.prea or 8
        length = time_on_air(len(txpk.data), txpk.sf, txpk.bw_hz, txpk.cr, preamble, False, not txpk.ncrc)
        end = start + length / self.time_scale
        pre = (TOO_LATE_US - MARGIN_US) / 1e6 / self.time_scale
        margin = MARGIN_US / 1e6 / self.time_scale
        self._scheduled = [(s, e) for s, e in self._scheduled if e > now]
        if any(start - pre < e + margin and s < end + margin for s, e in self._scheduled):
            return "COLLISION_PACKET"
        self._scheduled.append((start - pre, end))
        assert self._member is not None
        radio = (txpk.freq_hz, txpk.sf, txpk.bw_hz, txpk.cr, txpk.ipol, float(txpk.powe))
        self._member.medium.transmit(Transmission(self.member_id, *radio, txpk.data, start, end, preamble))
        self.link.emitted()
        self.transmitted.append(txpk)
        return None
