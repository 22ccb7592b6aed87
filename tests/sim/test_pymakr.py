"""A project's Pymakr settings (``pymakr.conf`` of Pymakr 1.x, ``pymakr.json`` of Pymakr 2) choose what
``firmware-sim run PROJECT`` and ``deploy`` put on /flash: ``sync_folder`` is /flash, only
``sync_file_types`` go (unless ``sync_all_file_types``), ``py_ignore`` is left out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from firmware_sim.serial.pymakr import PymakrError, project_files
from firmware_sim.testing import VirtualBoardProcess

MAIN = """\
import os

def tree(path):
    for name in sorted(os.listdir(path)):
        full = path + '/' + name
        if os.stat(full)[0] & 0x4000:
            tree(full)
        else:
            print('FILE', full)

tree('/flash')
import sensors
print('sensors', sensors.READING)
"""


def pycom_project(tmp_path: Path, settings: dict | str, name: str = "pymakr.conf") -> Path:
    """A project laid out as Pymakr users do: the board's files in src/, tests and notes beside them."""
    project = tmp_path / "project"
    src = project / "src"
    (src / "lib").mkdir(parents=True)
    (project / "tests").mkdir()
    (src / "main.py").write_text(MAIN)
    (src / "boot.py").write_text("import pycom\npycom.heartbeat(False)\n")
    (src / "lib" / "sensors.py").write_text("READING = 21\n")
    (src / "lib" / "secret.py").write_text("KEY = 'not for the board'\n")
    (src / "lib" / "wiring.fzz").write_bytes(b"\x00fritzing")
    (src / "notes.md").write_text("# notes\n")
    (src / "config.json").write_text('{"interval": 5}\n')
    (src / "LICENSE").write_text("MIT\n")
    (src / "tests").mkdir()
    (src / "tests" / "test_sensors.py").write_text("import sensors\n")
    (project / "tests" / "test_host.py").write_text("assert True\n")
    text = settings if isinstance(settings, str) else json.dumps(settings, indent=4)
    (project / name).write_text(text)
    return project


def chosen(project: Path) -> list[str]:
    return sorted(rel for _, rel in project_files(project)[1])


PYMAKR1 = {
    "address": "/dev/ttyACM0",
    "username": "micro",
    "password": "python",
    "sync_folder": "src",
    "open_on_start": True,
    "safe_boot_on_upload": False,
    "py_ignore": ["pymakr.conf", ".vscode", "tests", "secret.py"],
    "fast_upload": False,
    "sync_file_types": "py,txt,log,json,xml,html,js,css,mpy",
    "sync_all_file_types": False,
}
ON_BOARD = ["LICENSE", "boot.py", "config.json", "lib/sensors.py", "main.py"]


@pytest.mark.unit
def test_pymakr_conf_selects_folder_types_and_ignores(tmp_path: Path) -> None:
    project = pycom_project(tmp_path, PYMAKR1)
    root, _ = project_files(project)
    assert root == (project / "src").resolve()
    assert chosen(project) == ON_BOARD  # no .md/.fzz, no tests/, no secret.py; LICENSE has no extension


@pytest.mark.unit
def test_file_types_as_a_list_globs_and_all_types(tmp_path: Path) -> None:
    project = pycom_project(
        tmp_path, {"sync_folder": "/src/", "sync_file_types": ["py"], "py_ignore": ["lib/s*"]}
    )
    assert chosen(project) == ["LICENSE", "boot.py", "main.py", "tests/test_sensors.py"]
    (project / "pymakr.conf").write_text(json.dumps({"sync_folder": "src", "sync_all_file_types": True}))
    assert "lib/wiring.fzz" in chosen(project) and "notes.md" in chosen(project)


@pytest.mark.unit
def test_default_file_types_and_whole_project(tmp_path: Path) -> None:
    project = pycom_project(tmp_path, {"py_ignore": ["tests"]})
    assert chosen(project) == [
        "src/LICENSE",
        "src/boot.py",
        "src/config.json",
        "src/lib/secret.py",
        "src/lib/sensors.py",
        "src/main.py",
    ]


@pytest.mark.unit
def test_pymakr2_json(tmp_path: Path) -> None:
    project = pycom_project(
        tmp_path, {"name": "weather", "dist_dir": "src", "py_ignore": ["*.md", "tests"]}, "pymakr.json"
    )
    assert chosen(project) == [
        "LICENSE",
        "boot.py",
        "config.json",
        "lib/secret.py",
        "lib/sensors.py",
        "lib/wiring.fzz",
        "main.py",
    ]


@pytest.mark.unit
def test_no_pymakr_file_sends_everything(tmp_path: Path) -> None:
    project = pycom_project(tmp_path, {})
    (project / "pymakr.conf").unlink()
    assert "notes.md" not in chosen(project) and "src/notes.md" in chosen(project)
    assert "tests/test_host.py" in chosen(project)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"sync_folder": "src",', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"sync_folder": "nowhere"}', 'sync_folder "nowhere" is not a folder inside the project'),
        ('{"sync_folder": ".."}', 'sync_folder ".." is not a folder inside the project'),
        ('{"sync_file_types": 3}', "sync_file_types must be a list"),
        ('{"py_ignore": {"a": 1}}', "py_ignore must be a list"),
    ],
)
def test_malformed_pymakr_conf(tmp_path: Path, text: str, said: str) -> None:
    project = pycom_project(tmp_path, text)
    with pytest.raises(PymakrError) as raised:
        project_files(project)
    assert str(raised.value).startswith(f"{project / 'pymakr.conf'}: {said}")
    assert " — " in str(raised.value)  # and the fix


def sim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "firmware_sim", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def flash_files(flash: Path) -> list[str]:
    """The board's files (not the simulator's own state under /flash/.firmware-sim)."""
    found = (p.relative_to(flash).as_posix() for p in flash.rglob("*") if p.is_file())
    return sorted(rel for rel in found if not rel.startswith(".firmware-sim/"))


@pytest.mark.process
def test_run_puts_only_the_sync_folder_selection_on_flash(tmp_path: Path) -> None:
    project = pycom_project(tmp_path, PYMAKR1)
    flash = tmp_path / "flash"
    flash.mkdir()
    done = sim("run", "--flash", str(flash), "--timeout", "10", str(project))
    assert done.returncode == 0, done.stderr
    assert [line[5:] for line in done.stdout.splitlines() if line.startswith("FILE ")] == [
        f"/flash/{rel}" for rel in ON_BOARD
    ]
    assert "sensors 21" in done.stdout
    assert set(ON_BOARD) <= set(flash_files(flash))
    assert not {"lib/secret.py", "notes.md", "pymakr.conf", "src/main.py"} & set(flash_files(flash))


@pytest.mark.process
def test_run_rejects_a_malformed_pymakr_conf_in_one_line(tmp_path: Path) -> None:
    project = pycom_project(tmp_path, '{"sync_folder": "src", "py_ignore": ["tests",]}')
    done = sim("run", "--timeout", "5", str(project))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pymakr.conf: not valid JSON" in lines[0], done.stderr
    assert "firmware-sim: error:" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.process
def test_deploy_sends_only_the_selection(tmp_path: Path) -> None:
    project = pycom_project(tmp_path, PYMAKR1)
    flash = tmp_path / "flash"
    flash.mkdir()
    board = VirtualBoardProcess("--socket", "127.0.0.1:0", flash=flash, cwd=ROOT)
    try:
        before = set(flash_files(flash))  # what a fresh virtual board has
        done = sim("deploy", "--port", board.port, "--timeout", "10", str(project), timeout=60)
        assert done.returncode == 0, done.stderr
        assert "sensors 21" in done.stdout
        assert f"deploy: sent {len(ON_BOARD)} files" in done.stderr
        assert set(flash_files(flash)) - before == set(ON_BOARD) - before
        assert not {"lib/secret.py", "notes.md", "pymakr.conf", "src/main.py", "tests/test_sensors.py"} & set(
            flash_files(flash)
        )
        broken = sim("deploy", "--port", board.port, str(pycom_project(tmp_path / "b", '{"sync_folder": 1}')))
        assert broken.returncode == 2 and "sync_folder must be a string" in broken.stderr, broken.stderr
    finally:
        board.stop()
