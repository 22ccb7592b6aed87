"""``machine.Touch``, ``machine.SD`` (with ``os.mount``) and ``machine.CAN`` as Pycom firmware 1.20.2.r6
has them (esp32/mods/machtouch.c, pybsd.c, extmod/vfs.c, machcan.c, esp32/can/CAN.c): every argument
check with the firmware's words, the card confined to its folder, frames in and out, and a touch
button, an SD logger and a CAN node as scripts on real board processes."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import outputs, raises, run_board

from firmware_sim.modules import machine, uos
from firmware_sim.runtime import environment
from firmware_sim.runtime.board import Board

Touch, SD, CAN = machine.Touch, machine.SD, machine.CAN


def write_environment(flash: Path, values: dict) -> None:
    hidden = flash / ".firmware-sim"
    hidden.mkdir(parents=True, exist_ok=True)
    (hidden / "environment.json").write_text(json.dumps(values))


def card(board: Board) -> Path:
    return board.flash.root / ".firmware-sim" / "sd"


# -- Touch --------------------------------------------------------------------------------------------


def test_touch_arguments_raise_the_firmwares_errors(board: Board) -> None:
    with raises(TypeError, "function takes 1 positional arguments but 0 were given"):
        Touch()
    with raises(ValueError, "invalid pin for touchpad"):
        Touch("P12")  # GPIO 21: no touch pad
    with raises(ValueError, "invalid argument(s) value"):
        Touch("P42")
    pad = Touch("P4")
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        pad.config()
    with raises(TypeError, "can't convert str to int"):
        pad.config("high")
    with raises(TypeError, "function expected at most 2 arguments, got 3"):
        pad.init_value(1, 2)
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        pad.read(1)
    assert not hasattr(pad, "config_threshold")  # the 1.20.2 table has config, read, init_value
    assert Touch.__name__ == "TouchPad"


def test_touch_reads_the_environment_and_keeps_its_first_value(board: Board) -> None:
    pad = Touch("G11")  # G11 is P4, touch pad 3
    assert Touch("P4") is pad
    assert pad.read() == 1000 and pad.init_value() == 1000  # nothing near it
    environment.set("touch", {"P4": 230}, board)
    assert pad.read() == 230
    assert pad.init_value() == 1000
    assert Touch("P4").init_value() == 230  # made again: the value then
    assert pad.init_value(900) is None and pad.init_value() == 900
    assert pad.config(600) is None
    for name in ("P2", "P3", "P6", "P8", "P9", "P10", "P19", "P20", "P23"):
        assert Touch(name).read() == 1000


TOUCH_BUTTON = """\
from machine import Touch
import time

pad = Touch('P4')
threshold = pad.init_value() * 2 // 3
pressed = False
while time.ticks_ms() < 50000:  # board time since boot
    now = pad.read() < threshold
    if now != pressed:
        pressed = now
        print('pressed' if pressed else 'released', pad.read())
    time.sleep_ms(20)
"""


@pytest.mark.process
def test_a_touch_button_script_sees_what_the_test_set(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    # board seconds since boot: the presses come well after the script has started (20 x host time)
    timeline = {"timeline": [[0, 1100], [20, 180], [28, 1100], [36, 150], [44, 1100]], "step": True}
    write_environment(flash, {"touch": {"P4": timeline}})
    result = run_board(flash, TOUCH_BUTTON, scale=20.0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["pressed 180", "released 1100", "pressed 150", "released 1100"]


# -- SD and os.mount ------------------------------------------------------------------------------------


def test_sd_arguments_raise_the_firmwares_errors(board: Board) -> None:
    with raises(OSError, "resource not available"):
        SD(1)
    with raises(TypeError, "can't convert str to int"):
        SD(id="0")
    with raises(TypeError, "extra positional arguments given"):
        SD(0, None, 1)
    sd = SD()
    assert SD(0) is sd
    with raises(TypeError, "function takes 3 positional arguments but 2 were given"):
        sd.readblocks(0)
    with raises(TypeError, "object with buffer protocol required"):
        sd.readblocks(0, b"read-only")
    assert sd.readblocks(0, bytearray(512)) == 1  # raw blocks are not simulated: failure
    assert (sd.ioctl(4, 0), sd.ioctl(5, 0), sd.ioctl(1, 0), sd.ioctl(9, 0)) == (7_744_512, 512, 0, -1)
    environment.set("sd_card", False, board)
    with raises(OSError, "the requested operation failed"):
        SD()


def test_mount_arguments_and_mount_points_as_extmod_vfs(board: Board) -> None:
    sd = SD()
    with raises(TypeError, "function missing 1 required positional arguments"):
        uos.mount(sd)
    with raises(TypeError, "extra positional arguments given"):
        uos.mount(sd, "/sd", True)
    with raises(TypeError, "extra keyword arguments given"):
        uos.mount(sd, "/sd", format=True)
    with raises(TypeError, "can't convert 'int' object to str implicitly"):
        uos.mount(sd, 5)
    with raises(AttributeError, "'int' object has no attribute 'readblocks'"):
        uos.mount(5, "/sd")
    for taken in ("/flash", "/flash/sd"):
        with raises(OSError, "[Errno 1] EPERM"):
            uos.mount(sd, taken)
    uos.mount(sd, "/sd")
    with raises(OSError, "[Errno 1] EPERM"):
        uos.mount(sd, "/sd")
    with raises(OSError, "[Errno 22] EINVAL"):
        uos.umount(sd)  # the table holds the FAT object made around the card
    with raises(OSError, "[Errno 22] EINVAL"):
        uos.umount("/card")
    uos.umount("/sd")
    sd.deinit()
    with raises(OSError, "[Errno 5] EIO"):
        uos.mount(sd, "/sd")
    sd.init()
    uos.mount(sd, "/sd")


def test_the_card_is_a_folder_kept_with_the_flash(board: Board) -> None:
    uos.mount(SD(), "/sd")
    assert uos.listdir("/") == ["flash", "sd"]
    uos.mkdir("/sd/logs")
    with open_on_board(board, "/sd/logs/a.txt", "w") as f:
        f.write("one\n")
    uos.chdir("/sd/logs")
    assert uos.getcwd() == "/sd/logs" and uos.listdir() == ["a.txt"]
    with open_on_board(board, "a.txt", "a") as f:
        f.write("two\n")
    assert (card(board) / "logs" / "a.txt").read_text() == "one\ntwo\n"
    assert uos.stat("/sd")[0] == 0x4000 and uos.stat("/sd/logs/a.txt")[6] == 8
    with raises(OSError, "[Errno 1] EPERM"):
        uos.rename("/sd/logs/a.txt", "/flash/a.txt")  # across volumes
    uos.rename("/sd/logs/a.txt", "/sd/b.txt")
    assert ".firmware-sim" not in uos.listdir("/flash")
    uos.umount("/sd")
    assert uos.getcwd() == "/" and uos.listdir("/") == ["flash"]
    with raises(OSError, "[Errno 2] ENOENT"):
        uos.stat("/sd/b.txt")
    assert (card(board) / "b.txt").exists()


def open_on_board(board: Board, path: str, mode: str):
    return board.flash.open(path, mode)


def test_nothing_leaves_the_card(board: Board, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("host")
    uos.mount(SD(), "/sd")
    os.symlink(outside, card(board) / "away")
    os.symlink(str(outside / "secret.txt"), card(board) / "abs.txt")
    os.symlink("../../main.py", card(board) / "up.py")
    (board.flash.root / "main.py").write_text("print(1)\n")
    for path in ("/sd/away/secret.txt", "/sd/abs.txt", "/sd/up.py", "/sd/../../x"):
        with raises(OSError, "[Errno 2] ENOENT"):
            board.flash.open(path)
    assert "away" not in uos.listdir("/sd")
    with raises(OSError, "[Errno 2] ENOENT"):
        board.flash.open("/flash/.firmware-sim/sd/abs.txt")  # the card is hidden from /flash
    os.symlink("logs", card(board) / "inside")
    (card(board) / "logs").mkdir()
    with board.flash.open("/sd/inside/x.txt", "w") as f:
        f.write("kept")
    assert (card(board) / "logs" / "x.txt").read_text() == "kept"
    assert (outside / "secret.txt").read_text() == "host"


def test_a_card_folder_that_is_a_symlink_is_never_used(board: Board, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, card(board))
    with raises(OSError, "[Errno 20] ENOTDIR"):
        uos.mount(SD(), "/sd")
    assert uos.listdir("/") == ["flash"] and list(outside.iterdir()) == []


def test_readonly_mount_and_soft_reset(board: Board) -> None:
    uos.mount(SD(), "/ro", readonly=True)
    for call in (
        lambda: board.flash.open("/ro/x.txt", "w"),
        lambda: uos.mkdir("/ro/d"),
        lambda: uos.remove("/ro/x.txt"),
    ):
        with raises(OSError, "[Errno 30] EROFS"):
            call()
    assert uos.listdir("/ro") == []
    board.new_session()  # a soft reset empties the mount table
    assert uos.listdir("/") == ["flash"]


SD_LOGGER = """\
import os
import time
from machine import SD

sd = SD()
os.mount(sd, '/sd')
boot = len(os.listdir('/sd'))
with open('/sd/temp-%d.csv' % boot, 'w') as log:
    for i in range(3):
        log.write('%d,%d\\n' % (i, 20 + i))
        time.sleep_ms(10)
print('logged', os.listdir('/sd'))
os.umount('/sd')
"""


@pytest.mark.process
def test_an_sd_logging_script_writes_a_file_the_test_finds(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    first = run_board(flash, SD_LOGGER)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["logged ['temp-0.csv']"]
    assert (flash / ".firmware-sim/sd/temp-0.csv").read_text() == "0,20\n1,21\n2,22\n"
    second = run_board(flash, SD_LOGGER)  # the same flash folder: the card kept its files
    assert second.stdout.splitlines() == ["logged ['temp-0.csv', 'temp-1.csv']"]


# -- CAN ------------------------------------------------------------------------------------------------


def test_can_constructor_arguments_raise_the_firmwares_errors(board: Board) -> None:
    with raises(OSError, "resource not available"):
        CAN(1)
    for bad in (
        {"mode": 5},
        {"baudrate": 2_000_000},
        {"baudrate": 999},
        {"frame_format": 4},
        {"frame_format": -1},
        {"pins": None},
        {"rx_queue_len": 0},
    ):
        with raises(ValueError, "invalid argument(s) value"):
            CAN(0, **bad)
    with raises(ValueError, "requested length 2 but object has length 1"):
        CAN(0, pins=("P22",))
    with raises(ValueError, "invalid argument(s) value"):
        CAN(0, pins=("P22", "P99"))
    with raises(TypeError, "extra keyword arguments given"):
        CAN(0, frames_num=10)  # a later firmware's name: 1.20.2 has rx_queue_len
    with raises(TypeError, "extra positional arguments given"):
        CAN(0, CAN.NORMAL, 500000, CAN.FORMAT_STD)
    with raises(TypeError, "can't convert str to int"):
        CAN(1, mode="normal")  # every argument is converted before the bus is looked at
    can = CAN(0, mode=CAN.SILENT, baudrate=250000, frame_format=CAN.FORMAT_BOTH, rx_queue_len=16)
    assert repr(can) == "CAN(0, mode=1, baudrate=250000, frame_format=FORMAT_BOTH, rx_queue_len=16)"
    assert (
        CAN() is can
        and repr(can) == "CAN(0, mode=0, baudrate=500000, frame_format=FORMAT_STD, rx_queue_len=128)"
    )
    with raises(ValueError, "invalid argument(s) value"):
        can.init(mode=CAN.NORMAL, baudrate=1_500_000)
    assert repr(can).startswith("CAN(0, mode=0, baudrate=500000,")


def test_can_method_arguments_raise_the_firmwares_errors(board: Board) -> None:
    can = CAN(0)
    with raises(ValueError, "invalid message id 2048"):
        can.send(2048, data=b"x")
    with raises(ValueError, "invalid message id -1"):
        can.send(-1, data=b"x")
    with raises(ValueError, "invalid data length 0"):
        can.send(1)
    with raises(ValueError, "invalid data length 9"):
        can.send(1, data=bytes(9))
    with raises(ValueError, "data given for RTR message"):
        can.send(1, data=b"x", rtr=True)
    with raises(TypeError, "object with buffer protocol required"):
        can.send(1, data=[1, 2])
    with raises(TypeError, "'id' argument required"):
        can.send(data=b"x")
    with raises(TypeError, "extra positional arguments given"):
        can.send(1, b"x")
    with raises(ValueError, "invalid filter mode"):
        can.soft_filter(3, [1])
    with raises(ValueError, "between 1 and 32 software filters are possible"):
        can.soft_filter(CAN.FILTER_LIST, [])
    with raises(ValueError, "between 1 and 32 software filters are possible"):
        can.soft_filter(CAN.FILTER_LIST, list(range(33)))
    with raises(TypeError, "object 'int' isn't a tuple or list"):
        can.soft_filter(CAN.FILTER_RANGE, [5])
    with raises(TypeError, "object 'int' isn't a tuple or list"):
        can.soft_filter(CAN.FILTER_LIST, 5)
    with raises(TypeError, "function takes 3 positional arguments but 2 were given"):
        can.soft_filter(CAN.FILTER_LIST)
    with raises(TypeError, "'trigger' argument required"):
        can.callback()
    with raises(TypeError, "can't convert str to float"):
        can.recv(timeout="1")
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        can.events(1)
    assert (CAN.NORMAL, CAN.SILENT, CAN.FORMAT_STD, CAN.FORMAT_EXT, CAN.FORMAT_BOTH) == (0, 1, 1, 2, 3)
    assert (CAN.RX_FRAME, CAN.RX_FIFO_NOT_EMPTY, CAN.RX_FIFO_OVERRUN) == (1, 2, 4)
    assert (CAN.FILTER_LIST, CAN.FILTER_RANGE, CAN.FILTER_MASK) == (0, 1, 2)
    assert not hasattr(can, "hard_filter")  # commented out of the 1.20.2 class table


def test_sent_frames_are_recorded_unless_silent_or_stopped(board: Board) -> None:
    can = CAN(0, pins=("P19", "P20"))
    assert can.send(0x123, data=b"\x01\x02") == 2
    assert can.send(0x12345678, data=0x1FF, extended=True) == 1  # an int is one byte
    assert can.send(7, rtr=True) == 0
    can.init(mode=CAN.SILENT)
    assert can.send(1, data=b"quiet") == 5
    can.init()
    can.deinit()
    assert can.send(1, data=b"off") == 3
    frames = [
        (x["id"], x["data"], x["rtr"], x["extended"], x["pins"]) for x in outputs(board.flash.root, "CAN")
    ]
    assert frames == [
        (0x123, "0102", False, False, ["P19", "P20"]),
        (0x12345678, "ff", False, True, ["P19", "P20"]),
        (7, "", True, False, ["P19", "P20"]),
    ]


def test_received_frames_pass_the_format_and_the_filters(board: Board) -> None:
    can = CAN(0, rx_queue_len=8)
    now = board.clock.elapsed()
    environment.set(
        "can",
        {
            "P23": [
                {"id": 0x100, "data": "0a0b"},
                {"id": 0x100, "data": "0a0b"},  # the same frame twice: received twice
                {"id": 0x1ABCDE, "data": [1], "extended": True},  # FORMAT_STD drops it
                {"id": 0x200, "rtr": True, "data": "ffff"},
                {"t": now + 50, "id": 0x300, "data": "03"},  # 0.5 s of host time from now
            ]
        },
        board,
    )
    first = can.recv()
    assert first == (0x100, b"\n\x0b", False, False) and first.id == 0x100 and first.data == b"\n\x0b"
    assert repr(first) == "(id=256, data=b'\\n\\x0b', rtr=False, extended=False)"
    assert can.recv().id == 0x100
    rtr = can.recv()
    assert (rtr.id, rtr.data, rtr.rtr) == (0x200, b"", True)
    assert can.recv() is None  # timeout 0 by default: 0x300 is not due yet
    late = can.recv(timeout=200)
    assert late is not None and late.id == 0x300 and board.clock.elapsed() >= now + 50
    assert can.recv(timeout=0.05) is None


def test_soft_filters_list_range_and_mask(board: Board) -> None:
    ids = [0x100, 0x101, 0x155, 0x200, 0x2F0, 0x7FF]

    def passing(mode: int, filters: object) -> list[int]:
        can = CAN(0, frame_format=CAN.FORMAT_BOTH)  # init: a fresh queue, no filters
        can.soft_filter(mode, filters)
        environment.set(
            "can", {"P23": [{"t": board.clock.elapsed(), "id": i, "data": "00"} for i in ids]}, board
        )
        got = []
        while (frame := can.recv()) is not None:
            got.append(frame.id)
        return got

    assert passing(CAN.FILTER_LIST, [0x101, 0x200]) == [0x101, 0x200]
    assert passing(CAN.FILTER_RANGE, [(0x100, 0x150), [0x200, 0x2FF]]) == [0x100, 0x101, 0x200, 0x2F0]
    assert passing(CAN.FILTER_MASK, [(0x200, 0x700)]) == [0x200, 0x2F0]
    assert passing(CAN.FILTER_LIST, None) == ids


def test_events_overrun_and_callbacks_in_the_irq_thread(board: Board) -> None:
    can = CAN(0, rx_queue_len=2)
    calls: list[tuple[str, int]] = []
    done = threading.Event()

    def handler(arg: object) -> None:
        calls.append((threading.current_thread().name, can.events()))
        done.set()

    can.callback(trigger=CAN.RX_FIFO_OVERRUN, handler=handler)
    frames = [{"t": board.clock.elapsed() + 0.2, "id": i, "data": "01"} for i in range(3)]
    environment.set("can", {"P23": frames}, board)
    assert done.wait(5), "the handler never ran"
    assert calls == [("IRQs", CAN.RX_FRAME | CAN.RX_FIFO_NOT_EMPTY | CAN.RX_FIFO_OVERRUN)]
    assert [can.recv().id, can.recv().id, can.recv()] == [0, 1, None]  # the third was dropped
    assert can.events() == 0
    can.callback(None)


CAN_NODE = """\
from machine import CAN
import time

can = CAN(mode=CAN.NORMAL, baudrate=500000, pins=('P22', 'P23'))
can.soft_filter(CAN.FILTER_LIST, [0x100, 0x101])
can.send(id=0x7DF, data=bytes([2, 1, 0x0D]))
answered = 0
while answered < 2:
    frame = can.recv(timeout=5)
    if frame is None:
        print('timeout')
        break
    print('got', hex(frame.id), frame.data)
    can.send(id=frame.id + 0x10, data=frame.data[::-1])
    answered += 1
can.deinit()
"""


@pytest.mark.process
def test_a_can_node_sends_and_answers_frames(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    frames = [
        {"t": 0.5, "id": 0x300, "data": "ff"},  # filtered out
        {"t": 1.0, "id": 0x100, "data": "0102"},
        {"t": 1.5, "id": 0x101, "data": [3, 4, 5]},
    ]
    write_environment(flash, {"can": {"P23": frames}})
    start = time.monotonic()
    result = run_board(flash, CAN_NODE, scale=10.0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["got 0x100 b'\\x01\\x02'", "got 0x101 b'\\x03\\x04\\x05'"]
    sent = [(x["id"], x["data"]) for x in outputs(flash, "CAN")]
    assert sent == [(0x7DF, "02010d"), (0x110, "0201"), (0x111, "050403")]
    assert time.monotonic() - start < 30
