"""What the Sequans Monarch modem of the FiPy and GPy holds: its identity, radio, registration,
PDP contexts, data session and sockets (:mod:`.sockets`), and how registration follows board time.
No I/O, no command text.

Registration completes ``attach_time`` board seconds after the radio was turned on (``AT+CFUN=1``);
the caller always passes the time (``now``, board seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from .sockets import SocketTable

# ``+CEREG`` <stat> values (3GPP TS 27.007 §10.1.22)
NOT_REGISTERED = 0
REGISTERED_HOME = 1
SEARCHING = 2

ATTACH_TIME_S = 1.0


def luhn_digit(digits: str) -> str:
    """The check digit that makes ``digits + check`` pass the Luhn test (IMEI, ICCID)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


@dataclass
class Identity:
    """What the modem and its SIM report. The IMEI starts with 35434 as on Pycom modules (the
    firmware's ``imei()`` looks for that prefix); PLMN 001-01 and its IMSI/ICCID are test values."""

    imei: str = "35434709012345" + luhn_digit("35434709012345")
    svn: str = "01"
    imsi: str = "001010000000001"
    iccid: str = "890010100000000001" + luhn_digit("890010100000000001")
    ue_version: str = "UE5.0.0.0d"
    lr_version: str = "LR5.1.1.0-41065"
    plmn: str = "00101"
    tac: str = "0001"
    cell_id: str = "01A2D001"
    rssi: int = 18  # +CSQ <rssi> 0..31 (-113 + 2*rssi dBm), 99 unknown


class ModemState:
    """The modem's state: radio (``cfun``), PDP contexts, registration, data session, echo."""

    def __init__(
        self, *, address: str = "127.0.0.1", attach_time: float = ATTACH_TIME_S, sim: bool = True
    ) -> None:
        self.address = address  # the IPv4 address the network gives the default bearer
        self.attach_time = attach_time
        self.sim = sim
        self.identity = Identity()
        self.echo = True
        self.cmee = 0  # AT+CMEE: errors as plain ERROR (the modem's default)
        self.sockets = SocketTable()
        self.cereg_mode = 2  # the modem's default; Pycom firmware 1.20.2.r2 and later set 1
        self.carrier = "standard"
        self.psm = (0, "11100000", "11100000")  # AT+CPSMS: mode, periodic TAU, active time
        self.contexts: dict[int, tuple[str, str]] = {1: ("IP", "")}
        self.cfun = 0
        self.ps_attach = True
        self.radio_on_at: float | None = None
        self.session_cid: int | None = None
        self.data_mode = False
        self.power_on()

    def power_on(self) -> None:
        """A modem (re)boot: radio off, not registered, no data session."""
        self.cfun = 0
        self.ps_attach = True  # AT+CGATT / AT+COPS=2 can refuse registration with the radio on
        self.radio_on_at = None
        self.session_cid = None  # a data session, active or escaped from with +++
        self.data_mode = False
        self.sockets.reset()

    def set_radio(self, fun: int, now: float) -> None:
        """``AT+CFUN=<fun>``'s effect: 1 turns the radio on (registration starts), others off."""
        if fun == 1 and self.cfun != 1:
            self.radio_on_at = now
        if fun != 1:
            self.radio_on_at = None
            self.drop_session()
        self.cfun = fun

    def drop_session(self) -> None:
        """End the data session (``ATH``, detach, radio off)."""
        self.session_cid = None
        self.data_mode = False

    def sim_ready(self) -> bool:
        """The SIM answers when present and the modem is not in CFUN=0."""
        return self.sim and self.cfun != 0

    def registration(self, now: float) -> int:
        """``+CEREG`` <stat>: 1 registered, 2 searching, 0 neither (radio off, no SIM, detached)."""
        if self.cfun != 1 or not self.sim or not self.ps_attach or self.radio_on_at is None:
            return NOT_REGISTERED
        if now - self.radio_on_at >= self.attach_time:
            return REGISTERED_HOME
        return SEARCHING

    def registered(self, now: float) -> bool:
        return self.registration(now) == REGISTERED_HOME
