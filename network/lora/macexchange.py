"""The end of a LoRaWAN exchange: ``OnMacStateCheckTimerEvent`` of LoRaMac-node (``lib/lora/mac/
LoRaMac.c``, firmware 1.20.2.r6), which every second after a transmission decides whether the exchange
is over, repeats the frame (NbRep), retransmits a confirmed uplink that got no ACK (one data rate lower
every second try) or gives up, and then confirms and indicates to modlora (:mod:`.macactions`).

Public API::

    MacExchange(plan, now, rng)      # a MacEngine with the state check; :class:`.mac.Device` on top
        .on_next_act() -> None       # modlora's answer to MLME_SCHEDULE_UPLINK (the device defines it)
"""

from __future__ import annotations

from .macactions import (
    MAC_OK,
    STATUS_OK,
    STATUS_TX_DR_PAYLOAD_SIZE_ERROR,
    Deliver,
    Joined,
    JoinFailed,
    LinkChecked,
    ScheduleUplink,
    TxDone,
    TxFailed,
)
from .macengine import MAX_ACK_RETRIES, MacEngine

__all__ = ["MacExchange"]


class MacExchange(MacEngine):
    """LoRaMac-node's engine with its state check."""

    lora_joined = False  # modlora's lora_obj.joined

    def on_next_act(self) -> None:
        """``OnTxNextActReqTimerEvent`` of modlora (the device joins again if it must)."""
        raise NotImplementedError

    # -- the end of an exchange ------------------------------------------------------------------

    def on_mac_state_check(self) -> None:
        """``OnMacStateCheckTimerEvent``: finish, repeat or retransmit, then confirm and indicate."""
        self.stop("state_check")
        if self.mac_done:
            if self.rx_abort:
                self.rx_abort = self.tx_running = False
            if not self.node_ack_requested and (self.mlme_req or self.mcps_req):
                self.finish_unacknowledged()
            if self.mcps_ind and (
                self.mcps.ack_received or self.ack_timeout_retries_counter > self.ack_timeout_retries
            ):
                self.ack_timeout_retry = self.node_ack_requested = False
                self.session.fcnt_up += 1
                self.mcps.nb_retries = self.ack_timeout_retries_counter
                self.tx_running = False
            if self.ack_timeout_retry and not self.tx_delayed:
                self.retransmit()
        if self.mcps_ind:
            if not self.mcps_ind_skip:
                self.indicate()
            self.mcps_ind_skip = self.mcps_ind = False
        if not (self.tx_running or self.tx_delayed):
            if self.mcps_req:
                self.confirm_mcps()
                self.mcps_req = False
            if self.mlme_req:
                self.confirm_mlme()
                self.mlme_req = ""
            if self.session.mac_commands_repeat:
                self.mlme_ind = True
            self.mac_done = False
        else:
            self.start("state_check", 1000)
        if self.mlme_ind:
            self.mlme_ind = False
            self.out.append(ScheduleUplink(self.at))
            self.on_next_act()  # modlora's MlmeIndication

    def finish_unacknowledged(self) -> None:
        session = self.session
        if self.mlme_req == "join":
            if self.mlme_status == STATUS_OK:
                session.fcnt_up = 0
                self.nb_rep_counter = 0
            self.tx_running = False  # Pycom: a failed join is not sent again by the MAC
        elif self.nb_rep_counter >= self.params.nb_rep or self.mcps_ind:
            if not self.mcps_ind:
                session.mac_commands = bytearray()
                session.adr_ack_counter += 1
            self.nb_rep_counter = 0
            session.fcnt_up += 1
            self.tx_running = False
        else:
            self.mac_done = False
            self.on_tx_delayed()  # NbRep: the same frame again

    def retransmit(self) -> None:
        """A confirmed uplink without ACK: again (one DR lower every second try), or give up."""
        self.ack_timeout_retry = False
        m = self.mcps
        if (
            self.ack_timeout_retries_counter < self.ack_timeout_retries
            and self.ack_timeout_retries_counter <= MAX_ACK_RETRIES
        ):
            self.ack_timeout_retries_counter += 1
            if self.ack_timeout_retries_counter % 2 == 1:
                self.params.datarate = self.plan.next_lower_dr(self.params.datarate, self.params.uplink_dwell)
            if self.schedule_tx() == MAC_OK:
                self.mac_done = False
                return
            m.status = STATUS_TX_DR_PAYLOAD_SIZE_ERROR
            m.datarate = self.params.datarate
        else:
            self.plan.restore_defaults()
        self.session.mac_commands = bytearray()
        self.tx_running = self.node_ack_requested = m.ack_received = False
        m.nb_retries = self.ack_timeout_retries_counter
        self.session.fcnt_up += 1

    def confirm_mcps(self) -> None:
        m = self.mcps
        confirmed = m.request == "confirmed"
        if m.status == STATUS_OK:
            done = TxDone(self.at, m.datarate, m.tx_power, m.freq, m.time_on_air, m.nb_retries, m.fcnt_up,
                          confirmed, m.ack_received)  # fmt: skip
            self.out.append(done)
        else:
            self.out.append(TxFailed(self.at, m.status, m.datarate, m.nb_retries, m.fcnt_up, confirmed))

    def confirm_mlme(self) -> None:
        if self.mlme_req == "join":
            if self.mlme_status == STATUS_OK:
                self.lora_joined = True
                self.session.activation = "OTAA"
                self.stop("next_act")
                self.out.append(Joined(self.at, self.session.dev_addr, self.session.net_id))
            else:
                self.out.append(JoinFailed(self.at, self.mlme_status))
        elif self.mlme_req == "link_check" and self.mlme_status == STATUS_OK and self.link_answer:
            self.out.append(LinkChecked(self.at, *self.link_answer))

    def indicate(self) -> None:
        """modlora's ``McpsIndication``: data on ports 1..223 goes to the script."""
        ind = self.ind
        if ind.status == STATUS_OK and ind.rx_data and ind.payload and 0 < ind.port < 224:
            self.out.append(Deliver(self.at, ind.port, ind.payload, ind.rssi, ind.snr, ind.rx_dr, ind.slot,
                                    ind.kind == "confirmed", ind.fpending, ind.multicast, ind.fcnt_down,
                                    ind.timestamp))  # fmt: skip
