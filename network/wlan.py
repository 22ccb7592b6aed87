"""``network.WLAN``: the firmware's Wi-Fi class, its arguments, checks and errors.

As Pycom firmware 1.20.2.r6 (``esp32/mods/modwlan.c``): a singleton over the board's one radio
(:mod:`.wlan_radio`). ``WLAN()`` without keyword arguments returns the running interface untouched (and
starts it in station mode if nothing started it); with keywords it configures it again. ``connect()``
joins at once (the simulated board is on loopback). ``ifconfig()`` gives the board's own address on both
interfaces whatever the Wi-Fi state; a static configuration keeps its netmask, gateway and DNS.
Constants are the ESP-IDF values the firmware exports. The methods beyond joining a network are in
:mod:`.wlan_extras`.
"""

from __future__ import annotations

from typing import Any

from . import host
from . import wlan_checks as wc
from . import wlan_radio as wr
from .coap.api.mpargs import Param, check_count, get_array, get_array_fixed_n, parse, to_int, to_str
from .wlan_checks import INVALID, NOT_AVAILABLE, NOT_POSSIBLE, NUM_TYPE, MacResult, ScanResult
from .wlan_extras import INIT, UNSET, RadioExtras, check_enterprise, configure, str_or_none

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
_SCAN = tuple(
    Param(name, None, True) for name in ("ssid", "bssid", "channel", "show_hidden", "type", "scantime")
)
_IFCONFIG = (Param("id", 0), Param("config", UNSET))
_NETMASK = bytes([255, 255, 255, 0])


class WLAN(RadioExtras):
    """The board's Wi-Fi interface (one instance, whatever the number of calls)."""

    STA, AP, STA_AP = wc.STA, wc.AP, wc.STA_AP
    WEP, WPA, WPA2, WPA2_ENT = wc.WEP, wc.WPA, wc.WPA2, wc.WPA2_ENT
    INT_ANT, EXT_ANT, MAN_ANT = wc.INT_ANT, wc.EXT_ANT, wc.MAN_ANT
    HT20, HT40 = wc.HT20, wc.HT40
    PHY_11_B, PHY_11_G, PHY_11_N, PHY_LOW_RATE = wc.PHY_11_B, wc.PHY_11_G, wc.PHY_11_N, wc.PHY_LOW_RATE
    SCAN_PASSIVE, SCAN_ACTIVE = 1, 0
    COUNTRY_POL_AUTO, COUNTRY_POL_MAN = 0, 1
    SECONDARY_CHN_ABOVE, SECONDARY_CHN_BELOW, SECONDARY_CHN_NONE = 1, 2, 0
    EVENT_PKT_MGMT, EVENT_PKT_CTRL, EVENT_PKT_DATA = 0x01, 0x02, 0x04
    EVENT_PKT_DATA_MPDU, EVENT_PKT_DATA_AMPDU, EVENT_PKT_MISC, EVENT_PKT_ANY = 0x10, 0x20, 0x08, 0x3F
    # MP_OBJ_NEW_SMALL_INT of the ESP-IDF masks: 31-bit small ints, so the top bits wrap
    FILTER_CTRL_PKT_ALL, FILTER_CTRL_PKT_WRAPPER, FILTER_CTRL_PKT_BAR = -8388608, 1 << 23, 1 << 24
    FILTER_CTRL_PKT_BA, FILTER_CTRL_PKT_PSPOLL, FILTER_CTRL_PKT_CTS = 1 << 25, 1 << 26, 1 << 28
    FILTER_CTRL_PKT_ACK, FILTER_CTRL_PKT_CFEND, FILTER_CTRL_PKT_CFENDACK = 1 << 29, -(1 << 30), 0
    SMART_CONF_DONE, SMART_CONF_TIMEOUT = wc.SMART_CONF_DONE, wc.SMART_CONF_TIMEOUT

    _instance: WLAN | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> WLAN:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = parse(args, kwargs, (Param("id", 0), *INIT))
        ident = to_int(values[0])
        if kwargs or not wr.radio().started:
            if ident != 0:
                raise OSError(NOT_AVAILABLE)
            configure(values[1:])

    def __repr__(self) -> str:
        return "<WLAN>"

    def init(self, *args: Any, **kwargs: Any) -> None:
        configure(parse(args, kwargs, INIT))

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        wr.radio().deinit()

    # -- the station --------------------------------------------------------------------------------

    def scan(self, *args: Any, **kwargs: Any) -> list[ScanResult]:
        """The networks around (``FIRMWARE_SIM_WLAN_SCAN``), filtered as ESP-IDF's scan filters them."""
        ssid, bssid, channel, show_hidden, scan_type, scantime = parse(args, kwargs, _SCAN)
        radio = wr.radio()
        want_ssid = None if ssid is None else to_str(ssid)
        if bssid is not None and not isinstance(bssid, bytes):
            raise ValueError("invalid bssid")
        want_channel = 0 if channel is None else to_int(channel)
        hidden = show_hidden is not None and to_int(show_hidden) >= 1
        passive = (scan_type is not None and to_int(scan_type) == self.SCAN_PASSIVE) or (
            scan_type is None and radio.mode == wc.STA and not radio.disconnected
        )
        if scantime is not None:
            if isinstance(scantime, tuple) and not passive:
                if len(scantime) != 2:
                    raise ValueError("invalid scan timings")
                to_int(scantime[0]), to_int(scantime[1])
            elif not (isinstance(scantime, int) and not isinstance(scantime, bool) and passive):
                raise ValueError("invalid scan timings")
        if radio.mode == wc.AP:
            raise OSError(NOT_POSSIBLE)
        if not radio.started:
            raise OSError("Scan operation Failed!")
        return [
            net
            for net in wc.scan_list()
            if (want_ssid is None or net.ssid == want_ssid)
            and (bssid is None or net.bssid == bssid[:6])
            and (want_channel == 0 or net.channel == want_channel)
            and (hidden or net.ssid)
        ]

    def connect(self, *args: Any, **kwargs: Any) -> None:
        """Join a network: at once on the simulated board (``isconnected()`` is then True)."""
        radio = wr.radio()
        if radio.mode == wc.AP:
            raise OSError(NOT_POSSIBLE)
        ssid_obj, auth_obj, bssid, timeout, ca_certs, keyfile, certfile, identity, hostname, channel = parse(
            args, kwargs, _CONNECT
        )
        ssid = to_str(ssid_obj)
        wc.validate_ssid(ssid)
        auth, key, user = wc.AUTH_MAX, None, None
        if auth_obj is not None:
            sec = get_array(auth_obj)
            if len(sec) == 1:
                auth = wc.u8(sec[0])
                if auth != wc.WPA2_ENT:
                    raise ValueError("invalid authentication tuple")
            elif len(sec) == 2:
                if sec[0] is not None:
                    auth = wc.u8(sec[0])
                    if auth == wc.WPA2_ENT:
                        raise ValueError("invalid authentication tuple")
                key = to_str(sec[1])
            elif len(sec) == 3:
                auth = wc.u8(sec[0])
                if auth != wc.WPA2_ENT:
                    raise ValueError("invalid authentication tuple")
                user, key = str_or_none(sec[1]), str_or_none(sec[2])
            else:
                raise ValueError("invalid authentication tuple")
        bssid_raw = None if bssid is None else to_str(bssid).encode("utf-8", "surrogateescape")
        timeout_ms = -1 if timeout is None else to_int(timeout)
        ca, client_key, client_cert, ident = map(str_or_none, (ca_certs, keyfile, certfile, identity))
        name = None if hostname is None else to_str(hostname)
        if name is not None:
            wc.validate_hostname(name)
        if auth == wc.WPA2_ENT:
            check_enterprise(client_key, client_cert, user, ident)
        scan_channel = 0 if channel is None else wc.u8(channel)
        with radio.lock:
            radio.stop_smart_config()
            radio.connect(ssid, bssid_raw, auth, key, timeout_ms, name, scan_channel)

    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        radio = wr.radio()
        if radio.mode == wc.AP:
            raise OSError(NOT_POSSIBLE)
        radio.drop_connection()

    def isconnected(self, *args: Any, **kwargs: Any) -> bool:
        check_count((self, *args), kwargs, 1, 1)
        """Station: joined with an address; AP: a station joined (none does on the simulated board)."""
        return wr.radio().connected_bit

    def ifconfig(self, *args: Any, **kwargs: Any) -> tuple[str, str, str, str] | None:
        """``(ip, netmask, gateway, dns)`` of the station (``id=0``) or AP (``id=1``) interface: the
        board's own address first; ``config='dhcp'`` or a 4-tuple sets it."""
        ident_obj, config = parse(args, kwargs, _IFCONFIG)
        ident = to_int(ident_obj)
        if ident > 1:
            raise OSError(NOT_AVAILABLE)
        interface = wc.STA if ident == 0 else wc.AP
        radio = wr.radio()
        ip = host.own_address()
        if config is UNSET:
            gateway = bytes(int(part) for part in ip.split(".")[:3]) + b"\x01"
            netmask, gw, dns = radio.static.get(interface, (_NETMASK, gateway, gateway))
            return (ip, wc.format_ipv4(netmask), wc.format_ipv4(gw), wc.format_ipv4(dns))
        if isinstance(config, tuple):
            items = get_array_fixed_n(config, 4)
            _, netmask, gw, dns = (wc.parse_ipv4(item) for item in items)
            radio.static[interface] = (netmask, gw, dns)
            return None
        if to_str(config) not in ("dhcp", "auto"):
            raise ValueError(INVALID)
        radio.static.pop(interface, None)
        return None

    # -- settings -----------------------------------------------------------------------------------

    def mode(self, *args: Any, **kwargs: Any) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return radio.mode
        mode = to_int(args[0]) & 0xFFFFFFFF
        wc.validate_mode(mode)
        with radio.lock:
            radio.set_mode(mode)
        return None

    def bandwidth(self, *args: Any, **kwargs: Any) -> int | bool:
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return radio.bandwidth
        bandwidth = to_int(args[0]) & 0xFFFFFFFF
        wc.validate_bandwidth(bandwidth)
        return radio.set_bandwidth(bandwidth)

    def ssid(self, *args: Any, **kwargs: Any) -> object:
        """The joined network's name (STA), the board's AP name (AP), both as a tuple (STA_AP)."""
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if args:
            ssid = to_str(args[0])
            wc.validate_ssid(ssid)
            radio.ssid = ssid
            return None
        joined = None if radio.disconnected else radio.ssid_o
        own = None if radio.soft_ap_stopped else radio.ssid
        if radio.mode == wc.STA:
            return joined
        if radio.mode == wc.AP:
            return own
        if radio.mode == wc.STA_AP:
            return (joined, own)
        return None

    def bssid(self, *args: Any, **kwargs: Any) -> bytes:
        check_count((self, *args), kwargs, 1, 1)
        return wr.radio().bssid

    def auth(self, *args: Any, **kwargs: Any) -> tuple[int, str] | None:
        """The AP's security as ``(auth, key)``, None when open; set it with a 2-tuple or None."""
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return None if radio.auth == wc.OPEN else (radio.auth, radio.key)
        auth, key = wc.OPEN, None
        if args[0] is not None:
            sec = get_array_fixed_n(args[0], 2)
            auth, key = wc.u8(sec[0]), to_str(sec[1])
        radio.auth, radio.key = auth, key or ""
        return None

    def hostname(self, *args: Any, **kwargs: Any) -> str | bool:
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return radio.hostname
        name = to_str(args[0])
        wc.validate_hostname(name)
        return radio.set_hostname(name)

    def channel(self, *args: Any, **kwargs: Any) -> int | None:
        """AP: the channel; STA: set only in promiscuous mode (the getter keeps the joined one)."""
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return radio.channel
        if radio.mode == wc.AP:
            channel = wc.u8(args[0])
            wc.validate_channel(channel)
            radio.channel = channel
        elif radio.mode == wc.STA:
            if not radio.is_promiscuous:
                raise OSError("Wifi is not in promiscuous mode!")
            wc.validate_channel(wc.u8(args[0]))
        return None

    def antenna(self, *args: Any, **kwargs: Any) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return radio.antenna
        antenna = wc.u8(args[0])
        wc.validate_antenna(antenna)
        radio.antenna = antenna
        return None

    def mac(self, *args: Any, **kwargs: Any) -> MacResult | None:
        """``(sta_mac, ap_mac)``; ``mac(bytearray(6), WLAN.STA or WLAN.AP)`` sets one while that interface
        is off (ESP-IDF's ``esp_wifi_set_mac``)."""
        check_count((self, *args), kwargs, 1, 3)
        radio = wr.radio()
        if not args:
            return MacResult(*radio.known_macs())
        if len(args) != 2:
            raise TypeError(NUM_TYPE)
        interface = to_int(args[1])
        if interface not in (wc.STA, wc.AP):
            raise OSError(NOT_POSSIBLE)
        if not isinstance(args[0], bytearray):
            raise TypeError(NUM_TYPE)
        mac = bytes(args[0])
        if len(mac) != 6:
            raise ValueError(INVALID)
        sta, ap = radio.macs()
        if mac == (ap if interface == wc.STA else sta):
            raise ValueError("Station and AP cannot have the same Mac address!")
        if mac[0] & 1:
            raise ValueError("Bit 0 of First Byte in Mac addr cannot be 1")
        if not radio.initialised or radio.interface_enabled(interface):
            raise OSError(NOT_POSSIBLE)
        if interface == wc.STA:
            radio.burnt_sta, radio.sta_mac_read = mac, True
        else:
            radio.burnt_ap, radio.ap_mac_read = mac, True
        return None
