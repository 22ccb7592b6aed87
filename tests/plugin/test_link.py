"""The link-impairment relay: the sans-I/O core (firmware_sim/testkit/impairment.py) on a fake clock with a
seeded ``random.Random``, and the UDP relay (firmware_sim/testkit/link.py) on loopback between a client
socket and a small echo server."""

from __future__ import annotations

import math
import random
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import free_loopback_ip
from peers.udp import DatagramEcho as Echo

from firmware_sim.testkit import impairment
from firmware_sim.testkit.impairment import MAX_QUEUED, REORDER_HOLD, ImpairedPath, Impairment
from firmware_sim.testkit.link import Link

PORT = 5683


def path(seed: int = 1, **settings: float) -> ImpairedPath:
    return ImpairedPath(Impairment(**settings), random.Random(seed))  # type: ignore[arg-type]


def numbered(n: int) -> list[bytes]:
    return [i.to_bytes(2, "big") for i in range(n)]


def balanced(p: ImpairedPath) -> bool:
    return p.sent + p.duplicated == p.dropped + p.delivered + p.queued


# -- the core ----------------------------------------------------------------------------------------


@pytest.mark.unit
def test_without_loss_everything_arrives_at_once_in_order() -> None:
    p = path()
    out = []
    for i, data in enumerate(numbered(100)):
        p.send(i * 0.001, data)
        out += p.due(i * 0.001)
    assert out == numbered(100)
    assert (p.sent, p.dropped, p.duplicated, p.delivered, p.next_due()) == (100, 0, 0, 100, None)


@pytest.mark.unit
def test_loss_1_drops_everything() -> None:
    p = path(loss=1.0)
    for data in numbered(50):
        p.send(0.0, data)
    assert p.due(math.inf) == []
    assert (p.sent, p.dropped, p.delivered) == (50, 50, 0)


@pytest.mark.unit
def test_loss_0_3_drops_about_30_percent_and_the_same_ones_for_the_same_seed() -> None:
    def delivered(seed: int) -> list[bytes]:
        p = path(seed, loss=0.3)
        for data in numbered(2000):
            p.send(0.0, data)
        assert 400 <= p.dropped <= 800 and balanced(p)
        return p.due(0.0)

    assert delivered(7) == delivered(7)
    assert delivered(7) != delivered(8)


@pytest.mark.unit
def test_duplicate_1_delivers_each_twice() -> None:
    p = path(duplicate=1.0)
    for data in numbered(3):
        p.send(0.0, data)
    assert p.due(0.0) == [b"\0\0", b"\0\0", b"\0\1", b"\0\1", b"\0\2", b"\0\2"]
    assert (p.sent, p.duplicated, p.delivered) == (3, 3, 6)


@pytest.mark.unit
def test_delay_holds_until_now_plus_delay_and_not_before() -> None:
    p = path(delay=0.5)
    p.send(10.0, b"x")
    assert p.next_due() == 10.5
    assert p.due(10.0) == [] and p.due(10.499) == []
    assert p.due(10.5) == [b"x"]
    assert p.next_due() is None


@pytest.mark.unit
def test_jitter_adds_at_most_jitter_to_the_delay() -> None:
    p = path(delay=0.1, jitter=0.05)
    for data in numbered(200):
        p.send(0.0, data)
    assert p.due(0.0999) == []
    assert len(p.due(0.15)) == 200


@pytest.mark.unit
def test_reorder_lets_later_datagrams_overtake_and_loses_none() -> None:
    p = path(3, reorder=0.5)
    out = []
    for i, data in enumerate(numbered(200)):
        p.send(i * 0.001, data)
        out += p.due(i * 0.001)
    assert p.next_due() is not None and p.next_due() <= 0.199 + REORDER_HOLD  # type: ignore[operator]
    out += p.due(math.inf)
    assert sorted(out) == numbered(200)
    overtaken = [a for a, b in zip(out, out[1:], strict=False) if a > b]
    assert overtaken
    assert (p.sent, p.dropped, p.delivered, p.queued) == (200, 0, 200, 0)


@pytest.mark.unit
def test_a_partition_drops_what_is_queued_and_what_comes_then_heal_delivers_again() -> None:
    p = path(delay=1.0)
    for data in numbered(5):
        p.send(0.0, data)
    p.impairment = Impairment(delay=1.0, partition=True)
    assert (p.queued, p.dropped) == (0, 5)
    p.send(0.5, b"cut")
    assert p.due(math.inf) == [] and p.dropped == 6
    p.impairment = Impairment()
    p.send(2.0, b"again")
    assert p.due(2.0) == [b"again"]
    assert balanced(p)


@pytest.mark.unit
def test_new_settings_apply_to_datagrams_sent_afterwards() -> None:
    p = path(delay=1.0)
    p.send(0.0, b"slow")
    p.impairment = Impairment()
    p.send(0.0, b"fast")
    assert p.due(0.0) == [b"fast"]
    assert p.due(1.0) == [b"slow"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("loss", -0.1),
        ("loss", 1.5),
        ("duplicate", 2),
        ("reorder", math.nan),
        ("loss", "0.5"),
        ("delay", -1.0),
        ("jitter", math.inf),
        ("delay", True),
        ("partition", "yes"),
    ],
)
def test_invalid_values_raise_value_error_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be "):
        Impairment(**{field: value})  # type: ignore[arg-type]


@pytest.mark.unit
def test_the_queue_is_bounded_in_datagrams_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    p = path(delay=1.0)
    for _ in range(MAX_QUEUED + 5):
        p.send(0.0, b"x")
    assert (p.queued, p.dropped) == (MAX_QUEUED, 5)
    assert len(p.due(1.0)) == MAX_QUEUED and balanced(p)
    monkeypatch.setattr(impairment, "MAX_QUEUED_BYTES", 1000)
    for _ in range(3):
        p.send(2.0, bytes(400))
    assert (p.queued, p.dropped) == (2, 6)


@pytest.mark.unit
def test_counters_balance_under_every_impairment_at_once() -> None:
    p = path(5, loss=0.2, duplicate=0.3, delay=0.01, jitter=0.02, reorder=0.3)
    for i, data in enumerate(numbered(1000)):
        p.send(i * 0.001, data)
        p.due(i * 0.001)
        assert balanced(p)
    p.due(math.inf)
    assert p.queued == 0 and balanced(p) and p.duplicated > 0 and p.dropped > 0


# -- the relay on loopback ---------------------------------------------------------------------------


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo(free_loopback_ip(PORT))
    yield server
    server.stop()


@pytest.fixture
def link(echo: Echo) -> Iterator[Link]:
    with Link(echo.address, seed=1) as relay:
        yield relay


@pytest.fixture
def client() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def ask(client: socket.socket, link: Link, data: bytes, timeout: float = 2.0) -> bytes | None:
    """Send ``data`` through the link; its echo, or None if none came within ``timeout``."""
    client.sendto(data, (link.address, link.port))
    return answer(client, timeout)


def answer(client: socket.socket, timeout: float) -> bytes | None:
    client.settimeout(timeout)
    try:
        return client.recv(65536)
    except (TimeoutError, ConnectionRefusedError):
        return None


def wait_for(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def test_datagrams_go_through_and_answers_come_back(link: Link, echo: Echo, client: socket.socket) -> None:
    assert link.port == PORT and link.address != echo.address[0]
    assert ask(client, link, b"hello") == b"hello"
    assert echo.received == [b"hello"]
    stats = link.stats
    assert (stats["to_target"]["delivered"], stats["from_target"]["delivered"]) == (1, 1)


def test_each_client_gets_its_own_answers(link: Link, client: socket.socket) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        client.sendto(b"one", (link.address, link.port))
        other.sendto(b"two", (link.address, link.port))
        assert (answer(client, 2.0), answer(other, 2.0)) == (b"one", b"two")


def test_a_partition_cuts_both_ways_and_heal_restores(link: Link, echo: Echo, client: socket.socket) -> None:
    link.impair(delay=0.05)
    link.partition()
    assert ask(client, link, b"lost", timeout=0.3) is None
    assert echo.received == []
    link.heal()
    assert link.to_target.impairment == Impairment(delay=0.05)
    assert ask(client, link, b"back") == b"back"


def test_delay_makes_the_round_trip_at_least_that_long(link: Link, client: socket.socket) -> None:
    link.impair(delay=0.2)
    start = time.monotonic()
    assert ask(client, link, b"slow") == b"slow"
    assert time.monotonic() - start >= 0.4  # 0.2 s each way


def test_duplicate_to_target_reaches_the_target_twice(link: Link, echo: Echo, client: socket.socket) -> None:
    link.impair(duplicate=1.0, direction="to_target")
    for data in (b"a", b"b", b"c"):
        client.sendto(data, (link.address, link.port))
    assert wait_for(lambda: len(echo.received) >= 6)
    assert sorted(echo.received) == [b"a", b"a", b"b", b"b", b"c", b"c"]
    assert sorted(answer(client, 2.0) or b"" for _ in range(6)) == sorted(echo.received)
    assert link.stats["to_target"]["duplicated"] == 3
    assert link.stats["from_target"]["duplicated"] == 0


def test_loss_and_clear(link: Link, echo: Echo, client: socket.socket) -> None:
    link.impair(loss=1.0, direction="from_target")
    assert ask(client, link, b"gone", timeout=0.3) is None
    assert echo.received == [b"gone"] and link.stats["from_target"]["dropped"] == 1
    link.clear()
    assert ask(client, link, b"fine") == b"fine"


def test_the_relay_survives_a_target_that_is_not_there_yet(client: socket.socket) -> None:
    ip = free_loopback_ip(PORT)
    with Link((ip, PORT)) as relay:
        client.sendto(b"nobody", (relay.address, relay.port))  # ICMP port unreachable
        assert wait_for(lambda: relay.stats["to_target"]["delivered"] == 1)
        server = Echo(ip)
        try:
            assert ask(client, relay, b"now") == b"now"
            assert relay.running
        finally:
            server.stop()


def test_close_ends_the_thread_and_nothing_answers_after(echo: Echo, client: socket.socket) -> None:
    relay = Link(echo.address)
    assert ask(client, relay, b"up") == b"up"
    relay.close()
    assert not relay.running
    relay.close()  # twice is fine
    assert ask(client, relay, b"down", timeout=0.3) is None
    assert echo.received == [b"up"]


def test_only_loopback_addresses_and_a_known_direction_are_accepted(echo: Echo) -> None:
    with pytest.raises(ValueError, match="target must be an IPv4 loopback address"):
        Link(("192.0.2.1", PORT))
    with pytest.raises(ValueError, match="listen_ip must be an IPv4 loopback address"):
        Link(echo.address, listen_ip="0.0.0.0")
    with pytest.raises(ValueError, match="listen_ip must differ"):
        Link(echo.address, listen_ip=echo.address[0])
    with Link(echo.address) as relay:
        with pytest.raises(ValueError, match="^direction must be one of"):
            relay.impair(direction="up")
        with pytest.raises(ValueError, match="^loss must be"):
            relay.impair(loss=2.0)


def test_the_client_idle_longest_is_forgotten_beyond_the_bound(
    monkeypatch: pytest.MonkeyPatch, link: Link, client: socket.socket
) -> None:
    monkeypatch.setattr("firmware_sim.testkit.link.MAX_CLIENTS", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        assert ask(client, link, b"first") == b"first"
        assert ask(other, link, b"second") == b"second"  # the first client is forgotten
        assert ask(client, link, b"again") == b"again"  # and comes back with a new upstream socket
