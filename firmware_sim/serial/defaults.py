"""The serial runner's defaults, in a module that imports nothing (the command line reads them before
it knows whether a board is involved)."""

from __future__ import annotations

PORT_ENV = "FIRMWARE_SIM_PORT"  # the environment variable naming the board when --port is not given
REPLY_TIMEOUT = 10.0  # default: how long the board may stay silent when it owes an answer
