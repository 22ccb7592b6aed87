"""What a board keeps across a reboot (which re-executes the process): passed in the environment."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

ENV_STATE = "FIRMWARE_SIM_BOARD_STATE"

# machine.reset_cause() / wake_reason() values (esp32/util/mpsleep.h)
PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET, BROWN_OUT_RESET = 0, 1, 2, 3, 4, 5
PWRON_WAKE, PIN_WAKE, RTC_WAKE, ULP_WAKE = 0, 1, 2, 3


@dataclass
class BoardState:
    kind: str = "lopy4"
    flash: str = ""  # the real folder that is the board's /flash
    main_name: str = "main.py"  # file under /flash run after boot.py
    display_name: str = "main.py"  # how tracebacks name it
    ip: str = "127.0.0.1"
    mapping: dict[str, str] = field(default_factory=dict)
    firmware: str = "docs"
    time_scale: float = 1.0
    shield: str = "none"  # the expansion board: none, pysense, pysense2, pytrack, pytrack2
    environment: str | None = None  # --environment FILE (None: the hidden environment.json)
    shield_state: dict[str, Any] = field(default_factory=dict)  # the shield's own chips (its PIC's memory)
    lora_medium: str | None = None  # --lora-medium NAME (None: network.lora.medium.default_name())
    lora_path_loss: dict[str, float] = field(default_factory=dict)  # --lora-link PEER=120dB
    lora_distance: dict[str, float] = field(default_factory=dict)  # --lora-link PEER=2km (metres)
    deadline: float | None = None  # time.monotonic() at which --timeout stops the board
    reset_cause: int = PWRON_RESET
    wake_reason: int = PWRON_WAKE
    resets: list[float] = field(default_factory=list)  # monotonic times of recent resets
    rtc_offset: float = 0.0  # board clock minus host clock, kept across resets
    flash_is_temporary: bool = False

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> BoardState | None:
        text = os.environ.get(ENV_STATE)
        return None if not text else cls(**json.loads(text))
