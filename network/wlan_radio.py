"""The ESP32 Wi-Fi radio behind ``network.WLAN``: its state and what the firmware does with it.

As Pycom firmware 1.20.2.r6 (``esp32/mods/modwlan.c`` over ESP-IDF 3.3): one radio per board, not
started until ``WLAN(...)`` or the boot configuration (``mptask_config_wifi``, which the simulator calls
through :meth:`Radio.setup`) starts it. The simulated board is on loopback, so a connection to any
network succeeds at once; the networks a scan finds (and the access point a connection joins) come from
``FIRMWARE_SIM_WLAN_SCAN``. No station ever joins the board's own access point, and promiscuous mode
never captures a frame: what those functions return is what an idle radio returns.

Internal: scripts see ``network.WLAN`` only. :func:`configure_board` (from the simulator) says which
board this is; :func:`reset` forgets everything (a test's fresh radio).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import host
from .wlan_checks import (
    AP,
    AUTH_MAX,
    CONNECT_TIMEOUT_ON_BOOT,
    DEFAULT_AP_CHANNEL,
    DEFAULT_COUNTRY,
    DEFAULT_HOSTNAME,
    FAILED,
    FILTER_CTRL_ALL,
    HOSTNAME_MAX,
    HT40,
    INT_ANT,
    MAX_CHANNEL,
    OPEN,
    SMART_CONF_TIMEOUT,
    SMART_CONFIG_SECONDS,
    STA,
    STA_AP,
    WPA2,
    ScanResult,
    factory_macs,
    scan_list,
    tx_level,
)

# -- the board this radio is on -------------------------------------------------------------------------


@dataclass
class BoardSettings:
    """What the simulator tells the radio about its board (a plain process: a LoPy4)."""

    ap_ssid: str = "lopy4-wlan"  # DEFAULT_AP_SSID of the board kind
    second_gen: bool = True  # chip revision > 0: the antenna switch on GPIO 21, MAN_ANT by default
    queue_interrupt: Callable[[Callable[[Any], Any], Any], None] | None = None  # mp_irq_queue_interrupt


BOARD = BoardSettings()


def configure_board(
    *,
    ap_ssid: str,
    second_gen: bool,
    queue_interrupt: Callable[[Callable[[Any], Any], Any], None] | None = None,
) -> None:
    """The simulator's board: its default AP name, its generation, and how handlers are called."""
    BOARD.ap_ssid, BOARD.second_gen, BOARD.queue_interrupt = ap_ssid, second_gen, queue_interrupt


def queue_interrupt(handler: Callable[[Any], Any], arg: Any) -> None:
    """Call ``handler(arg)`` as the firmware's IRQ task would (the board's own, else a thread)."""
    if BOARD.queue_interrupt is not None:
        BOARD.queue_interrupt(handler, arg)
    else:
        threading.Thread(target=handler, args=(arg,), name="WLAN IRQ", daemon=True).start()


# -- the radio ------------------------------------------------------------------------------------------


@dataclass
class Radio:
    """``wlan_obj`` and the ESP-IDF Wi-Fi driver state it stands on."""

    started: bool = False
    initialised: bool = False  # esp_wifi_init done (deinit undoes it)
    booted: bool = False  # the board's boot configuration has been applied (once per power-up)
    mode: int = 0
    bandwidth: int = 0
    auth: int = OPEN
    key: str = ""
    ssid: str = ""  # the board's own AP name
    ssid_o: str = ""  # the network the station joined
    bssid: bytes = bytes(6)
    channel: int = 0
    antenna: int = INT_ANT
    max_tx_pwr: int = 0
    tx_power: int = 78
    country: tuple[str, int, int, int, int] = DEFAULT_COUNTRY
    hostname: str = ""
    adapter_hostname: str = DEFAULT_HOSTNAME
    sta_mac_read: bool = False  # wlan_obj.mac/mac_ap: zeros until wlan_setup (wlan_setup_ap) reads them
    ap_mac_read: bool = False
    burnt_sta: bytes | None = None  # esp_wifi_set_mac() values (None: the factory MAC)
    burnt_ap: bytes | None = None
    pwrsave: bool = False
    hidden: bool = False  # the AP's SSID is not broadcast
    disconnected: bool = True
    soft_ap_stopped: bool = True
    connected_bit: bool = False
    joined: ScanResult | None = None
    is_promiscuous: bool = False
    ctrl_filter: int = FILTER_CTRL_ALL
    protocols: dict[int, int] = field(default_factory=lambda: {STA: 7, AP: 7})
    static: dict[int, tuple[bytes, bytes, bytes]] = field(default_factory=dict)
    trigger: int = 0
    events: int = 0
    handler: Any = None
    handler_arg: Any = None
    packet_token: int = 0  # which of wifi_packet()'s two buffers is read next
    smart_config: threading.Timer | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- the ESP-IDF side --------------------------------------------------------------------------

    def macs(self) -> tuple[bytes, bytes]:
        """The interfaces' MACs: the factory ones, or those ``esp_wifi_set_mac`` set."""
        sta, ap = factory_macs()
        return self.burnt_sta or sta, self.burnt_ap or ap

    def known_macs(self) -> tuple[bytes, bytes]:
        """What ``WLAN.mac()`` reports: a MAC the firmware has not read yet is zeros."""
        sta, ap = self.macs()
        return (sta if self.sta_mac_read else bytes(6)), (ap if self.ap_mac_read else bytes(6))

    def interface_enabled(self, interface: int) -> bool:
        return self.started and bool(self.mode & interface)

    def setup(
        self,
        mode: int,
        ssid_sta: str | None,
        key_sta: str | None,
        ssid_ap: str | None,
        key_ap: str | None,
        auth: int,
        channel: int,
        antenna: int,
        *,
        add_mac: bool = False,
        hidden: bool = False,
        bandwidth: int = HT40,
        country: tuple[str, int, int, int, int] | None = None,
        max_tx_pwr: int | None = None,
    ) -> None:
        """``wlan_setup``: start the radio in ``mode``; the station connects if ``ssid_sta`` is given."""
        with self.lock:
            self.initialised = True
            self.sta_mac_read = True
            self.antenna = antenna
            self.set_mode(mode)
            self.set_bandwidth(bandwidth)
            if country is not None:
                self.set_country(country)
            if max_tx_pwr is not None and max_tx_pwr > 0:
                self.set_tx_power(max_tx_pwr)
            if mode in (AP, STA_AP):
                self.setup_ap(ssid_ap or "", auth, key_ap, channel, add_mac, hidden)
            self.started = True
            if mode in (STA, STA_AP) and ssid_sta is not None:
                self.connect(ssid_sta, None, auth, key_sta, CONNECT_TIMEOUT_ON_BOOT, None, 0)

    def setup_ap(
        self, ssid: str, auth: int, key: str | None, channel: int, add_mac: bool, hidden: bool
    ) -> None:
        """``wlan_setup_ap``: the board's access point (its name gets ``-xxyy`` of the MAC with
        ``add_mac``)."""
        sta = self.macs()[0]
        self.ssid = ssid + (f"-{sta[4]:02x}{sta[5]:02x}" if add_mac else "")
        self.auth, self.key = auth, key or ""
        self.channel, self.hidden = channel, hidden
        self.ap_mac_read = True
        self.soft_ap_stopped = False

    def set_mode(self, mode: int) -> None:
        """``wlan_set_mode``: leaving station mode drops the connection, leaving AP mode the AP."""
        self.mode = mode
        if not self.initialised:
            return
        if not mode & STA:
            self.drop_connection()
        if not mode & AP:
            self.soft_ap_stopped = True

    def set_bandwidth(self, bandwidth: int) -> bool:
        if not self.initialised:
            return False
        self.bandwidth = bandwidth
        return True

    def set_country(self, country: tuple[str, int, int, int, int]) -> None:
        """``esp_wifi_set_country``; OSError as modwlan.c raises it when the driver refuses."""
        _, schan, nchan, _, _ = country
        if not self.initialised or schan + nchan - 1 > MAX_CHANNEL:
            raise OSError(FAILED)
        self.country = country

    def set_tx_power(self, power: int) -> bool:
        """``esp_wifi_set_max_tx_power``: False when refused (not started, out of [8, 78])."""
        if not self.initialised or not 8 <= power <= 78:
            return False
        self.tx_power, dbm = tx_level(power)
        code, schan, nchan, _, policy = self.country
        self.country = (code, schan, nchan, dbm, policy)
        return True

    def set_hostname(self, name: str) -> bool:
        """``wlan_set_hostname``: refused until the interface is up; keeps 31 characters."""
        if not self.started:
            return False
        self.adapter_hostname = name
        self.hostname = name.encode("utf-8", "surrogateescape")[: HOSTNAME_MAX - 1].decode(
            "utf-8", "surrogateescape"
        )
        return True

    # -- the station ---------------------------------------------------------------------------------

    def connect(
        self,
        ssid: str,
        bssid: bytes | None,
        auth: int,
        key: str | None,
        timeout: int,
        hostname: str | None,
        channel: int,
    ) -> None:
        """``wlan_do_connect``: join ``ssid`` (at once on the simulated board); the access point is the
        one the scan list has with that name (and BSSID), else one made up for it."""
        if not self.initialised:
            raise OSError(FAILED)
        self.drop_connection()
        if key is not None:
            self.key = key
        if hostname is not None:
            self.set_hostname(hostname)
        else:
            self.hostname = self.adapter_hostname
        self.auth = auth
        found = [net for net in scan_list() if net.ssid == ssid and (bssid is None or net.bssid == bssid[:6])]
        if found:
            ap = found[0]
        else:
            sec = auth if auth < AUTH_MAX else (OPEN if key is None else WPA2)
            made_up = bssid[:6] if bssid else b"\x02" + hashlib.sha1(ssid.encode()).digest()[:5]
            ap = ScanResult(ssid, made_up, sec, channel or DEFAULT_AP_CHANNEL, -52)
        self.joined = ap
        self.ssid_o, self.bssid, self.channel, self.auth = ap.ssid, ap.bssid, ap.channel, ap.sec
        self.disconnected = False
        self.connected_bit = True

    def drop_connection(self) -> None:
        """The station leaves its network (``WIFI_REASON_ASSOC_LEAVE``)."""
        self.disconnected = True
        self.connected_bit = False
        self.joined = None

    def deinit(self) -> None:
        """``wlan_deinit``: stop smart config, the station and the AP, and free the driver."""
        with self.lock:
            if not self.started:
                return
            self.stop_smart_config()
            self.drop_connection()
            self.soft_ap_stopped = True
            self.started = False
            self.initialised = False
            self.country = DEFAULT_COUNTRY

    # -- smart config and events ---------------------------------------------------------------------

    def start_smart_config(self) -> None:
        """``TASK_SMART_CONFIG``: start the radio or leave the network, then wait for a phone's
        ESPTouch; none comes, so after 60 board seconds ``SMART_CONF_TIMEOUT`` is raised."""
        with self.lock:
            if self.smart_config is not None:
                return  # the task is busy: the notification waits, as the firmware's does
            if not self.started:
                self.initialised = self.started = True
            else:
                self.drop_connection()
            timer = threading.Timer(host.host_seconds(SMART_CONFIG_SECONDS), self.smart_config_timeout)
            timer.daemon = True
            self.smart_config = timer
            timer.start()

    def stop_smart_config(self) -> None:
        with self.lock:
            timer, self.smart_config = self.smart_config, None
        if timer is not None:
            timer.cancel()

    def smart_config_timeout(self) -> None:
        with self.lock:
            if self.smart_config is None:
                return
            self.smart_config = None
            self.events |= SMART_CONF_TIMEOUT
            fire = bool(self.trigger & SMART_CONF_TIMEOUT)
        if fire:
            queue_interrupt(self.call_handler, None)

    def call_handler(self, _: object) -> None:
        """``wlan_callback_handler``."""
        handler, arg = self.handler, self.handler_arg
        if handler is not None:
            handler(arg)


RADIO = Radio()


def reset() -> None:
    """A fresh radio, as at power-on (tests; a new process does this by itself)."""
    global RADIO
    RADIO.stop_smart_config()
    RADIO = Radio()


def radio() -> Radio:
    return RADIO
