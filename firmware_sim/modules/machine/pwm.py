"""``machine.PWM`` (``esp32/mods/machpwm.c``, Pycom 1.20.2.r6): four LEDC timers and their channels.

``PWM(timer, frequency)`` (re)configures timer 0..3 (``OSError: resource not available`` beyond) at up to
78000 Hz (``ValueError: invalid frequency N``), with the duty resolution the firmware picks from the
frequency (14 bits below 4 kHz ... 10 bits from 32 kHz). ``pwm.channel(id, *, pin, duty_cycle=0.5)``
starts channel 0..7 on a pin; ``channel.duty_cycle(d)`` sets a duty clamped to 0..1. The LEDC's eight
channels are shared by the timers: a channel started on another timer moves there.

The duty register keeps its raw value when the timer's frequency (and so its resolution) changes, as
on the chip, so a 50% duty set at 1 kHz (14 bits) reads as 100% at 5 kHz (13 bits). A duty of 0.999 or
more stops the channel with its pin held high.

Every change of what a pin outputs is one line of ``peripherals.jsonl`` (``environment.record``):
``{"source": "PWM", "timer": 0, "channel": 0, "pin": "P12", "frequency": 440, "duty": 0.499939}``,
``duty`` being the share of each period the pin is high (raw / 2**resolution).
"""

from __future__ import annotations

from dataclasses import dataclass

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ...runtime import environment
from .consts import RESOURCE_NOT_AVAILABLE, to_float
from .pin import find
from .seqargs import float32
from .state import Machine, machine_part

MAX_FREQUENCY = 78000
_NULL = object()
_TIMER_ARGS = (Param("timer"), Param("frequency"))
_CHANNEL_ARGS = (Param("id"), Param("pin", keyword_only=True), Param("duty_cycle", _NULL))


def resolution(frequency: int) -> int:
    """The duty resolution in bits machpwm.c gives a timer running at ``frequency``."""
    for below, bits in ((4000, 14), (8000, 13), (16000, 12), (32000, 11)):
        if frequency < below:
            return bits
    return 10


def _duty_fraction(value: object) -> float:
    """``mp_obj_get_float`` of a duty, clamped to 0..1 (single precision, as the board)."""
    return min(max(float32(to_float(value)), 0.0), 1.0)


@dataclass
class _Output:
    """One of the LEDC's eight high-speed channels: its timer, pin and duty register."""

    timer: int
    pin: str
    raw: int = 0
    high: bool = False  # stopped with the pin held high (a duty of 0.999 or more)


class _Ledc:
    """The LEDC peripheral of one board session: timer frequencies and channel outputs."""

    def __init__(self) -> None:
        self.frequency: dict[int, int] = {}
        self.bits: dict[int, int] = {}
        self.outputs: dict[int, _Output] = {}

    def set_duty(self, channel: int, duty: float, timer: int) -> None:
        """Set channel ``channel``'s duty register for ``duty`` at the resolution of ``timer`` (the one
        the channel object was made on) and record the output."""
        out = self.outputs[channel]
        top = (1 << self.bits[timer]) - 1
        raw = top if duty >= float32(0.999) else int(float32(float32(top * 1.0) * duty))
        out.high = raw == top
        if not out.high:
            out.raw = raw
        self.show(channel)

    def show(self, channel: int) -> None:
        """Record what channel ``channel``'s pin outputs now."""
        out = self.outputs[channel]
        share = 1.0 if out.high else min(out.raw / (1 << self.bits[out.timer]), 1.0)
        environment.record(
            "PWM",
            timer=out.timer,
            channel=channel,
            pin=out.pin,
            frequency=self.frequency[out.timer],
            duty=round(share, 6),
        )


def _ledc(machine: Machine) -> _Ledc:
    return machine.one(("PWM", "ledc"), _Ledc)


class PWM:
    """``machine.PWM``: one LEDC timer (one object per timer, as the firmware keeps them)."""

    _timer: int
    _ledc: _Ledc
    _channels: dict[int, PWMChannel]

    def __new__(cls, *args, **kwargs) -> PWM:
        timer_arg, frequency_arg = parse(args, kwargs, _TIMER_ARGS)
        timer, frequency = to_int(timer_arg), to_int(frequency_arg)
        if not 0 <= timer <= 3:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        machine = machine_part()
        self = machine.one(("PWM", timer), lambda: cls._made(machine, timer))
        self._configure(frequency)
        return self

    @classmethod
    def _made(cls, machine: Machine, timer: int) -> PWM:
        pwm = object.__new__(cls)
        pwm._timer = timer
        pwm._ledc = _ledc(machine)
        pwm._channels = {}
        return pwm

    def __init__(self, *args, **kwargs) -> None:
        """Everything is done by ``__new__`` (the firmware's make_new)."""

    def _configure(self, frequency: int) -> None:
        if not 0 <= frequency <= MAX_FREQUENCY:
            raise ValueError(f"invalid frequency {frequency}")
        ledc = self._ledc
        ledc.frequency[self._timer] = frequency
        ledc.bits[self._timer] = resolution(frequency)
        for number, out in sorted(ledc.outputs.items()):
            if out.timer == self._timer:
                ledc.show(number)

    def init(self, *args, **kwargs) -> None:
        """``init(frequency)``: a new frequency for the timer (its channels' duty registers stay)."""
        (frequency,) = parse(args, kwargs, _TIMER_ARGS[1:])
        self._configure(to_int(frequency))

    def channel(self, *args, **kwargs) -> PWMChannel:
        """``channel(id, *, pin, duty_cycle=0.5)``: start channel ``id`` (0..7) of this timer on ``pin``."""
        id_arg, pin_arg, duty_arg = parse(args, kwargs, _CHANNEL_ARGS)
        number = to_int(id_arg)
        if not 0 <= number <= 7:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        pin = find(machine_part(), pin_arg).id()
        duty = 0.5 if duty_arg is _NULL else _duty_fraction(duty_arg)
        made = self._channels.get(number)
        if made is None:
            made = self._channels[number] = PWMChannel._made(self._ledc, self._timer, number)
        self._ledc.outputs[number] = _Output(self._timer, pin)
        self._ledc.set_duty(number, duty, self._timer)
        return made


class PWMChannel:
    """A channel of a PWM timer (the firmware's type ``channel``): ``duty_cycle(d)`` only."""

    _ledc: _Ledc
    _timer: int
    _number: int

    def __new__(cls, *args, **kwargs) -> PWMChannel:
        raise TypeError("cannot create 'channel' instances")

    @classmethod
    def _made(cls, ledc: _Ledc, timer: int, number: int) -> PWMChannel:
        made = object.__new__(cls)
        made._ledc, made._timer, made._number = ledc, timer, number
        return made

    def duty_cycle(self, *args, **kwargs) -> None:
        """``duty_cycle(d)``: the share of each period the pin is high, 0.0 .. 1.0 (clamped)."""
        check_count((self, *args), kwargs, 2, 2)
        self._ledc.set_duty(self._number, _duty_fraction(args[0]), self._timer)


PWMChannel.__name__ = PWMChannel.__qualname__ = "channel"
