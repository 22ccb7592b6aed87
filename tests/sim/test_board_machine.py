"""The board's ``machine`` module: unit tests on an in-process board, and resets end to end.

In-process tests build a :class:`Board` and make it current, never run it (``Board.run`` installs
signal handlers and exits) and never reset it (a reset re-executes the process). Resets, deep sleep and
the watchdog are tested on a real board process (``python -m firmware_sim.runtime.boot``).
"""

from __future__ import annotations

import calendar
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import run_board, run_script

from firmware_sim import runtime
from firmware_sim.modules import machine
from firmware_sim.runtime import pins
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState
from firmware_sim.testing import eventually
from network import profile as profiles

ROOT = Path(__file__).resolve().parents[2]
SCALE = 100.0  # board time runs 100 times faster in these tests


def make_board(flash: Path, **fields) -> Board:
    state = BoardState(flash=str(flash), **{"kind": "lopy4", "time_scale": SCALE, **fields})
    return Board(state)


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    b = make_board(tmp_path / "flash")
    runtime.set_current(b)
    yield b
    runtime.set_current(None)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    return eventually(predicate, timeout, interval=0.005)


def test_constants_are_the_firmwares() -> None:
    assert (machine.PWRON_RESET, machine.HARD_RESET, machine.WDT_RESET) == (0, 1, 2)
    assert (machine.DEEPSLEEP_RESET, machine.SOFT_RESET, machine.BROWN_OUT_RESET) == (3, 4, 5)
    assert (machine.PWRON_WAKE, machine.PIN_WAKE, machine.RTC_WAKE, machine.ULP_WAKE) == (0, 1, 2, 3)
    pin = machine.Pin
    assert (pin.IN, pin.OUT, pin.OPEN_DRAIN, pin.PULL_UP, pin.PULL_DOWN) == (1, 2, 7, 1, 2)
    assert (pin.IRQ_RISING, pin.IRQ_FALLING, pin.IRQ_LOW_LEVEL, pin.IRQ_HIGH_LEVEL) == (1, 2, 4, 5)


def test_board_module_has_only_the_boards_names(board: Board) -> None:
    module = machine.board_module()
    assert module.__name__ == "umachine"
    names = {name for name in dir(module) if not name.startswith("__")}
    assert {"reset", "deepsleep", "Pin", "Timer", "RTC", "WDT", "unique_id", "wake_reason"} <= names
    assert not names & {"bootloader", "soft_reset", "current", "time", "json", "mac_address"}


def test_star_import_and_unknown_names_as_on_the_board(board: Board) -> None:
    """The script's umachine loads its parts on first use; ``import *`` still gets every name."""
    script = (
        "from machine import *\n"
        "print(Pin.OUT, RTC, I2C.MASTER, HARD_RESET, callable(deepsleep))\n"
        "import machine\n"
        "print(machine.nothing)\n"
    )
    lines = run_script(board, script).splitlines()
    assert lines[0].startswith("2 ") and lines[0].endswith(" 0 1 True")
    assert lines[1] == "AttributeError: 'module' object has no attribute 'nothing'"


def test_argument_counts_raise_micropythons_errors(board: Board) -> None:
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        machine.reset(1)
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        machine.deepsleep(1, 2)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        machine.freq(x=1)
    with pytest.raises(TypeError, match="expecting a string file name"):
        machine.main(5)


def test_identity_and_figures(tmp_path: Path, board: Board) -> None:
    uid = machine.unique_id()
    assert uid == bytes([0x30, 0xAE, 0xA4, 0, 0, 1])  # 127.0.0.1: Espressif's prefix, then the address
    runtime.set_current(make_board(tmp_path / "other", ip="127.5.6.7"))
    assert machine.unique_id() == bytes([0x30, 0xAE, 0xA4, 5, 6, 7])
    runtime.set_current(board)
    assert machine.freq() == 160_000_000
    assert all(0 <= machine.rng() < 2**24 for _ in range(100))
    assert isinstance(machine.temperature(), int)
    assert machine.idle() is None
    assert machine.flash_encrypt() == 0 and machine.secure_boot() == 0


def test_unique_id_is_the_wlan_mac(tmp_path: Path) -> None:
    from network import WLAN
    from network import host as network_host

    b = make_board(tmp_path / "flash", ip="127.0.3.4")
    network_host.configure(ip=b.state.ip)
    runtime.set_current(b)
    try:
        assert machine.unique_id() == WLAN().mac().sta_mac
    finally:
        runtime.set_current(None)
        network_host.reset()


def test_info_prints_the_tasks_of_the_board_kind(board: Board, capsys) -> None:
    machine.info()
    out = capsys.readouterr().out
    assert "MPTask stack water mark" in out and "LoRaTask" in out and "SigfoxTask" in out
    assert "System free heap: " in out


def test_main_names_the_script_after_boot_py(board: Board) -> None:
    machine.main("app.py")
    assert board.main_file == "app.py"


# -- reset cause and wake reason ---------------------------------------------------------------------


def test_power_on_cause_and_wake_reason(board: Board) -> None:
    assert machine.reset_cause() == machine.PWRON_RESET
    assert machine.wake_reason() == (machine.PWRON_WAKE, None)
    assert machine.remaining_sleep_time() == 0


def test_causes_come_from_the_boards_state(tmp_path: Path) -> None:
    b = make_board(tmp_path / "f", reset_cause=machine.DEEPSLEEP_RESET, wake_reason=machine.RTC_WAKE)
    runtime.set_current(b)
    try:
        assert machine.reset_cause() == machine.DEEPSLEEP_RESET
        assert machine.wake_reason() == (machine.RTC_WAKE, None)
    finally:
        runtime.set_current(None)


def test_hard_reset_cause_warns_that_the_firmware_says_wdt(tmp_path: Path, capsys) -> None:
    b = make_board(tmp_path / "f", reset_cause=machine.HARD_RESET)
    runtime.set_current(b)
    saved = profiles.active()
    profiles.activate(profiles.docs_profile())
    try:
        assert machine.reset_cause() == machine.HARD_RESET
        assert machine.reset_cause() == machine.HARD_RESET
    finally:
        profiles.activate(saved)
        runtime.set_current(None)
    err = capsys.readouterr().err
    assert err.count("WDT_RESET (2)") == 1


# -- Pin ---------------------------------------------------------------------------------------------


def test_pins_are_one_object_per_pin_whatever_the_name(board: Board) -> None:
    p = machine.Pin("P10", mode=machine.Pin.OUT)
    assert machine.Pin("G17") is p
    assert machine.Pin.module.P10 is p and machine.Pin.exp_board.G17 is p
    assert machine.Pin(p) is p
    assert p.id() == "P10"
    assert repr(p) == "Pin('P10', mode=Pin.IN, pull=None, alt=-1)"  # Pin('G17') re-initialised it


@pytest.mark.parametrize("bad", ["P24", "X1", 10, b"P10"])
def test_unknown_pins_are_invalid_arguments(board: Board, bad: object) -> None:
    with pytest.raises(ValueError, match=r"^invalid argument\(s\) value$"):
        machine.Pin(bad)


def test_pin_mode_and_pull_are_checked(board: Board) -> None:
    with pytest.raises(ValueError, match=r"invalid argument\(s\) value"):
        machine.Pin("P9", mode=3)
    with pytest.raises(ValueError, match=r"invalid argument\(s\) value"):
        machine.Pin("P9", machine.Pin.IN, pull=5)
    with pytest.raises(TypeError, match="extra positional arguments given"):
        machine.Pin("P9", 1, None, 1)
    with pytest.raises(TypeError, match="function missing 1 required positional arguments"):
        machine.Pin()


def test_output_pin_levels_are_what_the_host_reads(board: Board) -> None:
    led = machine.Pin("P9", mode=machine.Pin.OUT, value=1)
    assert led.value() == 1 and pins.read("P9") == 1 and pins.read("G16") == 1
    led.value(0)
    assert led() == 0 and pins.read("P9") == 0
    led.toggle()
    assert pins.read("P9") == 1
    led(False)
    assert pins.read("P9") == 0
    assert led.mode() == machine.Pin.OUT and led.pull() is None
    assert repr(led) == "Pin('P9', mode=Pin.OUT, pull=None, alt=-1)"
    timeline = [json.loads(line) for line in board.flash.private("pins.jsonl").read_text().splitlines()]
    assert [(e["pin"], e["value"]) for e in timeline] == [("P9", 1), ("P9", 0), ("P9", 1), ("P9", 0)]
    assert all(isinstance(e["t"], float) for e in timeline)


def test_input_pins_read_the_driven_level_or_their_pull(board: Board) -> None:
    button = machine.Pin("P10", mode=machine.Pin.IN, pull=machine.Pin.PULL_UP)
    assert button() == 1
    pins.drive("P10", 0)
    assert button() == 0
    pins.drive("P10", None)
    assert button() == 1
    button.pull(machine.Pin.PULL_DOWN)
    assert button() == 0 and button.pull() == machine.Pin.PULL_DOWN
    drain = machine.Pin("P11", mode=machine.Pin.OPEN_DRAIN, pull=machine.Pin.PULL_UP, value=0)
    assert drain() == 0
    drain(1)
    assert drain() == 1
    pins.drive("P11", 0)
    assert drain() == 0


def test_pins_json_drives_inputs_from_outside(board: Board) -> None:
    path = board.flash.private("pins.json")
    pin = machine.Pin("P13", mode=machine.Pin.IN)
    assert pin() == 0
    path.write_text(json.dumps({"G5": 1}))  # G5 is P13
    assert wait_until(lambda: pin() == 1)
    path.write_text(json.dumps({}))
    assert wait_until(lambda: pin() == 0)


def test_edge_callbacks_run_in_the_irq_thread(board: Board) -> None:
    calls: list[tuple[object, int, str]] = []
    button = machine.Pin("P10", mode=machine.Pin.IN, pull=machine.Pin.PULL_UP)

    def handler(arg) -> None:
        calls.append((arg, button(), threading.current_thread().name))

    button.callback(machine.Pin.IRQ_FALLING, handler)
    pins.drive("P10", 0)
    assert wait_until(lambda: len(calls) == 1)
    pins.drive("P10", 1)  # rising: not asked for
    time.sleep(0.05)
    assert calls == [(button, 0, "IRQs")]
    button.callback(machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING, handler, arg="both")
    pins.drive("P10", 0)
    pins.drive("P10", 1)
    assert wait_until(lambda: len(calls) == 3)
    assert [c[0] for c in calls[1:]] == ["both", "both"]
    button.callback(machine.Pin.IRQ_FALLING, None)  # no handler: disabled
    pins.drive("P10", 0)
    time.sleep(0.05)
    assert len(calls) == 3


def test_level_triggers_fire_on_reaching_the_level(board: Board) -> None:
    calls: list[int] = []
    pin = machine.Pin("P14", mode=machine.Pin.IN, pull=machine.Pin.PULL_DOWN)
    pin.callback(machine.Pin.IRQ_LOW_LEVEL, lambda p: calls.append(p()))
    assert wait_until(lambda: calls == [0])  # already low
    pins.drive("P14", 1)
    pins.drive("P14", 0)
    assert wait_until(lambda: calls == [0, 0])


def test_reinitialising_a_pin_or_an_output_calls_no_handler(board: Board) -> None:
    calls: list[object] = []
    pin = machine.Pin("P10", mode=machine.Pin.IN)
    pin.callback(machine.Pin.IRQ_RISING, calls.append)
    machine.Pin("P10", mode=machine.Pin.IN)  # pin_config() clears the trigger
    pins.drive("P10", 1)
    out = machine.Pin("P9", mode=machine.Pin.OUT)
    out.callback(machine.Pin.IRQ_RISING, calls.append)
    out(1)
    time.sleep(0.05)
    assert calls == []


def test_a_handlers_exception_ends_the_irq_thread(board: Board, capsys) -> None:
    calls: list[int] = []

    def handler(pin) -> None:
        calls.append(pin())
        raise RuntimeError("oops")

    pin = machine.Pin("P10", mode=machine.Pin.IN)
    pin.callback(machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING, handler)
    pins.drive("P10", 1)
    assert wait_until(lambda: machine._machine().irq.dead)
    pins.drive("P10", 0)
    time.sleep(0.05)
    assert calls == [1]  # no handler runs after the first one's exception
    captured = capsys.readouterr()
    assert "RuntimeError: oops" in captured.out and "interrupt thread has ended" in captured.err


def test_unhandled_exception_text(board: Board, capsys) -> None:
    def handler(pin) -> None:
        raise ValueError("bad level")

    machine.Pin("P10", mode=machine.Pin.IN).callback(machine.Pin.IRQ_RISING, handler)
    pins.drive("P10", 1)
    assert wait_until(lambda: machine._machine().irq.dead)
    out = capsys.readouterr().out
    assert out.startswith("Unhandled exception in callback handler\nTraceback (most recent call last):\n")
    assert out.endswith("ValueError: bad level\n")


def test_disable_irq_holds_handlers_back(board: Board) -> None:
    calls: list[object] = []
    machine.Pin("P10", mode=machine.Pin.IN).callback(machine.Pin.IRQ_RISING, calls.append)
    state = machine.disable_irq()
    pins.drive("P10", 1)
    time.sleep(0.05)
    assert calls == []
    machine.enable_irq(state)
    assert wait_until(lambda: len(calls) == 1)


def test_hold_only_on_rtc_pins(board: Board) -> None:
    with pytest.raises(OSError, match="only available for GPIO pins in the RTC domain"):
        machine.Pin("P11", mode=machine.Pin.OUT).hold(True)
    pin = machine.Pin("P9", mode=machine.Pin.OUT, value=1)
    pin.hold(True)
    assert pin.hold() is True
    pin.value(0)
    assert pins.read("P9") == 1  # held
    pin.hold(False)
    assert pins.read("P9") == 0


def test_pin_sleep_wakeup_checks_its_pins(board: Board) -> None:
    machine.pin_sleep_wakeup(["P10", machine.Pin("P13")], machine.WAKEUP_ANY_HIGH)
    with pytest.raises(ValueError, match="not supported on the selected pin"):
        machine.pin_sleep_wakeup(["P11"], machine.WAKEUP_ANY_HIGH)
    with pytest.raises(ValueError, match="invalid wakeup mode 7"):
        machine.pin_sleep_wakeup(["P10"], 7)


def test_light_sleep_wakes_on_a_pin(board: Board) -> None:
    machine.pin_sleep_wakeup(["P10"], machine.WAKEUP_ANY_HIGH)
    timer = threading.Timer(0.05, pins.drive, args=("P10", 1))
    timer.start()
    start = time.monotonic()
    machine.sleep(3_600_000)  # an hour of board time: 36 s here, unless the pin wakes it
    assert time.monotonic() - start < 5


# -- Timer -------------------------------------------------------------------------------------------


def test_one_shot_alarm_gets_the_alarm_on_the_board_clock(board: Board) -> None:
    calls: list[tuple[object, float]] = []
    start = board.clock.elapsed()
    alarm = machine.Timer.Alarm(lambda a: calls.append((a, board.clock.elapsed() - start)), 2)
    assert wait_until(lambda: len(calls) == 1)
    time.sleep(0.05)  # 5 board seconds: no second call
    assert len(calls) == 1 and calls[0][0] is alarm
    assert 2 <= calls[0][1] < 2 + 0.5 * SCALE  # never early; late only by scheduling


def test_periodic_alarm_and_cancel(board: Board) -> None:
    calls: list[object] = []
    alarm = machine.Timer.Alarm(calls.append, ms=500, arg="tick", periodic=True)
    assert wait_until(lambda: len(calls) >= 3)
    alarm.cancel()
    time.sleep(0.02)
    count = len(calls)
    time.sleep(0.05)
    assert len(calls) == count and set(calls) == {"tick"}
    alarm.callback(calls.append, arg="again")  # re-armed from now
    assert wait_until(lambda: "again" in calls)
    alarm.callback(None)
    time.sleep(0.02)
    count = len(calls)
    time.sleep(0.05)
    assert len(calls) == count


def test_alarm_arguments(board: Board) -> None:
    with pytest.raises(ValueError, match="please provide a single duration"):
        machine.Timer.Alarm(print, 1, ms=5)
    with pytest.raises(ValueError, match="please provide a single duration"):
        machine.Timer.Alarm(print)
    with pytest.raises(TypeError, match="'handler' argument required"):
        machine.Timer.Alarm(s=1)
    with pytest.raises(TypeError, match="extra positional arguments given"):
        machine.Timer.Alarm(print, 1, 2)
    assert machine.Timer.Alarm(None, 1) is not None  # created disabled


def test_at_most_16_alarms(board: Board) -> None:
    alarms = [machine.Timer.Alarm(print, 3600) for _ in range(16)]
    with pytest.raises(MemoryError, match="maximum number of 16 alarms already reached"):
        machine.Timer.Alarm(print, 3600)
    alarms[0].cancel()
    alarms.append(machine.Timer.Alarm(print, 3600))
    for alarm in alarms:
        alarm.cancel()


def test_chrono_and_sleep_us_on_the_board_clock(board: Board) -> None:
    chrono = machine.Timer.Chrono()
    assert chrono.read() == 0
    chrono.start()
    machine.Timer.sleep_us(1_000_000)  # one board second: 10 ms here
    chrono.stop()
    first = chrono.read()
    assert 1.0 <= first < 1.0 + 0.5 * SCALE
    assert chrono.read_ms() == pytest.approx(first * 1000) and chrono.read_us() == pytest.approx(first * 1e6)
    time.sleep(0.02)
    assert chrono.read() == first  # stopped
    chrono.reset()
    assert chrono.read() == 0
    with pytest.raises(TypeError, match="cannot create 'Timer' instances"):
        machine.Timer()


# -- RTC, WDT, UART ----------------------------------------------------------------------------------


def test_rtc_sets_and_reads_the_board_clock(board: Board) -> None:
    rtc = machine.RTC()
    assert machine.RTC() is rtc
    rtc.init((2021, 3, 14, 15, 9, 26, 535897, None))
    now = rtc.now()
    assert len(now) == 8 and now[:4] == (2021, 3, 14, 15) and now[7] is None
    assert 0 <= calendar.timegm((*now[:6], 0, 0, 0)) - 1615734566 < 60
    assert 0 <= board.clock.time() - 1615734566.535897 < 60
    machine.RTC(datetime=(2000, 1, 1))
    assert rtc.now()[:3] == (2000, 1, 1)
    with pytest.raises(ValueError, match=r"invalid argument\(s\) value"):
        rtc.init((2021, 3))
    with pytest.raises(OSError, match="resource not available"):
        machine.RTC(id=1)


def test_ntp_sync_sends_nothing_and_syncs_to_the_host(board: Board) -> None:
    rtc = machine.RTC()
    rtc.init((2000, 1, 1))
    assert rtc.synced() is False
    with pytest.raises(ValueError, match="update period cannot be shorter than 15 s"):
        rtc.ntp_sync("pool.ntp.org", update_period=10)
    rtc.ntp_sync("pool.ntp.org")
    assert rtc.synced() is True
    assert abs(board.clock.time() - time.time()) < 5 * SCALE
    rtc.ntp_sync(None)
    assert rtc.synced() is False


def test_rtc_memory(board: Board) -> None:
    rtc = machine.RTC()
    assert rtc.memory() == b""
    rtc.memory(b"state:42")
    assert rtc.memory() == b"state:42"
    with pytest.raises(ValueError, match="buffer too long"):
        rtc.memory(bytes(2049))


def test_wdt_arguments(board: Board) -> None:
    # a started watchdog would reset (re-execute) this test process: only refused constructions here
    with pytest.raises(TypeError, match="'timeout' argument required"):
        machine.WDT()
    with pytest.raises(OSError, match="resource not available"):
        machine.WDT(id=1, timeout=1000)


def test_uart0_is_the_boards_output(board: Board, capsys) -> None:
    uart = machine.UART(0, 115200)
    assert machine.UART(0) is uart
    assert uart.write(b"hello\n") == 6
    assert capsys.readouterr().out == "hello\n"
    assert machine.UART(1, 9600).write("x") == 1 and machine.UART(1).read() is None
    assert capsys.readouterr().out == ""
    with pytest.raises(OSError, match="resource not available"):
        machine.UART(3)
    with pytest.raises(ValueError, match="invalid bits size 9"):
        machine.UART(2, 9600, bits=9)


# -- a real board process: resets, deep sleep, watchdog ----------------------------------------------

RESETS = """\
import machine, pycom
n = pycom.nvs_get('boots', 0)
print('boot', n, machine.reset_cause(), machine.wake_reason())
pycom.nvs_set('boots', n + 1)
if n < 2:
    machine.reset()
print('done')
"""


@pytest.mark.process
def test_reset_reboots_with_nvs_kept(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", RESETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "boot 0 0 (0, None)",
        "boot 1 1 (0, None)",
        "boot 2 1 (0, None)",
        "done",
    ]
    assert json.loads((tmp_path / "flash/.firmware-sim/nvs.json").read_text()) == {"boots": 3}
    assert "report WDT_RESET (2)" in result.stderr  # the default profile's warning


@pytest.mark.process
def test_a_reset_loop_is_stopped(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", "import machine\nmachine.reset()\n")
    assert result.returncode == 1
    assert "reboot loop" in result.stderr


DEEPSLEEP = """\
import machine
cause = machine.reset_cause()
print('boot', cause, machine.wake_reason(), machine.remaining_sleep_time())
if cause != machine.DEEPSLEEP_RESET:
    machine.deepsleep(60000)
"""


@pytest.mark.process
def test_deepsleep_takes_board_time_and_reboots(tmp_path: Path) -> None:
    start = time.monotonic()
    result = run_board(tmp_path / "flash", DEEPSLEEP, scale=1000.0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["boot 0 (0, None) 0", "boot 3 (2, None) 0"]
    assert time.monotonic() - start < 30  # 60 board seconds are 0.06 s here


PIN_WAKE = """\
import machine
cause = machine.reset_cause()
print('boot', cause, machine.wake_reason(), machine.remaining_sleep_time())
if cause != machine.DEEPSLEEP_RESET:
    machine.pin_sleep_wakeup(['P10'], machine.WAKEUP_ANY_HIGH)
    machine.deepsleep(3600000)
"""


@pytest.mark.process
def test_a_wake_pin_ends_deepsleep_early(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    (flash / ".firmware-sim").mkdir(parents=True)
    (flash / ".firmware-sim/pins.json").write_text('{"P10": 1}')
    result = run_board(flash, PIN_WAKE, scale=1.0)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == "boot 0 (0, None) 0"
    assert second.startswith("boot 3 (1, [Pin('P10', mode=Pin.IN, pull=None, alt=-1)]) ")
    assert 3_500_000 < int(second.rsplit(" ", 1)[1]) <= 3_600_000  # remaining_sleep_time()


WATCHDOG = """\
import machine, time
cause = machine.reset_cause()
print('boot', cause)
if cause == machine.PWRON_RESET:
    wdt = machine.WDT(timeout=5000)
    for _ in range(5):
        time.sleep_ms(1000)
        wdt.feed()
    print('fed')
    while True:
        time.sleep_ms(100)
"""


@pytest.mark.process
def test_watchdog_resets_an_unfed_board(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", WATCHDOG, scale=10.0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["boot 0", "fed", "boot 2"]


PIN_SCRIPT = """\
from machine import Pin
def edge(pin):
    print('edge', pin.id(), pin())
Pin('P10', mode=Pin.IN, pull=Pin.PULL_DOWN).callback(Pin.IRQ_RISING | Pin.IRQ_FALLING, edge)
led = Pin('P9', mode=Pin.OUT)
led(1)
print('armed')
"""


@pytest.mark.process
def test_a_running_board_is_driven_through_pins_json(tmp_path: Path, spawn) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(PIN_SCRIPT)
    state = BoardState(flash=str(flash), kind="lopy4", deadline=time.monotonic() + 30)
    board = spawn(
        [sys.executable, "-m", "firmware_sim.runtime.boot"], env={"FIRMWARE_SIM_BOARD_STATE": state.to_env()}
    )
    assert board.wait_for(lambda out: "armed" in out), board.output
    drive = flash / ".firmware-sim/pins.json"
    for level in (1, 0):
        tmp = drive.with_suffix(".tmp")
        tmp.write_text(json.dumps({"G17": level}))
        tmp.replace(drive)
        assert board.wait_for(lambda out, level=level: f"edge P10 {level}" in out), board.output
    timeline = (flash / ".firmware-sim/pins.jsonl").read_text().splitlines()
    assert [json.loads(line)["value"] for line in timeline] == [0, 1]
