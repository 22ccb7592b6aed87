# API stable: Device and the actions of macactions (see the docstring); later changes only add.
"""A sans-I/O LoRaWAN 1.0.2 Class A end device: LoRaMac-node as the Pycom firmware ships it
(``lib/lora/mac/LoRaMac.c`` + ``region/*`` at v1.20.2.r6) driven the way ``esp32/mods/modlora.c`` drives
it (join retried every 10 s until accepted, the duty cycle off, the socket's data rate, ``tx_retries``).

API stable (first landed with OTAA join, unconfirmed uplink, downlink; later additions are new
methods/fields only).

The device never reads a clock or touches a radio: every call takes the board time (seconds) and
returns the :mod:`.macactions` the host must carry out or report, in time order::

    Device(region: str, now: float = 0.0, *, adr: bool = False, seed: int | None = None)
    .join(dev_eui: bytes, app_eui: bytes, app_key: bytes, dr: int, now: float) -> list[Action]   # OTAA
    .activate_abp(dev_addr: int, nwk_skey: bytes, app_skey: bytes, now: float, net_id: int = 0)
        -> list[Action]
    .send(port: int, payload: bytes, now: float, confirmed: bool = False, dr: int | None = None,
          retries: int = 2) -> list[Action]            # modlora's E_LORA_CMD_LORAWAN_TX
    .link_check(now: float) -> list[Action]            # a LinkCheckReq rides on the next uplink
    .tick(now: float) -> list[Action]                  # fire the timers due by ``now``
    .next_deadline() -> float | None                   # when ``tick`` has something to do
    .detected(end: float, now: float) -> list[Action]  # the radio caught a preamble in the open window
    .received(frame: bytes, rssi: float, snr: float, at: float, start: float | None = None) -> list[Action]
    .payload_fits(length: int, dr: int, fopts_len: int = 0) -> bool   # ValidatePayloadLength
    .add_channel(index, freq_hz, dr_min, dr_max) -> None / .remove_channel(index) -> None  (MacError)
    .add_multicast(dev_addr, nwk_skey, app_skey) / .remove_multicast(dev_addr)
    .save() -> dict;  .restore(saved: dict) -> None    # LoRa.nvram_save / restore: a joined ABP session
    attributes: .joined, .dev_addr, .fcnt_up, .fcnt_down, .datarate, .busy(), .adr (settable),
                .battery (settable, 0..255: DevStatusAns), .region, .figures, .plan, .params, .session

Host loop: perform each :class:`Transmit` at ``at`` (the device assumes the radio's TxDone at
``at + airtime``) and each :class:`OpenWindow` (listen from ``at`` for ``length`` s on ``freq_hz``/``sf``/
``bw_hz`` with inverted IQ); call ``tick(t)`` when ``t >= next_deadline()``; report a frame caught by an
open window with ``received(frame, rssi, snr, at=end, start=start)`` -- before ticking past the end of
the window that caught it, or call ``detected(end, now)`` when the preamble is caught so that the
window does not time out meanwhile (a detected frame not reported within 0.1 s of ``end`` is an RX
error: lost). A frame reported without ``detected`` after its window timed out is still taken while
the exchange lasts (until the next 1 s state check after RX2). While RX1 still receives, the device
does not open RX2, as the firmware. With :mod:`.medium`: at an :class:`OpenWindow`'s ``end`` the
host can look at ``medium.on_air()`` for a matching transmission whose preamble the window caught and
call ``detected`` before ``tick``; the :class:`Reception` then goes to ``received``.
"""

from __future__ import annotations

import random
from typing import Any

from . import frames
from .fixedplan import make_plan
from .macactions import (
    MAC_BUSY,
    MAC_LENGTH_ERROR,
    MAC_OK,
    MAC_PARAMETER_INVALID,
    STATUS_ERROR,
    Action,
    MacError,
    SendRefused,
)
from .maccommands import LINK_CHECK_REQ, add_answer
from .macengine import Mcps
from .macexchange import MacExchange
from .macrx import rx_done
from .macstate import MacParams, Session
from .plan import STATUS_OK as CHANNEL_OK

__all__ = ["JOIN_RETRY_S", "Device"]

JOIN_RETRY_S = 10.0  # modlora.c OVER_THE_AIR_ACTIVATION_DUTYCYCLE
RX_ERROR_GRACE_MS = 100.0  # a detected frame not reported this long after its end was lost (RxError)


class Device(MacExchange):
    """One LoRaWAN end device of a region (``"EU868"``, ``"US915"``, ``"AS923"``, ``"AU915"``,
    ``"CN470"``, ``"IN865"``)."""

    def __init__(self, region: str, now: float = 0.0, *, adr: bool = False, seed: int | None = None) -> None:
        super().__init__(make_plan(region), now, random.Random(seed))
        self.region = region
        self.adr = adr
        self.handlers["next_act"] = self.on_next_act
        self.lora_joined = False  # modlora's lora_obj.joined
        self.otaa: tuple[bytes, bytes, bytes, int] | None = None

    # -- what the host reads ----------------------------------------------------------------------

    @property
    def joined(self) -> bool:
        return self.lora_joined

    @property
    def dev_addr(self) -> int:
        return self.session.dev_addr

    @property
    def fcnt_up(self) -> int:
        return self.session.fcnt_up

    @property
    def fcnt_down(self) -> int:
        return self.session.fcnt_down

    @property
    def datarate(self) -> int:
        return self.params.datarate

    def next_deadline(self) -> float | None:
        return min(self.timers.values()) / 1000.0 if self.timers else None

    def flush(self) -> list[Action]:
        out, self.out = self.out, []
        return out

    # -- events -----------------------------------------------------------------------------------

    def tick(self, now: float) -> list[Action]:
        self.advance(now * 1000.0)
        return self.flush()

    def detected(self, end: float, now: float) -> list[Action]:
        self.advance(now * 1000.0)
        if self.radio == "rx":
            self.stop("rx_timeout")
            self.timers["rx_error"] = end * 1000.0 + RX_ERROR_GRACE_MS
        return self.flush()

    def received(
        self, frame: bytes, rssi: float, snr: float, at: float, start: float | None = None
    ) -> list[Action]:
        if start is not None:
            self.advance(min(start, at) * 1000.0)
        if self.radio == "rx":
            self.stop("rx_timeout")
            self.stop("rx_error")
        elif not (self.tx_running and self.radio == "idle" and self.windows_opened):
            self.advance(at * 1000.0)
            return self.flush()  # the receiver was off
        self.advance(at * 1000.0)
        if self.radio != "tx":
            rx_done(self, bytes(frame), round(rssi), round(snr))
        return self.flush()

    # -- requests (modlora's task) -------------------------------------------------------------------

    def join(self, dev_eui: bytes, app_eui: bytes, app_key: bytes, dr: int, now: float) -> list[Action]:
        """``LoRa.join(activation=LoRa.OTAA, ...)``: a JoinRequest now and every 10 s until accepted."""
        self.advance(now * 1000.0)
        self.otaa = (bytes(dev_eui), bytes(app_eui), bytes(app_key), dr)
        self.lora_joined = False
        self.join_state()
        return self.flush()

    def join_state(self) -> None:
        """modlora's E_LORA_STATE_JOIN for OTAA: restart the 10 s timer, ask the MAC to join."""
        self.stop("next_act")
        if self.lora_joined or self.otaa is None:
            return
        self.start("next_act", JOIN_RETRY_S * 1000)
        self.mlme_join(*self.otaa)

    def on_next_act(self) -> None:
        """``OnTxNextActReqTimerEvent``."""
        if self.session.joined:
            self.lora_joined = True
        else:
            self.join_state()

    def mlme_join(self, dev_eui: bytes, app_eui: bytes, app_key: bytes, dr: int) -> str:
        """``LoRaMacMlmeRequest(MLME_JOIN)``."""
        if self.busy():
            return MAC_BUSY
        self.mlme_status, self.link_answer = STATUS_ERROR, None
        self.mlme_req = "join"
        self.dev_eui, self.app_eui, self.app_key = dev_eui, app_eui, app_key
        self.join_trials = 0
        self.reset_mac_parameters()
        trials = self.plan.force_join_trials(dr, self.join_trials + 1)
        self.params.datarate = self.plan.alternate_dr(trials)
        status = self.send_frame(frames.JOIN_REQUEST, 0, None)
        if status != MAC_OK:
            self.node_ack_requested = False
            self.mlme_req = ""
        return status

    def activate_abp(
        self, dev_addr: int, nwk_skey: bytes, app_skey: bytes, now: float, net_id: int = 0
    ) -> list[Action]:
        """``LoRa.join(activation=LoRa.ABP, ...)``: the session is set, nothing is sent."""
        self.advance(now * 1000.0)
        self.otaa = None
        self.stop("next_act")
        session = self.session
        session.activation, session.net_id, session.dev_addr = "ABP", net_id, dev_addr & 0xFFFFFFFF
        session.nwk_skey, session.app_skey = bytes(nwk_skey), bytes(app_skey)
        session.joined = self.lora_joined = True
        return self.flush()

    def send(
        self,
        port: int,
        payload: bytes | None,
        now: float = 0.0,
        confirmed: bool = False,
        dr: int | None = None,
        retries: int = 2,
    ) -> list[Action]:
        """``LoRa`` socket send: modlora's E_LORA_CMD_LORAWAN_TX then ``LoRaMacMcpsRequest``. With a
        payload too long for the data rate (after pending MAC answers) modlora sends an empty frame to
        flush the MAC commands and reports a size error (:class:`SendRefused` ``msg_size``)."""
        self.advance(now * 1000.0)
        request_dr = self.params.datarate if dr is None else dr
        saved_dr = self.params.datarate
        if not self.adr and self.plan.verify_tx_dr(request_dr, self.params.uplink_dwell):
            self.params.datarate = request_dr
        empty = not self.query_tx_possible(len(payload or b""))
        if not self.adr:
            self.params.datarate = saved_dr
        kind = "confirmed" if confirmed and not empty else "unconfirmed"
        status = self.mcps_request(kind, port, None if empty else payload, request_dr, retries + 1)
        if status != MAC_OK or empty:
            self.out.append(SendRefused(self.at, status if status != MAC_OK else MAC_LENGTH_ERROR, empty))
        return self.flush()

    def query_tx_possible(self, size: int) -> bool:
        """``LoRaMacQueryTxPossible``: drops pending MAC answers that would not fit at all."""
        session, p = self.session, self.params
        fopts = len(session.mac_commands) + len(session.mac_commands_repeat)
        _, dr, _, session.adr_ack_counter = self.plan.adr_next(
            self.adr, session.adr_ack_counter, p.datarate, p.tx_power, p.uplink_dwell, False
        )
        if self.plan.max_payload(dr, p.uplink_dwell) < fopts:
            fopts = 0
            session.mac_commands, session.mac_commands_repeat = bytearray(), bytearray()
        return self.payload_fits(size, dr, fopts)

    def mcps_request(self, kind: str, port: int, payload: bytes | None, dr: int, nb_trials: int) -> str:
        """``LoRaMacMcpsRequest``."""
        if self.busy():
            return MAC_BUSY
        self.mcps = Mcps()
        self.ack_timeout_retries_counter = 1
        self.ack_timeout_retries = nb_trials if kind == "confirmed" else 1
        if not 0 <= port <= 224:
            return MAC_PARAMETER_INVALID
        dr = max(dr, self.plan.min_tx_dr(self.params.uplink_dwell))
        if not self.adr:
            if not self.plan.verify_tx_dr(dr, self.params.uplink_dwell):
                return MAC_PARAMETER_INVALID
            self.params.datarate = dr
        mtype = frames.CONFIRMED_UP if kind == "confirmed" else frames.UNCONFIRMED_UP
        status = self.send_frame(mtype, port, payload)
        if status == MAC_OK:
            self.mcps.request = kind
            self.mcps_req = True
        else:
            self.node_ack_requested = False
        return status

    def link_check(self, now: float) -> list[Action]:
        """``LoRaMacMlmeRequest(MLME_LINK_CHECK)``: :class:`LinkChecked` when the answer comes."""
        self.advance(now * 1000.0)
        if self.tx_running:
            raise MacError(MAC_BUSY)
        self.mlme_status, self.link_answer = STATUS_ERROR, None
        self.mlme_req = "link_check"
        if not add_answer(self.session, LINK_CHECK_REQ):
            self.mlme_req = ""
            raise MacError(MAC_BUSY)
        return self.flush()

    # -- configuration ----------------------------------------------------------------------------

    def add_channel(self, index: int, freq_hz: int, dr_min: int, dr_max: int) -> None:
        """``RegionChannelManualAdd`` (``LoRa.add_channel``)."""
        status = self.plan.add_channel(index, freq_hz, dr_min, dr_max)
        if status != CHANNEL_OK:
            raise MacError(("OK", "BUSY", "SERVICE_UNKNOWN", "PARAMETER_INVALID", "FREQUENCY_INVALID",
                            "DATARATE_INVALID", "FREQ_AND_DR_INVALID")[status])  # fmt: skip

    def remove_channel(self, index: int) -> None:
        """``RegionChannelsManualRemove`` (``LoRa.remove_channel``)."""
        if not self.plan.remove_channel(index):
            raise MacError(MAC_PARAMETER_INVALID)

    def add_multicast(self, dev_addr: int, nwk_skey: bytes, app_skey: bytes) -> None:
        """``LoRaMacMulticastChannelLink``: its downlink counter starts at 0."""
        self.multicast[dev_addr & 0xFFFFFFFF] = (bytes(nwk_skey), bytes(app_skey))
        self.multicast_fcnt[dev_addr & 0xFFFFFFFF] = 0

    def remove_multicast(self, dev_addr: int) -> None:
        self.multicast.pop(dev_addr & 0xFFFFFFFF, None)
        self.multicast_fcnt.pop(dev_addr & 0xFFFFFFFF, None)

    def save(self) -> dict[str, Any]:
        """``LoRaMacNvsSave``: parameters, channels, counters, keys, pending MAC answers."""
        return {
            "region": self.region,
            "params": self.params.save(),
            "plan": self.plan.save(),
            "session": self.session.save(),
        }

    def restore(self, saved: dict[str, Any]) -> None:
        """modlora's restore at ``LoRa.nvram_restore()`` + init: a joined ABP session."""
        if saved.get("region") != self.region:
            raise ValueError("a session of another region")
        self.params = MacParams.restore(saved["params"])
        self.plan.restore(saved["plan"])
        self.session = Session.restore(saved["session"])
        self.lora_joined = True
        self.otaa = None
