"""The simulated board's place on the network: its own address and the destination address map.

A plain Python process is a board at 127.0.0.1 unless ``FIRMWARE_SIM_IP`` names another loopback
address. ``FIRMWARE_SIM_MAP`` (``192.168.0.234=127.0.0.3,10.0.0.5=127.0.0.4``) maps the addresses a
script names onto loopback ones. The simulator never sends anywhere but loopback: a destination that
is neither loopback nor mapped is refused with an error that says how to map it.
"""

from __future__ import annotations

import ipaddress
import os
import random
import socket

ENV_IP = "FIRMWARE_SIM_IP"
ENV_MAP = "FIRMWARE_SIM_MAP"

_own_address: str | None = None
_address_map: dict[str, str] | None = None
_time_scale = 1.0


def _parse_map(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        src, sep, dst = item.partition("=")
        if not sep:
            raise ValueError(f"{ENV_MAP}: '{item}' is not SOURCE=DESTINATION (e.g. 192.168.0.234=127.0.0.3)")
        mapping[src.strip()] = _require_loopback(dst.strip(), f"{ENV_MAP} entry '{item}'")
    return mapping


def _require_loopback(address: str, what: str) -> str:
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        raise ValueError(f"{what}: '{address}' is not an IP address") from None
    if not loopback:
        raise ValueError(f"{what}: '{address}' is not a loopback address (127.0.0.0/8)")
    return address


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


def configure(*, ip: str | None = None, mapping: dict[str, str] | None = None) -> None:
    """Set the board's address and map (the simulator and tests call this; scripts never do)."""
    global _own_address, _address_map
    if ip is not None:
        _own_address = _require_loopback(ip, "board address")
    if mapping is not None:
        _address_map = {src: _require_loopback(dst, f"map {src}") for src, dst in mapping.items()}


def set_time_scale(scale: float) -> None:
    """Board time runs ``scale`` times faster than host time (``firmware-sim run --time-scale``)."""
    global _time_scale
    if scale <= 0:
        raise ValueError("time scale must be positive")
    _time_scale = scale


def time_scale() -> float:
    return _time_scale


def unroute(address: str) -> str:
    """The address a script knows for loopback ``address`` (the reverse of the map), else itself."""
    for source, destination in address_map().items():
        if destination == address:
            return source
    return address


def free_address(port: int = 5683, *, first_free: bool = False, taken: frozenset[str] = frozenset()) -> str:
    """A loopback address where UDP ``port`` is free (checked by binding it), so boards and peers can
    all use CoAP's port 5683 at once: the first free 127.0.0.x (x >= 2) with ``first_free`` (easy to
    read and type), else a random 127.x.y.z (unlikely to collide with parallel runs)."""
    rng = random.SystemRandom()
    sequential = (f"127.0.0.{last}" for last in range(2, 255)) if first_free else iter(())
    for _ in range(1000):
        ip = (
            next(sequential, None)
            or f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(2, 255)}"
        )
        if ip in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((ip, port))
            except OSError:
                continue
        return ip
    raise OSError(f"firmware-sim: no loopback address with UDP port {port} free")


def reset() -> None:
    """Forget configured values; the environment is read again on next use."""
    global _own_address, _address_map, _time_scale
    _own_address = None
    _address_map = None
    _time_scale = 1.0


def route(address: str) -> str:
    """The loopback address to use for ``address`` (bind or send), or OSError if it has none."""
    mapped = address_map().get(address)
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
