"""``pycom.pulses_get(pin, timeout)`` as Pycom firmware 1.20.2.r6 does it (``esp32/mods/modpycom.c``).

* ``pin`` is a ``Pin`` or a pin name (``pin_find``: anything else is ``ValueError: invalid argument(s)
  value``). The pin becomes the input of RMT channel 0 (``rmt_config`` → ``rmt_set_pin``): its own
  driver lets go of the line, so a line held low is released right there, and it stays an input
  (``pin(0)`` drives nothing) until the script configures the pin again (``init``, ``mode``, ``pull``).
* ``timeout`` is in milliseconds (FreeRTOS ticks, ``CONFIG_FREERTOS_HZ`` 1000; the documentation's
  "microseconds" is wrong): how long to wait for a whole frame. It is converted after the pin was taken
  (``mp_obj_get_int``: ``TypeError: can't convert str to int``); a negative timeout waits for ever.
* The receiver (:mod:`firmware_sim.hardware.rmt`) records from the first edge after it starts, and a
  frame is complete only once the line has kept its level for 65.535 ms after the last edge: a DHT22's
  answer (about 4 ms) comes back after about 70 ms, so ``pulses_get(pin, 100)`` gets it and
  ``pulses_get(pin, 50)`` gets ``[]``. The call returns when the frame is complete, or after ``timeout``
  with ``[]`` (a silent pin: no device, no train).
* The result is a list of ``(level, microseconds)`` tuples (``level0/duration0``, ``level1/duration1``
  of each RMT item), ending with ``(level, 0)`` after an odd number of pulses.

What the line carries comes from :mod:`firmware_sim.hardware.lines` (a device such as a DHT22 answering
the script's start signal, or a test's pulse train). Board time inside one call is modelled in
microseconds: the pin is released ``RELEASE_US`` into the call and the receiver starts ``RX_START_US``
into it. Between the script's own statements the simulator cannot tell its execution time from the
board's, so a release by ``pin(1)`` that came less than ``BACK_TO_BACK_HOST_S`` (host seconds) before
the call counts as ``STATEMENT_US`` before it, as on a board; a longer wait (a ``sleep_ms``) counts as
it is, and the answer may be over before the receiver starts. (These three figures are estimates of a
board's timing, chosen so that a line left low gives the 82 pulses public drivers expect.) The low
itself is measured in board time: under ``--time-scale`` a start signal with no sleep at all may look
long enough to a device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from network.coap.api.mpargs import check_count, to_int

from ..hardware import rmt
from ..hardware.lines import lines
from ..runtime import current, pins
from .machine.pin import find
from .machine.state import machine_part

if TYPE_CHECKING:
    from ..runtime.board import Board

RELEASE_US = 10  # rmt_config() switches the pin to the receiver's input
RX_START_US = 50  # rmt_rx_start()
STATEMENT_US = 30  # a Python statement on the board (pin(1), then the call)
BACK_TO_BACK_HOST_S = 0.002
WAIT_SLICE_S = 1.0  # board seconds per sleep while waiting for ever


def start_signal(
    drives: list[tuple[float, int | None]], call: float, scale: float
) -> tuple[float, float] | None:
    """(low since, released) in board seconds: the script's last hold of the line low, from the pin's
    drive changes after this call took the pin (``call``: the call's board time); None if none."""
    lows = [i for i, (_t, level) in enumerate(drives[:-1]) if level == 0]
    if not lows:
        return None
    low_since, released = drives[lows[-1]][0], drives[lows[-1] + 1][0]
    if released >= call:  # held low until now: this call released it
        return low_since, call + RELEASE_US / 1e6
    if (call - released) / scale < BACK_TO_BACK_HOST_S:
        return low_since, call - STATEMENT_US / 1e6
    return low_since, released


def pulses_get(*args, **kwargs) -> list[tuple[int, int]]:
    """``pulses_get(pin, timeout)`` -> ``[(level, us), ...]`` of what the pin's line carried."""
    check_count(args, kwargs, 2, 2)
    name = find(machine_part(), args[0]).id()
    board = current()
    bank = pins.bank(board)
    call = board.clock.elapsed()
    bank.change(name, routed=True)
    timeout_ms = to_int(args[1])
    signal = start_signal(list(bank.state(name).drives), call, board.clock.scale)
    enabled_at = call + RX_START_US / 1e6
    frame = rmt.receive(lines(board).carried(name, signal, enabled_at), enabled_at)
    deadline = None if timeout_ms < 0 else enabled_at + timeout_ms / 1000
    if frame.ready_at is not None and (deadline is None or frame.ready_at <= deadline):
        _sleep_until(board, frame.ready_at)
        return frame.pulses
    if deadline is None:
        while True:  # xRingbufferReceive(portMAX_DELAY) on a line that never delivers
            board.clock.sleep(WAIT_SLICE_S)
    _sleep_until(board, deadline)
    return []


def _sleep_until(board: Board, when: float) -> None:
    board.clock.sleep(when - board.clock.elapsed())
