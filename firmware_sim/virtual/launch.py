"""What the relay hands the virtual board's process when it starts it: the command, and in the
environment the board's state (``firmware_sim.runtime.state``), the options below, a pipe to say the
board is up, and the relay's pid (the board ends with its relay); and the status a failed board ends
with."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass

BOARD_MODULE = "firmware_sim.virtual.process"  # the board's process, re-executed at every hard reset
ENV_VIRTUAL = "FIRMWARE_SIM_VIRTUAL"  # the options below (JSON)
ENV_READY_FD = "FIRMWARE_SIM_READY_FD"  # a pipe to the relay: written once the board is up
ENV_RELAY_PID = "FIRMWARE_SIM_RELAY_PID"  # the relay: when it is gone, the board process ends
EXIT_FAILED = 70  # the board's process failed (and said why on stderr): the relay starts it again


@dataclass
class VirtualOptions:
    """What the relay tells the board process besides its state."""

    raw_paste: bool = False  # newer MicroPython: raw-paste mode (Pycom 1.20 has none)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> VirtualOptions:
        text = os.environ.get(ENV_VIRTUAL)
        return cls(**json.loads(text)) if text else cls()


def board_command() -> list[str]:
    """The command line of the board's process."""
    return [sys.executable, "-m", BOARD_MODULE]


def relay_pid() -> int | None:
    """In the board's process: the pid of the relay that started it (None when unknown)."""
    text = os.environ.get(ENV_RELAY_PID, "")
    return int(text) if text.isdigit() else None
