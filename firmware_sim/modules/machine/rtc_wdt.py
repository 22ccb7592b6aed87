"""``machine.RTC`` (``machrtc.c``) and ``machine.WDT`` (``machwdt.c``), one of each per board.

``RTC`` sets the board clock; ``ntp_sync()`` sends nothing: it sets the RTC to the host's clock and
``synced()`` is then True. Its memory (2048 bytes) survives resets and deep sleep, not power cycles.
``WDT(timeout=ms)`` reboots the board with ``WDT_RESET`` when it is not fed in time (:mod:`.watchdog`).
"""

from __future__ import annotations

import calendar
import time

from network.coap.api.mpargs import Param, check_count, get_array, parse, to_int, to_str

from ...runtime import pins
from .consts import INVALID_ARGUMENTS, RESOURCE_NOT_AVAILABLE
from .state import Machine, machine_part

RTC_MEMORY_FILE = "rtc-memory.bin"
RTC_MEMORY_MAX = 2048


def _datetime_epoch(value: object) -> float:
    """``(year, month, day[, hour[, minute[, second[, usecond[, tz]]]]])`` as seconds since 1970."""
    value = get_array(value)
    if not 3 <= len(value) <= 8:
        raise ValueError(INVALID_ARGUMENTS)
    fields = [to_int(item) for item in value[:7]] + [0] * (7 - min(len(value), 7))
    year, month, day, hour, minute, second, usecond = fields
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        raise ValueError(INVALID_ARGUMENTS) from None
    return seconds + usecond / 1_000_000


class RTC:
    """The board's real-time clock (one per board): the board clock's wall time."""

    INTERNAL_RC, XTAL_32KHZ = 0, 1

    _machine: Machine
    _synced: bool

    def __new__(cls, *args, **kwargs) -> RTC:
        machine = machine_part()
        return machine.one(("RTC", 0), lambda: cls._made(machine))

    @classmethod
    def _made(cls, machine: Machine) -> RTC:
        """The board session's RTC object (``RTC(...)`` finds it)."""
        rtc = object.__new__(cls)
        rtc._machine = machine
        rtc._synced = False
        return rtc

    def __init__(self, *args, **kwargs) -> None:
        rtc_id, datetime, _source = parse(
            args, kwargs, (Param("id", 0), Param("datetime", None), Param("source", None))
        )
        if to_int(rtc_id) != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        if datetime is not None:
            self._machine.board.clock.set_time(_datetime_epoch(datetime))

    def init(self, *args, **kwargs) -> None:
        """Set the date and time: ``init((2024, 5, 17, 12, 30, 0, 0, None))``."""
        datetime, _source = parse(args, kwargs, (Param("datetime", None), Param("source", None)))
        if datetime is not None:
            self._machine.board.clock.set_time(_datetime_epoch(datetime))

    def now(self, *args, **kwargs) -> tuple:
        """``(year, month, day, hour, minute, second, usecond, None)`` (UTC)."""
        check_count((self, *args), kwargs, 1, 1)
        epoch = self._machine.board.clock.time()
        whole = int(epoch // 1)
        t = time.gmtime(whole)
        usecond = int((epoch - whole) * 1_000_000)
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, usecond, None)

    def ntp_sync(self, *args, **kwargs) -> None:
        """Start syncing with an NTP server. No packet leaves the simulator: the RTC takes the host's
        time and ``synced()`` turns True; ``ntp_sync(None)`` stops syncing."""
        server, period, backup = parse(
            args, kwargs, (Param("server"), Param("update_period", 3600), Param("backup_server", None))
        )
        if to_int(period) * 1000 < 15000:
            raise ValueError("update period cannot be shorter than 15 s")
        self._synced = False
        if server is None:
            return
        to_str(server)
        if backup is not None:
            to_str(backup)
        self._machine.board.clock.set_time(time.time())
        self._synced = True

    def synced(self, *args, **kwargs) -> bool:
        check_count((self, *args), kwargs, 1, 1)
        return self._synced

    def memory(self, *args, **kwargs) -> bytes | None:
        """RTC memory: up to 2048 bytes kept across resets and deep sleep (not power cycles)."""
        check_count((self, *args), kwargs, 1, 2)
        path = pins.run_file(self._machine.board.flash, RTC_MEMORY_FILE)
        if not args:
            try:
                return path.read_bytes()
            except OSError:
                return b""
        data = args[0]
        if isinstance(data, str):
            data = data.encode()
        try:
            data = bytes(memoryview(data))
        except TypeError:
            raise TypeError("object with buffer protocol required") from None
        if len(data) > RTC_MEMORY_MAX:
            raise ValueError("buffer too long")
        path.write_bytes(data)
        return None


# -- WDT ---------------------------------------------------------------------------------------------


class WDT:
    """The watchdog (one per board): ``WDT(timeout=ms)``, then ``feed()`` in time or the board resets."""

    _machine: Machine

    def __new__(cls, *args, **kwargs) -> WDT:
        machine = machine_part()
        return machine.one(("WDT", 0), lambda: cls._made(machine))

    @classmethod
    def _made(cls, machine: Machine) -> WDT:
        """The board session's WDT object (``WDT(...)`` finds it)."""
        wdt = object.__new__(cls)
        wdt._machine = machine
        return wdt

    def __init__(self, *args, **kwargs) -> None:
        wdt_id, timeout = parse(args, kwargs, (Param("id", 0), Param("timeout")))
        wdt_id, timeout = to_int(wdt_id), to_int(timeout)
        if wdt_id != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        self._machine.watchdog.start(timeout)

    def init(self, *args, **kwargs) -> None:
        (timeout,) = parse(args, kwargs, (Param("timeout"),))
        self._machine.watchdog.start(to_int(timeout))

    def feed(self, *args, **kwargs) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._machine.watchdog.feed()

    def __repr__(self) -> str:
        return "<WDT>"
