"""The LoRa board options' values (``--lora-medium NAME``, ``--lora-link PEER=LOSS``, and the same keys in
a ``firmware-sim up`` file): a medium name, and the path loss or distance to another board."""

from __future__ import annotations

import math

from network import host

__all__ = ["check_lora_links", "check_lora_medium", "lora_link_value", "split_link_entry", "toml_links"]


LORA_MEDIUM_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def check_lora_medium(value: object) -> str:
    """A LoRa medium name: boards on the same name hear each other."""
    if not isinstance(value, str) or not value or len(value) > 100 or not set(value) <= LORA_MEDIUM_CHARS:
        raise ValueError(f"{value!r} is not a medium name; use letters, digits and - _ . : (e.g. lab1)")
    return value


def lora_link_value(value: object) -> tuple[str, float]:
    """``120dB`` / ``120`` (path loss) or ``2000m`` / ``2km`` (distance, free-space loss): (kind, amount)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not a path loss or distance; give e.g. 120dB, 2000m or 2km")
    text = str(value).strip().lower().replace(" ", "")
    for suffix, kind, factor in (("db", "loss", 1.0), ("km", "distance", 1000.0), ("m", "distance", 1.0)):
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], (kind, factor)
            break
    else:
        unit = ("loss", 1.0)
    try:
        amount = float(text) * unit[1]
    except ValueError:
        raise ValueError(f"{value!r} is not a path loss or distance; give e.g. 120dB, 2000m or 2km") from None
    if not 0 <= amount < math.inf:
        raise ValueError(f"{value!r} must be 0 or more")
    return unit[0], amount


def check_lora_links(items: list[tuple[str, object]]) -> dict[str, tuple[str, float]]:
    """``PEER=VALUE`` entries: the peer board's loopback address and its path loss or distance."""
    links: dict[str, tuple[str, float]] = {}
    for peer, value in items:
        try:
            address = host.check_loopback(peer)
        except host.AddressError:
            raise ValueError(f"{peer}={value}: give the other board's loopback address (or name)") from None
        links[address] = lora_link_value(value)
    return links


def split_link_entry(item: str) -> tuple[str, str]:
    peer, sep, value = item.partition("=")
    if not sep:
        raise ValueError(f"{item}: expected PEER=LOSS, e.g. 127.0.0.3=120dB or 127.0.0.3=2km")
    return peer.strip(), value.strip()


def toml_links(raw: object, board_names: dict[str, str]) -> list[tuple[str, object]]:
    if not isinstance(raw, dict):
        raise ValueError(f'{raw!r} is not a table; write lora_link = {{ gateway = "120dB" }} (board = loss)')
    return [(board_names.get(str(peer), str(peer)), value) for peer, value in raw.items()]
