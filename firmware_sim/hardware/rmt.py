"""The ESP32's RMT receiver as ``pycom.pulses_get`` configures it, on a line whose levels are known ahead.

Pycom firmware 1.20.2.r6 (``esp32/mods/modpycom.c``) sets RMT channel 0 up for reception with
``clk_div = 80`` (the 80 MHz APB clock divided to 1 MHz: one tick is one microsecond), the glitch filter
on at 100 APB cycles (a pulse shorter than 1.25 us is not seen), ``idle_threshold = 0xFFFF`` (the
reception ends when the line has not changed for 65535 us) and one memory block (64 items of two
pulses each). What the receiver does with a line (ESP32 RMT, ESP-IDF 3.x ``driver/rmt.c``):

* it starts recording at the first edge after it is enabled: the level the line had when it started is
  not recorded (public WiPy DHT22 drivers expect 82 pulses that start with the 80 us acknowledge high);
* each level is recorded with its length in ticks (a 15-bit field: longer levels are recorded as 32767,
  an assumption of this model);
* the level that lasts beyond the idle threshold ends the reception: it is written as an end marker of
  length 0, and the driver's ``rmt_get_mem_len`` keeps an item whose second half is the marker (so the
  list ends with ``(level, 0)`` after an odd number of pulses) and drops one whose first half is;
* only once the reception has ended does the frame reach the ring buffer that ``pulses_get`` waits on;
* more pulses than the memory holds (128) are not written (a frame with no end marker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TICK_US = 1.0  # APB 80 MHz / clk_div 80
FILTER_US = 100 / 80  # filter_ticks_thresh counts APB cycles
IDLE_US = 0xFFFF * TICK_US  # idle_threshold
MEMORY_PULSES = 64 * 2  # mem_block_num 1: 64 items of two (level, duration) halves
MAX_TICKS = 0x7FFF  # a duration field's 15 bits


@dataclass(frozen=True)
class Waveform:
    """A line's levels: ``before`` until board time ``start`` (seconds), then ``pulses`` (level,
    microseconds) one after another, then ``after`` for ever."""

    start: float
    before: int
    pulses: tuple[tuple[int, float], ...]
    after: int


@dataclass(frozen=True)
class Frame:
    """What the receiver delivers: the (level, ticks) pairs ``pulses_get`` returns, and the board time
    at which the frame reaches the ring buffer (None: the reception never ends)."""

    pulses: list[tuple[int, int]]
    ready_at: float | None


def _segments(wave: Waveform) -> list[tuple[float, int]]:
    """(start time in us from ``wave.start``, level) of each level the receiver can see: equal
    neighbours merged, glitches shorter than the filter absorbed by the level before them."""
    out: list[tuple[float, int]] = [(float("-inf"), 1 if wave.before else 0)]
    t = 0.0
    for level, length in wave.pulses:
        level = 1 if level else 0
        if length >= FILTER_US and level != out[-1][1]:
            out.append((t, level))
        t += max(0.0, length)
    if (1 if wave.after else 0) != out[-1][1]:
        out.append((t, 1 if wave.after else 0))
    return out


def _ticks(length_us: float) -> int:
    return min(MAX_TICKS, int(length_us / TICK_US + 1e-6))


def receive(wave: Waveform | None, enabled_at: float) -> Frame:
    """The frame the receiver, enabled at board time ``enabled_at``, records from ``wave`` (None: a
    line that never changes)."""
    if wave is None:
        return Frame([], None)
    since = (enabled_at - wave.start) * 1e6  # the receiver's start, in us from the wave's start
    segments = _segments(wave)
    first = next((i for i, (t, _level) in enumerate(segments) if t > since), None)
    if first is None:
        return Frame([], None)  # no edge after the receiver started: nothing is ever delivered
    recorded: list[tuple[int, int]] = []
    ended_at: float | None = None
    for i in range(first, len(segments)):
        t, level = segments[i]
        length = segments[i + 1][0] - t if i + 1 < len(segments) else float("inf")
        if length > IDLE_US:
            recorded.append((level, 0))  # the end marker
            ended_at = t + IDLE_US
            break
        recorded.append((level, _ticks(length)))
    assert ended_at is not None  # the last level lasts for ever
    ready_at = wave.start + ended_at / 1e6
    if len(recorded) > MEMORY_PULSES:
        return Frame(recorded[:MEMORY_PULSES], ready_at)
    return Frame(_mem_len(recorded), ready_at)


def _mem_len(recorded: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``rmt_get_mem_len``: the items up to the end marker, the marker's item kept when the marker is
    its second half."""
    pulses = list(recorded)
    if len(pulses) % 2 == 1:  # the marker is the first half of an item: that item is not counted
        pulses.pop()
    return pulses
