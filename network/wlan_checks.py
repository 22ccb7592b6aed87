"""The firmware's Wi-Fi constants, MicroPython's conversions and modwlan.c's argument checks.

From Pycom firmware 1.20.2.r6 (``esp32/mods/modwlan.c``, ``modwlan.h``, ``esp32/util/antenna.c``,
``esp32/util/mpexception.c``) and the ESP-IDF 3.3 values it exports; the records ``WLAN`` methods return
(MicroPython attribute tuples); the networks around the simulated board (``FIRMWARE_SIM_WLAN_SCAN``).
"""

from __future__ import annotations

import json
import os
from collections import namedtuple
from typing import Any

from . import host
from .coap.api.mpargs import to_bytes, to_int

STA, AP, STA_AP = 1, 2, 3  # wifi_mode_t
OPEN, WEP, WPA, WPA2, WPA_WPA2, WPA2_ENT, AUTH_MAX = 0, 1, 2, 3, 4, 5, 6  # wifi_auth_mode_t (IDF 3.3)
INT_ANT, EXT_ANT, MAN_ANT = 0, 1, 2  # antenna.h
HT20, HT40 = 1, 2
PHY_11_B, PHY_11_G, PHY_11_N, PHY_LOW_RATE = 1, 2, 3, 4  # modwlan.h _wlan_protocol_t
PROTOCOL_11B, PROTOCOL_11G, PROTOCOL_11N = 1, 2, 4  # esp_wifi_types.h WIFI_PROTOCOL_*
SMART_CONF_DONE, SMART_CONF_TIMEOUT = 0x40, 0x80  # modwlan.h MOD_WLAN_SMART_CONFIG_*
FILTER_CTRL_WRAPPER, FILTER_CTRL_ALL = 1 << 23, 0xFF800000  # WIFI_PROMIS_CTRL_FILTER_MASK_*

SSID_MAX = 32  # MODWLAN_SSID_LEN_MAX
HOSTNAME_MAX = 32  # TCPIP_HOSTNAME_MAX_SIZE: a name keeps at most 31 characters
MAX_CHANNEL = 14
MAX_AP_STATIONS = 4
DEFAULT_AP_PASSWORD, DEFAULT_AP_CHANNEL = "www.pycom.io", 6  # esp32/mpconfigport.h
DEFAULT_HOSTNAME = "espressif"  # ESP-IDF 3.3's tcpip_adapter name until one is set
CONNECT_TIMEOUT_ON_BOOT = 30000
SMART_CONFIG_SECONDS = 60.0  # modwlan.c TASK_SMART_CONFIG's timer
# esp_wifi_set_max_tx_power (ESP-IDF 3.3): a value in [8, 78] (0.25 dBm) takes the level at or below
# it; the country's max_tx_power (dBm) follows.
TX_LEVELS = (
    (8, 2),
    (20, 5),
    (28, 7),
    (34, 8),
    (44, 11),
    (52, 13),
    (56, 14),
    (60, 15),
    (66, 16),
    (72, 18),
    (78, 20),
)
DEFAULT_COUNTRY = ("CN", 1, 13, 20, 0)

NOT_POSSIBLE = "the requested operation is not possible"  # esp32/util/mpexception.c
FAILED = "the requested operation failed"
NOT_AVAILABLE = "resource not available"
INVALID = "invalid argument(s) value"
NUM_TYPE = "invalid argument(s) num/type"

ENV_SCAN = "FIRMWARE_SIM_WLAN_SCAN"
ScanResult = namedtuple("ScanResult", "ssid bssid sec channel rssi")
_DEFAULT_SCAN: list[list[Any]] = [
    ["your-ssid", "a0b1c2d3e4f5", WPA2, 6, -48],
    ["neighbour", "a0b1c2d3e4f6", WPA2, 11, -81],
]


# -- MicroPython's conversions and the firmware's checks ------------------------------------------------


def u8(obj: object) -> int:
    """``mp_obj_get_int`` stored in a ``uint8_t``."""
    return to_int(obj) & 0xFF


def i8(obj: object) -> int:
    """``mp_obj_get_int`` stored in an ``int8_t``."""
    return ((to_int(obj) & 0xFF) ^ 0x80) - 0x80


def validate_mode(mode: int) -> None:
    if not STA <= mode <= STA_AP:
        raise ValueError(INVALID)


def validate_channel(channel: int) -> None:
    if not 1 <= channel <= MAX_CHANNEL:
        raise ValueError(INVALID)


def validate_bandwidth(bandwidth: int) -> None:
    if not HT20 <= bandwidth <= HT40:
        raise ValueError(INVALID)


def validate_ssid(ssid: str) -> None:
    if len(ssid.encode("utf-8", "surrogateescape")) > SSID_MAX:
        raise ValueError(INVALID)


def validate_hostname(name: str) -> None:
    if not 0 < len(name.encode("utf-8", "surrogateescape")) <= HOSTNAME_MAX:
        raise ValueError(INVALID)


def validate_antenna(antenna: int) -> None:
    """``antenna_validate_antenna`` (esp32/util/antenna.c)."""
    if antenna > MAN_ANT:
        raise ValueError(f"invalid antenna type {antenna}")


def validate_country(code: str) -> None:
    if len(code.encode("utf-8", "surrogateescape")) > 2:
        raise ValueError("Wrong Country string length!")


def validate_policy(policy: int) -> None:
    if (policy & 0xFF) > 1:
        raise ValueError("Invalid Country Policy!")


def parse_ipv4(obj: object) -> bytes:
    """``netutils_parse_ipv4_addr`` (lib/netutils): four dotted numbers, each cut to a byte."""
    text = to_bytes(obj)
    if not text:
        return bytes(4)
    parts = text.split(b".")
    if len(parts) != 4:
        raise ValueError("invalid arguments")
    out = []
    for part in parts:
        value = 0
        for char in part:
            value = value * 10 + char - ord("0")
        out.append(value & 0xFF)
    return bytes(out)


def format_ipv4(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def tx_level(power: int) -> tuple[int, int]:
    """The (power, dBm) level ``esp_wifi_set_max_tx_power(power)`` ends at."""
    return max(level for level in TX_LEVELS if level[0] <= power)


def scan_list() -> list[ScanResult]:
    """The networks around the board: ``FIRMWARE_SIM_WLAN_SCAN`` as JSON
    ``[[ssid, bssid_hex, sec, channel, rssi], ...]``, else two plausible ones."""
    entries: list[list[Any]] = json.loads(os.environ.get(ENV_SCAN) or "null") or _DEFAULT_SCAN
    return [
        ScanResult(ssid, bytes.fromhex(bssid), sec, channel, rssi)
        for ssid, bssid, sec, channel, rssi in entries
    ]


def factory_macs() -> tuple[bytes, bytes]:
    """The station and AP MACs burnt into this board: from its address, so each board has its own;
    the AP's is the station's plus one, as the ESP32 derives it."""
    last = [int(part) for part in host.own_address().split(".")]
    sta = bytes([0x30, 0xAE, 0xA4, last[1], last[2], last[3]])
    return sta, sta[:5] + bytes([(sta[5] + 1) & 0xFF])


MacResult = namedtuple("MacResult", "sta_mac ap_mac")
Protocols = namedtuple("Protocols", "protocol_11B protocol_11G protocol_11N")
StaInfo = namedtuple("StaInfo", "mac rssi wlan_protocol")
StaAddress = namedtuple("StaAddress", "mac IP")
JoinedAp = namedtuple("JoinedAp", "bssid ssid primary_chn rssi auth standard")
Country = namedtuple("Country", "country schan nchan max_tx_pwr policy")
Packet = namedtuple(
    "Packet",
    "rssi rate sig_mode mcs cwb aggregation stbc fec_coding sgi noise_floor ampdu_cnt channel sec_channel "
    "time_stamp ant sig_len rx_state data",
)
