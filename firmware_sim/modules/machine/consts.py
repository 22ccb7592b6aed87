"""``machine``'s constants and the firmware's error messages, shared by the package's files."""

from __future__ import annotations

from network import profile as profiles

from ...runtime import state as board_state

# reset_cause() / wake_reason() values (esp32/util/mpsleep.h)
PWRON_RESET, HARD_RESET, WDT_RESET = board_state.PWRON_RESET, board_state.HARD_RESET, board_state.WDT_RESET
DEEPSLEEP_RESET, SOFT_RESET, BROWN_OUT_RESET = (
    board_state.DEEPSLEEP_RESET,
    board_state.SOFT_RESET,
    board_state.BROWN_OUT_RESET,
)
PWRON_WAKE, PIN_WAKE, RTC_WAKE, ULP_WAKE = (
    board_state.PWRON_WAKE,
    board_state.PIN_WAKE,
    board_state.RTC_WAKE,
    board_state.ULP_WAKE,
)
WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH = 0, 1  # ESP-IDF esp_sleep_ext1_wakeup_mode_t

INVALID_ARGUMENTS = "invalid argument(s) value"  # esp32/util/mpexception.c
RESOURCE_NOT_AVAILABLE = "resource not available"
CPU_FREQ = 160_000_000

RESET_VIA_WDT = profiles.RESET_CAUSE_WDT  # machine.reset() goes through the watchdog on the board

WAKE_FILE = "wake.json"  # the board's hidden file: the pins that woke it and the sleep time left


def to_float(obj: object) -> float:
    """MicroPython's float conversion of an argument: ints and floats only."""
    if isinstance(obj, (int, float)):
        return float(obj)
    raise TypeError(f"can't convert {type(obj).__name__} to float")
