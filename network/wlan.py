"""``network.WLAN``, enough for Pycom scripts that connect before using CoAP.

A singleton, as on the board. ``connect`` always succeeds (the simulated board is on loopback);
``ifconfig()[0]`` is the board's address (127.0.0.1 unless the simulator gives it another).
Constants are the ESP-IDF values the firmware exports (firmware-coap.md §10).
"""

from __future__ import annotations

import json
import os
from collections import namedtuple
from typing import Any

from . import host
from .coap.api.mpargs import Param, check_count, parse, to_int

_INIT = (
    Param("id", 0),
    Param("mode", 1, True),
    Param("ssid", None, True),
    Param("auth", None, True),
    Param("channel", 1, True),
    Param("antenna", None, True),
    Param("power_save", False, True),
    Param("hidden", False, True),
    Param("bandwidth", 2, True),
    Param("max_tx_pwr", 0, True),
    Param("country", None, True),
)
_CONNECT = (
    Param("ssid"),
    Param("auth", None),
    Param("bssid", None, True),
    Param("timeout", None, True),
    Param("ca_certs", None, True),
    Param("keyfile", None, True),
    Param("certfile", None, True),
    Param("identity", None, True),
    Param("hostname", None, True),
    Param("channel", None, True),
)


ENV_SCAN = "FIRMWARE_SIM_WLAN_SCAN"
ScanResult = namedtuple("ScanResult", "ssid bssid sec channel rssi")
MacResult = namedtuple("MacResult", "sta_mac ap_mac")
_DEFAULT_SCAN: list[list[Any]] = [
    ["your-ssid", "a0b1c2d3e4f5", 3, 6, -48],
    ["neighbour", "a0b1c2d3e4f6", 3, 11, -81],
]


def _scan_list() -> list[ScanResult]:
    """The networks ``scan()`` reports: ``FIRMWARE_SIM_WLAN_SCAN`` as JSON
    ``[[ssid, bssid_hex, sec, channel, rssi], ...]``, else two plausible ones."""
    entries: list[list[Any]] = json.loads(os.environ.get(ENV_SCAN) or "null") or _DEFAULT_SCAN
    return [
        ScanResult(ssid, bytes.fromhex(bssid), sec, channel, rssi)
        for ssid, bssid, sec, channel, rssi in entries
    ]


class WLAN:
    """The board's Wi-Fi interface (one instance, whatever the number of calls)."""

    STA, AP, STA_AP = 1, 2, 3
    WEP, WPA, WPA2, WPA2_ENT = 1, 2, 3, 5
    INT_ANT, EXT_ANT, MAN_ANT = 0, 1, 2
    HT20, HT40 = 1, 2

    _instance: WLAN | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> WLAN:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance._mode = cls.STA
            cls._instance._ssid = None
            cls._instance._connected = False
        return cls._instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = parse(args, kwargs, _INIT)
        if to_int(values[0]) != 0:
            raise OSError("the requested operation is not possible")
        if args[1:] or kwargs:
            self._mode = to_int(values[1])

    def __repr__(self) -> str:
        return "WLAN(mode={})".format({1: "WLAN.STA", 2: "WLAN.AP", 3: "WLAN.STA_AP"}.get(self._mode, "?"))

    def mode(self, *args: Any) -> int | None:
        if args:
            self._mode = to_int(args[0])
            return None
        return self._mode

    def connect(self, *args: Any, **kwargs: Any) -> None:
        ssid, auth, *_ = parse(args, kwargs, _CONNECT)
        if self._mode == self.AP:
            raise OSError("the requested operation is not possible")
        self._ssid = ssid
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False

    def isconnected(self) -> bool:
        return self._connected

    def ssid(self) -> object:
        return self._ssid

    def ifconfig(self, *args: Any, **kwargs: Any) -> tuple[str, str, str, str]:
        """``(ip, netmask, gateway, dns)``: the board's own address first."""
        check_count(args, kwargs, 0, 2)
        ip = host.own_address()
        gateway = ip.rsplit(".", 1)[0] + ".1"
        return (ip, "255.255.255.0", gateway, gateway)

    def deinit(self) -> None:
        self._connected = False

    def scan(self, *args: Any, **kwargs: Any) -> list[ScanResult]:
        if self._mode == self.AP:
            raise OSError("the requested operation is not possible")
        return _scan_list()

    def mac(self, *args: Any, **kwargs: Any) -> MacResult:
        """Station and AP MACs, derived from the board's address so each board has its own."""
        last = [int(part) for part in host.own_address().split(".")]
        sta = bytes([0x30, 0xAE, 0xA4, last[1], last[2], last[3]])
        return MacResult(sta, sta[:5] + bytes([(sta[5] + 1) & 0xFF]))
