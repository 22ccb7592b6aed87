"""What ``machine`` keeps for a board: one :class:`Machine` per session, a part of the board.

The part is made ``per_session``: a soft reset in the process (the virtual board's Ctrl-D) closes it
(its alarms, watchdog, interrupt handlers and pin callbacks stop) and the next session gets a new one.
A hard reset or deep sleep re-executes the process, after :meth:`Machine.go_down`.

A peripheral file of this package (``pin.py``, ``uart.py`` ...) keeps its objects here with
:meth:`Machine.one` (one ``Pin('P10')``, one ``UART(1)``, one ``RTC`` per session), and a peripheral
with a background thread gets that thread's engine as an attribute of the part (``irq``, ``alarms``,
``watchdog``), so ``close()`` stops it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar

from ...runtime import current, pins
from .alarms import Alarms
from .irq import Interrupts
from .watchdog import Watchdog

if TYPE_CHECKING:
    from ...runtime.board import Board

T = TypeVar("T")


class Machine:
    """``machine``'s part of one board session: its IRQs thread, alarms, watchdog and peripherals."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.lock = threading.RLock()
        self.asleep = threading.Event()  # set: the session is over (sleep, reset, soft reset)
        self.irq = Interrupts(board, self.asleep)
        self.alarms = Alarms(board, self.asleep, self.irq)
        self.watchdog = Watchdog(board, self.asleep, self.go_down)
        self.wake_pins: tuple[list[str], int] | None = None  # pin_sleep_wakeup(): (pin names, mode)
        self._objects: dict[Hashable, object] = {}
        self._listening: set[str] = set()  # pins with a callback set in this session
        board.on_reset(self.silence)  # whatever takes the board down (a shield's PIC cutting its power)

    def one(self, key: Hashable, make: Callable[[], T]) -> T:
        """The session's one object for ``key`` (``('Pin', 'P10')``, ``('UART', 1)`` ...), made by
        ``make()`` on first use."""
        with self.lock:
            found = self._objects.get(key)
            if found is None:
                found = self._objects[key] = make()
            return found  # type: ignore[return-value]

    def listen(self, name: str, listener: Callable[[int, int], None] | None) -> None:
        """Call ``listener(old, new)`` on the level changes of pin ``name`` (None: no more)."""
        with self.lock:
            if listener is None:
                self._listening.discard(name)
            else:
                self._listening.add(name)
        pins.bank(self.board).set_listener(name, listener)

    def silence(self) -> None:
        """No interrupt handler, alarm or watchdog of this session runs any more."""
        self.asleep.set()
        self.irq.stop()

    def go_down(self) -> None:
        """The board is about to reset or deep-sleep: no interrupt runs any more, and the board's reset
        hooks run (the LED goes dark ...)."""
        self.asleep.set()
        self.irq.stop()
        self.board.going_down()

    def close(self) -> None:
        """The session ends (soft reset): its alarms, watchdog, queued handlers and pin callbacks stop."""
        self.asleep.set()
        self.irq.stop()
        self.alarms.wake()
        self.watchdog.wake()
        with self.lock:
            listening, self._listening = self._listening, set()
        bank = pins.bank(self.board)
        for name in listening:
            bank.set_listener(name, None)


def machine_part(board: Board | None = None) -> Machine:
    """The ``machine`` part of ``board``'s session (default: the board running in this process)."""
    return (current() if board is None else board).part(Machine, per_session=True)
