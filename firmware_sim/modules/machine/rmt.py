"""``machine.RMT`` (``esp32/mods/machrmt.c``, Pycom 1.20.2.r6): the remote-control pulse peripheral.

Channels 2..7 (0 and 1 drive the RGB LED): ``RMT(channel=4, gpio='P21', tx_idle_level=0)`` sends,
``RMT(channel=4, gpio='P21', rx_idle_threshold=12000)`` receives. As the firmware, ``channel`` must be
the first keyword (a positional channel is "'channel' argument required"), a channel given alone
returns the channel as it was, and each channel counts in its own unit: 100 ns on channels 2 and 3,
1 us on 4 and 5, 3.125 us on 6 and 7.

What is sent (``pulses_send``) is one line of ``peripherals.jsonl``: ``{"source": "RMT", "channel": 4,
"pin": "P21", "resolution_ns": 1000, "pulses": [[level, duration], ...], ...}`` (durations in the
channel's unit); with ``wait_tx_done`` (the default) the call takes the pulses' time on the board clock.

What is received (``pulses_get``) comes from the environment key ``rmt/<pin>`` (``rmt/P21``): one frame,
a list of pulses, each ``[level, microseconds]`` or just microseconds (levels then alternate from 0).
Each new frame is received once: set the next frame (or an empty list in between to repeat the same
one) in a step timeline or by rewriting the file. Durations become the channel's unit; pulses shorter
than the filter threshold are dropped, and the frame ends at a pulse longer than the idle threshold.
"""

from __future__ import annotations

from typing import Any

from network.coap.api.mpargs import Param, get_array_fixed_n, parse, to_int

from ...runtime import current, environment
from .pin import find
from .seqargs import is_int, is_small_int, wait_for
from .state import Machine, machine_part

RESOLUTION_NS = {2: 100, 3: 100, 4: 1000, 5: 1000, 6: 3125, 7: 3125}  # machrmt.c clk_div at 80 MHz
MAX_DURATION = 0x7FFF  # an rmt_item32_t's 15-bit duration
_NULL = object()
_INIT_ARGS = (
    Param("channel", keyword_only=True),
    Param("gpio", None, True),
    Param("rx_idle_threshold", None, True),
    Param("rx_filter_threshold", _NULL, True),
    Param("tx_idle_level", None, True),
    Param("tx_carrier", _NULL, True),
)
_SEND_ARGS = (
    Param("duration"),
    Param("data", _NULL),
    Param("start_level", _NULL, True),
    Param("wait_tx_done", True, True),
)
_GET_ARGS = (Param("pulses", _NULL, True), Param("timeout", _NULL, True))


class RMT:
    """``machine.RMT``: one object per channel (2..7), configured to send or to receive."""

    LOW, HIGH = 0, 1  # rmt_carrier_level_t, for tx_carrier

    _machine: Machine
    _channel: int
    _used: bool
    _pin: str | None
    _rx: bool
    _idle_threshold: int
    _filter_ns: float
    _idle_level: int
    _carrier: list[int] | None
    _busy_until: float
    _delivered: Any

    def __new__(cls, *args, **kwargs) -> RMT:
        first = dict(list(kwargs.items())[:1])  # make_new reads the first keyword only, as channel
        (channel_arg,) = parse((), first, _INIT_ARGS[:1])
        channel = to_int(channel_arg)
        if not 2 <= channel <= 7:
            raise ValueError("Channel is invalid!")
        machine = machine_part()
        self = _channels(machine).setdefault(channel, cls._made(machine, channel))
        if len(kwargs) > 1:
            self._configure(*parse(args, kwargs, _INIT_ARGS)[1:])
        return self

    @classmethod
    def _made(cls, machine: Machine, channel: int) -> RMT:
        rmt = object.__new__(cls)
        rmt._machine, rmt._channel, rmt._used, rmt._pin = machine, channel, False, None
        rmt._rx, rmt._idle_threshold, rmt._filter_ns, rmt._idle_level = False, 0, 0, 0
        rmt._carrier, rmt._busy_until, rmt._delivered = None, 0.0, None
        return rmt

    def __init__(self, *args, **kwargs) -> None:
        """Everything is done by ``__new__`` (the firmware's make_new)."""

    def _configure(self, gpio: Any, rx_idle: Any, rx_filter: Any, tx_idle: Any, tx_carrier: Any) -> None:
        """``mach_rmt_init_helper``: its checks in its order."""
        if gpio is None:
            raise ValueError("GPIO must be defined!")
        pin = find(self._machine, gpio).id()
        for other in _channels(self._machine).values():
            if other is not self and other._used and other._pin == pin:
                raise ValueError("The given Pin is already used by other RMT channel!")
        self._used = False  # the driver is uninstalled before the new configuration
        self._pin = pin
        if rx_idle is None and tx_idle is None:
            raise ValueError("Either RX or TX configuration must be given!")
        if rx_idle is not None and tx_idle is not None:
            raise ValueError("A channel can be configured only for RX or TX at the same time!")
        if rx_idle is not None:
            self._rx, self._idle_threshold, self._filter_ns = True, to_int(rx_idle) & 0xFFFF, 0
            if rx_filter is not _NULL:
                if to_int(rx_filter) > 31:
                    raise ValueError(
                        "Filter threshold is accepted between values: 0-31, counted 100 nano sec!"
                    )
                self._filter_ns = ((to_int(rx_filter) * 8) & 0xFF) * 12.5  # 8-bit count of 12.5 ns
        else:
            self._rx, self._idle_level, self._carrier = False, to_int(tx_idle) & 1, None
            if tx_carrier is not _NULL:
                frequency, duty, level = get_array_fixed_n(tx_carrier, 3)
                frequency = to_int(frequency)
                duty = to_int(duty)
                if not 0 <= duty <= 100:
                    raise ValueError("Duty_percent argument is invalid!")
                level = to_int(level)
                if level not in (self.LOW, self.HIGH):
                    raise ValueError("Carrier level argument is invalid!")
                if frequency == 0:  # rmt_config(): "RMT carrier frequency can't be zero"
                    raise OSError("RMT parameter error!")
                self._carrier = [frequency & 0xFFFFFFFF, duty, level]
        self._delivered = None
        self._used = True

    def init(self, *args, **kwargs) -> None:
        """``init(*, gpio, rx_idle_threshold, rx_filter_threshold, tx_idle_level, tx_carrier)``."""
        self._configure(*parse(args, kwargs, _INIT_ARGS[1:]))

    def deinit(self) -> None:
        """Release the channel (its pin may then serve another channel)."""
        self._used = False

    def _check(self, rx: bool) -> None:
        if not self._used:
            raise ValueError("RMT channel is not initialized!")
        if self._rx != rx:
            raise ValueError("RMT channel is configured for " + ("TX!" if rx else "RX!"))

    def pulses_send(self, *args, **kwargs) -> None:
        """``pulses_send(duration, data=None, *, start_level, wait_tx_done=True)``."""
        duration, data, start_level, wait_tx_done = parse(args, kwargs, _SEND_ARGS)
        self._check(rx=False)
        if is_small_int(duration):
            durations: list[Any] = [duration]
        elif isinstance(duration, tuple):
            durations = list(duration)
        else:
            raise ValueError('"Duration" can be a single integer or a tuple!')
        levels = _levels(data, durations)
        if len(durations) != 1 and len(durations) != len(levels):
            raise ValueError('Number of the given "duration" and "data" values must be equal!')
        if data is _NULL or is_int(data):
            levels = _alternating(start_level, len(levels))
        single = to_int(duration) if len(durations) == 1 and is_small_int(duration) else 0
        pulses = [
            [level & 1, (single if len(durations) == 1 else to_int(durations[i])) & MAX_DURATION]
            for i, level in enumerate(levels)
        ]
        if not pulses:
            raise OSError("Could not send data!")
        self._send(pulses, bool(wait_tx_done))

    def _send(self, pulses: list[list[int]], wait: bool) -> None:
        clock = current().clock
        if clock.elapsed() < self._busy_until:  # rmt_write_items waits for the previous send
            clock.sleep(self._busy_until - clock.elapsed())
        unit = RESOLUTION_NS[self._channel]
        environment.record(
            "RMT",
            channel=self._channel,
            pin=self._pin,
            resolution_ns=unit,
            idle_level=self._idle_level,
            carrier=self._carrier,
            pulses=pulses,
        )
        took = sum(duration for _level, duration in pulses) * unit / 1e9
        self._busy_until = clock.elapsed() + took
        if wait:
            clock.sleep(took)

    def pulses_get(self, *args, **kwargs) -> tuple:
        """``pulses_get(*, pulses=1, timeout=None)``: ((level, duration), ...) of the frames received
        until ``pulses`` have come (``timeout`` ms: one wait for one frame)."""
        pulses_arg, timeout_arg = parse(args, kwargs, _GET_ARGS)
        self._check(rx=True)
        wanted = 1
        if pulses_arg is not _NULL:
            if not is_small_int(pulses_arg):
                raise ValueError("If pulses is specified it must be a valid integer number")
            wanted = int(pulses_arg) & 0xFFFFFFFF
        timeout: float | None = None
        if timeout_arg is not _NULL:
            if not is_small_int(timeout_arg):
                raise ValueError("If timeout is specified it must be a valid integer number")
            timeout = (int(timeout_arg) & 0xFFFFFFFF) / 1000  # FreeRTOS ticks of 1 ms
        received: list[tuple[int, int]] = []
        items = 0  # rmt_item32_t: two pulses each (the frame's end mark shares the last, or is dropped)
        while items < wanted // 2 + wanted % 2:
            frame = wait_for(self._frame, timeout)
            if frame is not None:
                received.extend(frame)
                items += len(frame) // 2 + len(frame) % 2
            if timeout is not None:
                break
        return tuple(received)

    def _frame(self) -> list[tuple[int, int]] | None:
        """The frame on the pin now, in the channel's unit, if it is one not received yet."""
        value = environment.reading(f"rmt/{self._pin}")
        if not value:
            self._delivered = None
            return None
        if value == self._delivered:
            return None
        self._delivered = value
        return self._ticks(value if isinstance(value, list) else [value])

    def _ticks(self, raw: list[Any]) -> list[tuple[int, int]]:
        unit = RESOLUTION_NS[self._channel]
        frame: list[tuple[int, int]] = []
        for i, pulse in enumerate(raw):
            level, us = (
                (pulse[0], pulse[1]) if isinstance(pulse, list) and len(pulse) == 2 else (i % 2, pulse)
            )
            if not isinstance(us, (int, float)) or us * 1000 < self._filter_ns:
                continue
            ticks = round(us * 1000 / unit)
            if self._idle_threshold and ticks > self._idle_threshold:
                break  # the line idles: the frame ends
            if frame and frame[-1][0] == (int(level) & 1):
                ticks += frame.pop()[1]  # a glitch filtered out between two pulses of one level
            frame.append((int(level) & 1, min(ticks, MAX_DURATION)))
        return frame


def _channels(machine: Machine) -> dict[int, RMT]:
    """The session's RMT objects by channel (one each, as the firmware's static array)."""
    return machine.one(("RMT", "channels"), dict)


def _levels(data: Any, durations: list[Any]) -> list[Any]:
    """The levels ``data`` gives (placeholders when they come from ``start_level``)."""
    if data is _NULL:
        if len(durations) == 1:
            raise ValueError('"Duration" must be a tuple if "data" parameter left empty!')
        return [0] * len(durations)
    if isinstance(data, tuple):
        for value in data:
            if to_int(value) > 1:
                raise ValueError('Only 0 or 1 can be given if the "data" is provided as a tuple!')
        return [to_int(value) for value in data]
    if is_int(data):
        return [0] * max(to_int(data), 0)
    raise ValueError('"data" parameter must be a single integer, a tuple or left empty!')


def _alternating(start_level: Any, n: int) -> list[int]:
    """``n`` levels alternating from ``start_level`` (0 or 1)."""
    if start_level is _NULL:
        raise ValueError('"start_level" parameter must be given!')
    if not is_int(start_level) or to_int(start_level) not in (0, 1):
        raise ValueError('"start_level" can be 0 or 1')
    return [(int(start_level) + i) % 2 for i in range(n)]
