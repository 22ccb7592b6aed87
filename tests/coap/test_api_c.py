"""Firmware 1.20.3.b4 (and 1.20.3.b3, the same modcoap.c): API C, as tag v1.20.3.b3's
esp32/mods/modcoap.c has it (shared/spec/firmware-coap.md §6, §7).

No ``Coap.read()``, ``socket()`` or ``send_request``: a task ("Coap", ``coap_run_once(ctx, 100)``)
serves the context from ``init()`` on; handlers run in the IRQ thread. ``init(..., dynamic_resources,
psk, hint)``, ``register_new_resource_handler``, ``CoapResource.get_details``/``set_details``, sessions
with a keyword-only port and ``psk``/``identity``, ``remove_client_session(address, port, protocol)``;
the port read as an object pointer, C's PUT preconditions and the dynamic PUT's first-segment name. The
docs profile has these functions too, beside API A and B. In-process, real UDP on loopback; peers are
plain UDP sockets (our codec) and libcoap's ``coap-client-notls``; every wait is bounded.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from conftest import ROOT, bound, free_loopback_ip, libcoap, raises, wait_udp_port
from peers.coap_peer import Peer

from firmware_sim.testing import eventually
from network import host
from network import profile as profiles
from network.coap.api import api_c
from network.coap.protocol.codec import Message, decode, encode

C, B, A = "1.20.3.b4", "1.20.3.b2", "1.20.2.r6"
CON, ACK = 0, 2
GET, POST, PUT, DELETE = 1, 2, 3, 4
IF_MATCH, URI_HOST, ETAG, IF_NONE_MATCH, URI_PORT = 1, 3, 4, 5, 7
URI_PATH, CONTENT_FORMAT, MAX_AGE = 11, 12, 14
NOT_INITIALIZED = "Coap module has not been initialized!"
WAIT = 5.0
C_FUNCTIONS = (
    "init",
    "add_resource",
    "remove_resource",
    "get_resource",
    "register_response_handler",
    "register_new_resource_handler",
    "new_client_session",
    "remove_client_session",
    "get_client_sessions",
)


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def ask(
    server: tuple[str, int], code: int, path: list[str], payload: bytes = b"", options=(), mid: int = 0x1234
) -> Message:
    """One CON request from a fresh plain socket; the reply (bounded wait)."""
    opts = [(URI_PATH, seg.encode()) for seg in path] + list(options)
    opts.sort(key=lambda o: o[0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        sock.sendto(encode(Message(CON, code, mid, b"tk", opts, payload)), server)
        reply = decode(sock.recv(70000))
    assert (reply.mid, reply.mtype, reply.token) == (mid, ACK, b"tk")
    return reply


class Calls:
    """A handler that records its calls and the thread that made them."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.threads: list[str] = []
        self.event = threading.Event()

    def __call__(self, *args: object) -> None:
        self.calls.append(args)
        self.threads.append(threading.current_thread().name)
        self.event.set()

    def wait(self, count: int = 1) -> bool:
        return eventually(lambda: len(self.calls) >= count, WAIT, interval=0.01)


# -- the profile and the module's surface --------------------------------------------------------------


def test_profile_is_registered_as_1_20_3_b4_and_b3() -> None:
    for name in (C, "1.20.3.b3"):
        profile = profiles.by_name(name)
        assert profile.name == name and not profile.warn
        assert profile.hidden == {"read", "socket", "send_request"}
        assert profile.network_lacks == {"MDNS"}
        assert {"background-task", "init-port-halved", "put-preconditions", "exact-uri"} <= profile.reproduces
        fixed_in_c = {"init-port", "unset-content-format", "max-age-8bit", "callback-disable"}
        assert not fixed_in_c & profile.reproduces
        assert profile.reproduces <= {q.key for q in profiles.ALL_QUIRKS}


def test_read_socket_and_send_request_are_missing_attributes(firmware, coap) -> None:
    firmware(C)
    for name in ("read", "socket", "send_request"):
        with raises(AttributeError, f"'module' object has no attribute '{name}'"):
            getattr(coap, name)
        assert not hasattr(coap, name)
    for name in C_FUNCTIONS:
        assert callable(getattr(coap, name)), name
    assert (coap.PROTOCOL_UDP, coap.PROTOCOL_DTLS) == (1, 2)
    assert (coap.REQUEST_GET, coap.REQUEST_PUT, coap.REQUEST_POST, coap.REQUEST_DELETE) == (1, 2, 4, 8)
    assert (coap.MEDIATYPE_TEXT_PLAIN, coap.MEDIATYPE_APP_XML, coap.MEDIATYPE_APP_CBOR) == (0, 41, 60)


@pytest.mark.parametrize("name", [A, B])
def test_older_firmware_lacks_api_c(firmware, coap, ip, name: str) -> None:
    firmware(name)
    for attribute in ("register_new_resource_handler", "PROTOCOL_UDP", "PROTOCOL_DTLS"):
        with raises(AttributeError, f"'module' object has no attribute '{attribute}'"):
            getattr(coap, attribute)
    with raises(TypeError, "extra keyword arguments given"):
        coap.init(ip, dynamic_resources=True)
    coap.init(ip)
    resource = coap.add_resource("r")
    for method in ("get_details", "set_details"):
        with raises(AttributeError, f"'CoapResource' object has no attribute '{method}'"):
            getattr(resource, method)
        assert not hasattr(resource, method)


def test_every_function_before_init(firmware, coap) -> None:
    firmware(C)
    calls = [
        lambda: coap.add_resource("r"),
        lambda: coap.add_resource(),  # "not initialized" comes before the arguments (L1486)
        lambda: coap.remove_resource("r"),
        lambda: coap.get_resource("r"),
        lambda: coap.register_response_handler(print),
        lambda: coap.register_new_resource_handler(print),
        lambda: coap.new_client_session("127.0.0.1"),
        lambda: coap.new_client_session("127.0.0.1", 5683),
        lambda: coap.remove_client_session("127.0.0.1", 5683, 1),
        lambda: coap.get_client_sessions(),
    ]
    for call in calls:
        with raises(RuntimeError, NOT_INITIALIZED):
            call()
    # fixed arities are MicroPython's call checks: before the function's own "not initialized"
    with raises(TypeError, "function takes 3 positional arguments but 2 were given"):
        coap.remove_client_session("127.0.0.1", 5683)
    with raises(TypeError, "function takes 1 positional arguments but 0 were given"):
        coap.register_new_resource_handler()


# -- init ----------------------------------------------------------------------------------------------


def test_init_serves_on_5683_from_a_background_task(firmware, coap, ip) -> None:
    firmware(C)
    assert coap.init(ip) is None
    assert bound(ip, 5683)
    tasks = [t for t in threading.enumerate() if t.name == "Coap"]
    assert len(tasks) == 1 and tasks[0].daemon
    coap.add_resource("r", value="v").callback(coap.REQUEST_GET, True)
    reply = ask((ip, 5683), GET, ["r"])  # no read() anywhere: the task answers
    assert (reply.code, reply.payload) == (69, b"v")
    with raises(RuntimeError, "Coap module already initialized!"):
        coap.init(ip)
    with raises(RuntimeError, "Coap module already initialized!"):
        coap.init(bogus=1)  # checked before the arguments (L1404)


def test_hard_reset_ends_the_task(firmware, coap, ip) -> None:
    from network.coap.api.module import hard_reset

    firmware(C)
    coap.init(ip)
    task = next(t for t in threading.enumerate() if t.name == "Coap")
    hard_reset()
    assert not task.is_alive()
    host.configure(ip=ip, mapping={})
    coap.init(ip)  # a reboot: init works again
    assert ask((ip, 5683), GET, ["none"]).code == 132


@pytest.mark.peer
@pytest.mark.process
def test_libcoap_client_gets_answers_without_read(firmware, coap, ip, coap_client_tool) -> None:
    firmware(C)
    coap.init(ip)
    first = coap.add_resource("resource1", media_type=0, value="default_value")
    first.add_attribute("title", "resource1")
    first.callback(coap.REQUEST_GET, True)
    coap.add_resource("resource2", media_type=41, etag=True).callback(coap.REQUEST_GET, True)
    for path, expected in [
        ("resource1", "default_value\n"),
        (".well-known/core", "</resource1>;title=resource1,</resource2>\n"),  # oldest first (libcoap 4.2)
    ]:
        done = subprocess.run(
            [coap_client_tool, "-B", "3", "-m", "get", f"coap://{ip}/{path}"],
            capture_output=True,
            text=True,
            timeout=15,
        )
        assert (done.stdout, done.stderr) == (expected, "")


@pytest.mark.parametrize(("psk", "hint"), [("secret", None), (None, "hint")])
def test_init_needs_psk_and_hint_together(firmware, coap, ip, psk, hint) -> None:
    firmware(C)
    with raises(ValueError, "Both PSK and Hint must be defined"):
        coap.init(ip, psk=psk, hint=hint)
    coap.init(ip)  # nothing was initialized


def test_init_with_psk_and_hint_checks_them_as_c_strings(firmware, coap, ip) -> None:
    firmware(C)
    with raises(TypeError, "can't convert 'int' object to str implicitly"):
        coap.init(ip, psk="secret", hint=7)  # hint and psk are C strings (L1355-1356)
    coap.init(ip)


@pytest.mark.peer
def test_init_with_psk_and_hint_serves_coaps_on_5684_to_libcoaps_client(firmware, coap) -> None:
    """The board's server over DTLS-PSK (any identity, one key: coap_context_set_psk), as libcoap's
    OpenSSL client reaches it; a client with another key gets nothing."""
    firmware(C)
    ip = free_loopback_ip(5684)
    coap.init(ip, psk="secretPSK", hint="CoAP")
    coap.add_resource("greeting", value="hello").callback(coap.REQUEST_GET, True)
    tool = libcoap("coap-client-openssl")
    done = subprocess.run(
        [tool, "-B", "5", "-k", "secretPSK", "-u", "someone", f"coaps://{ip}/greeting"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (0, "hello\n"), done.stderr
    wrong = subprocess.run(
        [tool, "-B", "3", "-k", "notTheKey", "-u", "someone", f"coaps://{ip}/greeting"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "hello" not in wrong.stdout


@pytest.mark.peer
def test_a_session_with_psk_talks_coaps_to_libcoaps_server(firmware, coap, spawn) -> None:
    firmware(C)
    ip = free_loopback_ip(5684)
    spawn([libcoap("coap-server-openssl"), "-A", ip, "-k", "secretPSK", "-h", "CoAP"])
    wait_udp_port(ip, 5684)
    got: list[tuple] = []
    coap.init()
    coap.register_response_handler(lambda *args: got.append(args))
    session = coap.new_client_session(ip, psk="secretPSK", identity="board")
    assert session.get_details() == [ip, 5684, coap.PROTOCOL_DTLS]
    session.send_request(coap.REQUEST_GET, uri_path="time")  # sent once the handshake is done
    assert eventually(lambda: got, WAIT), "no response over DTLS"
    code, _, _, _, payload = got[0]
    assert code == 69 and payload


@pytest.mark.unit
def test_init_port_choice_without_dtls() -> None:
    profile = profiles.by_name(C)
    secure = api_c.init_plan(("127.0.0.1",), {"psk": b"k\0ey", "hint": "h"}, profile)
    assert (secure.port, secure.psk, secure.hint) == (5684, b"k", b"h")  # strlen: up to a NUL
    assert api_c.init_plan(("127.0.0.1",), {}, profile).port == 5683
    assert api_c.init_plan(("127.0.0.1",), {"port": 5685, "psk": "k", "hint": "h"}, profile).port == 2842
    client = api_c.init_plan((), {"port": 7, "psk": "k", "service_discovery": True}, profile)
    assert client == api_c.InitPlan(None, 0, False, False, None, None)  # no address: all ignored


def test_init_port_is_read_as_an_object(firmware, coap, ip, capsys) -> None:
    firmware(C)
    with raises(TypeError, "can't convert NoneType to int"):
        coap.init(ip, port=None)  # MP_ARG_INT: a given None is not "the default"
    with raises(TypeError, "can't convert str to int"):
        coap.init(ip, port="5683")
    with pytest.raises(OSError, match=r"^Coap.init\(port=5684\): firmware 1.20.3.b3/b4 read the port as"):
        coap.init(ip, port=5684)
    coap.init(ip, port=5683)
    assert bound(ip, 2841) and not bound(ip, 5683)  # (5683 - 1) // 2
    assert capsys.readouterr().err == ""  # a strict profile reproduces, it does not warn


def test_init_address_errors(firmware, coap, ip) -> None:
    firmware(C)
    with raises(TypeError, "can't convert 'NoneType' object to str implicitly"):
        coap.init(None)  # a given None is an address (only a missing one means client only)
    with raises(ValueError, "invalid arguments"):
        coap.init("not-an-ip")
    with raises(TypeError, "extra positional arguments given"):
        coap.init(ip, 5683)
    coap.init()  # client only
    assert not bound(ip, 5683)
    assert any(t.name == "Coap" for t in threading.enumerate())  # the task runs all the same (L1458)


def test_without_dynamic_resources_unknown_uris(firmware, coap, ip) -> None:
    firmware(C)
    coap.init(ip)
    assert ask((ip, 5683), PUT, ["new"], b"x").code == 132  # 4.04
    reply = ask((ip, 5683), DELETE, ["nothing"])
    assert (reply.code, reply.payload) == (66, b"Deleted")  # libcoap 4.2: 2.02 for an unknown URI
    assert coap.get_resource("new") is None


# -- dynamic resources ---------------------------------------------------------------------------------


def test_dynamic_put_creates_a_resource_and_calls_the_handler(firmware, coap, ip) -> None:
    firmware(C)
    coap.init(ip, dynamic_resources=True)
    created = Calls()
    assert coap.register_new_resource_handler(created) is None
    reply = ask((ip, 5683), PUT, ["sensor", "temp"], b"21.5", [(CONTENT_FORMAT, b"\x32")])
    assert (reply.code, reply.options, reply.payload) == (65, [], b"Created")
    assert created.wait()
    ((resource,),) = created.calls
    assert created.threads == ["IRQs"]  # queued as the response handler is (L661-664)
    assert type(resource).__name__ == "CoapResource"
    assert coap.get_resource("sensor") is resource  # named by the first Uri-Path only
    assert resource.get_details() == ["sensor", 50, -1, 0, 0]
    assert resource.value() == b"21.5"
    got = ask((ip, 5683), GET, ["sensor"])  # every method is enabled on it
    assert (got.code, got.options, got.payload) == (69, [(CONTENT_FORMAT, b"\x32")], b"21.5")
    assert ask((ip, 5683), GET, ["sensor", "temp"]).code == 132
    assert ask((ip, 5683), POST, ["sensor"], b"22").code == 68
    assert resource.value() == b"22"
    assert ask((ip, 5683), DELETE, ["sensor"]).code == 66
    assert coap.get_resource("sensor") is None
    assert len(created.calls) == 1


def test_dynamic_put_corner_cases(firmware, coap, ip) -> None:
    firmware(C)
    coap.init(ip, dynamic_resources=True)
    server = (ip, 5683)
    assert ask(server, PUT, ["empty"]).code == 65  # no payload: the int 0
    assert coap.get_resource("empty").value() == b"\x00"
    assert coap.get_resource("empty").get_details() == ["empty", -1, -1, 0, 0]
    reply = ask(server, PUT, [])
    assert (reply.code, reply.payload) == (128, b"Bad Request")  # no Uri-Path to name it
    assert ask(server, PUT, ["", "x"]).code == 128  # an empty first segment
    reply = ask(server, PUT, ["empty", "deeper"], b"v")  # would be "empty" again
    assert (reply.code, reply.payload) == (160, b"Internal Server Error")
    assert ask(server, PUT, ["nul\0cut"], b"v").code == 65  # the name is a C string
    assert coap.get_resource("nul") is not None
    assert ask(server, PUT, [".well-known", "core"], b"v").code == 133  # 4.05, not created


def test_new_resource_handler_that_is_not_callable(firmware, coap, ip, capsys) -> None:
    firmware(C)
    coap.init(ip, dynamic_resources=True)
    coap.register_new_resource_handler(7)  # stored unchecked
    assert ask((ip, 5683), PUT, ["a"], b"1").code == 65

    def printed() -> bool:
        return "TypeError: 'int' object isn't callable" in capsys.readouterr().err

    assert eventually(printed, WAIT, interval=0.01)
    assert coap.get_resource("a") is not None


def test_docs_profile_dynamic_put_names_by_the_whole_path_and_warns(coap, ip, capsys) -> None:
    coap.init(ip, dynamic_resources=True)
    created = Calls()
    coap.register_new_resource_handler(created)
    assert ask((ip, 5683), PUT, ["a", "b"], b"v").code == 65  # the docs profile's task serves it
    assert created.wait()
    assert created.calls[0][0].get_details()[0] == "a/b"
    assert coap.get_resource("a/b") is created.calls[0][0]
    err = capsys.readouterr().err
    assert err == (
        "firmware-sim: warning: a PUT to the unknown 'a/b' creates resource 'a' on firmware 1.20.3.b3 "
        "and later (first Uri-Path only)\n"
    )


def test_docs_profile_read_stops_the_task_and_says_no_firmware_has_both(coap, ip, capsys) -> None:
    coap.init(ip, dynamic_resources=True)
    assert any(t.name == "Coap" for t in threading.enumerate())
    coap.read(10)
    assert not any(t.name == "Coap" for t in threading.enumerate())
    assert capsys.readouterr().err == (
        "firmware-sim: warning: Coap.read() with Coap.init(dynamic_resources=True): firmware 1.20.3.b3 "
        "and later have Coap.init(dynamic_resources=True) but no Coap.read(); their task serves the "
        "context from Coap.init() on\n"
    )


# -- PUT preconditions ---------------------------------------------------------------------------------


def test_put_preconditions(firmware, coap, ip, capsys) -> None:
    firmware(C)
    coap.init(ip)
    server = (ip, 5683)
    tagged = coap.add_resource("tagged", media_type=0, value="a", etag=True)
    tagged.callback(coap.REQUEST_GET | coap.REQUEST_PUT, True)
    plain = coap.add_resource("plain", value="a")
    plain.callback(coap.REQUEST_PUT, True)
    failed = ask(server, PUT, ["tagged"], b"b")  # no If-Match on an ETag resource (L703-718)
    assert (failed.code, failed.payload) == (140, b"Precondition Failed")
    assert ask(server, PUT, ["tagged"], b"b", [(IF_MATCH, b"\x07")]).code == 140
    done = ask(server, PUT, ["tagged"], b"b", [(IF_MATCH, b"\x01"), (CONTENT_FORMAT, b"\x29")])
    assert (done.code, done.options) == (68, [(ETAG, b"\x02")])
    assert ask(server, PUT, ["plain"], b"b", [(IF_NONE_MATCH, b"")]).code == 140
    assert ask(server, PUT, ["plain"], b"b", [(IF_MATCH, b"\x63")]).code == 68  # ignored without etag
    # empty payload: 5.00, and the media type stays (C changes it only on success)
    assert ask(server, PUT, ["tagged"], b"", [(IF_MATCH, b"\x02")]).code == 160
    assert tagged.get_details() == ["tagged", 41, -1, 1, 2]
    assert capsys.readouterr().err == ""


def test_docs_profile_put_without_if_match_is_accepted_and_warned(coap, ip, reader, capsys) -> None:
    coap.init(ip)
    tagged = coap.add_resource("tagged", value="a", etag=True)
    tagged.callback(coap.REQUEST_PUT, True)
    assert ask((ip, 5683), PUT, ["tagged"], b"b").code == 68
    assert capsys.readouterr().err == (
        "firmware-sim: warning: PUT to 'tagged' gets 4.12 Precondition Failed on firmware 1.20.3.b3 and "
        "later: 4.12 for any If-None-Match and, with etag, for an If-Match that is missing or not the "
        "ETag; without etag If-Match is ignored\n"
    )


# -- resources: as API A/B, with C's fixes ---------------------------------------------------------------


def test_resources_add_get_remove(firmware, coap, ip, capsys) -> None:
    firmware(C)
    coap.init(ip)
    server = (ip, 5683)
    resource = coap.add_resource("r", value=300, max_age=3600)
    with raises(RuntimeError, "Resource already exists or cannot be created!"):
        coap.add_resource("r")
    assert coap.get_resource("r") is resource and coap.get_resource("missing") is None
    assert coap.remove_resource("missing") is None
    assert ask(server, GET, ["r"]).code == 133  # no handler until callback() (4.05)
    resource.callback(coap.REQUEST_GET, True)
    reply = ask(server, GET, ["r"])  # no Content-Format 255 / Max-Age 255, no 8-bit Max-Age (8bfbf1f12)
    assert (reply.code, reply.options, reply.payload) == (69, [(MAX_AGE, b"\x0e\x10")], b"\x2c\x01")
    assert ask(server, GET, ["r"], options=[(17, b"")]).code == 69  # Accept without a media type: served
    resource.callback(coap.REQUEST_GET, False)  # disables (the A-r4/B bug is fixed, L1225)
    assert ask(server, GET, ["r"]).code == 133
    coap.add_resource("/slash").callback(coap.REQUEST_GET, True)
    assert ask(server, GET, ["slash"]).code == 132  # exact uri string: "/slash" is never reached
    coap.remove_resource("r")
    assert coap.get_resource("r") is None and ask(server, GET, ["r"]).code == 132
    assert capsys.readouterr().err == ""


# -- get_details / set_details -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [C, "docs"])
def test_resource_details_round_trip(firmware, coap, ip, name: str) -> None:
    firmware(name)
    coap.init(ip)
    resource = coap.add_resource("r", value="v")
    resource.callback(coap.REQUEST_GET, True)
    assert resource.get_details() == ["r", -1, -1, 0, 0]
    tagged = coap.add_resource("t", media_type=50, max_age=3600, etag=True)
    assert tagged.get_details() == ["t", 50, 3600, 1, 1]  # int32 fields: no 8-bit cut on C
    tagged.value("new")
    assert tagged.get_details()[3:] == [1, 2]
    assert resource.set_details(mediatype=0) is None  # only the given fields change
    assert resource.get_details() == ["r", 0, -1, 0, 0]
    resource.set_details(max_age=100, etag=True)  # etag restarts the counter at 1
    assert resource.get_details() == ["r", 0, 100, 1, 1]
    reply = ask((ip, 5683), GET, ["r"])  # docs: a script using API C gets its task too
    assert reply.options == [(ETAG, b"\x01"), (CONTENT_FORMAT, b""), (MAX_AGE, b"\x64")]
    tagged.set_details(etag=False)
    assert tagged.get_details() == ["t", 50, 3600, 0, 0]
    resource.set_details(mediatype=-1, max_age=-1)
    assert resource.get_details() == ["r", -1, -1, 1, 1]


def test_resource_details_argument_errors(firmware, coap, ip) -> None:
    firmware(C)
    coap.init(ip)
    resource = coap.add_resource("r")
    with raises(TypeError, "extra positional arguments given"):
        resource.set_details(0)
    with raises(TypeError, "extra keyword arguments given"):
        resource.set_details(media_type=0)  # set_details says mediatype, add_resource media_type
    with raises(TypeError, "can't convert NoneType to int"):
        resource.set_details(max_age=None)
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        resource.get_details(1)
    resource.set_details(etag="yes")  # MP_ARG_BOOL: any object's truth
    assert resource.get_details()[3:] == [1, 1]
    coap.remove_resource("r")
    with raises(RuntimeError, "Resource has been removed!"):
        resource.get_details()


# -- client sessions -----------------------------------------------------------------------------------


def test_session_details_ports_and_removal(firmware, coap, peer: Peer) -> None:
    firmware(C)
    coap.init()
    with raises(TypeError, "extra positional arguments given"):
        coap.new_client_session(peer.ip, 5683)  # the tutorial's call: port is keyword-only
    first = coap.new_client_session(address=peer.ip)
    assert first.get_details() == [peer.ip, 5683, 1]
    with raises(ValueError, "If Security is not configured port must not be 5684!"):
        coap.new_client_session(peer.ip, port=11369)  # (11369 - 1) // 2 = 5684
    other = coap.new_client_session(peer.ip.encode(), port=11367)  # (11367 - 1) // 2 = 5683
    assert other.get_details() == [peer.ip.encode(), 5683, 1]
    assert coap.get_client_sessions() == [first, other]
    with raises(RuntimeError, "Client Session has not been removed"):
        coap.remove_client_session(peer.ip, 5683, coap.PROTOCOL_DTLS)
    with raises(TypeError, "function takes 3 positional arguments but 2 were given"):
        coap.remove_client_session(peer.ip, 5683)
    assert coap.remove_client_session(peer.ip, 5683, coap.PROTOCOL_UDP) is None  # the first that matches
    assert coap.get_client_sessions() == [other]
    assert coap.remove_client_session(peer.ip, 5683 + 65536, 257) is None  # uint16_t port, uint8_t protocol
    with raises(RuntimeError, "Client Session has not been removed"):
        coap.remove_client_session(peer.ip, 5683, 1)


def test_session_with_halved_port_connects_there(firmware, coap) -> None:
    firmware(C)
    coap.init()
    target = Peer(port=2842)
    try:
        session = coap.new_client_session(target.ip, port=5685)
        assert session.get_details() == [target.ip, 2842, 1]
        session.send_request(coap.REQUEST_GET, uri_path="x")
        msg, _ = target.recv()
        assert msg.option(URI_PORT) == (2842).to_bytes(2, "big")
    finally:
        target.close()


def test_session_security_errors(firmware, coap, peer: Peer) -> None:
    firmware(C)
    coap.init()
    with raises(ValueError, "If Security is configured port must not be 5683!"):
        coap.new_client_session(peer.ip, port=11367, psk="k", identity="i")
    with raises(ValueError, "For Security both PSK and Identity must be configured!"):
        coap.new_client_session(peer.ip, psk="k")
    with raises(ValueError, "For Security both PSK and Identity must be configured!"):
        coap.new_client_session(peer.ip, identity="i")
    secure = coap.new_client_session(peer.ip, psk="k", identity="i")  # the handshake runs meanwhile
    assert secure.get_details()[1:] == [5684, coap.PROTOCOL_DTLS]
    with pytest.raises(OSError, match=r"^Coap.new_client_session\(port=5684\): firmware 1.20.3.b3/b4"):
        coap.new_client_session(peer.ip, port=5684)
    with raises(TypeError, "can't convert NoneType to int"):
        coap.new_client_session(peer.ip, port=None)
    with raises(ValueError, "invalid arguments"):
        coap.new_client_session("not-an-ip")
    assert coap.get_client_sessions() == [secure]  # no failed call left a session
    session = coap.new_client_session(peer.ip)
    with raises(ValueError, 'Invalid "method" parameter value!'):
        session.send_request(3)
    with raises(OSError, "Cannot create request"):
        session.send_request(coap.REQUEST_GET, token=b"123456789")


def test_session_response_reaches_the_handler_without_read(firmware, coap, peer: Peer) -> None:
    firmware(C)
    coap.init()
    responses = Calls()
    coap.register_response_handler(responses)
    session = coap.new_client_session(peer.ip)
    mid = session.send_request(coap.REQUEST_GET, uri_path="time", token=b"t1")
    msg, source = peer.recv()
    assert msg.mid == mid
    assert msg.options[:2] == [(URI_HOST, socket.inet_aton(peer.ip)), (URI_PORT, b"\x16\x33")]
    peer.answer(msg, source, b"12:00")
    assert responses.wait()
    assert responses.calls == [(69, mid, ACK, b"t1", b"12:00")]
    assert responses.threads == ["IRQs"]


def test_session_retransmits_from_the_task(firmware, coap, peer: Peer, monkeypatch) -> None:
    from network.coap.protocol import exchange

    monkeypatch.setattr(exchange, "ACK_TIMEOUT", 0.05)  # a retransmission within ~0.1 s, nothing else
    firmware(C)
    coap.init()
    session = coap.new_client_session(peer.ip)
    session.send_request(coap.REQUEST_GET, uri_path="lossy")
    _, _, wire = peer.recv_wire()
    assert peer.recv_wire(timeout=2.0)[2] == wire  # nobody calls read(): the task sends it again


@pytest.mark.process
def test_a_board_on_1_20_3_b4_says_so_and_has_no_mdns(tmp_path) -> None:
    main = tmp_path / "main.py"
    main.write_text(
        "import os\nprint(os.uname().release, os.uname().version)\n"
        "try:\n    from network import MDNS\nexcept ImportError as e:\n    print('no MDNS')\n"
        "from network import Coap\nprint(hasattr(Coap, 'read'))\n"
    )
    for name, build in [(C, "v1.11-95ab8f6 on 2021-06-22"), ("1.20.3.b3", "v1.11-9288a72 on 2021-04-12")]:
        done = subprocess.run(
            [sys.executable, "-m", "firmware_sim", "run", "--firmware", name, str(main)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.stdout.splitlines() == [f"{name} {build}", "no MDNS", "False"], done.stderr


def test_docs_profile_sessions_take_both_apis(coap, peer: Peer) -> None:
    coap.init()
    session = coap.new_client_session(peer.ip, port=5683, protocol=1)
    assert session.get_details() == [peer.ip, 5683]  # the docs keep 1.20.3.b0-b2's two items
    named = coap.new_client_session(address=peer.ip)
    secure = coap.new_client_session(peer.ip, psk="k", identity="i")
    assert coap.remove_client_session(peer.ip, 5683, coap.PROTOCOL_UDP) is None
    assert coap.get_client_sessions() == [named, secure]
