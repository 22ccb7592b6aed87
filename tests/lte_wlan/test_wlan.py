"""``network.WLAN``: enough for scripts that connect before using CoAP."""

from __future__ import annotations

import pytest

from network import WLAN, host


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
    wlan = WLAN(mode=WLAN.AP)
    try:
        with pytest.raises(OSError, match="the requested operation is not possible"):
            wlan.connect("x", auth=(WLAN.WPA2, "k"))
    finally:
        wlan.mode(WLAN.STA)


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
    second = WLAN().mac()
    assert len(first.sta_mac) == len(first.ap_mac) == 6
    assert first.sta_mac != second.sta_mac
