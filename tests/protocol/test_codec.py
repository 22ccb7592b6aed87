"""The CoAP codec (RFC 7252 §3): round trips of valid messages and the message format errors.

Pure functions, no sockets. Every malformed datagram must raise :class:`codec.ParseError` and nothing else,
because the message layer relies on it to answer a malformed CON with an RST.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from network.coap.protocol import codec
from network.coap.protocol.codec import IgnoredVersion, Message, ParseError, decode, encode

pytestmark = pytest.mark.unit

# -- strategies ---------------------------------------------------------------------------------------

option_values = st.one_of(
    st.binary(max_size=12),  # fits the 4-bit length nibble
    st.binary(min_size=13, max_size=268),  # one extension byte
    st.binary(min_size=269, max_size=400),  # two extension bytes
)
option_numbers = st.one_of(
    st.integers(0, 12),
    st.integers(13, 268),
    st.integers(269, 65535),
    st.sampled_from([0, 1, 3, 11, 12, 13, 14, 268, 269, 270, 65535]),
)
options = st.lists(st.tuples(option_numbers, option_values), max_size=8).map(
    lambda opts: sorted(opts, key=lambda o: o[0])  # a decoded message lists options in number order
)
request_or_response_codes = st.integers(1, 255)


@st.composite
def messages(draw) -> Message:
    mtype = draw(st.integers(0, 3))
    mid = draw(st.integers(0, 0xFFFF))
    if draw(st.integers(0, 9)) == 0:  # an empty message: 4 bytes, nothing else
        return Message(mtype, 0, mid)
    return Message(
        mtype,
        draw(request_or_response_codes),
        mid,
        draw(st.binary(max_size=8)),
        draw(options),
        draw(st.binary(max_size=300)),
    )


# -- round trips --------------------------------------------------------------------------------------


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_encode_decode_round_trip(msg: Message) -> None:
    data = encode(msg)
    assert decode(data) == msg
    assert encode(decode(data)) == data


@given(messages())
def test_header_fields_on_the_wire(msg: Message) -> None:
    data = encode(msg)
    assert data[0] >> 6 == 1  # version 1
    assert (data[0] >> 4) & 3 == msg.mtype
    assert data[0] & 0x0F == len(msg.token)
    assert data[1] == msg.code
    assert int.from_bytes(data[2:4], "big") == msg.mid
    assert data[4 : 4 + len(msg.token)] == msg.token
    if msg.payload:
        assert data.endswith(b"\xff" + msg.payload)


@given(st.lists(st.tuples(option_numbers, st.binary(max_size=20)), max_size=10))
def test_encode_sorts_options_stably(opts: list[tuple[int, bytes]]) -> None:
    msg = Message(0, 1, 1, b"", list(opts))
    assert decode(encode(msg)).options == sorted(opts, key=lambda o: o[0])


@pytest.mark.parametrize(
    ("number", "value", "wire"),
    [
        (11, b"abc", b"\xb3abc"),  # delta and length in the nibbles
        (12, b"", b"\xc0"),
        (13, b"", b"\xd0\x00"),  # delta 13: one extension byte, value 0
        (268, b"", b"\xd0\xff"),
        (269, b"", b"\xe0\x00\x00"),  # delta 269: two extension bytes
        (65535, b"", b"\xe0\xfe\xf2"),
        (1, b"x" * 13, b"\x1d\x00" + b"x" * 13),  # length 13: one extension byte
        (1, b"x" * 269, b"\x1e\x00\x00" + b"x" * 269),  # length 269: two extension bytes
        (300, b"y" * 20, b"\xed\x00\x1f\x07" + b"y" * 20),  # both extended: delta bytes first
    ],
)
def test_option_header_encoding(number: int, value: bytes, wire: bytes) -> None:
    data = encode(Message(0, 1, 0x1234, b"", [(number, value)]))
    assert data == b"\x40\x01\x12\x34" + wire
    assert decode(data).options == [(number, value)]


def test_empty_message_is_exactly_four_bytes() -> None:
    assert encode(Message(0, 0, 0xBEEF)) == b"\x40\x00\xbe\xef"
    assert decode(b"\x70\x00\x00\x07") == Message(3, 0, 7)


def test_repeated_options_keep_their_order() -> None:
    msg = Message(0, 1, 5, b"t", [(11, b"a"), (11, b"b"), (11, b"c"), (15, b"q=1")])
    decoded = decode(encode(msg))
    assert decoded.path() == ("a", "b", "c")
    assert decoded.queries() == ["q=1"]
    assert decoded.option(11) == b"a"
    assert decoded.option_values(11) == [b"a", b"b", b"c"]
    assert decoded.option(4) is None


def test_encode_refuses_a_long_token() -> None:
    with pytest.raises(ValueError):
        encode(Message(0, 1, 1, b"123456789"))


@pytest.mark.parametrize(("value", "wire"), [(0, b""), (1, b"\x01"), (255, b"\xff"), (256, b"\x01\x00")])
def test_uint_option_values(value: int, wire: bytes) -> None:
    assert codec.encode_uint(value) == wire
    assert codec.decode_uint(wire) == value


@given(st.integers(0, 2**32 - 1))
def test_uint_round_trip_is_minimal(value: int) -> None:
    wire = codec.encode_uint(value)
    assert codec.decode_uint(wire) == value
    assert not wire.startswith(b"\x00")


# -- random bytes -------------------------------------------------------------------------------------


@settings(max_examples=1000)
@given(st.binary(max_size=600))
@example(b"")
@example(b"\x40")
@example(b"\x40\x01\x00")
@example(b"\x4f\x01\x00\x01")
@example(b"\x40\x01\x00\x01\xff")
@example(b"\x40\x01\x00\x01\xe1\xff")
@example(b"\x40\x01\x00\x01\xee\xff\xff\xff\xff")
def test_decode_of_random_bytes_raises_only_parse_error(data: bytes) -> None:
    try:
        msg = decode(data)
    except ParseError:
        return
    assert isinstance(msg, Message)
    # the CoAP encoding is unique, so whatever decodes is written back to the very same bytes
    assert encode(msg) == data


@settings(max_examples=500)
@given(messages(), st.data())
def test_decode_of_mutated_messages_raises_only_parse_error(msg: Message, data) -> None:
    wire = bytearray(encode(msg))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(wire) - 1))
        wire[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(wire)))
    try:
        decode(bytes(wire[:cut]))
    except ParseError:
        pass


# -- message format errors ----------------------------------------------------------------------------


def _error(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        decode(data)
    return info.value


@pytest.mark.parametrize("tkl", range(9, 16))
@pytest.mark.parametrize("mtype", range(4))
def test_reserved_token_lengths(tkl: int, mtype: int) -> None:
    err = _error(bytes((0x40 | mtype << 4 | tkl, 0x01, 0x12, 0x34)) + b"t" * 15)
    assert (err.mtype, err.mid) == (mtype, 0x1234)


@pytest.mark.parametrize("length_nibble", range(16))
def test_option_delta_nibble_15(length_nibble: int) -> None:
    byte = 0xF0 | length_nibble
    if byte == 0xFF:  # that is the payload marker, not an option
        return
    err = _error(b"\x40\x01\x00\x09" + bytes((byte,)) + b"x" * 20)
    assert (err.mtype, err.mid) == (0, 9)


@pytest.mark.parametrize("delta_nibble", range(15))
def test_option_length_nibble_15(delta_nibble: int) -> None:
    _error(b"\x50\x01\x00\x09" + bytes((delta_nibble << 4 | 0x0F,)) + b"\x00\x00" + b"x" * 300)


@pytest.mark.parametrize("prefix", [b"\x40\x01\x00\x01", b"\x42\x45\x00\x01ab", b"\x40\x01\x00\x01\xb1a"])
def test_payload_marker_with_empty_payload(prefix: bytes) -> None:
    decode(prefix)  # fine without the marker
    err = _error(prefix + b"\xff")
    assert err.mid == 1


@pytest.mark.parametrize("tail", [b"\x00", b"\xff", b"\xffpayload", b"\xb1a"])
@pytest.mark.parametrize("mtype", range(4))
def test_empty_message_with_trailing_bytes(mtype: int, tail: bytes) -> None:
    err = _error(bytes((0x40 | mtype << 4, 0, 0, 3)) + tail)
    assert (err.mtype, err.mid) == (mtype, 3)


def test_empty_message_with_a_token() -> None:
    _error(b"\x41\x00\x00\x03x")


@pytest.mark.parametrize(
    "tail",
    [
        b"\xd0",  # delta 13 without its extension byte
        b"\xe0\x01",  # delta 14 with one of its two extension bytes
        b"\x0d",  # length 13 without its extension byte
        b"\x0e\x01",  # length 14 with one of two bytes
        b"\xdd\x01",  # delta 13 present, length 13 missing
        b"\x13ab",  # value of 3 bytes, 2 present
        b"\x1d\x05" + b"x" * 17,  # value of 18 bytes, 17 present
        b"\x1e\x00\x00" + b"x" * 268,  # value of 269 bytes, 268 present
    ],
)
def test_truncated_options(tail: bytes) -> None:
    err = _error(b"\x40\x01\xab\xcd" + tail)
    assert (err.mtype, err.mid) == (0, 0xABCD)


def test_truncated_token() -> None:
    _error(b"\x48\x01\x00\x01abc")


def test_option_number_above_65535() -> None:
    # 65535 then a further delta of 1
    _error(b"\x40\x01\x00\x01\xe0\xfe\xf2\x10")


@pytest.mark.parametrize("data", [b"", b"\x40", b"\x40\x01", b"\x40\x01\x00"])
def test_shorter_than_the_header(data: bytes) -> None:
    err = _error(data)
    assert err.mid is None


@pytest.mark.parametrize("version", [0, 2, 3])
def test_other_versions_are_ignored_version_errors(version: int) -> None:
    with pytest.raises(IgnoredVersion) as info:
        decode(bytes((version << 6, 0x01, 0x00, 0x05)))
    assert isinstance(info.value, ParseError)
    assert info.value.mid == 5
