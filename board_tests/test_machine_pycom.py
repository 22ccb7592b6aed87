"""``machine`` and ``pycom`` basics, and what survives a reset."""

from __future__ import annotations

from board_tests.conftest import reconnect_after_reset


def test_machine_identity(board):
    assert board.eval("len(__import__('machine').unique_id())") == 6
    assert board.eval("__import__('machine').freq()") > 0
    assert board.eval("__import__('machine').reset_cause()") in {0, 1, 2, 3, 4, 5}


def test_nvs_round_trip_and_erase(board):
    board.exec("import pycom\npycom.nvs_set('bt_key', 1234)")
    assert board.eval("pycom.nvs_get('bt_key')") == 1234
    board.exec("pycom.nvs_erase('bt_key')")
    assert board.eval("pycom.nvs_get('bt_key', 'gone')") == "gone"


def test_rgbled_needs_the_heartbeat_off(board):
    board.exec("import pycom\npycom.heartbeat(False)\npycom.rgbled(0x00FF00)")
    assert board.eval("pycom.rgbled()") == 0x00FF00


def test_nvs_survives_a_hard_reset(board, board_port, allow_lan):
    board.exec("import pycom\npycom.nvs_set('bt_boot', 7)")
    board.hard_reset()
    board.close(goodbye=False)
    again = reconnect_after_reset(board_port, allow_lan=allow_lan)
    try:
        assert again.eval("__import__('pycom').nvs_get('bt_boot')") == 7
        again.exec("__import__('pycom').nvs_erase('bt_boot')")
    finally:
        again.close()
