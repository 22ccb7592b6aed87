"""The LTE object's link to its modem, as ``esp32/lte/lteppp.c`` (firmware 1.20.2.r6) keeps it.

One modem per process (:func:`modem`) and one lock: LTE calls run one at a time, as the firmware's
hold the GIL and the modem's one UART. :class:`ModemLink` holds lteppp's state (``lteppp.h``: INIT,
IDLE, ATTACHING, ATTACHED, PPP, SUSPENDED), sends AT commands and keeps the answer
(``lte_push_at_command_ext``), runs the modem's start sequence, and reads registration as
``lte_check_attached`` does. Board time is ``network.host.board_time()``, the board's one clock.

Beside the modem is its network side (:func:`radio`, :mod:`.radio`): each command first hands the
modem what its sockets received since the last one, then runs what the command asked of the network
(a dial, a send), so the answer holds the URCs of that data, the command's answer and a dial's late
result. As lteppp does, the answer is cut at its first NUL byte (it is a C string) and, for
``send_at_cmd``, an answer that has not started is waited for up to the call's ``timeout`` while a
socket is open (the ring of data still on its way); other waits of the firmware are not reproduced.
On the board, lteppp flushes the UART before writing a command, so a URC that came between two
commands is lost there; the simulated network answers in microseconds, not the radio's tenths of a
second, so its data is taken as arriving while the next command is under way.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .. import host
from .modem import SequansModem
from .radio import Radio

# lteppp.h lte_state_t
INIT, IDLE, ATTACHING, ATTACHED, PPP, SUSPENDED = range(6)

DATA_STATE = "LTE modem is in data state, cannot send AT commands"
NOT_INITIALIZED = "LTE modem not initialized"
OPERATION_FAILED = "the requested operation failed"  # mpexception_os_operation_failed

_modem: SequansModem | None = None
_radio: Radio | None = None
lock = threading.RLock()

F = TypeVar("F", bound=Callable[..., Any])


def modem() -> SequansModem:
    """The board's modem (one per process, created on first use)."""
    global _modem
    with lock:
        if _modem is None:
            _modem = SequansModem(address=host.own_address())
        return _modem


def radio() -> Radio:
    """The modem's network side: the sockets of its connections."""
    global _radio
    with lock:
        if _radio is None:
            _radio = Radio()
        return _radio


def forget_modem() -> None:
    """Drop the modem and close its sockets: the next :func:`modem` is a fresh one (a hard reset
    of the board)."""
    global _modem
    with lock:
        _modem = None
        if _radio is not None:
            _radio.close_all()


def locked(method: F) -> F:
    """One LTE call at a time, as the firmware's calls hold the GIL and the modem's one UART."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ModemLink:
    """lteppp's state and the UART to the modem; ``LTE`` (:mod:`.api`) builds its methods on it."""

    def _setup(self) -> None:
        self._init = False
        self._state = INIT
        self._modem_up = False  # lteppp's modem connection state: the modem's start sequence ran
        self._cid = 1
        self._legacyattach = True
        self._legacy = False  # lteppp legacy flag (modem firmware LR5.1.1.0-33080)
        self._carrier = False
        self._debug = False
        self._out_of_coverage = False
        self._rsp = ""

    def _push(self, cmd: str, expect: str | None = "OK", wait_ms: int = 0) -> bool:
        """``lte_push_at_command_ext``: send ``cmd``, keep the answer, True if it holds ``expect``.
        An answer that has not started is waited for up to ``wait_ms`` (``send_at_cmd``)."""
        now = host.board_time()
        link = modem()
        net = radio()
        link.address = host.own_address()
        if self._debug:
            print(f"[AT] {int(now * 1000) & 0xFFFFFFFF} {cmd}")
        net.poll(link.sockets, 0.0)
        rsp = link.sockets.take_output()
        rsp += link.command(cmd if cmd == "+++" else cmd + "\r", now)
        net.perform(link.sockets)
        rsp += link.sockets.take_output()
        if not rsp and wait_ms > 0 and net.active():
            rsp = net.wait(link.sockets, host.host_seconds(wait_ms / 1000))
        self._rsp = rsp.split("\x00", 1)[0]
        ok = expect is None or expect in self._rsp
        if self._debug:
            print(f"[AT-{'OK' if ok else 'FAIL'}] +0 {self._rsp}")
        return ok

    def _start_modem(self) -> None:
        """TASK_LTE's start sequence (lteppp.c): leave PPP if the modem was in it, no echo,
        PSM off, ``AT+CEREG=1``, SIM access on."""
        if self._push("+++"):
            self._push("AT")
        else:
            self._push("AT")
            self._push("AT")
        self._push("ATE0")
        self._push("AT+CPSMS=0")
        self._push("AT+CEREG=1")
        self._push("AT+CFUN?")
        at = self._rsp.find("+CFUN: ")
        if at >= 0 and self._rsp[at + 7 : at + 8] not in ("1", "4"):
            self._push("AT+CFUN=4")
        self._push("AT+CPIN?")
        if "ERROR" in self._rsp:  # no SIM after power on: radio and SIM off
            self._push("AT+CFUN=0")
        self._push('AT!="setlpm airplane=1 enable=1"')
        self._modem_up = True

    def _check_init(self) -> None:
        if not self._init:
            raise OSError(NOT_INITIALIZED)

    def _check_inppp(self) -> None:
        if self._state == PPP:
            raise OSError(DATA_STATE)

    def _sim_present(self) -> bool:
        self._push("AT+CFUN?")
        if "+CFUN: 0" in self._rsp:
            self._push("AT+CFUN=4")
        self._push("AT+CPIN?")
        return "READY" in self._rsp

    def _check_attached(self, legacy: bool) -> bool:
        """``lte_check_attached``: ask the modem, and move the state to ATTACHING / ATTACHED."""
        if self._state == PPP:
            return True  # a data session has its address
        attached = False
        self._push("AT")
        self._push("AT+CGATT?")
        at = self._rsp.find("+CGATT")
        cgatt = at >= 0 and "1" in self._rsp[at + 7 : at + 9]
        if legacy:
            self._push("AT+CEREG?")
            registered = "+CEREG: 1,1" in self._rsp or "+CEREG: 1,5" in self._rsp
            if not cgatt:
                attached = registered
            else:
                attached = registered
                if not registered:
                    self._out_of_coverage = "+CEREG: 1,4" in self._rsp
        else:
            attached = cgatt
        self._push("AT+CFUN?")
        if self._state >= ATTACHING:
            if "+CFUN: 1" not in self._rsp:
                self._push("AT+CFUN=1")  # "the modem has crashed, enabled the radios again"
        else:
            self._state = ATTACHING if "+CFUN: 1" in self._rsp else IDLE
        if attached and self._state < PPP:
            self._state = ATTACHED
        if not attached and self._state > IDLE:
            self._state = ATTACHING
        return attached

    def _pause_ppp(self) -> None:
        if not self._push("+++") and not self._push("AT"):
            raise OSError("Pause PPP failed")

    def _disconnect(self) -> None:
        """End the data session (active or suspended): back to ATTACHED, then ask the modem."""
        if self._state in (PPP, SUSPENDED):
            if self._state == PPP:
                self._pause_ppp()
            self._state = ATTACHED
            self._push("ATH")
            self._push("AT")
            self._check_attached(self._legacyattach)

    def _suspend(self) -> None:
        """Leave data mode (``+++``) keeping the session (not with the legacy modem firmware)."""
        if self._legacy:
            raise OSError("modem firmware not supported")
        self._check_init()
        if self._state == PPP:
            self._pause_ppp()
            self._state = SUSPENDED
            self._push("AT")
            self._check_attached(self._legacyattach)

    def _lteppp_deinit(self) -> None:
        self._state = INIT
        self._modem_up = False
        self._init = False
