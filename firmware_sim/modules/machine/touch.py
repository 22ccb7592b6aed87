"""``machine.Touch`` (``esp32/mods/machtouch.c``, Pycom 1.20.2.r6; the type's own name is ``TouchPad``).

``Touch(pin)`` on one of the ESP32's ten touch pads (P2, P3, P4, P6, P8, P9, P10, P19, P20, P23; any
other pin is ``ValueError: invalid pin for touchpad``) waits 20 ms for the filter and keeps the value
then as ``init_value()``. ``read()`` is the pad's filtered raw value: the environment key
``touch/<pin>`` (``touch/P4``), :data:`UNTOUCHED` when the test set none. A finger lowers the value (a
few hundred against about a thousand). ``config(threshold)`` sets the interrupt threshold, which the
firmware never uses for a callback; ``init_value(v)`` replaces the value kept.
"""

from __future__ import annotations

from network.coap.api.mpargs import check_count, to_int

from ...runtime import current, environment, pins
from .pin import find
from .state import machine_part

UNTOUCHED = 1000  # what a pad reads with nothing near it, when the environment says nothing
TOUCH_GPIOS = (4, 0, 2, 15, 13, 12, 14, 27, 33, 32)  # touch_pad_t 0..9 (machtouch.c touchpad_obj)
FILTER_PERIOD_MS = 10  # TOUCHPAD_FILTER_TOUCH_PERIOD_MS


class Touch:
    """A touch pad: one object per pad."""

    _pin: str
    _init_value: int
    _threshold: int

    def __new__(cls, *args, **kwargs) -> Touch:
        check_count(args, {}, 1, 1)  # keywords are taken, and ignored
        pin = find(machine_part(), args[0]).id()
        if pins.GPIO[pin] not in TOUCH_GPIOS:
            raise ValueError("invalid pin for touchpad")
        pad = machine_part().one(("Touch", pin), lambda: cls._made(pin))
        pad._threshold = 0
        current().clock.sleep(2 * FILTER_PERIOD_MS / 1000)
        pad._init_value = pad._value()
        return pad

    @classmethod
    def _made(cls, pin: str) -> Touch:
        pad = object.__new__(cls)
        pad._pin, pad._init_value, pad._threshold = pin, 0, 0
        return pad

    def __init__(self, *args, **kwargs) -> None:
        """Everything is done by ``__new__`` (the firmware's make_new)."""

    def _value(self) -> int:
        value = environment.reading(f"touch/{self._pin}", UNTOUCHED)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return UNTOUCHED
        return int(value) & 0xFFFF  # a uint16_t

    def read(self, *args, **kwargs) -> int:
        """The pad's filtered value now (lower when touched)."""
        check_count((self, *args), kwargs, 1, 1)
        return self._value()

    def config(self, *args, **kwargs) -> None:
        """``config(threshold)``: the pad's interrupt threshold (``touch_pad_config``)."""
        check_count((self, *args), kwargs, 2, 2)
        self._threshold = to_int(args[0]) & 0xFFFF

    def init_value(self, *args, **kwargs) -> int | None:
        """The value read when the pad was set up; ``init_value(v)`` replaces it."""
        check_count((self, *args), kwargs, 1, 2)
        if args:
            self._init_value = to_int(args[0]) & 0xFFFF
            return None
        return self._init_value


Touch.__name__ = Touch.__qualname__ = "TouchPad"
