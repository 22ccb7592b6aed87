"""How a board finds and runs its files, as MicroPython 1.11 in Pycom 1.20 does: packages without
``__init__.py``, the script's own ``sys.path``, ImportErrors that keep their cause, FAT's case-blind names,
tab indentation, and a boot.py that fails without stopping main.py.

Imports run on an in-process board (never run, never reset); the boot sequence end to end, under
``firmware-sim run`` and on the virtual board.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import serial
from conftest import ROOT, write_tree

from firmware_sim.runtime.board import Board
from firmware_sim.runtime.loader import indent_as_micropython
from firmware_sim.testing import VirtualBoardProcess


def run_main(board: Board, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Put ``files`` on the board's flash, run its main.py, and return what it printed."""
    write_tree(Path(board.state.flash), files)
    board.loader.run("main.py", "main.py")
    return capsys.readouterr().out.splitlines()


# -- packages and sys.path -----------------------------------------------------------------------------


def test_a_lib_folder_without_init_py_is_a_package(board, capsys) -> None:
    # a vendored dependency copied into lib/ as a bare folder (namespace package)
    files = {
        "lib/external/coap_codec.py": "def encode(path):\n    return b'\\x40\\x01' + path.encode()\n",
        "lib/external/retry.py": "ATTEMPTS = 3\n",
        "main.py": (
            "from external import coap_codec\n"
            "import external.retry\n"
            "import external\n"
            "print(coap_codec.encode('temp'))\n"
            "print(external.retry.ATTEMPTS, external.__path__)\n"
        ),
    }
    assert run_main(board, files, capsys) == ["b'@\\x01temp'", "3 /flash/lib/external"]


def test_a_folder_wins_over_a_module_of_the_same_name_in_one_path_entry(board, capsys) -> None:
    # builtinimport.c stat_dir_or_file: the directory is looked for before name.py
    files = {
        "lib/config.py": "WHERE = 'module'\n",
        "lib/config/__init__.py": "WHERE = 'package'\n",
        "main.py": "import config\nprint(config.WHERE)\n",
    }
    assert run_main(board, files, capsys) == ["package"]


def test_a_flash_module_shadows_a_weak_link_but_not_a_built_in_name(board, capsys) -> None:
    # py/builtinimport.c (1.11) looks a weak link (time, json, socket ...) up after the file system:
    # a project's lib/json.py is what `import json` gets; `import ujson` is always the firmware's
    files = {
        "lib/json.py": "def dumps(obj):\n    return 'own json'\n",
        "lib/utime.py": "MINE = True\n",
        "main.py": (
            "import json, ujson, utime, time\n"
            "print(json.dumps(1), ujson.dumps(1))\n"
            "print(hasattr(utime, 'MINE'), time is utime)\n"
        ),
    }
    assert run_main(board, files, capsys) == ["own json 1", "False True"]


def test_module_names_the_firmware_does_not_have_are_import_errors(board, capsys) -> None:
    # no u-prefix fallback in 1.11, no urandom/uzlib in Pycom's build: a CPython habit fails as on the board
    for name in ("collections", "io", "random", "urandom", "usys", "uzlib", "zlib"):
        with pytest.raises(ImportError, match=f"^no module named '{name}'$"):
            run_main(board, {"main.py": f"import {name}\n"}, capsys)
    assert run_main(board, {"main.py": "import ucollections, uio, sys\nprint(sys.__name__)\n"}, capsys) == [
        "sys"
    ]


def test_sys_path_as_the_script_changes_it_is_searched(board, capsys) -> None:
    files = {
        "vendor/umqtt_simple.py": "NAME = 'vendored mqtt'\n",
        "drivers/bme280.py": "NAME = 'drivers/bme280'\n",
        "lib/bme280.py": "NAME = 'lib/bme280'\n",
        "lib/only_in_lib.py": "NAME = 'lib'\n",
        "main.py": (
            "import sys\n"
            "sys.path.append('/flash/vendor')\n"
            "sys.path.insert(0, 'drivers')\n"
            "import umqtt_simple, bme280\n"
            "print(umqtt_simple.NAME, bme280.NAME)\n"
            "sys.path.remove('/flash/lib')\n"
            "try:\n"
            "    import only_in_lib\n"
            "except ImportError as e:\n"
            "    print(e)\n"
        ),
    }
    assert run_main(board, files, capsys) == [
        "vendored mqtt drivers/bme280",
        "no module named 'only_in_lib'",
    ]


# -- ImportError keeps its cause ------------------------------------------------------------------------


def test_an_import_error_inside_a_package_module_is_the_one_raised(board, capsys) -> None:
    files = {
        "lib/sensors/__init__.py": "",
        "lib/sensors/bme680.py": "import smbus2\n",
        "main.py": (
            "try:\n"
            "    from sensors import bme680\n"
            "except ImportError as e:\n"
            "    print(e)\n"
            "try:\n"
            "    from sensors import sht31\n"
            "except ImportError as e:\n"
            "    print(e)\n"
            "import sensors\n"
            "try:\n"
            "    from sensors.__init__ import nothing\n"
            "except ImportError as e:\n"
            "    print(e)\n"
        ),
    }
    # py/runtime.c mp_import_from: a name the package lacks is imported as a submodule, and that import's
    # own error is what the script sees
    assert run_main(board, files, capsys) == [
        "no module named 'smbus2'",
        "no module named 'sensors.sht31'",
        "cannot import name nothing",
    ]


def test_a_name_missing_from_a_module_cannot_be_imported(board, capsys) -> None:
    files = {
        "lib/helpers.py": "def clamp(x):\n    return max(0, x)\n",
        "main.py": "try:\n    from helpers import lerp\nexcept ImportError as e:\n    print(e)\n",
    }
    assert run_main(board, files, capsys) == ["cannot import name lerp"]


# -- FAT names -----------------------------------------------------------------------------------------


def test_flash_names_match_whatever_their_case_as_on_fat(board, capsys) -> None:
    files = {
        "lib/Sensor.py": "NAME = 'Sensor.py'\n",
        "lib/Drivers/LED.py": "NAME = 'Drivers/LED.py'\n",
        "lib/pysense.py": "NAME = 'pysense.py'\n",
        "lib/PySense.py": "NAME = 'PySense.py'\n",  # two spellings only a host folder can hold
        "main.py": (
            "import sensor\n"
            "from drivers import led\n"
            "import PySense\n"
            "print(sensor.NAME, led.NAME, PySense.NAME)\n"
        ),
    }
    assert run_main(board, files, capsys) == ["Sensor.py Drivers/LED.py PySense.py"]


def test_a_case_blind_lookup_stays_inside_the_flash(board, capsys) -> None:
    files = {
        "main.py": (
            "import sys\n"
            "sys.path.append('/FLASH/../..')\n"
            "sys.path.append('/flash/.FIRMWARE-SIM')\n"
            "try:\n"
            "    import etc\n"
            "except ImportError as e:\n"
            "    print(e)\n"
            "try:\n"
            "    import nvs\n"
            "except ImportError as e:\n"
            "    print(e)\n"
        ),
    }
    (Path(board.state.flash) / ".firmware-sim").mkdir(parents=True, exist_ok=True)
    (Path(board.state.flash) / ".firmware-sim" / "nvs.py").write_text("print('hidden file ran')\n")
    assert run_main(board, files, capsys) == ["no module named 'etc'", "no module named 'nvs'"]


# -- tabs ----------------------------------------------------------------------------------------------

TABBED = (
    "class Blinker:\n"
    "\tdef __init__(self, period):\n"
    "\t\tself.period = period\n"
    "\t        self.doc = '''\n"  # a tab and 8 spaces: two tabs' column, on the board
    "\tkept as written\n"
    "'''\n"
    "\n"
    "\tdef times(self, n):\n"
    "\t\tticks = [self.period,\n"
    "\t 2]\n"
    "\t\tif n > 1:\n"
    "\t\t        return ticks * n\n"
    "                return ticks\n"
)


def test_tabs_indent_to_the_next_multiple_of_eight(board, capsys) -> None:
    with pytest.raises(TabError):
        compile(TABBED, "blink.py", "exec")  # CPython refuses what the board runs
    files = {
        "lib/blink.py": TABBED,
        "main.py": (
            "from blink import Blinker\nb = Blinker(5)\nprint(b.times(2), b.times(1), repr(b.doc))\n"
        ),
    }
    assert run_main(board, files, capsys) == ["[5, 2, 5, 2] [5, 2] '\\n\\tkept as written\\n'"]


def test_tab_conversion_keeps_lines_strings_and_continuations() -> None:
    source = b"x = 1\nif x:\n\ty = '\\t'  # \t\n\tz = (1,\n\t\t2) + \\\n\t\t(3,)\nw = '''\n\t'''\n"
    converted = indent_as_micropython(source)
    assert converted.count(b"\n") == source.count(b"\n")
    assert converted == (
        b"x = 1\nif x:\n        y = '\\t'  # \t\n        z = (1,\n\t\t2) + \\\n\t\t(3,)\nw = '''\n\t'''\n"
    )


# -- boot.py that fails ---------------------------------------------------------------------------------


@pytest.mark.process
def test_boot_py_and_main_py_share_main_as_on_the_firmware(board, capsys) -> None:
    # mptask.c runs the frozen _boot.py (import os; from machine import UART), boot.py and main.py in one
    # __main__: a name boot.py made, and a bare os, are there in main.py
    files = {
        "boot.py": "wlan_ssid = 'home'\n",
        "main.py": "print(wlan_ssid, __file__, os.getcwd(), UART.__name__)\n",
    }
    write_tree(Path(board.state.flash), files)
    board.loader.run("boot.py", "boot.py")
    board.loader.run("main.py", "main.py")
    assert capsys.readouterr().out.splitlines() == ["home main.py /flash UART"]


def test_run_prints_a_failing_boot_py_then_runs_main_py(tmp_path: Path, ip: str) -> None:
    project = write_tree(
        tmp_path / "project",
        {
            "boot.py": "import pycom\nprint('boot: configuring wifi')\nimport wifi_secrets\n",
            "main.py": "print('main: sampling')\n",
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--ip", ip, str(project)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.stdout == "boot: configuring wifi\nmain: sampling\n"
    assert done.stderr.splitlines()[-3:] == [
        "Traceback (most recent call last):",
        '  File "boot.py", line 3, in <module>',
        "ImportError: no module named 'wifi_secrets'",
    ]
    assert done.returncode == 1  # the board ran on, but the run was not clean


@pytest.mark.process
def test_virtual_board_prints_a_failing_boot_py_then_runs_main_py(tmp_path: Path) -> None:
    flash = write_tree(
        tmp_path / "flash",
        {"boot.py": "print('boot')\n1 / 0\n", "main.py": "print('main ran')\n"},
    )
    board = VirtualBoardProcess(flash=flash)
    try:
        port = serial.serial_for_url(board.device, baudrate=115200, timeout=0.1)
        try:

            def read_prompt() -> bytes:
                received = b""
                for _ in range(150):
                    received += port.read(4096)
                    if received.endswith(b">>> "):
                        break
                return received

            port.write(b"\r")
            read_prompt()  # the board is up (its first boot's output went nowhere: no one was connected)
            port.write(b"\x04")  # soft reset in the friendly REPL: boot.py, then main.py, once more
            received = read_prompt()
        finally:
            port.close()
    finally:
        board.stop()
    assert (
        b"boot\r\nTraceback (most recent call last):\r\n"
        b'  File "boot.py", line 2, in <module>\r\nZeroDivisionError: divide by zero\r\nmain ran\r\n'
    ) in received
