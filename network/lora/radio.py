"""The board's LoRa radio (an SX1276 on the LoPy4, SX1272 on the LoPy and FiPy) in raw LoRa mode, and the
state ``modlora.c`` (firmware 1.20.2.r6) keeps in ``lora_obj`` for it: the receive queue, the figures
``stats()`` reports, the events and the script's callback.

What the firmware does, reproduced on a :mod:`.medium`:
- ``lora_radio_setup``: after ``init``, the receiver listens continuously (``power_mode=ALWAYS_ON``) or the
  radio sleeps (``TX_ONLY``, ``SLEEP``) on the configured frequency, SF, bandwidth and ``rx_iq``.
- ``E_LORA_CMD_TX``: listen before talk (``lora_lbt_is_free``: while the receiver listens, a channel
  above -85 dBm puts the frame back at the head of the queue), then the frame is on the air for its time
  on air; the radio receives nothing meanwhile (a frame it was receiving is lost). ``OnTxDone`` sets
  ``TX_PACKET_EVENT``, and the radio then always listens again (``E_LORA_STATE_TX_DONE``), even in
  ``TX_ONLY``.
- ``OnRxDone``: the frame joins the receive queue (7 frames; more are dropped), ``stats()`` takes its
  RSSI, SNR (the SX1276's quarter-dB register, reported in whole dB) and time (``ticks_cpu()``: µs of the
  board clock, 32 bits), and ``RX_PACKET_EVENT`` is set.

Board time is ``network.host.board_time()``; the medium counts host ``time.monotonic()`` seconds, so a
frame of a board running ``--time-scale N`` lasts its time on air divided by N on the host.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .. import host
from .air import RadioParams, Reception, Transmission
from .airtime import time_on_air, time_on_air_ms
from .args import PAYLOAD_MAX, QUEUE_SIZE, InitConfig, s16
from .medium import Medium, default_name
from .member import Member
from .settings import BOARD, own_threads, queue_interrupt
from .task import COMPLETED, Events, LoRaTask

__all__ = ["LBT_THRESHOLD_DBM", "Radio", "board_at", "host_at", "ticks_us"]

LBT_THRESHOLD_DBM = -85  # lora_lbt_is_free's rssi_th
LBT_RETRY_S = 0.002  # the LoRa task's vTaskDelay(2 ms) before it takes the command again


def host_at(board_seconds: float) -> float:
    """The host ``time.monotonic()`` of board time ``board_seconds``."""
    return time.monotonic() + host.host_seconds(board_seconds - host.board_time())


def board_at(host_seconds: float) -> float:
    """The board time of host ``time.monotonic()`` value ``host_seconds``."""
    return host.board_time() - (time.monotonic() - host_seconds) * host.time_scale()


def ticks_us(board_seconds: float) -> int:
    """``mp_hal_ticks_us_non_blocking()`` at board time ``board_seconds``, as an ``uint32_t``."""
    return int(board_seconds * 1_000_000) & 0xFFFF_FFFF


class Radio:
    """The radio, its task and ``lora_obj``'s figures (one per board)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rx_ready = threading.Condition(self.lock)
        self.task = LoRaTask()
        self.status = Events()
        self.config = InitConfig()
        self.member: Member | None = None
        self.listening = False
        self.rx_queue: deque[tuple[bytes, int]] = deque()
        self.partial: tuple[bytes, int] | None = None  # lora_partial_rx_packet
        self.on_lorawan_frame: Callable[[Reception], None] | None = None  # LoRaWAN mode: to the MAC
        # what stats() reports (lora_obj)
        self.rx_timestamp = self.rssi = self.snr_raw = self.sfrx = self.sftx = 0
        self.tx_trials = self.tx_time_on_air = self.tx_counter = self.tx_frequency = 0
        self.tx_power = self.config.tx_power
        # what the SX127x was last set to: LoRa.airtime() computes with it
        self.modulation: tuple[int, int, int, int, bool] = (7, 125_000, 1, 8, True)  # sf, bw, cr, pre, crc
        self.events = 0
        self.trigger = 0
        self.handler: Any = None
        self.handler_arg: Any = None

    # -- the medium ----------------------------------------------------------------------------------

    def join_medium(self) -> Member:
        """This board's member of its medium (joined on first use), with the ``--lora-link`` losses."""
        if self.member is None:
            me = host.own_address()
            self.member = Medium.join(
                BOARD.medium or default_name(),
                me,
                self._received,
                across_processes=BOARD.across_processes,
                address=me,
            )
            for peer, loss in BOARD.path_loss.items():
                self.member.medium.set_path_loss(me, peer, loss)
            for peer, meters in BOARD.distance.items():
                self.member.medium.set_distance(me, peer, meters)
            own_threads()
        return self.member

    def leave_medium(self) -> None:
        """Leave the medium; close it (its thread, its link to other processes) once nobody is on it."""
        if self.member is not None:
            medium = self.member.medium
            self.member.standby()
            self.member.leave()
            self.member = None
            if not medium.members():
                medium.close()

    def rx_params(self) -> RadioParams:
        c = self.config
        return RadioParams(c.frequency, c.sf, c.bandwidth_hz, c.coding_rate, c.rxiq)

    def tx_params(self) -> RadioParams:
        c = self.config
        return RadioParams(c.frequency, c.sf, c.bandwidth_hz, c.coding_rate, c.txiq)

    def listen(self) -> None:
        """``Radio.Rx(0)``: receive continuously with the configuration."""
        member = self.join_medium()
        self.listening = True
        member.listen(self.rx_params())
        c = self.config
        self.modulation = (c.sf, c.bandwidth_hz, c.coding_rate, c.preamble, True)

    def sleep(self) -> None:
        """``Radio.Sleep()``: the receiver stops (a frame being received is lost)."""
        self.listening = False
        if self.member is not None:
            self.member.standby()

    def setup(self) -> None:
        """``lora_radio_setup`` (raw LoRa ``init``)."""
        c = self.config
        self.modulation = (c.sf, c.bandwidth_hz, c.coding_rate, c.preamble, True)
        if c.power_mode == 0:  # ALWAYS_ON
            self.listen()
        else:
            self.join_medium()
            self.sleep()

    def transmit(self, payload: bytes, params: RadioParams, power_dbm: float, preamble: int = 8,
                 crc: bool = True, at: float | None = None) -> Transmission:  # fmt: skip
        """Put a frame on the air from board time ``at`` (now), lasting its time on air in board time."""
        member = self.join_medium()
        member.standby()  # half duplex: the receiver stops
        start_board = host.board_time() if at is None else at
        length = time_on_air(len(payload), params.sf, params.bw_hz, params.cr, preamble, False, crc)
        start = host_at(start_board)
        tx = Transmission(member.id, params.freq_hz, params.sf, params.bw_hz, params.cr, params.iq_inverted,
                          float(power_dbm), bytes(payload), start, start + host.host_seconds(length),
                          preamble)  # fmt: skip
        self.modulation = (params.sf, params.bw_hz, params.cr, preamble, crc)
        return member.medium.transmit(tx)

    def channel_rssi(self) -> float:
        c = self.config
        return self.join_medium().channel_rssi(c.frequency, c.bandwidth_hz)

    # -- raw LoRa: sending ----------------------------------------------------------------------------

    def raw_tx_command(self, payload: bytes) -> None:
        """``E_LORA_CMD_TX`` on the task: listen before talk, then the frame; TxDone at its end."""
        self.task.set_busy(True)
        if self.listening and self.channel_rssi() > LBT_THRESHOLD_DBM:
            self.task.call_at(host.board_time() + LBT_RETRY_S, lambda: self.raw_tx_command(payload))
            return
        self.listening = False
        c = self.config
        tx = self.transmit(payload, self.tx_params(), c.tx_power, c.preamble)
        self.task.call_at(board_at(tx.end), self._raw_tx_done)

    def _raw_tx_done(self) -> None:
        """``OnTxDone`` then ``E_LORA_STATE_TX_DONE``: the event, COMPLETED, and listening again."""
        self.fire(0x02)
        self.status.set(COMPLETED)
        if self.config.stack_mode == 0:
            self.listen()
        self.task.set_busy(False)

    def airtime_ms(self, length: int) -> int:
        """``Radio.TimeOnAir(MODEM_LORA, len)`` with what the radio was last set to."""
        sf, bw, cr, preamble, crc = self.modulation
        return time_on_air_ms(length & 0xFF, sf, bw, cr, preamble, False, crc)

    # -- receiving --------------------------------------------------------------------------------------

    def _received(self, reception: Reception) -> None:
        """The medium's delivery (``OnRxDone``; in LoRaWAN mode the frame goes to the MAC)."""
        hook = self.on_lorawan_frame
        if self.config.stack_mode == 1:
            if hook is not None:
                hook(reception)
            return
        if not self.listening:
            return
        with self.lock:
            self.record_rx(reception, reception.sf)
            if len(reception.payload) <= PAYLOAD_MAX:
                self.queue_frame(reception.payload, 0)
        self.fire(0x01)

    def record_rx(self, reception: Reception, sfrx: int) -> None:
        """Keep a frame's figures for ``stats()`` (RSSI as the int16 the driver computes)."""
        with self.lock:
            self.rx_timestamp = ticks_us(board_at(reception.at))
            self.rssi = s16(round(reception.rssi))
            self.snr_raw = max(-128, min(127, round(reception.snr * 4)))
            self.sfrx = sfrx

    def queue_frame(self, payload: bytes, port: int) -> None:
        """``xQueueSend(xRxQueue, ..., 0)``: dropped when 7 frames wait."""
        with self.lock:
            if len(self.rx_queue) < QUEUE_SIZE:
                self.rx_queue.append((bytes(payload), port))
                self.rx_ready.notify_all()

    def flush_rx(self) -> None:
        with self.lock:
            self.rx_queue.clear()

    def rx_any(self) -> bool:
        with self.lock:
            return self.partial is not None or bool(self.rx_queue)

    def recv(self, size: int, timeout_ms: int) -> tuple[bytes, int] | None:
        """``lora_recv``: up to ``size`` bytes of the next frame (its rest is kept for the next call) and
        its port; ``timeout_ms`` -1 waits for ever, 0 not at all. None: nothing came in time."""
        size = max(size, 0)
        with self.lock:
            if self.partial is not None:
                data, port = self.partial
                self.partial = (data[size:], port) if len(data) > size else None
                return data[:size], port
            end = None if timeout_ms < 0 else host.board_time() + timeout_ms / 1000
            while not self.rx_queue:
                if end is None:
                    self.rx_ready.wait(0.1)
                    continue
                left = host.host_seconds(end - host.board_time())
                if left <= 0:
                    return None
                self.rx_ready.wait(min(left, 0.1))
            data, port = self.rx_queue.popleft()
            if len(data) > size:
                self.partial = (data[size:], port)
            return data[:size], port

    # -- events and the callback ---------------------------------------------------------------------------

    def fire(self, event: int) -> None:
        """Record ``event`` for ``events()`` and call the handler if the trigger selects it."""
        with self.lock:
            self.events |= event
            wanted = self.trigger & event and self.handler is not None
        if wanted:
            queue_interrupt(self._call_handler, None)

    def _call_handler(self, _: object) -> None:
        """``lora_callback_handler``: ``handler(arg)`` with what is set when it runs."""
        handler, arg = self.handler, self.handler_arg
        if handler is not None:
            handler(arg)

    def close(self) -> None:
        self.task.stop()
        self.leave_medium()
