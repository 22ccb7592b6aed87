"""``machine.PWM`` and ``machine.RMT`` as Pycom firmware 1.20.2.r6 has them (esp32/mods/machpwm.c,
machrmt.c): every argument check with the firmware's words, what a test watches in peripherals.jsonl,
pulses received from the environment, and a buzzer script on a real board process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import outputs, raises, run_board

from firmware_sim import runtime
from firmware_sim.modules import machine
from firmware_sim.runtime import environment
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState

PWM, RMT = machine.PWM, machine.RMT


def recorded(board: Board, source: str) -> list[dict]:
    return outputs(board.flash.root, source)


def bounded(call: Callable[[], Any], timeout: float = 10.0) -> Any:
    """``call()`` (one that waits for ever when it is wrong), failing the test after ``timeout`` s."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(timeout)
    assert result, f"still waiting after {timeout} s"
    return result[0]


# -- PWM ----------------------------------------------------------------------------------------------


def test_pwm_timer_arguments_raise_the_firmwares_errors(board: Board) -> None:
    with raises(OSError, "resource not available"):
        PWM(4, frequency=1000)
    with raises(OSError, "resource not available"):
        PWM(-1, frequency=1000)
    with raises(ValueError, "invalid frequency 78001"):
        PWM(0, frequency=78001)
    with raises(ValueError, "invalid frequency -5"):
        PWM(0, frequency=-5)
    with raises(TypeError, "'frequency' argument required"):
        PWM(0)
    with raises(TypeError, "'timer' argument required"):
        PWM(frequency=1000)
    with raises(TypeError, "extra positional arguments given"):
        PWM(0, 1000, 5)
    with raises(TypeError, "extra keyword arguments given"):
        PWM(0, frequency=1000, duty=1)
    with raises(TypeError, "can't convert float to int"):
        PWM(0, frequency=1000.0)
    pwm = PWM(0, frequency=1000)
    with raises(ValueError, "invalid frequency 100000"):
        pwm.init(frequency=100000)
    assert not hasattr(pwm, "deinit")  # commented out of the firmware's class table


def test_pwm_channel_arguments_raise_the_firmwares_errors(board: Board) -> None:
    pwm = PWM(0, frequency=1000)
    with raises(OSError, "resource not available"):
        pwm.channel(8, pin="P12")
    with raises(TypeError, "'pin' argument required"):
        pwm.channel(0)
    with raises(TypeError, "extra positional arguments given"):
        pwm.channel(0, 0.5, pin="P12")  # pin is keyword-only, before duty_cycle
    with raises(ValueError, "invalid argument(s) value"):
        pwm.channel(0, pin="P99")
    with raises(TypeError, "can't convert str to float"):
        pwm.channel(0, pin="P12", duty_cycle="half")
    ch = pwm.channel(0, pin="P12")
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        ch.duty_cycle()  # no getter on 1.20.2
    with raises(TypeError, "can't convert NoneType to float"):
        ch.duty_cycle(None)
    with raises(TypeError, "function doesn't take keyword arguments"):
        ch.duty_cycle(duty=0.5)
    assert type(ch).__name__ == "channel"


def test_pwm_records_frequency_and_duty_per_channel(board: Board) -> None:
    pwm = PWM(1, frequency=1000)
    assert PWM(1, frequency=2000) is pwm  # one object per timer, reconfigured
    ch = pwm.channel(2, pin="G16", duty_cycle=0.25)  # G16 is P9
    assert pwm.channel(2, pin="P9") is ch
    ch.duty_cycle(1.5)  # clamped: the pin held high
    ch.duty_cycle(-1)
    ch.duty_cycle(0.75)
    lines = recorded(board, "PWM")
    assert [(x["timer"], x["channel"], x["pin"], x["frequency"]) for x in lines] == [(1, 2, "P9", 2000)] * 5
    assert [x["duty"] for x in lines] == [pytest.approx(d, abs=1e-3) for d in (0.25, 0.5, 1.0, 0.0, 0.75)]


def test_a_new_frequency_keeps_the_duty_register_as_the_chip(board: Board) -> None:
    pwm = PWM(0, frequency=1000)  # 14 bits
    pwm.channel(0, pin="P12", duty_cycle=0.25)
    pwm.init(frequency=5000)  # 13 bits: the raw 4095 is now half of the period
    pwm.init(frequency=40000)  # 10 bits: more than the period, always high
    duties = [x["duty"] for x in recorded(board, "PWM")]
    assert duties == [pytest.approx(0.25, abs=1e-3), pytest.approx(0.5, abs=1e-3), 1.0]
    assert [x["frequency"] for x in recorded(board, "PWM")] == [1000, 5000, 40000]


def test_channels_move_between_timers_as_the_ledc_has_eight(board: Board) -> None:
    low, high = PWM(0, frequency=500), PWM(1, frequency=2000)
    low.channel(3, pin="P10", duty_cycle=0.5)
    high.channel(3, pin="P11", duty_cycle=0.5)  # hardware channel 3 now runs on timer 1
    low.init(frequency=600)  # nothing on timer 0 any more: no output changes
    assert [(x["timer"], x["pin"], x["frequency"]) for x in recorded(board, "PWM")] == [
        (0, "P10", 500),
        (1, "P11", 2000),
    ]


BUZZER = """\
from machine import PWM
import time

NOTES = {'C4': 262, 'D4': 294, 'E4': 330, 'G4': 392}
SONG = ['C4', 'E4', 'G4', 'E4', 'D4', 'C4']

buzzer = PWM(0, frequency=NOTES['C4'])
voice = buzzer.channel(0, pin='P12', duty_cycle=0.0)
for note in SONG:
    PWM(0, frequency=NOTES[note])
    voice.duty_cycle(0.5)
    time.sleep_ms(150)
    voice.duty_cycle(0)
    time.sleep_ms(20)
print('played', len(SONG))
"""


@pytest.mark.process
def test_a_buzzer_melody_is_watched_in_peripherals_jsonl(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    result = run_board(flash, BUZZER, scale=10.0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["played 6"]
    lines = outputs(flash, "PWM")
    sounding = [x["frequency"] for x in lines if x["duty"] > 0.4]
    assert sounding == [262, 330, 392, 330, 294, 262]
    assert {x["pin"] for x in lines} == {"P12"} and lines[-1]["duty"] == 0.0
    starts = [x["t"] for x in lines if x["duty"] > 0.4]
    assert all(b - a >= 0.165 for a, b in zip(starts, starts[1:], strict=False))  # 150 + 20 ms a note


# -- RMT: arguments -----------------------------------------------------------------------------------


def test_rmt_constructor_reads_channel_as_its_first_keyword(board: Board) -> None:
    with raises(TypeError, "'channel' argument required"):
        RMT(4, gpio="P21", tx_idle_level=0)
    with raises(TypeError, "'channel' argument required"):
        RMT(gpio="P21", channel=4, tx_idle_level=0)
    with raises(TypeError, "'channel' argument required"):
        RMT()
    with raises(ValueError, "Channel is invalid!"):
        RMT(channel=1)  # channels 0 and 1 drive the RGB LED
    with raises(ValueError, "Channel is invalid!"):
        RMT(channel=8)
    with raises(TypeError, "extra positional arguments given"):
        RMT(4, channel=4, gpio="P21", tx_idle_level=0)
    with raises(TypeError, "extra keyword arguments given"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, frequency=38000)
    assert RMT(4, channel=4) is RMT(channel=4)  # alone, a positional is never looked at


def test_rmt_configuration_raises_the_firmwares_errors(board: Board) -> None:
    with raises(ValueError, "GPIO must be defined!"):
        RMT(channel=4, tx_idle_level=0)
    with raises(ValueError, "invalid argument(s) value"):
        RMT(channel=4, gpio="P42", tx_idle_level=0)
    with raises(ValueError, "Either RX or TX configuration must be given!"):
        RMT(channel=4, gpio="P21")
    with raises(ValueError, "A channel can be configured only for RX or TX at the same time!"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, rx_idle_threshold=1000)
    with raises(ValueError, "Filter threshold is accepted between values: 0-31, counted 100 nano sec!"):
        RMT(channel=4, gpio="P21", rx_idle_threshold=1000, rx_filter_threshold=32)
    with raises(TypeError, "can't convert NoneType to int"):
        RMT(channel=4, gpio="P21", rx_idle_threshold=1000, rx_filter_threshold=None)
    with raises(ValueError, "Duty_percent argument is invalid!"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, tx_carrier=(38000, 101, RMT.HIGH))
    with raises(ValueError, "Carrier level argument is invalid!"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, tx_carrier=(38000, 50, 2))
    with raises(ValueError, "requested length 3 but object has length 2"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, tx_carrier=(38000, 50))
    with raises(TypeError, "object 'int' isn't a tuple or list"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, tx_carrier=38000)
    with raises(OSError, "RMT parameter error!"):
        RMT(channel=4, gpio="P21", tx_idle_level=0, tx_carrier=(0, 50, RMT.HIGH))
    RMT(channel=5, gpio="P21", tx_idle_level=0)
    with raises(ValueError, "The given Pin is already used by other RMT channel!"):
        RMT(channel=4, gpio="P21", tx_idle_level=0)
    RMT(channel=5, gpio="P21", tx_idle_level=1)  # its own pin again is fine
    with raises(TypeError, "extra positional arguments given"):
        RMT(channel=5).init("P21")
    assert (RMT.LOW, RMT.HIGH) == (0, 1)


def test_pulses_send_raises_the_firmwares_errors(board: Board) -> None:
    tx = RMT(channel=3, gpio="P21", tx_idle_level=0)
    rx = RMT(channel=4, gpio="P22", rx_idle_threshold=1000)
    with raises(ValueError, "RMT channel is configured for RX!"):
        rx.pulses_send(100, (1, 0))
    with raises(ValueError, '"Duration" can be a single integer or a tuple!'):
        tx.pulses_send([100, 200], (1, 0))
    with raises(ValueError, '"Duration" must be a tuple if "data" parameter left empty!'):
        tx.pulses_send(100)
    with raises(ValueError, 'Only 0 or 1 can be given if the "data" is provided as a tuple!'):
        tx.pulses_send(100, (1, 2))
    with raises(ValueError, '"data" parameter must be a single integer, a tuple or left empty!'):
        tx.pulses_send(100, [1, 0])
    with raises(ValueError, 'Number of the given "duration" and "data" values must be equal!'):
        tx.pulses_send((100, 200), (1, 0, 1))
    with raises(ValueError, '"start_level" parameter must be given!'):
        tx.pulses_send((100, 200))
    with raises(ValueError, '"start_level" can be 0 or 1'):
        tx.pulses_send(100, 4, start_level=2)
    with raises(ValueError, '"start_level" can be 0 or 1'):
        tx.pulses_send(100, 4, start_level=True)
    with raises(OSError, "Could not send data!"):
        tx.pulses_send((), ())
    with raises(TypeError, "'duration' argument required"):
        tx.pulses_send()
    tx.deinit()
    with raises(ValueError, "RMT channel is not initialized!"):
        tx.pulses_send(100, (1, 0))


def test_pulses_get_raises_the_firmwares_errors(board: Board) -> None:
    tx = RMT(channel=3, gpio="P21", tx_idle_level=0)
    rx = RMT(channel=4, gpio="P22", rx_idle_threshold=1000)
    with raises(ValueError, "RMT channel is configured for TX!"):
        tx.pulses_get()
    with raises(ValueError, "If pulses is specified it must be a valid integer number"):
        rx.pulses_get(pulses="all")
    with raises(ValueError, "If timeout is specified it must be a valid integer number"):
        rx.pulses_get(timeout=1.5)
    with raises(TypeError, "extra positional arguments given"):
        rx.pulses_get(10)
    rx.deinit()
    with raises(ValueError, "RMT channel is not initialized!"):
        rx.pulses_get(timeout=1)


# -- RMT: what goes out, what comes in ----------------------------------------------------------------


def test_sent_pulses_are_recorded_in_the_channels_unit(board: Board) -> None:
    tx = RMT(channel=6, gpio="P21", tx_idle_level=0, tx_carrier=(38000, 50, RMT.HIGH))
    tx.pulses_send((100, 200, 300), (1, 0, 1))
    tx.pulses_send(50, 3, start_level=1)
    tx.pulses_send((10, 20), start_level=0)
    lines = recorded(board, "RMT")
    assert [x["pulses"] for x in lines] == [
        [[1, 100], [0, 200], [1, 300]],
        [[1, 50], [0, 50], [1, 50]],
        [[0, 10], [1, 20]],
    ]
    assert {(x["channel"], x["pin"], x["resolution_ns"], x["idle_level"]) for x in lines} == {
        (6, "P21", 3125, 0)
    }
    assert lines[0]["carrier"] == [38000, 50, 1]


def test_waiting_for_the_send_takes_the_pulses_time(tmp_path: Path) -> None:
    board = Board(BoardState(flash=str(tmp_path / "slow"), kind="lopy4", time_scale=10.0))
    runtime.set_current(board)
    try:
        _send_twice(board)
    finally:
        runtime.set_current(None)


def _send_twice(board: Board) -> None:
    tx = RMT(channel=6, gpio="P21", tx_idle_level=0)  # 3.125 us a tick
    before = board.clock.elapsed()
    tx.pulses_send(32000, 4, start_level=1)  # 4 x 0.1 s
    assert board.clock.elapsed() - before >= 0.39
    before = board.clock.elapsed()
    tx.pulses_send(32000, 4, start_level=1, wait_tx_done=False)
    tx.pulses_send(32000, 4, start_level=1, wait_tx_done=False)  # waits for the first to be out
    assert 0.39 <= board.clock.elapsed() - before < 0.79


def test_received_frames_come_from_the_environment_once(board: Board) -> None:
    rx = RMT(channel=4, gpio="P22", rx_idle_threshold=12000)  # 1 us a tick
    assert rx.pulses_get(timeout=20) == ()
    environment.set("rmt", {"P22": [9000, 4500, 560, 560]}, board)
    assert bounded(rx.pulses_get) == ((0, 9000), (1, 4500), (0, 560), (1, 560))
    assert rx.pulses_get(timeout=20) == ()  # the same frame is not received twice
    environment.set("rmt", {"P22": []}, board)
    assert rx.pulses_get(timeout=20) == ()
    environment.set("rmt", {"P22": [[1, 300], [0, 600]]}, board)
    assert rx.pulses_get(timeout=20) == ((1, 300), (0, 600))


def test_received_durations_follow_the_channel_unit_filter_and_idle(board: Board) -> None:
    fine = RMT(channel=2, gpio="P22", rx_idle_threshold=20000, rx_filter_threshold=10)  # 100 ns, 1 us
    environment.set("rmt", {"P22": [[0, 560], [1, 0.5], [0, 440], [1, 1690], [0, 2500], [1, 560]]}, board)
    # the 0.5 us glitch is filtered out, 2.5 ms is past the idle threshold (2 ms): the frame ends
    assert bounded(fine.pulses_get) == ((0, 10000), (1, 16900))


def test_pulses_count_gathers_frames_until_enough(tmp_path: Path) -> None:
    board = Board(BoardState(flash=str(tmp_path / "real-time"), kind="lopy4"))  # board time is host time
    runtime.set_current(board)
    try:
        rx = RMT(channel=4, gpio="P22", rx_idle_threshold=5000)
        now = board.clock.elapsed()
        frames = {"timeline": [[now, [100, 200]], [now + 0.5, [300, 400]]], "step": True}
        environment.set("rmt", {"P22": frames}, board)
        # a frame of two pulses is one item (of two pulses): the second frame is waited for
        got = bounded(lambda: rx.pulses_get(pulses=4))
        assert got == ((0, 100), (1, 200), (0, 300), (1, 400))
        assert board.clock.elapsed() >= now + 0.5
    finally:
        runtime.set_current(None)
