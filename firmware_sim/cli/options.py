"""The board options, declared once: ``--board``, ``--firmware``, ``--ip``, ``--map``, ``--flash``,
``--time-scale``, ``--shield``, ``--environment``, ``--lora-medium``, ``--lora-link`` on the command line,
and the same keys in a ``firmware-sim up`` boards file.

Each option is one :class:`BoardOption` (its flag, its TOML key, its help, how a value is checked);
:func:`add_board_options` puts them on a command, :func:`from_args` and :func:`from_toml` check what the
user gave and return :class:`BoardOptions`, and :meth:`BoardOptions.state` builds the board's state.
Every mistake is a :class:`UsageError` whose one line names the option (or file, board and key) and
what is expected; :func:`print_error` (of :mod:`firmware_sim.report`) is the one place that prints it.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from network import host
from network import profile as profiles

from ..report import print_error
from ..runtime.kinds import KINDS
from ..runtime.state import BoardState
from .lora_options import check_lora_links, check_lora_medium, split_link_entry, toml_links
from .usage import UsageError

__all__ = ["BOARD_OPTIONS", "BoardOption", "BoardOptions", "UsageError", "print_error"]


# -- checking values --------------------------------------------------------------------------------


def check_kind(value: object) -> str:
    if not isinstance(value, str) or value.lower() not in KINDS:
        raise ValueError(f"{value!r} is not a board kind; use one of {', '.join(sorted(KINDS))}")
    return value.lower()


def check_firmware(value: object) -> str:
    if not isinstance(value, str) or value not in profiles.PROFILES:
        raise ValueError(f"{value!r} is not a firmware; use one of {', '.join(sorted(profiles.PROFILES))}")
    return value


def check_loopback(value: object) -> str:
    """The board's own address: network's loopback rule (AddressError is a ValueError)."""
    return host.check_loopback(str(value))


def check_scale(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not a number; give e.g. 10 to run sleeps 10x faster")
    try:
        scale = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number; give e.g. 10 to run sleeps 10x faster") from None
    if not scale > 0 or math.isinf(scale):
        raise ValueError(f"{value} must be above 0 (e.g. 10 runs sleeps 10x faster)")
    return scale


def check_folder(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a folder path")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{value} is a file; give a folder for the board's /flash")
    return value


SHIELDS = ("none", "pysense", "pysense2", "pytrack", "pytrack2")


def check_shield(value: object) -> str:
    if not isinstance(value, str) or value.lower() not in SHIELDS:
        raise ValueError(f"{value!r} is not an expansion board; use one of {', '.join(SHIELDS)}")
    return value.lower()


def check_environment(value: object) -> str:
    """An environment file: its absolute path (it need not exist yet: a test may write it later)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a file path; give a JSON file such as environment.json")
    path = Path(value)
    if path.is_dir():
        raise ValueError(f"{value} is a folder; give a JSON file such as environment.json")
    return str(path.resolve())


def check_map_items(items: list[tuple[str, str]]) -> dict[str, str]:
    """``SCRIPT_ADDRESS_OR_NAME -> LOOPBACK`` with network's own rules (one line naming the entry)."""
    try:
        return host.check_map(items)
    except host.AddressError as err:
        raise ValueError(str(err)) from None


def _split_map_entry(item: str) -> tuple[str, str]:
    source, sep, destination = item.partition("=")
    if not sep:
        raise ValueError(f"{item}: expected SCRIPT_ADDRESS=LOOPBACK_ADDRESS, e.g. 192.168.0.234=127.0.0.3")
    return source.strip(), destination.strip()


# -- the options ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardOption:
    """One board option: its flag, its key in a boards file, its check, its help."""

    flag: str  # "--time-scale"
    key: str  # "time_scale": the TOML key and the argparse dest
    check: Callable[[Any], Any]
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None


BOARD_OPTIONS: tuple[BoardOption, ...] = (
    BoardOption(
        "--board",
        "board",
        check_kind,
        "board kind: decides the modules it has (LTE on fipy/gpy) (default: lopy4)",
        choices=tuple(sorted(KINDS)),
    ),
    BoardOption(
        "--firmware",
        "firmware",
        check_firmware,
        "firmware behaviour: 'docs' does what the documentation says and warns where versions differ; "
        "a version number reproduces that version, bugs included (default: docs)",
        choices=tuple(sorted(profiles.PROFILES)),
    ),
    BoardOption(
        "--ip",
        "ip",
        check_loopback,
        "the board's own loopback address: WLAN.ifconfig()[0] and where it binds (default: a free "
        "127.0.0.x, reserved so that boards started at the same moment never share one)",
        metavar="ADDR",
    ),
    BoardOption(
        "--map",
        "map",
        check_map_items,
        "deliver what the script sends to ADDR (an IP address or a host name the script uses) to the "
        "loopback address LOOPBACK; repeatable. Ports and networks are not mapped. Unmapped addresses "
        "outside loopback are refused",
        metavar="ADDR=LOOPBACK",
    ),
    BoardOption(
        "--flash",
        "flash",
        check_folder,
        "keep the board's flash (files it writes, nvs) in DIR across runs (default: a temporary folder, "
        "removed when the board ends)",
        metavar="DIR",
    ),
    BoardOption(
        "--time-scale",
        "time_scale",
        check_scale,
        "board time runs N times faster: sleeps, ticks_ms, time(), timers, LTE and CoAP timers (default 1)",
        metavar="N",
    ),
    BoardOption(
        "--shield",
        "shield",
        check_shield,
        "the expansion board under the module: its sensors answer on I2C as the real chips do, reading "
        "the values of the environment file (default: none)",
        choices=SHIELDS,
    ),
    BoardOption(
        "--environment",
        "environment",
        check_environment,
        "a JSON file of what the board's sensors and analog inputs read (constants or timelines), read "
        "again whenever it changes; see the README, 'The world around the board' (default: the hidden "
        "/flash/.firmware-sim/environment.json)",
        metavar="FILE",
    ),
    BoardOption(
        "--lora-medium",
        "lora_medium",
        check_lora_medium,
        "the LoRa medium (the air) the board's radio is on: boards on the same name hear each other, "
        "across processes, over loopback only (default: $FIRMWARE_SIM_LORA_MEDIUM, else 'lora')",
        metavar="NAME",
    ),
    BoardOption(
        "--lora-link",
        "lora_link",
        check_lora_links,
        "the radio path to the board at loopback address PEER: a path loss (120dB) or a distance (2000m, "
        "2km: free-space loss); repeatable (default: 10 m between any two boards)",
        metavar="PEER=LOSS",
    ),
)
BY_KEY = {option.key: option for option in BOARD_OPTIONS}


def add_board_options(parser: argparse.ArgumentParser) -> None:
    """Put the board options on ``parser``; values are checked by :func:`from_args`, so every mistake
    reads the same on every command (defaults: :class:`BoardOptions`)."""
    for option in BOARD_OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.key, "help": option.help, "default": None}
        if option.flag in ("--map", "--lora-link"):
            kwargs.update(action="append")
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if option.choices:
            kwargs["metavar"] = "{" + ",".join(option.choices) + "}"
        parser.add_argument(option.flag, **kwargs)


def given(args: argparse.Namespace) -> list[str]:
    """The board options the user gave on the command line (their flags)."""
    return [option.flag for option in BOARD_OPTIONS if getattr(args, option.key, None) not in (None, [])]


# -- the checked options and the board they make -------------------------------------------------------


@dataclass
class BoardOptions:
    """A board's checked options (``ip`` None: reserve a free address when the board starts)."""

    board: str = "lopy4"
    firmware: str = "docs"
    ip: str | None = None
    map: dict[str, str] = field(default_factory=dict)
    flash: str | None = None
    time_scale: float = 1.0
    shield: str = "none"
    environment: str | None = None
    lora_medium: str | None = None
    lora_link: dict[str, tuple[str, float]] = field(default_factory=dict)  # peer -> ("loss"|"distance", x)

    def reserve_ip(self, taken: tuple[str, ...] = ()) -> str:
        """The board's address: the one given, else a free 127.0.0.x reserved for this process (and the
        processes it re-executes into), so boards started at the same moment never share one."""
        if self.ip is None:
            reservation = host.reserve_address(first_free=True, taken=taken)
            reservation.keep_across_exec()
            self.ip = reservation.ip
        return self.ip

    def make_flash(self) -> tuple[Path, bool]:
        """The folder that is /flash, and whether it is temporary (made now; removed when the board ends)."""
        if self.flash is None:
            return Path(tempfile.mkdtemp(prefix="firmware-sim-flash-")), True
        flash = Path(self.flash)
        flash.mkdir(parents=True, exist_ok=True)
        return flash, False

    def state(self, flash: Path, temporary: bool, **fields: Any) -> BoardState:
        """The board's state for a board with these options on ``flash``."""
        return BoardState(
            kind=self.board,
            flash=str(flash),
            ip=self.reserve_ip(),
            mapping=dict(self.map),
            firmware=self.firmware,
            time_scale=self.time_scale,
            shield=self.shield,
            environment=self.environment,
            lora_medium=self.lora_medium,
            lora_path_loss={peer: x for peer, (kind, x) in self.lora_link.items() if kind == "loss"},
            lora_distance={peer: x for peer, (kind, x) in self.lora_link.items() if kind == "distance"},
            flash_is_temporary=temporary,
            **fields,
        )


def from_args(args: argparse.Namespace) -> BoardOptions:
    """The board options of a parsed command line, checked (UsageError naming the flag)."""
    values: dict[str, Any] = {}
    for option in BOARD_OPTIONS:
        raw = getattr(args, option.key, None)
        if raw is None:
            continue
        try:
            if option.key == "map":
                values["map"] = option.check([_split_map_entry(item) for item in raw])
            elif option.key == "lora_link":
                values["lora_link"] = option.check([split_link_entry(item) for item in raw])
            else:
                values[option.key] = option.check(raw)
        except ValueError as err:
            shown = "" if option.key in ("map", "lora_link") else f" {raw}"
            raise UsageError(f"{option.flag}{shown}: {err}") from None
    return BoardOptions(**values)


def from_toml(entry: dict, where: str, board_names: dict[str, str]) -> BoardOptions:
    """The board options of one ``[[board]]`` table; ``where`` names the file and board for errors, and
    ``board_names`` maps the file's board names to their addresses (a map may name another board)."""
    values: dict[str, Any] = {}
    for option in BOARD_OPTIONS:
        if option.key not in entry:
            continue
        raw = entry[option.key]
        try:
            if option.key == "map":
                values["map"] = option.check(_toml_map(raw, board_names))
            elif option.key == "lora_link":
                values["lora_link"] = option.check(toml_links(raw, board_names))
            else:
                values[option.key] = option.check(raw)
        except ValueError as err:
            raise UsageError(f"{where}: key '{option.key}': {err}") from None
    return BoardOptions(**values)


def _toml_map(raw: object, board_names: dict[str, str]) -> list[tuple[str, str]]:
    if not isinstance(raw, dict):
        raise ValueError(
            f'{raw!r} is not a table; write map = {{ "192.168.0.10" = "sensor" }} '
            "(an address or host name the script uses = another board's name or a loopback address)"
        )
    pairs = []
    for source, destination in raw.items():
        if not isinstance(destination, str):
            raise ValueError(f"{source} = {destination!r}: give a board name or a loopback address")
        if destination in board_names:
            pairs.append((str(source), board_names[destination]))
            continue
        try:
            ipaddress.ip_address(destination)
        except ValueError:
            known = ", ".join(sorted(board_names)) or "none"
            raise ValueError(
                f"{source} = {destination!r}: no board is named '{destination}' (boards: {known}) and it "
                "is not a loopback address"
            ) from None
        pairs.append((str(source), destination))
    return pairs


def remove_flash(state: BoardState) -> None:
    """Remove a temporary flash folder (one given with --flash is kept)."""
    if state.flash_is_temporary:
        shutil.rmtree(state.flash, ignore_errors=True)


def deadline(timeout: float | None) -> float | None:
    """``time.monotonic()`` at which ``--timeout`` stops the board."""
    return None if timeout is None else time.monotonic() + timeout
