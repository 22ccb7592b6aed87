"""``pycom``'s settings for the next boot, Pybytes' provisioning, Sigfox credentials and a UUID helper.

As Pycom firmware 1.20.2.r6 (``esp32/mods/modpycom.c``, ``esp32/pycom_config.c``): each ``*_on_boot``
setting is read with no argument and stored with one, in the board's config block
(:mod:`.pycom_config`), and takes effect at the next boot. Effects on the simulated board: the heartbeat
(``heartbeat_on_boot``) and the Wi-Fi (``wifi_on_boot``, ``wifi_mode_on_boot``, ``wifi_ssid_*``,
``wifi_pwd_*``: :mod:`.wifi_boot`) at boot; ``wifi_on_boot(x, True)`` applies at once. Stored only:
``wdt_on_boot`` (no watchdog starts at boot), ``lte_modem_en_on_boot``, ``smart_config_on_boot`` and
``pybytes_*`` (Pybytes is not simulated). The ``pybytes_*`` and ``smart_config_on_boot`` functions exist
in the firmware's Pybytes builds only; ``sigfox_info`` on LoPy4, FiPy and SiPy only.
"""

from __future__ import annotations

from typing import Any

from network import wlan_radio
from network.coap.api.mpargs import Param, check_count, parse, to_bytes, to_int

from ..runtime.buffers import bytearray as board_bytearray
from .pycom_config import WIFI_MODE_NONE, WIFI_MODE_STA_AP, config
from .wifi_boot import boot_wifi, ensure_wifi_booted

WDT_ON_BOOT_MIN_MS = 5000
SSID_KEEP, PWD_KEEP = 32, 64  # the config block's fields (33 and 65 bytes with the NUL)


def _flag(key: str, args: tuple, kwargs: dict) -> bool | None:
    """A ``VAR_BETWEEN(0, 1)`` boolean setting: read it, or store ``mp_obj_is_true(value)``."""
    check_count(args, kwargs, 0, 1)
    if not args:
        return bool(config().get(key))
    config().set(key, bool(args[0]))
    return None


def heartbeat_on_boot(*args, **kwargs) -> bool | None:
    """Whether the heartbeat starts at boot (from the next boot on)."""
    return _flag("heartbeat_on_boot", args, kwargs)


def lte_modem_en_on_boot(*args, **kwargs) -> bool | None:
    """Stored only: the simulated LTE modem is on when ``LTE()`` is made."""
    return _flag("lte_modem_en_on_boot", args, kwargs)


def wdt_on_boot(*args, **kwargs) -> bool | None:
    """Stored only: the simulated board does not start a watchdog at boot."""
    return _flag("wdt_on_boot", args, kwargs)


def smart_config_on_boot(*args, **kwargs) -> bool | None:
    """Stored only (the Pybytes library reads it)."""
    return _flag("smart_config_on_boot", args, kwargs)


def pybytes_on_boot(*args, **kwargs) -> bool | None:
    """Stored only: whether the firmware's frozen ``_main_pybytes.py`` runs (Pybytes is not simulated)."""
    return _flag("pybytes_on_boot", args, kwargs)


def pybytes_force_update(*args, **kwargs) -> bool | None:
    return _flag("pybytes_force_update", args, kwargs)


def wifi_on_boot(*args, **kwargs) -> bool | None:
    """``wifi_on_boot([enable[, apply_now]])``: ``apply_now`` starts the boot Wi-Fi configuration at
    once (``enable``) or stops the radio, when the setting changes."""
    check_count(args, kwargs, 0, 2)
    settings = config()
    if not args:
        return bool(settings.get("wifi_on_boot"))
    enable = bool(args[0])
    if settings.get("wifi_on_boot") != enable:
        settings.set("wifi_on_boot", enable)
        if len(args) > 1 and args[1]:
            ensure_wifi_booted()
            if enable:
                boot_wifi(force=True)
            else:
                wlan_radio.radio().deinit()
    return None


def wdt_on_boot_timeout(*args, **kwargs) -> int | None:
    check_count(args, kwargs, 0, 1)
    if not args:
        return int(config().get("wdt_on_boot_timeout"))
    timeout = to_int(args[0]) & 0xFFFFFFFF  # a uint32_t: a negative one is huge
    if timeout < WDT_ON_BOOT_MIN_MS:
        raise ValueError("WDT on boot timeout must be >= 5000 ms")
    config().set("wdt_on_boot_timeout", timeout)
    return None


def wifi_mode_on_boot(*args, **kwargs) -> int | None:
    """0 none, 1 STA, 2 AP (the factory setting), 3 STA+AP; other values are ignored. "None" makes the
    next boot start an access point and store 2 again (``mptask_config_wifi``)."""
    check_count(args, kwargs, 0, 1)
    if not args:
        return int(config().get("wifi_mode_on_boot"))
    mode = to_int(args[0]) & 0xFF
    if WIFI_MODE_NONE <= mode <= WIFI_MODE_STA_AP:
        config().set("wifi_mode_on_boot", mode)
    return None


def _text_setting(key: str, keep: int, args: tuple, kwargs: dict) -> str | None:
    check_count(args, kwargs, 0, 1)
    if not args:
        return config().get(key)
    value = args[0]
    if value is None:
        config().set(key, None)
    elif isinstance(value, str):  # anything else (bytes too) is ignored, as by the firmware
        config().set(key, value.encode("utf-8", "surrogateescape")[:keep].decode("utf-8", "ignore"))
    return None


def wifi_ssid_sta(*args, **kwargs) -> str | None:
    """The network the board joins at boot in ``wifi_mode_on_boot`` 1 or 3 (None: none)."""
    return _text_setting("wifi_ssid_sta", SSID_KEEP, args, kwargs)


def wifi_pwd_sta(*args, **kwargs) -> str | None:
    return _text_setting("wifi_pwd_sta", PWD_KEEP, args, kwargs)


def wifi_ssid_ap(*args, **kwargs) -> str | None:
    """The board's own access point at boot (None: ``<board>-wlan-xxyy``)."""
    return _text_setting("wifi_ssid_ap", SSID_KEEP, args, kwargs)


def wifi_pwd_ap(*args, **kwargs) -> str | None:
    return _text_setting("wifi_pwd_ap", PWD_KEEP, args, kwargs)


# -- Pybytes' provisioning (set by Pycom's firmware updater, read only here) ---------------------------


def _provisioned(key: str, args: tuple, kwargs: dict) -> str:
    check_count(args, kwargs, 0, 0)
    return str(config().get(key))


def pybytes_device_token(*args, **kwargs) -> str:
    return _provisioned("pybytes_device_token", args, kwargs)


def pybytes_mqttServiceAddress(*args, **kwargs) -> str:  # noqa: N802 - the firmware's name
    return _provisioned("pybytes_mqttServiceAddress", args, kwargs)


def pybytes_userId(*args, **kwargs) -> str:  # noqa: N802 - the firmware's name
    return _provisioned("pybytes_userId", args, kwargs)


def pybytes_network_preferences(*args, **kwargs) -> str:
    return _provisioned("pybytes_network_preferences", args, kwargs)


def pybytes_extra_preferences(*args, **kwargs) -> str:
    return _provisioned("pybytes_extra_preferences", args, kwargs)


_LTE_CONFIG = tuple(Param(name, None, True) for name in ("carrier", "apn", "cid", "band", "type", "reset"))


def pybytes_lte_config(*args, **kwargs) -> tuple:
    """``(carrier, apn, cid, band, type, reset)`` of an unprovisioned board. Its keywords are parsed and
    then ignored: the firmware's "not yet supported" branch needs positional arguments, which the parser
    refuses first."""
    parse(args, kwargs, _LTE_CONFIG)
    return (None, None, 1, None, None, False)


# -- Sigfox credentials --------------------------------------------------------------------------------

_SIGFOX = (
    Param("id", None, True),
    Param("pac", None, True),
    Param("public_key", None, True),
    Param("private_key", None, True),
    Param("force", False, True),
)
# (config key, hex digits, how the messages name it, the length message's end)
_SIGFOX_FIELDS = (
    ("sigfox_id", 8, "ID", "id", "!"),
    ("sigfox_pac", 16, "PAC", "pac", "!"),
    ("sigfox_public_key", 32, "Public Key", "public key", "!"),
    ("sigfox_private_key", 32, "Private Key", "private key", ""),
)
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _erased(value: str | None) -> bool:
    """An erased config field reads all 0xFF (so does one written as all 'ff')."""
    return value is None or set(value.lower()) <= {"f"}


def sigfox_info(*args, **kwargs) -> bool:
    """No argument: True when the board holds an id, PAC and both keys. With ``id``/``pac``/
    ``public_key``/``private_key`` (hex strings), store them: a field already set needs ``force=True``."""
    values = parse(args, kwargs, _SIGFOX)
    given, force = values[:4], bool(values[4])
    settings = config()
    current_values = [settings.get(key) for key, *_ in _SIGFOX_FIELDS]
    if all(value is None for value in given):
        return not any(_erased(value) for value in current_values)
    for value, old, field in zip(given, current_values, _SIGFOX_FIELDS, strict=True):
        key, digits, title, lower, bang = field
        if value is None:
            continue
        if not (force or _erased(old)):
            raise ValueError(f"Use force option to overwrite existing {lower}!")
        text = to_bytes(value)
        if len(text) != digits:
            raise ValueError(f"{title} must have length of {digits}{bang}")
        if not set(text) <= _HEX:
            raise ValueError(f"{title} must only contain hexadecimal digits!")
        settings.set(key, text.decode().lower())
    return True


def create_128bit_le_uuid_from_string(*args, **kwargs) -> Any:
    """A 128-bit UUID written in hex (missing digits are 0) as 16 bytes, little-endian, in a bytearray."""
    check_count(args, kwargs, 1, 1)
    text = to_bytes(args[0])
    if len(text) > 32:
        raise ValueError("Input string must not be longer than 32 characters!")
    digits = text.ljust(32, b"\0")
    if not set(digits) <= _HEX | {0}:
        raise ValueError("UUID must only contain hexadecimal digits!")
    nibbles = [int(chr(c), 16) if c else 0 for c in digits]
    packed = bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, 32, 2))
    return board_bytearray(packed[::-1])


SETTINGS = (
    "heartbeat_on_boot", "wifi_on_boot", "lte_modem_en_on_boot", "wdt_on_boot", "wdt_on_boot_timeout",
    "wifi_mode_on_boot", "wifi_ssid_sta", "wifi_pwd_sta", "wifi_ssid_ap", "wifi_pwd_ap",
    "create_128bit_le_uuid_from_string",
)  # fmt: skip
PYBYTES_ONLY = (
    "pybytes_device_token", "pybytes_mqttServiceAddress", "pybytes_userId", "pybytes_network_preferences",
    "pybytes_extra_preferences", "pybytes_force_update", "smart_config_on_boot", "pybytes_lte_config",
    "pybytes_on_boot",
)  # fmt: skip
SIGFOX_ONLY = ("sigfox_info",)
