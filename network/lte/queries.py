"""What a script asks the LTE modem (firmware 1.20.2.r6, ``esp32/mods/modlte.c``): raw AT commands,
the IMEI and ICCID, coverage, and the PSM setting the modem holds.

As on the board, none of these works while the data session is up (``connect()``): they raise
``OSError("LTE modem is in data state, cannot send AT commands")`` until ``pppsuspend()``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..coap.api.mpargs import Param, check_count, parse, to_int, to_str
from .link import ModemLink, locked

INVALID_ARGUMENTS = "invalid argument(s) num/type"  # mpexception_num_type_invalid_arguments
AT_TIMEOUT_MS = 9500  # LTE_RX_TIMEOUT_MAX_MS

_SEND_AT = (Param("cmd", None), Param("timeout", AT_TIMEOUT_MS, True))


class PSMInfo(NamedTuple):
    """What ``LTE.psm()`` returns (an attrtuple on the board)."""

    enabled: bool
    period_value: int
    period_unit: int
    active_value: int
    active_unit: int

    def __repr__(self) -> str:
        return (
            "(" + ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True)) + ")"
        )


class ModemQueries(ModemLink):
    """The LTE methods that only ask the modem (no state change of the LTE object)."""

    @locked
    def send_at_cmd(self, *args: Any, **kwargs: Any) -> str:
        """``send_at_cmd(cmd, *, timeout=9500)`` -> the modem's raw answer, e.g. ``'\\r\\nOK\\r\\n'``.
        With a socket open, an answer that has not started (``' '``, which the modem ignores, is
        how scripts wait for ``+SQNSRING``) is waited for up to ``timeout`` ms."""
        self._check_init()
        self._check_inppp()
        cmd, timeout = parse(args, kwargs, _SEND_AT)
        timeout_ms = to_int(timeout)
        if cmd is None:
            raise ValueError("the command must be specified!")
        if not isinstance(cmd, (str, bytes)):
            raise TypeError(INVALID_ARGUMENTS)
        self._push(to_str(cmd), None, timeout_ms)
        return self._rsp

    @locked
    def imei(self, *args: Any, **kwargs: Any) -> str | None:
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        self._check_inppp()
        self._push("AT+CGSN")
        if self._rsp == "000000000000000":
            return "UNSET"
        at = self._rsp.find("35434")
        if at >= 0 and len(self._rsp) - at > 20:
            return self._rsp[at : at + 15]
        return None

    @locked
    def iccid(self, *args: Any, **kwargs: Any) -> str | None:
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        self._check_inppp()
        if not self._sim_present():
            raise OSError("SIM card not found!")
        self._push("AT+SQNCCID?")
        at = self._rsp.find("SQNCCID:")
        if at >= 0 and len(self._rsp) - at > 25:
            start = self._rsp.index('"', at) + 1
            return self._rsp[start : self._rsp.index('"', start)]
        return None

    @locked
    def ue_coverage(self, *args: Any, **kwargs: Any) -> bool:
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        self._check_inppp()
        if self._check_attached(self._legacyattach):
            return not self._out_of_coverage
        return False

    @locked
    def psm(self, *args: Any, **kwargs: Any) -> PSMInfo:
        """The PSM setting the modem holds: ``(enabled, period_value, period_unit, active_value,
        active_unit)``."""
        self._check_init()
        self._check_inppp()
        self._push("AT+CPSMS?")
        at = self._rsp.find("+CPSMS: ")
        if at < 0:
            raise OSError("Failed to read PSM setting")
        fields = self._rsp[at + 8 :].split("\r\n", 1)[0].split(",")
        tau, active = fields[3].strip('"'), fields[4].strip('"')
        return PSMInfo(
            fields[0] == "1", int(tau[3:], 2), int(tau[:3], 2), int(active[3:], 2), int(active[:3], 2)
        )
