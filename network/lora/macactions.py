"""What the sans-I/O LoRaWAN device (:mod:`.mac`) asks its host to do, and tells it.

Every action is a frozen dataclass with ``at``: the board time (seconds) it happens. The host performs
radio actions (:class:`Transmit`, :class:`OpenWindow`) and reports the rest to the script the way
modlora.c does (firmware 1.20.2.r6, ``McpsConfirm`` / ``McpsIndication`` / ``MlmeConfirm`` /
``MlmeIndication``):

- :class:`TxDone` -- ``McpsConfirm`` with status OK: ``LoRa.TX_PACKET_EVENT``, the blocking send
  returns. For a confirmed uplink modlora only completes when ``ack_received`` is true (it does
  nothing otherwise, as the firmware does).
- :class:`TxFailed` -- ``McpsConfirm`` with an error: ``LoRa.TX_FAILED_EVENT``, send fails (EAGAIN).
- :class:`SendRefused` -- the MAC refused the request at once (busy, too long, not joined ...): no
  event; send fails with EMSGSIZE when ``msg_size`` else EAGAIN.
- :class:`Deliver` -- ``McpsIndication`` with data on a port 1..223: ``LoRa.RX_PACKET_EVENT``.
- :class:`Joined` / :class:`JoinFailed` -- ``MlmeConfirm`` of a join.
- :class:`LinkChecked` -- ``MlmeConfirm`` of a link check (a LinkCheckAns arrived).
- :class:`ScheduleUplink` -- ``MlmeIndication`` MLME_SCHEDULE_UPLINK: the firmware prints
  ``Trying to send uplink`` (a sticky MAC answer waits for an uplink).

Public API::

    Transmit(frame, freq_hz, dr, sf, bw_hz, tx_power_dbm, at, airtime, cr=1, iq_inverted=False)
        .end -> float                                  # at + airtime: TxDone of the radio
    OpenWindow(slot, freq_hz, dr, sf, bw_hz, at, length, iq_inverted=True, cr=1)
        .end -> float                                  # at + length: the RX timeout without a preamble
    TxDone(at, dr, tx_power, freq_hz, time_on_air_ms, nb_retries, fcnt_up, confirmed, ack_received)
    TxFailed(at, status, dr, nb_retries, fcnt_up, confirmed)
    SendRefused(at, status, msg_size)
    Deliver(at, port, payload, rssi, snr, dr, slot, confirmed, fpending, multicast, fcnt_down, timestamp)
    Joined(at, dev_addr, net_id);  JoinFailed(at, status);  LinkChecked(at, margin, gateways)
    ScheduleUplink(at)
    Action = Transmit | OpenWindow | TxDone | ...  (the union)
    MacError(status: str)                            # a refused configuration call (add_channel ...)
    STATUS_* (LoRaMacEventInfoStatus_t names); MAC_* (LoRaMacStatus_t names)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Action",
    "Deliver",
    "JoinFailed",
    "Joined",
    "LinkChecked",
    "MacError",
    "OpenWindow",
    "ScheduleUplink",
    "SendRefused",
    "Transmit",
    "TxDone",
    "TxFailed",
]

# LoRaMacEventInfoStatus_t (LoRaMac.h), as names
STATUS_OK = "OK"
STATUS_ERROR = "ERROR"
STATUS_TX_TIMEOUT = "TX_TIMEOUT"
STATUS_RX1_TIMEOUT = "RX1_TIMEOUT"
STATUS_RX2_TIMEOUT = "RX2_TIMEOUT"
STATUS_RX1_ERROR = "RX1_ERROR"
STATUS_RX2_ERROR = "RX2_ERROR"
STATUS_JOIN_FAIL = "JOIN_FAIL"
STATUS_DOWNLINK_REPEATED = "DOWNLINK_REPEATED"
STATUS_TX_DR_PAYLOAD_SIZE_ERROR = "TX_DR_PAYLOAD_SIZE_ERROR"
STATUS_DOWNLINK_TOO_MANY_FRAMES_LOSS = "DOWNLINK_TOO_MANY_FRAMES_LOSS"
STATUS_ADDRESS_FAIL = "ADDRESS_FAIL"
STATUS_MIC_FAIL = "MIC_FAIL"

# LoRaMacStatus_t (LoRaMac.h), as names
MAC_OK = "OK"
MAC_BUSY = "BUSY"
MAC_PARAMETER_INVALID = "PARAMETER_INVALID"
MAC_NO_NETWORK_JOINED = "NO_NETWORK_JOINED"
MAC_LENGTH_ERROR = "LENGTH_ERROR"
MAC_DEVICE_OFF = "DEVICE_OFF"


class MacError(Exception):
    """A request LoRaMac-node refused; ``status`` is the ``LORAMAC_STATUS_*`` name."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Transmit:
    """Send ``frame`` now (``at``); the radio's TxDone is ``at + airtime``."""

    frame: bytes
    freq_hz: int
    dr: int
    sf: int  # 0: FSK
    bw_hz: int
    tx_power_dbm: int
    at: float
    airtime: float
    cr: int = 1  # 4/5
    iq_inverted: bool = False

    @property
    def end(self) -> float:
        return self.at + self.airtime


@dataclass(frozen=True)
class OpenWindow:
    """Receive at ``at`` on (freq, SF/BW) with inverted IQ; without a preamble within ``length``
    seconds the radio times out. A frame caught in the window is received to its end (report it
    with ``Device.received``; ``Device.detected`` while it is still on air keeps the window open)."""

    slot: int  # 0: RX1, 1: RX2
    freq_hz: int
    dr: int
    sf: int
    bw_hz: int
    at: float
    length: float
    iq_inverted: bool = True
    cr: int = 1

    @property
    def end(self) -> float:
        return self.at + self.length


@dataclass(frozen=True)
class TxDone:
    at: float
    dr: int
    tx_power: int  # the power index (0 = max)
    freq_hz: int
    time_on_air_ms: int
    nb_retries: int  # transmissions of a confirmed uplink (McpsConfirm.NbRetries), 0 unconfirmed
    fcnt_up: int
    confirmed: bool
    ack_received: bool


@dataclass(frozen=True)
class TxFailed:
    at: float
    status: str
    dr: int
    nb_retries: int
    fcnt_up: int
    confirmed: bool


@dataclass(frozen=True)
class SendRefused:
    at: float
    status: str
    msg_size: bool


@dataclass(frozen=True)
class Deliver:
    at: float
    port: int
    payload: bytes
    rssi: int
    snr: int
    dr: int
    slot: int
    confirmed: bool
    fpending: bool
    multicast: bool
    fcnt_down: int
    timestamp: float  # board time of the end of the frame


@dataclass(frozen=True)
class Joined:
    at: float
    dev_addr: int
    net_id: int


@dataclass(frozen=True)
class JoinFailed:
    at: float
    status: str


@dataclass(frozen=True)
class LinkChecked:
    at: float
    margin: int
    gateways: int


@dataclass(frozen=True)
class ScheduleUplink:
    at: float


Action = (
    Transmit
    | OpenWindow
    | TxDone
    | TxFailed
    | SendRefused
    | Deliver
    | Joined
    | JoinFailed
    | LinkChecked
    | ScheduleUplink
)
