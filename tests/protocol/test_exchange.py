"""The sans-I/O message layer (RFC 7252 §4): de-duplication, retransmission and response matching.

No sockets: datagrams go in with :meth:`MessageLayer.receive` at an explicit clock value, and what the
layer would send is read from :attr:`MessageLayer.outgoing`.
"""

from __future__ import annotations

import random

import pytest

from network.coap.protocol.codec import Message, decode, encode
from network.coap.protocol.exchange import ExchangeFailed, MessageLayer, RequestReceived, ResponseReceived
from network.coap.protocol.numbers import (
    ACK_RANDOM_FACTOR,
    ACK_TIMEOUT,
    EXCHANGE_LIFETIME,
    MAX_RETRANSMIT,
    NON_LIFETIME,
)

pytestmark = pytest.mark.unit

CON, NON, ACK, RST = 0, 1, 2, 3
GET, CONTENT = 1, 69
PEER = ("127.0.0.9", 40000)
OTHER = ("127.0.0.9", 40001)


def layer(seed: int = 1) -> MessageLayer:
    return MessageLayer(random.Random(seed))


def take(ml: MessageLayer) -> list[tuple[bytes, object]]:
    out = list(ml.outgoing)
    ml.outgoing.clear()
    return out


def rst(mid: int) -> bytes:
    return bytes((0x70, 0, mid >> 8, mid & 0xFF))


def empty_ack(mid: int) -> bytes:
    return bytes((0x60, 0, mid >> 8, mid & 0xFF))


def request(mtype: int = CON, mid: int = 0x1234, token: bytes = b"tk", path: str = "a") -> bytes:
    return encode(Message(mtype, GET, mid, token, [(11, path.encode())]))


# -- server side: de-duplication ----------------------------------------------------------------------


def test_duplicate_con_within_exchange_lifetime_gets_the_cached_reply() -> None:
    ml = layer()
    event = ml.receive(request(), PEER, now=0.0)
    assert isinstance(event, RequestReceived)
    assert event.peer == PEER and event.message.path() == ("a",)
    ml.respond(event, CONTENT, [(12, b"")], b"hello")
    first = take(ml)
    assert len(first) == 1
    reply = decode(first[0][0])
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (ACK, CONTENT, 0x1234, b"tk")
    assert reply.payload == b"hello"

    for now in (1.0, 60.0, EXCHANGE_LIFETIME - 0.01):
        assert ml.receive(request(), PEER, now) is None  # no second RequestReceived
        assert take(ml) == first  # the identical bytes, to the same peer


def test_duplicate_con_after_exchange_lifetime_is_a_new_request() -> None:
    ml = layer()
    ml.respond(ml.receive(request(), PEER, 0.0), CONTENT, payload=b"one")
    take(ml)
    event = ml.receive(request(), PEER, EXCHANGE_LIFETIME + 0.01)
    assert isinstance(event, RequestReceived)
    assert take(ml) == []  # nothing sent by itself: the new request waits for its answer


def test_same_mid_from_another_peer_is_not_a_duplicate() -> None:
    ml = layer()
    ml.respond(ml.receive(request(), PEER, 0.0), CONTENT, payload=b"one")
    assert isinstance(ml.receive(request(), OTHER, 1.0), RequestReceived)


def test_duplicate_con_before_the_answer_gets_nothing_and_no_event() -> None:
    ml = layer()
    event = ml.receive(request(), PEER, 0.0)
    assert ml.receive(request(), PEER, 0.5) is None
    assert take(ml) == []
    ml.respond(event, CONTENT, payload=b"late")
    late = take(ml)
    assert ml.receive(request(), PEER, 1.0) is None
    assert take(ml) == late


def test_duplicate_non_is_ignored() -> None:
    ml = layer()
    event = ml.receive(request(NON), PEER, 0.0)
    assert isinstance(event, RequestReceived)
    ml.respond(event, CONTENT, payload=b"x")
    (sent,) = take(ml)
    reply = decode(sent[0])
    assert (reply.mtype, reply.mid, reply.token) == (NON, 0x1234, b"tk")
    for now in (1.0, NON_LIFETIME - 0.01):
        assert ml.receive(request(NON), PEER, now) is None
        assert take(ml) == []
    assert isinstance(ml.receive(request(NON), PEER, NON_LIFETIME + 0.01), RequestReceived)


def test_no_answer_to_a_con_still_acknowledges_it() -> None:
    ml = layer()
    ml.respond(ml.receive(request(), PEER, 0.0), None)
    assert take(ml) == [(empty_ack(0x1234), PEER)]
    ml.respond(ml.receive(request(NON, mid=7), PEER, 0.0), None)
    assert take(ml) == []


# -- server side: pings and format errors -------------------------------------------------------------


@pytest.mark.parametrize("mid", [0, 1, 0x1234, 0xFFFF])
def test_ping_is_answered_with_rst_of_the_same_mid(mid: int) -> None:
    ml = layer()
    assert ml.receive(bytes((0x40, 0, mid >> 8, mid & 0xFF)), PEER, 0.0) is None
    assert take(ml) == [(rst(mid), PEER)]


def test_empty_non_ack_rst_get_no_reply() -> None:
    ml = layer()
    for first in (0x50, 0x60, 0x70):
        assert ml.receive(bytes((first, 0, 0, 1)), PEER, 0.0) is None
    assert take(ml) == []


@pytest.mark.parametrize(
    "malformed",
    [
        b"\x49\x01\x00\x05" + b"t" * 9,  # TKL 9
        b"\x40\x01\x00\x05\xf1x",  # option delta nibble 15
        b"\x40\x01\x00\x05\x1fxx",  # option length nibble 15
        b"\x40\x01\x00\x05\xff",  # payload marker, no payload
        b"\x40\x00\x00\x05\x00",  # empty message with a trailing byte
        b"\x40\x01\x00\x05\x13a",  # truncated option
        b"\x40\xe0\x00\x05",  # reserved code class 7
        b"\x40\x20\x00\x05",  # reserved code class 1
    ],
)
def test_malformed_con_gets_rst_malformed_non_ack_nothing(malformed: bytes) -> None:
    ml = layer()
    assert ml.receive(malformed, PEER, 0.0) is None
    assert take(ml) == [(rst(5), PEER)]
    for mtype in (NON, ACK, RST):
        data = bytes((malformed[0] | mtype << 4,)) + malformed[1:]
        assert ml.receive(data, PEER, 0.0) is None
        assert take(ml) == []


@pytest.mark.parametrize("data", [b"", b"\x40", b"\x40\x01\x00", b"\x80\x01\x00\x05", b"\xc0\x00\x00\x05"])
def test_short_or_other_version_datagrams_get_nothing(data: bytes) -> None:
    ml = layer()
    assert ml.receive(data, PEER, 0.0) is None
    assert take(ml) == []


# -- client side: retransmission ----------------------------------------------------------------------


def send_con(ml: MessageLayer, now: float = 0.0, token: bytes = b"c1", peer=PEER) -> Message:
    msg = Message(CON, GET, ml.next_mid(), token, [(11, b"x")])
    data = ml.send(msg, peer, now)
    assert take(ml) == [(data, peer)]
    return msg


@pytest.mark.parametrize("seed", range(8))
def test_con_retransmission_schedule_and_give_up(seed: int) -> None:
    ml = layer(seed)
    msg = send_con(ml, now=100.0)
    wire = encode(msg)
    first = ml.next_deadline()
    assert first is not None
    timeout = first - 100.0
    assert ACK_TIMEOUT <= timeout <= ACK_TIMEOUT * ACK_RANDOM_FACTOR

    now = 100.0
    for n in range(1, MAX_RETRANSMIT + 1):
        due = ml.next_deadline()
        assert due == pytest.approx(now + timeout * 2 ** (n - 1))
        assert ml.poll(due - 0.001) == 0  # not a moment early
        assert take(ml) == []
        assert ml.poll(due) == 1
        assert take(ml) == [(wire, PEER)]  # the same bytes, same mid and token
        now = due
    assert ml.retransmissions == MAX_RETRANSMIT

    due = ml.next_deadline()
    assert due == pytest.approx(now + timeout * 2**MAX_RETRANSMIT)
    assert ml.poll(due) == 0
    assert take(ml) == []
    assert ml.gave_up == 1
    assert ml.pending_count() == 0
    assert ml.next_deadline() is None
    assert ml.poll(due + 1000.0) == 0
    # an ACK after giving up matches nothing
    assert ml.receive(encode(Message(ACK, CONTENT, msg.mid, msg.token, [], b"late")), PEER, due + 1) is None


def test_initial_timeouts_spread_over_the_random_range() -> None:
    timeouts = []
    for seed in range(300):
        ml = layer(seed)
        send_con(ml, now=0.0)
        timeouts.append(ml.next_deadline())
    assert min(timeouts) >= ACK_TIMEOUT and max(timeouts) <= ACK_TIMEOUT * ACK_RANDOM_FACTOR
    assert max(timeouts) - min(timeouts) > 0.5  # really random, not a constant


def test_ack_stops_retransmission() -> None:
    ml = layer()
    msg = send_con(ml)
    assert ml.receive(empty_ack(msg.mid), PEER, 1.0) is None
    assert ml.pending_count() == 0
    for now in (3.0, 10.0, 100.0):
        assert ml.poll(now) == 0
    assert take(ml) == []


def test_rst_stops_retransmission_without_an_event() -> None:
    ml = layer()
    msg = send_con(ml)
    assert ml.receive(rst(msg.mid), PEER, 1.0) is None
    assert ml.pending_count() == 0
    assert ml.poll(100.0) == 0
    assert take(ml) == []


def test_ack_from_another_peer_does_not_stop_retransmission() -> None:
    ml = layer()
    msg = send_con(ml)
    assert ml.receive(encode(Message(ACK, CONTENT, msg.mid, msg.token, [], b"x")), OTHER, 1.0) is None
    assert ml.pending_count() == 1
    assert ml.poll(3.0) == 1


def test_piggy_backed_response_is_matched() -> None:
    ml = layer()
    msg = send_con(ml)
    data = encode(Message(ACK, CONTENT, msg.mid, msg.token, [(12, b"")], b"21 C"))
    event = ml.receive(data, PEER, 0.5)
    assert isinstance(event, ResponseReceived)
    assert event.peer == PEER
    assert (event.message.code, event.message.mid, event.message.token, event.message.payload) == (
        CONTENT,
        msg.mid,
        msg.token,
        b"21 C",
    )
    assert take(ml) == []  # an ACK is never acknowledged
    assert ml.poll(10.0) == 0
    # the same ACK again (a duplicate) is no second response
    assert ml.receive(data, PEER, 0.6) is None


def test_empty_ack_then_separate_con_response() -> None:
    ml = layer()
    msg = send_con(ml, token=b"sep")
    assert ml.receive(empty_ack(msg.mid), PEER, 0.5) is None
    assert ml.poll(60.0) == 0  # acknowledged: no retransmission while waiting

    separate = encode(Message(CON, CONTENT, 0x7777, b"sep", [], b"later"))
    event = ml.receive(separate, PEER, 61.0)
    assert isinstance(event, ResponseReceived)
    assert event.message.payload == b"later" and event.message.mtype == CON
    assert take(ml) == [(empty_ack(0x7777), PEER)]

    # the server did not get our ACK and sends the response again: ACK again, no second event
    for now in (63.0, 70.0):
        assert ml.receive(separate, PEER, now) is None
        assert take(ml) == [(empty_ack(0x7777), PEER)]


def test_separate_non_response_is_matched_without_ack() -> None:
    ml = layer()
    msg = send_con(ml, token=b"n")
    ml.receive(empty_ack(msg.mid), PEER, 0.5)
    event = ml.receive(encode(Message(NON, CONTENT, 0x4444, b"n", [], b"v")), PEER, 1.0)
    assert isinstance(event, ResponseReceived)
    assert take(ml) == []


def test_separate_response_overtaking_the_ack_is_matched() -> None:
    ml = layer()
    msg = send_con(ml, token=b"ov")
    event = ml.receive(encode(Message(CON, CONTENT, 0x5555, b"ov", [], b"fast")), PEER, 0.5)
    assert isinstance(event, ResponseReceived)
    assert take(ml) == [(empty_ack(0x5555), PEER)]
    assert ml.pending_count() == 0
    assert ml.poll(10.0) == 0
    # the piggy-less empty ACK that follows is harmless
    assert ml.receive(empty_ack(msg.mid), PEER, 0.6) is None


@pytest.mark.parametrize("token", [b"zz", b""])
def test_unmatched_con_response_gets_rst_and_no_event(token: bytes) -> None:
    ml = layer()
    send_con(ml, token=b"mine")
    data = encode(Message(CON, CONTENT, 0x2222, token, [], b"stray"))
    assert ml.receive(data, PEER, 0.5) is None
    assert take(ml) == [(rst(0x2222), PEER)]
    assert ml.pending_count() == 1  # our own request is still outstanding


def test_unmatched_non_response_is_dropped_silently() -> None:
    ml = layer()
    assert ml.receive(encode(Message(NON, CONTENT, 0x2222, b"x", [], b"stray")), PEER, 0.5) is None
    assert take(ml) == []


def test_separate_response_from_another_peer_is_not_matched() -> None:
    ml = layer()
    msg = send_con(ml, token=b"pp")
    ml.receive(empty_ack(msg.mid), PEER, 0.1)
    assert ml.receive(encode(Message(CON, CONTENT, 0x3333, b"pp", [], b"x")), OTHER, 0.2) is None
    assert take(ml) == [(rst(0x3333), OTHER)]


def test_separate_response_after_exchange_lifetime_is_not_matched() -> None:
    ml = layer()
    msg = send_con(ml, token=b"old")
    ml.receive(empty_ack(msg.mid), PEER, 0.0)
    late = EXCHANGE_LIFETIME + 1.0
    assert ml.receive(encode(Message(CON, CONTENT, 0x3434, b"old", [], b"x")), PEER, late) is None
    assert take(ml) == [(rst(0x3434), PEER)]


def test_outstanding_requests_to_many_servers_are_matched_by_mid() -> None:
    ml = layer()
    peers = [("127.0.0.9", 41000 + i) for i in range(50)]
    sent = [send_con(ml, token=bytes((i,)), peer=peers[i]) for i in range(50)]
    assert ml.pending_count() == 50
    for i in reversed(range(50)):
        msg = sent[i]
        event = ml.receive(encode(Message(ACK, CONTENT, msg.mid, msg.token, [], msg.token)), peers[i], 0.1)
        assert isinstance(event, ResponseReceived)
        assert event.message.payload == msg.token
    assert ml.pending_count() == 0


@pytest.mark.parametrize("code", [GET, 0x20, 0xE0])
def test_ack_carrying_a_request_or_reserved_code_does_not_cancel(code: int) -> None:
    ml = layer()
    msg = send_con(ml)
    assert ml.receive(encode(Message(ACK, code, msg.mid, msg.token, [], b"x")), PEER, 0.5) is None
    assert take(ml) == []
    assert ml.pending_count() == 1
    assert ml.poll(ml.next_deadline()) == 1


def test_rst_with_content_does_not_cancel() -> None:
    ml = layer()
    msg = send_con(ml)
    assert ml.receive(encode(Message(RST, CONTENT, msg.mid, b"", [], b"x")), PEER, 0.5) is None
    assert ml.pending_count() == 1


# -- client side: NSTART = 1 (RFC 7252 §4.7) ----------------------------------------------------------


def queue_con(ml: MessageLayer, token: bytes, peer=PEER, now: float = 0.0) -> tuple[Message, bytes]:
    msg = Message(CON, GET, ml.next_mid(), token, [(11, b"q")])
    return msg, ml.send(msg, peer, now)


def test_second_con_to_the_same_server_waits_for_the_first_ack() -> None:
    ml = layer()
    first = send_con(ml, token=b"1")
    second, wire2 = queue_con(ml, b"2")
    third, wire3 = queue_con(ml, b"3")
    assert take(ml) == []  # held back
    assert ml.pending_count() == 3
    assert ml.poll(first_deadline := ml.next_deadline()) == 1  # only the first is retransmitted
    assert [d for d, _ in take(ml)] == [encode(first)]

    event = ml.receive(encode(Message(ACK, CONTENT, first.mid, b"1", [], b"a")), PEER, first_deadline + 0.5)
    assert isinstance(event, ResponseReceived)
    assert take(ml) == [(wire2, PEER)]  # the next one goes out at once
    # and its own retransmission clock starts now
    assert first_deadline + 0.5 + ACK_TIMEOUT <= ml.next_deadline() <= first_deadline + 0.5 + 3.0

    ml.receive(empty_ack(second.mid), PEER, 10.0)  # an empty ACK also frees the slot
    assert take(ml) == [(wire3, PEER)]
    ml.receive(encode(Message(ACK, CONTENT, third.mid, b"3", [], b"c")), PEER, 10.5)
    assert ml.pending_count() == 0
    assert take(ml) == []


def test_con_to_another_server_is_not_held() -> None:
    ml = layer()
    send_con(ml, token=b"1")
    send_con(ml, token=b"2", peer=OTHER)  # asserts it went out at once
    assert ml.pending_count() == 2


def test_non_is_never_held() -> None:
    ml = layer()
    send_con(ml, token=b"1")
    data = ml.send(Message(NON, GET, ml.next_mid(), b"n", []), PEER, 0.1)
    assert take(ml) == [(data, PEER)]


@pytest.mark.parametrize("how", ["rst", "give-up", "separate-response"])
def test_held_con_starts_when_the_first_ends(how: str) -> None:
    ml = layer()
    first = send_con(ml, token=b"1")
    _, wire2 = queue_con(ml, b"2")
    if how == "rst":
        ml.receive(rst(first.mid), PEER, 1.0)
    elif how == "give-up":
        for _ in range(MAX_RETRANSMIT + 1):
            ml.poll(ml.next_deadline())
        assert ml.gave_up == 1
    else:
        event = ml.receive(encode(Message(CON, CONTENT, 0x6060, b"1", [], b"x")), PEER, 1.0)
        assert isinstance(event, ResponseReceived)
    out = [d for d, _ in take(ml)]
    assert wire2 in out
    assert ml.pending_count() == 1


# -- a client's view: failures, cancel, listening -------------------------------------------------------


@pytest.mark.parametrize("how", ["rst", "give-up"])
def test_a_con_that_ends_without_a_response_is_reported_with_its_token(how: str) -> None:
    ml = MessageLayer(random.Random(1), report_failures=True)
    first = send_con(ml, token=b"t1")
    if how == "rst":
        ml.receive(rst(first.mid), PEER, 1.0)
    else:
        for _ in range(MAX_RETRANSMIT + 1):
            ml.poll(ml.next_deadline())
    assert ml.failures == [ExchangeFailed(PEER, b"t1", first.mid, "reset" if how == "rst" else "timeout")]


def test_an_answered_con_is_no_failure() -> None:
    ml = MessageLayer(random.Random(1), report_failures=True)
    first = send_con(ml, token=b"t1")
    ml.receive(encode(Message(ACK, CONTENT, first.mid, b"t1", [], b"x")), PEER, 0.5)
    ml.poll(100.0)
    assert ml.failures == []


def test_cancel_stops_retransmission_and_lets_the_next_con_go() -> None:
    ml = layer()
    first = send_con(ml, token=b"1")
    _, wire2 = queue_con(ml, b"2")
    ml.cancel(PEER, b"1", 0.5)
    assert take(ml) == [(wire2, PEER)]  # the held one starts at once
    for _ in range(MAX_RETRANSMIT + 2):
        deadline = ml.next_deadline()
        assert deadline is not None
        ml.poll(deadline)
    assert all(d != encode(first) for d, _ in take(ml))  # the cancelled one never went again
    late = ml.receive(encode(Message(CON, CONTENT, 0x4444, b"1", [], b"late")), PEER, 1.0)
    assert late is None and take(ml) == [(rst(0x4444), PEER)]  # its late response is rejected


def test_a_listened_token_keeps_matching_responses_after_its_exchange() -> None:
    """Observe notifications: CON ones are ACKed and delivered, each once."""
    ml = layer()
    first = send_con(ml, token=b"ob")
    ml.receive(encode(Message(ACK, CONTENT, first.mid, b"ob", [(6, b"\x01")], b"v1")), PEER, 0.5)
    ml.listening.add((PEER, b"ob"))
    take(ml)
    notification = encode(Message(CON, CONTENT, 0x5000, b"ob", [(6, b"\x02")], b"v2"))
    event = ml.receive(notification, PEER, 1.0)
    assert isinstance(event, ResponseReceived) and event.message.payload == b"v2"
    assert take(ml) == [(empty_ack(0x5000), PEER)]
    assert ml.receive(notification, PEER, 1.1) is None  # a duplicate: ACKed again, not delivered
    ml.listening.discard((PEER, b"ob"))
    assert ml.receive(encode(Message(CON, CONTENT, 0x5001, b"ob", [], b"v3")), PEER, 2.0) is None


# -- message ids --------------------------------------------------------------------------------------


def test_message_ids_go_up_by_one_and_wrap() -> None:
    ml = layer(7)
    previous = ml.next_mid()
    for _ in range(70_000):
        mid = ml.next_mid()
        assert mid == (previous + 1) & 0xFFFF
        previous = mid


def test_message_id_start_is_random() -> None:
    starts = {MessageLayer(random.Random(seed)).next_mid() for seed in range(20)}
    assert len(starts) > 15
