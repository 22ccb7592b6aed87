"""``machine.DAC`` (Pycom 1.20.2.r6, ``esp32/mods/pybdac.c``): the ESP32's two 8-bit DACs, on ``P22``
(GPIO 25, DAC 0) and ``P21`` (GPIO 26, DAC 1) only.

``write(v)`` sets a DC level (``v`` clipped to 0..1, scaled to 0..255 as the firmware does in single
precision); ``tone(freq, scale)`` starts the cosine generator (125..20000 Hz requested; the step the
firmware computes, shared by both DACs, gives ``8 MHz * (step + 1) / 65536``; ``scale`` 0..3 halves
the amplitude each step). Every change is one line of ``peripherals.jsonl``:
``{"source": "DAC", "pin": "P22", "enabled": true, "value": 127, "volts": 1.644}`` for a level,
``{"source": "DAC", "pin": "P22", "enabled": true, "tone_hz": 1098.6, "freq": 1000, "scale": 0}`` for a
tone (``volts`` assumes the 3.3 V supply). ``DAC(pin)`` and ``init()`` enable the output without
changing it, as the firmware does (the level shows at the next ``write``).
"""

from __future__ import annotations

import math
import struct
from typing import Any

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ...runtime import environment, pins
from .consts import RESOURCE_NOT_AVAILABLE, to_float
from .pin import find
from .state import machine_part

DAC_PINS = {25: 0, 26: 1}  # GPIO -> DAC id
_SUPPLY = 3.3


def _f32(value: float) -> float:
    """``value`` rounded to a C float (MicroPython's floats on the ESP32 are single precision)."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


class DAC:
    """``machine.DAC(pin)``: ``'P22'`` or ``'P21'``."""

    _id: int
    _pin: str
    _enabled: bool
    _tone: bool
    _dc: int
    _scale: int
    _step: int  # tone_step, kept by DAC 0 for both, as the firmware does

    def __new__(cls, *args: Any, **kwargs: Any) -> DAC:
        (pin_arg,) = parse(args, kwargs, (Param("pin", None),))
        if pin_arg is None:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        machine = machine_part()
        name = find(machine, pin_arg).id()
        dac_id = DAC_PINS.get(pins.GPIO[name])
        if dac_id is None:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        self = _dac(dac_id)
        self._enabled = True
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """All done by ``__new__`` (the firmware's ``make_new``)."""

    @classmethod
    def _made(cls, dac_id: int) -> DAC:
        dac = object.__new__(cls)
        dac._id, dac._pin = dac_id, "P22" if dac_id == 0 else "P21"
        dac._enabled = dac._tone = False
        dac._dc = dac._scale = dac._step = 0
        return dac

    def init(self, *args: Any, **kwargs: Any) -> None:
        parse(args, kwargs, ())
        self._enabled = True

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._enabled = False
        self._dc = 0
        self._output()

    def write(self, *args: Any, **kwargs: Any) -> None:
        """``write(value)``: a DC level, ``value`` from 0 to 1 (clipped)."""
        check_count((self, *args), kwargs, 2, 2)
        value = _f32(to_float(args[0]))
        value = 1.0 if value > 1.0 else 0.0 if value < 0.0 or math.isnan(value) else value
        self._tone, self._dc, self._scale = False, int(_f32(255.0 * value)), 0
        _dac(0)._step = 0
        self._output()

    def tone(self, *args: Any, **kwargs: Any) -> None:
        """``tone(freq, scale)``: a cosine of 125..20000 Hz, amplitude scale 0..3."""
        freq, scale = (to_int(v) for v in parse(args, kwargs, (Param("freq"), Param("scale"))))
        freq &= 0xFFFF  # uint16_t
        if not 125 <= freq <= 20000:
            raise ValueError("tone frequency out of range")
        _dac(0)._step = ((freq + 125) * (1 << 16) // 8000000 - 1) & 0xFFFF
        scale &= 0xFFFF
        if scale > 3:
            raise ValueError("tone scale out of range")
        self._scale, self._tone, self._dc = scale, True, 0
        self._output(freq)

    def _output(self, freq: int | None = None) -> None:
        """``set_dac``: what the pin now puts out, one line of ``peripherals.jsonl``."""
        fields: dict[str, Any] = {"pin": self._pin, "enabled": self._enabled}
        if self._tone:
            step = _dac(0)._step
            fields.update(tone_hz=round(8e6 * (step + 1) / 65536, 1), freq=freq, scale=self._scale)
        else:
            fields.update(value=self._dc, volts=round(_SUPPLY * self._dc / 255, 3))
        environment.record("DAC", board=machine_part().board, **fields)

    def __repr__(self) -> str:
        return "DAC()"  # the firmware prints its id (0 or 1) with %q: both are the empty qstr


def _dac(dac_id: int) -> DAC:
    """The session's DAC object ``dac_id``."""
    return machine_part().one(("DAC", dac_id), lambda: DAC._made(dac_id))
