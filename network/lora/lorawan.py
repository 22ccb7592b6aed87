"""LoRaWAN mode of ``network.LoRa``: what ``modlora.c`` (firmware 1.20.2.r6) does around LoRaMac-node,
over the sans-I/O device of :mod:`.mac`, on the board's radio (:mod:`.radio`) and LoRa task.

- The device's :class:`~.macactions.Transmit` goes on the medium at its board time (uplinks with IQ
  not inverted), each :class:`~.macactions.OpenWindow` opens a receive window there (inverted IQ); the
  device's timers run on the LoRa task at their exact board time. A downlink whose preamble the window
  caught is reported to the device when the medium delivers it (``detected`` first, so the window does
  not time out while the frame is still on the air).
- ``McpsConfirm``: an uplink confirmed (or an unconfirmed one after its windows) sets
  ``TX_PACKET_EVENT`` and ends a blocking ``send``; a failed one ``TX_FAILED_EVENT`` and ``EAGAIN``;
  ``stats()`` takes its data rate (``sftx``), retries, power index, time on air, frequency and uplink
  counter. A confirmed uplink the MAC reports without an ACK completes nothing, as in the firmware.
- ``McpsIndication``: data on ports 1..223 joins the socket's queue with its port; ``RX_PACKET_EVENT``;
  ``stats()`` takes RSSI, SNR, the downlink's data rate (``sfrx``) and its ``ticks_cpu()`` time.
- ``MLME_SCHEDULE_UPLINK``: the firmware prints ``Trying to send uplink``.
- ``nvram_save`` keeps the device's session (:meth:`Stack.save_session`); INIT after ``nvram_restore``
  brings it back as a joined ABP session.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from .. import host
from .air import RadioParams, Reception, Transmission, matches
from .airtime import time_on_air
from .args import REGION_NAMES, InitConfig
from .mac import Device
from .macactions import (
    Action,
    Deliver,
    Joined,
    LinkChecked,
    MacError,
    OpenWindow,
    ScheduleUplink,
    SendRefused,
    Transmit,
    TxDone,
    TxFailed,
)
from .nvram import JOINED, SESSION, nvram
from .radio import Radio, board_at, host_at, ticks_us
from .task import COMPLETED, ERROR, MSG_SIZE

__all__ = ["RECEPTION_GRACE_S", "Compliance", "Stack"]

RECEPTION_GRACE_S = 0.5  # host seconds a caught frame may take to be delivered by the medium


@dataclass
class Compliance:
    """``lora_obj.ComplianceTest``."""

    enabled: bool = False
    running: bool = False
    state: int = 0
    tx_confirmed: bool = False
    downlink_counter: int = 0
    link_check: bool = False
    demod_margin: int = 0
    nbr_gateways: int = 0


class Stack:
    """The LoRaWAN part of ``lora_obj`` and the MAC behind it (one per board)."""

    def __init__(self, radio: Radio) -> None:
        self.radio = radio
        self.device: Device | None = None
        self.config: InitConfig | None = None
        self.joined = False  # lora_obj.joined
        self.compliance = Compliance()
        self._battery = 255
        self._tick_handle: int | None = None
        self._window: tuple[RadioParams, float, float] | None = None  # params, host start, host end
        self._awaiting: float | None = None  # board time a caught frame ends
        self._sending = False

    # -- INIT ---------------------------------------------------------------------------------------

    def initialize(self, config: InitConfig, restore: bool) -> bool:
        """``LoRaMacInitialization`` for the region; with ``restore`` the stored session comes back
        (True) and the stored ``JOINED`` is cleared until the next ``nvram_save``."""
        self.shutdown()
        self.config = config
        name = REGION_NAMES.get(config.region, "EU868").replace("_HYBRID", "")
        try:
            self.device = Device(name, host.board_time(), adr=config.adr)
        except KeyError:  # a region the MAC model lacks (EU433): the radio works, no network is joined
            print(f"firmware-sim: warning: LoRaWAN in {name} is not simulated (no join, no uplink)",
                  file=sys.stderr, flush=True)  # fmt: skip
            return False
        self.device.battery = self._battery
        self.radio.on_lorawan_frame = self._frame_heard
        self.radio.join_medium()
        if not restore:
            return False
        session = nvram().get(SESSION)
        if not isinstance(session, dict) or not session:
            return False
        try:
            self.device.restore(session)
        except (ValueError, KeyError, TypeError):
            return False
        nvram().set(**{JOINED: 0})
        return True

    def shutdown(self) -> None:
        """Leave LoRaWAN mode: the MAC's timers stop, its windows close."""
        self.radio.task.cancel(self._tick_handle)
        self._tick_handle = None
        self.device = None
        self._window = None
        self._awaiting = None
        self._sending = False
        self.radio.on_lorawan_frame = None

    def join_restored(self) -> None:
        """``E_LORA_STATE_JOIN`` after a restore: an ABP join with the stored session."""
        self.joined = self.device is not None and self.device.joined
        self.compliance.state = 1
        self.radio.status.set(COMPLETED)

    # -- commands on the LoRa task ----------------------------------------------------------------------

    def join_command(self, activation: int, keys: tuple[Any, ...], dr: int) -> None:
        """``E_LORA_CMD_JOIN`` and ``E_LORA_STATE_JOIN``: OTAA asks the MAC to join (again every 10 s
        until accepted); ABP sets the session and is joined at once."""
        self.joined = False
        device = self.device
        if device is not None:
            now = host.board_time()
            if activation == 0:
                dev_eui, app_eui, app_key = keys
                self._perform(device.join(dev_eui, app_eui, app_key, dr, now))
            else:
                dev_addr, nwk_skey, app_skey = keys
                self._perform(device.activate_abp(dev_addr, nwk_skey, app_skey, now))
                self.compliance.state = 1
            self.joined = device.joined
        self.radio.status.set(COMPLETED)

    def send_command(self, payload: bytes, port: int, confirmed: bool, dr: int) -> None:
        """``E_LORA_CMD_LORAWAN_TX``: the uplink; the task stays busy until the MAC confirms it."""
        device = self.device
        if device is None:
            self.radio.status.set(ERROR)
            return
        self.radio.task.set_busy(True)
        self._sending = True
        retries = self.config.tx_retries if self.config is not None else 2
        self._perform(device.send(port, payload, host.board_time(), confirmed, dr, retries))

    def channel_command(self, index: int, frequency: int | None, dr_min: int, dr_max: int) -> None:
        """``E_LORA_CMD_CONFIG_CHANNEL``: the region's answer is not checked, as in the firmware."""
        if self.device is not None:
            try:
                if frequency is None:
                    self.device.remove_channel(index)
                else:
                    self.device.add_channel(index, frequency, dr_min, dr_max)
            except MacError:
                pass
        self.radio.status.set(COMPLETED)

    def wake_command(self) -> None:
        """``E_LORA_CMD_WAKE_UP``: raw LoRa listens again (LoRaWAN listens in its windows only)."""
        if self.device is None:
            self.radio.listen()
        self.radio.status.set(COMPLETED)

    def sleep_command(self) -> None:
        """``E_LORA_CMD_SLEEP``."""
        if self.device is None:
            self.radio.sleep()
        self.radio.status.set(COMPLETED)

    # -- what the API asks -------------------------------------------------------------------------------

    def payload_fits(self, length: int, dr: int) -> bool:
        """``ValidatePayloadLength(len, dr, 0)``."""
        return self.device is None or self.device.payload_fits(length, dr, 0)

    def stop_join_timer(self) -> None:
        """``TimerStop(&TxNextActReqTimer)``: no more join requests."""
        if self.device is not None:
            self.device.stop("next_act")

    def save_session(self) -> dict[str, Any]:
        return self.device.save() if self.device is not None else {}

    @property
    def battery(self) -> int:
        return self._battery

    @battery.setter
    def battery(self, level: int) -> None:
        """``BoardSetBatteryLevel``: what DevStatusAns reports."""
        self._battery = level
        if self.device is not None:
            self.device.battery = level

    def add_multicast(self, address: int, nwk_skey: bytes, app_skey: bytes) -> bool:
        if self.device is not None:
            self.device.add_multicast(address, nwk_skey, app_skey)
        return True

    def remove_multicast(self, address: int) -> bool:
        device = self.device
        if device is None or address not in device.multicast:
            return False
        device.remove_multicast(address)
        return True

    def set_compliance(self, enable: bool) -> None:
        test = self.compliance
        test.enabled = enable
        if not enable:
            test.tx_confirmed, test.downlink_counter, test.running = False, 0, False
            if self.device is not None and self.config is not None:
                self.device.adr = self.config.adr

    # -- the device's actions ----------------------------------------------------------------------------

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Transmit):
                self._transmit(action)
            elif isinstance(action, OpenWindow):
                self._open_window(action)
            elif isinstance(action, TxDone):
                self._tx_done(action)
            elif isinstance(action, (TxFailed, SendRefused)):
                self._tx_failed(action)
            elif isinstance(action, Deliver):
                self._deliver(action)
            elif isinstance(action, Joined):
                self.joined = True
                test = self.compliance
                test.state, test.running, test.downlink_counter = 1, False, 0
            elif isinstance(action, LinkChecked) and self.compliance.running:
                test = self.compliance
                test.link_check, test.demod_margin, test.nbr_gateways = True, action.margin, action.gateways
            elif isinstance(action, ScheduleUplink):
                print("Trying to send uplink", file=sys.stdout, flush=True)
        if self.device is not None:
            self.joined = self.joined or self.device.joined
        self._reschedule()

    def _transmit(self, action: Transmit) -> None:
        params = RadioParams(action.freq_hz, action.sf, action.bw_hz, action.cr, action.iq_inverted)
        self._window = None
        self.radio.transmit(action.frame, params, action.tx_power_dbm, 8, True, at=action.at)

    def _open_window(self, action: OpenWindow) -> None:
        params = RadioParams(action.freq_hz, action.sf, action.bw_hz, action.cr, action.iq_inverted)
        start = host_at(action.at)
        length = host.host_seconds(action.length)
        self._window = (params, start, start + length)
        member = self.radio.join_medium()
        member.open_window(params, start=start, length=length)
        self.radio.modulation = (action.sf, action.bw_hz, action.cr, 8, False)

    def _tx_done(self, action: TxDone) -> None:
        """``McpsConfirm`` with status OK."""
        radio = self.radio
        with radio.lock:
            radio.sftx, radio.tx_trials, radio.tx_power = action.dr, action.nb_retries, action.tx_power
            radio.tx_time_on_air, radio.tx_frequency = action.time_on_air_ms, action.freq_hz
            radio.tx_counter = action.fcnt_up
        self._end_send()
        if not action.confirmed or action.ack_received:
            radio.fire(0x02)
            radio.status.set(COMPLETED)

    def _tx_failed(self, action: TxFailed | SendRefused) -> None:
        self._end_send()
        if isinstance(action, TxFailed):
            self.radio.fire(0x04)
        too_long = isinstance(action, SendRefused) and action.msg_size
        self.radio.status.set(ERROR | (MSG_SIZE if too_long else 0))

    def _end_send(self) -> None:
        if self._sending:
            self._sending = False
            self.radio.task.set_busy(False)

    def _deliver(self, action: Deliver) -> None:
        radio = self.radio
        with radio.lock:
            radio.rx_timestamp = ticks_us(action.timestamp)
            radio.rssi = action.rssi
            radio.snr_raw = max(-128, min(127, action.snr * 4))
            radio.sfrx = action.dr
        radio.queue_frame(action.payload, action.port)
        radio.fire(0x01)

    # -- time and frames ------------------------------------------------------------------------------

    def _reschedule(self) -> None:
        task = self.radio.task
        task.cancel(self._tick_handle)
        self._tick_handle = None
        device = self.device
        if device is None:
            return
        deadline = device.next_deadline()
        if deadline is not None:
            self._tick_handle = task.call_at(deadline, self._tick)

    def _tick(self) -> None:
        """Run the device's next timer at its exact board time; hold a window's timeout while a frame it
        caught is still on the air or on its way from the medium."""
        self._tick_handle = None
        device = self.device
        if device is None:
            return
        deadline = device.next_deadline()
        if deadline is None:
            return
        if self._awaiting is not None:
            if host_at(host.board_time()) < host_at(self._awaiting) + RECEPTION_GRACE_S:
                self._tick_handle = self.radio.task.call_at(host.board_time() + 0.02, self._tick)
                return
            self._awaiting = None
        timeout = device.timers.get("rx_timeout")
        if timeout is not None and timeout / 1000.0 <= deadline:
            caught = self._caught()
            if caught is not None:
                self._awaiting = board_at(caught.end)
                self._perform(device.detected(self._awaiting, deadline))
                return
        self._perform(device.tick(deadline))

    def _caught(self) -> Transmission | None:
        """A frame the open window caught (matching, its preamble within the window), if any."""
        if self._window is None or self.radio.member is None:
            return None
        params, start, end = self._window
        medium, me = self.radio.member.medium, self.radio.member.id
        for moment in (end, (start + end) / 2):
            for tx in medium.on_air(moment):
                if tx.sender != me and matches(tx, params) and start <= tx.preamble_end and tx.start <= end:
                    return tx
        return None

    def _frame_heard(self, reception: Reception) -> None:
        """The medium's delivery (its thread): to the device, on the task."""
        self.radio.task.call_soon(lambda: self._received(reception))

    def _received(self, reception: Reception) -> None:
        device = self.device
        if device is None:
            return
        self._awaiting = None
        end = board_at(reception.at)
        length = time_on_air(len(reception.payload), reception.sf, reception.bw, reception.cr)
        self._perform(device.received(reception.payload, reception.rssi, reception.snr, end, end - length))
