"""The MAC commands of LoRaWAN 1.0.2 (spec 5) as LoRaMac-node answers them: ``ProcessMacCommands``,
``AddMacCommand`` and ``ParseMacCommandsToRepeat`` of ``lib/lora/mac/LoRaMac.c`` (firmware
1.20.2.r6), the region's part in :mod:`.plan` / :mod:`.fixedplan`.

A downlink's commands (FOpts, or FRMPayload on port 0) change the MAC parameters and queue answers in
the session's command buffer; the next uplink carries them in FOpts (or on port 0 when they do not
fit). RXParamSetupAns, RXTimingSetupAns and DlChannelAns are "sticky": repeated in every uplink
until a downlink arrives, and they ask for an uplink (``MLME_SCHEDULE_UPLINK``). An unknown command
stops the parsing, as in the firmware.

Public API::

    LINK_CHECK_REQ, LINK_ADR, DUTY_CYCLE, RX_PARAM_SETUP, DEV_STATUS, NEW_CHANNEL, RX_TIMING_SETUP,
    TX_PARAM_SETUP, DL_CHANNEL                              # the CIDs
    add_answer(session, cid, *args) -> bool                 # AddMacCommand; True: queued
    sticky_answers(commands: bytes) -> bytes                # ParseMacCommandsToRepeat
    process(session, params, plan, commands: bytes, snr: int, adr: bool, battery: int) -> Effects
    Effects(link_check: tuple[int, int] | None, schedule_uplink: bool)
"""

from __future__ import annotations

from dataclasses import dataclass

from .macstate import MAC_COMMAND_MAX_LENGTH, MacParams, Session
from .plan import ChannelPlan

__all__ = [
    "DEV_STATUS",
    "DL_CHANNEL",
    "DUTY_CYCLE",
    "LINK_ADR",
    "LINK_CHECK_REQ",
    "NEW_CHANNEL",
    "RX_PARAM_SETUP",
    "RX_TIMING_SETUP",
    "TX_PARAM_SETUP",
    "Effects",
    "add_answer",
    "process",
    "sticky_answers",
]

LINK_CHECK_REQ = LINK_CHECK_ANS = 0x02
LINK_ADR = 0x03
DUTY_CYCLE = 0x04
RX_PARAM_SETUP = 0x05
DEV_STATUS = 0x06
NEW_CHANNEL = 0x07
RX_TIMING_SETUP = 0x08
TX_PARAM_SETUP = 0x09
DL_CHANNEL = 0x0A

_ANSWER_LENGTH = {  # uplink CID -> payload bytes
    LINK_CHECK_REQ: 0, LINK_ADR: 1, DUTY_CYCLE: 0, RX_PARAM_SETUP: 1, DEV_STATUS: 2,
    NEW_CHANNEL: 1, RX_TIMING_SETUP: 0, TX_PARAM_SETUP: 0, DL_CHANNEL: 1,
}  # fmt: skip
_STICKY = (RX_PARAM_SETUP, RX_TIMING_SETUP, DL_CHANNEL)
MAX_EIRP_TABLE = (8, 10, 12, 13, 14, 16, 18, 20, 21, 24, 26, 27, 29, 30, 33, 36)  # LoRaMacMaxEirpTable


@dataclass
class Effects:
    """What processing the commands means for the MLME primitives."""

    link_check: tuple[int, int] | None = None  # (demodulation margin, gateways) of a LinkCheckAns
    schedule_uplink: bool = False


def add_answer(session: Session, cid: int, *args: int) -> bool:
    """``AddMacCommand``: queue an answer (or a LinkCheckReq) if the buffer has room."""
    room = MAC_COMMAND_MAX_LENGTH - len(session.mac_commands_repeat)
    size = _ANSWER_LENGTH[cid]
    limit = room - size if cid != DL_CHANNEL else room  # DlChannelAns checks index < bufLen only
    if len(session.mac_commands) >= limit:
        return False
    session.mac_commands += bytes([cid, *[a & 0xFF for a in args[:size]]])
    session.mac_commands_in_next_tx = True
    return True


def sticky_answers(commands: bytes) -> bytes:
    """``ParseMacCommandsToRepeat``: the sticky answers among queued commands."""
    out = bytearray()
    at = 0
    while at < len(commands):
        cid = commands[at]
        size = _ANSWER_LENGTH.get(cid, 0)
        if cid in _STICKY:
            out += commands[at : at + 1 + size]
        at += 1 + size
    return bytes(out)


def process(
    session: Session, params: MacParams, plan: ChannelPlan, commands: bytes, snr: int, adr: bool, battery: int
) -> Effects:
    """``ProcessMacCommands`` over ``commands`` (FOpts, or a decrypted port-0 payload)."""
    effects = Effects()
    at = 0
    while at < len(commands):
        cid = commands[at]
        at += 1
        if cid == LINK_CHECK_ANS:
            effects.link_check = (commands[at], commands[at + 1]) if at + 1 < len(commands) else (0, 0)
            at += 2
        elif cid == LINK_ADR:
            current = (params.datarate, params.tx_power, params.nb_rep)
            result = plan.link_adr_req(commands[at - 1 :], adr, current, params.uplink_dwell)
            if result is None:
                return effects
            if result.status & 0x07 == 0x07:
                params.datarate, params.tx_power, params.nb_rep = result.dr, result.tx_power, result.nb_rep
            for _ in range(result.parsed // 5):
                add_answer(session, LINK_ADR, result.status)
            at += result.parsed - 1
        elif cid == DUTY_CYCLE:
            session.max_dcycle = commands[at] if at < len(commands) else 0
            session.aggregated_dcycle = 1 << session.max_dcycle
            at += 1
            add_answer(session, DUTY_CYCLE)
        elif cid == RX_PARAM_SETUP:
            field = commands[at : at + 4].ljust(4, b"\0")
            dr_offset, dr = (field[0] >> 4) & 0x07, field[0] & 0x0F
            freq = int.from_bytes(field[1:4], "little") * 100
            at += 4
            status = plan.rx_param_setup_req(dr_offset, dr, freq, params.downlink_dwell)
            if status & 0x07 == 0x07:
                params.rx2_dr, params.rx2_freq, params.rx1_dr_offset = dr, freq, dr_offset
            if add_answer(session, RX_PARAM_SETUP, status):
                effects.schedule_uplink = True
        elif cid == DEV_STATUS:
            add_answer(session, DEV_STATUS, battery, snr)
        elif cid == NEW_CHANNEL:
            field = commands[at : at + 5].ljust(5, b"\0")
            at += 5
            freq = int.from_bytes(field[1:4], "little") * 100
            status = plan.new_channel_req(field[0], freq, field[4] & 0x0F, field[4] >> 4)
            add_answer(session, NEW_CHANNEL, status)
        elif cid == RX_TIMING_SETUP:
            delay = (commands[at] & 0x0F) if at < len(commands) else 0
            at += 1
            params.receive_delay1 = max(delay, 1) * 1000
            params.receive_delay2 = params.receive_delay1 + 1000
            if add_answer(session, RX_TIMING_SETUP):
                effects.schedule_uplink = True
        elif cid == TX_PARAM_SETUP:
            value = commands[at] if at < len(commands) else 0
            at += 1
            uplink, downlink = int(bool(value & 0x10)), int(bool(value & 0x20))
            if plan.tx_param_setup_req(uplink, downlink, value & 0x0F):
                params.uplink_dwell, params.downlink_dwell = uplink, downlink
                params.max_eirp = MAX_EIRP_TABLE[value & 0x0F]
                add_answer(session, TX_PARAM_SETUP)
        elif cid == DL_CHANNEL:
            field = commands[at : at + 4].ljust(4, b"\0")
            at += 4
            status = plan.dl_channel_req(field[0], int.from_bytes(field[1:4], "little") * 100)
            if add_answer(session, DL_CHANNEL, status):
                effects.schedule_uplink = True
        else:
            return effects  # unknown command: stop, as the firmware does
    return effects
