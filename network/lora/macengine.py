"""The inside of the LoRaWAN device: LoRaMac-node's uplink path and timers (``lib/lora/mac/LoRaMac.c``,
firmware 1.20.2.r6) with time passed in. ``PrepareFrame``, ``ScheduleTx``, ``SendFrameOnChannel``,
``OnRadioTxDone``, the RX window timers and ``OnMacStateCheckTimerEvent`` keep their firmware
names in snake case; :mod:`.macrx` is ``OnRadioRxDone``; :mod:`.mac` the public device on top.

Time inside is milliseconds of the board clock (the firmware's timers count ms); actions carry seconds.
Timers are absolute due times in :attr:`MacEngine.timers`; :meth:`MacEngine.advance` fires them in
order. Pycom's changes are kept: the duty cycle is off (``LoRaMacTestSetDutyCycleOn(false)`` in
modlora), a failed join is not retried by the MAC, the RX window symbol timeout is tripled in most
regions, the join data rate is forced (``RegionForceJoinDataRate``).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import airtime, frames
from .macactions import (
    MAC_DEVICE_OFF,
    MAC_LENGTH_ERROR,
    MAC_NO_NETWORK_JOINED,
    MAC_OK,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_RX1_ERROR,
    STATUS_RX1_TIMEOUT,
    STATUS_RX2_ERROR,
    STATUS_RX2_TIMEOUT,
    Action,
    OpenWindow,
    Transmit,
)
from .maccommands import sticky_answers
from .macstate import MacParams, Session
from .plan import ChannelPlan

__all__ = ["LORAMAC_PHY_MAXPAYLOAD", "Indication", "MacEngine", "Mcps"]

MAC_STATE_CHECK_TIMEOUT = 1000
MAX_ACK_RETRIES = 8
LORAMAC_PHY_MAXPAYLOAD = 255
FOPTS_MAX = 15


class Mcps:
    """The MCPS/MLME confirm and indication fields LoRaMac-node fills during an exchange."""

    def __init__(self) -> None:
        self.request = ""  # "unconfirmed" / "confirmed" / "" (McpsConfirm.McpsRequest)
        self.status = STATUS_ERROR
        self.ack_received = False
        self.nb_retries = 0
        self.datarate = 0
        self.tx_power = 0
        self.freq = 0
        self.time_on_air = 0
        self.fcnt_up = 0


class Indication:
    """``McpsIndication_t``: the downlink being handled."""

    def __init__(self) -> None:
        self.status = STATUS_ERROR
        self.kind = "unconfirmed"  # confirmed / unconfirmed / multicast / proprietary
        self.timestamp = 0.0
        self.rssi = self.snr = self.slot = self.port = self.rx_dr = self.fcnt_down = 0
        self.multicast = self.fpending = self.rx_data = self.ack = False
        self.payload = b""


class MacEngine:
    """LoRaMac-node's state machine for one region, without I/O."""

    def __init__(self, plan: ChannelPlan, now: float, rng: random.Random) -> None:
        self.plan = plan
        self.figures = plan.figures
        self.rng = rng
        self.defaults = MacParams.defaults(self.figures)
        self.params = self.defaults.copy()
        self.session = Session()
        self.adr = False
        self.duty_cycle_on = False  # modlora: LoRaMacTestSetDutyCycleOn(false)
        self.battery = 255  # BoardGetBatteryLevel before LoRa.set_battery_level
        self.now_ms = now * 1000.0
        self.init_ms = self.now_ms
        self.timers: dict[str, float] = {}
        self.handlers: dict[str, Callable[[], None]] = {
            "state_check": self.on_mac_state_check,
            "tx_done": self.on_radio_tx_done,
            "rx1": self.on_rx_window1,
            "rx2": self.on_rx_window2,
            "rx_timeout": self.on_radio_rx_timeout,
            "rx_error": self.on_radio_rx_error,
            "ack_timeout": self.on_ack_timeout,
            "tx_delayed": self.on_tx_delayed,
        }
        self.out: list[Action] = []
        # LoRaMacState bits and LoRaMacFlags
        self.tx_running = self.tx_delayed = self.rx_abort = False
        self.mcps_req = self.mcps_ind = self.mcps_ind_skip = self.mac_done = self.mlme_ind = False
        self.mlme_req = ""  # "join" / "link_check" / ""
        self.mcps = Mcps()
        self.mlme_status = STATUS_ERROR
        self.link_answer: tuple[int, int] | None = None
        self.ind = Indication()
        self.radio = "idle"  # idle / tx / rx
        self.rx_slot = 0
        self.windows_opened = 0
        self.node_ack_requested = self.srv_ack_flag = False
        self.ack_timeout_retries = self.ack_timeout_retries_counter = 1
        self.ack_timeout_retry = False
        self.nb_rep_counter = 0
        self.channel = self.last_tx_channel = 0
        self.last_tx_is_join = False
        self.tx_time_on_air = 0
        self.aggr_last_tx_done = 0.0
        self.aggr_time_off = 0.0
        self.join_trials = 0
        self.dev_eui = self.app_eui = self.app_key = b""
        self.dev_nonce = 0
        self.buffer = b""
        self.tx_payload_len = 0
        self.rx1_window: tuple[int, int, int] = (0, 0, 0)  # (dr, symbols, offset ms)
        self.rx2_window: tuple[int, int, int] = (0, 0, 0)
        self.rx1_delay = self.rx2_delay = 0
        self.window_end = 0.0
        self.multicast: dict[int, tuple[bytes, bytes]] = {}  # addr -> (nwk_skey, app_skey)
        self.multicast_fcnt: dict[int, int] = {}

    # -- time ---------------------------------------------------------------------------------------

    def advance(self, now_ms: float) -> None:
        """Fire every timer due at or before ``now_ms``, in order."""
        while self.timers:
            name, due = min(self.timers.items(), key=lambda item: item[1])
            if due > now_ms + 1e-6:  # board seconds and milliseconds round differently
                break
            del self.timers[name]
            self.now_ms = max(self.now_ms, due)
            self.handlers[name]()
        self.now_ms = max(self.now_ms, now_ms)

    def start(self, name: str, delay_ms: float) -> None:
        self.timers[name] = self.now_ms + delay_ms

    def stop(self, name: str) -> None:
        self.timers.pop(name, None)

    @property
    def at(self) -> float:
        return self.now_ms / 1000.0

    # -- frames -------------------------------------------------------------------------------------

    def reset_mac_parameters(self) -> None:
        """``ResetMacParameters`` (a join starts from here)."""
        self.session.reset_counters()
        self.ack_timeout_retries = self.ack_timeout_retries_counter = 1
        self.ack_timeout_retry = False
        self.nb_rep_counter = 0
        self.params.reset_from(self.defaults)
        self.node_ack_requested = False
        for addr in self.multicast_fcnt:
            self.multicast_fcnt[addr] = 0
        self.channel = self.last_tx_channel = 0

    def prepare_frame(self, kind: int, port: int, payload: bytes | None) -> str:
        """``PrepareFrame``: the frame in :attr:`buffer`; a LORAMAC_STATUS name."""
        self.node_ack_requested = False
        payload = payload or b""
        self.tx_payload_len = len(payload)
        session = self.session
        if kind == frames.JOIN_REQUEST:
            self.dev_nonce = self.rng.getrandbits(16)
            self.buffer = frames.join_request(self.app_eui, self.dev_eui, self.dev_nonce, self.app_key)
            return MAC_OK
        if kind == frames.CONFIRMED_UP:
            self.node_ack_requested = True
        if not session.joined:
            return MAC_NO_NETWORK_JOINED
        p = self.params
        adr_ack_req, p.datarate, p.tx_power, session.adr_ack_counter = self.plan.adr_next(
            self.adr, session.adr_ack_counter, p.datarate, p.tx_power, p.uplink_dwell, True
        )
        ack = session.srv_ack_requested
        session.srv_ack_requested = False
        session.mac_commands += session.mac_commands_repeat
        commands = bytes(session.mac_commands)
        fopts = b""
        frame_port: int | None = port
        if payload:
            if session.mac_commands_in_next_tx:
                if len(commands) <= FOPTS_MAX:
                    fopts = commands
                else:
                    payload, frame_port = commands, 0
        elif commands and session.mac_commands_in_next_tx:
            payload, frame_port = commands, 0
        self.tx_payload_len = len(payload)
        session.mac_commands_in_next_tx = False
        session.mac_commands_repeat = bytearray(sticky_answers(commands))
        if session.mac_commands_repeat:
            session.mac_commands_in_next_tx = True
        if not payload:
            frame_port = None
        elif frame_port == 0:
            session.mac_commands = bytearray()
        self.buffer = frames.data_frame(
            kind, session.dev_addr, session.fcnt_up, session.nwk_skey, session.app_skey,
            port=frame_port, payload=payload, fopts=fopts, adr=self.adr, ack=ack, adr_ack_req=adr_ack_req,
        )  # fmt: skip
        return MAC_OK

    def payload_fits(self, length: int, dr: int, fopts_len: int = 0) -> bool:
        """``ValidatePayloadLength``: application payload plus FOpts within the data rate's limit."""
        size = length + fopts_len
        return size <= self.plan.max_payload(dr, self.params.uplink_dwell) and size <= LORAMAC_PHY_MAXPAYLOAD

    # -- scheduling and sending -----------------------------------------------------------------------

    def schedule_tx(self) -> str:
        """``ScheduleTx``: pick a channel, compute the RX windows, send now or after the time-off."""
        session, p, plan = self.session, self.params, self.plan
        if session.max_dcycle == 255:
            return MAC_DEVICE_OFF
        if session.max_dcycle == 0:
            self.aggr_time_off = 0
        band_of_last = self.last_tx_channel
        plan.calc_backoff(band_of_last, session.joined, self.duty_cycle_on, self.now_ms - self.init_ms,
                          self.tx_time_on_air, self.last_tx_is_join)  # fmt: skip
        self.aggr_time_off += self.tx_time_on_air * session.aggregated_dcycle - self.tx_time_on_air
        for _ in range(3):
            nxt = plan.next_channel(p.datarate, session.joined, self.duty_cycle_on, self.aggr_time_off,
                                    self.now_ms - self.aggr_last_tx_done, self.now_ms, self.rng)  # fmt: skip
            self.aggr_time_off = nxt.aggregated_time_off
            if nxt.found:
                break
            p.datarate = self.defaults.datarate
        else:
            return MAC_LENGTH_ERROR
        if nxt.delay_ms == 0:
            self.channel = nxt.channel
        rx1_dr = plan.apply_dr_offset(p.datarate, p.rx1_dr_offset, p.downlink_dwell)
        self.rx1_window = plan.rx_window(rx1_dr, p.min_rx_symbols, p.system_max_rx_error)
        self.rx2_window = plan.rx_window(p.rx2_dr, p.min_rx_symbols, p.system_max_rx_error)
        if not session.joined:
            self.rx1_delay = p.join_accept_delay1 + self.rx1_window[2] - 2
            self.rx2_delay = p.join_accept_delay2 + self.rx2_window[2] - 3
        else:
            if not self.payload_fits(self.tx_payload_len, p.datarate, len(session.mac_commands)):
                return MAC_LENGTH_ERROR
            self.rx1_delay = p.receive_delay1 + self.rx1_window[2] - 1
            self.rx2_delay = p.receive_delay2 + self.rx2_window[2] - 2
        if nxt.delay_ms == 0:
            return self.send_frame_on_channel(self.channel)
        self.tx_delayed = True
        self.start("tx_delayed", nxt.delay_ms)
        return MAC_OK

    def frame_airtime(self, length: int, dr: int) -> float:
        """Seconds on air of an uplink of ``length`` bytes (CR 4/5, preamble 8, CRC; FSK 50 kbps)."""
        sf, bw = self.figures.sf_bw(dr)
        if sf == 0:
            return (5 + 3 + 1 + length + 2) * 8 / 50000.0
        return airtime.time_on_air(length, sf, bw, 1)

    def send_frame_on_channel(self, channel: int) -> str:
        """``SendFrameOnChannel``: the radio sends :attr:`buffer` now."""
        p = self.params
        freq = self.plan.channels[channel].freq
        dbm, limited = self.plan.tx_power_dbm(p.tx_power, p.datarate, channel, p.max_eirp, p.antenna_gain)
        seconds = self.frame_airtime(len(self.buffer), p.datarate)
        self.tx_time_on_air = int(seconds * 1000 + 0.999)
        self.mlme_status = STATUS_ERROR
        m = self.mcps
        m.status, m.datarate, m.tx_power, m.freq, m.time_on_air = (
            STATUS_ERROR,
            p.datarate,
            limited,
            freq,
            self.tx_time_on_air,
        )
        self.start("state_check", MAC_STATE_CHECK_TIMEOUT)
        if not self.session.joined:
            self.join_trials += 1
        sf, bw = self.figures.sf_bw(p.datarate)
        self.out.append(Transmit(self.buffer, freq, p.datarate, sf, bw, dbm, self.at, seconds))
        self.radio = "tx"
        self.windows_opened = 0
        self.timers["tx_done"] = self.now_ms + seconds * 1000.0
        self.tx_running = True
        return MAC_OK

    def send_frame(self, kind: int, port: int, payload: bytes | None) -> str:
        """``Send``: prepare and schedule; a LORAMAC_STATUS name."""
        status = self.prepare_frame(kind, port, payload)
        if status != MAC_OK:
            return status
        self.mcps.nb_retries = 0
        self.mcps.ack_received = False
        self.mcps.fcnt_up = self.session.fcnt_up
        return self.schedule_tx()

    def on_tx_delayed(self) -> None:
        """``OnTxDelayedTimerEvent``: a delayed join is prepared again (new DevNonce, alternate DR)."""
        self.tx_delayed = False
        if self.mlme_req == "join":
            self.reset_mac_parameters()
            self.params.datarate = self.plan.alternate_dr(self.join_trials + 1)
            self.prepare_frame(frames.JOIN_REQUEST, 0, None)
        self.schedule_tx()

    def busy(self) -> bool:
        return self.tx_running or self.tx_delayed

    # -- the radio's events -------------------------------------------------------------------------

    def on_radio_tx_done(self) -> None:
        """``OnRadioTxDone``: arm the RX windows (and the ack timeout of a confirmed uplink)."""
        self.radio = "idle"
        self.start("rx1", self.rx1_delay)
        self.start("rx2", self.rx2_delay)
        if self.node_ack_requested:
            rnd = self.figures.ack_timeout_rnd
            self.start("ack_timeout", self.rx2_delay + self.figures.ack_timeout + self.rng.randint(-rnd, rnd))
        self.last_tx_is_join = self.mlme_req == "join"
        self.last_tx_channel = self.channel
        self.plan.set_band_tx_done(self.channel, self.session.joined, self.now_ms)
        self.aggr_last_tx_done = self.now_ms
        if not self.node_ack_requested:
            self.mcps.status = STATUS_OK
            self.nb_rep_counter += 1

    def open_window(self, slot: int, freq: int, window: tuple[int, int, int]) -> None:
        """``RegionRxConfig`` + ``RxWindowSetup``: the receiver listens for ``window``'s symbols."""
        dr, symbols, _ = window
        sf, bw = self.figures.sf_bw(dr)
        length = symbols * self.figures.symbol_ms(dr)
        self.ind.rx_dr = dr
        self.radio = "rx"
        self.windows_opened += 1
        self.window_end = self.now_ms + length
        self.start("rx_timeout", length)
        self.out.append(OpenWindow(slot, freq, dr, sf, bw, self.at, length / 1000.0))

    def on_rx_window1(self) -> None:
        self.rx_slot = 0
        self.open_window(0, self.plan.rx1_frequency(self.channel), self.rx1_window)

    def on_rx_window2(self) -> None:
        if self.radio != "idle":  # RegionRxConfig refuses while RX1 still receives
            return
        self.open_window(1, self.params.rx2_freq, self.rx2_window)
        self.rx_slot = 1

    def window_closed(self, timeout: bool) -> None:
        """``OnRadioRxTimeout`` (no preamble) / ``OnRadioRxError`` (a frame lost)."""
        self.radio = "idle"
        first = self.rx_slot == 0
        status = (
            (STATUS_RX1_TIMEOUT if first else STATUS_RX2_TIMEOUT)
            if timeout
            else (STATUS_RX1_ERROR if first else STATUS_RX2_ERROR)
        )
        if self.node_ack_requested:
            self.mcps.status = status
        self.mlme_status = status
        if not first or self.now_ms - self.aggr_last_tx_done >= self.rx2_delay + 50:
            self.mac_done = True

    def on_radio_rx_timeout(self) -> None:
        self.window_closed(timeout=True)

    def on_radio_rx_error(self) -> None:
        self.window_closed(timeout=False)

    def on_ack_timeout(self) -> None:
        """``OnAckTimeoutTimerEvent``."""
        self.stop("ack_timeout")
        if self.node_ack_requested:
            self.ack_timeout_retry = True

    def prepare_rx_done_abort(self) -> None:
        """``PrepareRxDoneAbort``: a frame we cannot use ends the exchange (RX2 is not opened)."""
        self.rx_abort = True
        if self.node_ack_requested:
            self.on_ack_timeout()
        self.mcps_ind = True
        self.mac_done = True
        self.start("state_check", 1)

    def on_mac_state_check(self) -> None:
        """``OnMacStateCheckTimerEvent`` lives in :mod:`.mac` (it reports to the host)."""
        raise NotImplementedError
