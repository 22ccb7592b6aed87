"""What a single-wire line carries when a script listens to it (``pycom.pulses_get``): a device attached to
the pin that answers the script's start signal, or a plain pulse train the test sets.

Both come from the environment (:mod:`firmware_sim.runtime.environment`, constants or timelines):

* ``devices/<Pin>``: the device on that pin's line, ``"dht22"`` (or ``"am2302"``), or an object with a
  ``"type"`` and the device's own values (``{"type": "dht22", "temperature": 30.5, "humidity": 41}``);
  see :mod:`.dht`. ``<Pin>`` is the module name (``P23``) or the expansion board's (``G10``). An unknown
  type is no device.
* ``pulses/<Pin>``: a list of ``[level, microseconds]``: what the line does each time a receiver starts
  listening (on a pin with no device): it goes from the other level to the first entry's level just
  after the receiver starts, then through the entries, then to the level opposite the last one for good
  (a last entry of 0 us, as ``pulses_get`` ends a list with, is that level). A list ``pulses_get``
  returned, fed back here, comes back the same.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..runtime import current, pins
from ..runtime.environment import environment
from .dht import Dht22
from .rmt import Waveform

if TYPE_CHECKING:
    from ..runtime.board import Board

DEVICE_TYPES = {"dht22": Dht22, "am2302": Dht22}


def _names(pin: str) -> list[str]:
    """The keys a test may use for module pin ``pin``: ``P10`` and its expansion board name ``G17``."""
    return [pin, *(g for g, p in pins.EXP_BOARD.items() if p == pin)]


class Lines:
    """The devices on the pins of one board (a board part: kept across soft resets, as the sensors
    stay powered)."""

    def __init__(self, board: Board) -> None:
        self._env = environment(board)
        self._lock = threading.Lock()
        self._devices: dict[str, Dht22] = {}

    def _entry(self, kind: str, pin: str) -> Any:
        for name in _names(pin):
            found = self._env.reading(f"{kind}/{name}")
            if found is not None:
                return found
        return None

    def device(self, pin: str) -> tuple[Dht22, object] | None:
        """The device attached to ``pin`` and its environment entry now, or None."""
        settings = self._entry("devices", pin)
        kind = settings.get("type") if isinstance(settings, dict) else settings
        made = DEVICE_TYPES.get(kind.lower()) if isinstance(kind, str) else None
        if made is None:
            return None
        with self._lock:
            found = self._devices.get(pin)
            if found is None or not isinstance(found, made):
                found = self._devices[pin] = made(self._env.reading)
        return found, settings

    def carried(self, pin: str, signal: tuple[float, float] | None, listening: float) -> Waveform | None:
        """The line of ``pin`` for a receiver that starts at board time ``listening``, after the
        script's start ``signal`` (low since, released) if any: the device's answer, or else the
        test's pulse train (None: a silent line)."""
        found = self.device(pin)
        if found is None:
            return self.pulse_train(pin, listening + 1e-6)
        device, settings = found
        return None if signal is None else device.start_signal(*signal, settings)

    def pulse_train(self, pin: str, start: float) -> Waveform | None:
        """``pulses/<Pin>`` as the line from board time ``start`` on (None: unset or not a train)."""
        train = self._entry("pulses", pin)
        if not isinstance(train, list):
            return None
        pulses: list[tuple[int, float]] = []
        for i, entry in enumerate(train):
            if not (isinstance(entry, list) and len(entry) == 2):
                return None
            level, length = entry
            if not isinstance(length, (int, float)) or isinstance(length, bool) or length < 0:
                return None
            if length == 0 and i < len(train) - 1:
                return None
            pulses.append((1 if level else 0, float(length)))
        if pulses and pulses[-1][1] == 0:  # an end marker, as pulses_get returns one: the level for good
            pulses.pop()
        if not pulses:
            return None
        return Waveform(start=start, before=1 - pulses[0][0], pulses=tuple(pulses), after=1 - pulses[-1][0])


def lines(board: Board | None = None) -> Lines:
    """The single-wire devices of ``board`` (default: the board running in this process)."""
    return (current() if board is None else board).part(Lines)
