"""The board kinds firmware-sim simulates, and what each one has (firmware-coap.md §10)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoardKind:
    key: str  # the --board value
    platform: str  # sys.platform and the banner's board name
    lora: bool = False
    sigfox: bool = False
    lte: bool = False


KINDS: dict[str, BoardKind] = {
    kind.key: kind
    for kind in (
        BoardKind("lopy4", "LoPy4", lora=True, sigfox=True),
        BoardKind("lopy", "LoPy", lora=True),
        BoardKind("fipy", "FiPy", lora=True, sigfox=True, lte=True),
        BoardKind("gpy", "GPy", lte=True),
        BoardKind("sipy", "SiPy", sigfox=True),
        BoardKind("wipy", "WiPy"),
    )
}

FIRMWARE_VERSION = "1.20.2.r6"
MICROPYTHON_VERSION = "1.11.0"
