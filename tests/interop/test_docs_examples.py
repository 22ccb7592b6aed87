"""The examples of Pycom's ``network.Coap`` documentation (examples/docs/, verbatim) against real peers.

* server.py answers libcoap's ``coap-client-notls`` with exactly the link list the documentation shows.
* client_blocking.py and client_nonblocking.py talk to libcoap's example server (``coap-server-notls``:
  ``/``, ``/time``, ``/.well-known/core``) and to tests/peers/aiocoap_server.py (``/time``, ``/resource1``),
  the documentation's 192.168.0.234 / 192.168.0.236 mapped onto loopback with FIRMWARE_SIM_MAP.
  FIRMWARE_SIM_TIMEOUT ends each run a few seconds after the script's main thread finished.
* api_c_server.py and api_c_client.py, the CoAP tutorial for firmware 1.20.3.b3/b4 (API C), under
  ``firmware-sim run --firmware 1.20.3.b4``: the server is served by the module's task and creates
  resources on PUT (libcoap's client); the client stops where those versions stop it. Neither uses psk.

The client scripts run without ``-u``: a pipe makes stdout block-buffered, so each ``print`` of the main
thread (the request ids) and of the response handler (running in the reader thread) stays whole.
"""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass

import pytest
from conftest import ROOT, free_loopback_ip, python_script, require_aiocoap, wait_udp_port

from firmware_sim.testing import eventually
from network.coap.protocol.codec import Message, decode, encode

pytestmark = [pytest.mark.peer, pytest.mark.process]

DOCS = ROOT / "examples" / "docs"
AIOCOAP_SERVER = ROOT / "tests" / "peers" / "aiocoap_server.py"
DOCS_LINKS = "</resource2>,</resource1>;ct=0;title=resource1"
SCRIPT_TIMEOUT_S = 2  # FIRMWARE_SIM_TIMEOUT: how long the script's reader thread runs after main ends
TIME_TEXT = re.compile(rb"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d$")  # "Nov 22 11:32:46", both peers
IMEI_TOKEN = int("359738090028145").to_bytes(8, "big")  # the blocking example's fourth request

_HANDLER_LINE = re.compile(r"^(Code|ID|Type|Token|Payload): (.*)$")
_ID_LINE = re.compile(r"^\d+$")


# -- peers ---------------------------------------------------------------------------------------


def distinct_ips(count: int) -> list[str]:
    ips: list[str] = []
    while len(ips) < count:
        candidate = free_loopback_ip()
        if candidate not in ips:
            ips.append(candidate)
    return ips


def start_peer(kind: str, ip: str, spawn, server_tool: str | None):
    """A CoAP server on ``ip``:5683: libcoap's example server (debug log shows every PDU) or aiocoap's."""
    if kind == "libcoap":
        assert server_tool is not None
        # stdbuf: the PDU log lines must not sit in a stdio buffer when the test reads them
        proc = spawn(["stdbuf", "-oL", "-eL", server_tool, "-A", ip, "-p", "5683", "-v", "7"])
        wait_udp_port(ip, 5683, timeout=10)
    else:
        require_aiocoap()
        proc = spawn([*python_script(AIOCOAP_SERVER), "--ip", ip])
        assert proc.wait_for(lambda out: "ready" in out.splitlines(), timeout=10), proc.output
    return proc


@pytest.fixture
def server_tool(request) -> str | None:
    """``coap-server-notls`` when the test's peers include libcoap (skips or fails when it is missing)."""
    kinds = [value for name, value in request.node.callspec.params.items() if name.startswith("peer")]
    if "libcoap" in kinds:
        return request.getfixturevalue("coap_server_tool")
    return None


# -- running a client example --------------------------------------------------------------------


@dataclass
class Response:
    code: int
    id: int
    type: int
    token: bytes
    payload: bytes


@dataclass
class Run:
    ids: list[int]  # what the script printed for each send_request, in order
    responses: list[Response]  # what its response handler printed, in order
    stdout: str
    stderr: str

    def by_id(self, mid: int) -> Response:
        found = [r for r in self.responses if r.id == mid]
        assert len(found) == 1, f"expected one response with ID {mid}:\n{self.stdout}"
        return found[0]

    def with_token(self, token: bytes) -> list[Response]:
        return [r for r in self.responses if r.token == token]


def parse(stdout: str) -> tuple[list[int], list[Response]]:
    ids: list[int] = []
    responses: list[Response] = []
    fields: dict[str, str] = {}
    for line in stdout.splitlines():
        if _ID_LINE.match(line):
            ids.append(int(line))
            continue
        match = _HANDLER_LINE.match(line)
        if not match:
            continue
        fields[match[1]] = match[2]
        if match[1] == "Payload":
            responses.append(
                Response(
                    code=int(fields["Code"]),
                    id=int(fields["ID"]),
                    type=int(fields["Type"]),
                    token=ast.literal_eval(fields["Token"]),
                    payload=ast.literal_eval(fields["Payload"]),
                )
            )
            fields = {}
    return ids, responses


def run_example(script: str, own_ip: str, mapping: dict[str, str]) -> Run:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env.update(
        FIRMWARE_SIM_IP=own_ip,
        FIRMWARE_SIM_MAP=",".join(f"{src}={dst}" for src, dst in mapping.items()),
        FIRMWARE_SIM_TIMEOUT=str(SCRIPT_TIMEOUT_S),
    )
    done = subprocess.run(
        [sys.executable, str(DOCS / script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S + 10,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    ids, responses = parse(done.stdout)
    return Run(ids, responses, done.stdout, done.stderr)


def pdu_lines(log: str) -> list[str]:
    """The PDUs coap-server -v 7 logged, one line each (``v:1 t:CON c:PUT ... :: 'ABCD'``)."""
    return [line for line in log.splitlines() if line.startswith("v:1 ")]


# -- server.py -----------------------------------------------------------------------------------


def test_server_example_lists_the_documented_links(ip, spawn, coap_client_tool):
    server = spawn(python_script(DOCS / "server.py"), env={"FIRMWARE_SIM_IP": ip})
    wait_udp_port(ip, 5683, timeout=10)
    done = subprocess.run(
        [coap_client_tool, "-B", "3", "-m", "get", f"coap://{ip}/.well-known/core"],
        capture_output=True,
        text=True,
        timeout=15,
    )
    assert done.stdout == DOCS_LINKS + "\n"
    assert done.stderr == ""
    assert server.proc.poll() is None, server.output  # the board keeps serving after main ended


# -- client_blocking.py --------------------------------------------------------------------------


@pytest.mark.parametrize("peer", ["libcoap", "aiocoap"])
def test_blocking_client_example(peer, ip, spawn, server_tool):
    (peer_ip,) = distinct_ips(1)
    server = start_peer(peer, peer_ip, spawn, server_tool)

    run = run_example("client_blocking.py", ip, {"192.168.0.234": peer_ip})

    assert len(run.ids) == 4, run.stdout
    assert len(set(run.ids)) == 4, run.ids
    for response in run.responses:
        assert response.type == 2, response  # piggy-backed ACK

    links = run.by_id(run.ids[0])
    assert f"Code: 69\nID: {run.ids[0]}\nType: 2\nToken: b'token1'\nPayload: b'<" in run.stdout
    assert (links.code, links.token) == (69, b"token1")
    assert links.payload.startswith(b"<")
    assert b"</time>" in links.payload

    time_ = run.by_id(run.ids[1])
    assert f"Code: 69\nID: {run.ids[1]}\nType: 2\nToken: b'token2'\nPayload: b'" in run.stdout
    assert (time_.code, time_.token) == (69, b"token2")
    assert TIME_TEXT.match(time_.payload), time_.payload

    log = server.stop()
    if peer == "libcoap":
        # PUT /time: 2.04 without payload, so the firmware's handler is not called for it
        assert run.with_token(b"token3") == [], run.stdout
        pdus = pdu_lines(log)
        put = [line for line in pdus if " c:PUT " in line]
        assert len(put) == 1, pdus
        assert "Uri-Path:time" in put[0]
        assert "Content-Format:text/plain" in put[0]
        assert put[0].endswith(":: 'ABCD'")
        assert any(" c:2.04 " in line and line.endswith("[ ]") for line in pdus), pdus
        # the fourth request: no options at all, so it reaches libcoap's root resource "/"
        imei = run.by_id(run.ids[3])
        assert (imei.code, imei.token) == (69, IMEI_TOKEN)
        assert b"libcoap" in imei.payload
        amqp = [line for line in pdus if "amqp://artemis:5672" in line]
        assert len(amqp) == 1 and " c:GET " in amqp[0] and " [ ] " in amqp[0], pdus
    else:
        assert "request GET /time b'payload'" in log.splitlines()
        assert "request PUT /time b'ABCD'" in log.splitlines()
        stored = run.by_id(run.ids[2])
        assert (stored.code, stored.token, stored.payload) == (68, b"token3", b"stored")


# -- client_nonblocking.py -----------------------------------------------------------------------


@pytest.mark.parametrize(("peer234", "peer236"), [("libcoap", "aiocoap"), ("aiocoap", "libcoap")])
def test_nonblocking_client_example(peer234, peer236, ip, spawn, server_tool):
    ip234, ip236 = distinct_ips(2)
    servers = {
        "234": start_peer(peer234, ip234, spawn, server_tool),
        "236": start_peer(peer236, ip236, spawn, server_tool),
    }

    run = run_example("client_nonblocking.py", ip, {"192.168.0.234": ip234, "192.168.0.236": ip236})

    assert len(run.ids) == 5, run.stdout
    for response in run.responses:
        assert response.type == 2, response

    # session1 -> 192.168.0.234, token "session1"
    links1, time1 = run.by_id(run.ids[0]), run.by_id(run.ids[1])
    assert (links1.code, links1.token) == (69, b"session1")
    assert b"</time>" in links1.payload
    assert (time1.code, time1.token) == (69, b"session1")
    assert TIME_TEXT.match(time1.payload), time1.payload

    # session2 -> 192.168.0.236, no token
    links2 = run.by_id(run.ids[2])
    assert (links2.code, links2.token) == (69, b"")
    assert b"</time>" in links2.payload
    get1, post1 = run.by_id(run.ids[3]), run.by_id(run.ids[4])
    assert get1.token == post1.token == b""

    logs = {name: proc.stop() for name, proc in servers.items()}
    if peer236 == "aiocoap":
        assert b"</resource1>" in links2.payload
        assert (get1.code, get1.payload) == (69, b"value1")
        assert (post1.code, post1.payload) == (68, b"posted")
        lines = logs["236"].splitlines()
        assert "request GET /resource1 b''" in lines
        assert "request POST /resource1 b'new_value'" in lines
        assert b'</time>;if="clock"' in links1.payload  # libcoap on .234
    else:
        # libcoap's example server has no /resource1
        assert (get1.code, get1.payload) == (132, b"Not Found")
        assert (post1.code, post1.payload) == (132, b"Not Found")
        post = [line for line in pdu_lines(logs["236"]) if " c:POST " in line]
        assert len(post) == 1 and "Uri-Path:resource1" in post[0] and post[0].endswith(":: 'new_value'")
        assert b"</resource1>" in links1.payload  # aiocoap on .234
        assert "request GET /time b''" in logs["234"].splitlines()


# -- the API C tutorial (firmware 1.20.3.b3/b4): api_c_server.py, api_c_client.py ----------------------

API_C_NEW_RESOURCE_LINES = [
    "New resource has been created!",
    "URI: new_resource",
    "Mediatype: -1",
    "Max Age: -1",
    "ETAG: 0",
    "ETAG value: 0",
    "Value: b'hello'",
]


def on_1_20_3_b4(ip: str, script: str, timeout_s: int) -> list[str]:
    """``firmware-sim run --firmware 1.20.3.b4`` of an example, on board address ``ip``."""
    run = ["run", "--firmware", "1.20.3.b4", "--ip", ip, "--timeout", str(timeout_s), str(DOCS / script)]
    return [sys.executable, "-m", "firmware_sim", *run]


def coap_client(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool, "-B", "3", *args], capture_output=True, text=True, timeout=15)


def get_options(ip: str, path: str) -> Message:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(encode(Message(0, 1, 0x77, b"g", [(11, path.encode())])), (ip, 5683))
        return decode(sock.recv(2048))


def test_api_c_server_example_under_1_20_3_b4(ip, spawn, coap_client_tool):
    """The tutorial's server, unchanged, on 1.20.3.b4: no read() anywhere, the module's task serves it
    after the script ended; a PUT to an unknown URI creates a resource (2.01 "Created") and the
    script's handler prints its details, then sets them (text/plain, Max-Age 100, ETag on)."""
    board = spawn(on_1_20_3_b4(ip, "api_c_server.py", 20))
    wait_udp_port(ip, 5683, timeout=10)
    created = coap_client(coap_client_tool, "-m", "put", "-e", "hello", f"coap://{ip}/new_resource")
    assert (created.stdout, created.stderr) == ("Created\n", "")
    assert board.wait_for(lambda out: "Value: b'hello'" in out, timeout=10), board.output
    lines = board.output.splitlines()
    start = lines.index(API_C_NEW_RESOURCE_LINES[0])
    assert lines[start : start + len(API_C_NEW_RESOURCE_LINES)] == API_C_NEW_RESOURCE_LINES
    links = coap_client(coap_client_tool, "-m", "get", f"coap://{ip}/.well-known/core")
    assert links.stdout == "</resource1>;ct=0;title=resource1,</resource2>,</new_resource>\n"  # oldest first

    def details_set() -> bool:
        return get_options(ip, "new_resource").options == [(4, b"\x01"), (12, b""), (14, b"\x64")]

    assert eventually(details_set, 5.0), get_options(ip, "new_resource")  # set_details in the handler
    assert get_options(ip, "new_resource").payload == b"hello"
    assert get_options(ip, "resource1").payload == b"default_value"
    assert board.proc.poll() is None, board.output  # the board keeps serving after main.py ended
    assert "warning" not in board.output  # a strict profile reproduces, it does not warn


def test_api_c_client_example_stops_where_1_20_3_b4_does(ip):
    """The tutorial's client passes the port positionally, which 1.20.3.b3/b4 refuse (keyword-only)."""
    done = subprocess.run(
        on_1_20_3_b4(ip, "api_c_client.py", 5),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-2:] == [
        '  File "api_c_client.py", line 35, in <module>',
        "TypeError: extra positional arguments given",
    ]


def test_api_c_server_example_under_the_docs_profile(ip, spawn, coap_client_tool):
    """The default profile has API C's functions too; a script using them gets the background task."""
    server = spawn(python_script(DOCS / "api_c_server.py"), env={"FIRMWARE_SIM_IP": ip})
    wait_udp_port(ip, 5683, timeout=10)
    created = coap_client(coap_client_tool, "-m", "put", "-e", "hello", f"coap://{ip}/new_resource")
    assert created.stdout == "Created\n"
    assert server.wait_for(lambda out: "Value: b'hello'" in out, timeout=10), server.output
    assert server.proc.poll() is None, server.output
