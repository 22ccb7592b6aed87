"""Argument checks of ``network.Coap`` past the usual types (issue 8): out-of-range integers, ports and
path lengths get the firmware's error, or the firmware's behaviour, before anything is sent.

- Every integer argument goes through MicroPython 1.11's ``mp_obj_get_int`` (py/obj.c): beyond a 32-bit
  machine word it raises ``OverflowError("overflow converting long int to machine word")``.
- Ports: modcoap keeps the low 16 bits (``netutils_parse_inet_addr`` into a ``uint16_t``, and
  ``coap_uri_t.port``); the strict profiles do that, the docs profile refuses a port outside 0-65535 with
  a ``ValueError`` and says once what the firmware does. A session port of 0 is libcoap 4.2's default, 5683.
- ``uri_path`` is split into a 300-byte buffer (modcoap's ``coap_split_path`` call): the strict profiles
  leave out the segments that do not fit, as libcoap does; the docs profile sends the whole path when the
  request fits one datagram, and refuses it with ``OSError`` when it does not.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from conftest import raises
from peers.coap_peer import Peer

from network.coap.protocol.codec import Message, encode

A, B = "1.20.2.r6", "1.20.3.b2"
ACK = 2
URI_PORT, URI_PATH = 7, 11
OVERFLOW = "overflow converting long int to machine word"


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


# -- integers: mp_obj_get_int -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**31, -(2**31), 2**70, -(2**70)])
def test_read_timeout_beyond_a_machine_word_overflows(coap, ip, value: int) -> None:
    coap.init(ip)
    with raises(OverflowError, OVERFLOW):
        coap.read(value)


def test_read_timeout_of_the_largest_machine_word_is_accepted(coap, ip) -> None:
    """2**31 - 1 ms (24.8 days) is a valid timeout: read() waits (here: until a datagram comes)."""
    coap.init(ip)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x50\x00\x00\x00", (ip, 5683))  # an empty NON: handled (ignored), read() returns
    coap.read(2**31 - 1)
    with raises(ValueError, "If specified, timeout must be bigger or equal to 0!"):
        coap.read(-(2**31 - 1))


def test_other_integer_arguments_overflow_as_on_the_board(coap, ip) -> None:
    coap.init(ip)
    with raises(OverflowError, OVERFLOW):
        coap.add_resource("r", media_type=2**40)
    with raises(OverflowError, OVERFLOW):
        coap.send_request(ip, 2**40)
    with raises(OverflowError, OVERFLOW):
        coap.send_request(ip, coap.REQUEST_GET, content_format=-(2**40))
    assert coap.get_resource("r") is None


# -- init(port=...) -----------------------------------------------------------------------------------


def test_init_port_beyond_a_machine_word_overflows_and_init_works_after(coap, ip) -> None:
    with raises(OverflowError, OVERFLOW):
        coap.init(ip, port=2**70)
    coap.init(ip)  # nothing was initialised
    assert coap.socket().getsockname() == (ip, 5683)


@pytest.mark.parametrize("port", [-1, 70000])
def test_docs_init_port_out_of_range_is_refused(coap, ip, port: int, capsys) -> None:
    with raises(ValueError, 'Invalid "port" parameter value!'):
        coap.init(ip, port=port)
    assert "binds port" in capsys.readouterr().err  # what the firmware does, once
    coap.init(ip, port=6000)
    assert coap.socket().getsockname() == (ip, 6000)


@pytest.mark.parametrize(("port", "bound_port"), [(-1, 65535), (70000, 8929)])
def test_api_a_init_port_binds_the_low_bits_of_2p_plus_1(
    firmware, coap, ip, port: int, bound_port: int
) -> None:
    firmware(A)
    coap.init(ip, port=port)
    assert coap.socket().getsockname() == (ip, bound_port)


# -- client sessions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["docs", B])
def test_session_port_beyond_a_machine_word_overflows(firmware, coap, ip, name: str) -> None:
    if name != "docs":
        firmware(name)
    coap.init()
    with raises(OverflowError, OVERFLOW):
        coap.new_client_session(ip, 2**70)
    with raises(OverflowError, OVERFLOW):
        coap.remove_client_session(ip, 2**70)
    assert coap.get_client_sessions() == []


@pytest.mark.parametrize("port", [-1, 65536, 70000])
def test_docs_session_port_out_of_range_is_refused(coap, ip, port: int, capsys) -> None:
    coap.init()
    with raises(ValueError, 'Invalid "port" parameter value!'):
        coap.new_client_session(ip, port)
    assert coap.get_client_sessions() == []
    err = capsys.readouterr().err
    assert f"port {port}" in err and "low 16 bits" in err


def test_api_b_session_port_keeps_its_low_16_bits(firmware, coap) -> None:
    firmware(B)
    coap.init()
    peer = Peer(65535)
    try:
        session = coap.new_client_session(peer.ip, -1)
        assert session.get_details() == [peer.ip, -1]  # the objects passed in
        session.send_request(coap.REQUEST_GET, uri_path="a")
        msg, _ = peer.recv()
        assert msg.option(URI_PORT) == b"\xff\xff"
        coap.remove_client_session(peer.ip, 65535)  # matched on the same 16 bits
        assert coap.get_client_sessions() == []
    finally:
        peer.close()


@pytest.mark.parametrize("name", ["docs", B])
def test_session_port_0_is_libcoaps_default_port(firmware, coap, peer: Peer, name: str) -> None:
    """libcoap 4.2's coap_socket_connect_udp() connects to COAP_DEFAULT_PORT when the port is 0."""
    if name != "docs":
        firmware(name)
    coap.init()
    session = coap.new_client_session(peer.ip, 0)
    session.send_request(coap.REQUEST_GET, uri_path="a")
    msg, _ = peer.recv()
    assert msg.option(URI_PORT) == b"\x16\x33"  # 5683, from the connected address
    coap.remove_client_session(peer.ip, 0)


# -- send_request(uri_port=..., uri_path=...) ---------------------------------------------------------


def test_docs_uri_port_out_of_range_is_refused_before_anything_is_sent(coap, ip, peer: Peer, capsys) -> None:
    coap.init(ip)
    with raises(ValueError, 'Invalid "uri_port" parameter value!'):
        coap.send_request(peer.ip, coap.REQUEST_GET, uri_port=-1, uri_path="a")
    with raises(OverflowError, OVERFLOW):
        coap.send_request(peer.ip, coap.REQUEST_GET, uri_port=2**70, uri_path="a")
    assert peer.nothing()
    assert "port -1" in capsys.readouterr().err


def test_api_a_uri_port_keeps_its_low_16_bits(firmware, coap, ip) -> None:
    firmware(A)
    coap.init(ip)
    peer = Peer(65535)
    try:
        coap.send_request(peer.ip, coap.REQUEST_GET, uri_port=-1, uri_path="a")
        msg, _ = peer.recv()
        assert msg.option(URI_PORT) == b"\xff\xff"
    finally:
        peer.close()


def test_docs_uri_path_too_long_for_a_datagram_is_refused_before_anything_is_sent(
    coap, ip, peer: Peer, capsys
) -> None:
    coap.init(ip)
    session = coap.new_client_session(peer.ip)
    with pytest.raises(OSError, match="^Cannot create request: "):
        coap.send_request(peer.ip, coap.REQUEST_GET, uri_path="p" * 70_000)
    with pytest.raises(OSError, match="^Cannot create request: "):
        session.send_request(coap.REQUEST_GET, uri_path="p" * 70_000)
    assert peer.nothing()
    session.send_request(coap.REQUEST_GET, uri_path="q" * 1000)  # fits a datagram: sent whole, warned
    assert peer.recv()[0].path() == ("q" * 1000,)
    assert "300-byte buffer" in capsys.readouterr().err


@pytest.mark.parametrize("name", [A, B])
def test_strict_profiles_leave_out_the_path_segments_past_300_bytes(
    firmware, coap, ip, peer: Peer, name
) -> None:
    firmware(name)
    coap.init(ip)
    session = None if name == A else coap.new_client_session(peer.ip)

    def send(path: str) -> tuple[str, ...]:
        if session is None:
            coap.send_request(peer.ip, coap.REQUEST_GET, uri_path=path)
        else:
            session.send_request(coap.REQUEST_GET, uri_path=path)
        msg, source = peer.recv()
        peer.sock.sendto(encode(Message(ACK, 0, msg.mid)), source)  # ends the exchange (NSTART 1)
        coap.read(200) if session is not None else None
        return msg.path()

    assert send("p" * 70_000) == ()  # the one segment does not fit: no Uri-Path at all
    # 200 + 2 header bytes fit; 150 + 2 then no longer do; 90 + 2 still do (libcoap goes on)
    assert send("/".join(("a" * 200, "b" * 150, "c" * 90))) == ("a" * 200, "c" * 90)
