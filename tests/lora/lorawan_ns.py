"""A LoRaWAN 1.0.2 network server and its gateway radio for the tests of ``network.LoRa``'s LoRaWAN mode:
a member of a LoRa medium listening on EU868's three default channels at SF7..SF12, answering a
JoinRequest with a JoinAccept in RX1 (5 s after the request) and a data uplink with a downlink in RX1
(1 s after) when one is queued or the uplink was confirmed (then with ACK).

The LoRaWAN side is lora-packet's (npm, through ``lorapacket_oracle``), an implementation we did not
write: it checks each MIC, decrypts each payload, derives the session keys and builds the JoinAccept and
the downlinks, so a node that works with this server speaks LoRaWAN, not merely our own codec.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from network.lora import frames
from network.lora.air import RadioParams, Reception, Transmission
from network.lora.airtime import time_on_air
from network.lora.medium import Medium

EU868_UPLINK = (868_100_000, 868_300_000, 868_500_000)
JOIN_ACCEPT_DELAY1, RECEIVE_DELAY1 = 5.0, 1.0


@dataclass
class Uplink:
    port: int | None
    payload: bytes
    fcnt: int
    confirmed: bool
    mic_ok: bool
    rssi: float
    dev_addr: int
    fopts: bytes = b""  # MAC commands (answers) in the header


class NetworkServer:
    """The server (one device) on medium ``medium`` as member ``member_id``; ``scale``: the board's
    ``--time-scale`` (its RX windows open that much sooner on the host)."""

    def __init__(
        self,
        oracle,
        medium: str,
        member_id: str,
        app_key: bytes,
        *,
        dev_addr: int = 0x26011BDA,
        across: bool = False,
        scale: float = 1.0,
        abp_keys: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.oracle = oracle
        self.app_key = app_key
        self.dev_addr = dev_addr
        self.scale = scale
        self.keys = abp_keys  # (NwkSKey, AppSKey) once joined
        self.joins: list[tuple[str, str, str]] = []  # (dev_eui, app_eui, dev_nonce) as printed
        self.uplinks: list[Uplink] = []
        self.sent: list[bytes] = []
        self.downlinks: list[tuple[int, bytes, bytes]] = []  # queued (port, payload, fopts)
        self.fcnt_down = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        address = member_id if across else None
        self.member = Medium.join(medium, member_id, self.heard, across_processes=across, address=address)
        self.member.listen(*(RadioParams(f, sf, 125_000) for f in EU868_UPLINK for sf in range(7, 13)))

    def queue_downlink(self, port: int, payload: bytes, fopts: bytes = b"") -> None:
        """Send ``payload`` on ``port`` (and MAC commands ``fopts``) after the next uplink."""
        with self.lock:
            self.downlinks.append((port, payload, fopts))

    def wait(self, predicate, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    def heard(self, rec: Reception) -> None:
        """The gateway heard ``rec`` (the medium's thread)."""
        with self.changed:
            decoded = self.oracle.call("decode", frame=rec.payload, app_key=self.app_key)
            if decoded["mtype"] == "Join Request":
                self._join(rec, decoded)
            elif decoded["mtype"] in ("Unconfirmed Data Up", "Confirmed Data Up") and self.keys:
                self._uplink(rec, decoded["mtype"] == "Confirmed Data Up")
            self.changed.notify_all()

    def _join(self, rec: Reception, request: dict) -> None:
        if not request.get("mic_ok"):
            return
        self.joins.append((request["dev_eui"], request["app_eui"], request["dev_nonce"]))
        app_nonce, net_id = f"{0xA1B200 + len(self.joins):06x}", "000013"
        accept = self.oracle.call("join_accept", app_key=self.app_key, app_nonce=app_nonce, net_id=net_id,
                                  dev_addr=f"{self.dev_addr:08x}", dl_settings=0, rx_delay=1)  # fmt: skip
        keys = self.oracle.call("session_keys", app_key=self.app_key, net_id=net_id, app_nonce=app_nonce,
                                dev_nonce=request["dev_nonce"])  # fmt: skip
        self.keys = (bytes.fromhex(keys["nwk_skey"]), bytes.fromhex(keys["app_skey"]))
        self.fcnt_down = 0
        self._reply(bytes.fromhex(accept["frame"]), rec, JOIN_ACCEPT_DELAY1)

    def _uplink(self, rec: Reception, confirmed: bool) -> None:
        assert self.keys is not None
        nwk, app = self.keys
        up = self.oracle.call("decode", frame=rec.payload, nwk_skey=nwk, app_skey=app)
        dev_addr = int(up["dev_addr"], 16)
        payload = bytes.fromhex(up.get("payload") or "")
        fopts = bytes.fromhex(up.get("fopts") or "")
        uplink = Uplink(up["fport"], payload, up["fcnt"], confirmed, up["mic_ok"], rec.rssi, dev_addr, fopts)
        self.uplinks.append(uplink)
        if not up["mic_ok"] or dev_addr != self.dev_addr or not (self.downlinks or confirmed):
            return
        if self.downlinks:
            port, data, fopts = self.downlinks.pop(0)
            down = self.oracle.call("data", mtype="Unconfirmed Data Down", dev_addr=f"{dev_addr:08x}",
                                    fcnt=self.fcnt_down, fport=port, payload=data, ack=confirmed,
                                    fopts=fopts, nwk_skey=nwk, app_skey=app)  # fmt: skip
            frame = bytes.fromhex(down["frame"])
        else:  # an empty ACK (no FPort), which lora-packet cannot build: ours, checked by lora-packet
            frame = frames.data_frame(frames.UNCONFIRMED_DOWN, dev_addr, self.fcnt_down, nwk, app, ack=True)
            assert self.oracle.call("decode", frame=frame, nwk_skey=nwk, app_skey=app)["mic_ok"]
        self.fcnt_down += 1
        self._reply(frame, rec, RECEIVE_DELAY1)

    def _reply(self, frame: bytes, rec: Reception, delay: float) -> None:
        """Send ``frame`` in RX1: the uplink's channel and data rate, inverted IQ, ``delay`` board
        seconds after the uplink ended."""
        start = rec.at + delay / self.scale
        end = start + time_on_air(len(frame), rec.sf, rec.bw, 1) / self.scale
        tx = Transmission(self.member.id, rec.freq, rec.sf, rec.bw, 1, True, 14.0, frame, start, end)
        self.member.medium.transmit(tx)
        self.sent.append(frame)

    def close(self) -> None:
        self.member.leave()
