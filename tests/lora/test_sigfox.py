"""``network.Sigfox`` and ``AF_SIGFOX`` sockets (``network/sigfox.py``): the firmware's arguments, errors
and socket options, uplinks in the board's outputs timeline (peripherals.jsonl, source "Sigfox"), and
downlinks answered from the board's environment.

In-process LoPy4s whose time runs 1000x faster (a Sigfox downlink takes 20 s of board time); a board
script in the shape of Pycom's sigfoxUplink example runs once the board's ``network`` module offers
``Sigfox``.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import in_process_board, outputs, raises, run_board

import network
from firmware_sim.modules.sigfox_board import attach_sigfox
from firmware_sim.runtime import environment
from firmware_sim.runtime.board import Board
from network import host, sigfox
from network.lora.settings import lora_mac
from network.sigfox import SO_BIT, SO_OOB, SO_RX, SO_TX_REPEAT, SOL_SIGFOX, Sigfox, open_socket

ENETDOWN, EMSGSIZE = 115, 122  # the board's (ESP-IDF newlib) numbers


def make_board(tmp_path: Path, kind: str = "lopy4") -> Iterator[Board]:
    with in_process_board(tmp_path / "flash", kind=kind, time_scale=1000.0) as b:
        b.attach()
        attach_sigfox(b)
        yield b
    sigfox.hard_reset()
    host.reset()


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    yield from make_board(tmp_path)


@pytest.fixture
def sipy(tmp_path: Path) -> Iterator[Board]:
    yield from make_board(tmp_path, "sipy")
    sigfox.configure(fsk=False)


def uplinks(board: Board) -> list[dict]:
    return [line for line in outputs(board, "Sigfox") if line["event"] == "uplink"]


@pytest.mark.unit
def test_a_reading_sent_as_in_pycoms_example_is_one_uplink_on_the_timeline(board: Board) -> None:
    sfx = Sigfox(mode=Sigfox.SIGFOX, rcz=Sigfox.RCZ1)
    s = open_socket()
    s.setblocking(True)
    s.setsockopt(SOL_SIGFOX, SO_RX, False)
    before = board.clock.elapsed()
    assert s.send(bytes([0x01, 0x02, 0x03])) == 3
    (line,) = uplinks(board)
    assert line["data"] == "010203" and line["id"] == sfx.id().hex() and line["sequence"] == 1
    assert (line["rcz"], line["frequency"], line["tx_repeat"]) == (1, 868130000, 2)
    assert line["downlink_requested"] is False
    # three frames of 17 bytes at 100 bit/s and two pauses: the send blocked that long in board time
    assert board.clock.elapsed() - before >= 3 * 1.36 + 2 * 0.5
    s.send("Hello")
    assert [u["data"] for u in uplinks(board)] == ["010203", b"Hello".hex()]
    assert uplinks(board)[1]["sequence"] == 2


@pytest.mark.unit
def test_a_downlink_request_is_answered_from_the_environment(board: Board) -> None:
    Sigfox(mode=Sigfox.SIGFOX, rcz=Sigfox.RCZ1)
    environment.set("sigfox", {"downlink": "0011223344556677"}, board=board)
    s = open_socket()
    s.setsockopt(SOL_SIGFOX, SO_RX, True)
    s.send(b"\x2a")
    assert s.recv(4) == bytes.fromhex("00112233")  # the rest waits for the next recv
    assert s.recv(32) == bytes.fromhex("44556677")
    events = [line["event"] for line in outputs(board, "Sigfox")]
    assert events == ["uplink", "downlink"] and uplinks(board)[0]["downlink_requested"] is True
    assert Sigfox().rssi() < -100
    s.setblocking(False)
    assert s.recv(8) == b""  # nothing more: a non-blocking socket returns no bytes
    s.settimeout(0.5)
    with raises(TimeoutError, "timed out"):
        s.recv(8)


@pytest.mark.unit
def test_no_answer_to_a_downlink_request_is_enetdown(board: Board) -> None:
    Sigfox(mode=Sigfox.SIGFOX, rcz=Sigfox.RCZ1)
    s = open_socket()
    s.setsockopt(SOL_SIGFOX, SO_RX, 1)
    before = board.clock.elapsed()
    with pytest.raises(OSError) as caught:
        s.send(b"\x01")
    assert caught.value.args == (ENETDOWN,)
    assert board.clock.elapsed() - before >= 20 + 25  # the whole receive window went by


@pytest.mark.unit
def test_what_the_socket_refuses(board: Board) -> None:
    with raises(OSError, "Network card not available"):
        open_socket()
    Sigfox()
    with raises(OSError, "incorrect socket type"):
        open_socket(2)
    s = open_socket()
    with pytest.raises(OSError) as too_long:
        s.send(bytes(13))
    assert too_long.value.args == (EMSGSIZE,)
    for level, option, value in ((0xFFF, SO_RX, 1), (SOL_SIGFOX, SO_TX_REPEAT, 3), (SOL_SIGFOX, 0x1234, 1)):
        with pytest.raises(OSError) as refused:
            s.setsockopt(level, option, value)
        assert refused.value.args == (errno.EOPNOTSUPP,)
    with raises(TypeError, "function takes 4 positional arguments but 3 were given"):
        s.setsockopt(SOL_SIGFOX, SO_RX)
    s.close()
    with pytest.raises(OSError) as closed:
        s.send(b"x")
    assert closed.value.args == (errno.EBADF,)


@pytest.mark.unit
def test_a_bit_and_an_out_of_band_frame(board: Board) -> None:
    Sigfox()
    s = open_socket()
    s.setsockopt(SOL_SIGFOX, SO_BIT, True)
    s.setsockopt(SOL_SIGFOX, SO_TX_REPEAT, 0)
    s.send("")
    s.setsockopt(SOL_SIGFOX, SO_OOB, True)
    s.send(b"")
    bit, oob = uplinks(board)
    assert (bit["data"], bit["bit"], bit["oob"], bit["tx_repeat"]) == ("", True, False, 0)
    assert oob["oob"] is True and "bit" not in oob


@pytest.mark.unit
def test_a_non_blocking_send_is_queued_and_the_queue_holds_two(board: Board) -> None:
    Sigfox()
    s = open_socket()
    s.setsockopt(SOL_SIGFOX, SO_RX, True)  # each frame then takes 45 s of board time: 45 ms here
    s.setblocking(False)
    assert [s.send(b"a"), s.send(b"b")] == [1, 1]  # returned at once
    with pytest.raises(OSError) as full:
        for _ in range(3):  # the task holds one frame, the queue two
            s.send(b"c")
    assert full.value.args == (errno.EAGAIN,)
    deadline = time.monotonic() + 5
    while len(uplinks(board)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [u["data"] for u in uplinks(board)][:2] == ["61", "62"]


@pytest.mark.unit
def test_rcz2_waits_after_two_frames_as_fcc_rules_say(board: Board) -> None:
    sfx = Sigfox(rcz=Sigfox.RCZ2)
    assert sfx.frequencies() == (902200000, 905200000)
    assert sfx.config() == (0x1, 0x0, 0x0) and sfx.info() == (0, 0b11110000)
    s = open_socket()
    s.setsockopt(SOL_SIGFOX, SO_TX_REPEAT, 0)
    for payload in (b"1", b"2", b"3"):
        s.send(payload)
    times = [u["t"] for u in uplinks(board)]
    assert times[1] - times[0] < 10  # host overheads count 1000-fold in board time
    assert times[2] - times[1] >= 23


@pytest.mark.unit
def test_the_constructor_and_init_check_their_arguments(board: Board) -> None:
    with raises(OSError, "resource not available"):
        Sigfox(id=1)
    with raises(ValueError, "invalid mode"):
        Sigfox(mode=1)  # FSK is the SiPy's only
    with raises(ValueError, "invalid RCZ"):
        Sigfox(rcz=4)
    with raises(TypeError, "extra keyword arguments given"):
        Sigfox(frequency=868000000)
    with raises(TypeError, "can't convert str to int"):
        Sigfox(rcz="RCZ1")
    assert not hasattr(Sigfox, "FSK")
    sfx = Sigfox(mode=Sigfox.SIGFOX, rcz=Sigfox.RCZ3)
    assert Sigfox() is sfx and sfx.frequencies() == (923200000, 922200000)  # no keywords: kept as it is
    sfx.init(rcz=Sigfox.RCZ1)
    assert sfx.frequencies() == (868130000, 869525000) and sfx.config() is None and sfx.info() is None
    with raises(OSError, "configuration not possible for RCZ1"):
        sfx.config((1, 2, 3))


@pytest.mark.unit
def test_identity_and_settings(board: Board) -> None:
    sfx = Sigfox()
    assert len(sfx.id()) == 4 and len(sfx.pac()) == 8 and sfx.mac() == lora_mac() and len(sfx.mac()) == 8
    assert sfx.public_key() is False
    sfx.public_key(True)
    assert sfx.public_key() is True
    sfx.freq_offset(-1000)
    assert sfx.freq_offset() == -1000
    with raises(ValueError, "the freq offset is out of range (-32768 < freq_offset < 32767)"):
        sfx.freq_offset(40000)
    with raises(ValueError, "invalid test mode"):
        sfx.test_mode(6, 0)
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        sfx.id(1)
    sfx.init(rcz=Sigfox.RCZ4)
    with raises(ValueError, "requested length 3 but object has length 2"):
        sfx.config((1, 2))
    sfx.config([0, 0x40000000, 0])
    assert sfx.config() == (0, 0x40000000, 0)


@pytest.mark.unit
def test_fsk_exists_on_the_sipy_only(sipy: Board) -> None:
    sfx = Sigfox(mode=Sigfox.FSK, frequency=868000000)
    with raises(ValueError, "frequency 800000000 out of range"):
        sfx.init(mode=Sigfox.FSK, frequency=800000000)
    with raises(ValueError, "frequency is only valid in FSK mode"):
        sfx.init(mode=Sigfox.SIGFOX, frequency=868000000)
    s = open_socket()
    assert s.send(bytes(64)) == 64  # FSK frames are up to 64 bytes
    (line,) = outputs(sipy, "Sigfox")
    assert line["mode"] == "FSK" and line["frequency"] == 868000000


@pytest.mark.unit
def test_a_soft_reset_powers_the_radio_off(board: Board) -> None:
    Sigfox()
    open_socket()
    board.new_session()
    attach_sigfox(board)
    with raises(OSError, "Network card not available"):
        open_socket()


SCRIPT = """\
from network import Sigfox
import socket
import time

sigfox = Sigfox(mode=Sigfox.SIGFOX, rcz=Sigfox.RCZ1)
s = socket.socket(socket.AF_SIGFOX, socket.SOCK_RAW)
s.setblocking(True)
s.setsockopt(socket.SOL_SIGFOX, socket.SO_RX, False)
for reading in (215, 216):
    s.send(bytes([reading >> 8, reading & 0xFF]))
    time.sleep(600)
print("sent", len(sigfox.id()))
"""


@pytest.mark.process
@pytest.mark.skipif("Sigfox" not in network.__all__, reason="network.Sigfox is not on the board yet")
def test_a_board_script_sends_readings(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    done = run_board(flash, SCRIPT)
    assert done.returncode == 0, done.stderr
    assert "sent 4" in done.stdout
    assert [u["data"] for u in outputs(flash, "Sigfox")] == ["00d7", "00d8"]
