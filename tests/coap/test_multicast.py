"""``service_discovery=True``: the server answers requests sent to 224.0.1.187, only when it has something
to say (RFC 7252 §8.1), and from its unicast address.

Multicast stays on this machine: the sender uses IP_MULTICAST_IF 127.0.0.1 and TTL 0. Each test uses its
own port so that parallel tests' servers (all in the same group on ``lo``) do not answer each other.
"""

from __future__ import annotations

import random
import socket

from network.coap.protocol.codec import Message, decode, encode

GROUP = "224.0.1.187"


def _multicast_sender() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
    sock.bind(("127.0.0.1", 0))
    return sock


def _get(path: str, mid: int, query: str | None = None) -> bytes:
    options = [(11, seg.encode()) for seg in path.split("/")]
    if query:
        options.append((15, query.encode()))
    return encode(Message(1, 1, mid, b"mc", options))


def _replies(sock: socket.socket, wait: float) -> list[tuple[Message, tuple[str, int]]]:
    sock.settimeout(wait)
    got = []
    try:
        while True:
            data, peer = sock.recvfrom(2048)
            got.append((decode(data), peer))
    except TimeoutError:
        return got


def _server(coap, ip: str) -> int:
    port = random.SystemRandom().randrange(20000, 60000)
    coap.init(ip, port=port, service_discovery=True)
    r = coap.add_resource("sensor", media_type=coap.MEDIATYPE_TEXT_PLAIN, value="7")
    r.add_attribute("rt", "temperature")
    r.callback(coap.REQUEST_GET, True)
    return port


def test_multicast_discovery_is_answered_from_the_unicast_address(coap, reader, ip):
    port = _server(coap, ip)
    with _multicast_sender() as sock:
        sock.sendto(_get(".well-known/core", 0x1001), (GROUP, port))
        replies = [(m, p) for m, p in _replies(sock, 1.0) if p == (ip, port)]
    assert len(replies) == 1
    msg, _ = replies[0]
    assert (msg.mtype, msg.code, msg.token) == (1, 69, b"mc")  # NON 2.05
    assert msg.payload == b"</sensor>;rt=temperature"


def test_multicast_gets_no_error_responses(coap, reader, ip):
    port = _server(coap, ip)
    with _multicast_sender() as sock:
        sock.sendto(_get("nothere", 0x2001), (GROUP, port))  # 4.04 by unicast: silence by multicast
        sock.sendto(_get(".well-known/core", 0x2002, "rt=humidity"), (GROUP, port))  # nothing matches
        silent = [m for m, p in _replies(sock, 0.7) if p == (ip, port)]
        sock.sendto(_get("nothere", 0x2003), (ip, port))
        unicast = [m for m, p in _replies(sock, 1.0) if p == (ip, port)]
    assert silent == []
    assert [(m.code, m.payload) for m in unicast] == [(132, b"Not Found")]


def test_multicast_filter_match_is_answered(coap, reader, ip):
    port = _server(coap, ip)
    with _multicast_sender() as sock:
        sock.sendto(_get(".well-known/core", 0x3001, "rt=temp*"), (GROUP, port))
        replies = [m for m, p in _replies(sock, 1.0) if p == (ip, port)]
    assert [m.payload for m in replies] == [b"</sensor>;rt=temperature"]
