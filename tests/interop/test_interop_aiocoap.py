"""Pycom's documented server example (examples/docs/server.py) driven by the aiocoap client library.

The example runs unchanged as a ``python -u`` subprocess on its own loopback address (FIRMWARE_SIM_IP);
every test starts its own server, so tests that change resources stay independent and xdist-safe. The
requests are made in this process with ``aiocoap.Context.create_client_context()`` under
``asyncio.run``; every request is bounded with ``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio

import pytest
from conftest import ROOT, python_script, require_aiocoap, wait_udp_port

pytestmark = [pytest.mark.peer, pytest.mark.process]

SERVER_EXAMPLE = ROOT / "examples" / "docs" / "server.py"
DOCS_LINKS = b"</resource2>,</resource1>;ct=0;title=resource1"
REQUEST_TIMEOUT = 5.0  # seconds per request; the server answers in milliseconds


class Client:
    """An aiocoap client context talking to one server; ``await client.request(...)`` -> response."""

    def __init__(self, base: str) -> None:
        import aiocoap

        self.aiocoap = aiocoap
        self.base = base
        self.context = None

    async def __aenter__(self) -> Client:
        self.context = await self.aiocoap.Context.create_client_context()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.context.shutdown()

    async def request(
        self,
        code,
        path: str,
        payload: bytes = b"",
        *,
        etags: tuple[bytes, ...] = (),
        accept: int | None = None,
        content_format: int | None = None,
    ):
        message = self.aiocoap.Message(code=code, uri=f"{self.base}/{path}", payload=payload)
        if etags:
            message.opt.etags = etags
        if accept is not None:
            message.opt.accept = accept
        if content_format is not None:
            message.opt.content_format = content_format
        return await asyncio.wait_for(self.context.request(message).response, REQUEST_TIMEOUT)


def run(scenario, base: str) -> None:
    """Run ``async scenario(client)`` against ``base``, bounded as a whole."""

    async def main() -> None:
        async with Client(base) as client:
            await scenario(client)

    asyncio.run(asyncio.wait_for(main(), 4 * REQUEST_TIMEOUT))


@pytest.fixture
def aiocoap():
    require_aiocoap()
    import aiocoap

    return aiocoap


@pytest.fixture
def docs_server(ip: str, spawn):
    """examples/docs/server.py running on ``ip``:5683; yields the ``coap://ip`` base URI."""
    proc = spawn(python_script(SERVER_EXAMPLE), env={"FIRMWARE_SIM_IP": ip})
    wait_udp_port(ip, 5683, timeout=10)
    yield f"coap://{ip}"
    assert proc.proc.poll() is None, f"the server example stopped:\n{proc.output}"
    assert "Traceback" not in proc.output, proc.output


def test_well_known_core_lists_the_documented_links(aiocoap, docs_server):
    async def scenario(client):
        response = await client.request(aiocoap.GET, ".well-known/core")
        assert response.code == aiocoap.CONTENT
        assert response.opt.content_format == 40
        assert response.payload == DOCS_LINKS

    run(scenario, docs_server)


def test_get_resource1_is_its_text_default_value(aiocoap, docs_server):
    async def scenario(client):
        response = await client.request(aiocoap.GET, "resource1")
        assert response.code == aiocoap.CONTENT
        assert response.opt.content_format == 0
        assert response.opt.etag is None
        assert response.payload == b"default_value"

    run(scenario, docs_server)


def test_get_resource2_is_one_zero_byte_with_etag_1(aiocoap, docs_server):
    """No ``value=``: the firmware stores int 0 as one byte; ETag starts at 1; Content-Format 41."""

    async def scenario(client):
        response = await client.request(aiocoap.GET, "resource2")
        assert response.code == aiocoap.CONTENT
        assert response.opt.etag == b"\x01"
        assert response.opt.content_format == 41
        assert response.payload == b"\x00"

    run(scenario, docs_server)


def test_etag_validation_put_and_stale_etag(aiocoap, docs_server):
    async def scenario(client):
        valid = await client.request(aiocoap.GET, "resource2", etags=(b"\x01",))
        assert valid.code == aiocoap.VALID
        assert valid.opt.etag == b"\x01"
        assert valid.payload == b""

        put = await client.request(aiocoap.PUT, "resource2", b"<v>42</v>", content_format=41)
        assert put.code == aiocoap.CHANGED
        assert put.opt.etag == b"\x02"
        assert put.payload == b""

        stale = await client.request(aiocoap.GET, "resource2", etags=(b"\x01",))
        assert stale.code == aiocoap.CONTENT
        assert stale.opt.etag == b"\x02"
        assert stale.opt.content_format == 41
        assert stale.payload == b"<v>42</v>"

        current = await client.request(aiocoap.GET, "resource2", etags=(b"\x02",))
        assert current.code == aiocoap.VALID
        assert current.payload == b""

    run(scenario, docs_server)


def test_accept_other_than_the_media_type_is_not_acceptable(aiocoap, docs_server):
    async def scenario(client):
        refused = await client.request(aiocoap.GET, "resource1", accept=50)
        assert refused.code == aiocoap.NOT_ACCEPTABLE
        assert refused.payload == b"Not Acceptable"
        assert refused.opt.content_format is None
        # the documented behaviour: the server keeps answering afterwards
        again = await client.request(aiocoap.GET, "resource1", accept=0)
        assert again.code == aiocoap.CONTENT
        assert again.payload == b"default_value"

    run(scenario, docs_server)


def test_post_changes_resource1(aiocoap, docs_server):
    async def scenario(client):
        post = await client.request(aiocoap.POST, "resource1", b"posted value", content_format=0)
        assert post.code == aiocoap.CHANGED
        assert post.payload == b""
        get = await client.request(aiocoap.GET, "resource1")
        assert get.code == aiocoap.CONTENT
        assert get.opt.content_format == 0
        assert get.payload == b"posted value"

    run(scenario, docs_server)


def test_delete_is_not_allowed_on_resource1(aiocoap, docs_server):
    async def scenario(client):
        refused = await client.request(aiocoap.DELETE, "resource1")
        assert refused.code == aiocoap.METHOD_NOT_ALLOWED
        assert refused.payload == b"Method Not Allowed"
        still = await client.request(aiocoap.GET, "resource1")
        assert still.payload == b"default_value"

    run(scenario, docs_server)


def test_delete_resource2_removes_it(aiocoap, docs_server):
    async def scenario(client):
        deleted = await client.request(aiocoap.DELETE, "resource2")
        assert deleted.code == aiocoap.DELETED
        assert deleted.payload == b""
        gone = await client.request(aiocoap.GET, "resource2")
        assert gone.code == aiocoap.NOT_FOUND
        assert gone.payload == b"Not Found"
        links = await client.request(aiocoap.GET, ".well-known/core")
        assert links.code == aiocoap.CONTENT
        assert links.payload == b"</resource1>;ct=0;title=resource1"

    run(scenario, docs_server)


def test_unknown_resource_is_not_found(aiocoap, docs_server):
    async def scenario(client):
        response = await client.request(aiocoap.GET, "nothere")
        assert response.code == aiocoap.NOT_FOUND
        assert response.payload == b"Not Found"
        assert response.opt.content_format is None

    run(scenario, docs_server)


def test_well_known_core_query_filters(aiocoap, docs_server):
    async def scenario(client):
        for query in ("title=resource1", "title=res*", "ct=0"):
            response = await client.request(aiocoap.GET, f".well-known/core?{query}")
            assert response.code == aiocoap.CONTENT, query
            assert response.payload == b"</resource1>;ct=0;title=resource1", query
        nothing = await client.request(aiocoap.GET, ".well-known/core?rt=x")
        assert nothing.code == aiocoap.BAD_REQUEST
        assert nothing.payload == b""

    run(scenario, docs_server)


@pytest.mark.parametrize(("request_type", "response_type"), [("CON", "ACK"), ("NON", "NON")])
def test_response_type_follows_the_request_type(aiocoap, docs_server, request_type, response_type):
    """A CON request gets a piggy-backed ACK, a NON request a NON response."""

    async def scenario(client):
        message = aiocoap.Message(code=aiocoap.GET, uri=f"{docs_server}/resource1")
        message.mtype = getattr(aiocoap, request_type)
        response = await asyncio.wait_for(client.context.request(message).response, REQUEST_TIMEOUT)
        assert response.mtype == getattr(aiocoap, response_type)
        assert response.code == aiocoap.CONTENT
        assert response.payload == b"default_value"

    run(scenario, docs_server)
