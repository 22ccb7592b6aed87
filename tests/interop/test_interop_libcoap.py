"""Pycom's documented server example (examples/docs/server.py) driven by libcoap's ``coap-client-notls``.

The example runs unchanged as a ``python -u`` subprocess on its own loopback address (FIRMWARE_SIM_IP);
every test starts its own server, so tests that change resources stay independent and xdist-safe.
coap-client 4.3.1 exits 0 even on failure, so the tests read its output: with ``-v 6`` it prints the
PDUs it sends and receives on stdout, with ``-o FILE`` the response payload goes to FILE, and error
responses are echoed on stderr as ``4.04 Not Found``. ``-B 3`` bounds every wait.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, python_script, wait_udp_port

pytestmark = [pytest.mark.peer, pytest.mark.process]

SERVER_EXAMPLE = ROOT / "examples" / "docs" / "server.py"
DOCS_LINKS = "</resource2>,</resource1>;ct=0;title=resource1"

# a received (or sent) PDU as coap-client -v 6 shows it: v:1 t:ACK c:2.05 i:6ef5 {01} [ ETag:0x01 ] :: 'x'
_PDU = re.compile(
    r"^v:1 t:(?P<type>CON|NON|ACK|RST) c:(?P<code>\S+) i:[0-9a-f]+ \{[0-9a-f]*\} \[ ?(?P<opts>.*?) ?\]"
)
_RESPONSE_CODE = re.compile(r"^\d\.\d\d$")


@dataclass
class Reply:
    """What coap-client saw: the response PDU's type, code, options, the payload file and stderr."""

    type: str
    code: str
    options: dict[str, list[str]]
    payload: bytes | None  # None: coap-client wrote no payload file (no payload or an error response)
    line: str  # the response PDU as coap-client printed it
    stderr: str


_counter = itertools.count()


def coap_client(tool: str, tmp_path: Path, method: str, url: str, *extra: str) -> Reply:
    """One request with coap-client; fails the test when no response PDU came back within 3 s."""
    out = tmp_path / f"payload-{next(_counter)}"
    args = [tool, "-B", "3", "-v", "6", "-o", str(out), "-m", method, *extra, url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=15)
    responses = []
    for line in done.stdout.splitlines():
        match = _PDU.match(line)
        if match and _RESPONSE_CODE.match(match["code"]):
            responses.append(match)
    assert responses, f"no response to {method} {url}:\n{done.stdout}\n{done.stderr}"
    last = responses[-1]
    options: dict[str, list[str]] = {}
    for item in filter(None, last["opts"].split(", ")):
        name, _, value = item.partition(":")
        options.setdefault(name, []).append(value)
    payload = out.read_bytes() if out.exists() else None
    return Reply(last["type"], last["code"], options, payload, last.string, done.stderr)


@pytest.fixture
def docs_server(ip: str, spawn):
    """examples/docs/server.py running on ``ip``:5683; yields the ``coap://ip`` base URI."""
    proc = spawn(python_script(SERVER_EXAMPLE), env={"FIRMWARE_SIM_IP": ip})
    wait_udp_port(ip, 5683, timeout=10)
    yield f"coap://{ip}"
    assert proc.proc.poll() is None, f"the server example stopped:\n{proc.output}"
    assert "Traceback" not in proc.output, proc.output


def test_well_known_core_is_link_format(coap_client_tool, docs_server, tmp_path):
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/.well-known/core")
    assert (reply.type, reply.code) == ("ACK", "2.05")
    assert reply.options == {"Content-Format": ["application/link-format"]}
    assert reply.payload == DOCS_LINKS.encode()


def test_get_resource1_is_its_text_default_value(coap_client_tool, docs_server, tmp_path):
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/resource1")
    assert (reply.type, reply.code) == ("ACK", "2.05")
    assert reply.options == {"Content-Format": ["text/plain"]}
    assert reply.payload == b"default_value"


def test_get_resource2_is_one_zero_byte_with_etag_1(coap_client_tool, docs_server, tmp_path):
    """No ``value=``: the firmware stores int 0 as one byte; ETag starts at 1; Content-Format 41."""
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/resource2")
    assert reply.code == "2.05"
    assert reply.options == {"ETag": ["0x01"], "Content-Format": ["application/xml"]}
    assert reply.payload == b"\x00"


def test_etag_validation_put_and_stale_etag(coap_client_tool, docs_server, tmp_path):
    url = f"{docs_server}/resource2"

    valid = coap_client(coap_client_tool, tmp_path, "get", url, "-O", "4,0x01")
    assert valid.code == "2.03"
    assert valid.options["ETag"] == ["0x01"]
    assert valid.payload is None
    assert " :: " not in valid.line  # no payload in the 2.03

    put = coap_client(coap_client_tool, tmp_path, "put", url, "-t", "41", "-e", "<v>42</v>")
    assert (put.type, put.code) == ("ACK", "2.04")
    assert put.options == {"ETag": ["0x02"]}
    assert put.payload is None

    stale = coap_client(coap_client_tool, tmp_path, "get", url, "-O", "4,0x01")
    assert stale.code == "2.05"
    assert stale.options == {"ETag": ["0x02"], "Content-Format": ["application/xml"]}
    assert stale.payload == b"<v>42</v>"

    current = coap_client(coap_client_tool, tmp_path, "get", url, "-O", "4,0x02")
    assert current.code == "2.03"
    assert current.payload is None


def test_accept_other_than_the_media_type_is_not_acceptable(coap_client_tool, docs_server, tmp_path):
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/resource1", "-A", "50")
    assert reply.code == "4.06"
    assert reply.options == {}
    assert reply.stderr.strip() == "4.06 Not Acceptable"
    # the documented behaviour: the server keeps answering afterwards
    again = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/resource1", "-A", "0")
    assert again.code == "2.05"
    assert again.payload == b"default_value"


def test_post_changes_resource1(coap_client_tool, docs_server, tmp_path):
    url = f"{docs_server}/resource1"
    post = coap_client(coap_client_tool, tmp_path, "post", url, "-t", "0", "-e", "posted value")
    assert (post.type, post.code) == ("ACK", "2.04")
    assert post.payload is None
    get = coap_client(coap_client_tool, tmp_path, "get", url)
    assert get.code == "2.05"
    assert get.payload == b"posted value"
    assert get.options == {"Content-Format": ["text/plain"]}


def test_delete_is_not_allowed_on_resource1(coap_client_tool, docs_server, tmp_path):
    url = f"{docs_server}/resource1"
    reply = coap_client(coap_client_tool, tmp_path, "delete", url)
    assert reply.code == "4.05"
    assert reply.stderr.strip() == "4.05 Method Not Allowed"
    assert coap_client(coap_client_tool, tmp_path, "get", url).payload == b"default_value"


def test_delete_resource2_removes_it(coap_client_tool, docs_server, tmp_path):
    url = f"{docs_server}/resource2"
    deleted = coap_client(coap_client_tool, tmp_path, "delete", url)
    assert (deleted.type, deleted.code) == ("ACK", "2.02")
    assert deleted.payload is None

    gone = coap_client(coap_client_tool, tmp_path, "get", url)
    assert gone.code == "4.04"
    assert gone.stderr.strip() == "4.04 Not Found"

    links = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/.well-known/core")
    assert links.code == "2.05"
    assert links.payload == b"</resource1>;ct=0;title=resource1"


def test_unknown_resource_is_not_found(coap_client_tool, docs_server, tmp_path):
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/nothere")
    assert (reply.type, reply.code) == ("ACK", "4.04")
    assert reply.options == {}
    assert reply.stderr.strip() == "4.04 Not Found"
    assert reply.line.endswith(":: 'Not Found'")


@pytest.mark.parametrize("query", ["title=resource1", "title=res*", "ct=0"])
def test_well_known_core_query_filters(coap_client_tool, docs_server, tmp_path, query):
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/.well-known/core?{query}")
    assert reply.code == "2.05"
    assert reply.options == {"Content-Format": ["application/link-format"]}
    assert reply.payload == b"</resource1>;ct=0;title=resource1"


def test_well_known_core_filter_without_match_is_bad_request(coap_client_tool, docs_server, tmp_path):
    reply = coap_client(coap_client_tool, tmp_path, "get", f"{docs_server}/.well-known/core?rt=x")
    assert (reply.type, reply.code) == ("ACK", "4.00")
    assert reply.payload is None
    assert reply.stderr.strip() == "4.00"
