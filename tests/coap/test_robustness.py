"""The in-process Coap server against crafted and random datagrams, over real UDP on loopback.

Every test sends bytes from a plain UDP socket, checks the exact reply (or that there is none), and then
checks that the server still answers an ordinary GET. "No reply" is checked without sleeping: a GET sent
right after the datagram must be the first thing that comes back, since the server handles one socket
in order.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import Reader

from network.coap.protocol.codec import Message, decode, encode

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
CONTENT, CHANGED = 69, 68
URI_PATH, ETAG, CONTENT_FORMAT, MAX_AGE = 11, 4, 12, 14
TIMEOUT = 3.0  # seconds to wait for a reply that must come


@dataclass
class Server:
    ip: str
    coap: object
    sensor: object  # CoapResource: GET and PUT enabled, ETag on
    reader: Reader


class Client:
    """A plain UDP socket talking to the server."""

    def __init__(self, server_ip: str) -> None:
        self.address = (server_ip, 5683)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.mid = random.randrange(0x10000)

    def next_mid(self) -> int:
        self.mid = (self.mid + 1) & 0xFFFF
        return self.mid

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.address)

    def recv(self, timeout: float = TIMEOUT) -> bytes:
        self.sock.settimeout(timeout)
        data, peer = self.sock.recvfrom(70000)
        assert peer == self.address
        return data

    def exchange(self, data: bytes) -> bytes:
        self.send(data)
        return self.recv()

    def get(self, path: str = "sensor", mtype: int = CON, token: bytes = b"ok", **extra) -> Message:
        mid = self.next_mid()
        options = [(URI_PATH, seg.encode()) for seg in path.split("/")] + extra.get("options", [])
        reply = decode(self.exchange(encode(Message(mtype, GET, mid, token, options))))
        assert reply.mid == mid
        return reply

    def assert_alive(self) -> None:
        """The next datagram from the server is the answer to a fresh GET (so nothing came before it)."""
        reply = self.get("alive", token=b"alive")
        assert (reply.mtype, reply.code, reply.token, reply.payload) == (ACK, CONTENT, b"alive", b"yes")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(coap, ip) -> Iterator[Server]:
    coap.init(ip)
    sensor = coap.add_resource(
        "sensor", media_type=coap.MEDIATYPE_TEXT_PLAIN, max_age=60, value="21 C", etag=True
    )
    sensor.callback(coap.REQUEST_GET | coap.REQUEST_PUT, True)
    # GET only, so no fuzzed datagram can change it
    coap.add_resource("alive", value="yes").callback(coap.REQUEST_GET, True)
    reader = Reader(coap, timeout_ms=20)
    yield Server(ip, coap, sensor, reader)
    reader.stop()
    assert not reader.errors, reader.errors
    assert not reader.thread.is_alive()


@pytest.fixture
def client(server) -> Iterator[Client]:
    c = Client(server.ip)
    yield c
    c.close()


def header(mtype: int, code: int, mid: int, tkl: int = 0) -> bytes:
    return bytes((0x40 | mtype << 4 | tkl, code, mid >> 8, mid & 0xFF))


# -- message layer ------------------------------------------------------------------------------------


def test_ping_gets_a_4_byte_rst(client: Client) -> None:
    assert client.exchange(b"\x40\x00\xbe\xef") == b"\x70\x00\xbe\xef"
    client.assert_alive()


def test_con_get_gets_a_piggy_backed_ack(client: Client) -> None:
    data = encode(Message(CON, GET, 0x1234, b"\x01\x02\x03\x04\x05\x06\x07\x08", [(URI_PATH, b"sensor")]))
    reply = decode(client.exchange(data))
    assert (reply.mtype, reply.code, reply.mid) == (ACK, CONTENT, 0x1234)
    assert reply.token == b"\x01\x02\x03\x04\x05\x06\x07\x08"
    # ETag, Content-Format, Max-Age in that order, minimal big-endian values (firmware-coap.md §7.2)
    assert reply.options == [(ETAG, b"\x01"), (CONTENT_FORMAT, b""), (MAX_AGE, b"\x3c")]
    assert reply.payload == b"21 C"


def test_non_get_gets_a_non_reply_with_the_request_mid(client: Client) -> None:
    reply = decode(client.exchange(encode(Message(NON, GET, 0x0BAD, b"nn", [(URI_PATH, b"sensor")]))))
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (NON, CONTENT, 0x0BAD, b"nn")
    assert reply.payload == b"21 C"
    client.assert_alive()


def test_version_2_is_ignored(client: Client) -> None:
    request = encode(Message(CON, GET, 0x0101, b"v", [(URI_PATH, b"sensor")]))
    client.send(bytes((request[0] & 0x3F | 0x80,)) + request[1:])
    client.assert_alive()


@pytest.mark.parametrize("tkl", range(9, 16))
def test_reserved_token_length_con_gets_rst(client: Client, tkl: int) -> None:
    data = header(CON, GET, 0x2000 + tkl, tkl) + b"t" * 15 + b"\xb6sensor"
    assert client.exchange(data) == header(RST, 0, 0x2000 + tkl)
    client.assert_alive()


@pytest.mark.parametrize(
    "tail",
    [
        b"\xf1x",  # option delta nibble 15
        b"\xbfsensor",  # option length nibble 15
        b"\xb6sensor\xff",  # payload marker with no payload
        b"\xb9sens",  # option runs past the end
    ],
)
def test_malformed_options_in_con_get_rst(client: Client, tail: bytes) -> None:
    assert client.exchange(header(CON, GET, 0x3003) + tail) == header(RST, 0, 0x3003)
    client.assert_alive()


@pytest.mark.parametrize("mtype", [NON, ACK, RST])
def test_malformed_non_ack_rst_get_nothing(client: Client, mtype: int) -> None:
    client.send(header(mtype, GET, 0x3004) + b"\xf1x")
    client.send(header(mtype, GET, 0x3005, 12) + b"t" * 12)
    client.assert_alive()


@pytest.mark.parametrize("code", [0xE0, 0xC1, 0x20, 0x3F])  # classes 7, 6 and 1 are reserved
def test_reserved_code_class_con_gets_rst(client: Client, code: int) -> None:
    assert client.exchange(header(CON, code, 0x4004) + b"\xb6sensor") == header(RST, 0, 0x4004)
    client.send(header(NON, code, 0x4005) + b"\xb6sensor")  # a NON: nothing
    client.assert_alive()


def test_empty_message_with_a_token_or_payload_gets_rst(client: Client) -> None:
    assert client.exchange(header(CON, 0, 0x5005, 2) + b"tk") == header(RST, 0, 0x5005)
    assert client.exchange(header(CON, 0, 0x5006) + b"\xffx") == header(RST, 0, 0x5006)
    client.send(header(NON, 0, 0x5007))  # an empty NON is ignored
    client.send(header(ACK, 0, 0x5008))  # a stray empty ACK is ignored
    client.send(header(RST, 0, 0x5009))  # a stray RST is ignored
    client.assert_alive()


_NOISE = random.Random(5).randbytes(60_000)


@pytest.mark.parametrize(
    ("datagram", "answer"),
    [
        (b"", None),
        (b"\x40", None),
        (b"\x40\x01\x00", None),
        (bytes(60_000), None),  # version 0: ignored
        (b"\x00" + _NOISE, None),
        (b"\x4f\x01\xab\xcd" + _NOISE, b"\x70\x00\xab\xcd"),  # a CON with TKL 15: rejected
        (b"\x5f\x01\xab\xcd" + _NOISE, None),  # the same as a NON: ignored
    ],
    ids=["empty", "1-byte", "3-byte", "60KB-zeros", "60KB-v0-noise", "60KB-con-noise", "60KB-non-noise"],
)
def test_short_empty_and_huge_datagrams(client: Client, datagram: bytes, answer: bytes | None) -> None:
    for _ in range(2):
        client.send(datagram)
        if answer is not None:
            assert client.recv() == answer
    client.assert_alive()


def test_huge_valid_request_is_answered(client: Client) -> None:
    data = encode(
        Message(CON, GET, 0x6006, b"big", [(URI_PATH, b"sensor"), (10000, b"e" * 1000)], b"p" * 50_000)
    )
    reply = decode(client.exchange(data))
    assert (reply.mtype, reply.code, reply.mid, reply.payload) == (ACK, CONTENT, 0x6006, b"21 C")


# -- options and methods ------------------------------------------------------------------------------


def test_unknown_critical_option_in_con_gets_4_02(client: Client) -> None:
    data = encode(Message(CON, GET, 0x7007, b"crit", [(URI_PATH, b"sensor"), (9999, b"x")]))
    reply = decode(client.exchange(data))
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (ACK, 130, 0x7007, b"crit")
    assert reply.options == []
    assert reply.payload == b"Bad Option"
    client.assert_alive()


def test_unknown_critical_option_in_non_gets_nothing(client: Client) -> None:
    client.send(encode(Message(NON, GET, 0x7008, b"crit", [(URI_PATH, b"sensor"), (9999, b"x")])))
    client.assert_alive()


@pytest.mark.parametrize("number", [10000, 2, 64, 65534])  # even: elective
def test_unknown_elective_option_is_ignored(client: Client, number: int) -> None:
    reply = decode(
        client.exchange(encode(Message(CON, GET, 0x7009, b"el", [(URI_PATH, b"sensor"), (number, b"x")])))
    )
    assert (reply.mtype, reply.code, reply.payload) == (ACK, CONTENT, b"21 C")


@pytest.mark.parametrize("code", [31, 5, 6, 7, 8])
def test_unknown_method_gets_4_05(client: Client, code: int) -> None:
    reply = decode(client.exchange(encode(Message(CON, code, 0x700A, b"m", [(URI_PATH, b"sensor")]))))
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (ACK, 133, 0x700A, b"m")
    assert reply.options == [] and reply.payload == b"Method Not Allowed"
    client.assert_alive()


def test_not_found_has_the_phrase_and_no_options(client: Client) -> None:
    reply = client.get("nothing/here", token=b"nf")
    assert (reply.mtype, reply.code, reply.token) == (ACK, 132, b"nf")
    assert reply.options == []
    assert reply.payload == b"Not Found"


def test_new_resource_without_callback_answers_4_05(server: Server, client: Client) -> None:
    fresh = server.coap.add_resource("fresh", value="v")
    for code in (GET, POST, PUT, DELETE):
        data = encode(Message(CON, code, client.next_mid(), b"f", [(URI_PATH, b"fresh")], b"x"))
        reply = decode(client.exchange(data))
        assert (reply.code, reply.payload, reply.options) == (133, b"Method Not Allowed", [])
    assert fresh.value() == b"v"
    fresh.callback(server.coap.REQUEST_GET, True)
    assert client.get("fresh").payload == b"v"


def test_unset_content_format_and_max_age_are_not_sent(server: Server, client: Client) -> None:
    plain = server.coap.add_resource("plain", value=b"\x00\x01")
    plain.callback(server.coap.REQUEST_GET, True)
    reply = client.get("plain")
    assert (reply.code, reply.options, reply.payload) == (CONTENT, [], b"\x00\x01")


def test_duplicate_con_put_is_handled_once(server: Server, client: Client) -> None:
    assert server.sensor.value() == b"21 C"
    put = encode(Message(CON, PUT, 0x7A7A, b"put", [(URI_PATH, b"sensor"), (CONTENT_FORMAT, b"")], b"22 C"))
    first = client.exchange(put)
    reply = decode(first)
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (ACK, CHANGED, 0x7A7A, b"put")
    assert reply.options == [(ETAG, b"\x02")]  # 1 at creation, 2 after one change
    for _ in range(3):
        assert client.exchange(put) == first  # the cached reply, byte for byte

    assert server.sensor.value() == b"22 C"
    got = client.get()
    assert got.options[0] == (ETAG, b"\x02")  # the handler ran once: the ETag moved once
    assert got.payload == b"22 C"

    # a PUT with a new message id is a new request
    again = encode(Message(CON, PUT, 0x7A7B, b"put", [(URI_PATH, b"sensor"), (CONTENT_FORMAT, b"")], b"23 C"))
    assert decode(client.exchange(again)).options == [(ETAG, b"\x03")]
    assert server.sensor.value() == b"23 C"


def test_duplicate_con_get_gets_the_old_answer(server: Server, client: Client) -> None:
    get = encode(Message(CON, GET, 0x7B7B, b"g", [(URI_PATH, b"sensor")]))
    first = client.exchange(get)
    server.sensor.value("changed")
    assert client.exchange(get) == first  # a retransmission: the cached reply, not a new GET
    assert client.get().payload == b"changed"


# -- the built-in handlers ---------------------------------------------------------------------------


def _request(client: Client, code: int, options=(), payload: bytes = b"", path: bytes = b"sensor") -> Message:
    mid = client.next_mid()
    data = encode(Message(CON, code, mid, b"h", [(URI_PATH, path), *options], payload))
    reply = decode(client.exchange(data))
    assert (reply.mtype, reply.mid, reply.token) == (ACK, mid, b"h")
    return reply


def test_get_with_matching_etag_is_2_03_without_payload(client: Client) -> None:
    reply = _request(client, GET, [(ETAG, b"\x01")])
    assert (reply.code, reply.payload) == (67, b"")
    assert reply.options == [(ETAG, b"\x01"), (CONTENT_FORMAT, b""), (MAX_AGE, b"\x3c")]
    assert _request(client, GET, [(ETAG, b"\x09")]).code == CONTENT


def test_get_with_another_accept_is_4_06(client: Client) -> None:
    reply = _request(client, GET, [(17, b"\x32")])  # Accept: application/json, resource is text/plain
    assert (reply.code, reply.options, reply.payload) == (134, [], b"Not Acceptable")
    assert _request(client, GET, [(17, b"")]).code == CONTENT  # empty Accept is 0, text/plain
    client.assert_alive()  # no hang (that is firmware 1.20.3.b0-b2's bug)


def test_put_preconditions_and_empty_payload(server: Server, client: Client) -> None:
    reply = _request(client, PUT, [(1, b"\x07")], b"x")  # If-Match of another ETag
    assert (reply.code, reply.options, reply.payload) == (140, [], b"Precondition Failed")
    assert server.sensor.value() == b"21 C"
    reply = _request(client, PUT, [(1, b"\x01"), (CONTENT_FORMAT, b"")], b"22 C")  # If-Match of the ETag
    assert (reply.code, reply.options, reply.payload) == (CHANGED, [(ETAG, b"\x02")], b"")
    reply = _request(client, PUT, [(CONTENT_FORMAT, b"")])  # no payload
    assert (reply.code, reply.options, reply.payload) == (160, [], b"Internal Server Error")
    assert server.sensor.value() == b"22 C"


def test_put_without_content_format_unsets_the_media_type(client: Client) -> None:
    assert _request(client, PUT, [], b"raw").code == CHANGED
    reply = _request(client, GET)
    assert reply.options == [(ETAG, b"\x02"), (MAX_AGE, b"\x3c")]  # no Content-Format any more
    assert reply.payload == b"raw"


def test_post_and_delete(server: Server, client: Client) -> None:
    assert _request(client, POST).code == 133  # POST and DELETE not enabled yet
    server.sensor.callback(server.coap.REQUEST_POST | server.coap.REQUEST_DELETE, True)
    reply = _request(client, POST, [(CONTENT_FORMAT, b"\x32")], b"{}")
    assert (reply.code, reply.options) == (CHANGED, [(ETAG, b"\x02")])
    assert _request(client, GET).options[1] == (CONTENT_FORMAT, b"\x32")
    reply = _request(client, DELETE)
    assert (reply.code, reply.options, reply.payload) == (66, [], b"")
    assert server.coap.get_resource("sensor") is None
    assert _request(client, GET).code == 132
    client.assert_alive()


# -- random datagrams ---------------------------------------------------------------------------------


def _fuzz_datagrams(rng: random.Random, count: int) -> Iterator[bytes]:
    valid = [
        encode(Message(CON, GET, 1, b"tk", [(URI_PATH, b"sensor")])),
        encode(Message(NON, PUT, 2, b"", [(URI_PATH, b"sensor"), (ETAG, b"\x01"), (1, b"\x05")], b"zz")),
        encode(Message(CON, GET, 3, b"", [(URI_PATH, b".well-known"), (URI_PATH, b"core"), (15, b"rt=*")])),
        encode(Message(CON, POST, 4, b"12345678", [(URI_PATH, b"x"), (9999, b"")], b"p")),
        encode(Message(ACK, CONTENT, 5, b"r", [], b"stray")),
        encode(Message(CON, CONTENT, 6, b"r", [(300, b"y" * 300)], b"stray")),
    ]
    for i in range(count):
        kind = i % 4
        if kind == 0:  # random bytes
            yield rng.randbytes(rng.randrange(0, 64))
        elif kind == 1:  # a version-1 header and random rest
            yield bytes((0x40 | rng.randrange(64), rng.randrange(256))) + rng.randbytes(rng.randrange(2, 40))
        else:  # a valid message with a few bytes changed, maybe cut short
            data = bytearray(rng.choice(valid))
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if data[0] >> 6 == 1 and data[0] & 0x30 == 0 and data[1] == GET and rng.random() < 0.5:
                data[0] = data[0] & 0xCF | 0x10  # make some GETs NON so some are duplicates
            yield bytes(data[: rng.randrange(1, len(data) + 1)])


def test_fuzz_2000_datagrams(server: Server) -> None:
    rng = random.Random(20240601)
    fuzzer = Client(server.ip)
    checker = Client(server.ip)
    try:
        for i, data in enumerate(_fuzz_datagrams(rng, 2000)):
            fuzzer.send(data)
            if i % 100 == 99:  # pace it, so the server socket's buffer never drops the liveness GET
                checker.assert_alive()
        # whatever came back is well-formed CoAP
        fuzzer.sock.settimeout(0)
        replies = 0
        while True:
            try:
                data = fuzzer.sock.recv(70000)
            except BlockingIOError:
                break
            decode(data)
            replies += 1
        assert replies > 0
        checker.assert_alive()
        assert not server.reader.errors
        assert server.reader.thread.is_alive()
    finally:
        fuzzer.close()
        checker.close()
