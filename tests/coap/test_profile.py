"""Firmware profiles: the default warns where firmware versions differ; a strict profile reproduces."""

from __future__ import annotations

import socket

import pytest

from network import profile as profiles
from network.coap.protocol.codec import Message, decode, encode


@pytest.fixture
def strict():
    """Activate a profile for one test, then restore the default."""
    previous = profiles.active()

    def use(**kwargs) -> profiles.FirmwareProfile:
        chosen = profiles.FirmwareProfile(name="test", **kwargs)
        profiles.activate(chosen)
        return chosen

    yield use
    profiles.activate(previous)


def _get(ip: str, port: int, path: str, accept: int | None = None) -> Message:
    options = [(11, path.encode())]
    if accept is not None:
        options.append((17, bytes((accept,))))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(encode(Message(0, 1, 0x4242, b"p", options)), (ip, port))
        return decode(sock.recvfrom(2048)[0])


def test_docs_profile_binds_the_given_port_and_warns_once(coap, ip, capsys):
    coap.init(ip, port=5683)
    assert coap.socket().getsockname() == (ip, 5683)
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "firmware-sim: warning: Coap.init(port=5683) binds port 11367 on firmware 1.20.1 to 1.20.3.b2",
        "firmware-sim: warning: Coap.init(port=5683) uses port 2841 on firmware 1.20.3.b3 and later (port "
        "read as an object: only the default works)",
    ]


def test_strict_profile_reproduces_the_init_port_bug_silently(coap, ip, strict, capsys):
    strict(reproduces=frozenset({"init-port"}))
    coap.init(ip, port=5683)
    assert coap.socket().getsockname() == (ip, 11367)
    assert capsys.readouterr().err == ""


def test_strict_profile_sends_content_format_and_max_age_255(coap, reader, ip, strict):
    strict(reproduces=frozenset({"unset-content-format", "unset-max-age"}))
    coap.init(ip)
    coap.add_resource("plain", value="x").callback(coap.REQUEST_GET, True)
    reply = _get(ip, 5683, "plain")
    assert (reply.code, reply.option(12), reply.option(14), reply.payload) == (69, b"\xff", b"\xff", b"x")
    assert _get(ip, 5683, "plain", accept=0).code == 134  # any Accept is 4.06: 0 != 255


def test_docs_profile_leaves_unset_options_out(coap, reader, ip, capsys):
    coap.init(ip)
    coap.add_resource("plain", value="x").callback(coap.REQUEST_GET, True)
    reply = _get(ip, 5683, "plain")
    assert (reply.code, reply.options, reply.payload) == (69, [], b"x")
    assert _get(ip, 5683, "plain", accept=50).code == 69
    err = capsys.readouterr().err
    assert "has no media_type: firmware 1.20.1 to 1.20.3.b2 send Content-Format 255" in err
    assert "has no max_age: firmware 1.20.1 to 1.20.3.b2 send Max-Age 255" in err
    assert err.count("has no media_type") == 1  # once, however many requests


def test_callback_disable_bug(coap, reader, ip, strict, capsys):
    strict(reproduces=frozenset({"callback-disable"}))
    coap.init(ip)
    r = coap.add_resource("x", value="v")
    r.callback(coap.REQUEST_GET, False)  # 1.20.2.r4: enables
    assert _get(ip, 5683, "x").code == 69


def test_docs_callback_false_disables_and_warns(coap, reader, ip, capsys):
    coap.init(ip)
    r = coap.add_resource("x", value="v")
    r.callback(coap.REQUEST_GET, True)
    assert _get(ip, 5683, "x").code == 69
    r.callback(coap.REQUEST_GET, False)
    assert _get(ip, 5683, "x").code == 133
    assert "resource.callback(1, False) enables those methods instead on firmware" in capsys.readouterr().err


def test_hidden_functions_raise_attribute_error_as_on_the_board(coap, ip, strict):
    strict(hidden=frozenset({"socket", "send_request"}))
    with pytest.raises(AttributeError, match="'module' object has no attribute 'socket'"):
        coap.socket  # noqa: B018
    assert not hasattr(coap, "send_request")
    assert hasattr(coap, "read")


def test_max_age_is_cut_to_8_bits_only_where_reproduced(coap, reader, ip, strict, capsys):
    strict(reproduces=frozenset({"max-age-8bit"}))
    coap.init(ip)
    coap.add_resource("m", value="v", max_age=3600, media_type=0).callback(coap.REQUEST_GET, True)
    assert _get(ip, 5683, "m").option(14) == bytes((3600 & 0xFF,))


def test_docs_max_age_is_sent_whole(coap, reader, ip, capsys):
    coap.init(ip)
    coap.add_resource("m", value="v", max_age=3600, media_type=0).callback(coap.REQUEST_GET, True)
    assert _get(ip, 5683, "m").option(14) == (3600).to_bytes(2, "big")
    assert "Coap.add_resource(max_age=3600) sends Max-Age 16 on firmware" in capsys.readouterr().err
