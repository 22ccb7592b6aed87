"""Quectel L76-L GNSS receiver (GPS + GLONASS, MediaTek MT3333) on I2C address 0x10, from its manuals.

Over I2C the receiver is a byte stream, as its I2C application note describes: each read transaction
returns the next bytes of its NMEA output (at most 254 of them; the rest of the transaction, and every
byte when nothing is waiting, is the idle character ``\\n``, 0x0A), and a write carries PMTK commands
(``$PMTK...*CS\\r\\n``) to it. Output it has not delivered waits in a buffer of ``BACKLOG`` bytes
(assumed 4 KB); older output is lost when the master reads too slowly, so a script that reads every
10 s first sees sentences several seconds old, as on the board.

Every fix interval (1 s; ``PMTK220``), aligned on whole UTC seconds, it outputs RMC, VTG, GGA, GSA,
GSV and GLL (``PMTK314`` picks which, ``PMTK314,-1`` restores them), each with a valid checksum:
``GN`` talker for the combined solution, ``GP`` for the satellites in view. The position of each fix
is the environment's ``position`` (``[lat, lon]`` or ``[lat, lon, altitude_m]``, decimal degrees) at
that fix's board time, so a timeline is a track; speed and course come from the last two fixes. With
no ``position`` set there is no fix: status ``V``, empty position fields, quality 0, and, until the
receiver has had a fix, time counted from the GPS epoch (1980-01-06) as a receiver without satellites
does. UTC runs with the board clock from the host's time at boot (the script's RTC does not move it).

Commands: ``PMTK220`` (fix interval, 100..10000 ms), ``PMTK314`` (sentences), ``PMTK161,0`` (standby
until the next write), ``PMTK101``..``104`` (restarts: ``$PMTK010,001``; cold ones forget the time);
each valid one is acknowledged with ``$PMTK001,<cmd>,3`` (other valid PMTK commands too, with no effect;
a bad checksum is ignored). Not modelled: the time to a first fix, the satellites' real geometry (a
fixed sky of 8 GPS satellites, HDOP 1.0), the geoid separation (0).
"""

from __future__ import annotations

import math
import re
import threading
import time
import weakref
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..runtime import environment

if TYPE_CHECKING:
    from ..runtime.board import Board

ADDRESS = 0x10
PACKET = 254  # NMEA bytes one read transaction returns at most
IDLE = b"\n"  # what the receiver sends when it has nothing
BACKLOG = 4096  # bytes of output kept for the master
GPS_EPOCH = datetime(1980, 1, 6, tzinfo=timezone.utc)
EARTH_RADIUS = 6371000.0  # m
KNOTS = 1.0 / 0.514444  # knots per m/s

SENTENCES = ("GLL", "RMC", "VTG", "GGA", "GSA", "GSV")  # the first fields of PMTK314, in its order
ORDER = ("RMC", "VTG", "GGA", "GSA", "GSV", "GLL")  # the order the receiver outputs them
SKY = ((2, 62, 41, 44), (5, 48, 118, 41), (12, 35, 197, 38), (13, 27, 282, 36),
       (15, 71, 311, 45), (18, 19, 70, 33), (24, 43, 155, 40), (29, 12, 236, 30))  # fmt: skip
HDOP, VDOP, PDOP = 1.0, 1.5, 1.8
COMMAND = re.compile(rb"\$([^$*\r\n]*)\*([0-9A-Fa-f]{2})\r?\n")


def checksum(body: str) -> int:
    """The NMEA checksum: XOR of the characters between ``$`` and ``*``."""
    value = 0
    for char in body.encode("ascii"):
        value ^= char
    return value


def sentence(body: str) -> bytes:
    """``$body*CS\\r\\n``."""
    return b"$%s*%02X\r\n" % (body.encode("ascii"), checksum(body))


def coordinate(value: float, degree_digits: int) -> str:
    """``ddmm.mmmm`` (``dddmm.mmmm`` with 3 degree digits) of ``abs(value)`` degrees."""
    units = round(abs(value) * 60 * 10000)  # 1/10000 minute
    degrees, rest = divmod(units, 60 * 10000)
    return f"{degrees:0{degree_digits}d}{rest // 10000:02d}.{rest % 10000:04d}"


def _position(value: Any) -> tuple[float, float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return None
    parts = list(value)[:3]
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in parts):
        return None
    return float(parts[0]), float(parts[1]), float(parts[2]) if len(parts) > 2 else 0.0


def _motion(a: tuple[float, float, float], b: tuple[float, float, float], dt: float) -> tuple[float, float]:
    """(speed m/s, course deg true) going from ``a`` to ``b`` in ``dt`` seconds."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    distance = 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    course = math.degrees(math.atan2(y, x)) % 360.0 if distance > 0 else 0.0
    return distance / dt if dt > 0 else 0.0, course


class L76:
    """The L76-L on an expansion board's I2C bus."""

    address = ADDRESS

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._written = bytearray()
        self.interval = 1.0  # s between fixes
        self.rates = dict.fromkeys(SENTENCES, 1)  # every nth fix (0: never)
        self._utc_at_boot = time.time() - board.clock.elapsed()
        self._next: int | None = None  # the next fix to output: UTC seconds / interval
        self._count = 0
        self.had_fix = False
        self.standby = False

    # -- the bus -------------------------------------------------------------------------------------

    def read(self, n: int, stop: bool = True) -> bytes:
        with self._lock:
            self._produce()
            out = bytes(self._buffer[: min(n, PACKET)])
            del self._buffer[: len(out)]
        return out + IDLE * (n - len(out))

    def write(self, data: bytes, stop: bool = True) -> None:
        with self._lock:
            if self.standby:
                self.standby, self._next = False, None
            self._produce()
            self._written += bytes(data)
            for match in COMMAND.finditer(bytes(self._written)):
                body = match.group(1).decode("ascii", "replace")
                if int(match.group(2), 16) == checksum(body) and body.startswith("PMTK"):
                    self._command(body[4:].split(","))
            tail = self._written.rfind(b"\n")
            del self._written[: tail + 1]
            del self._written[:-256]

    # -- commands ------------------------------------------------------------------------------------

    def _command(self, fields: list[str]) -> None:
        code = fields[0]
        if code in ("101", "102", "103", "104"):
            if code in ("103", "104"):
                self.had_fix = False
            self._buffer += sentence("PMTK010,001")
            return
        if code == "220" and len(fields) > 1 and fields[1].isdigit():
            ms = int(fields[1])
            if not 100 <= ms <= 10000:
                self._buffer += sentence(f"PMTK001,{code},2")
                return
            self.interval, self._next = ms / 1000.0, None
        elif code == "314" and len(fields) > 1:
            if fields[1] == "-1":
                self.rates = dict.fromkeys(SENTENCES, 1)
            else:
                for name, rate in zip(SENTENCES, fields[1:], strict=False):
                    self.rates[name] = int(rate) if rate.isdigit() else 0
        elif code == "161" and fields[1:2] == ["0"]:
            self.standby = True
        self._buffer += sentence(f"PMTK001,{code},3")

    # -- output --------------------------------------------------------------------------------------

    def _produce(self) -> None:
        """Output the fixes due by now (the newest that fit in the buffer)."""
        board = self._board()
        if board is None or self.standby:
            return
        last = math.floor((self._utc_at_boot + board.clock.elapsed()) / self.interval)
        if self._next is None:
            self._next = last
        self._next = max(self._next, last - BACKLOG // 300)  # older ones could not be in the buffer
        while self._next <= last:
            self._buffer += self._fix(board, self._next * self.interval - self._utc_at_boot)
            self._next += 1
        del self._buffer[:-BACKLOG]

    def _fix(self, board: Board, t: float) -> bytes:
        """The sentences of the fix at board time ``t``."""
        here = _position(environment.reading("position", None, board, at=t))
        before = _position(environment.reading("position", None, board, at=t - self.interval))
        if here is not None:
            self.had_fix = True
        moment = self._utc_at_boot + t
        when = datetime.fromtimestamp(round(moment, 3), timezone.utc)
        if not self.had_fix:
            when = GPS_EPOCH + timedelta(seconds=max(t, 0.0))
        hms = when.strftime("%H%M%S.") + f"{when.microsecond // 1000:03d}"
        dmy = when.strftime("%d%m%y")
        bodies = self._with_fix(here, before, hms, dmy) if here else self._without_fix(hms, dmy)
        out = bytearray()
        for name in ORDER:
            rate = self.rates.get(name, 0)
            if rate and self._count % rate == 0:
                for body in bodies[name]:
                    out += sentence(body)
        self._count += 1
        return bytes(out)

    def _with_fix(
        self,
        here: tuple[float, float, float],
        before: tuple[float, float, float] | None,
        hms: str,
        dmy: str,
    ) -> dict[str, list[str]]:
        lat, lon, alt = here
        north, east = "N" if lat >= 0 else "S", "E" if lon >= 0 else "W"
        where = f"{coordinate(lat, 2)},{north},{coordinate(lon, 3)},{east}"
        speed, course = _motion(before, here, self.interval) if before else (0.0, 0.0)
        knots = speed * KNOTS
        prns = [f"{sat[0]:02d}" for sat in SKY] + [""] * (12 - len(SKY))
        in_view = []
        for i in range(0, len(SKY), 4):
            group = ",".join(f"{p:02d},{e:02d},{a:03d},{s:02d}" for p, e, a, s in SKY[i : i + 4])
            in_view.append(f"GPGSV,{(len(SKY) + 3) // 4},{i // 4 + 1},{len(SKY):02d},{group}")
        return {
            "RMC": [f"GNRMC,{hms},A,{where},{knots:.2f},{course:.2f},{dmy},,,A"],
            "VTG": [f"GNVTG,{course:.2f},T,,M,{knots:.2f},N,{speed * 3.6:.2f},K,A"],
            "GGA": [f"GNGGA,{hms},{where},1,{len(SKY):02d},{HDOP:.2f},{alt:.1f},M,0.0,M,,"],
            "GSA": [f"GNGSA,A,3,{','.join(prns)},{PDOP:.2f},{HDOP:.2f},{VDOP:.2f}"],
            "GSV": in_view,
            "GLL": [f"GNGLL,{where},{hms},A,A"],
        }

    @staticmethod
    def _without_fix(hms: str, dmy: str) -> dict[str, list[str]]:
        return {
            "RMC": [f"GNRMC,{hms},V,,,,,0.00,0.00,{dmy},,,N"],
            "VTG": ["GNVTG,0.00,T,,M,0.00,N,0.00,K,N"],
            "GGA": [f"GNGGA,{hms},,,,,0,0,,,M,,M,,"],
            "GSA": ["GNGSA,A,1" + "," * 15],
            "GSV": ["GPGSV,1,1,00"],
            "GLL": [f"GNGLL,,,,,{hms},V,N"],
        }
