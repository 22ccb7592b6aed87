"""The board's ``pycom``, ``gc`` and ``micropython`` modules: in-process unit tests, and the LED
timeline and nvs across resets and runs on a real board process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_board

from firmware_sim import runtime
from firmware_sim.modules import gc, micropython, pycom
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState

ROOT = Path(__file__).resolve().parents[2]
RED, GREEN, BLUE, WHITE = 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF


def make_board(flash: Path, kind: str = "lopy4") -> Board:
    return Board(BoardState(flash=str(flash), kind=kind, time_scale=100.0))


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    b = make_board(tmp_path / "flash")
    runtime.set_current(b)
    yield b
    runtime.set_current(None)


def reboot(board: Board) -> Board:
    """A new board on the same flash, as after a reset (module state is per board)."""
    fresh = make_board(board.flash.root, board.state.kind)
    runtime.set_current(fresh)
    return fresh


def timeline(board: Board) -> list[dict]:
    path = board.flash.private("rgbled.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_rgbled_is_refused_while_the_heartbeat_runs(board: Board) -> None:
    assert pycom.heartbeat() is True
    with pytest.raises(OSError, match="^the requested operation is not possible$"):
        pycom.rgbled(RED)
    with pytest.raises(OSError, match="not possible"):
        pycom.rgbled()
    pycom.heartbeat(False)
    assert pycom.heartbeat() is False
    assert pycom.rgbled() == 0
    pycom.rgbled(RED)
    assert pycom.rgbled() == RED


def test_led_timeline_records_each_change_with_board_time(board: Board) -> None:
    pycom.heartbeat(False)
    for color in (RED, RED, GREEN, BLUE):
        pycom.rgbled(color)
        board.clock.sleep(1)  # one board second
    pycom.heartbeat(False)  # switches the LED off, even after rgbled()
    pycom.heartbeat(True)
    entries = timeline(board)
    assert [e["color"] for e in entries] == [0, RED, GREEN, BLUE, 0, pycom.HEARTBEAT_COLOR]
    assert entries[-1]["heartbeat"] is True and all("heartbeat" not in e for e in entries[:-1])
    times = [e["t"] for e in entries]
    assert times == sorted(times)
    assert times[2] - times[1] >= 1 and times[3] - times[2] >= 1


def test_rgbled_argument_errors(board: Board) -> None:
    pycom.heartbeat(False)
    with pytest.raises(TypeError, match="can't convert float to int"):
        pycom.rgbled(1.5)
    with pytest.raises(OverflowError, match="overflow converting long int to machine word"):
        pycom.rgbled(2**40)
    with pytest.raises(TypeError, match="function expected at most 1 arguments, got 2"):
        pycom.rgbled(1, 2)
    pycom.rgbled(-1)
    assert pycom.rgbled() == 0xFFFFFFFF


def test_heartbeat_on_boot_applies_from_the_next_boot(board: Board) -> None:
    assert pycom.heartbeat_on_boot() is True
    pycom.heartbeat_on_boot(False)
    assert pycom.heartbeat() is True  # the running heartbeat goes on
    reboot(board)
    assert pycom.heartbeat() is False and pycom.heartbeat_on_boot() is False
    pycom.rgbled(GREEN)


# -- nvs ---------------------------------------------------------------------------------------------


def test_nvs_values_and_types(board: Board) -> None:
    pycom.nvs_set("count", 10)
    pycom.nvs_set("name", "board-1")
    pycom.nvs_set("raw", b"bytes")
    pycom.nvs_set("neg", -1)
    pycom.nvs_set("big", 2**32 + 5)
    assert pycom.nvs_get("count") == 10
    assert pycom.nvs_get("name") == "board-1"
    assert pycom.nvs_get("raw") == "bytes"  # bytes come back as str
    assert pycom.nvs_get("neg") == 0xFFFFFFFF  # stored as u32
    assert pycom.nvs_get("big") == 5
    pycom.nvs_set("count", "ten")
    assert pycom.nvs_get("count") == "ten"


@pytest.mark.parametrize("value", [1.5, True, None, [1], bytearray(b"x")])
def test_nvs_refuses_other_values(board: Board, value: object) -> None:
    with pytest.raises(ValueError, match="^Value must be string, bytes or integer$"):
        pycom.nvs_set("key", value)


def test_nvs_limits(board: Board) -> None:
    pycom.nvs_set("long", "x" * 1983)
    with pytest.raises(ValueError, match=r"^value too long \(max: 1984\)$"):
        pycom.nvs_set("long", "x" * 1984)
    pycom.nvs_set("fifteen_chars__", 1)
    with pytest.raises(ValueError, match="^Key is too long$"):
        pycom.nvs_set("sixteen_chars___", 1)
    with pytest.raises(TypeError, match="can't convert 'int' object to str implicitly"):
        pycom.nvs_set(5, 1)
    with pytest.raises(TypeError, match="function takes 2 positional arguments but 1 were given"):
        pycom.nvs_set("key")
    with pytest.raises(TypeError, match="function missing 1 required positional arguments"):
        pycom.nvs_get()


def test_nvs_missing_keys_and_erase(board: Board) -> None:
    with pytest.raises(ValueError, match="^No matching object for the provided key$"):
        pycom.nvs_get("nothing")
    assert pycom.nvs_get("nothing", None) is None
    assert pycom.nvs_get("nothing", 7) == 7
    pycom.nvs_set("a", 1)
    pycom.nvs_set("b", 2)
    pycom.nvs_erase("a")
    assert pycom.nvs_get("a", None) is None
    with pytest.raises(KeyError, match="key not found"):
        pycom.nvs_erase("a")
    pycom.wifi_on_boot(False)
    pycom.nvs_erase_all()
    assert pycom.nvs_get("b", None) is None
    assert pycom.wifi_on_boot() is False  # settings are not nvs keys


def test_nvs_persists_in_a_hidden_file(board: Board) -> None:
    pycom.nvs_set("boots", 3)
    assert json.loads(board.flash.private("nvs.json").read_text()) == {"boots": 3}
    with pytest.raises(OSError):
        board.flash.open("/flash/.firmware-sim/nvs.json")
    reboot(board)
    assert pycom.nvs_get("boots") == 3


# -- settings, heap, the module ----------------------------------------------------------------------


def test_boot_settings_persist(board: Board) -> None:
    assert pycom.wifi_on_boot() is True and pycom.lte_modem_en_on_boot() is True
    assert pycom.wifi_mode_on_boot() == 2 and pycom.wifi_ssid_sta() is None
    pycom.wifi_on_boot(False, True)
    pycom.lte_modem_en_on_boot(False)
    pycom.wifi_mode_on_boot(1)
    pycom.wifi_ssid_sta("home")
    pycom.wifi_pwd_sta("secret")
    with pytest.raises(ValueError, match="WDT on boot timeout must be >= 5000 ms"):
        pycom.wdt_on_boot_timeout(1000)
    pycom.wdt_on_boot_timeout(8000)
    reboot(board)
    assert pycom.wifi_on_boot() is False and pycom.lte_modem_en_on_boot() is False
    assert pycom.wifi_mode_on_boot() == 1
    assert (pycom.wifi_ssid_sta(), pycom.wifi_pwd_sta()) == ("home", "secret")
    assert pycom.wdt_on_boot_timeout() == 8000
    pycom.wifi_ssid_sta(None)
    assert pycom.wifi_ssid_sta() is None


def test_free_heap_by_board_kind(tmp_path: Path, board: Board) -> None:
    internal, psram = pycom.get_free_heap()
    assert isinstance(internal, int) and isinstance(psram, int) and psram > 1_000_000
    runtime.set_current(make_board(tmp_path / "lopy", kind="lopy"))
    internal, psram = pycom.get_free_heap()
    assert isinstance(internal, int) and psram == "NO_EXT_RAM"


def test_bootmgr_reports_the_factory_image(board: Board) -> None:
    assert pycom.bootmgr() == ("Factory", "FAT", "SafeBoot: False", "Status: Ready")
    pycom.bootmgr(fs_type=pycom.LittleFS)
    assert pycom.bootmgr()[1] == "LittleFS"
    with pytest.raises(ValueError, match="Error invalid filesystem type!"):
        pycom.bootmgr(fs_type=5)


def test_pycom_board_module(board: Board) -> None:
    module = pycom.board_module()
    assert module.__name__ == "pycom"
    names = {name for name in dir(module) if not name.startswith("__")}
    assert {"heartbeat", "rgbled", "nvs_set", "nvs_get", "nvs_erase", "nvs_erase_all", "FACTORY"} <= names
    assert (module.FACTORY, module.OTA_0) == (0, 1)
    assert not names & {"current", "json", "HEARTBEAT_COLOR"}


# -- gc and micropython ------------------------------------------------------------------------------


def test_gc_figures(tmp_path: Path, board: Board) -> None:
    free, used = gc.mem_free(), gc.mem_alloc()
    assert 2_400_000 < free + used < 2_700_000 and 0 < used < 100_000
    board.clock.sleep(0.5)  # 50 board seconds: a little more allocated
    assert gc.mem_alloc() >= used
    gc.collect()
    assert gc.mem_alloc() <= used + 16
    assert gc.isenabled() is True
    gc.disable()
    assert gc.isenabled() is False
    gc.enable()
    assert gc.threshold() == -1
    gc.threshold(100)
    assert gc.threshold() == 96  # whole 16-byte blocks
    runtime.set_current(make_board(tmp_path / "sipy", kind="sipy"))
    assert gc.mem_free() + gc.mem_alloc() < 70_000
    with pytest.raises(TypeError, match="function takes 0 positional arguments but 1 were given"):
        gc.collect(1)


def test_micropython_functions(board: Board, capsys) -> None:
    assert micropython.const(123) == 123
    assert micropython.opt_level() == 0
    micropython.opt_level(2)
    assert micropython.opt_level() == 2
    micropython.opt_level(0)
    micropython.alloc_emergency_exception_buf(100)
    micropython.heap_lock()
    micropython.heap_unlock()

    def deeper(n: int) -> int:
        return micropython.stack_use() if n == 0 else deeper(n - 1)

    assert deeper(10) > micropython.stack_use()
    micropython.mem_info()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("stack: ") and " out of 11264" in out[0]
    assert out[1].startswith("GC: total: ") and ", used: " in out[1] and ", free: " in out[1]
    assert out[2].startswith(" No. of 1-blocks: ")
    micropython.mem_info(1)
    assert "GC memory layout; from " in capsys.readouterr().out
    micropython.qstr_info()
    assert capsys.readouterr().out.startswith("qstr pool: n_pool=")


def test_kbd_intr_is_kept_on_the_board(board: Board) -> None:
    micropython.kbd_intr(-1)
    assert board.interrupt_char == -1 and board.reset_char == -1
    micropython.kbd_intr(3, 6)
    assert board.interrupt_char == 3 and board.reset_char == 6
    with pytest.raises(TypeError, match="function missing 1 required positional arguments"):
        micropython.kbd_intr()


def test_micropython_module_is_pycoms_build(board: Board) -> None:
    module = micropython.board_module()
    names = {name for name in dir(module) if not name.startswith("__")}
    assert {"const", "mem_info", "qstr_info", "stack_use", "heap_lock", "heap_unlock", "kbd_intr"} <= names
    assert not names & {"schedule", "native", "viper", "asm_xtensa"}  # not in Pycom's build


# -- a real board process ----------------------------------------------------------------------------

LED = """\
import machine, pycom, time
pycom.heartbeat(False)
if machine.reset_cause() == machine.PWRON_RESET:
    for color in (0xff0000, 0x00ff00, 0x0000ff):
        pycom.rgbled(color)
        time.sleep(1)
    machine.reset()
pycom.rgbled(0xffffff)
print('boots', pycom.nvs_get('boots', 0) + 1)
pycom.nvs_set('boots', pycom.nvs_get('boots', 0) + 1)
"""


@pytest.mark.process
def test_led_timeline_across_a_reset_and_runs(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    result = run_board(flash, LED)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "boots 1\n"
    lines = (flash / ".firmware-sim/rgbled.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    # off (heartbeat stopped), red, green, blue, off (reset), off (heartbeat stopped again), white
    assert [e["color"] for e in entries] == [0, RED, GREEN, BLUE, 0, 0, WHITE]
    first_boot = [e["t"] for e in entries[:5]]
    assert first_boot == sorted(first_boot)
    assert all(b - a >= 1 for a, b in zip(first_boot[1:4], first_boot[2:5], strict=True))  # sleep(1)s
    # a new run is a power-on: a fresh timeline; nvs stays
    result = run_board(flash, LED)
    assert result.stdout == "boots 2\n"
    again = (flash / ".firmware-sim/rgbled.jsonl").read_text().splitlines()
    assert len(again) == len(lines)


HEARTBEAT_OFF_ON_BOOT = """\
import machine, pycom
if machine.reset_cause() == machine.PWRON_RESET:
    pycom.heartbeat_on_boot(False)
    print('heartbeat', pycom.heartbeat())
    machine.reset()
print('heartbeat', pycom.heartbeat())
pycom.rgbled(0x123456)
print(hex(pycom.rgbled()))
"""


@pytest.mark.process
def test_heartbeat_on_boot_across_a_reset(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", HEARTBEAT_OFF_ON_BOOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["heartbeat True", "heartbeat False", "0x123456"]
