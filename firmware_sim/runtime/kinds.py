"""The board kinds firmware-sim simulates and what each has (firmware-coap.md §10), and the firmware
builds a board reports (banner, ``os.uname()``) per ``--firmware``."""

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

MICROPYTHON_VERSION = "1.11.0"


@dataclass(frozen=True)
class FirmwareBuild:
    """What a board running one firmware release says about itself."""

    release: str  # os.uname().release, the banner's version
    git_hash: str  # the build's commit (Jenkins names builds v1.11-<hash>)
    date: str  # the banner's "on <date>"

    @property
    def version(self) -> str:
        """``os.uname().version``."""
        return f"v{MICROPYTHON_VERSION.rsplit('.', 1)[0]}-{self.git_hash} on {self.date}"


# pycom-micropython-sigfox: tag v1.20.2.r6 (c5a0a97, 2021-10-28); 1.20.3.b2 has no tag, its version
# bump ended in the "beta_release" commit 668cd53 of 2020-12-16 (esp32/pycom_version.h). 1.20.3.b3: the
# bump "1.20.3.b3" 9288a72 of 2021-04-12 (tag v1.20.3.b3, 2021-04-19); 1.20.3.b4: "version 1.20.3.b4"
# 95ab8f6 of 2021-06-22 (branch master_idf_v4.2.1).
BUILDS: dict[str, FirmwareBuild] = {
    "1.20.2.r6": FirmwareBuild("1.20.2.r6", "c5a0a97", "2021-10-28"),
    "1.20.3.b2": FirmwareBuild("1.20.3.b2", "668cd53", "2020-12-16"),
    "1.20.3.b3": FirmwareBuild("1.20.3.b3", "9288a72", "2021-04-12"),
    "1.20.3.b4": FirmwareBuild("1.20.3.b4", "95ab8f6", "2021-06-22"),
}
DEFAULT_BUILD = BUILDS["1.20.2.r6"]  # what the `docs` profile reports: the last release line


def build(firmware: str) -> FirmwareBuild:
    """The build a board with ``--firmware firmware`` reports."""
    return BUILDS.get(firmware, DEFAULT_BUILD)
