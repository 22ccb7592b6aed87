"""``machine.Pin`` (``machpin.c``): one object per GPIO pin, whatever name it is found by.

Pin levels are simulated by :mod:`firmware_sim.runtime.pins`: tests drive inputs and read outputs there
(or through the board's hidden ``pins.json`` / ``pins.jsonl`` files). ``Pin.callback`` handlers run in
the IRQs thread (:mod:`.irq`); re-configuring a pin clears its trigger, as ``pin_config()`` does.
"""

from __future__ import annotations

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ...runtime import pins
from .consts import INVALID_ARGUMENTS
from .state import Machine, machine_part

_NULL = object()
_PIN_INIT = (Param("mode", _NULL), Param("pull", None), Param("value", _NULL, True), Param("alt", None, True))
_PIN_CALLBACK = (Param("trigger", 0), Param("handler", None), Param("arg", None))
_MODE_NAMES = {1: "IN", 2: "OUT", 7: "OPEN_DRAIN"}
_PULL_NAMES = {1: "PULL_UP", 2: "PULL_DOWN"}


def find(machine: Machine, pin_id: object) -> Pin:
    """``pin_find``: a Pin, or a module (``'P10'``) or expansion board (``'G17'``) pin name."""
    if isinstance(pin_id, Pin):
        return pin_id
    name = pins.canonical(pin_id) if isinstance(pin_id, str) else None
    if name is None:
        raise ValueError(INVALID_ARGUMENTS)
    return pin_named(machine, name)


def pin_named(machine: Machine, name: str) -> Pin:
    """The session's Pin object for module pin ``name`` (``'P10'``)."""
    return machine.one(("Pin", name), lambda: Pin._made(machine, name))


class _PinGroup:
    """``Pin.module`` / ``Pin.exp_board``: the board's pins by name. On the board each is a type object
    (``pin_module_pins_obj_type`` named ``cpu``, ``pin_exp_board_pins_obj_type`` named ``board``), so it
    prints as ``<class 'cpu'>`` and a missing name is the type's AttributeError."""

    def __init__(self, type_name: str, names: dict[str, str]) -> None:
        self._type_name = type_name
        self._names = names

    def __getattr__(self, name: str) -> Pin:
        target = self._names.get(name)
        if target is None:
            raise AttributeError(f"type object '{self._type_name}' has no attribute '{name}'")
        return pin_named(machine_part(), target)

    def __dir__(self) -> list[str]:
        return sorted(self._names)

    def __repr__(self) -> str:
        return f"<class '{self._type_name}'>"


class Pin:
    """A GPIO pin: one object per pin, whatever name it is found by."""

    IN, OUT, OPEN_DRAIN = pins.IN, pins.OUT, pins.OPEN_DRAIN
    PULL_UP, PULL_DOWN = pins.PULL_UP, pins.PULL_DOWN
    IRQ_RISING, IRQ_FALLING, IRQ_LOW_LEVEL, IRQ_HIGH_LEVEL = 1, 2, 4, 5

    module = _PinGroup("cpu", {name: name for name in pins.GPIO})
    exp_board = _PinGroup("board", pins.EXP_BOARD)

    _machine: Machine
    _name: str
    _alt: int
    _hold: bool
    _trigger: int

    def __new__(cls, *args, **kwargs) -> Pin:
        if not args:
            raise TypeError("function missing 1 required positional arguments")
        return find(machine_part(), args[0])

    def __init__(self, *args, **kwargs) -> None:
        self._configure(args[1:], kwargs)

    @classmethod
    def _made(cls, machine: Machine, name: str) -> Pin:
        """A new Pin object for ``name`` (``Pin(...)`` finds the existing one instead)."""
        pin = object.__new__(cls)
        pin._machine = machine
        pin._name = name
        pin._alt = -1
        pin._hold = False
        pin._trigger = 0
        return pin

    def _bank(self) -> pins.PinBank:
        return pins.bank(self._machine.board)

    def _configure(self, args: tuple, kwargs: dict) -> None:
        mode, pull, value, alt = parse(args, kwargs, _PIN_INIT)
        mode = pins.IN if mode is _NULL else _valid_mode(mode)
        pull = None if pull is None else _valid_pull(pull)
        alt = -1 if alt is None else to_int(alt)
        if alt > 255:
            raise ValueError(INVALID_ARGUMENTS)
        self._alt = alt
        fields: dict[str, object] = {"mode": mode, "pull": pull}
        if value is not _NULL:
            fields["latch"] = 1 if value else 0
        # pin_config() clears the interrupt trigger: a re-initialised pin calls no handler
        self._trigger = 0
        self._machine.listen(self._name, None)
        self._bank().change(self._name, **fields)

    def init(self, *args, **kwargs) -> None:
        """Configure the pin: ``init(mode=Pin.IN, pull=None, *, value, alt)``."""
        self._configure(args, kwargs)

    def value(self, *args, **kwargs) -> int | None:
        """The pin's level (an output: its latch); ``value(v)`` sets the output."""
        check_count((self, *args), kwargs, 1, 2)
        bank = self._bank()
        if not args:
            st = bank.state(self._name)
            return st.latch if st.mode == pins.OUT else bank.level(self._name)
        bank.change(self._name, latch=1 if args[0] else 0)
        return None

    def __call__(self, *args, **kwargs) -> int | None:
        check_count(args, kwargs, 0, 1)
        return self.value(*args)

    def toggle(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        bank = self._bank()
        bank.change(self._name, latch=0 if bank.state(self._name).latch else 1)

    def id(self, *args, **kwargs) -> str:
        check_count((self, *args), kwargs, 1, 1)
        return self._name

    def mode(self, *args, **kwargs) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        bank = self._bank()
        if not args:
            return bank.state(self._name).mode
        bank.change(self._name, mode=_valid_mode(args[0]))
        return None

    def pull(self, *args, **kwargs) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        bank = self._bank()
        if not args:
            return bank.state(self._name).pull
        bank.change(self._name, pull=None if args[0] is None else _valid_pull(args[0]))
        return None

    def hold(self, *args, **kwargs) -> bool | None:
        """Keep the pin's output level (RTC-domain pins only)."""
        check_count((self, *args), kwargs, 1, 2)
        if not args:
            return self._hold
        self._hold = bool(args[0])
        if pins.GPIO[self._name] not in pins.RTC_GPIOS:
            raise OSError("the hold functionality is only available for GPIO pins in the RTC domain")
        bank = self._bank()
        bank.change(self._name, hold=self._hold, held=bank.state(self._name).latch)
        return None

    def callback(self, *args, **kwargs) -> None:
        """``callback(trigger, handler=None, arg=None)``: call ``handler(arg or pin)`` on the trigger."""
        trigger, handler, arg = parse(args, kwargs, _PIN_CALLBACK)
        trigger = to_int(trigger)
        bank = self._bank()
        if trigger == 0 or handler is None:
            self._trigger = 0
            self._machine.listen(self._name, None)
            return
        self._trigger = trigger
        irq = self._machine.irq
        payload = self if arg is None else arg

        def on_change(_old: int, new: int) -> None:
            if _fires(trigger, new, edge=True):
                irq.put(handler, payload)

        self._machine.listen(self._name, on_change)
        if bank.state(self._name).mode != pins.OUT and _fires(trigger, bank.level(self._name), edge=False):
            irq.put(handler, payload)  # a level trigger whose level is already there

    def __repr__(self) -> str:
        st = self._bank().state(self._name)
        pull = "None" if st.pull is None else f"Pin.{_PULL_NAMES[st.pull]}"
        return f"Pin('{self._name}', mode=Pin.{_MODE_NAMES[st.mode]}, pull={pull}, alt={self._alt})"


def _fires(trigger: int, level: int, *, edge: bool) -> bool:
    """Does a change to ``level`` (``edge``) or the level itself fire ``trigger`` (ESP-IDF intr types)?"""
    if trigger in (4, 5):  # low / high level: once each time the pin reaches that level
        return level == (1 if trigger == 5 else 0)
    if not edge:
        return False
    return trigger == 3 or (trigger == 1 and level == 1) or (trigger == 2 and level == 0)


def _valid_mode(mode: object) -> int:
    value = to_int(mode)
    if value not in (pins.IN, pins.OUT, pins.OPEN_DRAIN):
        raise ValueError(INVALID_ARGUMENTS)
    return value


def _valid_pull(pull: object) -> int:
    value = to_int(pull)
    if value not in (pins.PULL_UP, pins.PULL_DOWN):
        raise ValueError(INVALID_ARGUMENTS)
    return value
