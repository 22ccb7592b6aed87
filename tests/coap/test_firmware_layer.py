"""The firmware layer (``network.coap.firmware``) on its own: a request ``Message`` in, the response out.

No sockets and no ``network.Coap``: requests go through the sans-I/O message layer into the resource
table's handlers, and the response message that would go on the wire is decoded and checked (code,
type, id, token, options, payload). Behaviour per shared/spec/firmware-coap.md §7 (firmware 1.20.1 to
1.20.2, libcoap 4.1, with the documented fixes of the default profile), and where 1.20.2.r6 and
1.20.3.b2 differ, per their profiles.
"""

from __future__ import annotations

import random

import pytest

from network import profile as profiles
from network.coap.firmware.requests import build_options, check_method, path_segments
from network.coap.firmware.resources import (
    REQUEST_DELETE,
    REQUEST_GET,
    REQUEST_POST,
    REQUEST_PUT,
    Resource,
    ResourceTable,
)
from network.coap.protocol.codec import Message, decode, encode
from network.coap.protocol.exchange import MessageLayer, RequestReceived
from network.profile import FirmwareProfile

pytestmark = pytest.mark.unit

CON, NON, ACK = 0, 1, 2
GET, POST, PUT, DELETE = 1, 2, 3, 4
IF_MATCH, ETAG, URI_PATH, CONTENT_FORMAT, MAX_AGE, URI_QUERY, ACCEPT, PROXY_URI = 1, 4, 11, 12, 14, 15, 17, 35
ALL = REQUEST_GET | REQUEST_PUT | REQUEST_POST | REQUEST_DELETE
PEER = ("192.0.2.1", 5683)
TOKEN = b"\x5a\x01"


def quiet(profile: FirmwareProfile) -> FirmwareProfile:
    """``profile`` without its warning lines (the tests check responses, not stderr)."""
    profile.warn = False
    return profile


class Server:
    """A resource table behind a message layer, as one server endpoint has them, with no socket."""

    def __init__(self, profile: FirmwareProfile | None = None) -> None:
        self.table = ResourceTable(profile or quiet(profiles.docs_profile()))
        self.layer = MessageLayer(random.Random(7))
        self._mid = 0x1000

    def add(
        self,
        uri: str,
        *,
        media_type: int = -1,
        max_age: int = -1,
        value: object = 0,
        etag: bool = False,
        methods: int = ALL,
    ) -> Resource:
        """``Coap.add_resource`` then ``callback(methods, True)``, on the table."""
        resource = self.table.add(uri, media_type, max_age, value, etag)
        assert resource is not None
        resource.methods |= methods
        return resource

    def request(
        self,
        code: int,
        path: str = "",
        *options: tuple[int, bytes],
        payload: bytes = b"",
        mtype: int = CON,
        multicast: bool = False,
    ) -> Message | None:
        """The response message to a request for ``path`` (None: nothing was sent)."""
        self._mid += 1
        uri = [(URI_PATH, segment.encode()) for segment in path.split("/")] if path else []
        sent = Message(mtype, code, self._mid, TOKEN, sorted([*uri, *options], key=lambda o: o[0]), payload)
        event = self.layer.receive(encode(sent), PEER, 0.0)
        assert type(event) is RequestReceived
        reply = self.table.handle(event.message, multicast)
        if reply is None:
            self.layer.respond(event, None)
        else:
            self.layer.respond(event, reply[0], reply[1], reply[2])
        out, self.layer.outgoing[:] = list(self.layer.outgoing), []
        if not out:
            return None
        assert len(out) == 1 and out[0][1] == PEER
        response = decode(out[0][0])
        assert response.mid == self._mid  # piggy-backed (CON) or the request's id (NON), as libcoap
        assert response.mtype == (ACK if mtype == CON else NON)
        if response.code:
            assert response.token == TOKEN
        return response

    def answer(
        self, code: int, path: str = "", *options: tuple[int, bytes], payload: bytes = b""
    ) -> tuple[int, list[tuple[int, bytes]], bytes]:
        """(code, options, payload) of the response to a CON request (there must be one)."""
        response = self.request(code, path, *options, payload=payload)
        assert response is not None
        return response.code, response.options, response.payload


@pytest.fixture
def server() -> Server:
    return Server()


# -- a new resource and unknown paths ------------------------------------------------------------------


def test_a_new_resource_answers_4_05_until_its_methods_are_enabled(server: Server) -> None:
    resource = server.add("sensor", value=b"21.5", methods=0)
    for code in (GET, POST, PUT, DELETE):
        assert server.answer(code, "sensor", payload=b"x") == (133, [], b"Method Not Allowed")
    resource.methods |= REQUEST_GET  # callback(Coap.REQUEST_GET, True)
    assert server.answer(GET, "sensor") == (69, [], b"21.5")
    assert server.answer(PUT, "sensor", payload=b"x") == (133, [], b"Method Not Allowed")


def test_an_unknown_path_is_4_04_with_the_phrase_and_no_options(server: Server) -> None:
    server.add("sensor")
    assert server.answer(GET, "other") == (132, [], b"Not Found")
    assert server.answer(DELETE, "other") == (132, [], b"Not Found")  # 1.20.1-1.20.2: not 2.02


def test_a_method_code_modcoap_has_no_handler_for_is_4_05(server: Server) -> None:
    server.add("sensor")
    assert server.answer(5, "sensor") == (133, [], b"Method Not Allowed")  # FETCH


def test_a_non_request_gets_a_non_response_with_its_id(server: Server) -> None:
    server.add("sensor", value=b"v")
    response = server.request(GET, "sensor", mtype=NON)
    assert response is not None and (response.code, response.payload) == (69, b"v")


# -- GET -----------------------------------------------------------------------------------------------


def test_get_sends_the_stored_bytes_and_options_in_order(server: Server) -> None:
    server.add("temp", media_type=50, max_age=60, value=b'{"t": 21}', etag=True)
    assert server.answer(GET, "temp") == (
        69,
        [(ETAG, b"\x01"), (CONTENT_FORMAT, b"\x32"), (MAX_AGE, b"\x3c")],
        b'{"t": 21}',
    )


def test_values_are_stored_as_the_firmware_stores_them(server: Server) -> None:
    server.add("default")
    server.add("int", value=300)
    server.add("text", value="héllo")
    assert server.answer(GET, "default")[2] == b"\x00"  # the default value 0 is one byte
    assert server.answer(GET, "int")[2] == b"\x2c\x01"  # 1-2 little-endian bytes
    assert server.answer(GET, "text")[2] == "héllo".encode()


def test_unset_media_type_and_max_age_send_no_options(server: Server) -> None:
    server.add("plain", value=b"v")
    assert server.answer(GET, "plain") == (69, [], b"v")


def test_on_1_20_2_r6_unset_media_type_and_max_age_are_255() -> None:
    server = Server(profiles.firmware_1_20_2_r6())
    server.add("plain", value=b"v")
    assert server.answer(GET, "plain") == (69, [(CONTENT_FORMAT, b"\xff"), (MAX_AGE, b"\xff")], b"v")
    # and any Accept differs from 255: 4.06
    assert server.answer(GET, "plain", (ACCEPT, b"")) == (134, [], b"Not Acceptable")


def test_etag_is_a_counter_from_1_and_a_matching_etag_gets_2_03(server: Server) -> None:
    resource = server.add("temp", media_type=0, value=b"20", etag=True)
    assert server.answer(GET, "temp")[:2] == (69, [(ETAG, b"\x01"), (CONTENT_FORMAT, b"")])
    resource.set_value(b"20")  # the same bytes still count as a change
    resource.set_value(b"21")
    assert server.answer(GET, "temp") == (69, [(ETAG, b"\x03"), (CONTENT_FORMAT, b"")], b"21")
    assert server.answer(GET, "temp", (ETAG, b"\x03")) == (67, [(ETAG, b"\x03"), (CONTENT_FORMAT, b"")], b"")
    assert server.answer(GET, "temp", (ETAG, b"\x01"))[0] == 69  # an old ETag: the value again
    assert server.answer(GET, "temp", (ETAG, b"\x00\x03"))[0] == 67  # compared as an unsigned number


def test_etag_wraps_from_65535_to_1(server: Server) -> None:
    resource = server.add("temp", etag=True)
    resource.etag = 0xFFFF
    resource.set_value(b"x")
    assert server.answer(GET, "temp")[1] == [(ETAG, b"\x01")]


def test_an_accept_other_than_the_media_type_is_4_06(server: Server) -> None:
    server.add("json", media_type=50, value=b"{}")
    assert server.answer(GET, "json", (ACCEPT, b"\x32")) == (69, [(CONTENT_FORMAT, b"\x32")], b"{}")
    assert server.answer(GET, "json", (ACCEPT, b"")) == (134, [], b"Not Acceptable")  # empty Accept is 0
    server.add("any", value=b"v")
    assert server.answer(GET, "any", (ACCEPT, b"\x32")) == (69, [], b"v")  # no media type: no check


# -- PUT, POST, DELETE ---------------------------------------------------------------------------------


def test_put_stores_the_payload_and_its_content_format(server: Server) -> None:
    resource = server.add("led", media_type=0, value=b"off", etag=True)
    assert server.answer(PUT, "led", (CONTENT_FORMAT, b"\x32"), payload=b'{"on": 1}') == (
        68,
        [(ETAG, b"\x02")],
        b"",
    )
    assert (resource.value, resource.media_type) == (b'{"on": 1}', 50)
    assert server.answer(PUT, "led", payload=b"\x00\xff") == (68, [(ETAG, b"\x03")], b"")
    assert (resource.value, resource.media_type) == (b"\x00\xff", -1)  # no Content-Format: unset again


def test_put_if_match_must_equal_the_etag_else_4_12(server: Server) -> None:
    server.add("led", etag=True)
    assert server.answer(PUT, "led", (IF_MATCH, b"\x07"), payload=b"x") == (140, [], b"Precondition Failed")
    assert server.answer(PUT, "led", (IF_MATCH, b"\x01"), payload=b"x") == (68, [(ETAG, b"\x02")], b"")
    assert server.answer(PUT, "led", (IF_MATCH, b""), payload=b"y")[0] == 68  # an empty If-Match passes
    server.add("plain")
    assert server.answer(PUT, "plain", (IF_MATCH, b"\x01"), payload=b"x")[0] == 140  # no ETag to match
    assert server.answer(PUT, "plain", payload=b"x") == (68, [], b"")


def test_put_or_post_without_payload_is_5_00_after_changing_the_media_type(server: Server) -> None:
    resource = server.add("led", media_type=0, value=b"v")
    assert server.answer(PUT, "led", (CONTENT_FORMAT, b"\x32")) == (160, [], b"Internal Server Error")
    assert (resource.value, resource.media_type) == (b"v", 50)
    assert server.answer(POST, "led")[0] == 160


def test_post_is_a_put_without_preconditions_and_never_creates(server: Server) -> None:
    resource = server.add("log", etag=True)
    assert server.answer(POST, "log", (IF_MATCH, b"\x09"), payload=b"line") == (68, [(ETAG, b"\x02")], b"")
    assert resource.value == b"line"
    assert server.answer(POST, "new", payload=b"x") == (132, [], b"Not Found")
    assert server.answer(PUT, "new", payload=b"x") == (132, [], b"Not Found")


def test_delete_removes_the_resource(server: Server) -> None:
    resource = server.add("tmp", value=b"v")
    assert server.answer(DELETE, "tmp") == (66, [], b"")
    assert not resource.alive and server.table.get("tmp") is None
    assert server.answer(GET, "tmp") == (132, [], b"Not Found")


# -- paths ---------------------------------------------------------------------------------------------


def test_paths_match_by_segments_on_1_20_1_to_1_20_2(server: Server) -> None:
    server.add("/sensors//temp/", value=b"t")
    for path in ("sensors/temp", "sensors//temp", "sensors/./temp"):
        assert server.answer(GET, path) == (69, [], b"t"), path
    assert server.table.add("sensors/temp", -1, -1, 0, False) is None  # the same resource


def test_on_1_20_3_b2_paths_match_the_uri_string_exactly() -> None:
    server = Server(profiles.firmware_1_20_3_b2())
    server.add("/sensor", value=b"never")
    server.add("a/b", value=b"ab")
    assert server.answer(GET, "sensor")[0] == 132  # "/sensor" is never reached
    assert server.answer(GET, "a/b")[2] == b"ab"


# -- /.well-known/core ---------------------------------------------------------------------------------


def test_well_known_core_lists_newest_first_with_attributes_reversed(server: Server) -> None:
    first = server.add("resource1", methods=0)
    first.attributes += [("title", "resource1"), ("ct", "0")]
    server.add("resource2", methods=0)
    assert server.answer(GET, ".well-known/core") == (
        69,
        [(CONTENT_FORMAT, b"\x28")],
        b"</resource2>,</resource1>;ct=0;title=resource1",
    )
    assert (
        server.answer(GET, ".well-known/core", (URI_QUERY, b"ct=0"))[2]
        == b"</resource1>;ct=0;title=resource1"
    )
    assert server.answer(GET, ".well-known/core", (URI_QUERY, b"ct=9")) == (128, [], b"")


def test_well_known_core_lists_oldest_first_on_1_20_3_b2() -> None:
    server = Server(profiles.firmware_1_20_3_b2())
    server.add("resource1")
    server.add("resource2")
    assert server.answer(GET, ".well-known/core")[2] == b"</resource1>,</resource2>"


def test_well_known_core_of_no_resources_is_4_00_and_other_methods_4_05(server: Server) -> None:
    assert server.answer(GET, ".well-known/core") == (128, [], b"")
    assert server.answer(POST, ".well-known/core", payload=b"x") == (133, [], b"Method Not Allowed")


# -- options the handlers refuse, multicast ------------------------------------------------------------


def test_an_unknown_critical_option_is_4_02_for_con_and_dropped_for_non(server: Server) -> None:
    server.add("sensor", value=b"v")
    assert server.answer(GET, "sensor", (2049, b"x")) == (130, [], b"Bad Option")
    assert server.request(GET, "sensor", (2049, b"x"), mtype=NON) is None
    assert server.answer(GET, "sensor", (2048, b"x")) == (69, [], b"v")  # elective: ignored


def test_a_proxy_request_is_5_05(server: Server) -> None:
    assert server.answer(GET, "", (PROXY_URI, b"coap://elsewhere/x")) == (165, [], b"Proxying Not Supported")


def test_multicast_requests_get_no_error_responses(server: Server) -> None:
    server.add("sensor", value=b"v")
    assert server.request(GET, "other", mtype=NON, multicast=True) is None
    response = server.request(GET, "sensor", mtype=NON, multicast=True)
    assert response is not None and (response.code, response.payload) == (69, b"v")


# -- the request side: how modcoap builds a client request ---------------------------------------------


def test_a_client_request_has_its_options_as_modcoap_builds_them() -> None:
    profile = quiet(profiles.docs_profile())
    segments = path_segments("/a/b?x=1", profile)
    options = build_options(uri_host=b"10.0.0.2", uri_port=5683, segments=segments, content_format=0)
    assert options == [
        (3, b"10.0.0.2"),
        (7, b"\x16\x33"),
        (URI_PATH, b"a"),
        (URI_PATH, b"b"),
        (CONTENT_FORMAT, b"\x00\x00"),
    ]
    assert [check_method(bit) for bit in (REQUEST_GET, REQUEST_PUT, REQUEST_POST, REQUEST_DELETE)] == [
        1,
        3,
        2,
        4,
    ]
    with pytest.raises(ValueError, match='Invalid "method" parameter value!'):
        check_method(REQUEST_GET | REQUEST_PUT)
    strict = profiles.firmware_1_20_2_r6()
    assert path_segments("/a", strict) == ["", "a"]  # the firmware's empty first segment
