"""A CoAP server started on the board answers a CoAP client on the host."""

from __future__ import annotations

import socket

from board_tests.conftest import board_address, reconnect_after_reset

SERVER = """\
import _thread
from network import WLAN, Coap
Coap.init(WLAN().ifconfig()[0])
r = Coap.add_resource('bt', media_type=Coap.MEDIATYPE_TEXT_PLAIN, value='from the board')
r.callback(Coap.REQUEST_GET, True)
def serve():
    while True:
        Coap.read()
_thread.start_new_thread(serve, ())
print('serving')
"""


def test_board_serves_coap_to_the_host(board, board_port, allow_lan, request):
    board.hard_reset()  # Coap.init() works once per boot
    board.close(goodbye=False)
    fresh = reconnect_after_reset(board_port, allow_lan=allow_lan)
    try:
        address = board_address(fresh, request.config.getoption("--allow-lan"))
        assert b"serving" in fresh.exec(SERVER)
        request_bytes = bytes([0x41, 0x01, 0x12, 0x34, 0x7A, 0xB2]) + b"bt"  # CON GET /bt, token 0x7a
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            client.sendto(request_bytes, (address, 5683))
            reply = client.recv(1500)
        assert reply[:5] == bytes([0x61, 0x45, 0x12, 0x34, 0x7A])  # ACK 2.05, same id and token
        assert reply.endswith(b"\xfffrom the board")
    finally:
        fresh.close()
