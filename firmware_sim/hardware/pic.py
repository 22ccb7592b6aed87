"""The expansion board's co-processor: the PIC16F1459 of Pysense and Pytrack, on I2C address 8.

Its firmware is Pycom's; what it does is what ``pycoproc_1.py`` / ``pycoproc_2.py`` (Pycom's public
libraries) rely on. A master writes a command and its arguments; every read returns a status byte
(0xFF once the command is done) followed by the command's answer, so ``_wait`` polls one byte and
``_read(n)`` reads ``n + 1`` and drops the first:

* ``0x00`` PEEK addr_l addr_h -> the byte of data memory; ``0x01`` POKE addr_l addr_h value; ``0x02``
  MAGIC addr_l addr_h and or xor -> the byte becomes ``((b & and) | or) ^ xor``, answered.
* ``0x10`` HW_VER, ``0x11`` FW_VER, ``0x12`` PROD_ID (the USB product id: 0xF012 Pysense, 0xF013
  Pytrack) -> 16 bits, low byte first.
* ``0x20`` SETUP_SLEEP s0 s1 s2: the sleep time in seconds (24 bits); ``0x21`` GO_SLEEP (version 1)
  and ``0x23`` GO_NAP options (version 2; FIPY_OFF = 0x08) switch the module off for that time;
  ``0x22`` CALIBRATE (its RTC; nothing to measure here: no pulses come on P21, so the library keeps
  its factor 1); ``0x30`` BAUD_CHANGE, ``0x31`` DFU: acknowledged; ``0x40`` RESET (version 2) resets
  the PIC (its memory back to power-on values; the module keeps running).

Data memory: the registers the libraries touch behave as the PIC16F1459's (datasheet): ANSELx, TRISx,
LATx (a PORT write goes to LAT), PORTA reads RA3 (the board's button, low while pressed: the
environment's ``button``) and RA5 (the accelerometer's INT1 line, the module's P13), PORTC reads RC1
(on version 2 the module's P9); the ADC (ADCON0 GO with ADON) converts AN6, the battery through the
board's 180k/280k divider and a 10 mV FET drop (the environment's ``battery`` volts), 10 bits against
3.3 V, left or right justified by ADCON1's ADFM, into ADRESH:ADRESL. ``0x064C`` holds the wake reason
(1 accelerometer, 2 button, 4 timer, 8 INT pin), ``0x064D``..``0x064F`` the seconds of sleep left.

Sleep: with the module switched off (GO_SLEEP, or GO_NAP with FIPY_OFF), the board goes down as a
reset does, waits the sleep time on the board clock (or until the button, the accelerometer line with
IOCAP/IOCAN bit 5, or the INT pin with INTCON's INTE and OPTION_REG's INTEDG wakes it), then powers
the module up again: ``Board.reboot`` with ``PWRON_RESET`` (the module was unpowered). A nap without
FIPY_OFF leaves the module on: the PIC does not answer on the bus (a NACK) until its time is up or a
wake source fires (pycoproc_2's ``wake_up()`` toggles P9 = RC1). The PIC's memory, sleep time and nap
outlive the module's resets (kept in ``BoardState.shield_state``), not a power cycle of the board.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..runtime import environment, pins
from ..runtime.state import PWRON_RESET, PWRON_WAKE
from .registers import clamp, number

if TYPE_CHECKING:
    from ..runtime.board import Board

ADDRESS = 8
DONE = 0xFF
DEFAULT_BATTERY = 4.2  # volts, when the environment sets none
CMD_PEEK, CMD_POKE, CMD_MAGIC = 0x00, 0x01, 0x02
CMD_HW_VER, CMD_FW_VER, CMD_PROD_ID = 0x10, 0x11, 0x12
CMD_SETUP_SLEEP, CMD_GO_SLEEP, CMD_CALIBRATE, CMD_GO_NAP = 0x20, 0x21, 0x22, 0x23
CMD_BAUD_CHANGE, CMD_DFU, CMD_RESET = 0x30, 0x31, 0x40
FIPY_OFF = 0x08  # GO_NAP option: switch the module off

INTCON, PORTA, PORTC, TRISA, TRISC, OPTION_REG = 0x00B, 0x00C, 0x00E, 0x08C, 0x08E, 0x095
ADRESL, ADRESH, ADCON0, ADCON1 = 0x09B, 0x09C, 0x09D, 0x09E
LATA, LATC = 0x10C, 0x10E
IOCAP, IOCAN = 0x391, 0x392
WAKE_REASON = 0x064C  # then 3 bytes: the sleep seconds left, low byte first
PORT_TO_LAT = {0x00C: 0x10C, 0x00D: 0x10D, 0x00E: 0x10E}
RESET_VALUES = {0x08C: 0xFF, 0x08D: 0xFF, 0x08E: 0xFF, OPTION_REG: 0xFF,
                0x18C: 0x10, 0x18D: 0x30, 0x18E: 0xCF, 0x20C: 0x3F}  # fmt: skip

WAKE_ACCELEROMETER, WAKE_BUTTON, WAKE_TIMER, WAKE_INT_PIN = 1, 2, 4, 8
GO, ADON, ADFM = 0x02, 0x01, 0x80
AN_BATTERY = 6
VDD = 3.3
DIVIDER = 180.0 / 280.0  # the battery's divider into AN6
FET_DROP = 0.01  # volts
INTE, INTEDG, IOC_RA5 = 0x10, 0x40, 0x20
ACCEL_LINE = "P13"  # RA5: the accelerometer's INT1, also wired to the module's P13
WAKE_POLL = 0.002  # host seconds between looks at the wake sources while asleep (an edge is short)


def battery_code(volts: float) -> int:
    """The 10-bit ADC result for a battery of ``volts`` (what ``read_battery_voltage`` inverts)."""
    return clamp((volts - FET_DROP) * DIVIDER / VDD * 1023, 0, 1023)


class PIC:
    """The co-processor of one expansion board: ``version`` 1 or 2, its USB ``product_id``;
    ``bus(on)`` puts it on its I2C bus or takes it off (a napping PIC does not acknowledge);
    ``rc1_pin`` the module pin wired to its RC1 (version 2: P9)."""

    address = ADDRESS

    def __init__(
        self,
        board: Board,
        version: int,
        product_id: int,
        bus: Callable[[bool], None],
        rc1_pin: str | None = None,
    ) -> None:
        self._board = weakref.ref(board)
        self.version, self.product_id, self.rc1_pin = version, product_id, rc1_pin
        self.fw_version = 8 if version == 1 else 16
        self._bus = bus
        self._lock = threading.RLock()
        saved = board.state.shield_state.get("pic", {})
        self.memory: dict[int, int] = dict(RESET_VALUES)
        self.memory.update({int(k): v for k, v in saved.get("memory", {}).items()})
        self.sleep_s: int = saved.get("sleep", 0)
        self.nap_until: float | None = saved.get("nap_until")  # host monotonic time
        self._out = bytes([DONE])
        board.on_reset(self.save)

    @property
    def board(self) -> Board:
        board = self._board()
        if board is None:  # pragma: no cover
            raise RuntimeError("the board of this PIC has ended")
        return board

    def save(self) -> None:
        """Keep the PIC's state across the module's reset (the PIC stays powered)."""
        self.board.state.shield_state["pic"] = {
            "memory": {str(k): v for k, v in self.memory.items() if RESET_VALUES.get(k, 0) != v},
            "sleep": self.sleep_s,
            "nap_until": self.nap_until,
        }

    def resume(self) -> None:
        """At the module's boot: a nap that began before its reset goes on."""
        if self.nap_until is None:
            return
        left = self.nap_until - time.monotonic()
        if left > 0:
            self._nap(self.board.clock.scale * left)
        else:
            self._woken(WAKE_TIMER, 0.0)  # its time ran out while the module was resetting

    # -- the bus -------------------------------------------------------------------------------------

    def read(self, n: int, stop: bool = True) -> bytes:
        with self._lock:
            return (self._out + bytes([DONE]) * n)[:n]

    def write(self, data: bytes, stop: bool = True) -> None:
        if not data:
            return
        with self._lock:
            answer, sleep = self._command(bytes(data))
            self._out = bytes([DONE]) + answer
        if sleep is not None:
            self._sleep(sleep)

    def _command(self, data: bytes) -> tuple[bytes, int | None]:
        """The answer to a command, and the GO_NAP options (GO_SLEEP: FIPY_OFF) if it sends to sleep."""
        command, args = data[0], data[1:]
        addr = args[0] | (args[1] << 8) if len(args) >= 2 else 0
        if command == CMD_PEEK and len(args) >= 2:
            return bytes([self.peek(addr)]), None
        if command == CMD_POKE and len(args) >= 3:
            self.poke(addr, args[2])
        elif command == CMD_MAGIC and len(args) >= 5:
            self.poke(addr, ((self.peek(addr) & args[2]) | args[3]) ^ args[4])
            return bytes([self.peek(addr)]), None
        elif command in (CMD_HW_VER, CMD_FW_VER, CMD_PROD_ID):
            value = {CMD_HW_VER: self.version, CMD_FW_VER: self.fw_version}.get(command, self.product_id)
            return bytes([value & 0xFF, value >> 8]), None
        elif command == CMD_SETUP_SLEEP and len(args) >= 3:
            self.sleep_s = args[0] | (args[1] << 8) | (args[2] << 16)
        elif command == CMD_GO_SLEEP and self.version == 1:
            return b"", FIPY_OFF
        elif command == CMD_GO_NAP and self.version == 2:
            return b"", args[0] if args else 0
        elif command == CMD_RESET and self.version == 2:
            self.memory, self.sleep_s, self.nap_until = dict(RESET_VALUES), 0, None
        return b"", None

    # -- data memory ---------------------------------------------------------------------------------

    def _level(self, pin: str | None) -> int:
        return pins.bank(self.board).level(pin) if pin is not None else 0

    def _inputs(self, port: int) -> int:
        """What the port's input pins read now."""
        if port == PORTA:
            pressed = environment.reading("button", False, self.board)
            return (0 if pressed else 0x08) | (0x20 if self._level(ACCEL_LINE) else 0)
        if port == PORTC:
            return 0x02 if self._level(self.rc1_pin) else 0
        return 0

    def peek(self, addr: int) -> int:
        with self._lock:
            if addr in PORT_TO_LAT:
                tris = self.memory.get(addr - PORTA + TRISA, 0xFF)
                latch = self.memory.get(PORT_TO_LAT[addr], 0)
                return (latch & ~tris | self._inputs(addr) & tris) & 0xFF
            return self.memory.get(addr, 0)

    def poke(self, addr: int, value: int) -> None:
        with self._lock:
            self.memory[PORT_TO_LAT.get(addr, addr)] = value & 0xFF
            if addr == ADCON0 and value & GO and value & ADON:
                self._convert((value >> 2) & 0x1F)
                self.memory[ADCON0] = value & ~GO & 0xFF

    def _convert(self, channel: int) -> None:
        """One ADC conversion of ``channel`` into ADRESH:ADRESL."""
        code = 0
        if channel == AN_BATTERY:
            code = battery_code(number(environment.reading("battery", DEFAULT_BATTERY, self.board), 4.2))
        if self.memory.get(ADCON1, 0) & ADFM:
            self.memory[ADRESH], self.memory[ADRESL] = code >> 8, code & 0xFF
        else:
            self.memory[ADRESH], self.memory[ADRESL] = code >> 2, (code & 0x03) << 6

    # -- sleep ---------------------------------------------------------------------------------------

    def _sleep(self, options: int) -> None:
        if not options & FIPY_OFF:
            self._nap(float(self.sleep_s))
            return
        board = self.board
        board.going_down()  # the module loses its power: its LED, timers and interrupts stop
        reason, left = self._wait_for_wake(self.sleep_s)
        self._woken(reason, left)
        board.reboot(PWRON_RESET, PWRON_WAKE, why="the expansion board's PIC switched the module off")

    def _woken(self, reason: int, left: float) -> None:
        seconds = clamp(left, 0, (1 << 24) - 1)
        with self._lock:
            self.memory[WAKE_REASON] = reason
            for i in range(3):
                self.memory[WAKE_REASON + 1 + i] = (seconds >> (8 * i)) & 0xFF
            self.nap_until = None
            self.save()

    def _nap(self, seconds: float) -> None:
        """Nap ``seconds`` board seconds off the bus (the module stays on), in a thread of ours."""
        board = self.board
        self.nap_until = time.monotonic() + board.clock.host_seconds(seconds)
        self._bus(False)
        levels = self._lines()  # an edge from now on wakes it

        def nap() -> None:
            reason, left = self._wait_for_wake(seconds, levels)
            if pins.is_running(board):
                self._woken(reason, left)
                self._bus(True)
            board.own_threads.discard(threading.get_ident())

        thread = threading.Thread(target=nap, name="PIC nap", daemon=True)
        thread.start()
        if thread.ident is not None:
            board.own_threads.add(thread.ident)

    def _lines(self) -> tuple[int, int]:
        """The levels of the lines that wake it by an edge: the accelerometer's, RC1."""
        return self._level(ACCEL_LINE), self._level(self.rc1_pin)

    def _wait_for_wake(self, seconds: float, levels: tuple[int, int] | None = None) -> tuple[int, float]:
        """Wait ``seconds`` board seconds (0: no timer) or until a wake source fires (an edge after
        ``levels``): (reason, board seconds left)."""
        board = self.board
        end = time.monotonic() + board.clock.host_seconds(seconds) if seconds > 0 else None
        before = self._lines() if levels is None else levels
        while pins.is_running(board):
            left = 0.0 if end is None else max(end - time.monotonic(), 0.0) * board.clock.scale
            now = self._lines()
            reason = self._wake_source(before, now)
            if reason:
                return reason, left
            if end is not None and left <= 0:
                return WAKE_TIMER, 0.0
            before = now
            time.sleep(WAKE_POLL if end is None else min(WAKE_POLL, max(end - time.monotonic(), 0.0)))
        return WAKE_TIMER, 0.0

    def _wake_source(self, before: tuple[int, int], now: tuple[int, int]) -> int:
        """The wake reason if the button is down or an enabled edge came on the accelerometer's line
        (IOCAP/IOCAN bit 5) or RC1 (INTE, on INTEDG's edge) between ``before`` and ``now``, else 0."""
        if environment.reading("button", False, self.board):
            return WAKE_BUTTON
        (accel_before, rc1_before), (accel, rc1) = before, now
        rising, falling = self.memory.get(IOCAP, 0) & IOC_RA5, self.memory.get(IOCAN, 0) & IOC_RA5
        if (rising and accel > accel_before) or (falling and accel < accel_before):
            return WAKE_ACCELEROMETER
        if self.memory.get(INTCON, 0) & INTE and self.rc1_pin is not None:
            on_rising = self.memory.get(OPTION_REG, 0xFF) & INTEDG
            if (on_rising and rc1 > rc1_before) or (not on_rising and rc1 < rc1_before):
                return WAKE_INT_PIN
        return 0
