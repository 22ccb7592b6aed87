"""Block-wise transfers (RFC 7959) without I/O: the Block option's bytes, a server's Block2 slices and
Block1 reassembly, a client's Block2 reassembly and Block1 upload, driven against each other."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from network.coap.protocol.blockwise import (
    MAX_NUM,
    Block1Assembler,
    Block1Complete,
    Block1Reply,
    Block1Request,
    Block1Sender,
    Block2Receiver,
    BlockError,
    BlockOutOfRange,
    BlockReceived,
    BlockSequenceError,
    BlockValue,
    BodyTooLarge,
    ETagChanged,
    Failed,
    ReservedSzx,
    Restart,
    block2_part,
)
from network.coap.protocol.codec import Message, decode, decode_uint, encode, encode_uint
from network.coap.protocol.numbers import EXCHANGE_LIFETIME, Code, Option

pytestmark = pytest.mark.unit

CON, ACK = 0, 2
PEER = ("127.0.0.9", 40000)
OTHER = ("127.0.0.9", 40001)
B1, B2, S1, S2, ETAG = 27, 23, 60, 28, 4


def test_the_new_codes_and_options_have_rfc_7959_numbers() -> None:
    assert (Code.CONTINUE, Code.REQUEST_ENTITY_INCOMPLETE, Code.REQUEST_ENTITY_TOO_LARGE) == (95, 136, 141)
    assert (Option.BLOCK2, Option.BLOCK1, Option.SIZE2, Option.SIZE1) == (B2, B1, S2, S1)


def get(block2: BlockValue | None = None, *extra: tuple[int, bytes], mid: int = 1) -> Message:
    options = [(11, b"big")] + ([(B2, block2.encode())] if block2 else []) + list(extra)
    return Message(CON, Code.GET, mid, b"tk", sorted(options, key=lambda o: o[0]))


def put(req: Block1Request, path: bytes = b"up", mid: int = 1) -> Message:
    options = sorted([(11, path)] + req.options, key=lambda o: o[0])
    return Message(CON, Code.PUT, mid, b"tk", options, req.payload)


def reply(code: int, options: list[tuple[int, bytes]], payload: bytes = b"") -> Message:
    return Message(ACK, code, 1, b"tk", options, payload)


# -- the option's value (§2.2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "data"),
    [
        (BlockValue(0, False, 0), b""),  # 0/0/16 is the empty uint
        (BlockValue(0, True, 3), b"\x0b"),  # "2:0/1/128" of RFC 7959's figures
        (BlockValue(1, True, 3), b"\x1b"),
        (BlockValue(2, False, 3), b"\x23"),  # "1:2/0/128"
        (BlockValue(0, True, 1), b"\x09"),  # "1:0/1/32"
        (BlockValue(4, True, 1), b"\x49"),  # "1:4/1/32"
        (BlockValue(15, True, 6), b"\xfe"),
        (BlockValue(16, False, 0), b"\x01\x00"),  # NUM 16 needs a second byte
        (BlockValue(4095, True, 6), b"\xff\xfe"),
        (BlockValue(4096, False, 2), b"\x01\x00\x02"),
        (BlockValue(MAX_NUM - 1, True, 6), b"\xff\xff\xfe"),
    ],
)
def test_block_values_encode_to_the_rfc_bytes_and_back(block: BlockValue, data: bytes) -> None:
    assert block.encode() == data
    assert BlockValue.decode(data) == block


def test_block_size_and_offset() -> None:
    assert [BlockValue(0, False, szx).size for szx in range(7)] == [16, 32, 64, 128, 256, 512, 1024]
    assert BlockValue(3, True, 3).offset == 384


def test_a_block_option_survives_the_codec_as_option_23() -> None:
    data = encode(get(BlockValue(0, True, 3)))
    assert data.endswith(b"\xb3big\xc1\x0b")  # Uri-Path (11), then delta 12 to 23, one byte 0x0b
    assert BlockValue.from_message(decode(data), B2) == BlockValue(0, True, 3)


def test_szx_7_is_reserved_and_a_request_carrying_it_is_a_4_00() -> None:
    for data in (b"\x07", b"\x0f", b"\x01\x07"):
        with pytest.raises(ReservedSzx) as err:
            BlockValue.decode(data)
        assert err.value.code == Code.BAD_REQUEST
    with pytest.raises(ValueError):
        BlockValue(0, False, 7)


def test_an_option_over_3_bytes_or_repeated_is_a_bad_option() -> None:
    with pytest.raises(BlockError) as err:
        BlockValue.decode(b"\x00\x00\x00\x10")
    assert err.value.code == Code.BAD_OPTION
    twice = Message(CON, Code.GET, 1, b"", [(B2, b"\x06"), (B2, b"\x16")])
    with pytest.raises(BlockError):
        BlockValue.from_message(twice, B2)
    with pytest.raises(ValueError):
        BlockValue(MAX_NUM, False, 0)


@given(st.integers(0, MAX_NUM - 1), st.booleans(), st.integers(0, 6))
def test_every_block_value_round_trips_in_at_most_3_minimal_bytes(num: int, more: bool, szx: int) -> None:
    block = BlockValue(num, more, szx)
    data = block.encode()
    assert len(data) <= 3 and not data.startswith(b"\x00")
    assert BlockValue.decode(data) == block
    assert decode_uint(data) == (num << 4) | (more << 3) | szx


# -- Block2: server slices, client reassembly ---------------------------------------------------------

BODY = bytes(i % 251 for i in range(65536))  # 64 KiB


def test_a_64k_body_is_served_in_1024_byte_blocks_with_size2_in_the_first() -> None:
    first = block2_part(BODY, get())
    assert first.payload == BODY[:1024]
    assert first.options == [(B2, b"\x0e"), (S2, b"\x01\x00\x00")]  # 0/1/1024, Size2 65536
    middle = block2_part(BODY, get(BlockValue(1, False, 6)))
    assert middle.payload == BODY[1024:2048] and middle.options == [(B2, b"\x1e")]
    last = block2_part(BODY, get(BlockValue(63, True, 6)))  # M in a request is ignored (§2.4)
    assert last.payload == BODY[-1024:] and last.options == [(B2, b"\x03\xf6")]  # 63/0/1024


def test_size2_when_the_request_asks_with_size2_0() -> None:
    asked = block2_part(BODY, get(BlockValue(5, False, 6), (S2, b"")))
    assert (S2, encode_uint(65536)) in asked.options
    assert block2_part(BODY, get(), announce=False).options == [(B2, b"\x0e")]
    small = block2_part(b"hello", get(None, (S2, b"")))
    assert small.payload == b"hello" and small.options == [(S2, b"\x05")] and small.block is None


def test_a_body_that_fits_goes_whole_without_block2() -> None:
    part = block2_part(b"x" * 1024, get())
    assert part.payload == b"x" * 1024 and part.options == []
    asked = block2_part(b"x" * 10, get(BlockValue(0, False, 2)))
    assert asked.options[0] == (B2, BlockValue(0, False, 2).encode()) and asked.payload == b"x" * 10


def test_the_server_answers_with_its_smaller_size_at_the_same_offset() -> None:
    part = block2_part(BODY, get(BlockValue(2, False, 6)), szx=4)
    assert part.block == BlockValue(8, True, 4)  # 2 * 1024 == 8 * 256
    assert part.payload == BODY[2048:2304]


def test_a_block_past_the_end_is_4_02_and_block_0_of_nothing_is_empty() -> None:
    # RFC 7959 names no code for it; see BlockOutOfRange
    with pytest.raises(BlockOutOfRange) as err:
        block2_part(BODY, get(BlockValue(64, False, 6)))
    assert err.value.code == Code.BAD_OPTION
    empty = block2_part(b"", get(BlockValue(0, False, 6)))
    assert empty.payload == b"" and empty.block == BlockValue(0, False, 6)
    with pytest.raises(ReservedSzx):
        block2_part(BODY, get(None, (B2, b"\x07")))


def serve(body: bytes, request_block: BlockValue | None, *, szx: int = 6, etag: bytes = b"v1") -> Message:
    part = block2_part(body, get(request_block), szx=szx)
    options = sorted([(ETAG, etag)] + part.options, key=lambda o: o[0])
    return reply(Code.CONTENT, options, part.payload)


def fetch_all(receiver: Block2Receiver, body: bytes, *, szx: int = 6) -> list[tuple[int, int, bool]]:
    seen: list[tuple[int, int, bool]] = []
    ask = receiver.first_block()
    for _ in range(10_000):
        event = receiver.feed(serve(body, ask, szx=szx))
        assert isinstance(event, BlockReceived)
        seen.append((event.offset, len(event.data), event.last))
        if event.last:
            assert event.body == body
            return seen
        ask = event.next_block
    raise AssertionError("the transfer never ended")


def test_a_64k_body_is_reassembled_and_each_block_is_seen_with_its_offset() -> None:
    seen = fetch_all(Block2Receiver(), BODY)
    assert seen == [(i * 1024, 1024, i == 63) for i in range(64)]


def test_the_client_takes_the_servers_smaller_size_for_later_requests() -> None:
    receiver = Block2Receiver(szx=6)
    assert receiver.first_block() == BlockValue(0, False, 6)
    seen = fetch_all(receiver, BODY, szx=4)
    assert receiver.szx == 4 and len(seen) == 256 and seen[-1] == (65280, 256, True)


def test_a_size_lowered_mid_way_continues_at_the_right_block() -> None:
    receiver = Block2Receiver()
    first = receiver.feed(serve(BODY, None))
    assert isinstance(first, BlockReceived) and first.next_block == BlockValue(1, False, 6)
    second = receiver.feed(serve(BODY, first.next_block, szx=4))  # answered as 4/1/256
    assert isinstance(second, BlockReceived)
    assert (second.offset, second.next_block) == (1024, BlockValue(5, False, 4))


def test_a_changed_etag_restarts_from_block_0_a_bounded_number_of_times() -> None:
    receiver = Block2Receiver(restarts=1)
    receiver.feed(serve(BODY, None, etag=b"v1"))
    event = receiver.feed(serve(BODY, BlockValue(1, False, 6), etag=b"v2"))
    assert event == Restart(BlockValue(0, False, 6))
    again = receiver.feed(serve(BODY, event.next_block, etag=b"v2"))
    assert isinstance(again, BlockReceived) and again.offset == 0
    with pytest.raises(ETagChanged):
        receiver.feed(serve(BODY, BlockValue(1, False, 6), etag=b"v3"))


def test_the_body_is_bounded_by_size2_or_by_what_arrived() -> None:
    with pytest.raises(BodyTooLarge):
        Block2Receiver(max_size=4096).feed(serve(BODY, None))  # Size2 65536 in the first block
    receiver = Block2Receiver(max_size=4096)
    ask = None
    with pytest.raises(BodyTooLarge):
        for _ in range(5):
            part = block2_part(BODY, get(ask), announce=False)
            event = receiver.feed(reply(Code.CONTENT, part.options, part.payload))
            assert isinstance(event, BlockReceived)
            ask = event.next_block
    assert receiver.received == 4096


def test_blocks_that_do_not_continue_the_body_are_errors() -> None:
    receiver = Block2Receiver()
    receiver.feed(serve(BODY, None))
    with pytest.raises(BlockSequenceError):
        receiver.feed(serve(BODY, BlockValue(2, False, 6)))  # block 1 skipped
    short = Block2Receiver()
    with pytest.raises(BlockSequenceError):
        short.feed(reply(Code.CONTENT, [(B2, BlockValue(0, True, 6).encode())], b"x" * 100))
    plain = Block2Receiver()
    plain.feed(serve(BODY, None))
    with pytest.raises(BlockSequenceError):
        plain.feed(reply(Code.CONTENT, [(ETAG, b"v1")], b"whole"))


def test_a_response_without_block2_is_the_whole_body() -> None:
    event = Block2Receiver().feed(reply(Code.CONTENT, [], b"small"))
    assert event == BlockReceived(0, b"small", True, None, b"small")


# -- Block1: client upload, server assembly -----------------------------------------------------------

UPLOAD = bytes(i % 253 for i in range(20 * 1024))  # 20 KiB


def upload(sender: Block1Sender, server: Block1Assembler, now: float = 0.0) -> tuple[object, list[Message]]:
    """Run the upload to the end; the server's handler answers 2.04 with the body's length."""
    sent = []
    request = sender.request()
    for mid in range(1, 1000):
        msg = put(request, mid=mid)
        sent.append(msg)
        result = server.receive(msg, PEER, now)
        if isinstance(result, Block1Complete):
            response = reply(Code.CHANGED, result.options, str(len(result.body)).encode())
        else:
            assert isinstance(result, Block1Reply)
            response = reply(result.code, result.options, result.payload)
        event = sender.on_response(response)
        if not isinstance(event, Block1Request):
            return event, sent
        request = event
    raise AssertionError("the upload never ended")


def test_a_20k_upload_goes_in_20_blocks_with_continue_and_size1_first() -> None:
    server = Block1Assembler()
    outcome, sent = upload(Block1Sender(UPLOAD), server)
    assert isinstance(outcome, Message) and outcome.code == Code.CHANGED and outcome.payload == b"20480"
    assert len(sent) == 20
    assert sent[0].option(B1) == b"\x0e" and sent[0].option(S1) == b"\x50\x00"  # 0/1/1024, Size1 20480
    assert all(msg.option(S1) is None for msg in sent[1:])
    assert sent[-1].option(B1) == BlockValue(19, False, 6).encode()
    assert outcome.option(B1) == b"\x01\x36"  # the final response echoes 19/0/1024
    assert len(server) == 0


def test_rfc_7959_figure_block_size_negotiation_on_put() -> None:
    # 1:0/1/128 -> 2.31 1:0/1/32 -> 1:4/1/32 ... (the server prefers 32-byte blocks)
    server = Block1Assembler(szx=1)
    sender = Block1Sender(bytes(300), szx=3)
    first = put(sender.request())
    assert first.option(B1) == b"\x0b"
    answer = server.receive(first, PEER, 0.0)
    assert answer == Block1Reply(Code.CONTINUE, [(B1, b"\x09")])
    assert isinstance(answer, Block1Reply)
    following = sender.on_response(reply(answer.code, answer.options))
    assert isinstance(following, Block1Request) and following.options == [(B1, b"\x49")]
    assert following.payload == bytes(32)


def test_a_server_that_lowers_the_size_gets_the_rest_in_its_size() -> None:
    outcome, sent = upload(Block1Sender(UPLOAD), Block1Assembler(szx=4))
    assert isinstance(outcome, Message) and outcome.payload == b"20480"
    assert sent[1].option(B1) == BlockValue(4, True, 4).encode()  # offset 1024 in 256-byte blocks
    assert len(sent) == 1 + (20480 - 1024) // 256


def test_4_13_with_size1_below_the_body_fails_the_upload() -> None:
    outcome, sent = upload(Block1Sender(UPLOAD), Block1Assembler(max_body=16 * 1024))
    assert isinstance(outcome, Failed) and outcome.response.code == Code.REQUEST_ENTITY_TOO_LARGE
    assert outcome.response.option(S1) == encode_uint(16 * 1024) and len(sent) == 1


def test_4_13_hints_make_the_sender_restart_smaller() -> None:
    sender = Block1Sender(UPLOAD)
    hint = [(B1, BlockValue(0, False, 2).encode())]
    hinted = sender.on_response(reply(Code.REQUEST_ENTITY_TOO_LARGE, hint))
    assert isinstance(hinted, Block1Request) and hinted.block == BlockValue(0, True, 2)
    bare = sender.on_response(reply(Code.REQUEST_ENTITY_TOO_LARGE, []))
    assert isinstance(bare, Block1Request) and bare.block == BlockValue(0, True, 1)
    sender.on_response(reply(Code.REQUEST_ENTITY_TOO_LARGE, []))
    assert isinstance(sender.on_response(reply(Code.REQUEST_ENTITY_TOO_LARGE, [])), Failed)


def test_4_13_to_a_plain_request_makes_the_sender_use_block1() -> None:
    sender = Block1Sender(b"x" * 500)
    assert sender.request() == Block1Request(None, b"x" * 500, [])
    again = sender.on_response(reply(Code.REQUEST_ENTITY_TOO_LARGE, []))
    assert isinstance(again, Block1Request)
    assert again.block == BlockValue(0, False, 6) and (S1, encode_uint(500)) in again.options


def test_answers_that_stop_an_upload() -> None:
    sender = Block1Sender(UPLOAD)
    assert isinstance(sender.on_response(reply(Code.NOT_FOUND, [])), Failed)
    assert isinstance(sender.on_response(reply(Code.CHANGED, [])), Failed)  # Block1 missing mid-way
    wrong = reply(Code.CONTINUE, [(B1, BlockValue(3, True, 6).encode())])
    assert isinstance(sender.on_response(wrong), Failed)
    small = Block1Sender(b"tiny")
    assert isinstance(small.on_response(reply(Code.CONTINUE, [])), Failed)


def block(num: int, more: bool, szx: int = 3, fill: int = 0, path: bytes = b"up") -> Message:
    value = BlockValue(num, more, szx)
    return put(Block1Request(value, bytes([fill]) * value.size, [(B1, value.encode())]), path)


def test_a_missing_block_is_4_08_and_the_partial_body_is_dropped() -> None:
    server = Block1Assembler()
    assert isinstance(server.receive(block(0, True), PEER, 0.0), Block1Reply)
    gap = server.receive(block(2, True), PEER, 1.0)
    assert isinstance(gap, Block1Reply) and gap.code == Code.REQUEST_ENTITY_INCOMPLETE
    late = server.receive(block(1, True), PEER, 2.0)
    assert isinstance(late, Block1Reply) and late.code == Code.REQUEST_ENTITY_INCOMPLETE
    assert len(server) == 0


def test_a_repeated_block_is_acknowledged_again_and_counted_once() -> None:
    server = Block1Assembler()
    server.receive(block(0, True, fill=1), PEER, 0.0)
    server.receive(block(1, True, fill=2), PEER, 0.0)
    assert server.receive(block(1, True, fill=2), PEER, 0.0) == Block1Reply(Code.CONTINUE, [(B1, b"\x1b")])
    done = server.receive(block(2, False, fill=3), PEER, 0.0)
    assert done == Block1Complete(b"\x01" * 128 + b"\x02" * 128 + b"\x03" * 128, [(B1, b"\x23")])


def test_peers_and_paths_assemble_apart() -> None:
    server = Block1Assembler()
    server.receive(block(0, True, fill=1), PEER, 0.0)
    server.receive(block(0, True, fill=2), OTHER, 0.0)
    server.receive(block(0, True, fill=3, path=b"other"), PEER, 0.0)
    assert len(server) == 3
    done = server.receive(block(1, False, fill=4), OTHER, 0.0)
    assert isinstance(done, Block1Complete) and done.body == b"\x02" * 128 + b"\x04" * 128


def test_an_unfinished_body_expires_after_exchange_lifetime() -> None:
    server = Block1Assembler()
    server.receive(block(0, True), PEER, 0.0)
    assert server.next_deadline() == EXCHANGE_LIFETIME
    server.expire(EXCHANGE_LIFETIME - 1)
    assert len(server) == 1
    late = server.receive(block(1, False), PEER, EXCHANGE_LIFETIME + 1)
    assert isinstance(late, Block1Reply) and late.code == Code.REQUEST_ENTITY_INCOMPLETE
    assert len(server) == 0 and server.next_deadline() is None


def test_the_number_of_uploads_under_way_is_bounded() -> None:
    server = Block1Assembler(max_assemblies=2)
    server.receive(block(0, True), PEER, 0.0)
    server.receive(block(0, True), OTHER, 0.0)
    third = server.receive(block(0, True), ("127.0.0.9", 40002), 0.0)
    assert isinstance(third, Block1Reply) and third.code == Code.REQUEST_ENTITY_TOO_LARGE
    assert len(server) == 2
    later = server.receive(block(0, True), ("127.0.0.9", 40002), EXCHANGE_LIFETIME + 1)
    assert isinstance(later, Block1Reply) and later.code == Code.CONTINUE and len(server) == 1


def test_a_body_growing_past_the_maximum_is_4_13_with_size1() -> None:
    server = Block1Assembler(max_body=256)
    server.receive(block(0, True), PEER, 0.0)
    server.receive(block(1, True), PEER, 0.0)
    over = server.receive(block(2, False), PEER, 0.0)
    assert over == Block1Reply(Code.REQUEST_ENTITY_TOO_LARGE, [(S1, b"\x01\x00")], b"over 256 bytes")
    assert len(server) == 0


def test_malformed_block1_requests() -> None:
    server = Block1Assembler()
    reserved = put(Block1Request(None, b"x" * 16, [(B1, b"\x0f")]))
    assert isinstance(result := server.receive(reserved, PEER, 0.0), Block1Reply)
    assert result.code == Code.BAD_REQUEST
    long = put(Block1Request(None, b"x", [(B1, b"\x00\x00\x00\x08")]))
    assert isinstance(result := server.receive(long, PEER, 0.0), Block1Reply)
    assert result.code == Code.BAD_OPTION
    short = put(Block1Request(None, b"x" * 100, [(B1, BlockValue(0, True, 3).encode())]))
    assert isinstance(result := server.receive(short, PEER, 0.0), Block1Reply)
    assert result.code == Code.BAD_REQUEST
    assert server.receive(Message(CON, Code.PUT, 1, b"", [], b"plain"), PEER, 0.0) is None
