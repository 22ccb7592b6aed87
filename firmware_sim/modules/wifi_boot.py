"""The Wi-Fi a board starts at boot from its config block, as ``mptask_config_wifi`` (``esp32/mptask.c``,
Pycom firmware 1.20.2.r6) does.

* ``wifi_mode_on_boot`` 2 (the factory setting): an access point named ``wifi_ssid_ap`` or, unset,
  ``<board>-wlan-xxyy`` (the MAC's last two bytes) with key ``www.pycom.io``, on channel 6 (an AP with a
  name of its own and no or an empty key is open). The name always gets the ``-xxyy`` suffix.
* 1 (STA) or 3 (STA_AP): the station joins ``wifi_ssid_sta`` with ``wifi_pwd_sta`` (and the AP starts
  in 3); with neither name set nothing starts.
* 0 ("none") is not a mode the boot knows: the board starts an access point and stores 2.

Nothing starts with ``wifi_on_boot(False)``. On the simulated board this happens once per boot, when the
script first imports ``network`` (or calls ``pycom.wifi_on_boot(x, True)``); until then nothing can see
the radio. :func:`attach_radio` also tells the radio which board it is on.
"""

from __future__ import annotations

from network import wlan_radio
from network.wlan_checks import AP as RADIO_AP
from network.wlan_checks import (
    AUTH_MAX,
    DEFAULT_AP_CHANNEL,
    DEFAULT_AP_PASSWORD,
    EXT_ANT,
    INT_ANT,
    OPEN,
    WPA2,
)
from network.wlan_checks import STA as RADIO_STA
from network.wlan_checks import STA_AP as RADIO_STA_AP

from ..runtime import current
from ..runtime.heap import PSRAM_KINDS
from .machine.state import machine_part
from .pycom_config import WIFI_MODE_AP, WIFI_MODE_STA, WIFI_MODE_STA_AP, config

_RADIO_MODES = {WIFI_MODE_STA: RADIO_STA, WIFI_MODE_AP: RADIO_AP, WIFI_MODE_STA_AP: RADIO_STA_AP}


def attach_radio() -> None:
    """Tell the radio its board: the default AP name of the kind, the antenna switch's generation
    (second-generation modules, with PSRAM, default to ``MAN_ANT``), and the board's IRQ thread for the
    WLAN callback."""
    board = current()
    wlan_radio.configure_board(
        ap_ssid=f"{board.kind.key}-wlan",
        second_gen=board.kind.key in PSRAM_KINDS,
        queue_interrupt=machine_part(board).irq.put,
    )


def ensure_wifi_booted() -> None:
    """Apply the boot configuration if this boot has not yet done so."""
    radio = wlan_radio.radio()
    with radio.lock:
        if radio.booted:
            return
        radio.booted = True
    attach_radio()
    boot_wifi(force=False)


def boot_wifi(force: bool) -> None:
    """``mptask_config_wifi(force)``: start the Wi-Fi as the config block says (``force``: even with
    ``wifi_on_boot(False)``)."""
    settings = config()
    get = settings.get if force else settings.at_boot.get  # at boot: the values the boot read
    mode = _RADIO_MODES.get(get("wifi_mode_on_boot"))
    if mode is None:
        mode = RADIO_AP
        settings.set("wifi_mode_on_boot", WIFI_MODE_AP)
    auth = get("wifi_auth")
    if not 0 <= auth < AUTH_MAX:
        auth = WPA2
        settings.set("wifi_auth", auth)
    antenna = INT_ANT if get("wifi_antenna_internal") else EXT_ANT
    if not (force or get("wifi_on_boot")):
        return
    radio = wlan_radio.radio()
    ssid_ap, pwd_ap = get("wifi_ssid_ap"), get("wifi_pwd_ap")
    if mode == RADIO_AP:
        if ssid_ap is None:
            ssid_ap, pwd_ap = wlan_radio.BOARD.ap_ssid, DEFAULT_AP_PASSWORD
        elif not pwd_ap:
            auth = OPEN
        radio.setup(mode, None, None, ssid_ap, pwd_ap, auth, DEFAULT_AP_CHANNEL, antenna, add_mac=True)
        return
    ssid_sta, pwd_sta = get("wifi_ssid_sta"), get("wifi_pwd_sta")
    if ssid_sta is not None or ssid_ap is not None:
        radio.setup(mode, ssid_sta, pwd_sta, ssid_ap, pwd_ap, auth, 0, antenna, add_mac=True)
