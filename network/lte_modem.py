"""A sans-I/O model of the Sequans Monarch LTE modem of the FiPy and GPy.

``SequansModem.command(text, now)`` takes one command line as the ESP32 writes it to the modem's UART
and returns the raw bytes (as ``str``) the modem answers, framed as a V.250 modem in verbose mode does:
information lines ``\\r\\n<line>\\r\\n`` and then the result code ``\\r\\nOK\\r\\n`` /
``\\r\\nERROR\\r\\n`` / ``\\r\\nCONNECT\\r\\n`` / ``\\r\\nNO CARRIER\\r\\n``. ``now`` is the board's
clock in seconds; registration completes ``attach_time`` seconds after the radio was turned on
(``AT+CFUN=1``). Nothing here does I/O: the caller passes the time and sets :attr:`address`.

Formats follow transcripts of GPy/FiPy modems (``AT+CEREG?`` ``+CEREG: 3,1,"9FC5","011FCC67",9``,
``AT+COPS?`` ``+COPS: 0,2,"24001",9``, ``AT+CSQ`` ``+CSQ: 15,99``, ``ATI1`` ``UE5.0.0.0d`` /
``LR5.1.1.0-38638``, ``AT+SQNCCID`` ``+SQNCCID: "<iccid>",""``, ``AT+CGDCONT?``
``+CGDCONT: 1,"IP","<apn>",,,,0,0,0,0,0,0``) and 3GPP TS 27.007 where no transcript was found
(``+CGPADDR: <cid>[,"<addr>"]``, ``+CGSN: "<imei>"``, ``+CGATT: <state>``, ``+CFUN: <fun>``).
Errors are the plain ``ERROR`` of ``AT+CMEE=0``. A command this model does not know answers
``ERROR``; text not starting with ``AT`` gets no answer, as the modem ignores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OK = "OK"
ERROR = "ERROR"
CONNECT = "CONNECT"
NO_CARRIER = "NO CARRIER"

# ``+CEREG`` <stat> values (3GPP TS 27.007 §10.1.22)
NOT_REGISTERED = 0
REGISTERED_HOME = 1
SEARCHING = 2

ACT_CAT_M1 = 7  # <AcT> E-UTRAN; 9 would be NB-IoT
PDP_TYPES = ("IP", "IPV6", "IPV4V6", "NON-IP")
CARRIERS = ("standard", "att", "verizon")
ATTACH_TIME_S = 1.0
# ``AT!="..."`` directives Pycom's firmware sends; the modem takes them (others answer ERROR here)
KNOWN_DIRECTIVES = ("setlpm", "clearscanconfig", "rrc::addscanband", "disablelog")


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


class SequansModem:
    """The modem's state: radio (``cfun``), PDP contexts, registration, data session, echo."""

    def __init__(
        self, *, address: str = "127.0.0.1", attach_time: float = ATTACH_TIME_S, sim: bool = True
    ) -> None:
        self.address = address  # the IPv4 address the network gives the default bearer
        self.attach_time = attach_time
        self.sim = sim
        self.identity = Identity()
        self.echo = True
        self.cereg_mode = 2  # the modem's default; Pycom firmware 1.20.2.r2 and later set 1
        self.carrier = "standard"
        self.psm = (0, "11100000", "11100000")  # AT+CPSMS: mode, periodic TAU, active time
        self.contexts: dict[int, tuple[str, str]] = {1: ("IP", "")}
        self.power_on()

    # -- state -----------------------------------------------------------------------------------

    def power_on(self) -> None:
        """A modem (re)boot: radio off, not registered, no data session."""
        self.cfun = 0
        self.ps_attach = True  # AT+CGATT / AT+COPS=2 can refuse registration with the radio on
        self.radio_on_at: float | None = None
        self.session_cid: int | None = None  # a data session, active or escaped from with +++
        self.data_mode = False

    def _radio(self, fun: int, now: float) -> None:
        if fun == 1 and self.cfun != 1:
            self.radio_on_at = now
        if fun != 1:
            self.radio_on_at = None
            self._drop_session()
        self.cfun = fun

    def _drop_session(self) -> None:
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

    # -- the UART ---------------------------------------------------------------------------------

    def command(self, text: str, now: float) -> str:
        """The modem's answer to one command line (``\\r`` optional), framed as on its UART."""
        line = text.rstrip("\r\n")
        if line == "+++":  # the escape sequence: only meaningful in data mode
            if self.data_mode:
                self.data_mode = False
                return _frame([], OK)
            return ""
        if self.data_mode:
            return ""  # PPP bytes, not a command
        echoed = line + "\r" if self.echo else ""
        if line[:2].upper() != "AT":
            return echoed
        lines: list[str] = []
        result = OK
        for part in _split_chain(line[2:]):
            try:
                result = self._one(part, now, lines)
            except (ValueError, IndexError):
                result = ERROR
            if result != OK:
                break
        return echoed + _frame(lines, result)

    def _one(self, cmd: str, now: float, out: list[str]) -> str:
        """Run one command of a line (``+CSQ``, ``E0``, ``!="..."``); info lines go to ``out``."""
        if cmd == "":
            return OK
        if cmd.startswith("!="):
            directive = _unquote(cmd[2:]).strip().lower()
            return OK if directive.startswith(KNOWN_DIRECTIVES) else ERROR
        match = re.fullmatch(r"([+^][A-Za-z]+)(.*)", cmd)
        if match:
            name, rest = match[1].upper(), match[2]
            if rest == "":
                form, args = "exec", []
            elif rest == "?":
                form, args = "read", []
            elif rest == "=?":
                form, args = "test", []
            elif rest.startswith("="):
                form, args = "set", _split_args(rest[1:])
            else:
                return ERROR
            prefix = "_cmd_" if name[0] == "+" else "_caret_"
            handler = getattr(self, prefix + name[1:].lower(), None)
            if handler is None:
                return ERROR
            return handler(form, args, now, out)
        match = re.fullmatch(r"([A-Za-z&])(\d*)", cmd)
        if match:
            return self._basic(match[1].upper(), int(match[2] or 0), now, out)
        return ERROR

    def _basic(self, name: str, value: int, now: float, out: list[str]) -> str:
        ident = self.identity
        if name == "E" and value in (0, 1):
            self.echo = value == 1
            return OK
        if name == "I" and value == 0:
            out += ["SEQUANS Communications", "VZM20Q", ident.ue_version]
            return OK
        if name == "I" and value == 1:
            out += [ident.ue_version, ident.lr_version]
            return OK
        if name == "H" and value == 0:
            self._drop_session()
            return OK
        if name == "O" and value == 0:  # back to the data session +++ left
            if self.session_cid is not None and self.registered(now):
                self.data_mode = True
                return CONNECT
            return NO_CARRIER
        return ERROR

    # -- extended commands: _cmd_<name>(form, args, now, out) -> result code ---------------------------

    def _caret_reset(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        """``AT^RESET``: reboot the modem (the firmware then waits for ``+SYSSTART``)."""
        if form != "exec":
            return ERROR
        self.power_on()
        return OK

    def _cmd_cfun(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "read":
            out.append(f"+CFUN: {self.cfun}")
            return OK
        if form == "test":
            out.append("+CFUN: (0,1,4),(0-1)")
            return OK
        if form != "set" or not 1 <= len(args) <= 2:
            return ERROR
        fun = _int(args[0])
        reset = _int(args[1]) if len(args) == 2 and args[1] is not None else 0
        if fun not in (0, 1, 4) or reset not in (0, 1):
            return ERROR
        if reset:
            self.power_on()
        searching = self.cfun == 1 and self.ps_attach
        self._radio(fun, now)
        if fun == 1:
            if not searching:
                self.radio_on_at = now
            self.ps_attach = True
        return OK

    def _cmd_cereg(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "test":
            out.append("+CEREG: (0-5)")
            return OK
        if form == "set":
            n = _int(args[0]) if args and args[0] is not None else 0
            if len(args) > 1 or not 0 <= n <= 5:
                return ERROR
            self.cereg_mode = n
            return OK
        if form != "read":
            return ERROR
        stat = self.registration(now)
        text = f"+CEREG: {self.cereg_mode},{stat}"
        if self.cereg_mode >= 2 and stat == REGISTERED_HOME:
            text += f',"{self.identity.tac}","{self.identity.cell_id}",{ACT_CAT_M1}'
        out.append(text)
        return OK

    def _cmd_cgatt(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "read":
            out.append(f"+CGATT: {int(self.registered(now))}")
            return OK
        if form == "test":
            out.append("+CGATT: (0-1)")
            return OK
        if form != "set" or len(args) != 1 or _int(args[0]) not in (0, 1):
            return ERROR
        if _int(args[0]) == 0:
            self.ps_attach = False
            self._drop_session()
            return OK
        if self.cfun != 1 or not self.sim:
            return ERROR
        if not self.ps_attach:
            self.ps_attach = True
            self.radio_on_at = now
        return OK

    def _cmd_cops(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "read":
            if self.registered(now):
                out.append(f'+COPS: 0,2,"{self.identity.plmn}",{ACT_CAT_M1}')
            else:
                out.append("+COPS: 0")
            return OK
        if form != "set" or not args:
            return ERROR
        mode = _int(args[0])
        if mode == 2:  # deregister
            self.ps_attach = False
            self._drop_session()
            return OK
        if mode == 0 or (mode in (1, 4) and len(args) >= 3 and _unquote(args[2]) == self.identity.plmn):
            if not self.ps_attach:
                self.ps_attach = True
                self.radio_on_at = now if self.cfun == 1 else None
            return OK
        return ERROR

    def _cmd_csq(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "test":
            out.append("+CSQ: (0-31,99),(99)")
            return OK
        if form != "exec":
            return ERROR
        rssi = self.identity.rssi if self.registered(now) else 99
        out.append(f"+CSQ: {rssi},99")
        return OK

    def _cmd_cgdcont(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "read":
            for cid, (pdp_type, apn) in sorted(self.contexts.items()):
                out.append(f'+CGDCONT: {cid},"{pdp_type}","{apn}",,,,0,0,0,0,0,0')
            return OK
        if form != "set" or not args or args[0] is None:
            return ERROR
        cid = _int(args[0])
        if not 1 <= cid <= 8:
            return ERROR
        if len(args) == 1:
            self.contexts.pop(cid, None)
            return OK
        pdp_type = _unquote(args[1] or "").upper()
        if pdp_type not in PDP_TYPES:
            return ERROR
        apn = _unquote(args[2]) if len(args) > 2 and args[2] is not None else ""
        self.contexts[cid] = ("Non-IP" if pdp_type == "NON-IP" else pdp_type, apn)
        return OK

    def _cmd_cgpaddr(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "exec":
            cids = sorted(self.contexts)
        elif form == "set":
            cids = [_int(arg) for arg in args if arg is not None]
            if any(cid not in self.contexts for cid in cids):
                return ERROR
        elif form == "test":
            out.append("+CGPADDR: ({})".format(",".join(str(cid) for cid in sorted(self.contexts))))
            return OK
        else:
            return ERROR
        for cid in cids:
            if self.registered(now) and self.contexts[cid][0] in ("IP", "IPV4V6"):
                out.append(f'+CGPADDR: {cid},"{self.address}"')
            else:
                out.append(f"+CGPADDR: {cid}")
        return OK

    def _cmd_cgdata(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        """``AT+CGDATA="PPP",<cid>``: enter data mode on a registered context."""
        if form != "set" or len(args) != 2 or _unquote(args[0] or "").upper() != "PPP":
            return ERROR
        cid = _int(args[1])
        if cid not in self.contexts or not self.registered(now):
            return ERROR
        self.session_cid = cid
        self.data_mode = True
        return CONNECT

    def _cmd_cgsn(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        ident = self.identity
        if form == "exec" or (form == "set" and len(args) == 1 and _int(args[0]) == 0):
            out.append(ident.imei)
        elif form == "set" and len(args) == 1 and _int(args[0]) == 1:
            out.append(f'+CGSN: "{ident.imei}"')
        elif form == "set" and len(args) == 1 and _int(args[0]) == 2:
            out.append(f'+CGSN: "{ident.imei[:14]}{ident.svn}"')
        elif form == "set" and len(args) == 1 and _int(args[0]) == 3:
            out.append(f'+CGSN: "{ident.svn}"')
        elif form == "test":
            out.append("+CGSN: (0-3)")
        else:
            return ERROR
        return OK

    def _cmd_cimi(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form != "exec" or not self.sim_ready():
            return ERROR
        out.append(self.identity.imsi)
        return OK

    def _cmd_cpin(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form != "read" or not self.sim_ready():
            return ERROR
        out.append("+CPIN: READY")
        return OK

    def _cmd_sqnccid(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form not in ("exec", "read") or not self.sim_ready():
            return ERROR
        out.append(f'+SQNCCID: "{self.identity.iccid}",""')
        return OK

    def _cmd_ccid(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        """``AT+CCID``: assumed to answer as ``+SQNCCID`` does, without the second field."""
        if form not in ("exec", "read") or not self.sim_ready():
            return ERROR
        out.append(f'+CCID: "{self.identity.iccid}"')
        return OK

    def _cmd_sqnctm(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        """Carrier configuration; setting it reboots the modem."""
        if form == "read":
            out.append(f"+SQNCTM: {self.carrier}")
            return OK
        if form == "test":
            out.append("+SQNCTM: ({})".format(",".join(f'"{name}"' for name in CARRIERS)))
            return OK
        if form != "set" or len(args) != 1 or _unquote(args[0] or "") not in CARRIERS:
            return ERROR
        self.carrier = _unquote(args[0] or "")
        self.power_on()
        return OK

    def _cmd_cpsms(self, form: str, args: list[str | None], now: float, out: list[str]) -> str:
        if form == "read":
            mode, tau, active = self.psm
            out.append(f'+CPSMS: {mode},,,"{tau}","{active}"')
            return OK
        if form != "set" or not args:
            return ERROR
        mode = _int(args[0])
        if mode not in (0, 1, 2):
            return ERROR
        _, tau, active = self.psm
        if len(args) > 3 and args[3] is not None:
            tau = _unquote(args[3])
        if len(args) > 4 and args[4] is not None:
            active = _unquote(args[4])
        if not all(len(bits) == 8 and set(bits) <= {"0", "1"} for bits in (tau, active)):
            return ERROR
        self.psm = (min(mode, 1), tau, active)
        return OK


def _frame(lines: list[str], result: str) -> str:
    body = "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""
    return f"{body}\r\n{result}\r\n"


def _split_chain(text: str) -> list[str]:
    """``+CEREG=2;+CEREG?`` -> the commands of one line (``;`` outside quotes)."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _split_args(text: str) -> list[str | None]:
    """Comma-separated arguments (commas inside quotes kept); an empty argument is ``None``."""
    args, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            args.append("".join(current).strip() or None)
            current = []
        else:
            current.append(char)
    args.append("".join(current).strip() or None)
    return args


def _unquote(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _int(text: str | None) -> int:
    if text is None:
        raise ValueError("missing argument")
    return int(text, 10)
