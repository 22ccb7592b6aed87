"""``network.WLAN`` as Pycom firmware 1.20.2.r6's ``esp32/mods/modwlan.c``: the board's address for
CoAP scripts, and every method with the firmware's argument checks and error messages."""

from __future__ import annotations

import time

import pytest
from conftest import raises

from network import WLAN, host, wlan_radio

unit = pytest.mark.unit
INVALID = "invalid argument(s) value"
NUM_TYPE = "invalid argument(s) num/type"
NOT_POSSIBLE = "the requested operation is not possible"
ENT = WLAN.WPA2_ENT


@pytest.fixture(autouse=True)
def fresh_radio():
    """Each test starts with the radio of a board just powered on (the firmware's static wlan_obj)."""
    wlan_radio.reset()
    yield
    wlan_radio.reset()


@pytest.fixture
def board_at(ip):
    host.configure(ip=ip)
    yield ip
    host.reset()


def test_connect_and_ifconfig_give_the_boards_address(board_at):
    wlan = WLAN(mode=WLAN.STA)
    wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))
    assert wlan.isconnected()
    config = wlan.ifconfig()
    assert len(config) == 4 and all(isinstance(field, str) for field in config)
    assert config[0] == board_at


def test_default_address_is_localhost(monkeypatch):
    monkeypatch.delenv(host.ENV_IP, raising=False)
    host.reset()
    assert WLAN().ifconfig()[0] == "127.0.0.1"
    host.reset()


def test_wlan_is_a_singleton_with_the_firmwares_constants():
    assert WLAN() is WLAN(mode=WLAN.STA)
    assert (WLAN.STA, WLAN.AP, WLAN.STA_AP) == (1, 2, 3)
    assert (WLAN.WEP, WLAN.WPA, WLAN.WPA2, WLAN.WPA2_ENT) == (1, 2, 3, 5)
    assert (WLAN.INT_ANT, WLAN.EXT_ANT, WLAN.HT20, WLAN.HT40) == (0, 1, 1, 2)


def test_connect_in_ap_mode_is_refused():
    wlan = WLAN(mode=WLAN.AP, ssid="board-ap")
    with raises(OSError, NOT_POSSIBLE):
        wlan.connect("x", auth=(WLAN.WPA2, "k"))


def test_board_address_must_be_loopback():
    with pytest.raises(ValueError, match="not a loopback address"):
        host.configure(ip="192.168.1.10")


def test_unmapped_destination_outside_loopback_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setenv(host.ENV_MAP, "192.168.0.234=127.0.0.3")
    host.reset()
    try:
        assert host.route("192.168.0.234") == "127.0.0.3"
        assert host.route("127.0.0.9") == "127.0.0.9"
        with pytest.raises(OSError, match="FIRMWARE_SIM_MAP=10.1.2.3=127.0.0.2"):
            host.route("10.1.2.3")
    finally:
        host.reset()


def test_scan_reports_the_configured_networks(monkeypatch):
    monkeypatch.setenv("FIRMWARE_SIM_WLAN_SCAN", '[["lab", "0a0b0c0d0e0f", 3, 1, -40]]')
    wlan = WLAN(mode=WLAN.STA)
    (found,) = wlan.scan()
    assert (found.ssid, found.bssid, found.sec, found.channel, found.rssi) == (
        "lab",
        bytes.fromhex("0a0b0c0d0e0f"),
        3,
        1,
        -40,
    )


def test_mac_is_six_bytes_and_differs_between_boards(board_at):
    first = WLAN().mac()
    host.configure(ip="127.0.0.77")
    wlan_radio.reset()  # another board: its own radio
    second = WLAN().mac()
    assert len(first.sta_mac) == len(first.ap_mac) == 6
    assert first.sta_mac != second.sta_mac


# -- the interface's state (modwlan.c) -----------------------------------------------------------------


@unit
def test_wlan_without_arguments_starts_a_station_with_the_firmwares_defaults():
    wlan = WLAN()
    assert repr(wlan) == "<WLAN>"
    assert wlan.mode() == WLAN.STA and wlan.bandwidth() == WLAN.HT40
    assert wlan.antenna() == WLAN.MAN_ANT  # a second-generation module (LoPy4): the manual switch
    assert wlan.channel() == 0 and wlan.ssid() is None and wlan.hostname() == "" and wlan.auth() is None
    assert wlan.isconnected() is False and wlan.bssid() == bytes(6)
    assert wlan.mac().ap_mac == bytes(6)  # read only when an access point is set up
    assert WLAN(1) is wlan  # a running interface: no keyword, no new configuration, no id check


@unit
def test_connect_joins_the_network_of_the_scan_list(monkeypatch):
    monkeypatch.setenv("FIRMWARE_SIM_WLAN_SCAN", '[["lab", "0a0b0c0d0e0f", 3, 11, -40]]')
    wlan = WLAN(mode=WLAN.STA)
    wlan.connect("lab", auth=(WLAN.WPA2, "lab-key-1"), timeout=5000)
    assert wlan.isconnected() and wlan.ssid() == "lab"
    assert wlan.bssid() == bytes.fromhex("0a0b0c0d0e0f") and wlan.channel() == 11
    assert wlan.auth() == (WLAN.WPA2, "lab-key-1") and wlan.Connected_ap_pwd() == "lab-key-1"
    assert wlan.hostname() == "espressif"  # ESP-IDF's name until one is set
    info = wlan.joined_ap_info()
    assert (info.bssid, info.ssid, info.primary_chn, info.rssi, info.auth) == (
        bytes.fromhex("0a0b0c0d0e0f"),
        "lab",
        11,
        -40,
        WLAN.WPA2,
    )
    assert info.standard == WLAN.PHY_11_B
    wlan.disconnect()
    assert not wlan.isconnected() and wlan.ssid() is None and wlan.Connected_ap_pwd() is None
    with raises(OSError, NOT_POSSIBLE):
        wlan.joined_ap_info()


@unit
def test_a_network_missing_from_the_scan_is_joined_too():
    wlan = WLAN(mode=WLAN.STA)
    wlan.connect("elsewhere", auth=(None, "key-12345"), hostname="sensor-1", channel=3)
    assert wlan.isconnected() and wlan.ssid() == "elsewhere" and wlan.channel() == 3
    assert wlan.hostname() == "sensor-1" and len(wlan.bssid()) == 6


@unit
def test_init_with_an_ssid_connects_at_once():
    wlan = WLAN(mode=WLAN.STA, ssid="your-ssid", auth=(WLAN.WPA2, "your-key"))
    assert wlan.isconnected() and wlan.ssid() == "your-ssid"


@unit
def test_access_point_mode():
    wlan = WLAN(mode=WLAN.AP, ssid="board-ap", auth=(WLAN.WPA2, "www.pycom.io"), channel=11)
    assert wlan.mode() == WLAN.AP and wlan.ssid() == "board-ap" and wlan.channel() == 11
    assert wlan.auth() == (WLAN.WPA2, "www.pycom.io")
    assert wlan.ap_sta_list() == [] and wlan.ap_tcpip_sta_list() == []  # no station joins
    assert wlan.isconnected() is False
    assert wlan.mac().ap_mac[:5] == wlan.mac().sta_mac[:5] and wlan.mac().ap_mac != wlan.mac().sta_mac
    for call in (lambda: wlan.scan(), lambda: wlan.disconnect(), lambda: wlan.connect("x")):
        with raises(OSError, NOT_POSSIBLE):
            call()
    wlan.channel(6)
    wlan.ssid("renamed")
    wlan.auth(None)
    assert (wlan.channel(), wlan.ssid(), wlan.auth()) == (6, "renamed", None)
    both = WLAN(mode=WLAN.STA_AP, ssid="shared")
    assert both.ssid() == ("shared", "shared")  # the station joins the AP's own name, as the firmware
    WLAN(mode=WLAN.STA)
    with raises(OSError, NOT_POSSIBLE):
        wlan.ap_sta_list()
    with raises(OSError, NOT_POSSIBLE):
        wlan.ap_tcpip_sta_list()


@unit
@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"mode": 4}, ValueError, INVALID),
        ({"mode": "sta"}, TypeError, "can't convert str to int"),
        ({"mode": WLAN.AP}, ValueError, "AP SSID not given"),
        ({"mode": 2, "ssid": "x", "auth": (ENT, "k" * 8)}, ValueError, "WPA2_ENT not supported in AP mode"),
        ({"auth": (WLAN.WPA2, "short")}, ValueError, "invalid key length"),
        ({"auth": (WLAN.WPA2,)}, ValueError, "requested length 2 but object has length 1"),
        ({"auth": WLAN.WPA2}, TypeError, "object 'int' isn't a tuple or list"),
        ({"ssid": None}, TypeError, "can't convert 'NoneType' object to str implicitly"),
        ({"ssid": "x" * 33}, ValueError, INVALID),
        ({"channel": 15}, ValueError, INVALID),
        ({"antenna": 3}, ValueError, "invalid antenna type 3"),
        ({"bandwidth": 3}, ValueError, INVALID),
        ({"country": ["NL", 1, 13, 0]}, TypeError, NUM_TYPE),
        ({"country": ("NLD", 1, 13, 0)}, ValueError, "Wrong Country string length!"),
        ({"country": ("NL", 1, 15, 0)}, ValueError, INVALID),
        ({"country": ("NL", 1, 13, 2)}, ValueError, "Invalid Country Policy!"),
        ({"power": 1}, TypeError, "extra keyword arguments given"),
    ],
)  # fmt: skip
def test_init_argument_errors(kwargs, exc, message):
    with raises(exc, message):
        WLAN(**kwargs)


@unit
def test_constructor_id_and_positional_arguments():
    with raises(OSError, "resource not available"):
        WLAN(1, mode=WLAN.STA)
    with raises(TypeError, "extra positional arguments given"):
        WLAN(0, WLAN.STA)
    with raises(TypeError, "extra positional arguments given"):
        WLAN().init(WLAN.STA)


@unit
@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "message"),
    [
        ((), {}, TypeError, "'ssid' argument required"),
        (("x" * 33,), {}, ValueError, INVALID),
        (("net",), {"auth": (WLAN.WPA2,)}, ValueError, "invalid authentication tuple"),
        (("net",), {"auth": (WLAN.WPA2_ENT, "key")}, ValueError, "invalid authentication tuple"),
        (("net",), {"auth": (WLAN.WPA2, "user", "key")}, ValueError, "invalid authentication tuple"),
        (("net",), {"auth": (1, 2, 3, 4)}, ValueError, "invalid authentication tuple"),
        (("net",), {"auth": "key"}, TypeError, "object 'str' isn't a tuple or list"),
        (("net",), {"auth": (ENT, "u", "p")}, ValueError, "indentiy required for WPA2_ENT authentication"),
        (("net",), {"auth": (ENT, None, None), "identity": "me"}, ValueError, "invalid WAP2_ENT credentials"),
        (("n",), {"auth": (ENT, "u", "p"), "identity": "i" * 128}, ValueError, "invalid identity length 128"),
        (("net",), {"hostname": ""}, ValueError, INVALID),
        (("net",), {"hostname": "h" * 33}, ValueError, INVALID),
        (("net",), {"timeout": "soon"}, TypeError, "can't convert str to int"),
        (("net", None, 1), {}, TypeError, "extra positional arguments given"),
    ],
)  # fmt: skip
def test_connect_argument_errors(args, kwargs, exc, message):
    wlan = WLAN(mode=WLAN.STA)
    with raises(exc, message):
        wlan.connect(*args, **kwargs)
    assert not wlan.isconnected()


@unit
def test_enterprise_connection_with_user_and_identity():
    wlan = WLAN(mode=WLAN.STA)
    wlan.connect("corp", auth=(WLAN.WPA2_ENT, "user", "pwd"), identity="user@corp")
    assert wlan.isconnected()


@unit
def test_scan_filters_and_errors(monkeypatch):
    networks = (
        '[["lab", "0a0b0c0d0e0f", 3, 1, -40], ["", "0a0b0c0d0e10", 3, 6, -70], '
        '["cafe", "0a0b0c0d0e11", 0, 6, -60]]'
    )
    monkeypatch.setenv("FIRMWARE_SIM_WLAN_SCAN", networks)
    wlan = WLAN(mode=WLAN.STA)
    assert [net.ssid for net in wlan.scan()] == ["lab", "cafe"]
    assert [net.ssid for net in wlan.scan(show_hidden=True)] == ["lab", "", "cafe"]
    assert [net.ssid for net in wlan.scan(channel=6, show_hidden=1)] == ["", "cafe"]
    assert [net.ssid for net in wlan.scan(ssid="cafe")] == ["cafe"]
    assert [net.ssid for net in wlan.scan(bssid=bytes.fromhex("0a0b0c0d0e0f"))] == ["lab"]
    assert wlan.scan(type=WLAN.SCAN_PASSIVE, scantime=200) and wlan.scan(scantime=(0, 120))
    with raises(ValueError, "invalid bssid"):
        wlan.scan(bssid="0a0b0c0d0e0f")
    for scantime in ((120,), 120, [0, 120]):
        with raises(ValueError, "invalid scan timings"):
            wlan.scan(scantime=scantime)
    with raises(TypeError, "extra positional arguments given"):
        wlan.scan("lab")
    wlan.deinit()
    with raises(OSError, "Scan operation Failed!"):
        wlan.scan()


@unit
def test_ifconfig_static_and_dhcp(board_at):
    wlan = WLAN(mode=WLAN.STA)
    assert wlan.ifconfig(id=1)[0] == board_at  # the AP's interface: the board's address too
    wlan.ifconfig(config=("192.168.0.107", "255.255.0.0", "192.168.0.1", "8.8.8.8"))
    assert wlan.ifconfig() == (board_at, "255.255.0.0", "192.168.0.1", "8.8.8.8")
    wlan.ifconfig(config="dhcp")
    assert wlan.ifconfig()[1] == "255.255.255.0"
    with raises(OSError, "resource not available"):
        wlan.ifconfig(id=2)
    with raises(ValueError, INVALID):
        wlan.ifconfig(config="static")
    with raises(ValueError, "invalid arguments"):
        wlan.ifconfig(config=("192.168.0", "255.255.255.0", "192.168.0.1", "8.8.8.8"))
    with raises(ValueError, "requested length 4 but object has length 3"):
        wlan.ifconfig(config=("192.168.0.107", "255.255.255.0", "192.168.0.1"))
    with raises(TypeError, "can't convert 'list' object to str implicitly"):
        wlan.ifconfig(config=["192.168.0.107", "255.255.255.0", "192.168.0.1", "8.8.8.8"])


@unit
def test_settings_and_their_errors():
    wlan = WLAN(mode=WLAN.STA)
    with raises(ValueError, INVALID):
        wlan.mode(0)
    with raises(ValueError, INVALID):
        wlan.bandwidth(3)
    assert wlan.bandwidth(WLAN.HT20) is True and wlan.bandwidth() == WLAN.HT20
    wlan.antenna(WLAN.EXT_ANT)
    assert wlan.antenna() == WLAN.EXT_ANT
    with raises(ValueError, "invalid antenna type 3"):
        wlan.antenna(3)
    wlan.antenna(256)  # a uint8_t: 0, the internal antenna
    assert wlan.antenna() == WLAN.INT_ANT
    assert wlan.hostname("board-1") is True and wlan.hostname() == "board-1"
    assert wlan.hostname("h" * 32) is True and wlan.hostname() == "h" * 31  # TCPIP_HOSTNAME_MAX_SIZE
    with raises(ValueError, INVALID):
        wlan.hostname("")
    with raises(OSError, "Wifi is not in promiscuous mode!"):
        wlan.channel(5)
    wlan.promiscuous(True)
    assert wlan.promiscuous() is True
    wlan.channel(5)
    with raises(ValueError, INVALID):
        wlan.channel(15)
    with raises(ValueError, INVALID):
        wlan.ssid("s" * 33)
    with raises(ValueError, "requested length 2 but object has length 3"):
        wlan.auth((WLAN.WPA2, "k", "x"))


@unit
def test_mac_can_be_set_on_an_interface_that_is_off():
    wlan = WLAN(mode=WLAN.STA)
    sta = wlan.mac().sta_mac
    wlan.mac(bytearray(b"\xae\x77\x88\x99\x22\x44"), WLAN.AP)  # the AP is off in STA mode
    assert wlan.mac().ap_mac == b"\xae\x77\x88\x99\x22\x44"
    with raises(OSError, NOT_POSSIBLE):
        wlan.mac(bytearray(b"\xae\x77\x88\x99\x22\x45"), WLAN.STA)  # the station runs
    with raises(ValueError, "Station and AP cannot have the same Mac address!"):
        wlan.mac(bytearray(sta), WLAN.AP)
    with raises(ValueError, "Bit 0 of First Byte in Mac addr cannot be 1"):
        wlan.mac(bytearray(b"\x01\x77\x88\x99\x22\x44"), WLAN.AP)
    with raises(ValueError, INVALID):
        wlan.mac(bytearray(5), WLAN.AP)
    with raises(TypeError, NUM_TYPE):
        wlan.mac(b"\xae\x77\x88\x99\x22\x44", WLAN.AP)
    with raises(TypeError, NUM_TYPE):
        wlan.mac(bytearray(6))
    with raises(OSError, NOT_POSSIBLE):
        wlan.mac(bytearray(6), 7)


@unit
def test_transmit_power_and_country():
    wlan = WLAN(mode=WLAN.STA)
    assert wlan.max_tx_power() == 78
    assert wlan.country() == ("CN", 1, 13, 20, WLAN.COUNTRY_POL_AUTO)
    wlan.max_tx_power(50)
    assert wlan.max_tx_power() == 44 and wlan.country().max_tx_pwr == 11  # ESP-IDF's levels
    with raises(OSError, NOT_POSSIBLE):
        wlan.max_tx_power(7)
    wlan.country(country="NL", schan=1, nchan=13, max_tx_pwr=20, policy=WLAN.COUNTRY_POL_MAN)
    country = wlan.country()
    assert (country.country, country.schan, country.nchan, country.max_tx_pwr, country.policy) == (
        "NL",
        1,
        13,
        20,
        1,
    )
    with raises(OSError, "No Country Specified!"):
        wlan.country(schan=1)
    with raises(OSError, "Please Specify start channel!"):
        wlan.country(country="NL")
    with raises(OSError, "Please Specify number of channels!"):
        wlan.country(country="NL", schan=1)
    with raises(ValueError, INVALID):
        wlan.country(country="NL", schan=0, nchan=13)
    with raises(ValueError, "Wrong Country string length!"):
        wlan.country(country="NLD", schan=1, nchan=13)
    with raises(ValueError, "Invalid Country Policy!"):
        wlan.country(country="NL", schan=1, nchan=13, policy=2)
    with raises(OSError, "the requested operation failed"):
        wlan.country(country="NL", schan=5, nchan=13)  # beyond channel 14
    with raises(TypeError, "extra positional arguments given"):
        wlan.country("NL")


@unit
def test_wifi_protocol():
    wlan = WLAN(mode=WLAN.STA)
    protocols = wlan.wifi_protocol()
    assert (protocols.protocol_11B, protocols.protocol_11G, protocols.protocol_11N) == (True, True, True)
    wlan.wifi_protocol((1, 1, 0))
    assert tuple(wlan.wifi_protocol()) == (True, True, False)
    with raises(TypeError, NUM_TYPE):
        wlan.wifi_protocol([1, 1, 1])
    WLAN(mode=WLAN.STA_AP, ssid="both")
    with raises(OSError, NOT_POSSIBLE):
        wlan.wifi_protocol()


@unit
def test_send_raw_promiscuous_packets_and_filters():
    wlan = WLAN(mode=WLAN.STA)
    wlan.send_raw(Buffer=bytes(24))
    wlan.send_raw(Buffer=bytes(1500), interface=WLAN.AP, use_sys_seq=False)
    with raises(TypeError, "'Buffer' argument required"):
        wlan.send_raw()
    with raises(TypeError, "extra positional arguments given"):
        wlan.send_raw(bytes(24))
    with raises(TypeError, NUM_TYPE):
        wlan.send_raw(Buffer=bytearray(24))
    with raises(ValueError, "Buffer size should be between 24 and 1500 bytes!"):
        wlan.send_raw(Buffer=bytes(23))
    packet = wlan.wifi_packet()
    assert packet.rssi == 0 and packet.sig_len == 0 and packet.data == b"" and len(packet) == 18
    assert wlan.ctrl_pkt_filter() == WLAN.FILTER_CTRL_PKT_ALL == -8388608
    wlan.ctrl_pkt_filter(WLAN.FILTER_CTRL_PKT_ACK)
    assert wlan.ctrl_pkt_filter() == WLAN.FILTER_CTRL_PKT_ACK
    with raises(ValueError, "Invalid Filter mask!"):
        wlan.ctrl_pkt_filter(WLAN.FILTER_CTRL_PKT_CFENDACK)  # 1 << 31 wrapped to 0 by MP_OBJ_NEW_SMALL_INT
    with raises(OverflowError, "overflow converting long int to machine word"):
        wlan.ctrl_pkt_filter(0xFF800000)
    assert wlan.events() == 0


@unit
def test_smart_config_times_out_and_calls_back():
    host.configure(scale=1000.0)  # 60 board seconds in 60 ms
    try:
        wlan = WLAN(mode=WLAN.STA)
        wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))
        seen = []
        wlan.callback(trigger=WLAN.SMART_CONF_TIMEOUT | WLAN.SMART_CONF_DONE, handler=seen.append)
        wlan.smartConfig()
        assert not wlan.isconnected()  # smart config leaves the network first
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == [wlan]  # the default argument is the WLAN object
        assert wlan.events() == WLAN.SMART_CONF_TIMEOUT and wlan.events() == 0
        wlan.callback(WLAN.SMART_CONF_TIMEOUT)  # no handler: the callback is off
        with raises(TypeError, "'trigger' argument required"):
            wlan.callback()
    finally:
        host.reset()


@unit
def test_deinit_and_start_again():
    wlan = WLAN(mode=WLAN.STA)
    wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))
    wlan.deinit()
    assert not wlan.isconnected()
    with raises(OSError, "the requested operation failed"):
        wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))
    with raises(OSError, NOT_POSSIBLE):
        wlan.max_tx_power()
    assert WLAN().mode() == WLAN.STA  # not running: WLAN() starts it again


@unit
def test_method_arity_as_micropython():
    wlan = WLAN()
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        wlan.bssid(1)
    with raises(TypeError, "function expected at most 2 arguments, got 3"):
        wlan.mode(1, 2)
    with raises(TypeError, "function doesn't take keyword arguments"):
        wlan.isconnected(now=True)
    with raises(TypeError, "function expected at most 3 arguments, got 4"):
        wlan.mac(bytearray(6), WLAN.AP, 1)


@unit
def test_constants_are_the_firmwares():
    assert (WLAN.PHY_11_B, WLAN.PHY_11_G, WLAN.PHY_11_N, WLAN.PHY_LOW_RATE) == (1, 2, 3, 4)
    assert (WLAN.SCAN_PASSIVE, WLAN.SCAN_ACTIVE, WLAN.COUNTRY_POL_AUTO, WLAN.COUNTRY_POL_MAN) == (1, 0, 0, 1)
    assert (WLAN.SECONDARY_CHN_ABOVE, WLAN.SECONDARY_CHN_BELOW, WLAN.SECONDARY_CHN_NONE) == (1, 2, 0)
    assert (WLAN.EVENT_PKT_MGMT, WLAN.EVENT_PKT_MISC, WLAN.EVENT_PKT_ANY) == (1, 8, 0x3F)
    assert (WLAN.SMART_CONF_DONE, WLAN.SMART_CONF_TIMEOUT, WLAN.MAN_ANT) == (64, 128, 2)
    assert WLAN.FILTER_CTRL_PKT_CFEND == -(1 << 30) and WLAN.FILTER_CTRL_PKT_WRAPPER == 1 << 23
