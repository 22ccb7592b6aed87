"""The opt-in server extensions (network/coap/extensions.py): a board's ``network.Coap`` resource observed
by aiocoap's client library, by ours and by ``firmware-sim coap observe``, a 64 KB value and a large
``/.well-known/core`` served block-wise to libcoap's client and ours; and off by default, as the firmware."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time

import pytest
from conftest import AIOCOAP_CLI, ROOT, Reader, libcoap, need, require_aiocoap

from firmware_sim.testing import eventually
from network.coap.client import Client, Response
from network.coap.extensions import ENV_EXTENSIONS

pytestmark = [pytest.mark.peer]


@pytest.fixture
def extended(monkeypatch, coap, ip):
    """``network.Coap`` with Observe and Block2 on, served by a read loop; a resource ``level``."""
    monkeypatch.setenv(ENV_EXTENSIONS, "observe,block2")
    coap.init(ip)
    level = coap.add_resource("level", media_type=coap.MEDIATYPE_TEXT_PLAIN, value="0")
    level.callback(coap.REQUEST_GET | coap.REQUEST_PUT, True)
    reader = Reader(coap)
    yield coap, level
    reader.stop()


def test_the_extensions_are_off_by_default_as_on_the_board(coap, ip) -> None:
    coap.init(ip)
    coap.add_resource("level", value="0").callback(coap.REQUEST_GET, True)
    reader = Reader(coap)
    try:
        with Client() as client:
            got = client.get(f"coap://{ip}/level", options=[(6, b"")], timeout=5)
        assert got.option(6) is None  # a plain response: the firmware never registers an observer
    finally:
        reader.stop()


def test_aiocoap_observes_every_value_change(capsys, extended, ip) -> None:
    require_aiocoap()
    import aiocoap

    coap, level = extended
    assert "CoAP extensions on (observe, block2)" in capsys.readouterr().err

    async def observe() -> list[bytes]:
        context = await aiocoap.Context.create_client_context()
        try:
            request = aiocoap.Message(code=aiocoap.GET, uri=f"coap://{ip}/level", observe=0)
            pending = context.request(request)
            first = await asyncio.wait_for(pending.response, 5)
            seen = [first.payload]
            notifications = pending.observation.__aiter__()
            for value in ("1", "2", "3"):
                threading.Timer(0.05, level.value, args=(value,)).start()
                seen.append((await asyncio.wait_for(notifications.__anext__(), 5)).payload)
            pending.observation.cancel()
            return seen
        finally:
            await context.shutdown()

    assert asyncio.run(observe()) == [b"0", b"1", b"2", b"3"]


@pytest.mark.parametrize("client", ["firmware-sim coap", "aiocoap-client 0.4.7"])
def test_observe_from_the_command_line_prints_the_changes(extended, ip, client: str) -> None:
    """``firmware-sim coap observe`` and ``aiocoap-client --observe`` print each change. (aiocoap-client
    0.4.17, the one the test extra installs, cancels an observation as soon as the first response is in,
    whatever the server: the ``finally`` after ``await requester.response`` in aiocoap/cli/client.py; so
    0.4.7's, from .peers/, is the one that shows every notification.)"""
    coap, level = extended
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    uri = f"coap://{ip}/level"
    if client == "firmware-sim coap":
        command = [sys.executable, "-m", "firmware_sim", "coap", "observe", "-s", "5", uri]
    else:
        install = "pip install --no-deps --target .peers/aiocoap-cli aiocoap==0.4.7"
        need(AIOCOAP_CLI.is_dir(), "aiocoap 0.4.7's client", install)
        env["PYTHONPATH"] = str(AIOCOAP_CLI)
        command = [sys.executable, "-W", "ignore", "-m", "aiocoap.cli.client", "--observe", uri]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, env=env
    ) as proc:
        text = bytearray()

        def read() -> None:
            assert proc.stdout is not None
            while chunk := proc.stdout.read1(64):
                text.extend(chunk)

        threading.Thread(target=read, daemon=True).start()

        def values() -> list[str]:
            return re.findall(r"\d+", text.decode(errors="replace"))

        try:
            assert eventually(lambda: values()[:1] == ["0"], 10), text
            level.value("41")
            assert eventually(lambda: values()[:2] == ["0", "41"], 5), text
            with Client() as coap_client:  # a PUT from the network notifies too
                assert coap_client.put(uri, b"42", timeout=5).code == "2.04"
            assert eventually(lambda: values()[:3] == ["0", "41", "42"], 5), text
        finally:
            proc.terminate()


def test_our_client_observes_and_cancels(extended, ip) -> None:
    coap, level = extended
    got: list[Response] = []
    with Client() as client:
        handle = client.observe(f"coap://{ip}/level", got.append)
        assert eventually(lambda: len(got) == 1, 5)
        level.value("7")
        assert eventually(lambda: [r.text for r in got] == ["0", "7"], 5)
        handle.cancel()
        assert handle.wait_ended(5)
        level.value("8")
        time.sleep(0.3)
        assert [r.text for r in got] == ["0", "7"]


def test_a_64_kb_value_and_a_large_well_known_core_go_block_wise(extended, ip) -> None:
    coap, level = extended
    body = os.urandom(64 * 1024)
    big = coap.add_resource("big", media_type=coap.MEDIATYPE_APP_OCTET_STREAM, value=body)
    big.callback(coap.REQUEST_GET, True)
    for n in range(60):
        coap.add_resource(f"sensor/number-{n:02d}/reading", value="1").add_attribute("rt", "temperature-c")
    with Client() as client:
        blocks: list[tuple[int, bool]] = []
        got = client.get(f"coap://{ip}/big", timeout=30, on_block=lambda o, d, last: blocks.append((o, last)))
        assert got.payload == body
        assert blocks == [(offset, offset == len(body) - 1024) for offset in range(0, len(body), 1024)]
        core = client.get(f"coap://{ip}/.well-known/core", timeout=30).payload
    assert len(core) > 1500 and b"</sensor/number-59/reading>" in core
    done = subprocess.run(
        [libcoap("coap-client-notls"), "-m", "get", "-b", "64", f"coap://{ip}/.well-known/core"],
        capture_output=True,
        timeout=30,
    )
    assert done.stdout.rstrip(b"\n") == core  # libcoap reassembles our blocks to the same text
