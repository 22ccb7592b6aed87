"""``--board-port``: a network port must be on this machine unless ``--allow-lan`` (no board needed)."""

from __future__ import annotations

import pytest

from board_tests.conftest import check_board_port


def test_a_lan_board_port_needs_allow_lan():
    with pytest.raises(pytest.UsageError, match="192.0.2.1:23 is not on this machine.*--allow-lan"):
        check_board_port("socket://192.0.2.1:23", allow_lan=False)
    with pytest.raises(pytest.UsageError, match="--allow-lan"):
        check_board_port("rfc2217://board.example:2217", allow_lan=False)
    check_board_port("socket://192.0.2.1:23", allow_lan=True)  # text only: nothing connects


@pytest.mark.parametrize(
    "port", [None, "auto", "/dev/ttyACM0", "socket://127.0.0.1:4000", "socket://[::1]:1"]
)
def test_local_board_ports_need_nothing(port):
    check_board_port(port, allow_lan=False)
