"""The LoRaWAN device's state that outlives an exchange: ``LoRaMacParams_t`` and the session (keys,
counters, pending MAC command answers), as LoRaMac-node keeps them (``lib/lora/mac/LoRaMac.c``,
firmware 1.20.2.r6) and ``LoRaMacNvsSave`` stores them for ``LoRa.nvram_save()``.

Public API::

    MacParams.defaults(figures: RegionFigures) -> MacParams      # LoRaMacInitialization's defaults
    Session()                                                    # not joined
    Session.save() -> dict;  Session.restore(dict) -> Session
    MacParams.save() -> dict;  MacParams.restore(dict) -> MacParams
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .regionfigures import RegionFigures

__all__ = ["MAC_COMMAND_MAX_LENGTH", "MacParams", "Session"]

MAC_COMMAND_MAX_LENGTH = 128


@dataclass
class MacParams:
    """``LoRaMacParams_t``: what the network (LinkADRReq, RXParamSetupReq ...) and the API change."""

    tx_power: int
    datarate: int
    rx1_dr_offset: int
    rx2_freq: int
    rx2_dr: int
    uplink_dwell: int
    downlink_dwell: int
    max_eirp: float
    antenna_gain: float
    nb_rep: int = 1
    receive_delay1: int = 1000
    receive_delay2: int = 2000
    join_accept_delay1: int = 5000
    join_accept_delay2: int = 6000
    max_rx_window: int = 3000
    system_max_rx_error: int = 10
    min_rx_symbols: int = 6

    @classmethod
    def defaults(cls, figures: RegionFigures) -> MacParams:
        """``LoRaMacParamsDefaults`` of ``LoRaMacInitialization``."""
        return cls(
            tx_power=0,
            datarate=figures.default_dr,
            rx1_dr_offset=0,
            rx2_freq=figures.rx2_freq,
            rx2_dr=figures.rx2_dr,
            uplink_dwell=figures.default_dwell,
            downlink_dwell=figures.default_dwell,
            max_eirp=0.0 if figures.name == "US915" else figures.max_eirp,
            antenna_gain=0.0 if figures.name == "US915" else figures.antenna_gain,
            receive_delay1=figures.receive_delay1,
            receive_delay2=figures.receive_delay2,
            join_accept_delay1=figures.join_accept_delay1,
            join_accept_delay2=figures.join_accept_delay2,
            max_rx_window=figures.max_rx_window,
        )

    def reset_from(self, defaults: MacParams) -> None:
        """What ``ResetMacParameters`` takes back from the defaults (a join does it)."""
        for name in ("tx_power", "datarate", "rx1_dr_offset", "rx2_freq", "rx2_dr", "uplink_dwell",
                     "downlink_dwell", "max_eirp", "antenna_gain"):  # fmt: skip
            setattr(self, name, getattr(defaults, name))

    def copy(self) -> MacParams:
        return replace(self)

    def save(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def restore(cls, saved: dict[str, Any]) -> MacParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in known})


@dataclass
class Session:
    """The activation and its counters; MAC command answers waiting for an uplink."""

    joined: bool = False
    activation: str = ""  # "", "OTAA", "ABP"
    dev_addr: int = 0
    net_id: int = 0
    nwk_skey: bytes = bytes(16)
    app_skey: bytes = bytes(16)
    fcnt_up: int = 0
    fcnt_down: int = 0
    adr_ack_counter: int = 0
    srv_ack_requested: bool = False
    mac_commands_in_next_tx: bool = False
    mac_commands: bytearray = field(default_factory=bytearray)  # MacCommandsBuffer[0:index]
    mac_commands_repeat: bytearray = field(default_factory=bytearray)  # MacCommandsBufferToRepeat
    max_dcycle: int = 0
    aggregated_dcycle: int = 1

    def reset_counters(self) -> None:
        """The session part of ``ResetMacParameters``."""
        self.joined = False
        self.fcnt_up = self.fcnt_down = self.adr_ack_counter = 0
        self.max_dcycle = 0
        self.aggregated_dcycle = 1
        self.mac_commands = bytearray()
        self.mac_commands_repeat = bytearray()
        self.srv_ack_requested = False
        self.mac_commands_in_next_tx = False

    def save(self) -> dict[str, Any]:
        """What ``LoRaMacNvsSave`` keeps (keys as hex)."""
        return {
            "dev_addr": self.dev_addr,
            "net_id": self.net_id,
            "nwk_skey": self.nwk_skey.hex(),
            "app_skey": self.app_skey.hex(),
            "fcnt_up": self.fcnt_up,
            "fcnt_down": self.fcnt_down,
            "adr_ack_counter": self.adr_ack_counter,
            "srv_ack_requested": self.srv_ack_requested,
            "mac_commands_in_next_tx": self.mac_commands_in_next_tx,
            "mac_commands": bytes(self.mac_commands).hex(),
            "mac_commands_repeat": bytes(self.mac_commands_repeat).hex(),
        }

    @classmethod
    def restore(cls, saved: dict[str, Any]) -> Session:
        """A joined ABP session from :meth:`save` (modlora restores a saved session as ABP)."""
        return cls(
            joined=True,
            activation="ABP",
            dev_addr=int(saved["dev_addr"]),
            net_id=int(saved["net_id"]),
            nwk_skey=bytes.fromhex(saved["nwk_skey"]),
            app_skey=bytes.fromhex(saved["app_skey"]),
            fcnt_up=int(saved["fcnt_up"]),
            fcnt_down=int(saved["fcnt_down"]),
            adr_ack_counter=int(saved["adr_ack_counter"]),
            srv_ack_requested=bool(saved["srv_ack_requested"]),
            mac_commands_in_next_tx=bool(saved["mac_commands_in_next_tx"]),
            mac_commands=bytearray.fromhex(saved["mac_commands"]),
            mac_commands_repeat=bytearray.fromhex(saved["mac_commands_repeat"]),
        )
