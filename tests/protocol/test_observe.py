"""Observing resources (RFC 7641) without I/O: the server's list of observers (registration, the ways an
entry ends, CON every 24 hours, the bound) and a client's observation (§3.4 ordering, re-registering,
cancelling)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from network.coap.protocol.codec import Message, decode, encode, encode_uint
from network.coap.protocol.numbers import Code
from network.coap.protocol.observe import (
    CON_INTERVAL,
    MAX_OBSERVERS,
    SEQUENCE_MODULUS,
    Deregistered,
    Ended,
    Notified,
    Observation,
    ObserveRegistry,
    Refused,
    Registered,
    Reject,
    RequestKey,
    Stale,
    is_fresher,
)

pytestmark = pytest.mark.unit

CON, NON, ACK = 0, 1, 2
OBSERVE, URI_PATH, MAX_AGE, URI_QUERY = 6, 11, 14, 15
PEER = ("127.0.0.9", 40000)
OTHER = ("127.0.0.9", 40001)
HOUR = 3600.0


def observe_get(
    observe: int | None = 0, token: bytes = b"ob", path: str = "temp", query: str | None = None
) -> Message:
    options = [(URI_PATH, path.encode())]
    if observe is not None:
        options.insert(0, (OBSERVE, encode_uint(observe)))
    if query is not None:
        options.append((URI_QUERY, query.encode()))
    return Message(CON, Code.GET, 0x7D34, token, options)


def mids() -> itertools.count[int]:
    return itertools.count(0x100)


def register(
    reg: ObserveRegistry,
    peer: tuple[str, int] = PEER,
    now: float = 0.0,
    token: bytes = b"ob",
    path: str = "temp",
    query: str | None = None,
) -> Registered:
    result = reg.on_request(observe_get(0, token, path, query), peer, Code.CONTENT, now)
    assert isinstance(result, Registered)
    return result


# -- §3.4: which notification is newer ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("v1", "v2", "newer"),
    [
        (5, 6, True),
        (6, 5, False),
        (7, 7, False),
        (SEQUENCE_MODULUS - 1, 0, True),  # the 24-bit wrap
        (0, SEQUENCE_MODULUS - 1, False),
        (SEQUENCE_MODULUS - 10, 5, True),
        (0, (1 << 23) - 1, True),
        (0, 1 << 23, False),  # exactly half way: neither is newer
        (1 << 23, 0, False),
        ((1 << 23) + 1, 0, True),
    ],
)
def test_the_freshness_rule_compares_24_bit_values(v1: int, v2: int, newer: bool) -> None:
    assert is_fresher(v1, 10.0, v2, 10.5) is newer


def test_after_128_seconds_any_value_is_newer() -> None:
    assert not is_fresher(100, 0.0, 3, 128.0)
    assert is_fresher(100, 0.0, 3, 128.001)


@given(st.integers(0, SEQUENCE_MODULUS - 1), st.integers(0, SEQUENCE_MODULUS - 1))
def test_of_two_values_at_one_time_exactly_one_is_newer_unless_half_apart(v1: int, v2: int) -> None:
    ahead = (v2 - v1) % SEQUENCE_MODULUS
    assert is_fresher(v1, 0.0, v2, 1.0) is (0 < ahead < 1 << 23)
    if v1 != v2 and ahead != 1 << 23:
        assert is_fresher(v1, 0.0, v2, 1.0) != is_fresher(v2, 0.0, v1, 1.0)


# -- server: registration -----------------------------------------------------------------------------


def test_a_get_with_observe_0_registers_and_notifications_follow() -> None:
    reg = ObserveRegistry(first_value=41)
    ok = register(reg)
    assert ok.observe == 41 and ok.option() == (OBSERVE, b"\x29")
    assert reg.observers(("temp",)) == [ok.observer] and ok.observer.request == RequestKey(("temp",))
    (note,) = reg.notify(("temp",), 5.0, mids().__next__)
    assert (note.mtype, note.mid, note.observe, note.code) == (NON, 0x100, 42, Code.CONTENT)
    msg = note.message([(12, b""), (14, b"\x3c")], b"22.5")
    assert encode(msg) == bytes([0x52, 0x45, 0x01, 0x00]) + b"ob" + b"\x61\x2a\x60\x21\x3c\xff22.5"


def test_requests_that_do_not_register() -> None:
    reg = ObserveRegistry()
    assert reg.on_request(observe_get(None), PEER, Code.CONTENT, 0.0) is None
    assert reg.on_request(observe_get(5), PEER, Code.CONTENT, 0.0) is None  # not 0 or 1 (§2)
    put = Message(CON, Code.PUT, 1, b"ob", [(OBSERVE, b"")])
    assert reg.on_request(put, PEER, Code.CHANGED, 0.0) is None
    refused = reg.on_request(observe_get(), PEER, Code.NOT_FOUND, 0.0)
    assert isinstance(refused, Refused) and len(reg) == 0


def test_re_registration_replaces_by_token_or_by_request() -> None:
    reg = ObserveRegistry()
    first = register(reg)
    again = register(reg, now=10.0)
    assert len(reg) == 1 and again.observe > first.observe
    new_token = register(reg, token=b"n2")
    assert len(reg) == 1 and reg.find(PEER, b"ob") is None and reg.find(PEER, b"n2") is new_token.observer
    register(reg, token=b"q1", query="unit=C")  # another query: another request
    register(reg, peer=OTHER)
    assert len(reg) == 3
    tokens = sorted(n.observer.token for n in reg.notify(("temp",), 20.0, mids().__next__))
    assert tokens == [b"n2", b"ob", b"q1"]


def test_a_failed_re_registration_ends_the_entry() -> None:
    reg = ObserveRegistry()
    register(reg)
    assert isinstance(reg.on_request(observe_get(), PEER, Code.NOT_FOUND, 1.0), Refused)
    assert len(reg) == 0


# -- server: the ways an entry ends -------------------------------------------------------------------


def test_deregistration_by_get_with_observe_1() -> None:
    reg = ObserveRegistry()
    ok = register(reg)
    gone = reg.on_request(observe_get(1), PEER, Code.CONTENT, 5.0)
    assert gone == Deregistered(ok.observer) and len(reg) == 0
    assert reg.notify(("temp",), 6.0, mids().__next__) == []
    assert reg.on_request(observe_get(1), PEER, Code.CONTENT, 5.0) == Deregistered(None)


def test_deregistration_by_rst_to_a_notification() -> None:
    reg = ObserveRegistry()
    register(reg)
    register(reg, peer=OTHER)
    notes = {n.observer.peer: n for n in reg.notify(("temp",), 1.0, mids().__next__)}
    assert reg.on_rst(OTHER, notes[PEER].mid) is None  # that id went to another peer
    assert reg.on_rst(PEER, 0x9999) is None and len(reg) == 2
    assert reg.on_rst(PEER, notes[PEER].mid) is notes[PEER].observer
    assert [o.peer for o in reg.observers(("temp",))] == [OTHER]


def test_an_rst_to_an_old_notification_is_no_longer_matched() -> None:
    reg = ObserveRegistry()
    register(reg)
    counter = mids()
    first = reg.notify(("temp",), 1.0, counter.__next__)[0].mid
    for i in range(10):
        reg.notify(("temp",), 2.0 + i, counter.__next__)
    assert reg.on_rst(PEER, first) is None and len(reg) == 1


def test_a_con_notification_that_times_out_ends_the_entry() -> None:
    reg = ObserveRegistry(confirmable=True)
    register(reg)
    (note,) = reg.notify(("temp",), 1.0, mids().__next__)
    assert note.mtype == CON
    assert reg.on_timeout(PEER, note.mid) is note.observer and len(reg) == 0


def test_a_non_2xx_notification_has_no_observe_and_ends_the_entries() -> None:
    reg = ObserveRegistry()
    register(reg)
    register(reg, peer=OTHER)
    notes = reg.notify(("temp",), 1.0, mids().__next__, code=Code.NOT_FOUND)
    assert len(notes) == 2 and all(n.observe is None for n in notes)
    assert notes[0].message(payload=b"Not Found").option(OBSERVE) is None
    assert len(reg) == 0


def test_removing_a_resource_forgets_its_observers_only() -> None:
    reg = ObserveRegistry()
    register(reg)
    register(reg, token=b"hu", path="humidity")
    assert len(reg.remove_resource(("temp",))) == 1
    assert [o.token for o in reg.observers(("humidity",))] == [b"hu"] and reg.observers(("temp",)) == []
    assert reg.cancel(PEER, b"hu") is not None and len(reg) == 0


# -- server: CON or NON (§4.5) ------------------------------------------------------------------------


def types_at(reg: ObserveRegistry, times: list[float], ack: bool = True) -> list[int]:
    counter, out = mids(), []
    for now in times:
        (note,) = reg.notify(("temp",), now, counter.__next__)
        out.append(note.mtype)
        if ack and note.mtype == CON:
            reg.on_ack(PEER, note.mid, now + 0.1)
    return out


def test_a_con_notification_at_least_every_24_hours() -> None:
    reg = ObserveRegistry()
    register(reg)
    times = [1 * HOUR, 12 * HOUR, CON_INTERVAL - 1, CON_INTERVAL, CON_INTERVAL + 1, 2 * CON_INTERVAL]
    assert types_at(reg, times) == [NON, NON, NON, CON, NON, CON]


def test_while_a_con_is_unacknowledged_the_next_notification_is_con_too() -> None:
    reg = ObserveRegistry()
    register(reg)
    assert types_at(reg, [CON_INTERVAL, CON_INTERVAL + 1, CON_INTERVAL + 2], ack=False) == [CON, CON, CON]


def test_ack_interval_asks_for_a_con_when_nothing_was_heard_for_that_long() -> None:
    reg = ObserveRegistry(ack_interval=HOUR)
    register(reg)
    assert types_at(reg, [10.0, HOUR, HOUR + 10, 2 * HOUR + 0.1]) == [NON, CON, NON, CON]


def test_the_number_of_observers_is_bounded() -> None:
    reg = ObserveRegistry()
    for i in range(MAX_OBSERVERS):
        register(reg, peer=("127.0.0.9", 1024 + i))
    over = reg.on_request(observe_get(), OTHER, Code.CONTENT, 0.0)
    assert isinstance(over, Refused) and len(reg) == MAX_OBSERVERS
    register(reg, peer=("127.0.0.9", 1024))  # re-registering an entry still works when full


def test_observe_values_wrap_at_24_bits_and_the_client_accepts_the_wrap() -> None:
    reg = ObserveRegistry(first_value=SEQUENCE_MODULUS - 1)
    ok = register(reg)
    assert ok.option() == (OBSERVE, b"\xff\xff\xff")
    (note,) = reg.notify(("temp",), 1.0, mids().__next__)
    assert note.observe == 0 and note.message().option(OBSERVE) == b""
    client = Observation(observe_get())
    assert client.accept(SEQUENCE_MODULUS - 1, 0.0) and client.accept(0, 1.0)


# -- client -------------------------------------------------------------------------------------------


def notification(value: int | None, max_age: int | None = None, code: int = Code.CONTENT) -> Message:
    options = [] if value is None else [(OBSERVE, encode_uint(value))]
    if max_age is not None:
        options.append((MAX_AGE, encode_uint(max_age)))
    return Message(NON, code, 1, b"ob", options, b"v")


def test_older_notifications_are_dropped_and_newer_delivered() -> None:
    client = Observation(observe_get())
    assert isinstance(client.receive(notification(10), 0.0), Notified)
    assert isinstance(client.receive(notification(12), 1.0), Notified)
    assert client.receive(notification(11), 2.0) == Stale(notification(11), 11)  # reordered
    assert isinstance(client.receive(notification(11), 131.0), Notified)  # 128 s after 12 arrived
    assert client.last_value == 11


def test_re_registration_is_due_after_max_age_plus_the_margin() -> None:
    client = Observation(observe_get(), margin=5.0)
    assert not client.reregister_due(1000.0)  # nothing delivered yet
    client.receive(notification(1, max_age=30), 100.0)
    assert client.reregister_at() == 135.0
    assert not client.reregister_due(134.9) and client.reregister_due(135.0)
    client.receive(notification(2), 120.0)  # no Max-Age: 60 s
    assert client.reregister_at() == 185.0
    again = client.reregistration(0x22)
    assert again.token == b"ob" and again.option(OBSERVE) == b"" and again.mid == 0x22


def test_a_response_without_observe_ends_the_observation() -> None:
    client = Observation(observe_get())
    client.receive(notification(1), 0.0)
    assert client.receive(notification(None, code=Code.NOT_FOUND), 1.0) == Ended(notification(None, code=132))
    assert client.reregister_at() is None
    assert isinstance(client.receive(notification(2), 2.0), Reject)


def test_cancel_by_get_with_observe_1() -> None:
    client = Observation(observe_get())
    client.receive(notification(1), 0.0)
    cancel = client.cancel(0x7D35)
    assert encode(cancel) == bytes([0x42, 0x01, 0x7D, 0x35]) + b"ob" + b"\x61\x01\x54temp"
    assert decode(encode(cancel)).option(OBSERVE) == b"\x01"
    assert isinstance(client.receive(notification(2), 1.0), Reject)  # in flight meanwhile
    assert isinstance(client.receive(notification(None), 1.5), Ended)  # the answer to the cancel


def test_cancel_by_forgetting_rejects_the_next_notification() -> None:
    client = Observation(observe_get())
    client.receive(notification(1), 0.0)
    client.forget()
    assert client.receive(notification(2), 1.0) == Reject(notification(2))
    assert not client.reregister_due(1e9)


def test_client_and_server_agree_on_deregistration_by_rst() -> None:
    reg, client = ObserveRegistry(), Observation(observe_get())
    ok = register(reg)
    assert isinstance(client.receive(notification(ok.observe), 0.0), Notified)
    client.forget()
    (note,) = reg.notify(("temp",), 1.0, mids().__next__)
    assert isinstance(client.receive(note.message(payload=b"v"), 1.0), Reject)
    reg.on_rst(PEER, note.mid)  # the RST the client sent for it
    assert len(reg) == 0
