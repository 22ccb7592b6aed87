"""The serial runner (firmware_sim.serial): the REPL protocol byte by byte against scripted peers on a
pseudo-terminal, then every command against the virtual board over a pty and over socket://, with
and without raw-paste, and the faults (a silent board, garbage, a reset, a port that disappears).

Every wait is bounded; everything is loopback; flashes are tmp_path folders, ports ephemeral.
"""

from __future__ import annotations

import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_sim.serial import (
    BoardError,
    BoardReset,
    BoardTimeout,
    ConnectError,
    Interrupted,
    PortGone,
    ProgramTimeout,
    ReplSession,
    check_on_this_machine,
    select_auto,
)
from firmware_sim.serial.ports import describe
from firmware_sim.testing import VirtualBoardProcess

RAW = b"raw REPL; CTRL-B to exit\r\n>"
BANNER = (
    b"Pycom MicroPython 1.20.2.r6 [v1.11-abc] on 2021-10-28; LoPy4 with ESP32\r\n"
    b'Type "help()" for more information.\r\n'
)

# -- a scripted peer on a pty ------------------------------------------------------------------------


class Peer:
    """The board side of a pty, driven by a script function run in a thread: ``expect`` bytes (in
    order, anything before them is kept in ``skipped``), ``send`` bytes. ``received`` logs all input."""

    def __init__(self, script: Callable[[Peer], None]) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.received = bytearray()
        self._pending = bytearray()
        self.skipped: list[bytes] = []
        self.error: BaseException | None = None
        self.closed = False
        self._script = script
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._script(self)
        except BaseException as err:  # reported by finish()
            self.error = err

    def _read(self, timeout: float) -> None:
        import select

        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            self.received += data
            self._pending += data

    def expect(self, data: bytes, timeout: float = 5.0) -> bytes:
        end = time.monotonic() + timeout
        while data not in self._pending:
            if time.monotonic() > end:
                raise AssertionError(f"peer: expected {data!r}, got {bytes(self._pending)!r}")
            self._read(0.02)
        i = self._pending.index(data)
        self.skipped.append(bytes(self._pending[:i]))
        del self._pending[: i + len(data)]
        return data

    def read(self, n: int, timeout: float = 5.0) -> bytes:
        end = time.monotonic() + timeout
        while len(self._pending) < n:
            if time.monotonic() > end:
                raise AssertionError(f"peer: expected {n} bytes, got {bytes(self._pending)!r}")
            self._read(0.02)
        data = bytes(self._pending[:n])
        del self._pending[:n]
        return data

    def quiet_for(self, seconds: float) -> bytes:
        """Read for ``seconds``; what came."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._read(0.02)
        data = bytes(self._pending)
        self._pending.clear()
        return data

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def hang_up(self) -> None:
        """The board disappears: both ends of the pty close."""
        self.closed = True
        os.close(self.master)
        os.close(self.slave)

    def finish(self) -> None:
        self.thread.join(10)
        assert not self.thread.is_alive(), "peer script did not finish"
        if not self.closed:
            os.close(self.master)
            os.close(self.slave)
        if self.error is not None:
            raise self.error


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[Peer], None]], Peer]]:
    made: list[Peer] = []

    def make(script: Callable[[Peer], None]) -> Peer:
        p = Peer(script)
        made.append(p)
        return p

    yield make
    for p in made:
        if p.thread.is_alive():
            p.thread.join(10)
        if not p.closed:
            for fd in (p.master, p.slave):
                try:
                    os.close(fd)
                except OSError:
                    pass


def enter_raw(p: Peer, soft_reset: bool = False) -> None:
    """The board side of ReplSession.enter_raw_repl (spec §1.2)."""
    p.expect(b"\r\x03\x03")
    p.send(b"\r\n>>> \r\n>>> \r\n>>> ")
    p.expect(b"\r\x01")
    p.send(b"\r\n" + RAW)
    if soft_reset:
        p.expect(b"\x04")
        p.send(b"OK\r\nPYB: soft reboot\r\nboot ran\r\n")
        p.send(RAW)


def leave_raw(p: Peer) -> None:
    p.expect(b"\r\x02")
    p.send(b"\r\n" + BANNER + b">>> ")


def test_raw_paste_exec_bytes_as_the_spec_shows(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p, soft_reset=True)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        assert p.read(len(b"print(1+1)\x04")) == b"print(1+1)\x04"
        p.send(b"\x04")
        p.send(b"2\r\n\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        board.enter_raw_repl(soft_reset=True)
        assert board.boot_output == b"boot ran\r\n"
        assert board.exec("print(1+1)") == b"2\r\n"
        assert board.use_raw_paste is True
    p.finish()
    assert p.received.startswith(b"\r\x03\x03\r\x01\x04\x05A\x01print(1+1)\x04")


def test_pycom_firmware_falls_back_to_standard_raw_mode(peer) -> None:
    """Pycom 1.20: the raw-paste request resets the raw REPL (the banner comes back): the host reads it,
    then sends in standard raw mode (code, Ctrl-D, ``OK``) and never asks again on this connection."""

    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(RAW)
        p.expect(b"print(1+1)\x04")
        p.send(b"OK2\r\n\x04\x04>")
        p.expect(b"x = 5\x04")  # straight away: no second raw-paste request
        p.send(b"OK\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        board.enter_raw_repl()
        assert board.exec("print(1+1)") == b"2\r\n"
        assert board.use_raw_paste is False
        assert board.exec("x = 5") == b""
    p.finish()
    assert b"\x05" not in p.received[p.received.index(b"print(1+1)") :]


def test_raw_paste_refused_with_r0(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x00")
        p.expect(b"print(3)\x04")
        p.send(b"OK3\r\n\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        assert board.exec("print(3)") == b"3\r\n"
    p.finish()


def test_standard_raw_mode_sends_256_byte_pieces(peer) -> None:
    code = ("x = 1\n" * 100).encode()  # 600 bytes

    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(RAW)
        p.expect(code + b"\x04")
        p.send(b"OK\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        board.exec(code)
    p.finish()


def test_raw_paste_flow_control_never_exceeds_the_window(peer) -> None:
    """Window 16: the host may have at most the initial two windows in flight, then one window per
    ``\\x01`` the board sends."""
    code = b"a = '" + b"x" * 100 + b"'\n"

    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x10\x00\x01")  # window 16 + one grant = 32 bytes allowed
        got = p.read(32)
        assert p.quiet_for(0.2) == b"", "sent beyond the window"
        while len(got) < len(code):
            p.send(b"\x01")
            piece = p.read(min(16, len(code) - len(got)))
            got += piece
            if len(got) < len(code):
                assert p.quiet_for(0.05) == b"", "sent beyond the window"
        assert got == code
        p.expect(b"\x04")
        p.send(b"\x04\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        board.exec(code)
    p.finish()


def test_raw_paste_abort_from_the_board(peer) -> None:
    """The board sends ``\\x04`` mid-data (a syntax error): the host answers ``\\x04`` and reads the
    error sections."""

    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x08\x00\x01")
        p.read(16)
        p.send(b"\x04")
        p.expect(b"\x04")
        p.send(b"\x04Traceback (most recent call last):\r\nSyntaxError: invalid syntax\r\n\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board, pytest.raises(BoardError) as info:
        board.exec(b"def f(:\n" + b"  pass\n" * 20)
    p.finish()
    assert info.value.exc_type == "SyntaxError"


def test_remote_exception_keeps_the_traceback(peer) -> None:
    tb = (
        b"Traceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"OSError: [Errno 2] ENOENT\r\n"
    )

    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"\x04")
        p.send(b"\x04partial\r\n\x04" + tb + b"\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board, pytest.raises(BoardError) as info:
        board.exec("open('nope')")
    p.finish()
    err = info.value
    assert err.exc_type == "OSError" and err.errno == 2 and err.errno_name == "ENOENT"
    assert err.output == b"partial\r\n"
    assert 'File "<stdin>"' in err.traceback


def test_system_exit_soft_reboot_is_followed(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(RAW)
        p.expect(b"raise SystemExit\x04")
        p.send(b"OK\x04\x04PYB: soft reboot\r\n> boot says\r\n" + RAW)
        p.expect(b"print(2)\x04")
        p.send(b"OK2\r\n\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        board.exec("raise SystemExit")
        assert board.exec("print(2)") == b"2\r\n"
    p.finish()


def test_silent_board_gives_a_connect_error_within_the_deadline(peer) -> None:
    p = peer(lambda p: p.quiet_for(3))
    start = time.monotonic()
    with pytest.raises(ConnectError) as info, ReplSession(p.path, timeout=0.7) as board:
        board.enter_raw_repl()
    assert time.monotonic() - start < 3
    assert info.value.exit_code == 2
    assert "raw REPL" in str(info.value) and " — " in str(info.value)
    p.finish()


def test_a_board_still_booting_gets_asked_again(peer) -> None:
    """The first Ctrl-C/Ctrl-A are lost (the board was rebooting): the host asks again within its deadline,
    this time also leaving paste/raw-paste mode (Ctrl-C, Ctrl-B)."""

    def script(p: Peer) -> None:
        p.expect(b"\r\x03\x03")
        p.expect(b"\r\x01")  # lost
        p.expect(b"\x03\x03\r\x02", timeout=5)
        p.send(b"\r\n" + BANNER + b">>> ")
        p.expect(b"\r\x01")
        p.send(b"\r\n" + RAW)
        leave_raw(p)

    p = peer(script)
    start = time.monotonic()
    with ReplSession(p.path, timeout=5) as board:
        board.enter_raw_repl()
        assert board.in_raw
    assert 1.5 < time.monotonic() - start < 5
    p.finish()


def test_garbage_before_the_raw_banner_and_between_commands(peer) -> None:
    def script(p: Peer) -> None:
        p.expect(b"\r\x03\x03")
        p.send(b"\xff\x00garbage>>> \x1b[0m")
        p.expect(b"\r\x01")
        p.send(b"\x13\x91noise R\x02" + RAW)  # noise that looks almost like protocol
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"print(1)\x04")
        p.send(b"\x041\r\n\x04\x04>")
        p.send(b"late garbage \xfe")  # noise between commands: drained before the next one
        time.sleep(0.2)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"print(2)\x04")
        p.send(b"\x042\r\n\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        assert board.exec("print(1)") == b"1\r\n"
        time.sleep(0.3)
        assert board.exec("print(2)") == b"2\r\n"
    p.finish()


def test_a_board_in_friendly_mode_mid_session_is_resynced(peer) -> None:
    """Something knocked the board out of the raw REPL: the raw-paste request lands in the friendly
    REPL (paste mode). The host notices, re-enters the raw REPL and asks again."""

    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== A")
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"print(1)\x04")
        p.send(b"\x041\r\n\x04\x04>")
        leave_raw(p)

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board:
        board.enter_raw_repl()
        assert board.exec("print(1)") == b"1\r\n"
    p.finish()


def test_board_reset_during_exec_is_a_clear_error(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"\x04")
        p.send(b"\x04working\r\n")
        time.sleep(0.1)
        p.send(b"ets Jun  8 2016 00:22:57\r\n\r\nrst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n")
        p.quiet_for(0.5)

    p = peer(script)
    seen = bytearray()
    start = time.monotonic()
    with ReplSession(p.path, timeout=3) as board, pytest.raises(BoardReset) as info:
        board.run("while True: pass", on_output=seen.extend)
    assert time.monotonic() - start < 3
    assert b"working" in seen and b"rst:0xc" in seen
    assert "restarted" in str(info.value)
    p.finish()


def test_port_disappears_mid_exec(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"\x04")
        p.send(b"\x04")
        time.sleep(0.2)
        p.hang_up()

    p = peer(script)
    start = time.monotonic()
    with ReplSession(p.path, timeout=3) as board, pytest.raises(PortGone) as info:
        board.run("while True: pass")
    assert time.monotonic() - start < 3
    assert "disappeared" in str(info.value)
    p.finish()


def test_silent_board_during_snippet_times_out(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"\x04")
        p.quiet_for(1.5)

    p = peer(script)
    start = time.monotonic()
    with ReplSession(p.path, timeout=0.5) as board, pytest.raises(BoardTimeout):
        board.exec("import time\ntime.sleep(100)")
    assert time.monotonic() - start < 2
    p.finish()


def test_ctrl_c_on_the_host_interrupts_the_board(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"\x04")
        p.send(b"\x04tick\r\n")
        p.expect(b"\x03")
        p.send(b"\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04>")
        leave_raw(p)

    def on_output(data: bytes) -> None:
        if b"tick" in data:
            raise KeyboardInterrupt

    p = peer(script)
    with ReplSession(p.path, timeout=3) as board, pytest.raises(Interrupted):
        board.run("while True: print('tick')", on_output=on_output)
    p.finish()


def test_program_timeout_stops_it_with_ctrl_c(peer) -> None:
    def script(p: Peer) -> None:
        enter_raw(p)
        p.expect(b"\x05A\x01")
        p.send(b"R\x01\x80\x00\x01")
        p.expect(b"\x04")
        p.send(b"\x04")
        p.expect(b"\x03", timeout=5)
        p.send(b"\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04>")
        leave_raw(p)

    p = peer(script)
    start = time.monotonic()
    with ReplSession(p.path, timeout=3) as board, pytest.raises(ProgramTimeout):
        board.run("while True: pass", timeout=0.5)
    assert 0.4 < time.monotonic() - start < 3
    p.finish()


# -- port selection -----------------------------------------------------------------------------------


class FakePort:
    def __init__(
        self, device: str, vid: int | None = None, pid: int | None = None, manufacturer=None
    ) -> None:
        self.device = device
        self.vid = vid
        self.pid = pid
        self.serial_number = "Py123" if vid else None
        self.manufacturer = manufacturer
        self.product = None


def test_auto_picks_the_one_pycom_board() -> None:
    ports = [
        FakePort("/dev/ttyS0"),
        FakePort("/dev/ttyACM0", 0x04D8, 0xF012),
        FakePort("/dev/ttyUSB0", 0x10C4, 0xEA60),
    ]
    assert select_auto(ports) == "/dev/ttyACM0"
    assert "[Pycom: Pysense]" in describe(ports[1])
    assert describe(ports[1]).startswith("/dev/ttyACM0 Py123 04d8:f012")


def test_auto_refuses_several_or_none() -> None:
    two = [FakePort("/dev/ttyACM0", 0x04D8, 0xEF98), FakePort("/dev/ttyACM1", 0x04D8, 0xF013)]
    with pytest.raises(ConnectError) as info:
        select_auto(two)
    assert "2 Pycom boards" in str(info.value) and "/dev/ttyACM1" in str(info.value)
    with pytest.raises(ConnectError) as info:
        select_auto([FakePort("/dev/ttyUSB0", 0x10C4, 0xEA60)])
    assert "no Pycom board" in str(info.value) and "--port /dev/ttyUSB0" in str(info.value)
    with pytest.raises(ConnectError) as info:
        select_auto([FakePort("/dev/ttyS0")])
    assert "no Pycom board" in str(info.value) and "--port" in str(info.value)
    assert info.value.exit_code == 2


# -- socket:// and rfc2217:// stay on this machine unless --allow-lan ---------------------------------

LAN_REFUSAL = (
    "is not on this machine: the serial runner only connects to loopback unless you pass --allow-lan"
)
NOT_HERE = [
    "socket://192.0.2.1:23",  # TEST-NET-1: never routed; and nothing is sent anyway
    "rfc2217://192.0.2.1:2217",
    "socket://[2001:db8::1]:23",
    "socket://0.0.0.0:23",
    "SOCKET://198.51.100.7:23",
]
NAMED = ["socket://board.example:23", "rfc2217://localhost.example:2217", "socket://127.0.0.1.example:23"]


@pytest.fixture
def no_network(monkeypatch) -> list[object]:
    """Every connection attempt and host name lookup is recorded and fails at once: nothing is sent."""
    attempts: list[object] = []

    def refuse(what: object) -> None:
        attempts.append(what)
        raise OSError(101, "Network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse(address))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: refuse(address))
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(address))
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: refuse(host))
    monkeypatch.setattr(socket, "gethostbyname", lambda host: refuse(host))
    return attempts


def _command(name: str, port: str, tmp_path: Path) -> list[str]:
    """``firmware-sim NAME --port PORT ...`` with valid local arguments."""
    script = tmp_path / "script.py"
    script.write_text("print(1)\n")
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "main.py").write_text("print(1)\n")
    rest = {
        "exec": ["print(1)"],
        "run": [str(script)],
        "put": [str(script)],
        "get": ["/flash/main.py", str(tmp_path / "got.py")],
        "ls": [],
        "rm": ["/flash/x.py"],
        "reset": [],
        "deploy": [str(project)],
    }[name]
    return [name, "--port", port, *rest]


COMMANDS = ["exec", "run", "put", "get", "ls", "rm", "reset", "deploy"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("port", NOT_HERE[:2])
def test_a_lan_port_is_refused_before_connecting(command: str, port: str, tmp_path, no_network, capsys):
    from firmware_sim.cli import main

    start = time.monotonic()
    rc = main(_command(command, port, tmp_path))
    err = capsys.readouterr().err
    assert rc == 2
    assert err == f"firmware-sim: error: {port} {LAN_REFUSAL}\n"
    assert no_network == []  # refused before any connection or lookup
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("port", NOT_HERE + NAMED)
def test_non_loopback_addresses_and_host_names_are_refused(port: str, no_network, capsys) -> None:
    from firmware_sim.serial.__main__ import main

    assert main(["ls", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and port in err and "--allow-lan" in err and "loopback" in err
    assert no_network == []


@pytest.mark.parametrize("command", COMMANDS)
def test_allow_lan_lets_every_command_try_the_lan(command: str, tmp_path, no_network, capsys) -> None:
    from firmware_sim.cli import main

    rc = main([*_command(command, "socket://192.0.2.1:23", tmp_path), "--allow-lan"])
    err = capsys.readouterr().err
    assert rc == 2 and "could not open socket://192.0.2.1:23" in err, err
    assert no_network == [("192.0.2.1", 23)]  # it tried (and the test stopped it before any packet)


@pytest.mark.parametrize(
    "port",
    [
        "socket://127.0.0.1:9",
        "socket://127.9.8.7:9",
        "socket://[::1]:9",
        "socket://localhost:9",
        "rfc2217://LOCALHOST:9",
        "socket://[::ffff:127.0.0.1]:9",
        "/dev/ttyACM0",
        "COM3",
        "loop://",
    ],
)
def test_loopback_and_device_ports_need_no_opt_in(port: str) -> None:
    check_on_this_machine(port)  # no error, and nothing is looked up


def test_the_python_api_refuses_a_lan_port_unless_allowed(no_network) -> None:
    with pytest.raises(ConnectError) as info:
        ReplSession("socket://192.0.2.1:23").open()
    assert info.value.exit_code == 2 and str(info.value) == f"socket://192.0.2.1:23 {LAN_REFUSAL}"
    assert no_network == []
    with pytest.raises(ConnectError) as info:
        ReplSession("socket://192.0.2.1:23", allow_lan=True).open()
    assert "could not open socket://192.0.2.1:23" in str(info.value)
    assert no_network == [("192.0.2.1", 23)]  # allowed: it tried (stopped by the test before any packet)


# -- the virtual board -----------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
RUNNER = [sys.executable, "-m", "firmware_sim.serial"]


class RunnerBoard(VirtualBoardProcess):
    """``firmware-sim board`` on a pty or a loopback socket, /flash in a tmp folder, stderr in board.log;
    ``freeze()`` stops it answering, ``kill()`` makes the port vanish, ``close()`` ends it."""

    def __init__(self, tmp: Path, kind: str, raw_paste: bool) -> None:
        self.flash = tmp / "flash"
        self.flash.mkdir(parents=True, exist_ok=True)
        self.raw_paste = raw_paste
        args = ["--pty"] if kind == "pty" else ["--socket", "127.0.0.1:0"]
        args += ["--raw-paste"] if raw_paste else []
        try:
            super().__init__(*args, flash=self.flash, cwd=ROOT, stderr=tmp / "board.log")
        except RuntimeError as err:
            pytest.fail(f"the virtual board did not print its port: {err} {(tmp / 'board.log').read_text()}")

    def close(self) -> None:
        self.stop()


@pytest.fixture(
    params=[("pty", False), ("pty", True), ("socket", False), ("socket", True)],
    ids=["pty", "pty-rawpaste", "socket", "socket-rawpaste"],
)
def vboard(request, tmp_path: Path) -> Iterator[RunnerBoard]:
    board = RunnerBoard(tmp_path, *request.param)
    yield board
    board.close()


@pytest.fixture(params=["pty", "socket"])
def vboard_any(request, tmp_path: Path) -> Iterator[RunnerBoard]:
    """The transports, Pycom 1.20 behaviour (no raw-paste)."""
    board = RunnerBoard(tmp_path, request.param, False)
    yield board
    board.close()


def runner(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The runner's command line as a user runs it; stdout/stderr as text."""
    proc = subprocess.run(
        [*RUNNER, *args],
        cwd=ROOT,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out = proc.stdout.decode(errors="replace")
    err = proc.stderr.decode(errors="replace")
    assert 'Traceback (most recent call last):\n  File "/' not in err, f"a Python traceback escaped:\n{err}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def make_project(root: Path, blob_size: int = 20_000) -> Path:
    """A folder with text and binary files, nested."""
    rng = random.Random(blob_size)
    (root / "lib" / "sub").mkdir(parents=True)
    (root / "main.py").write_text("import helper\nprint('main says', helper.VALUE)\n")
    (root / "lib" / "helper.py").write_text("VALUE = 42\n")
    (root / "lib" / "blob.bin").write_bytes(bytes(rng.randrange(256) for _ in range(blob_size)))
    (root / "lib" / "sub" / "zeros.bin").write_bytes(b"\x00\x01\x02\x03\x04\x05\x06\r\n" * 300)
    (root / "lib" / "sub" / "empty.txt").write_bytes(b"")
    return root


def same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def test_exec_and_run(vboard: RunnerBoard, tmp_path: Path) -> None:
    done = runner("exec", "--port", vboard.port, "import sys\nprint('hello', sys.platform)\nprint(2**10)")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello LoPy4\n1024\n"

    failed = runner("exec", "--port", vboard.port, "print('before')\nopen('/flash/missing.txt')")
    assert failed.returncode == 1
    assert failed.stdout == "before\n"
    assert "OSError: [Errno 2] ENOENT" in failed.stderr  # the board's traceback, on stderr
    assert 'File "<stdin>", line 2' in failed.stderr
    assert "firmware-sim: error: the code raised OSError: [Errno 2] ENOENT on the board" in failed.stderr

    script = tmp_path / "script.py"
    script.write_text("def f(n):\n    return n * 3\n\nfor i in range(3):\n    print('line', f(i))\n")
    done = runner("run", "--port", vboard.port, str(script))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "line 0\nline 3\nline 6\n"
    assert not (vboard.flash / "script.py").exists()  # run does not copy the script

    script.write_text("x = 1\nraise ValueError('bad value')\n")
    failed = runner("run", "--port", vboard.port, str(script))
    assert failed.returncode == 1 and "ValueError: bad value" in failed.stderr


def test_run_output_streams_live(vboard_any: RunnerBoard, tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\nprint('first')\ntime.sleep(2)\nprint('second')\n")
    proc = subprocess.Popen(
        [*RUNNER, "run", "--port", vboard_any.port, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready
        first = proc.stdout.readline()
        assert first == b"first\n"
        assert proc.poll() is None  # the board is still sleeping: the line came live
        rest, _ = proc.communicate(timeout=20)
        assert rest == b"second\n" and proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_run_timeout_stops_the_program_and_succeeds(vboard_any: RunnerBoard, tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text("import time\nwhile True:\n    print('tick')\n    time.sleep(0.2)\n")
    start = time.monotonic()
    done = runner("run", "--port", vboard_any.port, "--timeout", "1", str(script))
    assert done.returncode == 0, done.stderr
    assert "tick" in done.stdout and "stopped the program after --timeout 1 s" in done.stderr
    assert time.monotonic() - start < 15
    again = runner("exec", "--port", vboard_any.port, "print('responsive')")
    assert again.stdout == "responsive\n"
    slow = runner("exec", "--port", vboard_any.port, "--timeout", "1", "import time\ntime.sleep(30)")
    assert slow.returncode == 1 and "ran past its timeout of 1 s" in slow.stderr


def test_put_get_ls_rm_round_trip(vboard: RunnerBoard, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    done = runner("put", "--port", vboard.port, str(project))
    assert done.returncode == 0, done.stderr
    assert same_tree(project, vboard.flash / "proj")  # default: /flash/<folder name>
    assert not list(vboard.flash.rglob("*.fsim-part"))

    listing = runner("ls", "--port", vboard.port, "/flash/proj/lib")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["sub/"]  # folders first
    assert "20000 blob.bin" in listing.stdout and "11 helper.py" in listing.stdout

    back = tmp_path / "back"
    done = runner("get", "--port", vboard.port, "/flash/proj", str(back))
    assert done.returncode == 0, done.stderr
    assert same_tree(project, back)

    one = tmp_path / "one.bin"
    done = runner("get", "--port", vboard.port, "proj/lib/blob.bin", str(one))  # relative: under /flash
    assert done.returncode == 0 and one.read_bytes() == (project / "lib" / "blob.bin").read_bytes()

    # a single file, into an existing folder, then under another name
    done = runner("put", "--port", vboard.port, str(project / "main.py"), "/flash/lib")
    assert (
        done.returncode == 0
        and (vboard.flash / "lib" / "main.py").read_bytes() == (project / "main.py").read_bytes()
    )
    done = runner("put", "--port", vboard.port, str(project / "lib" / "blob.bin"), "data/copy.bin")
    assert (
        done.returncode == 0
        and (vboard.flash / "data" / "copy.bin").read_bytes() == (project / "lib" / "blob.bin").read_bytes()
    )

    missing = runner("get", "--port", vboard.port, "/flash/nothing.txt", str(tmp_path / "x"))
    assert (
        missing.returncode == 1
        and "/flash/nothing.txt: no such file or folder on the board" in missing.stderr
    )
    folder = runner("rm", "--port", vboard.port, "/flash/proj")
    assert folder.returncode == 1 and "is a folder" in folder.stderr and "rm -r" in folder.stderr
    assert runner("rm", "--port", vboard.port, "/flash/lib/main.py").returncode == 0
    assert not (vboard.flash / "lib" / "main.py").exists()
    assert runner("rm", "--port", vboard.port, "-r", "/flash/proj").returncode == 0
    assert not (vboard.flash / "proj").exists()
    assert (vboard.flash / "boot.py").exists()
    refused = runner("rm", "--port", vboard.port, "-r", "/flash")
    assert refused.returncode == 1 and "refusing" in refused.stderr


def test_put_progress_bar(vboard_any: RunnerBoard, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(60_000))
    shown = runner("put", "--port", vboard_any.port, "--progress", str(big))
    assert shown.returncode == 0, shown.stderr
    assert "put /flash/big.bin [" in shown.stderr and "100%" in shown.stderr
    quiet = runner("put", "--port", vboard_any.port, str(big))  # stderr is not a terminal: no bar
    assert quiet.returncode == 0 and "%" not in quiet.stderr
    assert (vboard_any.flash / "big.bin").read_bytes() == big.read_bytes()


def test_resets(vboard: RunnerBoard) -> None:
    """--soft and --hard run main.py again, --safe-boot skips it; the board answers afterwards."""
    ran = vboard.flash / "ran.txt"
    (vboard.flash / "main.py").write_text("f = open('/flash/ran.txt', 'a')\nf.write('main\\n')\nf.close()\n")

    def runs_after(expected: int, patience: float = 10) -> int:
        end = time.monotonic() + patience
        while time.monotonic() < end:
            count = ran.read_text().count("main") if ran.exists() else 0
            if count >= expected:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        return ran.read_text().count("main") if ran.exists() else 0

    before = runs_after(0)
    soft = runner("reset", "--port", vboard.port, "--soft")
    assert soft.returncode == 0, soft.stderr
    assert runs_after(before + 1) == before + 1
    hard = runner("reset", "--port", vboard.port, "--hard")
    assert hard.returncode == 0 and "machine.reset()" in hard.stderr, hard.stderr
    assert runs_after(before + 2) == before + 2
    safe = runner("reset", "--port", vboard.port, "--safe-boot")
    assert safe.returncode == 0, safe.stderr
    assert runs_after(before + 3, patience=2) == before + 2  # safe boot: no main.py
    after = runner("exec", "--port", vboard.port, "--no-soft-reset", "print('still here')")
    assert after.returncode == 0 and after.stdout == "still here\n", after.stderr
    default = runner("reset", "--port", vboard.port)  # --hard
    assert default.returncode == 0 and "machine.reset()" in default.stderr
    assert runs_after(before + 3) == before + 3


def test_soft_reset_keeps_nothing_and_no_soft_reset_keeps_globals(vboard_any: RunnerBoard) -> None:
    assert runner("exec", "--port", vboard_any.port, "kept = 7").returncode == 0
    kept = runner("exec", "--port", vboard_any.port, "--no-soft-reset", "print(kept)")
    assert kept.stdout == "7\n", kept.stderr
    fresh = runner("exec", "--port", vboard_any.port, "print(kept)")
    assert fresh.returncode == 1 and "NameError" in fresh.stderr


def test_deploy_sends_only_changed_files(vboard: RunnerBoard, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (project / "main.py").write_text("print('deployed main')\n")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (project / ".hidden").write_text("not sent")

    first = runner("deploy", "--port", vboard.port, str(project), "--timeout", "10")
    assert first.returncode == 0, first.stderr
    assert "deploy: sent 5 files" in first.stderr and "0 unchanged" in first.stderr
    assert "deployed main" in first.stdout  # main.py ran after the reset, output streamed
    assert (vboard.flash / "lib" / "sub" / "zeros.bin").read_bytes() == (
        project / "lib/sub/zeros.bin"
    ).read_bytes()
    assert not (vboard.flash / "__pycache__").exists() and not (vboard.flash / ".hidden").exists()
    stamps = {p: p.stat().st_mtime_ns for p in vboard.flash.rglob("*") if p.is_file()}

    second = runner("deploy", "--port", vboard.port, str(project), "--timeout", "10")
    assert second.returncode == 0, second.stderr
    assert "deploy: sent 0 files (0 bytes), 5 unchanged" in second.stderr

    (project / "lib" / "helper.py").write_text("VALUE = 43\n")
    third = runner("deploy", "--port", vboard.port, str(project), "--no-reset")
    assert third.returncode == 0, third.stderr
    assert (
        "deploy: sent 1 file (11 bytes), 4 unchanged" in third.stderr
        and "/flash/lib/helper.py" in third.stderr
    )
    for path, stamp in stamps.items():
        if path.name != "helper.py" and path.parent.name != ".firmware-sim":
            assert path.stat().st_mtime_ns == stamp, f"{path} was rewritten"
    assert (vboard.flash / "lib" / "helper.py").read_text() == "VALUE = 43\n"


def test_deploy_streams_until_timeout_and_reports_main_exceptions(
    vboard_any: RunnerBoard, tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("import time\nwhile True:\n    print('alive')\n    time.sleep(0.3)\n")
    start = time.monotonic()
    done = runner("deploy", "--port", vboard_any.port, str(project), "--timeout", "2")
    assert done.returncode == 0, done.stderr
    assert 2 <= time.monotonic() - start < 20
    assert done.stdout.count("alive") >= 3 and "the board keeps running" in done.stderr

    (project / "main.py").write_text("print('starting')\nraise RuntimeError('broken main')\n")
    failed = runner("deploy", "--port", vboard_any.port, str(project), "--timeout", "10")
    assert failed.returncode == 1
    assert "RuntimeError: broken main" in failed.stdout and "main.py ended with an exception" in failed.stderr


def test_devices_lists_ports() -> None:
    done = runner("devices")
    assert done.returncode == 0, done.stderr


def test_connection_errors_exit_2(tmp_path: Path) -> None:
    missing = runner("ls", "--port", str(tmp_path / "ttyNOPE"))
    assert (
        missing.returncode == 2
        and "no such device" in missing.stderr
        and "firmware-sim devices" in missing.stderr
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    refused = runner("exec", "--port", f"socket://127.0.0.1:{free}", "print(1)")
    assert refused.returncode == 2 and "nothing accepts connections" in refused.stderr
    env = {k: v for k, v in os.environ.items() if k != "FIRMWARE_SIM_PORT"}
    none = subprocess.run([*RUNNER, "ls"], cwd=ROOT, capture_output=True, text=True, timeout=30, env=env)
    assert none.returncode == 2 and "no board port given" in none.stderr and "--port" in none.stderr


def test_silent_port_gives_exit_2_within_seconds(peer) -> None:
    p = peer(lambda p: p.quiet_for(6))
    start = time.monotonic()
    done = runner("exec", "--port", p.path, "--reply-timeout", "1", "print(1)")
    assert done.returncode == 2
    assert "could not enter the raw REPL" in done.stderr and " — " in done.stderr
    assert time.monotonic() - start < 8
    p.finish()


# -- faults against the virtual board ------------------------------------------------------------------


def test_raw_paste_is_used_when_granted_and_pycom_falls_back(vboard: RunnerBoard) -> None:
    with ReplSession(vboard.port, timeout=5) as board:
        board.enter_raw_repl(soft_reset=True)
        assert board.exec("print(6 * 7)") == b"42\r\n"
        assert board.use_raw_paste is vboard.raw_paste
        long_code = "total = 0\n" + "total += 1\n" * 400 + "print(total)\n"  # > many raw-paste windows
        assert board.exec(long_code) == b"400\r\n"


def start_put(port: str, local: Path, remote: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*RUNNER, "put", "--port", port, "--reply-timeout", "2", *extra, str(local), remote],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_partial(flash: Path, name: str, timeout: float = 20) -> None:
    """Until the temporary upload file holds some data: the transfer is under way."""
    temp = flash / (name + ".fsim-part")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if temp.exists() and temp.stat().st_size > 4096:
            return
        time.sleep(0.005)
    pytest.fail(f"{temp} never grew")


@pytest.mark.parametrize("fault", ["stops answering", "disappears"])
def test_board_fails_mid_transfer(vboard_any: RunnerBoard, tmp_path: Path, fault: str) -> None:
    """The board stops answering (its process frozen) or the port disappears (killed) during a put:
    a clear error within seconds, nothing under the final name, the old files intact."""
    (vboard_any.flash / "keep.txt").write_text("old content\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(600_000))
    proc = start_put(vboard_any.port, big, "/flash/big.bin")
    try:
        wait_for_partial(vboard_any.flash, "big.bin")
        start = time.monotonic()
        if fault == "stops answering":
            vboard_any.freeze()
        else:
            vboard_any.kill()
        _, err = proc.communicate(timeout=20)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = err.decode()
    assert proc.returncode == 1, text
    assert elapsed < 8, f"took {elapsed:.1f} s"
    assert "Traceback" not in text and text.startswith("firmware-sim: error: ")
    if fault == "stops answering":
        assert "within 2 s" in text or "stopped" in text, text
        assert "/flash/big.bin was not changed" in text
    else:
        assert "disappeared" in text, text
    vboard_any.thaw()
    time.sleep(0.5)  # a thawed board works through what it had received: still no rename
    assert not (vboard_any.flash / "big.bin").exists()
    assert (vboard_any.flash / "keep.txt").read_text() == "old content\n"


def test_interrupted_overwrite_keeps_the_old_file(vboard_any: RunnerBoard, tmp_path: Path) -> None:
    (vboard_any.flash / "data.bin").write_bytes(b"version 1")
    big = tmp_path / "data.bin"
    big.write_bytes(os.urandom(600_000))
    proc = start_put(vboard_any.port, big, "/flash/data.bin")
    try:
        wait_for_partial(vboard_any.flash, "data.bin")
        vboard_any.freeze()
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 1
    assert (vboard_any.flash / "data.bin").read_bytes() == b"version 1"


@pytest.mark.parametrize("kind", ["pty", "socket"])
def test_port_disappears_mid_write(kind: str, tmp_path: Path, mocker, capsys) -> None:
    """pyserial's write fails as for an unplugged USB adapter, half-way through a put: a clear error
    (no traceback, exit 1), nothing under the final name, the board and its files intact."""
    import serial

    from firmware_sim.serial.__main__ import main

    board = RunnerBoard(tmp_path, kind, False)
    try:
        (board.flash / "keep.txt").write_text("old content\n")
        local = tmp_path / "new.bin"
        local.write_bytes(os.urandom(40_000))
        cls = type(serial.serial_for_url(board.port, do_not_open=True))
        real_write = cls.write
        calls = {"n": 0}

        def failing_write(self, data):
            calls["n"] += 1
            if calls["n"] > 12:
                raise serial.SerialException("write failed: [Errno 5] Input/output error")
            return real_write(self, data)

        mocker.patch.object(cls, "write", failing_write)
        rc = main(["put", "--port", board.port, "--reply-timeout", "3", str(local), "/flash/new.bin"])
        err = capsys.readouterr().err
        assert rc == 1
        assert err.startswith("firmware-sim: error: the port") and "disappeared" in err and " — " in err
        assert "Input/output error" in err
        mocker.stopall()
        assert not (board.flash / "new.bin").exists()
        assert (board.flash / "keep.txt").read_text() == "old content\n"
        with ReplSession(board.port, timeout=5) as again:  # the board is fine
            again.enter_raw_repl()
            assert (
                again.exec("print(open('/flash/keep.txt').read())") == b"old content\r\n\r\n"
            )  # output is cooked
    finally:
        board.close()


class JunkProxy:
    """A TCP relay in front of a socket board that can push garbage at the host."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("socket://").rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = f"socket://127.0.0.1:{self.listener.getsockname()[1]}"
        self.client: socket.socket | None = None
        self.greeting = b""
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            self.client = client
            time.sleep(0.1)  # after pyserial's flush at open
            client.sendall(self.greeting)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def inject(self, data: bytes) -> None:
        assert self.client is not None
        self.client.sendall(data)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()


GARBAGE = b"\xff\xfe\x00 garbage >>> \x1b[2J R\x02 raw REPL; \x04\x04 OK \x80\x81 >"


def test_garbage_from_the_board_before_commands(tmp_path: Path) -> None:
    board = RunnerBoard(tmp_path, "socket", True)
    proxy = JunkProxy(board.port)
    proxy.greeting = GARBAGE
    try:
        with ReplSession(proxy.port, timeout=5) as b:
            b.enter_raw_repl(soft_reset=True)
            assert b.exec("print('one')") == b"one\r\n"
            proxy.inject(GARBAGE)
            time.sleep(0.2)
            assert b.exec("print('two')") == b"two\r\n"  # resynced: the noise was dropped
            proxy.inject(b"\x00\x01\x02")
            time.sleep(0.2)
            assert b.exec("print('three')") == b"three\r\n"
        done = runner("ls", "--port", proxy.port)
        assert done.returncode == 0 and "boot.py" in done.stdout, done.stderr
    finally:
        proxy.close()
        board.close()


def test_garbage_sent_to_the_board_before_a_command(vboard_any: RunnerBoard) -> None:
    """Another program left junk in the board's input (half a line, paste mode, raw mode, escapes):
    the next command still works."""
    import serial

    for junk in (b"import (\x1b[A", b"\x05half a paste", b"\x01\x05A", os.urandom(64).replace(b"\x06", b"")):
        line = serial.serial_for_url(vboard_any.port, timeout=0.5)
        line.write(junk)
        time.sleep(0.2)
        line.close()
        done = runner("exec", "--port", vboard_any.port, "--reply-timeout", "5", "print('clean')")
        assert done.returncode == 0 and done.stdout == "clean\n", (junk, done.stderr)


def test_board_reset_during_exec(vboard: RunnerBoard) -> None:
    (vboard.flash / "keep.txt").write_text("kept\n")
    start = time.monotonic()
    done = runner(
        "exec", "--port", vboard.port, "print('going down')\nimport machine\nmachine.reset()\nprint('never')"
    )
    assert done.returncode == 1
    assert time.monotonic() - start < 15
    assert "going down" in done.stdout and "never" not in done.stdout
    assert "restarted while running the code" in done.stderr and "machine.reset()" in done.stderr
    after = runner("exec", "--port", vboard.port, "print(open('/flash/keep.txt').read())")
    assert after.returncode == 0 and after.stdout == "kept\n\n", after.stderr


def test_ctrl_c_interrupts_the_program_on_the_board(vboard_any: RunnerBoard) -> None:
    code = (
        "import time\nn = 0\nwhile True:\n    n += 1\n    f = open('/flash/count.txt', 'w')\n"
        "    f.write(str(n))\n    f.close()\n    print('tick', n)\n    time.sleep(0.05)\n"
    )
    proc = subprocess.Popen(
        [*RUNNER, "exec", "--port", vboard_any.port, code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready and proc.stdout.readline().startswith(b"tick")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 1
    assert "interrupted: Ctrl-C stopped the program on the board" in err.decode()
    assert "Traceback" not in err.decode()
    count = vboard_any.flash / "count.txt"
    first = count.read_text()
    time.sleep(0.5)
    assert count.read_text() == first  # the board's loop is not running any more
