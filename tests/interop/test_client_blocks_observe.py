"""The host client's block-wise transfers and observations against real peers on loopback: libcoap's
example server (``coap-server-notls``: ``/example_data`` stores what is PUT, ``/time`` is observable and
changes every second) and aiocoap (tests/peers/aiocoap_server.py, which reassembles Block1 itself)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import AIOCOAP_SERVER_SCRIPT, free_loopback_ip, python_script, require_aiocoap, wait_udp_port

from network.coap.client import Client, Response

pytestmark = [pytest.mark.peer, pytest.mark.process]

SIXTY_FOUR_KB = 64 * 1024
TWENTY_KB = 20 * 1024


@pytest.fixture
def libcoap_server(spawn, coap_server_tool) -> str:
    ip = free_loopback_ip()
    spawn([coap_server_tool, "-A", ip])
    wait_udp_port(ip, 5683, timeout=10)
    return ip


@pytest.fixture
def aiocoap_server(spawn) -> str:
    require_aiocoap()
    ip = free_loopback_ip()
    proc = spawn([*python_script(AIOCOAP_SERVER_SCRIPT), "--ip", ip, "--quiet"])
    assert proc.wait_for(lambda out: "ready" in out.splitlines(), timeout=15), proc.output
    return ip


def test_a_64_kb_resource_read_block_by_block_from_libcoap(libcoap_server: str) -> None:
    body = os.urandom(SIXTY_FOUR_KB)
    uri = f"coap://{libcoap_server}/example_data"
    with Client() as coap:
        assert coap.put(uri, body, timeout=30).reason == "2.01 Created"  # 64 Block1 blocks
        for size in (1024, 64):
            blocks: list[tuple[int, int, bool]] = []

            def on_block(offset: int, data: bytes, last: bool, blocks: list = blocks) -> None:
                blocks.append((offset, len(data), last))

            got = coap.get(uri, timeout=30, block_size=size, on_block=on_block)
            assert got.payload == body
            assert [offset for offset, _, _ in blocks] == list(range(0, SIXTY_FOUR_KB, size))
            assert all(length == size for _, length, _ in blocks)
            assert [last for _, _, last in blocks] == [False] * (len(blocks) - 1) + [True]


def test_a_20_kb_put_goes_in_block1_blocks_to_libcoap_and_to_aiocoap(
    libcoap_server: str, aiocoap_server: str
) -> None:
    body = os.urandom(TWENTY_KB)
    with Client() as coap:
        libcoap_uri = f"coap://{libcoap_server}/example_data"
        assert coap.put(libcoap_uri, body, timeout=30, block_size=512).success
        assert coap.get(libcoap_uri, timeout=30).payload == body
        aiocoap_uri = f"coap://{aiocoap_server}/resource1"
        assert coap.put(aiocoap_uri, body, timeout=30).reason == "2.04 Changed"
        assert coap.get(aiocoap_uri, timeout=30).payload == body  # aiocoap answers with Block2 itself


def test_observing_libcoaps_time_until_cancelled(libcoap_server: str) -> None:
    got: list[Response] = []
    two = threading.Event()

    def notified(response: Response) -> None:
        got.append(response)
        if len(got) >= 3:
            two.set()

    with Client() as coap:
        handle = coap.observe(f"coap://{libcoap_server}/time", notified)
        assert two.wait(10), [r.text for r in got]  # the registration's answer and 2 notifications
        values = [int.from_bytes(r.option(6) or b"", "big") for r in got]
        assert all(r.code == "2.05" and r.option(6) is not None for r in got)
        assert values == sorted(set(values))  # each notification newer than the last (RFC 7641 §3.4)
        handle.cancel()
        assert handle.wait_ended(5)  # libcoap answered the GET with Observe=1
        seen = len(got)
        time.sleep(2.2)  # two more seconds of the clock: nothing more comes
        assert len(got) == seen
