"""The ``AT!="..."`` directives (the Sequans modem's own shell) that Pycom's firmware and real
scripts send, answered as the modem does.

Pycom's firmware (``esp32/mods/modlte.c``, ``esp32/lte/lteppp.c`` at v1.20.2.r6) sends
``setlpm airplane=1 enable=1``, ``clearscanconfig``, ``RRC::addScanBand band=<n>``,
``disablelog <0|1>`` and ``showver``, whose ``Software     :`` line's number in brackets modlte reads
as the modem firmware's build (above 41000: every band; ``sqnsupgrade.py`` reads the
``Bootloader0`` and ``Software`` lines for ``[33080]``). Scripts from Pycom's documentation and
forum send, to set up NB-IoT, ``addscanfreq band=<n> dl-earfcn=<earfcn>`` (also as
``RRC::addscanfreq``) and ``zsp0:npc <0|1>``, and for diagnostics ``fsm`` (the table of the
protocol state machines; registered, the states of a published transcript), ``RRC:setDbgPerm full``
and ``RRC:showcaps`` (a Cat-M1 modem's capabilities, as a published transcript). Each answers its
lines and ``OK``; a malformed one, or one this model does not know (``showphy``, ``IP::ping``,
``cat <file>`` ...), answers ``ERROR``. Names are matched without regard to case.
"""

from __future__ import annotations

from .at import ERROR, OK
from .state import ModemState

_FSM_HEAD = "|            FSM           |        STATE       |"
# (machine, state when registered, state when not): registered as a GPy transcript shows them
_FSM = (
    ("RRC TOP FSM", "CAMPED", "NULL"),
    ("RRC SEARCH FSM", "CAMPED", "NULL"),
    ("RRC ACTIVE FSM", "IDLE", "NULL"),
    ("PMM PLMN FSM", "NORM_CAMPED", "NULL"),
    ("EMM MAIN FSM", "REGISTERED", "DEREGISTERED"),
    ("EMM AUTH FSM", "KASME_DEFINED", "KASME_DEFINED"),
    ("EMM CONN FSM", "EMM_IDLE", "EMM_IDLE"),
    ("EMM TAU FSM", "NULL", "NULL"),
    ("EMM TEST FSM", "NULL", "NULL"),
    ("ESM BEARER FSM", "BEARER_ACTIVE", "NULL"),
    ("SMS MT FSM", "IDLE", "IDLE"),
    ("SMS MO FSM", "IDLE", "IDLE"),
    ("HP MAIN FSM", "IDLE", "IDLE"),
    ("HP USIM FSM", "READY", "READY"),
    ("HP SMS MO FSM", "IDLE", "IDLE"),
    ("HP SMS MT FSM", "IDLE", "IDLE"),
    ("HP CAT FSM", "IDLE", "IDLE"),
)
_CAPS = [
    "== CAPS ====================================",
    "",
    "  . access stratum: R13",
    "  . catM          : 1",
    "  . nb-IoT        : 0",
    "",
    "-- EUTRA bands --",
    "  . supported     : 28/20/13/12/8/5/4/3",
    "  . board         : 3/4/5/8/12/13/20/28",
]


def _settings(words: list[str]) -> dict[str, str] | None:
    """``band=20 dl-earfcn=6300`` -> ``{"band": "20", "dl-earfcn": "6300"}``; None if a word is not
    ``key=value``."""
    pairs = [word.partition("=") for word in words]
    if any(not sep or not key or not value for key, sep, value in pairs):
        return None
    return {key.lower(): value for key, _, value in pairs}


def _numbers(settings: dict[str, str] | None, *keys: str) -> bool:
    return settings is not None and all(settings.get(key, "").isdigit() for key in keys)


def showver(modem: ModemState) -> list[str]:
    """``AT!="showver"``: the firmware versions, the build in brackets (``LR5.1.1.0-41065``)."""
    version, _, build = modem.identity.lr_version.removeprefix("LR").partition("-")
    firmware = f"{version} [{build}]"
    return [
        "SYSTEM VERSION",
        "==============",
        "  FIRMWARE VERSION",
        f"    Bootloader0  : {firmware}",
        f"    Bootloader1  : {firmware}",
        f"    Bootloader2* : {firmware}",
        f"    Software     : {firmware}",
        f"    UE           : {modem.identity.ue_version.removeprefix('UE')}",
    ]


def fsm(modem: ModemState, now: float) -> list[str]:
    """``AT!="fsm"``: each protocol state machine and its state."""
    registered = modem.registered(now)
    rows = [(name, on if registered else off) for name, on, off in _FSM]
    return [_FSM_HEAD] + [f"| {name:<25}|{state:<20}|" for name, state in rows]


def directive(modem: ModemState, text: str, now: float, out: list[str]) -> str:
    """Run ``AT!="<text>"`` (``text`` unquoted); its lines go to ``out``; the result code."""
    words = text.split()
    if not words:
        return ERROR
    name, rest = words[0].lower(), words[1:]
    settings = _settings(rest)
    if name in ("setlpm", "rrc:setdbgperm") or (name == "clearscanconfig" and not rest):
        return OK
    if name == "rrc::addscanband" and _numbers(settings, "band"):
        return OK
    if name in ("addscanfreq", "rrc::addscanfreq") and _numbers(settings, "band", "dl-earfcn"):
        return OK
    if name in ("disablelog", "zsp0:npc") and rest in (["0"], ["1"]):
        return OK
    if name == "showver" and not rest:
        out += showver(modem)
        return OK
    if name == "fsm" and not rest:
        out += fsm(modem, now)
        return OK
    if name == "rrc:showcaps" and not rest:
        out += _CAPS
        return OK
    return ERROR
