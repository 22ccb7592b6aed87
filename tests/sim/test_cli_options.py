"""The board options through the command: every bad value or boards file is one line naming the file, the
board and the key (or the flag) and what is expected; the map takes what scripts name.

Most refusals are checked on the command's ``main()`` in this process (a refusal starts no board; a board
that would start fails the test instead); a few go through the real command line to show the same line
reaches the terminal."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout

import pytest
from conftest import ROOT

from firmware_sim.cli import main, options


def sim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "firmware_sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., subprocess.CompletedProcess]:
    """``cli(*args)``: the command's ``main()`` in this process, its exit status and output."""

    def no_board(*args: object, **kwargs: object) -> None:
        raise AssertionError("the options were accepted: a board would have started")

    monkeypatch.setattr("firmware_sim.runtime.boot.boot", no_board)
    monkeypatch.setattr("firmware_sim.children.Children.start", no_board)

    def run(*args: str) -> subprocess.CompletedProcess:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                status = main(list(args))
            except SystemExit as exit:
                status = exit.code
        return subprocess.CompletedProcess(list(args), status, out.getvalue(), err.getvalue())

    return run


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("firmware-sim: error: "), done.stderr
    return lines[0]


# -- firmware-sim up's boards file ----------------------------------------------------------------------

BAD_FILES = [
    ('[[board]]\nname = "a"\npath = "m.py"\ndelay = "x"\n', ["board 'a'", "'delay'", "number of seconds"]),
    ('[[board]]\nname = "a"\npath = "m.py"\nmap = "a=b"\n', ["board 'a'", "'map'", "not a table"]),
    ('[board]\nname = "a"\npath = "m.py"\n', ["[board] is one table", "[[board]]"]),
    ("board = 5\n", ["'board' must be [[board]] tables"]),
    (
        '[[board]]\nname = "a"\npath = "m.py"\n[[board]]\nname = "a"\npath = "m.py"\n',
        ["two boards are named 'a'"],
    ),
    (
        '[[board]]\nname = "a"\npath = "m.py"\nmap = { x = "nosuchboard" }\n',
        ["board 'a'", "'map'", "no board is named 'nosuchboard'", "boards: a"],
    ),
    ('[[board]]\nname = "a"\npath = "m.py"\nip = "10.0.0.1"\n', ["board 'a'", "'ip'", "loopback"]),
    ('[[board]]\nname = "a"\npath = "m.py"\nboard = "esp8266"\n', ["board 'a'", "'board'", "lopy4"]),
    ('[[board]]\nname = "a"\npath = "m.py"\nfirmware = "2.0"\n', ["board 'a'", "'firmware'", "1.20.2.r6"]),
    ('[[board]]\nname = "a"\npath = "m.py"\ntime_scale = 0\n', ["board 'a'", "'time_scale'", "above 0"]),
    ('[[board]]\nname = "a"\npath = "m.py"\ntime_scale = "fast"\n', ["board 'a'", "'time_scale'", "number"]),
    ('[[board]]\nname = "a"\npath = "m.py"\nflash = 3\n', ["board 'a'", "'flash'", "folder"]),
    ('[[board]]\nname = "a"\npath = "nope.py"\n', ["board 'a'", "'path'", "does not exist"]),
    ('[[board]]\nname = "a"\npath = 7\n', ["board 'a'", "'path'", "not a path"]),
    ('[[board]]\nname = 3\npath = "m.py"\n', ["board 1", "'name'"]),
    ('[[board]]\nname = "a"\npath = "m.py"\ncolour = "red"\n', ["board 'a'", "unknown key(s) colour"]),
    ('[[boards]]\nname = "a"\npath = "m.py"\n', ["unknown top-level key(s) boards"]),
    ('[[board]]\nname = "a"\npath = "m.py"\nmap = { "192.168.0.0/24" = "a" }\n', ["'map'", "network"]),
    ("[[board\n", ["not valid TOML"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES, ids=[f"file{i}" for i in range(len(BAD_FILES))])
def test_every_bad_boards_file_is_one_line_naming_file_board_and_key(cli, tmp_path, text, expected) -> None:
    (tmp_path / "m.py").write_text("pass\n")
    path = tmp_path / "boards.toml"
    path.write_text(text)
    line = one_line_error(cli("up", "--timeout", "5", str(path)))
    assert str(path) in line
    for part in expected:
        assert part in line, line


@pytest.mark.process
def test_a_bad_boards_file_through_the_real_command(tmp_path) -> None:
    path = tmp_path / "boards.toml"
    path.write_text('[board]\nname = "a"\npath = "m.py"\n')
    assert "[board] is one table" in one_line_error(sim("up", str(path)))


@pytest.mark.process
def test_every_command_is_in_the_tables_that_load_it_alone() -> None:
    """``firmware-sim CMD`` builds only CMD's parser (its module imported alone): a command missing from
    SIMULATOR_COMMANDS/SERIAL_COMMANDS would not run at all."""
    import argparse

    from firmware_sim import cli

    def commands(parser: argparse.ArgumentParser) -> list[str]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return list(sub.choices)

    assert commands(cli.build_parser()) == [*cli.SIMULATOR_COMMANDS, *cli.SERIAL_COMMANDS]
    for name in cli.SIMULATOR_COMMANDS:
        assert commands(cli.build_parser(name)) == [name]
    for name in cli.SERIAL_COMMANDS:  # the serial runner's commands come together
        assert commands(cli.build_parser(name)) == list(cli.SERIAL_COMMANDS)


def test_run_does_not_load_the_other_commands() -> None:
    code = (
        "import sys; from firmware_sim import cli; cli.build_parser('run'); "
        "print(sorted(m for m in sys.modules if m.startswith('firmware_sim.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "firmware_sim.cli.run" in loaded
    for other in ("cli.up", "cli.multitest", "cli.gateway", "serial.handlers"):
        assert f"firmware_sim.{other}'" not in loaded


def test_up_help_documents_every_key() -> None:
    shown = sim("up", "--help").stdout
    for key in ("name", "path", "board", "ip", "firmware", "map", "flash", "time_scale", "delay"):
        assert f"\n  {key} = " in shown, key


def test_up_keys_are_the_board_options_plus_its_own() -> None:
    from firmware_sim.cli import up

    assert {"name", "path", "delay"} | {option.key for option in options.BOARD_OPTIONS} == up.KEYS


@pytest.mark.process
def test_up_map_by_board_name_and_flash_and_time_scale_keys(tmp_path) -> None:
    (tmp_path / "server.py").write_text(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', 7000))\n"
        "data, peer = s.recvfrom(64)\nprint('got', data)\n"
    )
    (tmp_path / "client.py").write_text(
        "import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for _ in range(20):\n    s.sendto(b'hello', ('server.lan', 7000))\n    time.sleep(0.1)\n"
        "import os\nopen('kept.txt', 'w').write('yes')\n"
    )
    (tmp_path / "boards.toml").write_text(
        '[[board]]\nname = "server"\npath = "server.py"\n\n'
        '[[board]]\nname = "client"\npath = "client.py"\nmap = { "server.lan" = "server" }\n'
        'flash = "client-flash"\ntime_scale = 2\ndelay = 0.3\n'
    )
    done = sim("up", "--timeout", "8", str(tmp_path / "boards.toml"))
    assert "[server] got b'hello'" in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "client-flash" / "kept.txt").read_text() == "yes"


# -- --map and the address rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("192.168.0.1:5683=127.0.0.2", "ports are not mapped"),
        ("192.168.0.0/24=127.0.0.2", "only single addresses are mapped"),
        ("foo=nosuchboard", "not an IP address"),
        ("192.168.0.1=10.0.0.1", "not a loopback address"),
        ("192.168.0.1=127.0.0.2:5683", "ports are not mapped"),
        ("coap://sensor.local/x=127.0.0.2", "map its host alone"),
        ("bad_name!=127.0.0.2", "neither an IP address nor a host name"),
        ("=127.0.0.2", "nothing before '='"),
        ("192.168.0.1", "expected SCRIPT_ADDRESS=LOOPBACK_ADDRESS"),
    ],
)
def test_a_map_entry_that_cannot_work_is_refused_naming_it(cli, tmp_path, entry, expected) -> None:
    script = tmp_path / "main.py"
    script.write_text("pass\n")
    line = one_line_error(cli("run", "--map", entry, str(script)))
    assert "--map" in line and expected in line, line
    if "=" in entry and entry[0] != "=":
        assert entry.split("=")[0] in line


@pytest.mark.process
def test_a_host_name_in_the_map_reaches_the_mapped_board(tmp_path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(20)
        port = server.getsockname()[1]
        script = tmp_path / "main.py"
        script.write_text(
            "import socket\n"
            f"addr = socket.getaddrinfo('Sensor.Example.com', {port})[0][-1]\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.sendto(b'by name', addr)\n"
        )
        done = sim("run", "--map", "sensor.example.com=127.0.0.1", "--timeout", "10", str(script))
        assert done.returncode == 0, done.stderr
        data, _ = server.recvfrom(64)
    assert data == b"by name"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--time-scale", "0"], "--time-scale 0: 0 must be above 0"),
        (["--time-scale", "x"], "--time-scale x: 'x' is not a number"),
        (["--board", "esp8266"], "--board esp8266: 'esp8266' is not a board kind"),
        (["--firmware", "9"], "--firmware 9: '9' is not a firmware"),
        (["--ip", "10.0.0.5"], "only uses loopback addresses"),
        (["--nosuch"], "unrecognized arguments: --nosuch"),
    ],
)
def test_bad_board_options_are_one_line(cli, tmp_path, args, expected) -> None:
    script = tmp_path / "main.py"
    script.write_text("pass\n")
    line = one_line_error(cli("run", *args, str(script)))
    assert expected in line, line


@pytest.mark.process
def test_flash_that_is_a_file_is_refused(tmp_path) -> None:
    script = tmp_path / "main.py"
    script.write_text("pass\n")
    line = one_line_error(sim("run", "--flash", str(script), str(script)))
    assert "--flash" in line and "is a file" in line


@pytest.mark.process
def test_board_options_are_refused_with_port_naming_the_option(tmp_path) -> None:
    script = tmp_path / "main.py"
    script.write_text("pass\n")
    line = one_line_error(sim("run", "--port", "/dev/nosuch", "--time-scale", "5", str(script)))
    assert "--time-scale is for simulated boards" in line
