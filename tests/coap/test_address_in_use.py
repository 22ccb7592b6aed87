"""A board binding an address and port that something else holds (a second board on the same ``--ip``,
another process): the firmware's ``OSError`` with errno ``EADDRINUSE``, its text naming the address and
port, and one ``firmware-sim:`` line on stderr saying how to fix it.

The other holder is a real socket bound by the test on a loopback address reserved for it.
"""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import ROOT

from firmware_sim.modules import uerrno, usocket
from network import Coap, host
from network.coap.api.module import hard_reset


@pytest.fixture
def taken() -> Iterator[str]:
    """A loopback address whose UDP port 5683 another socket holds."""
    reservation = host.reserve_address()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((reservation.ip, 5683))
        host.configure(ip=reservation.ip, mapping={})
        try:
            yield reservation.ip
        finally:
            hard_reset()
            host.reset()
            reservation.release()


def fix_lines(err: str) -> list[str]:
    """The ``firmware-sim:`` lines about an address in use."""
    return [line for line in err.splitlines() if line.startswith("firmware-sim: ") and "in use" in line]


def check_in_use(error: OSError, err: str, where: str, proto: str = "UDP") -> None:
    assert error.errno == errno.EADDRINUSE
    assert f"{proto} {where}" in str(error)
    lines = fix_lines(err)
    assert len(lines) == 1, err
    assert f"{proto} {where} is already in use" in lines[0]
    assert "--ip" in lines[0] and "stop the other process" in lines[0]


def test_coap_init_on_a_taken_address_names_it(taken: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(OSError) as info:
        Coap.init(taken)
    check_in_use(info.value, capsys.readouterr().err, f"{taken}:5683")
    with pytest.raises(RuntimeError, match="not been initialized"):
        Coap.get_resource("x")  # the failed init left no context


def test_usocket_bind_on_a_taken_address_names_it(taken: str, capsys: pytest.CaptureFixture[str]) -> None:
    for address in ((taken, 5683), ("0.0.0.0", 5683)):  # 0.0.0.0 is the board's own address
        s = usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
        try:
            with pytest.raises(OSError) as info:
                s.bind(address)
        finally:
            s.close()
        assert info.value.args[0] == uerrno.EADDRINUSE
        check_in_use(info.value, capsys.readouterr().err, f"{taken}:5683")


def test_usocket_tcp_bind_on_a_taken_port_names_it(taken: str, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((taken, 0))
        other.listen(1)
        port = other.getsockname()[1]
        s = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
        try:
            with pytest.raises(OSError) as info:
                s.bind((taken, port))
        finally:
            s.close()
    check_in_use(info.value, capsys.readouterr().err, f"{taken}:{port}", "TCP")


@pytest.mark.process
def test_a_second_board_on_the_same_ip_says_so(taken: str, tmp_path) -> None:
    main = tmp_path / "main.py"
    main.write_text("from network import Coap\nprint('booted')\nCoap.init('0.0.0.0')\nprint('not reached')\n")
    done = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "run", "--ip", taken, "--timeout", "10", str(main)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    assert "booted" in done.stdout and "not reached" not in done.stdout
    lines = fix_lines(done.stderr)
    assert len(lines) == 1 and f"UDP {taken}:5683 is already in use" in lines[0], done.stderr
    # the board's traceback, as MicroPython prints an OSError (the line above names the address)
    assert f"OSError: [Errno {errno.EADDRINUSE}] EADDRINUSE" in done.stderr.splitlines(), done.stderr
