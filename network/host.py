"""The host's side of ``network``, set from below: the board's address, the address map and the clock.

Internal: scripts never see this module (``network`` shows what the firmware's module shows). The
simulator (``firmware_sim``) injects its board's settings with :func:`configure`; a plain Python process
is a board at 127.0.0.1 unless ``FIRMWARE_SIM_IP`` names another loopback address, and
``FIRMWARE_SIM_MAP`` (``192.168.0.234=127.0.0.3,sensor.local=127.0.0.4``) maps what a script names
onto loopback addresses. Nothing is ever sent anywhere but loopback: a destination that is neither
loopback nor mapped is refused with an error that says how to map it.

Board time: one clock for everything in ``network`` (the Coap engine's timers, ``LTE``'s modem):
:func:`board_time` is board seconds, running ``time_scale()`` times faster than the host's.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable

from .addresses import (
    AddressError,
    check_loopback,
    check_map,
    free_address,
    reserve_address,
    unsupported_source,
)

__all__ = [
    "AddressError",
    "address_map",
    "board_time",
    "check_loopback",
    "check_map",
    "configure",
    "free_address",
    "host_seconds",
    "lookup",
    "own_address",
    "reserve_address",
    "reset",
    "route",
    "time_scale",
    "unroute",
    "unsupported_source",
]

ENV_IP = "FIRMWARE_SIM_IP"
ENV_MAP = "FIRMWARE_SIM_MAP"
ENV_COAP_EXTENSIONS = "FIRMWARE_SIM_COAP_EXTENSIONS"  # opt-in CoAP server extensions (coap/extensions.py)

_own_address: str | None = None
_address_map: dict[str, str] | None = None
_time_scale = 1.0
_clock: Callable[[], float] | None = None


def _parse_map(text: str) -> dict[str, str]:
    pairs: list[tuple[str, str]] = []
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        src, sep, dst = item.partition("=")
        if not sep:
            raise ValueError(f"{ENV_MAP}: '{item}' is not SOURCE=DESTINATION (e.g. 192.168.0.234=127.0.0.3)")
        pairs.append((src.strip(), dst.strip()))
    try:
        return check_map(pairs)
    except AddressError as err:
        raise ValueError(f"{ENV_MAP}: {err}") from None


def _require_loopback(address: str, what: str) -> str:
    try:
        return check_loopback(address)
    except AddressError as err:
        raise ValueError(f"{what}: {err}") from None


def own_address() -> str:
    """The board's own IPv4 address: what ``WLAN.ifconfig()[0]`` returns and where it binds."""
    global _own_address
    if _own_address is None:
        _own_address = _require_loopback(os.environ.get(ENV_IP, "127.0.0.1"), ENV_IP)
    return _own_address


def address_map() -> dict[str, str]:
    global _address_map
    if _address_map is None:
        _address_map = _parse_map(os.environ.get(ENV_MAP, ""))
    return _address_map


def configure(
    *,
    ip: str | None = None,
    mapping: dict[str, str] | None = None,
    clock: Callable[[], float] | None = None,
    scale: float | None = None,
) -> None:
    """Set the board's address, map and clock (the simulator and tests call this; scripts never do).
    ``clock`` returns board seconds; ``scale`` is how much faster than the host's it runs."""
    global _own_address, _address_map, _clock, _time_scale
    if ip is not None:
        _own_address = _require_loopback(ip, "board address")
    if mapping is not None:
        try:
            _address_map = check_map(mapping.items())
        except AddressError as err:
            raise ValueError(str(err)) from None
    if scale is not None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        _time_scale = scale
    if clock is not None:
        _clock = clock


def time_scale() -> float:
    """How many times faster than the host's board time runs (``firmware-sim run --time-scale``)."""
    return _time_scale


def board_time() -> float:
    """Board seconds on the board's one clock (a monotonic count; its zero is not meaningful)."""
    if _clock is not None:
        return _clock()
    return time.monotonic() * _time_scale


def host_seconds(board_seconds: float) -> float:
    """How long ``board_seconds`` of board time last on the host."""
    return board_seconds / _time_scale


def reset() -> None:
    """Forget configured values; the environment is read again on next use."""
    global _own_address, _address_map, _time_scale, _clock
    _own_address = None
    _address_map = None
    _time_scale = 1.0
    _clock = None


def unroute(address: str) -> str:
    """The address a script knows for loopback ``address`` (the reverse of the map), else itself."""
    for source, destination in address_map().items():
        if destination == address:
            return source
    return address


def lookup(name: str) -> str | None:
    """The loopback address the map gives host name ``name`` (case-insensitive), or None: no DNS."""
    return address_map().get(name.lower().rstrip("."))


def route(address: str) -> str:
    """The loopback address to use for ``address`` (bind or send), or OSError if it has none."""
    mapped = address_map().get(address)
    if mapped is None:
        mapped = lookup(address)
    if mapped is not None:
        return mapped
    if address == "0.0.0.0":
        return own_address()
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return address
    raise OSError(
        f"firmware-sim: {address} is outside loopback and the simulator only talks to loopback; "
        f"map it onto a loopback address with {ENV_MAP}={address}=127.0.0.2 "
        f"(or firmware-sim run --map {address}=127.0.0.2)"
    )
