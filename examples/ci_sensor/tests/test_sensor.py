"""Tests of the CI sensor (main.py), run with `pytest -n 2` in this folder: each test gets its own
simulated LoPy4 running the project (the `board` fixture of firmware-sim's pytest plugin)."""

import socket

import pytest


def served(board):
    """What the board serves at /temperature now."""
    response = board.coap.get("/temperature")
    assert response.code == "2.05"
    return response.payload.decode()


def test_serves_the_first_reading(board):
    printed = board.expect(r"serving /temperature on \S+: (\S+)").group(1)
    assert served(board) == printed


def test_a_new_voltage_is_served_as_the_new_temperature(board):
    board.expect("serving /temperature")
    board.environment("voltage/P16", 1.2)  # TMP36: 500 mV + 10 mV per degree C
    board.expect("temperature now 70.0")
    assert served(board) == "70.0"


def test_a_reading_out_of_range_is_a_fault_until_the_sensor_is_back(board):
    board.expect("serving /temperature")
    board.environment("voltage/P16", 3.0)  # above the TMP36's 1.75 V: a short
    board.expect(r"reading out of range \(\d+ mV\)")
    assert served(board) == "fault"
    board.environment("voltage/P16", 0.75)
    board.expect("temperature now 25.0")
    assert served(board) == "25.0"


def test_a_malformed_request_does_not_stop_the_server(board):
    board.expect("serving /temperature")
    if board.address is None:
        pytest.skip("the real board's address is unknown")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x40\x01", (board.address, 5683))  # shorter than a CoAP header
    assert board.coap.get("/nothing-here").code == "4.04"
    assert served(board)
    board.expect_not("Traceback", within=0.3)
