"""``OnRadioRxDone`` of LoRaMac-node (``lib/lora/mac/LoRaMac.c``, firmware 1.20.2.r6): what the device
does with a frame its receiver got in an RX window -- a JoinAccept (keys, DevAddr, RX settings,
CFList), or a data downlink (address, 16-bit FCnt extended to 32 bits with the roll-over check,
MAX_FCNT_GAP, MIC, repeated frames, ACK, FOpts / port-0 MAC commands, FRMPayload decryption).

Public API::

    rx_done(engine: MacEngine, frame: bytes, rssi: int, snr: int) -> None
"""

from __future__ import annotations

from . import frames, maccommands
from .macactions import (
    STATUS_ADDRESS_FAIL,
    STATUS_DOWNLINK_REPEATED,
    STATUS_DOWNLINK_TOO_MANY_FRAMES_LOSS,
    STATUS_ERROR,
    STATUS_JOIN_FAIL,
    STATUS_MIC_FAIL,
    STATUS_OK,
)
from .macengine import Indication, MacEngine

__all__ = ["rx_done"]

FRMPAYLOAD_OVERHEAD = 13  # MHDR(1) + FHDR(7) + Port(1) + MIC(4)


def rx_done(engine: MacEngine, frame: bytes, rssi: int, snr: int) -> None:
    """Handle one received frame (the radio has stopped; RX2 is no longer opened)."""
    engine.mcps.ack_received = False
    rx_dr = engine.ind.rx_dr
    ind = engine.ind = Indication()
    ind.rx_dr, ind.timestamp, ind.rssi, ind.snr, ind.slot = rx_dr, engine.at, rssi, snr, engine.rx_slot
    engine.radio = "idle"
    engine.stop("rx2")
    engine.stop("rx_timeout")
    engine.stop("rx_error")
    kind = frames.mtype(frame)
    if kind == frames.JOIN_ACCEPT:
        if engine.session.joined:
            engine.prepare_rx_done_abort()
            return
        _join_accept(engine, frame)
    elif kind in (frames.UNCONFIRMED_DOWN, frames.CONFIRMED_DOWN):
        if not _data_down(engine, frame, snr):
            engine.prepare_rx_done_abort()
            return
    elif kind == frames.PROPRIETARY:
        ind.status, ind.kind, ind.payload = STATUS_OK, "proprietary", frame[1:]
        engine.mcps_ind = True
    else:
        engine.prepare_rx_done_abort()
        return
    # CheckToDisableAckTimeout: the exchange ends when no ack timeout runs any more
    if engine.node_ack_requested and (
        engine.mcps.ack_received or engine.ack_timeout_retries_counter > engine.ack_timeout_retries
    ):
        engine.stop("ack_timeout")
    if "ack_timeout" not in engine.timers:
        engine.mac_done = True
        engine.start("state_check", 1)


def _join_accept(engine: MacEngine, frame: bytes) -> None:
    accept = frames.JoinAccept.open(frame, engine.app_key)
    if accept is None:
        engine.mlme_status = STATUS_JOIN_FAIL
        return
    session, params = engine.session, engine.params
    session.nwk_skey, session.app_skey = accept.session_keys(engine.app_key, engine.dev_nonce)
    session.net_id = int.from_bytes(accept.net_id, "little")
    session.dev_addr = accept.dev_addr
    params.rx1_dr_offset = accept.rx1_dr_offset
    params.rx2_dr = accept.rx2_dr
    params.receive_delay1 = max(accept.rx_delay, 1) * 1000
    params.receive_delay2 = params.receive_delay1 + 1000
    engine.plan.apply_cflist(accept.cflist)
    engine.mlme_status = STATUS_OK
    session.joined = True


def _data_down(engine: MacEngine, frame: bytes, snr: int) -> bool:
    """A data downlink; False when it is dropped (``PrepareRxDoneAbort``)."""
    ind, session, params = engine.ind, engine.session, engine.params
    max_payload = engine.plan.max_payload(ind.rx_dr, params.downlink_dwell)
    down = frames.DataFrame.parse(frame)
    if down is None or max(0, len(frame) - FRMPAYLOAD_OVERHEAD) > max_payload:
        ind.status = STATUS_ERROR
        return False
    multicast = down.dev_addr != session.dev_addr
    if multicast:
        if down.dev_addr not in engine.multicast:
            ind.status = STATUS_ADDRESS_FAIL
            return False
        nwk_skey, app_skey = engine.multicast[down.dev_addr]
        counter = engine.multicast_fcnt.get(down.dev_addr, 0)
    else:
        nwk_skey, app_skey, counter = session.nwk_skey, session.app_skey, session.fcnt_down
    diff = (down.fcnt16 - counter) & 0xFFFF
    mic_ok = False
    if diff < 1 << 15:
        counter += diff
        mic_ok = down.mic_ok(nwk_skey, counter)
    else:  # a roll-over of the 16 bits on air
        signed = diff - 0x10000
        candidate = counter + 0x10000 + signed
        if down.mic_ok(nwk_skey, candidate):
            mic_ok, counter = True, candidate
    if diff >= engine.figures.max_fcnt_gap:
        ind.status, ind.fcnt_down = STATUS_DOWNLINK_TOO_MANY_FRAMES_LOSS, counter
        return False
    if not mic_ok:
        ind.status = STATUS_MIC_FAIL
        return False
    ind.status, ind.multicast, ind.fpending, ind.fcnt_down = STATUS_OK, multicast, down.fpending, counter
    engine.mcps.status = STATUS_OK
    session.adr_ack_counter = 0
    session.mac_commands_repeat = bytearray()
    if multicast:
        ind.kind = "multicast"
        if engine.multicast_fcnt.get(down.dev_addr, 0) == counter and counter != 0:
            ind.status = STATUS_DOWNLINK_REPEATED
            return False
        engine.multicast_fcnt[down.dev_addr] = counter
    else:
        repeated = session.fcnt_down == counter and session.fcnt_down != 0
        if down.kind == frames.CONFIRMED_DOWN:
            session.srv_ack_requested = True
            ind.kind = "confirmed"
            if repeated:  # a retransmission: take its MAC commands and ACK, not its data again
                engine.mcps_ind_skip = True
        else:
            session.srv_ack_requested = False
            if repeated:
                ind.status = STATUS_DOWNLINK_REPEATED
                return False
        session.fcnt_down = counter
    if engine.mcps.request == "confirmed":
        if down.ack:
            session.mac_commands = bytearray()
            engine.mcps.ack_received = True
            ind.ack = True
    else:
        session.mac_commands = bytearray()
    if down.port is not None:
        ind.port = down.port
        if down.port == 0:
            if not down.fopts:
                commands = down.plain(nwk_skey, app_skey, counter)
                _commands(engine, commands, snr)
            else:  # MAC commands in both FOpts and port 0: drop the frame and its ACK
                engine.mcps_ind_skip = True
                engine.mcps.ack_received = False
                ind.ack = False
        else:
            if down.fopts:
                _commands(engine, down.fopts, snr)
            ind.payload, ind.rx_data = down.plain(nwk_skey, app_skey, counter), True
    elif down.fopts:
        _commands(engine, down.fopts, snr)
    engine.mcps_ind = True
    return True


def _commands(engine: MacEngine, commands: bytes, snr: int) -> None:
    effects = maccommands.process(
        engine.session, engine.params, engine.plan, commands, snr, engine.adr, engine.battery
    )
    if effects.link_check is not None:
        engine.link_answer = effects.link_check
        engine.mlme_status = STATUS_OK
    if effects.schedule_uplink:
        engine.mlme_ind = True
