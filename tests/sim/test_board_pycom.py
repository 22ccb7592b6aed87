"""The board's ``pycom``, ``gc`` and ``micropython`` modules: in-process unit tests, and the LED
timeline and nvs across resets and runs on a real board process."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import raises, run_board

from firmware_sim import runtime
from firmware_sim.modules import gc, micropython, pycom
from firmware_sim.modules import network as board_network
from firmware_sim.runtime.board import Board
from firmware_sim.runtime.state import BoardState
from network import profile as profiles
from network import wlan_radio

ROOT = Path(__file__).resolve().parents[2]
RED, GREEN, BLUE, WHITE = 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF


def make_board(flash: Path, kind: str = "lopy4") -> Board:
    return Board(BoardState(flash=str(flash), kind=kind, time_scale=100.0))


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    wlan_radio.reset()
    b = make_board(tmp_path / "flash")
    runtime.set_current(b)
    yield b
    runtime.set_current(None)
    wlan_radio.reset()


def reboot(board: Board) -> Board:
    """A new board on the same flash, as after a reset (module state is per board)."""
    fresh = make_board(board.flash.root, board.state.kind)
    runtime.set_current(fresh)
    return fresh


def reset(board: Board) -> Board:
    """``machine.reset()`` without leaving the process: the reset hooks (the bootloader's work), a new
    boot on the same flash, a radio just powered on."""
    board.going_down()
    wlan_radio.reset()
    return reboot(board)


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


# -- the rest of pycom_module_globals_table (modpycom.c, 1.20.2.r6) ------------------------------------

FAILED = "the requested operation failed"
TAKES_0 = "function takes 0 positional arguments but 1 were given"
AT_MOST_1 = "function expected at most 1 arguments, got 2"
BAD_PARTITION = "Error invalid boot partition! or partition already active!"


def test_every_on_boot_setting_persists_and_survives_nvs_erase_all(board: Board) -> None:
    assert pycom.pybytes_on_boot() is True and pycom.smart_config_on_boot() is False
    assert pycom.wdt_on_boot() is False and pycom.pybytes_force_update() is False
    pycom.pybytes_on_boot(False)
    pycom.smart_config_on_boot(1)
    pycom.wdt_on_boot(True)
    pycom.pybytes_force_update("yes")  # mp_obj_is_true
    pycom.wdt_on_boot_timeout(-1)  # a uint32_t: 4294967295 is >= 5000
    pycom.wifi_mode_on_boot(7)  # not a mode: ignored
    pycom.wifi_ssid_ap(b"bytes")  # not a str: ignored
    pycom.nvs_set("k", 1)
    pycom.nvs_erase_all()
    reset(board)
    assert pycom.pybytes_on_boot() is False and pycom.smart_config_on_boot() is True
    assert pycom.wdt_on_boot() is True and pycom.pybytes_force_update() is True
    assert pycom.wdt_on_boot_timeout() == 0xFFFFFFFF
    assert pycom.wifi_mode_on_boot() == 2 and pycom.wifi_ssid_ap() is None


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: pycom.wdt_on_boot(1, 2), TypeError, AT_MOST_1),
        (lambda: pycom.pybytes_on_boot(True, True), TypeError, AT_MOST_1),
        (lambda: pycom.smart_config_on_boot(x=1), TypeError, "function doesn't take keyword arguments"),
        (lambda: pycom.wifi_on_boot(1, 2, 3), TypeError, "function expected at most 2 arguments, got 3"),
        (lambda: pycom.wdt_on_boot_timeout("5s"), TypeError, "can't convert str to int"),
        (lambda: pycom.wifi_mode_on_boot(1.0), TypeError, "can't convert float to int"),
        (lambda: pycom.pybytes_device_token(1), TypeError, TAKES_0),
        (lambda: pycom.pybytes_lte_config("carrier"), TypeError, "extra positional arguments given"),
        (lambda: pycom.pybytes_lte_config(apn="x", pin=1), TypeError, "extra keyword arguments given"),
        (lambda: pycom.sigfox_info("00000000"), TypeError, "extra positional arguments given"),
        (lambda: pycom.sigfox_info(id=12345678), TypeError, "can't convert 'int' object to str implicitly"),
        (lambda: pycom.create_128bit_le_uuid_from_string(), TypeError,
         "function takes 1 positional arguments but 0 were given"),
        (lambda: pycom.ota_start(1), TypeError, TAKES_0),
        (lambda: pycom.ota_write(), TypeError, "function takes 1 positional arguments but 0 were given"),
        (lambda: pycom.ota_write(1234), TypeError, "object with buffer protocol required"),
        (lambda: pycom.ota_finish(now=True), TypeError, "function doesn't take keyword arguments"),
        (lambda: pycom.ota_verify(1), TypeError, TAKES_0),
        (lambda: pycom.ota_slot(1), TypeError, TAKES_0),
        (lambda: pycom.bootmgr(1), TypeError, "extra positional arguments given"),
        (lambda: pycom.bootmgr(boot_partition="ota"), TypeError, "can't convert str to int"),
        (lambda: pycom.bootmgr(boot_partition=2), ValueError, BAD_PARTITION),
        (lambda: pycom.bootmgr(boot_partition=pycom.FACTORY), ValueError, BAD_PARTITION),
        (lambda: pycom.bootmgr(safeboot=2), ValueError, "Error safeboot must be True or False!"),
        (lambda: pycom.bootmgr(safeboot=False), ValueError, "Error safeboot must be True or False!"),
        (lambda: pycom.bootmgr(fs_type=2), ValueError, "Error invalid filesystem type!"),
        (lambda: pycom.diff_update_enabled(1), TypeError, TAKES_0),
    ],
)  # fmt: skip
def test_wrong_arguments_get_the_firmwares_errors(board: Board, call, exc, message) -> None:
    with raises(exc, message):
        call()


def test_pybytes_provisioning_of_a_board_pycom_never_provisioned(board: Board) -> None:
    assert pycom.pybytes_device_token() == "" and pycom.pybytes_mqttServiceAddress() == ""
    assert pycom.pybytes_userId() == "" and pycom.pybytes_network_preferences() == ""
    assert pycom.pybytes_extra_preferences() == ""
    assert pycom.pybytes_lte_config() == (None, None, 1, None, None, False)
    assert pycom.pybytes_lte_config(carrier="standard", cid=1) == (None, None, 1, None, None, False)


def test_sigfox_credentials(board: Board) -> None:
    assert pycom.sigfox_info() is False
    assert pycom.sigfox_info(id="0041e3a5") is True
    assert pycom.sigfox_info() is False  # a PAC and both keys are still missing
    keys = {"pac": "0123456789ABCDEF", "public_key": "0" * 32, "private_key": "a1" * 16}
    assert pycom.sigfox_info(**keys) is True and pycom.sigfox_info() is True
    reset(board)
    assert pycom.sigfox_info() is True
    with raises(ValueError, "Use force option to overwrite existing id!"):
        pycom.sigfox_info(id="00000001")
    with raises(ValueError, "Use force option to overwrite existing private key!"):
        pycom.sigfox_info(private_key="b2" * 16)
    assert pycom.sigfox_info(id="00000001", force=True) is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "123"}, "ID must have length of 8!"),
        ({"id": "1234567G"}, "ID must only contain hexadecimal digits!"),
        ({"pac": "0123"}, "PAC must have length of 16!"),
        ({"pac": "0123456789abcdeX"}, "PAC must only contain hexadecimal digits!"),
        ({"public_key": "0" * 31}, "Public Key must have length of 32!"),
        ({"public_key": "z" * 32}, "Public Key must only contain hexadecimal digits!"),
        ({"private_key": "0" * 33}, "Private Key must have length of 32"),
        ({"private_key": " " * 32}, "Private Key must only contain hexadecimal digits!"),
    ],
)
def test_sigfox_info_argument_errors(board: Board, kwargs: dict, message: str) -> None:
    with raises(ValueError, message):
        pycom.sigfox_info(**kwargs)
    assert pycom.sigfox_info() is False


def test_uuid_from_a_string(board: Board) -> None:
    uuid = pycom.create_128bit_le_uuid_from_string("0123456789abcdef0123456789ABCDEF")
    assert (
        isinstance(uuid, bytearray) and bytes(uuid) == bytes.fromhex("0123456789abcdef0123456789abcdef")[::-1]
    )
    assert bytes(pycom.create_128bit_le_uuid_from_string("12")) == bytes(15) + b"\x12"
    with raises(ValueError, "Input string must not be longer than 32 characters!"):
        pycom.create_128bit_le_uuid_from_string("0" * 33)
    with raises(ValueError, "UUID must only contain hexadecimal digits!"):
        pycom.create_128bit_le_uuid_from_string("12-34")


def board_names(board: Board) -> set[str]:
    runtime.set_current(board)
    return {name for name in dir(pycom.board_module()) if not name.startswith("__")}


def test_the_module_a_script_sees_by_board_kind_and_build(tmp_path: Path, board: Board) -> None:
    names = board_names(board)
    assert {
        "ota_start",
        "ota_write",
        "ota_finish",
        "ota_verify",
        "ota_slot",
        "bootmgr",
        "pulses_get",
    } <= names
    assert {"sigfox_info", "pybytes_on_boot", "smart_config_on_boot", "wdt_on_boot"} <= names
    assert "create_128bit_le_uuid_from_string" in names and "SETTINGS" not in names
    for kind in ("lopy", "gpy", "wipy"):
        assert "sigfox_info" not in board_names(make_board(tmp_path / kind, kind=kind))  # no Sigfox radio
    strict = profiles.by_name("1.20.2.r6")
    previous = profiles.active()
    profiles.activate(strict)
    try:
        names = board_names(board)
    finally:
        profiles.activate(previous)
    assert not names & {"pybytes_on_boot", "pybytes_device_token", "smart_config_on_boot"}  # a plain build
    assert "wifi_on_boot" in names


# -- the boot Wi-Fi (mptask_config_wifi) ------------------------------------------------------------------


def booted_wlan():
    board_network.board_module()  # what `import network` does first on a board
    from network import WLAN

    return WLAN()


def test_a_factory_board_boots_its_own_access_point(board: Board) -> None:
    wlan = booted_wlan()
    assert wlan.mode() == wlan.AP and wlan.ssid() == "lopy4-wlan-0001"  # the MAC's last two bytes
    assert wlan.auth() == (wlan.WPA2, "www.pycom.io") and wlan.channel() == 6
    with raises(OSError, "the requested operation is not possible"):
        wlan.connect("your-ssid", auth=(wlan.WPA2, "your-key"))


def test_station_settings_join_the_network_at_boot(board: Board) -> None:
    pycom.wifi_mode_on_boot(1)
    pycom.wifi_ssid_sta("your-ssid")
    pycom.wifi_pwd_sta("your-key")
    assert booted_wlan().mode() == 2  # this boot read the factory settings
    board = reset(board)
    wlan = booted_wlan()
    assert wlan.mode() == wlan.STA and wlan.isconnected() and wlan.ssid() == "your-ssid"
    pycom.wifi_on_boot(False, True)  # stops the radio now
    assert not wlan.isconnected()
    reset(board)
    assert booted_wlan().mode() == 1 and not booted_wlan().isconnected()  # WLAN() started an idle station
    pycom.wifi_on_boot(True, True)  # starts the boot configuration now
    assert booted_wlan().isconnected()


def test_wifi_mode_none_boots_an_access_point_and_stores_it(board: Board) -> None:
    pycom.wifi_mode_on_boot(0)
    pycom.wifi_ssid_ap("my-ap")
    assert pycom.wifi_mode_on_boot() == 0
    reset(board)
    wlan = booted_wlan()
    assert wlan.mode() == wlan.AP and wlan.ssid() == "my-ap-0001" and wlan.auth() is None  # no key: open
    assert pycom.wifi_mode_on_boot() == 2


# -- firmware slots: bootmgr and the OTA updater ------------------------------------------------------------


def app_image(size: int = 40_000, *, hash_appended: bool = True, load: int = 0x3FFB0000) -> bytes:
    """An ESP32 app image (ESP-IDF's format): a header, one data segment, the checksum, the SHA-256."""
    data = os.urandom(size // 4 * 4)
    header = bytes([0xE9, 1, 2, 0x20]) + struct.pack("<I", 0x40080000) + bytes([0xEE]) + bytes(14)
    header += bytes([1 if hash_appended else 0])
    image = header + struct.pack("<II", load, len(data)) + data
    checksum = 0xEF
    for byte in data:
        checksum ^= byte
    image += bytes(((len(image) + 1 + 15) & ~15) - len(image) - 1) + bytes([checksum])
    return image + (hashlib.sha256(image).digest() if hash_appended else b"")


def write_image(image: bytes, chunk: int = 4096) -> None:
    pycom.ota_start()
    for at in range(0, len(image), chunk):
        pycom.ota_write(image[at : at + chunk])


def test_ota_writes_the_other_slot_and_boots_it(board: Board, capsys) -> None:
    assert pycom.ota_slot() == 0x210000  # an 8 MB board: ota_0 at 2112 KB
    image = app_image()
    write_image(image)
    assert pycom.ota_verify() is True
    pycom.ota_finish()
    assert (
        capsys.readouterr().out
        == "Full Update Image detected. Restart the device to load the new firmware.\n"
    )
    assert pycom.bootmgr()[0] == "Factory"  # as this boot read the boot info
    assert pycom.ota_slot() == 0x210000  # the image waiting for its check
    assert board.flash.private("firmware-ota_0.bin").read_bytes() == image
    board = reset(board)
    assert pycom.bootmgr() == ("ota_0", "FAT", "SafeBoot: False", "Status: Ready")
    assert pycom.ota_slot() == 0x10000 and pycom.ota_verify() is False  # nothing written in this boot
    write_image(app_image(20_000), chunk=1000)  # and back to the factory slot
    pycom.ota_finish()
    reset(board)
    assert pycom.bootmgr()[0] == "Factory" and pycom.ota_slot() == 0x210000


def test_a_4mb_board_and_a_board_switched_off_before_its_reset(tmp_path: Path) -> None:
    runtime.set_current(make_board(tmp_path / "lopy", kind="lopy"))
    try:
        assert pycom.ota_slot() == 0x1C0000  # a 4 MB board: ota_0 at 1792 KB
        write_image(app_image(hash_appended=False))
        pycom.ota_finish()
        reboot(current_board())  # power off and on: the bootloader still checks the new image
        assert pycom.bootmgr() == ("ota_0", "FAT", "SafeBoot: False", "Status: Ready")
    finally:
        runtime.set_current(None)


def current_board() -> Board:
    return runtime.current()


@pytest.mark.parametrize(
    "damage",
    [
        lambda image: image[:-40] + bytes([image[-40] ^ 1]) + image[-39:],  # the checksum byte
        lambda image: image[:100] + bytes([image[100] ^ 1]) + image[101:],  # data: the hash fails
        lambda image: b"\xe8" + image[1:],  # the magic byte
        lambda image: image[: len(image) // 2],  # cut short
    ],
)
def test_a_broken_image_is_refused_at_boot(board: Board, capsys, damage) -> None:
    write_image(damage(app_image()))
    assert pycom.ota_verify() is False
    pycom.ota_finish()
    capsys.readouterr()
    reset(board)
    assert capsys.readouterr().out == (
        "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition\n"
    )
    assert pycom.bootmgr() == ("Factory", "FAT", "SafeBoot: False", "Status: Ready")


def test_a_mapped_segment_must_keep_its_64k_alignment(board: Board) -> None:
    write_image(app_image(load=0x3F400000))  # DROM at a page start, its data 0x20 into the slot
    assert pycom.ota_verify() is False
    write_image(app_image(load=0x3F400020))  # the same offset in the page: the cache can map it
    assert pycom.ota_verify() is True


def test_ota_edge_cases(board: Board, capsys) -> None:
    assert pycom.ota_verify() is False  # nothing started: the updater looks at the bootloader
    pycom.ota_finish()  # nothing started: nothing to do
    assert capsys.readouterr().out == ""
    pycom.ota_start()
    pycom.ota_write(b"BSDIFF40" + bytes(100))
    with raises(OSError, FAILED):
        pycom.ota_finish()
    assert (
        "Differential Update Image detected. This feature is disabled in the build."
        in capsys.readouterr().out
    )
    assert pycom.diff_update_enabled() is False
    reset(board)
    assert pycom.bootmgr()[0] == "Factory"
    pycom.ota_start()
    pycom.ota_write("text is a buffer too")
    pycom.ota_write(memoryview(b"1234"))


def test_safe_boot_request_lasts_one_boot(board: Board) -> None:
    pycom.bootmgr(safeboot=True)  # no reset asked: stored for the next boot
    assert pycom.bootmgr()[2] == "SafeBoot: True"
    board = reset(board)
    assert pycom.bootmgr()[2] == "SafeBoot: True"  # this is the safe boot
    pycom.bootmgr(fs_type=pycom.LittleFS)
    board = reset(board)
    assert pycom.bootmgr() == ("Factory", "LittleFS", "SafeBoot: False", "Status: Ready")


OTA = """\
import machine, pycom
if machine.reset_cause() == machine.PWRON_RESET:
    print(pycom.bootmgr()[0], hex(pycom.ota_slot()))
    pycom.ota_start()
    with open('/flash/app.bin', 'rb') as f:
        while True:
            chunk = f.read(4096)
            if not chunk:
                break
            pycom.ota_write(chunk)
    print('verify', pycom.ota_verify())
    pycom.ota_finish()
    machine.reset()
print(pycom.bootmgr())
print(hex(pycom.ota_slot()))
"""


@pytest.mark.process
def test_ota_update_then_reset_boots_the_other_slot(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "app.bin").write_bytes(app_image(150_000))
    result = run_board(flash, OTA)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Factory 0x210000",
        "verify True",
        "Full Update Image detected. Restart the device to load the new firmware.",
        "('ota_0', 'FAT', 'SafeBoot: False', 'Status: Ready')",
        "0x10000",
    ]


@pytest.mark.process
def test_a_broken_update_boots_the_old_slot_again(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "app.bin").write_bytes(app_image(150_000)[:-1])
    result = run_board(flash, OTA)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "verify False",
        "Full Update Image detected. Restart the device to load the new firmware.",
        "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition",
        "('Factory', 'FAT', 'SafeBoot: False', 'Status: Ready')",
        "0x210000",
    ]


SWITCH = """\
import machine, pycom
if machine.reset_cause() == machine.PWRON_RESET:
    pycom.bootmgr(boot_partition=pycom.OTA_0)
    print('not reached')
print(pycom.bootmgr()[0])
"""


@pytest.mark.process
def test_bootmgr_switches_to_an_empty_slot_and_falls_back(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", SWITCH)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition",
        "Factory",
    ]


WRITE_FIRST = """\
import machine, os, pycom
if 'tried' not in os.listdir('/flash'):
    open('/flash/tried', 'w').close()
    pycom.ota_write(b'0123456789abcdef')
    print('not reached')
print('booted again', machine.reset_cause())
"""


@pytest.mark.process
def test_ota_write_before_ota_start_aborts_the_board(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", WRITE_FIRST)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("abort() was called at PC 0x") and "Rebooting..." in lines
    assert lines[-1] == "booted again 0"  # a panic's software reset reads as a power-on
    assert "pycom.ota_write() without pycom.ota_start() writes the flash at 0x0" in result.stderr


WIFI_ON_BOOT = """\
import machine, pycom
from network import WLAN
wlan = WLAN()
print(wlan.mode(), wlan.ssid(), wlan.isconnected())
if machine.reset_cause() == machine.PWRON_RESET:
    pycom.wifi_mode_on_boot(WLAN.STA)
    pycom.wifi_ssid_sta('your-ssid')
    pycom.wifi_pwd_sta('your-key')
    machine.reset()
"""


@pytest.mark.process
def test_wifi_settings_apply_at_the_next_boot(tmp_path: Path) -> None:
    result = run_board(tmp_path / "flash", WIFI_ON_BOOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["2 lopy4-wlan-0001 False", "1 your-ssid True"]
