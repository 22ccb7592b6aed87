"""``network.WLAN``'s configuration (``init``) and its methods beyond joining a network.

As Pycom firmware 1.20.2.r6 (``esp32/mods/modwlan.c``): the transmit power and country, the 802.11
protocols, the stations of the board's AP (none joins on the simulated board), raw frames (accepted,
sent nowhere), promiscuous mode (it never captures a frame, so ``wifi_packet()`` is the empty record),
``callback``/``events`` and smart config (no phone answers: ``SMART_CONF_TIMEOUT`` after 60 board
seconds).
"""

from __future__ import annotations

from typing import Any

from . import wlan_checks as wc
from . import wlan_radio as wr
from .coap.api.mpargs import Param, check_count, get_array_fixed_n, parse, to_int, to_str
from .wlan_checks import NOT_POSSIBLE, NUM_TYPE, Country, JoinedAp, Packet, Protocols, StaAddress, StaInfo

UNSET: Any = object()  # MP_OBJ_NULL: an argument not given at all
INIT = (
    Param("mode", wc.STA, True),
    Param("ssid", UNSET, True),
    Param("auth", None, True),
    Param("channel", 1, True),
    Param("antenna", UNSET, True),
    Param("power_save", False, True),
    Param("hidden", False, True),
    Param("bandwidth", wc.HT40, True),
    Param("max_tx_pwr", 0, True),
    Param("country", None, True),
)
_COUNTRY = tuple(Param(name, None, True) for name in ("country", "schan", "nchan", "max_tx_pwr", "policy"))
_CALLBACK = (Param("trigger"), Param("handler", None), Param("arg", None))
_SEND_RAW = (
    Param("Buffer", keyword_only=True),
    Param("interface", wc.STA, True),
    Param("use_sys_seq", True, True),
)


def str_or_none(obj: object) -> str | None:
    return None if obj is None else to_str(obj)


def configure(values: list[Any]) -> None:
    """``wlan_init_helper``: check the configuration as the firmware does, then start the radio."""
    mode, ssid, auth_obj, channel, antenna_obj, power_save, hidden, bandwidth, max_tx, country_obj = values
    # mp_arg_parse_all converts the MP_ARG_INT ones first, in the table's order
    mode, channel, bandwidth, max_tx_pwr = (to_int(v) for v in (mode, channel, bandwidth, max_tx))
    mode = ((mode & 0xFF) ^ 0x80) - 0x80  # an int8_t
    wc.validate_mode(mode)
    ssid_text = None if ssid is UNSET else to_str(ssid)
    if ssid_text is not None:
        wc.validate_ssid(ssid_text)
    auth, key = wc.OPEN, None
    if auth_obj is not None:
        sec = get_array_fixed_n(auth_obj, 2)
        auth, key = wc.u8(sec[0]), to_str(sec[1])
        if not 8 <= len(key.encode("utf-8", "surrogateescape")) <= 32:
            raise ValueError("invalid key length")
    channel &= 0xFF
    wc.validate_channel(channel)
    if antenna_obj is UNSET:
        antenna = wc.MAN_ANT if wr.BOARD.second_gen else wc.INT_ANT
    else:
        antenna = wc.MAN_ANT if antenna_obj is None else wc.u8(antenna_obj)
    wc.validate_antenna(antenna)
    if mode != wc.STA:
        if ssid_text is None:
            raise ValueError("AP SSID not given")
        if auth == wc.WPA2_ENT:
            raise ValueError("WPA2_ENT not supported in AP mode")
    wc.validate_bandwidth(bandwidth)
    max_tx_pwr = ((max_tx_pwr & 0xFF) ^ 0x80) - 0x80
    country = None
    if country_obj is not None:
        if not isinstance(country_obj, tuple) or len(country_obj) != 4:
            raise TypeError(NUM_TYPE)
        code, schan, nchan = to_str(country_obj[0]), wc.u8(country_obj[1]), wc.u8(country_obj[2])
        policy = to_int(country_obj[3])
        wc.validate_country(code)
        wc.validate_channel(schan)
        wc.validate_channel(nchan)
        wc.validate_policy(policy)
        country = (code, schan, nchan, wc.DEFAULT_COUNTRY[3], policy & 0xFF)
    radio = wr.radio()
    with radio.lock:
        radio.pwrsave = bool(power_save)
        radio.setup(
            mode, ssid_text, key, ssid_text, key, auth, channel, antenna,
            hidden=bool(hidden), bandwidth=bandwidth, country=country, max_tx_pwr=max_tx_pwr,
        )  # fmt: skip


class RadioExtras:
    """The WLAN methods beyond joining a network: power, country, protocols, the AP's stations, raw
    frames, promiscuous mode, events and smart config (``WLAN`` inherits them)."""

    def smartConfig(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802 - the firmware's name
        check_count((self, *args), kwargs, 1, 1)
        wr.radio().start_smart_config()

    def Connected_ap_pwd(self, *args: Any, **kwargs: Any) -> str | None:  # noqa: N802 - the firmware's name
        check_count((self, *args), kwargs, 1, 1)
        radio = wr.radio()
        return radio.key if radio.connected_bit else None

    def max_tx_power(self, *args: Any, **kwargs: Any) -> int | None:
        """The transmit power cap in 0.25 dBm, [8, 78] (ESP-IDF 3.3 keeps the level at or below)."""
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if args:
            power = wc.i8(args[0])
            if not radio.set_tx_power(power):
                raise OSError(NOT_POSSIBLE)
            radio.max_tx_pwr = power
            return None
        if not radio.initialised:
            raise OSError(NOT_POSSIBLE)
        return radio.tx_power

    def country(self, *args: Any, **kwargs: Any) -> Country | None:
        code_obj, schan_obj, nchan_obj, max_tx, policy_obj = parse(args, kwargs, _COUNTRY)
        radio = wr.radio()
        if all(value is None for value in (code_obj, schan_obj, nchan_obj, max_tx, policy_obj)):
            return Country(*radio.country)
        if code_obj is None:
            raise OSError("No Country Specified!")
        code = to_str(code_obj)
        wc.validate_country(code)
        if schan_obj is None:
            raise OSError("Please Specify start channel!")
        schan = wc.u8(schan_obj)
        wc.validate_channel(schan)
        if nchan_obj is None:
            raise OSError("Please Specify number of channels!")
        nchan = wc.u8(nchan_obj)
        wc.validate_channel(nchan)
        power = wc.DEFAULT_COUNTRY[3] if max_tx is None else wc.i8(max_tx)
        policy = 0
        if policy_obj is not None:
            policy = to_int(policy_obj)
            wc.validate_policy(policy)
        radio.set_country((code[:2], schan, nchan, power, policy & 0xFF))
        return None

    def wifi_protocol(self, *args: Any, **kwargs: Any) -> Protocols | None:
        """Which of 802.11 b/g/n the interface of the current mode (STA or AP only) uses."""
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if radio.mode not in (wc.STA, wc.AP):
            raise OSError(NOT_POSSIBLE)
        if not args:
            if not radio.initialised:
                raise OSError(wc.FAILED)
            bits = radio.protocols[radio.mode]
            return Protocols(
                bool(bits & wc.PROTOCOL_11B), bool(bits & wc.PROTOCOL_11G), bool(bits & wc.PROTOCOL_11N)
            )
        if not isinstance(args[0], tuple) or len(args[0]) < 3:  # a shorter one: the firmware reads past it
            raise TypeError(NUM_TYPE)
        bits = sum(bit for bit, on in zip((1, 2, 4), args[0][:3], strict=True) if on)
        if not radio.initialised or bits == 0:
            raise OSError(wc.FAILED)
        radio.protocols[radio.mode] = bits
        return None

    # -- the access point ---------------------------------------------------------------------------

    def ap_sta_list(self, *args: Any, **kwargs: Any) -> list[StaInfo]:
        """The stations joined to the board's AP: none on the simulated board."""
        check_count((self, *args), kwargs, 1, 1)
        if wr.radio().mode not in (wc.AP, wc.STA_AP):
            raise OSError(NOT_POSSIBLE)
        return []

    def ap_tcpip_sta_list(self, *args: Any, **kwargs: Any) -> list[StaAddress]:
        check_count((self, *args), kwargs, 1, 1)
        if wr.radio().mode not in (wc.AP, wc.STA_AP):
            raise OSError(NOT_POSSIBLE)
        return []

    def joined_ap_info(self, *args: Any, **kwargs: Any) -> JoinedAp:
        """The network the station joined; an AP that does 802.11b reports ``PHY_11_B``, as ESP-IDF."""
        check_count((self, *args), kwargs, 1, 1)
        joined = wr.radio().joined
        if joined is None:
            raise OSError(NOT_POSSIBLE)
        return JoinedAp(joined.bssid, joined.ssid, joined.channel, joined.rssi, joined.sec, wc.PHY_11_B)

    # -- raw frames and promiscuous mode --------------------------------------------------------------

    def send_raw(self, *args: Any, **kwargs: Any) -> None:
        """Send an 802.11 frame (24 to 1500 bytes): accepted while the radio runs, and goes nowhere."""
        buffer, interface, _ = parse(args, kwargs, _SEND_RAW)
        to_int(interface)
        if not isinstance(buffer, bytes):
            raise TypeError(NUM_TYPE)
        if not 24 <= len(buffer) <= 1500:
            raise ValueError("Buffer size should be between 24 and 1500 bytes!")
        if not wr.radio().started:
            raise OSError(NOT_POSSIBLE)

    def promiscuous(self, *args: Any, **kwargs: Any) -> bool | None:
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            return radio.is_promiscuous
        if not radio.initialised:
            raise OSError(NOT_POSSIBLE)
        radio.is_promiscuous = bool(args[0])
        return None

    def callback(self, *args: Any, **kwargs: Any) -> None:
        """Call ``handler(arg)`` (default arg: the WLAN) on the ``trigger`` events; no handler: none."""
        trigger, handler, arg = parse(args, kwargs, _CALLBACK)
        radio = wr.radio()
        with radio.lock:
            if trigger is not None and handler is not None:
                radio.trigger = to_int(trigger) & 0xFFFFFFFF
                radio.handler, radio.handler_arg = handler, self if arg is None else arg
            else:
                radio.trigger, radio.handler, radio.handler_arg = 0, None, None

    def events(self, *args: Any, **kwargs: Any) -> int:
        """The events seen since the last call (then cleared)."""
        check_count((self, *args), kwargs, 1, 1)
        radio = wr.radio()
        with radio.lock:
            events, radio.events = radio.events, 0
        return events

    def wifi_packet(self, *args: Any, **kwargs: Any) -> Packet:
        """The last frame promiscuous mode captured: none ever is, so the empty record."""
        check_count((self, *args), kwargs, 1, 1)
        radio = wr.radio()
        radio.packet_token ^= 1
        return Packet._make([0] * 17 + [b""])

    def ctrl_pkt_filter(self, *args: Any, **kwargs: Any) -> int | None:
        """The control-frame filter of promiscuous mode (a 32-bit mask, read back as a signed int)."""
        check_count((self, *args), kwargs, 1, 2)
        radio = wr.radio()
        if not args:
            mask = radio.ctrl_filter
            return mask - (1 << 32) if mask & 0x80000000 else mask
        mask = to_int(args[0]) & 0xFFFFFFFF
        if not wc.FILTER_CTRL_WRAPPER <= mask <= wc.FILTER_CTRL_ALL:
            raise ValueError("Invalid Filter mask!")
        radio.ctrl_filter = mask
        return None


def check_enterprise(key: str | None, cert: str | None, user: str | None, identity: str | None) -> None:
    """``wlan_validate_certificates``: a user name or a key and certificate (not both), an identity."""
    with_files = key is not None and cert is not None
    if (not with_files and user is None) or (with_files and user is not None):
        raise ValueError("invalid WAP2_ENT credentials")
    if identity is None:
        raise ValueError("indentiy required for WPA2_ENT authentication")
    length = len(identity.encode("utf-8", "surrogateescape"))
    if length > 127:
        raise ValueError(f"invalid identity length {length}")
