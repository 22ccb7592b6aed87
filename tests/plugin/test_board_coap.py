"""``board.coap`` (firmware_sim/testkit/coap.py): a test's CoAP client bound to the board's address,
against a simulated board serving a resource with Pycom's ``network.Coap`` API, and against small UDP
peers written here that drop, delay or reset a request (RFC 7252 §4.2, §5.2.2)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import free_loopback_ip

from firmware_sim.testkit.coap import CoapClient, CoapError
from network.coap.protocol.codec import Message, decode, encode
from network.coap.protocol.numbers import Code, MediaType

MAIN = """\
import _thread
from network import WLAN, Coap

wlan = WLAN(mode=WLAN.STA)
wlan.connect("my-ssid", auth=(WLAN.WPA2, "my-key"))
Coap.init(wlan.ifconfig()[0])
level = Coap.add_resource("level", media_type=Coap.MEDIATYPE_TEXT_PLAIN, value="low")
level.callback(Coap.REQUEST_GET | Coap.REQUEST_PUT, True)

def serve():
    while True:
        Coap.read()

_thread.start_new_thread(serve, ())
print("serving")
"""


@pytest.fixture
def served(boards: Callable, tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text(MAIN)
    board = boards("coap", project=project)
    board.expect("serving")
    return board


@pytest.mark.process
def test_get_put_and_errors_on_a_simulated_board(served) -> None:
    got = served.coap.get("/level")
    assert (got.code, got.number, got.payload) == ("2.05", Code.CONTENT, b"low")
    assert got.content_format == MediaType.TEXT_PLAIN
    changed = served.coap.put("level", b"high", content_format=MediaType.TEXT_PLAIN)
    assert changed.code == "2.04"
    assert served.coap.get("level").text == "high"
    assert served.coap.get("/missing").code == "4.04"
    assert served.coap.delete("/level").code == "4.05"  # DELETE was not enabled on the resource


@pytest.mark.unit
def test_without_an_address_the_test_is_skipped_with_the_reason() -> None:
    with pytest.raises(pytest.skip.Exception, match="address is unknown on a real board"):
        CoapClient(None).get("/level")


Answer = Callable[[socket.socket, Message, tuple[str, int], int], None]


@pytest.fixture
def peer() -> Iterator[Callable[[Answer], tuple[CoapClient, list[Message]]]]:
    """A UDP peer on a free loopback address calling ``answer(sock, request, sender, nth)`` for each
    datagram it gets; the client bound to it and the list of what it got."""
    sockets: list[socket.socket] = []

    def start(answer: Answer) -> tuple[CoapClient, list[Message]]:
        address = free_loopback_ip()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, 5683))
        sockets.append(sock)
        got: list[Message] = []

        def run() -> None:
            while True:
                try:
                    data, sender = sock.recvfrom(2048)
                except OSError:
                    return
                got.append(decode(data))
                answer(sock, got[-1], sender, len(got))

        threading.Thread(target=run, daemon=True).start()
        return CoapClient(address), got

    yield start
    for sock in sockets:
        sock.close()


def test_a_lost_request_is_sent_again_with_the_same_message_id(peer) -> None:
    def answer(sock: socket.socket, req: Message, sender: tuple[str, int], nth: int) -> None:
        if nth == 2:  # the first one is "lost"
            sock.sendto(encode(Message(2, Code.CONTENT, req.mid, req.token, [], b"late")), sender)

    client, got = peer(answer)
    started = time.monotonic()
    assert client.get("/x", timeout=8).payload == b"late"
    assert 2.0 <= time.monotonic() - started < 4.0  # ACK_TIMEOUT .. ACK_TIMEOUT * ACK_RANDOM_FACTOR
    assert [m.mid for m in got] == [got[0].mid] * 2
    client.close()


def test_a_separate_response_is_acknowledged(peer) -> None:
    def answer(sock: socket.socket, req: Message, sender: tuple[str, int], nth: int) -> None:
        if nth == 1:
            sock.sendto(encode(Message(2, 0, req.mid)), sender)  # empty ACK: the response comes later
            later = Message(0, Code.CONTENT, 0x1234, req.token, [], b"separate")
            sock.sendto(encode(later), sender)

    client, got = peer(answer)
    assert client.get("/x").payload == b"separate"
    deadline = time.monotonic() + 2
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (got[1].mtype, got[1].code, got[1].mid) == (2, 0, 0x1234)
    client.close()


def test_a_reset_or_no_answer_raises_within_the_timeout(peer) -> None:
    def reset(sock: socket.socket, req: Message, sender: tuple[str, int], nth: int) -> None:
        sock.sendto(encode(Message(3, 0, req.mid)), sender)

    client, _ = peer(reset)
    with pytest.raises(CoapError, match="the server answered RST"):
        client.get("/x")
    client.close()
    silent, _ = peer(lambda *_: None)
    started = time.monotonic()
    with pytest.raises(CoapError, match=r"GET coap://.*/x: no response within 0\.5 s"):
        silent.get("/x", timeout=0.5)
    assert time.monotonic() - started < 1.5
    silent.close()
