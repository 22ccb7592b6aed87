"""``board.coap``: the host CoAP client (:mod:`network.coap.client`) bound to the board a test booted.

Paths are the board's (``board.coap.get("/temperature")``); requests are CON, retransmitted as RFC 7252
§4.2 says but never past the call's ``timeout``, separate responses acknowledged (§5.2.2). An RST, or
no response within ``timeout``, raises :class:`CoapError` (:class:`~network.coap.client.CoapReset` /
:class:`~network.coap.client.CoapTimeout`); an error code is a response.

A simulated board's address is known; a real one's is not, so there a test gives ``address=`` (to
:meth:`TestBoard.coap <firmware_sim.testkit.board.TestBoard.coap>` calls) or is skipped with the reason.
"""

from __future__ import annotations

import ipaddress

import pytest

from network.coap.client import Client, CoapError, Response
from network.coap.protocol.numbers import Code

__all__ = ["COAP_PORT", "CoapClient", "CoapError", "CoapResponse"]

COAP_PORT = 5683
CoapResponse = Response  # the name the plugin's API documents


class CoapClient:
    """GET/PUT/POST/DELETE to ``address`` (port ``port``); the client opens on first use."""

    def __init__(self, address: str | None, port: int = COAP_PORT) -> None:
        self.address = address
        self.port = port
        self._client: Client | None = None

    def _target(self, address: str | None) -> str:
        target = address or self.address
        if target is None:
            pytest.skip("board.coap: the board's address is unknown on a real board: pass address=")
        return target

    def _open(self, target: str) -> Client:
        if self._client is None:
            lan = not ipaddress.ip_address(target).is_loopback  # a real board on the LAN
            self._client = Client("0.0.0.0" if lan else "127.0.0.1", allow_lan=lan)
        return self._client

    def request(
        self,
        method: int,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> Response:
        """Send one CON request to the board and return its response."""
        target = self._target(address)
        uri = f"coap://{target}:{self.port}/{path.lstrip('/')}"
        return self._open(target).request(
            method, uri, payload, content_format=content_format, timeout=timeout
        )

    def get(self, path: str, timeout: float = 5.0, address: str | None = None) -> Response:
        return self.request(Code.GET, path, timeout=timeout, address=address)

    def put(
        self,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> Response:
        return self.request(Code.PUT, path, payload, content_format, timeout, address)

    def post(
        self,
        path: str,
        payload: bytes = b"",
        content_format: int | None = None,
        timeout: float = 5.0,
        address: str | None = None,
    ) -> Response:
        return self.request(Code.POST, path, payload, content_format, timeout, address)

    def delete(self, path: str, timeout: float = 5.0, address: str | None = None) -> Response:
        return self.request(Code.DELETE, path, timeout=timeout, address=address)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
