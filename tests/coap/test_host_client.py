"""The host-side client (network/coap/client.py) against libcoap's example server and plain UDP peers on
loopback: requests and their responses, error codes as responses, and every way an exchange can end
without one (timeout, RST, cancel, close) delivered to whoever waits, never a hang."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from conftest import free_loopback_ip
from peers.coap_peer import Peer

from firmware_sim.testing import eventually
from network.coap.client import Client, CoapCancelled, CoapReset, CoapTimeout, parse_uri
from network.coap.protocol.codec import Message, encode

CON, NON, ACK, RST = 0, 1, 2, 3


@pytest.fixture
def client():
    with Client() as coap:
        yield coap


@pytest.fixture
def libcoap_server(spawn, coap_server_tool):
    ip = free_loopback_ip()
    spawn([coap_server_tool, "-A", ip])
    with Client() as probe:  # up once it answers
        assert eventually(lambda: _answers(probe, ip), 10.0)
    return ip


def _answers(probe: Client, ip: str) -> bool:
    try:
        return probe.get(f"coap://{ip}/", timeout=0.3).success
    except CoapTimeout:
        return False


@pytest.mark.peer
def test_get_put_get_and_delete_against_libcoap(client: Client, libcoap_server: str) -> None:
    base = f"coap://{libcoap_server}"
    assert client.get(f"{base}/time", timeout=5).code == "2.05"
    created = client.put(f"{base}/example_data", b"first", content_format=0, timeout=5)
    assert created.reason == "2.01 Created"
    assert client.get(f"{base}/example_data", timeout=5).payload == b"first"
    assert client.put(f"{base}/example_data", b"second", timeout=5).reason == "2.04 Changed"
    assert client.get(f"{base}/example_data", timeout=5).text == "second"
    assert client.delete(f"{base}/example_data", timeout=5).reason == "4.05 Method Not Allowed"  # libcoap's


@pytest.mark.peer
def test_an_error_code_is_a_response_not_an_exception(client: Client, libcoap_server: str) -> None:
    response = client.get(f"coap://{libcoap_server}/no/such/thing", timeout=5)
    assert (response.reason, response.success) == ("4.04 Not Found", False)


@pytest.mark.peer
def test_many_requests_at_once_each_get_their_own_response(client: Client, libcoap_server: str) -> None:
    exchanges = [client.start(1, f"coap://{libcoap_server}/time") for _ in range(20)]
    assert all(exchange.wait(10).code == "2.05" for exchange in exchanges)


def test_silence_is_a_timeout_within_the_calls_timeout(client: Client) -> None:
    silent = Peer()  # bound, never answers
    try:
        with pytest.raises(CoapTimeout, match=r"GET coap://.*/x: no response within 0.3 s"):
            client.get(f"coap://{silent.ip}/x", timeout=0.3)
        with pytest.raises(CoapTimeout):
            client.get(f"coap://{silent.ip}/x", confirmable=False, timeout=0.3)
    finally:
        silent.sock.close()


def test_an_rst_ends_the_request_with_coap_reset(client: Client) -> None:
    peer = Peer()
    try:
        exchange = client.start(1, f"coap://{peer.ip}/x")
        request, source = peer.recv()
        peer.sock.sendto(bytes((0x70, 0, request.mid >> 8, request.mid & 0xFF)), source)
        with pytest.raises(CoapReset, match="the server answered RST"):
            exchange.wait(5)
    finally:
        peer.sock.close()


def test_a_separate_response_after_an_empty_ack_is_matched_and_acknowledged(client: Client) -> None:
    peer = Peer()
    try:
        exchange = client.start(1, f"coap://{peer.ip}/slow")
        request, source = peer.recv()
        peer.sock.sendto(bytes((0x60, 0, request.mid >> 8, request.mid & 0xFF)), source)  # empty ACK
        peer.sock.sendto(encode(Message(CON, 69, 0x0777, request.token, [], b"later")), source)
        assert exchange.wait(5).payload == b"later"
        ack, _ = peer.recv()
        assert (ack.mtype, ack.code, ack.mid) == (ACK, 0, 0x0777)
    finally:
        peer.sock.close()


def test_cancel_stops_retransmission_and_the_waiter_gets_cancelled(client: Client) -> None:
    peer = Peer()
    try:
        exchange = client.start(1, f"coap://{peer.ip}/x")
        peer.recv()
        ended = threading.Event()
        waiter_error: list[BaseException] = []

        def wait() -> None:
            try:
                exchange.wait(30)
            except BaseException as err:  # noqa: BLE001 (what the waiting thread got)
                waiter_error.append(err)
            ended.set()

        threading.Thread(target=wait, daemon=True).start()
        exchange.cancel()
        assert ended.wait(5)
        assert isinstance(waiter_error[0], CoapCancelled)
        with pytest.raises(socket.timeout):  # no retransmission after the first timeout (2-3 s)
            peer.recv(timeout=3.5)
    finally:
        peer.sock.close()


def test_on_done_is_called_with_the_response_or_the_error() -> None:
    got: list[tuple] = []
    peer = Peer()
    try:
        with Client() as coap:
            coap.start(1, f"coap://{peer.ip}/a", on_done=lambda r, e: got.append((r and r.payload, e)))
            request, source = peer.recv()
            peer.sock.sendto(encode(Message(ACK, 69, request.mid, request.token, [], b"ok")), source)
            assert eventually(lambda: got, 5)
            coap.start(1, f"coap://{peer.ip}/b", on_done=lambda r, e: got.append((r, type(e).__name__)))
        assert got == [(b"ok", None), (None, "CoapCancelled")]  # closing the client ends the second
    finally:
        peer.sock.close()


def test_the_request_on_the_wire_carries_the_uri_and_options(client: Client) -> None:
    peer = Peer()
    try:
        client.start(2, f"coap://{peer.ip}/a/b%20c?x=1&y", b"body", content_format=50, accept=0)
        request, _ = peer.recv()
        assert (request.mtype, request.code, request.payload) == (CON, 2, b"body")
        assert request.options == [
            (11, b"a"),
            (11, b"b c"),
            (12, b"\x32"),
            (15, b"x=1"),
            (15, b"y"),
            (17, b""),
        ]
    finally:
        peer.sock.close()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1/x", "scheme http; give a coap://host/path (or coaps://) URI"),
        ("coap:///x", "no host"),
        ("coap://example.com/x", "'example.com' is not an IP address; no host name is looked up"),
        ("coap://192.168.1.20/x", "192.168.1.20 is not a loopback address; pass allow_lan=True"),
        ("coap://[::1]/x", "IPv6 is not supported"),
        ("coap://127.0.0.1:99999/x", "the port is not a number from 1 to 65535"),
    ],
)
def test_a_uri_that_cannot_be_used_is_refused_naming_why(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_uri(uri)


@pytest.mark.unit
def test_a_lan_address_is_allowed_only_when_asked() -> None:
    assert parse_uri("coap://192.168.1.20:5700/t", allow_lan=True) == (("192.168.1.20", 5700), [(11, b"t")])
    assert parse_uri("coap://localhost/")[0] == ("127.0.0.1", 5683)


# -- observe against a scripted peer -------------------------------------------------------------------


def _notify(
    peer: Peer, source, token: bytes, value: int | None, payload: bytes, mtype=NON, mid=0x2000, max_age=None
):
    options = [] if value is None else [(6, value.to_bytes(3, "big").lstrip(b"\x00"))]
    if max_age is not None:
        options.append((14, bytes([max_age])))
    peer.sock.sendto(encode(Message(mtype, 69, mid, token, options, payload)), source)


def test_stale_notifications_are_dropped_and_a_plain_response_ends_the_observation(client: Client) -> None:
    peer = Peer()
    got: list[bytes] = []
    try:
        handle = client.observe(f"coap://{peer.ip}/t", lambda r: got.append(r.payload))
        request, source = peer.recv()
        assert request.option(6) == b""  # Observe=0: register
        peer.sock.sendto(encode(Message(ACK, 69, request.mid, request.token, [(6, b"\x05")], b"v5")), source)
        _notify(peer, source, request.token, 7, b"v7", mid=0x2001)
        _notify(peer, source, request.token, 6, b"v6", mid=0x2002)  # older than 7: dropped (§3.4)
        _notify(peer, source, request.token, 8, b"v8", mtype=CON, mid=0x2003)
        ack, _ = peer.recv()
        assert (ack.mtype, ack.mid) == (ACK, 0x2003)
        _notify(peer, source, request.token, None, b"gone", mid=0x2004)  # no Observe: the end (§3.2)
        assert handle.wait_ended(5)
        assert got == [b"v5", b"v7", b"v8", b"gone"]
    finally:
        peer.sock.close()


def test_the_client_registers_again_when_max_age_runs_out(client: Client) -> None:
    peer = Peer()
    try:
        handle = client.observe(f"coap://{peer.ip}/t", lambda r: None)
        request, source = peer.recv()
        reply = Message(ACK, 69, request.mid, request.token, [(6, b"\x01"), (14, b"\x01")], b"v")  # Max-Age 1
        peer.sock.sendto(encode(reply), source)
        again, _ = peer.recv(timeout=10)  # after 1 s and the margin: the same GET, same token
        assert (again.token, again.option(6), again.options) == (request.token, b"", request.options)
        assert again.mid != request.mid
        handle.cancel(active=False)
        assert handle.wait_ended(1)
    finally:
        peer.sock.close()


def test_a_registration_without_answer_reports_the_error(client: Client) -> None:
    peer = Peer()
    errors: list[BaseException] = []
    try:
        handle = client.observe(f"coap://{peer.ip}/t", lambda r: None, on_error=errors.append)
        request, source = peer.recv()
        peer.sock.sendto(bytes((0x70, 0, request.mid >> 8, request.mid & 0xFF)), source)  # RST
        assert handle.wait_ended(5)
        assert [type(e) for e in errors] == [CoapReset]
    finally:
        peer.sock.close()
