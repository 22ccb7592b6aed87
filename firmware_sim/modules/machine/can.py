"""``machine.CAN`` (``esp32/mods/machcan.c`` and ``esp32/can/CAN.c``, Pycom 1.20.2.r6): the ESP32's one
CAN controller, bus 0, on pins P22 (TX) and P23 (RX) unless ``pins=(tx, rx)`` says otherwise.

Frames sent (``send``) are lines of ``peripherals.jsonl``: ``{"source": "CAN", "id": 291, "data":
"0102", "rtr": false, "extended": false, "pins": ["P22", "P23"]}`` (``data`` in hex). A controller in
``CAN.SILENT`` (listen-only) mode or stopped with ``deinit()`` puts nothing on the bus.

Frames received come from the environment key ``can/<rx pin>`` (``can/P23``): a list of frames, each
``{"t": board_seconds, "id": 291, "data": "0102", "rtr": false, "extended": false}`` (``t`` defaults to 0,
``data`` hex or a list of bytes). Each frame is received once, at the first moment from its ``t`` on
that the controller is running (a test appends frames to the list as time goes on); frames listed twice
alike are received twice. The controller's frame format, the software filters and the receive queue
(``rx_queue_len``: more frames are dropped, with ``RX_FIFO_OVERRUN``) apply as in CAN.c, and so do the
events and callbacks (``RX_FRAME``, ``RX_FIFO_NOT_EMPTY``, ``RX_FIFO_OVERRUN``), whose handlers run in
the IRQs thread. A board's own frames never come back to it (no self-reception), as on the bus.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

from network.coap.api.mpargs import Param, check_count, get_array, get_array_fixed_n, parse, to_int

from ...runtime import environment
from ...runtime.pins import POLL_INTERVAL
from .bufargs import for_send
from .consts import INVALID_ARGUMENTS, RESOURCE_NOT_AVAILABLE, to_float
from .pin import find
from .seqargs import wait_for
from .state import Machine, machine_part

NORMAL, SILENT = 0, 1  # CAN_mode_t
FORMAT_STD, FORMAT_EXT, FORMAT_BOTH = 1, 2, 3
RX_FRAME, RX_FIFO_NOT_EMPTY, RX_FIFO_OVERRUN = 1, 2, 4  # CAN_callback_trigger_t
FILTER_LIST, FILTER_RANGE, FILTER_MASK = 0, 1, 2
_NULL = object()
_INIT_ARGS = (
    Param("bus", 0),
    Param("mode", NORMAL),
    Param("baudrate", 500_000),
    Param("frame_format", FORMAT_STD, True),
    Param("pins", _NULL, True),
    Param("rx_queue_len", 128, True),
)
_SEND_ARGS = (
    Param("id"),
    Param("data", None, True),
    Param("rtr", False, True),
    Param("extended", False, True),
)
_CALLBACK_ARGS = (Param("trigger"), Param("handler", None), Param("arg", None))


class Frame(tuple):
    """What ``recv()`` returns: an attrtuple (py/objattrtuple.c) ``(id=, data=, rtr=, extended=)``."""

    _FIELDS = ("id", "data", "rtr", "extended")

    id = property(lambda self: self[0])
    data = property(lambda self: self[1])
    rtr = property(lambda self: self[2])
    extended = property(lambda self: self[3])

    def __repr__(self) -> str:
        return "(" + ", ".join(f"{f}={v!r}" for f, v in zip(self._FIELDS, self, strict=True)) + ")"

    __str__ = __repr__


class CAN:
    """``machine.CAN``: the board's one CAN controller (``CAN(0, ...)`` is the same object each time)."""

    NORMAL, SILENT = NORMAL, SILENT
    FORMAT_STD, FORMAT_EXT, FORMAT_BOTH = FORMAT_STD, FORMAT_EXT, FORMAT_BOTH
    RX_FRAME, RX_FIFO_NOT_EMPTY, RX_FIFO_OVERRUN = RX_FRAME, RX_FIFO_NOT_EMPTY, RX_FIFO_OVERRUN
    FILTER_LIST, FILTER_RANGE, FILTER_MASK = FILTER_LIST, FILTER_RANGE, FILTER_MASK

    _machine: Machine
    _lock: threading.RLock
    _baudrate: int
    _mode: int
    _format: int
    _queue_len: int
    _pins: tuple[str, str] | None
    _running: bool
    _queue: deque[Frame]
    _filter_mode: int
    _filters: list[list[int]]
    _n_filters: int
    _events: int
    _trigger: int
    _handler: Any
    _arg: Any
    _seen: set[str]
    _watcher: threading.Thread | None

    def __new__(cls, *args, **kwargs) -> CAN:
        values = _init_values(parse(args, kwargs, _INIT_ARGS))
        if values[0] != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        machine = machine_part()
        self = machine.one(("CAN", 0), lambda: cls._made(machine))
        self._configure(*values[1:])
        return self

    @classmethod
    def _made(cls, machine: Machine) -> CAN:
        can = object.__new__(cls)
        can._machine = machine
        can._lock = threading.RLock()
        can._baudrate, can._mode, can._format, can._queue_len = 0, NORMAL, FORMAT_STD, 0
        can._pins, can._running, can._queue = None, False, deque()
        can._filter_mode, can._filters, can._n_filters = FILTER_LIST, [[0, 0] for _ in range(32)], 0
        can._events, can._trigger, can._handler, can._arg = 0, 0, None, None
        can._seen, can._watcher = set(), None
        return can

    def __init__(self, *args, **kwargs) -> None:
        """Everything is done by ``__new__`` (the firmware's make_new)."""

    def _configure(self, mode: int, baudrate: int, frame_format: int, pins: Any, queue_len: int) -> None:
        """``mach_can_init_helper``: each check in its order (what came before a bad value is kept)."""
        if mode not in (NORMAL, SILENT):
            raise ValueError(INVALID_ARGUMENTS)
        self._mode = mode
        speed = abs(baudrate) // 1000 * (1 if baudrate >= 0 else -1)  # C's division, towards zero
        if not 0 < speed <= 1000:
            raise ValueError(INVALID_ARGUMENTS)
        self._baudrate = baudrate
        if not 0 <= frame_format <= FORMAT_BOTH:
            raise ValueError(INVALID_ARGUMENTS)
        self._format = frame_format
        self._pins = None  # deassigned before the new ones
        if pins is None:
            raise ValueError(INVALID_ARGUMENTS)
        tx, rx = ("P22", "P23") if pins is _NULL else get_array_fixed_n(pins, 2)
        machine = self._machine
        self._pins = (find(machine, tx).id(), find(machine, rx).id())
        if queue_len <= 0:
            raise ValueError(INVALID_ARGUMENTS)
        with self._lock:
            self._queue_len, self._queue = queue_len, deque()
            self._running, self._n_filters = True, 0

    def init(self, *args, **kwargs) -> None:
        """``init(mode=CAN.NORMAL, baudrate=500000, *, frame_format=CAN.FORMAT_STD, pins=('P22', 'P23'),
        rx_queue_len=128)``."""
        self._configure(*_init_values([0, *parse(args, kwargs, _INIT_ARGS[1:])])[1:])

    def deinit(self) -> None:
        """Stop the controller: nothing is sent or received until ``init``."""
        with self._lock:
            self._running, self._queue = False, deque()

    def send(self, *args, **kwargs) -> int:
        """``send(id, *, data=None, rtr=False, extended=False)``: the number of data bytes sent."""
        msg_id, data, rtr, extended = parse(args, kwargs, _SEND_ARGS)
        msg_id, rtr, extended = to_int(msg_id), bool(rtr), bool(extended)
        payload = b"" if data is None else for_send(data)
        if (msg_id & 0xFFFFFFFF) > 2047 and not extended:
            raise ValueError(f"invalid message id {msg_id}")
        if rtr:
            if payload:
                raise ValueError("data given for RTR message")
        elif not 0 < len(payload) <= 8:
            raise ValueError(f"invalid data length {len(payload)}")
        if self._running and self._mode == NORMAL and self._pins is not None:
            environment.record(
                "CAN",
                id=msg_id & (0x1FFFFFFF if extended else 0x7FF),
                data=payload.hex(),
                rtr=rtr,
                extended=extended,
                pins=list(self._pins),
            )
        return len(payload)

    def recv(self, *args, **kwargs) -> Frame | None:
        """``recv(timeout=0)``: the next frame received, or None after ``timeout`` seconds (None: wait
        for ever)."""
        (timeout_arg,) = parse(args, kwargs, (Param("timeout", _NULL),))
        timeout: float | None = 0.0
        if timeout_arg is None:
            timeout = None
        elif timeout_arg is not _NULL:
            timeout = max(int(to_float(timeout_arg) * 1000), 0) / 1000  # whole milliseconds
        return wait_for(self._next, timeout)

    def _next(self) -> Frame | None:
        self._poll()
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def soft_filter(self, *args, **kwargs) -> None:
        """``soft_filter(mode, filters)``: accept only the ids the 1 to 32 filters (ids for
        ``FILTER_LIST``, (from, to) for ``FILTER_RANGE``, (filter, mask) for ``FILTER_MASK``) let
        through; ``filters`` None accepts every id."""
        check_count((self, *args), kwargs, 3, 3)
        mode = to_int(args[0])
        if not 0 <= mode <= FILTER_MASK:
            raise ValueError("invalid filter mode")
        self._filter_mode = mode
        if args[1] is None:
            self._n_filters = 0
            return
        filters = get_array(args[1])
        if not 1 <= len(filters) <= 32:
            raise ValueError("between 1 and 32 software filters are possible")
        for i, item in enumerate(filters):
            pair = [item, item] if mode == FILTER_LIST else get_array_fixed_n(item, 2)
            self._filters[i] = [to_int(pair[0]) & 0xFFFFFFFF, to_int(pair[1]) & 0xFFFFFFFF]
        self._n_filters = len(filters)

    def callback(self, *args, **kwargs) -> None:
        """``callback(trigger, handler=None, arg=None)``: call ``handler(arg or the CAN)`` in the IRQs
        thread on the events of ``trigger``; no handler (or trigger None) removes it."""
        trigger, handler, arg = parse(args, kwargs, _CALLBACK_ARGS)
        with self._lock:
            if trigger is not None and handler is not None:
                self._trigger = to_int(trigger)
                self._handler, self._arg = handler, self if arg is None else arg
            else:
                self._trigger, self._handler = 0, None
        if self._handler is not None and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="CAN", daemon=True)
            self._watcher.start()

    def events(self, *args, **kwargs) -> int:
        """The events since the last call (``RX_FRAME`` | ...), then cleared."""
        check_count((self, *args), kwargs, 1, 1)
        self._poll()
        with self._lock:
            events, self._events = self._events, 0
        return events

    def _watch(self) -> None:
        """While a handler is set: take the frames due, so the handler runs when they come."""
        asleep = self._machine.asleep
        while self._handler is not None and not asleep.wait(POLL_INTERVAL):
            self._poll()
        self._watcher = None

    def _accepts(self, msg_id: int) -> bool:
        """``CAN_filter_message``: the software filters."""
        if not self._n_filters:
            return True
        for low, high in self._filters[: self._n_filters]:
            if self._filter_mode == FILTER_MASK:
                if msg_id & high == low & high:
                    return True
            elif low <= msg_id <= high:
                return True
        return False

    def _poll(self) -> None:
        """Receive the frames of ``can/<rx pin>`` that are due (``CAN_read_frame``)."""
        with self._lock:
            if not self._running or self._pins is None:
                return
            listed = environment.reading(f"can/{self._pins[1]}", [])
            now = self._machine.board.clock.elapsed()
            counts: dict[str, int] = {}
            for raw in listed if isinstance(listed, list) else []:
                frame = _frame(raw)
                if frame is None or frame[0] > now:
                    continue
                key = json.dumps(raw, sort_keys=True)
                counts[key] = counts.get(key, 0) + 1
                if f"{counts[key]}:{key}" not in self._seen:
                    self._seen.add(f"{counts[key]}:{key}")
                    self._take(frame[1])

    def _take(self, frame: Frame) -> None:
        if self._format in (FORMAT_STD, FORMAT_EXT) and frame.extended != (self._format == FORMAT_EXT):
            return  # the controller's frame format drops it
        if not self._accepts(frame.id):
            return
        events = RX_FRAME
        if not self._queue:
            events |= RX_FIFO_NOT_EMPTY
        elif len(self._queue) >= self._queue_len:
            events |= RX_FIFO_OVERRUN
        self._events |= events
        if events & self._trigger and self._handler is not None:
            self._machine.irq.put(self._handler, self._arg)
        if len(self._queue) < self._queue_len:
            self._queue.append(frame)

    def __repr__(self) -> str:
        if not self._baudrate:
            return "CAN(0)"
        names = {FORMAT_STD: "FORMAT_STD", FORMAT_EXT: "FORMAT_EXT"}
        return (
            f"CAN(0, mode={self._mode}, baudrate={self._baudrate}, "
            f"frame_format={names.get(self._format, 'FORMAT_BOTH')}, rx_queue_len={self._queue_len})"
        )


def _init_values(values: list[Any]) -> list[Any]:
    """The arguments of ``CAN()`` / ``init()`` as ``mp_arg_parse_all`` converts them (ints but pins)."""
    return [value if i == 4 else to_int(value) for i, value in enumerate(values)]


def _frame(raw: Any) -> tuple[float, Frame] | None:
    """A frame of the environment: when it comes, and what ``recv()`` gives; None for no frame."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        return None
    when = raw.get("t", 0)
    if not isinstance(when, (int, float)):
        return None
    extended, rtr = bool(raw.get("extended", False)), bool(raw.get("rtr", False))
    data = raw.get("data", "")
    try:
        payload = bytes.fromhex(data) if isinstance(data, str) else bytes(data)
    except (TypeError, ValueError):
        return None
    msg_id = raw["id"] & (0x1FFFFFFF if extended else 0x7FF)
    return float(when), Frame((msg_id, b"" if rtr else payload[:8], rtr, extended))
