"""``network.LTE`` of the FiPy and GPy, over a model of their Sequans modem (:mod:`.modem`).

The class follows ``esp32/mods/modlte.c`` of pycom-micropython-sigfox v1.20.2.r6 (the same in
1.20.3.b3): its argument lists, its states (``lteppp.h``, kept by :mod:`.link`), the AT commands each
method sends and how it reads the answers, and its error messages. So ``attach()`` turns the radio on
(``AT+CFUN=1``) and returns; ``isattached()`` asks the modem (``AT+CGATT?``, ``AT+CEREG?``) and turns
True once the modem registered, ``ATTACH_TIME_S`` board seconds later; ``connect()`` opens the data
session (``AT+CGDATA="PPP",<cid>``). While it is open the modem carries PPP, not commands:
``send_at_cmd``, ``imei``, ``iccid`` and ``ue_coverage`` raise
``OSError("LTE modem is in data state, cannot send AT commands")`` until ``pppsuspend()``.

As on firmware 1.20.2.r2 and later, the modem is set to ``AT+CEREG=1`` when LTE starts, so
``AT+CEREG?`` answers ``+CEREG: 1,<stat>``; with ``legacyattach=True`` (the default) ``isattached()``
looks for ``+CEREG: 1,1`` / ``+CEREG: 1,5`` as that firmware does, so a script that sets
``AT+CEREG=2`` is never attached again, as on the board. Waits the firmware makes (back-offs after
``+++``, ``+SYSSTART``) are not reproduced: methods return at once.
"""

from __future__ import annotations

from typing import Any

from ..coap.api.mpargs import Param, check_count, parse, to_int, to_str
from .link import (
    ATTACHED,
    ATTACHING,
    IDLE,
    OPERATION_FAILED,
    PPP,
    SUSPENDED,
    forget_modem,
    lock,
    locked,
)
from .queries import ModemQueries, PSMInfo

__all__ = ["LTE", "PSMInfo", "hard_reset"]

RESOURCE_NOT_AVAILABLE = "resource not available"  # mpexception_os_resource_not_avaliable
LEGACY_MODEM_FIRMWARE = "LR5.1.1.0-33080"  # lte_check_legacy_version()
# bands lte_add_band() accepts on v1.2 hardware with modem firmware above 41000 (the modelled one)
BANDS = frozenset({1, 2, 3, 4, 5, 8, 12, 13, 14, 17, 18, 19, 20, 25, 26, 28, 66})

PSM_PERIOD_2S, PSM_PERIOD_30S, PSM_PERIOD_1M, PSM_PERIOD_10M = 0b011, 0b100, 0b101, 0b000
PSM_PERIOD_1H, PSM_PERIOD_10H, PSM_PERIOD_320H, PSM_PERIOD_DISABLED = 0b001, 0b010, 0b110, 0b111
PSM_ACTIVE_2S, PSM_ACTIVE_1M, PSM_ACTIVE_6M, PSM_ACTIVE_DISABLED = 0b000, 0b001, 0b010, 0b111

_UNSET: Any = object()

_INIT = (
    Param("carrier", None, True),
    Param("cid", 1, True),
    Param("legacyattach", True, True),
    Param("debug", False, True),
    Param("psm_period_value", 0, True),
    Param("psm_period_unit", PSM_PERIOD_DISABLED, True),
    Param("psm_active_value", 0, True),
    Param("psm_active_unit", PSM_ACTIVE_DISABLED, True),
)
_MAKE_NEW = (Param("id", 0), *_INIT)
_DEINIT = (Param("detach", True, True), Param("reset", False, True), Param("dettach", True, True))
_ATTACH = (
    Param("band", None, True),
    Param("apn", None, True),
    Param("log", False, True),
    Param("cid", _UNSET, True),
    Param("type", None, True),
    Param("legacyattach", None, True),
    Param("bands", None, True),
)
_DETACH = (Param("reset", False, True),)
_CONNECT = (Param("cid", _UNSET, True), Param("legacy", _UNSET, True))
_RESUME = (Param("cid", _UNSET, True),)
_CALLBACK = (Param("trigger"), Param("handler", None), Param("arg", None))


def hard_reset() -> None:
    """Forget the LTE object's state and the modem (a fresh board; not part of the script API)."""
    with lock:
        forget_modem()
        if LTE._instance is not None:
            LTE._instance._setup()


class LTE(ModemQueries):
    """The LTE modem (one instance, whatever the number of calls), as in firmware 1.20.2.r6."""

    IP = "IP"
    IPV4V6 = "IPV4V6"
    EVENT_COVERAGE_LOSS = 1
    EVENT_BREAK = 2
    PSM_PERIOD_2S, PSM_PERIOD_30S, PSM_PERIOD_1M = PSM_PERIOD_2S, PSM_PERIOD_30S, PSM_PERIOD_1M
    PSM_PERIOD_10M, PSM_PERIOD_1H, PSM_PERIOD_10H = PSM_PERIOD_10M, PSM_PERIOD_1H, PSM_PERIOD_10H
    PSM_PERIOD_320H, PSM_PERIOD_DISABLED = PSM_PERIOD_320H, PSM_PERIOD_DISABLED
    PSM_ACTIVE_2S, PSM_ACTIVE_1M, PSM_ACTIVE_6M = PSM_ACTIVE_2S, PSM_ACTIVE_1M, PSM_ACTIVE_6M
    PSM_ACTIVE_DISABLED = PSM_ACTIVE_DISABLED

    _instance: LTE | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> LTE:
        with lock:
            if cls._instance is None:
                cls._instance = super().__new__(cls)
                cls._instance._setup()
            return cls._instance

    def _setup(self) -> None:
        """A fresh object: lteppp's state (:meth:`ModemLink._setup`) and no event handler."""
        super()._setup()
        self._trigger = 0
        self._events = 0
        self._handler: Any = None
        self._handler_arg: Any = None

    @locked
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """``LTE(id=0, *, carrier=None, cid=1, legacyattach=True, debug=False, psm_period_value=0,
        psm_period_unit=LTE.PSM_PERIOD_DISABLED, psm_active_value=0,
        psm_active_unit=LTE.PSM_ACTIVE_DISABLED)``."""
        values = parse(args, kwargs, _MAKE_NEW)
        if values[4]:
            self._debug = True
        if kwargs and to_int(values[0]) != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        period_value, period_unit, active_value, active_unit = (to_int(v) & 0xFF for v in values[5:9])
        if period_unit > 7:
            raise OSError("Invalid psm_period_unit")
        if period_value > 31:
            raise OSError("Invalid psm_period_value")
        if active_unit not in (PSM_ACTIVE_2S, PSM_ACTIVE_1M, PSM_ACTIVE_6M, PSM_ACTIVE_DISABLED):
            raise OSError("Invalid psm_active_unit")
        if active_value > 31:
            raise OSError("Invalid psm_active_value")
        self._init_helper(values[1:])

    def __repr__(self) -> str:
        return "<LTE>"

    # -- init / deinit ---------------------------------------------------------------------------

    def _init_helper(self, values: list[Any]) -> None:
        carrier, cid, legacyattach, _debug, *psm = values
        cid = to_int(cid)
        period_value, period_unit, active_value, active_unit = (to_int(v) & 0xFF for v in psm)
        if self._init:
            return
        if not self._modem_up:
            self._start_modem()
        self._cid = cid
        self._push("AT+CFUN?")
        if "+CFUN: 0" in self._rsp or "+CFUN: 4" in self._rsp:
            name = "standard"
            self._carrier = False
            if carrier is not None:
                name = to_str(carrier)
                self._push("AT+SQNCTM=?")
                if name not in self._rsp:
                    raise ValueError(f"invalid carrier {name}")
                if "standard" not in name:
                    self._carrier = True
            self._legacyattach = bool(legacyattach)
            self._push("AT+SQNCTM?")
            detected = self._rsp
            if name not in detected and carrier is not None:
                self._push(f'AT+SQNCTM="{name}"')  # the modem reboots with that configuration
                self._push("AT")
                self._push("AT")
            if name not in detected and "standard" not in detected:
                self._carrier = True
            self._push("AT+CFUN=4")
            self._push("AT")
            self._push("AT")
        self._state = IDLE
        self._init = True
        if period_unit != PSM_PERIOD_DISABLED and active_unit != PSM_ACTIVE_DISABLED:
            period = ((period_unit << 5) | period_value) & 0xFF
            active = ((active_unit << 5) | active_value) & 0xFF
            self._push(f'AT+CPSMS=1,,,"{period:08b}","{active:08b}"')

    @locked
    def init(self, *args: Any, **kwargs: Any) -> None:
        """Start the modem: the constructor's keywords (no ``id``)."""
        values = parse(args, kwargs, _INIT)
        self._debug = bool(values[3])
        self._init_helper(values)

    @locked
    def deinit(self, *args: Any, **kwargs: Any) -> None:
        """``deinit(*, detach=True, reset=False)``: end the session; detach (radio off) unless
        ``detach=False``, which keeps the modem attached for a fast start after deep sleep."""
        detach, reset, dettach = (bool(v) for v in parse(args, kwargs, _DEINIT))
        if self._init:
            if self._state == PPP and (self._legacy or detach):
                self._disconnect()
            else:
                if self._state == PPP:
                    self._suspend()
                if not detach or not dettach:
                    self._push('AT!="setlpm airplane=1 enable=1"')
                    self._lteppp_deinit()
                    return
            if self._sim_present():
                command = "AT+CFUN=4,1" if reset else "AT+CFUN=4"
            else:
                command = "AT+CFUN=0,1" if reset else "AT+CFUN=0"
            if not self._push(command):
                self._lteppp_deinit()
                raise OSError(OPERATION_FAILED)
            if reset:
                self._push("AT")
                self._push("AT")
            self._init = False
        self._lteppp_deinit()

    # -- attach / detach -------------------------------------------------------------------------

    @locked
    def attach(self, *args: Any, **kwargs: Any) -> None:
        """``attach(*, band=None, apn=None, log=False, cid=None, type=LTE.IP, legacyattach=None,
        bands=None)``: turn the radio on; ``isattached()`` tells when the modem registered."""
        self._check_init()
        band, apn, _log, cid, pdp_type, legacyattach, bands = parse(args, kwargs, _ATTACH)
        if legacyattach is not None:
            self._legacyattach = bool(legacyattach)
        self._check_attached(self._legacyattach)
        if self._state >= ATTACHING:
            return
        if not self._sim_present():
            raise RuntimeError("Sim card not present")
        self._push("AT+SQNCTM?")
        if "standard" in self._rsp:
            self._carrier = False
            self._push('AT!="clearscanconfig"')
            wanted: list[int] = []
            if band is not None:
                wanted.append(to_int(band))
            if bands is not None:
                if not isinstance(bands, (list, tuple)):
                    raise TypeError(f"object '{type(bands).__name__}' isn't a tuple or list")
                wanted.extend(to_int(b) for b in bands)
            if band is None and bands is None:
                wanted = [3, 4, 5, 8, 12, 13, 20, 28]
            for number in wanted:
                if number not in BANDS:
                    raise ValueError(f"band {number} not supported")
                self._push(f'AT!="RRC::addScanBand band={number}"')
        else:
            self._carrier = True
        if cid is not _UNSET:
            self._cid = to_int(cid)
        if apn is not None or pdp_type is not None:
            name = "" if apn is None else to_str(apn)
            kind = "IP" if pdp_type is None else to_str(pdp_type)
            if not self._push(f'AT+CGDCONT={self._cid},"{kind}","{name}"'):
                raise OSError(OPERATION_FAILED)
        self._push('AT!="disablelog 1"')
        self._state = ATTACHING
        if not self._push("AT+CFUN=1"):
            raise OSError(OPERATION_FAILED)
        self._push('AT!="setlpm airplane=1 enable=1"')

    @locked
    def isattached(self, *args: Any, **kwargs: Any) -> bool:
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        return self._check_attached(self._legacyattach)

    @locked
    def detach(self, *args: Any, **kwargs: Any) -> None:
        """``detach(*, reset=False)``: end any session and turn the radio off (``AT+CFUN=4``)."""
        self._check_init()
        (reset,) = parse(args, kwargs, _DETACH)
        if self._state == PPP:
            self._disconnect()
        if self._sim_present():
            command = "AT+CFUN=4,1" if reset else "AT+CFUN=4"
        else:
            command = "AT+CFUN=0,1" if reset else "AT+CFUN=0"
        if not self._push(command):
            raise OSError(OPERATION_FAILED)
        self._state = IDLE

    dettach = detach

    # -- data session ----------------------------------------------------------------------------

    @locked
    def connect(self, *args: Any, **kwargs: Any) -> None:
        """``connect(*, cid=1, legacy=None)``: start the data session once attached."""
        self._check_init()
        if self._state == PPP:
            return
        cid, legacy = parse(args, kwargs, _CONNECT)
        if legacy is _UNSET:
            legacy = self._push("ATI1") and LEGACY_MODEM_FIRMWARE in self._rsp
        legacy = bool(legacy)
        self._check_attached(self._legacyattach)
        self._legacy = legacy
        if legacy:
            self._push("ATH")
            self._push("AT")
        if self._state == ATTACHED or (legacy and self._state == SUSPENDED):
            if legacy or not self._push("ATO", "CONNECT"):
                if cid is not _UNSET:
                    self._cid = to_int(cid)
                if not self._push(f'AT+CGDATA="PPP",{self._cid}', "CONNECT"):
                    raise OSError(OPERATION_FAILED)
            self._state = PPP
        elif self._state == PPP:
            raise OSError("modem already connected")
        elif self._state == SUSPENDED:
            raise OSError("modem is suspended")
        else:
            raise OSError("modem not attached")

    @locked
    def isconnected(self, *args: Any, **kwargs: Any) -> bool:
        """True while the data session is up (not while suspended)."""
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        return self._state == PPP

    @locked
    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        self._disconnect()

    @locked
    def pppsuspend(self, *args: Any, **kwargs: Any) -> None:
        """Leave data mode (``+++``) so AT commands work; the session stays for ``pppresume()``."""
        check_count((self, *args), kwargs, 1, 1)
        self._suspend()

    @locked
    def pppresume(self, *args: Any, **kwargs: Any) -> None:
        """``pppresume(*, cid=None)``: back to the suspended session (``ATO``), else connect anew."""
        self._check_init()
        (cid,) = parse(args, kwargs, _RESUME)
        if self._state == PPP:
            raise OSError("Modem is already connected")
        self._check_attached(self._legacyattach)
        if self._state not in (SUSPENDED, ATTACHED):
            return
        if self._state == ATTACHED and self._legacy:
            raise OSError("Operation failed (attached and legacy)")
        if cid is not _UNSET:
            self._cid = to_int(cid)
        if self._push("ATO", "CONNECT"):
            self._state = PPP
            return
        self._state = ATTACHED
        self._check_attached(self._legacyattach)
        self.connect(*args, **kwargs)

    @locked
    def reset(self, *args: Any, **kwargs: Any) -> None:
        """Restart the modem (``AT^RESET``); attach again afterwards."""
        check_count((self, *args), kwargs, 1, 1)
        self._check_init()
        self._disconnect()
        self._push("AT+CFUN=0")
        self._push("AT^RESET")
        self._state = IDLE
        self._push("AT")
        if not self._push("AT"):
            raise OSError(OPERATION_FAILED)

    # -- events ----------------------------------------------------------------------------------

    @locked
    def lte_callback(self, *args: Any, **kwargs: Any) -> None:
        """``lte_callback(trigger, handler=None, arg=None)``: ``handler(arg)`` on the events in
        ``trigger``; ``arg`` defaults to the LTE object. No handler disables it."""
        trigger, handler, arg = parse(args, kwargs, _CALLBACK)
        if trigger is not None and handler is not None:
            self._trigger = to_int(trigger)
            self._handler = handler
            self._handler_arg = self if arg is None else arg
        else:
            self._trigger = 0
            self._handler = None
            self._handler_arg = None

    @locked
    def events(self, *args: Any, **kwargs: Any) -> int:
        """The events since the last call (``EVENT_COVERAGE_LOSS``, ``EVENT_BREAK``), then cleared."""
        check_count((self, *args), kwargs, 1, 1)
        events, self._events = self._events, 0
        return events

    def _urc(self, events: int) -> None:
        """The simulator's hook for a modem event (``modlte_urc_events``): record what the trigger
        selects and call the handler."""
        with lock:
            self._events |= events & self._trigger
            handler, arg = self._handler, self._handler_arg
        if handler is not None:
            handler(arg)
