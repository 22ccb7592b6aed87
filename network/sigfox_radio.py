"""The Sigfox radio behind ``network.Sigfox``: the firmware's Sigfox task, its queues and the backend.

As ``esp32/sigfox/modsigfox.c`` (open source until mid 2018; 1.20.2.r6 ships the same code prebuilt
as ``modsigfox_<BOARD>.a`` behind ``esp32/mods/modsigfox_api.c``) runs it: one radio per board, a
command queue of two entries worked by one task (``TASK_Sigfox``), a receive queue of three downlinks
of 8 bytes, and the partial read of a downlink larger than the caller's buffer kept for the next
``recv``. A frame goes out ``1 + tx_repeat`` times; with ``SO_RX`` the device listens 20 s after the
first frame for up to 25 s; in RCZ2/RCZ4 it returns to the default macro-channel after two frames
and then keeps 23 s (``SFX_RESET_FCC_MIN_DELAY_S``) after the previous frame.

Air time is modelled (the Sigfox library is closed): 14 bytes of frame around the payload at
100 bit/s (RCZ1, RCZ3) or 600 bit/s (RCZ2, RCZ4), 0.5 s between repeats; a 12-byte message is
2.08 s per frame, as Sigfox quotes it.

Where uplinks go and downlinks come from is the :class:`Backend` the simulator attaches
(:func:`attach`): on a simulated board, the board's outputs timeline and environment file; in a
plain Python process a :class:`MemoryBackend` keeps them in memory. Times are board seconds
(``network.host``).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import host

__all__ = ["Backend", "Frame", "MemoryBackend", "Radio", "attach", "backend", "radio"]

# rcz_frequencies[] of modsigfox.c: (uplink, downlink) Hz per RCZ1 .. RCZ4
RCZ_FREQUENCIES: tuple[tuple[int, int], ...] = ((868130000, 869525000), (902200000, 905200000))
RCZ_FREQUENCIES += ((923200000, 922200000), (920800000, 922300000))
RCZ_BITRATE = (100, 600, 100, 600)  # uplink bit/s per RCZ1 .. RCZ4
FRAME_OVERHEAD = 14  # bytes around the payload: preamble, sync, header, ID, authentication, CRC
INTERFRAME_S = 0.5
DOWNLINK_DELAY_S = 20.0  # from the end of the first frame to the receive window
DOWNLINK_WINDOW_S = 25.0
DOWNLINK_AIR_S = 0.2  # an 8-byte downlink at 600 bit/s
FCC_RESET_DELAY_S = 23.0  # SFX_RESET_FCC_MIN_DELAY_S
RX_PAYLOAD = 8  # SIGFOX_RX_PAYLOAD_SIZE_MAX
CMD_QUEUE = 2  # SIGFOX_CMD_QUEUE_SIZE_MAX
RX_QUEUE = 3  # SIGFOX_DATA_QUEUE_SIZE_MAX


class Backend:
    """The Sigfox network as the board meets it: where each uplink is recorded and what it answers to
    a downlink request. The simulator attaches a board's own (see :func:`attach`)."""

    def record(self, **fields: Any) -> None:
        """One line of the uplink timeline (``event``: ``"uplink"`` or ``"downlink"``, and the frame)."""

    def downlink(self, device_id: bytes) -> bytes | None:
        """The 8 bytes the backend answers to a downlink request from ``device_id`` now, or None
        (no answer: the device gives up after its receive window)."""
        return None

    def task_started(self, thread: threading.Thread) -> None:
        """The radio's task runs on ``thread``: the simulator's, not the script's (it never keeps a
        board whose script has ended running)."""


@dataclass
class MemoryBackend(Backend):
    """A backend in memory: ``records`` is the timeline (with board time ``t``); ``answers`` the
    downlinks answered in turn (the last one again when one is left)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    answers: list[bytes] = field(default_factory=list)

    def record(self, **fields: Any) -> None:
        self.records.append({"t": round(host.board_time(), 6), **fields})

    def downlink(self, device_id: bytes) -> bytes | None:
        if not self.answers:
            return None
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


_backend: Backend = MemoryBackend()


def attach(chosen: Backend | None) -> None:
    """Use ``chosen`` for uplinks and downlinks (None: a fresh :class:`MemoryBackend`)."""
    global _backend
    _backend = chosen if chosen is not None else MemoryBackend()


def backend() -> Backend:
    return _backend


@dataclass
class Frame:
    """One ``E_SIGFOX_CMD_TX`` command: ``data`` (empty: a single bit, ``bit``), its options."""

    data: bytes
    tx_repeat: int = 2
    receive: bool = False
    oob: bool = False
    bit: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    failed: bool = False


def frame_seconds(payload: int, rcz: int) -> float:
    """Air time of one uplink frame of ``payload`` bytes in ``rcz`` (0 .. 3)."""
    return (payload + FRAME_OVERHEAD) * 8 / RCZ_BITRATE[rcz]


class Radio:
    """The board's Sigfox radio and task (``sigfox_obj`` and ``TASK_Sigfox``)."""

    def __init__(self, device_id: bytes) -> None:
        self.device_id = device_id
        self.initialised = False
        self.mode = 0  # E_SIGFOX_MODE_SIGFOX
        self.rcz = 0
        self.frequency = 0
        self.sequence = 0
        self.last_rssi = -100  # MANUF_API_get_rssi() - 100, before any downlink
        self.public_key = False
        self.rssi_offset = 0
        self.freq_offset = 0
        self.config_words: tuple[int, int, int] = (0, 0, 0)
        self._frames_since_reset = 0
        self._last_tx: float | None = None
        self._commands: queue.Queue[Frame] = queue.Queue(CMD_QUEUE)
        self.received: deque[bytes] = deque()
        self.partial = b""
        self.lock = threading.Condition()
        self._stop = threading.Event()
        self._task: threading.Thread | None = None

    # -- the task ---------------------------------------------------------------------------------

    def submit(self, frame: Frame, wait: float | None) -> bool:
        """Queue ``frame`` (``xQueueSend``), waiting up to ``wait`` board seconds for room (None:
        forever); False when the queue stayed full."""
        if self._task is None or not self._task.is_alive():
            self._task = threading.Thread(target=self._run, name="Sigfox", daemon=True)
            self._task.start()
            _backend.task_started(self._task)
        try:
            if wait is None:
                while not self._stop.is_set():
                    try:
                        self._commands.put(frame, timeout=0.05)
                        return True
                    except queue.Full:
                        continue
                return False
            self._commands.put(frame, timeout=host.host_seconds(wait) if wait > 0 else None, block=wait > 0)
            return True
        except queue.Full:
            return False

    def _sleep(self, board_seconds: float) -> bool:
        """Wait ``board_seconds``; False when the radio was stopped (a reset) meanwhile."""
        return not self._stop.wait(host.host_seconds(max(board_seconds, 0.0)))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._commands.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                frame.failed = not self._transmit(frame)
            finally:
                frame.done.set()

    def _transmit(self, frame: Frame) -> bool:
        """``modsigfox_sfx_send``: the frame and its repeats, then the downlink window if asked."""
        if self.mode != 0:  # FSK (SiPy): one frame on the FSK frequency, nobody to hear it
            _backend.record(event="uplink", mode="FSK", frequency=self.frequency, data=frame.data.hex())
            return self._sleep(len(frame.data) * 8 / 50_000)
        if self.rcz in (1, 3):
            self._frames_since_reset += 1
            if self._frames_since_reset > 2:  # back to the default macro-channel, FCC's delay
                self._frames_since_reset = 1
                if self._last_tx is not None and not self._sleep(
                    FCC_RESET_DELAY_S - (host.board_time() - self._last_tx)
                ):
                    return False
        self._last_tx = host.board_time()
        self.sequence = (self.sequence + 1) & 0xFFF
        uplink = {"event": "uplink", "id": self.device_id.hex(), "sequence": self.sequence}
        uplink.update(rcz=self.rcz + 1, frequency=RCZ_FREQUENCIES[self.rcz][0], oob=frame.oob)
        uplink.update(data=frame.data.hex(), tx_repeat=frame.tx_repeat, downlink_requested=frame.receive)
        if not frame.data and not frame.oob:
            uplink["bit"] = frame.bit
        _backend.record(**uplink)
        air = frame_seconds(0 if frame.oob else len(frame.data), self.rcz)
        if not frame.receive:
            return self._sleep(air * (1 + frame.tx_repeat) + INTERFRAME_S * frame.tx_repeat)
        if not self._sleep(air + DOWNLINK_DELAY_S):
            return False
        answer = _backend.downlink(self.device_id)
        if answer is None:
            self._sleep(DOWNLINK_WINDOW_S)
            return False  # SFX_ERR_..._WAIT_TIMEOUT: the socket says ENETDOWN
        if not self._sleep(DOWNLINK_AIR_S):
            return False
        data = bytes(answer[:RX_PAYLOAD]).ljust(RX_PAYLOAD, b"\0")
        self.last_rssi = -110
        _backend.record(event="downlink", id=self.device_id.hex(), sequence=self.sequence, data=data.hex())
        with self.lock:
            if len(self.received) < RX_QUEUE:  # xQueueSend(..., 0): a full queue drops it
                self.received.append(data)
            self.lock.notify_all()
        return True

    def reset_channel(self) -> None:
        """``SIGFOX_API_reset``: back to the default macro-channel (RCZ2, RCZ4)."""
        self._frames_since_reset = 0

    def stop(self) -> None:
        """Stop the task (a reset of the board): a frame being sent is abandoned."""
        self._stop.set()
        if self._task is not None:
            self._task.join(timeout=2)
        while True:  # frames still queued never go: their senders learn it
            try:
                frame = self._commands.get_nowait()
            except queue.Empty:
                break
            frame.failed = True
            frame.done.set()


_radio: Radio | None = None


def radio(device_id: bytes | None = None) -> Radio:
    """The board's one radio (made on first use, with ``device_id`` as its Sigfox ID)."""
    global _radio
    if _radio is None:
        _radio = Radio(device_id or bytes(4))
    return _radio


def hard_reset() -> None:
    """Power the radio off: a fresh one (not initialised) on next use."""
    global _radio
    if _radio is not None:
        _radio.stop()
    _radio = None
