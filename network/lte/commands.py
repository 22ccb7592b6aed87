"""The modem's extended commands (``AT+<NAME>`` and ``AT^<NAME>``), one function each.

A command gets the modem's state, its form (``exec`` ``AT+X``, ``read`` ``AT+X?``, ``test``
``AT+X=?``, ``set`` ``AT+X=<args>``), its arguments, the board time, and a list for its information
lines, and returns the result code. Formats follow transcripts of GPy/FiPy modems (``AT+CEREG?``
``+CEREG: 3,1,"9FC5","011FCC67",9``, ``AT+COPS?`` ``+COPS: 0,2,"24001",9``, ``AT+CSQ`` ``+CSQ: 15,99``,
``AT+SQNCCID`` ``+SQNCCID: "<iccid>",""``, ``AT+CGDCONT?`` ``+CGDCONT: 1,"IP","<apn>",,,,0,0,0,0,0,0``)
and 3GPP TS 27.007 where no transcript was found (``+CGPADDR: <cid>[,"<addr>"]``, ``+CGSN: "<imei>"``,
``+CGATT: <state>``, ``+CFUN: <fun>``).
"""

from __future__ import annotations

from collections.abc import Callable

from .at import CONNECT, ERROR, OK, Args, number, unquote
from .state import REGISTERED_HOME, ModemState

Command = Callable[[ModemState, str, Args, float, list[str]], str]

ACT_CAT_M1 = 7  # <AcT> E-UTRAN; 9 would be NB-IoT
PDP_TYPES = ("IP", "IPV6", "IPV4V6", "NON-IP")
CARRIERS = ("standard", "att", "verizon")

COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    """Register the function as the handler of ``AT<name>`` (``+CFUN``, ``^RESET``)."""

    def register(function: Command) -> Command:
        COMMANDS[name] = function
        return function

    return register


@command("^RESET")
def reset(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT^RESET``: reboot the modem (the firmware then waits for ``+SYSSTART``)."""
    if form != "exec":
        return ERROR
    modem.power_on()
    return OK


@command("+CFUN")
def cfun(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "read":
        out.append(f"+CFUN: {modem.cfun}")
        return OK
    if form == "test":
        out.append("+CFUN: (0,1,4),(0-1)")
        return OK
    if form != "set" or not 1 <= len(args) <= 2:
        return ERROR
    fun = number(args[0])
    reboot = number(args[1]) if len(args) == 2 and args[1] is not None else 0
    if fun not in (0, 1, 4) or reboot not in (0, 1):
        return ERROR
    if reboot:
        modem.power_on()
    searching = modem.cfun == 1 and modem.ps_attach
    modem.set_radio(fun, now)
    if fun == 1:
        if not searching:
            modem.radio_on_at = now
        modem.ps_attach = True
    return OK


@command("+CMEE")
def cmee(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+CMEE=<n>``: how errors read, 0 ``ERROR``, 1 ``+CME ERROR: <code>``, 2 its text."""
    if form == "read":
        out.append(f"+CMEE: {modem.cmee}")
        return OK
    if form == "test":
        out.append("+CMEE: (0-2)")
        return OK
    if form != "set" or len(args) != 1 or number(args[0]) not in (0, 1, 2):
        return ERROR
    modem.cmee = number(args[0])
    return OK


@command("+CEREG")
def cereg(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "test":
        out.append("+CEREG: (0-5)")
        return OK
    if form == "set":
        n = number(args[0]) if args and args[0] is not None else 0
        if len(args) > 1 or not 0 <= n <= 5:
            return ERROR
        modem.cereg_mode = n
        return OK
    if form != "read":
        return ERROR
    stat = modem.registration(now)
    text = f"+CEREG: {modem.cereg_mode},{stat}"
    if modem.cereg_mode >= 2 and stat == REGISTERED_HOME:
        text += f',"{modem.identity.tac}","{modem.identity.cell_id}",{ACT_CAT_M1}'
    out.append(text)
    return OK


@command("+CGATT")
def cgatt(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "read":
        out.append(f"+CGATT: {int(modem.registered(now))}")
        return OK
    if form == "test":
        out.append("+CGATT: (0-1)")
        return OK
    if form != "set" or len(args) != 1 or number(args[0]) not in (0, 1):
        return ERROR
    if number(args[0]) == 0:
        modem.ps_attach = False
        modem.drop_session()
        return OK
    if modem.cfun != 1 or not modem.sim:
        return ERROR
    if not modem.ps_attach:
        modem.ps_attach = True
        modem.radio_on_at = now
    return OK


@command("+COPS")
def cops(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "read":
        if modem.registered(now):
            out.append(f'+COPS: 0,2,"{modem.identity.plmn}",{ACT_CAT_M1}')
        else:
            out.append("+COPS: 0")
        return OK
    if form != "set" or not args:
        return ERROR
    mode = number(args[0])
    if mode == 2:  # deregister
        modem.ps_attach = False
        modem.drop_session()
        return OK
    if mode == 0 or (mode in (1, 4) and len(args) >= 3 and unquote(args[2]) == modem.identity.plmn):
        if not modem.ps_attach:
            modem.ps_attach = True
            modem.radio_on_at = now if modem.cfun == 1 else None
        return OK
    return ERROR


@command("+CSQ")
def csq(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "test":
        out.append("+CSQ: (0-31,99),(99)")
        return OK
    if form != "exec":
        return ERROR
    rssi = modem.identity.rssi if modem.registered(now) else 99
    out.append(f"+CSQ: {rssi},99")
    return OK


@command("+CGDCONT")
def cgdcont(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "read":
        for cid, (pdp_type, apn) in sorted(modem.contexts.items()):
            out.append(f'+CGDCONT: {cid},"{pdp_type}","{apn}",,,,0,0,0,0,0,0')
        return OK
    if form != "set" or not args or args[0] is None:
        return ERROR
    cid = number(args[0])
    if not 1 <= cid <= 8:
        return ERROR
    if len(args) == 1:
        modem.contexts.pop(cid, None)
        return OK
    pdp_type = unquote(args[1] or "").upper()
    if pdp_type not in PDP_TYPES:
        return ERROR
    apn = unquote(args[2]) if len(args) > 2 and args[2] is not None else ""
    modem.contexts[cid] = ("Non-IP" if pdp_type == "NON-IP" else pdp_type, apn)
    return OK


@command("+CGPADDR")
def cgpaddr(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "exec":
        cids = sorted(modem.contexts)
    elif form == "set":
        cids = [number(arg) for arg in args if arg is not None]
        if any(cid not in modem.contexts for cid in cids):
            return ERROR
    elif form == "test":
        out.append("+CGPADDR: ({})".format(",".join(str(cid) for cid in sorted(modem.contexts))))
        return OK
    else:
        return ERROR
    for cid in cids:
        if modem.registered(now) and modem.contexts[cid][0] in ("IP", "IPV4V6"):
            out.append(f'+CGPADDR: {cid},"{modem.address}"')
        else:
            out.append(f"+CGPADDR: {cid}")
    return OK


@command("+CGDATA")
def cgdata(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+CGDATA="PPP",<cid>``: enter data mode on a registered context."""
    if form != "set" or len(args) != 2 or unquote(args[0] or "").upper() != "PPP":
        return ERROR
    cid = number(args[1])
    if cid not in modem.contexts or not modem.registered(now):
        return ERROR
    modem.session_cid = cid
    modem.data_mode = True
    return CONNECT


@command("+CGSN")
def cgsn(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    ident = modem.identity
    which = number(args[0]) if form == "set" and len(args) == 1 else None
    if form == "exec" or which == 0:
        out.append(ident.imei)
    elif which == 1:
        out.append(f'+CGSN: "{ident.imei}"')
    elif which == 2:
        out.append(f'+CGSN: "{ident.imei[:14]}{ident.svn}"')
    elif which == 3:
        out.append(f'+CGSN: "{ident.svn}"')
    elif form == "test":
        out.append("+CGSN: (0-3)")
    else:
        return ERROR
    return OK


@command("+CIMI")
def cimi(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form != "exec" or not modem.sim_ready():
        return ERROR
    out.append(modem.identity.imsi)
    return OK


@command("+CPIN")
def cpin(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form != "read" or not modem.sim_ready():
        return ERROR
    out.append("+CPIN: READY")
    return OK


@command("+SQNCCID")
def sqnccid(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form not in ("exec", "read") or not modem.sim_ready():
        return ERROR
    out.append(f'+SQNCCID: "{modem.identity.iccid}",""')
    return OK


@command("+CCID")
def ccid(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+CCID``: assumed to answer as ``+SQNCCID`` does, without the second field."""
    if form not in ("exec", "read") or not modem.sim_ready():
        return ERROR
    out.append(f'+CCID: "{modem.identity.iccid}"')
    return OK


@command("+SQNCTM")
def sqnctm(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """Carrier configuration; setting it reboots the modem."""
    if form == "read":
        out.append(f"+SQNCTM: {modem.carrier}")
        return OK
    if form == "test":
        out.append("+SQNCTM: ({})".format(",".join(f'"{name}"' for name in CARRIERS)))
        return OK
    if form != "set" or len(args) != 1 or unquote(args[0] or "") not in CARRIERS:
        return ERROR
    modem.carrier = unquote(args[0] or "")
    modem.power_on()
    return OK


@command("+CPSMS")
def cpsms(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    if form == "read":
        mode, tau, active = modem.psm
        out.append(f'+CPSMS: {mode},,,"{tau}","{active}"')
        return OK
    if form != "set" or not args:
        return ERROR
    mode = number(args[0])
    if mode not in (0, 1, 2):
        return ERROR
    _, tau, active = modem.psm
    if len(args) > 3 and args[3] is not None:
        tau = unquote(args[3])
    if len(args) > 4 and args[4] is not None:
        active = unquote(args[4])
    if not all(len(bits) == 8 and set(bits) <= {"0", "1"} for bits in (tau, active)):
        return ERROR
    modem.psm = (min(mode, 1), tau, active)
    return OK
