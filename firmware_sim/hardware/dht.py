"""A DHT22 (AM2302) humidity and temperature sensor on a single-wire line, from its datasheet (Aosong).

A test attaches one to a pin in the environment (see :mod:`.lines`): ``"devices": {"P23": "dht22"}``
reads the environment's ``temperature`` (deg C) and ``humidity`` (%RH);
``{"P23": {"type": "dht22", "temperature": 30.5, "humidity": 41}}`` gives that sensor its own values
(each may be a timeline). Unset, it reads 20.0 deg C and 50.0 %RH.

What the sensor does:

* A start signal is the host holding the line low for at least 1 ms (datasheet: 0.8 ms minimum, 1 ms
  typical) and releasing it; the sensor answers each start signal once.
* Its answer, from the release on: the line stays high (pull-up) 30 us, the sensor pulls it low 80 us and
  lets it go high 80 us, then sends 40 bits, most significant first, each a 50 us low and a high of 26 us
  for a 0 or 70 us for a 1, then a last 50 us low, and releases the line (high).
* The 40 bits: humidity x 10 (16 bits), temperature x 10 (15 bits, the top bit set below 0 deg C),
  then the low byte of the sum of those four bytes. Values are rounded to 0.1 and kept within the
  sensor's range (0 to 99.9 %RH, -40 to 80 deg C).
* It sends what it measured after the previous transmission (the datasheet's note: the host always reads
  the previous measurement; read twice for a fresh value). The first answer after power-on (board
  boot here) sends what the environment says then.

Not modelled: the 2 s minimum between readings, the sensor's start-up time, the line's levels between
start signals as ``Pin.value()`` would poll them (only ``pycom.pulses_get`` sees the answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .rmt import Waveform

START_MIN_S = 0.001 - 1e-6  # the shortest start signal answered (board seconds)
T_GO_US = 30  # the sensor's delay after the release
RESPONSE_LOW_US, RESPONSE_HIGH_US = 80, 80
BIT_LOW_US, ZERO_HIGH_US, ONE_HIGH_US = 50, 26, 70
END_LOW_US = 50
DEFAULT_TEMPERATURE, DEFAULT_HUMIDITY = 20.0, 50.0


def _number(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def encode(temperature: float, humidity: float) -> bytes:
    """The 5 bytes the sensor sends for these values."""
    rh = max(0, min(999, round(humidity * 10)))
    t = max(-400, min(800, round(temperature * 10)))
    t_word = (0x8000 | -t) if t < 0 else t
    data = bytes([rh >> 8, rh & 0xFF, t_word >> 8, t_word & 0xFF])
    return data + bytes([sum(data) & 0xFF])


def answer(data: bytes) -> tuple[tuple[int, float], ...]:
    """The line after the release, for ``data``: (level, microseconds) until the sensor lets go."""
    pulses: list[tuple[int, float]] = [(1, T_GO_US), (0, RESPONSE_LOW_US), (1, RESPONSE_HIGH_US)]
    for byte in data:
        for bit in range(7, -1, -1):
            pulses += [(0, BIT_LOW_US), (1, ONE_HIGH_US if byte >> bit & 1 else ZERO_HIGH_US)]
    pulses.append((0, END_LOW_US))
    return tuple(pulses)


class Dht22:
    """One sensor on one pin; ``settings()`` is its environment entry now (a dict or a type name)."""

    kind = "dht22"

    def __init__(self, reading: Callable[[str, Any], Any]) -> None:
        self._reading = reading  # the environment's reading(key, default) on the board's clock
        self._answered: float | None = None  # when the line went low for the start signal answered last
        self._stored: bytes | None = None  # measured after the last transmission

    def _measure(self, settings: object) -> bytes:
        own = settings if isinstance(settings, dict) else {}
        temperature = own.get("temperature", self._reading("temperature", DEFAULT_TEMPERATURE))
        humidity = own.get("humidity", self._reading("humidity", DEFAULT_HUMIDITY))
        return encode(_number(temperature, DEFAULT_TEMPERATURE), _number(humidity, DEFAULT_HUMIDITY))

    def start_signal(self, low_since: float, released: float, settings: object) -> Waveform | None:
        """The line from ``released`` on, after the host held it low from ``low_since`` (board
        seconds); None when the sensor does not answer (too short, or already answered)."""
        if released - low_since < START_MIN_S or self._answered == low_since:
            return None
        self._answered = low_since
        data = self._stored if self._stored is not None else self._measure(settings)
        self._stored = self._measure(settings)  # the measurement the next start signal gets
        return Waveform(start=released, before=0, pulses=answer(data), after=1)
