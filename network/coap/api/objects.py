"""The two object types of modcoap: ``CoapResource`` and ``CoapClientSession``.

Neither can be instantiated by a script: ``Coap.add_resource`` / ``get_resource`` and
``Coap.new_client_session`` hand them out. Method arities and errors are the firmware's.
``CoapResource.get_details``/``set_details`` exist from 1.20.3.b3 on (and in the docs profile): on
older versions they are missing attributes, as on the board.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...profile import CALLBACK_DISABLE, NO_API_C, URI_HOST_BINARY
from ..firmware.requests import (
    PDU_LIBCOAP_42,
    build_options,
    check_content_format,
    check_method,
    fit_path,
    path_segments,
)
from ..protocol.codec import Message
from .mpargs import NOT_GIVEN, Param, check_count, parse, to_bytes, to_int, to_str

if TYPE_CHECKING:
    from ..engine import Endpoint
    from ..firmware.resources import Resource
    from .context import Context

PROTOCOL_UDP, PROTOCOL_DTLS = 1, 2  # libcoap 4.2's COAP_PROTO_UDP / COAP_PROTO_DTLS (modcoap.c L1744)


def _removed(what: str) -> RuntimeError:
    return RuntimeError(f"{what} has been removed!")


class _ApiC:
    """A method of firmware 1.20.3.b3 and later: a missing attribute on a profile without API C."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if obj._context.profile.has(NO_API_C):
            raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{self.name}'")
        obj._context.uses_api_c(f"CoapResource.{self.name}()")
        return self.method.__get__(obj, owner)


_SET_DETAILS = (
    Param("mediatype", NOT_GIVEN, True),
    Param("max_age", NOT_GIVEN, True),
    Param("etag", NOT_GIVEN, True),
)


class CoapResource:
    """A server resource (firmware 1.20.1 and later: ``add_attribute``, ``value``, ``callback``)."""

    __slots__ = ("_resource", "_context")

    def __init__(self, resource: Resource, context: Context) -> None:
        self._resource = resource
        self._context = context

    def __repr__(self) -> str:
        return "<CoapResource>"

    def _alive(self) -> Resource:
        if not self._resource.alive:
            raise _removed("Resource")
        return self._resource

    def add_attribute(self, *args: Any, **kwargs: Any) -> None:
        """Add a link-format attribute; ``/.well-known/core`` prints them newest first."""
        check_count((self, *args), kwargs, 3, 3)
        name, value = to_str(args[0]), to_str(args[1])
        with self._context.engine.lock:
            self._alive().attributes.append((name, value))

    def value(self, *args: Any, **kwargs: Any) -> bytes | None:
        """``value()`` returns the stored bytes; ``value(new)`` stores ``new`` and bumps the ETag."""
        check_count((self, *args), kwargs, 1, 2)
        context = self._context
        context.entered("value")
        with context.engine.lock:
            resource = self._alive()
            if not args:
                return resource.value
            resource.set_value(args[0])
        return None

    def callback(self, *args: Any, **kwargs: Any) -> None:
        """Enable (``True``) or disable (``False``) the built-in handler of each REQUEST_* bit."""
        check_count((self, *args), kwargs, 3, 3)
        operation, enable = to_int(args[0]), to_int(args[1])
        with self._context.engine.lock:
            resource = self._alive()
            if enable or self._context.profile.quirk(CALLBACK_DISABLE, operation=operation):
                resource.methods |= operation & 0xF
            else:
                resource.methods &= ~operation & 0xF

    @_ApiC
    def get_details(self, *args: Any, **kwargs: Any) -> list[Any]:
        """``[uri, mediatype, max_age, etag, etag_value]`` (modcoap.c v1.20.3.b3 L1254-1272): -1 for no
        media type or Max-Age, ``etag`` the int 0 or 1."""
        check_count((self, *args), kwargs, 1, 1)
        with self._context.engine.lock:
            r = self._alive()
            return [r.uri, r.media_type, r.max_age, int(r.etag_enabled), r.etag]

    @_ApiC
    def set_details(self, *args: Any, **kwargs: Any) -> None:
        """``set_details(*, mediatype, max_age, etag)`` (L1274-1311): only the given fields change, as
        ``int32_t`` (``mediatype``, ``max_age``: -1 is "none") or a bool (``etag``: any object's truth);
        giving ``etag`` restarts the ETag at 1 (on) or 0 (off). Note ``mediatype``, not ``media_type``."""
        mediatype, max_age, etag = parse(args, kwargs, _SET_DETAILS)
        mediatype = mediatype if mediatype is NOT_GIVEN else to_int(mediatype)
        max_age = max_age if max_age is NOT_GIVEN else to_int(max_age)
        with self._context.engine.lock:
            resource = self._alive()
            if mediatype is not NOT_GIVEN:
                resource.media_type = mediatype
            if max_age is not NOT_GIVEN:
                resource.max_age = max_age
            if etag is not NOT_GIVEN:
                resource.etag_enabled = bool(etag)
                resource.etag = 1 if resource.etag_enabled else 0


_SEND_PARAMS = (
    Param("method"),
    Param("uri_path", None, True),
    Param("content_format", -1, True),
    Param("payload", None, True),
    Param("token", None, True),
    Param("include_options", True, True),
)


class CoapClientSession:
    """A client session (firmware 1.20.3.b0 and later): its own UDP socket to one server (1.20.3.b3 and
    later: or a DTLS-PSK session, ``protocol`` 2)."""

    __slots__ = ("_endpoint", "_context", "_address", "_port", "_host", "protocol")

    def __init__(
        self,
        endpoint: Endpoint,
        context: Context,
        address: object,
        port: object,
        host: str,
        protocol: int = PROTOCOL_UDP,
    ) -> None:
        self._endpoint = endpoint
        self._context = context
        self._address = address  # the objects the script passed in, as get_details() returns them
        self._port = port
        self._host = host
        self.protocol = protocol

    def __repr__(self) -> str:
        return "<CoapClientSession>"

    def get_details(self, *args: Any, **kwargs: Any) -> list[Any]:
        """``[address, port]``; 1.20.3.b3 and later ``[address, port, protocol]`` (modcoap.c L1122-1148)."""
        check_count((self, *args), kwargs, 1, 1)
        if self._context.api_c:
            return [self._address, self._port, self.protocol]
        return [self._address, self._port]

    def send_request(self, *args: Any, **kwargs: Any) -> int:
        """Send a CON request to the session's server; returns its message id."""
        method, uri_path, content_format, payload, token, include_options = parse(args, kwargs, _SEND_PARAMS)
        context = self._context
        request = build_request(
            context,
            method,
            uri_host=None,
            uri_port=None,
            uri_path=uri_path,
            content_format=content_format,
            payload=payload,
            token=token,
            include_options=include_options,
        )
        if self._endpoint.closed:
            raise _removed("Client Session")
        peer = self._endpoint.peer
        assert peer is not None  # a session's endpoint is connected to its server
        if include_options:
            host = self._host.encode()
            if context.profile.quirk(URI_HOST_BINARY):
                host = bytes(int(part) for part in self._host.split("."))
            # Uri-Port: the port the session's socket is connected to (libcoap's remote address)
            request.options[:0] = build_options(
                uri_host=host, uri_port=peer[1], segments=[], content_format=-1
            )
        return context.send(self._endpoint, request, peer, PDU_LIBCOAP_42)


def build_request(
    context: Context,
    method: object,
    *,
    uri_host: bytes | None,
    uri_port: int | None,
    uri_path: object,
    content_format: object,
    payload: object,
    token: object,
    include_options: object,
) -> Message:
    """Check ``send_request``'s arguments in the firmware's order and build the CON request."""
    code = check_method(to_int(method))
    fmt = check_content_format(to_int(content_format))
    path = None if uri_path is None else to_str(uri_path)
    body = b"" if payload is None else to_bytes(payload)
    tok = b"" if token is None else to_bytes(token)
    if len(tok) > 8:
        raise OSError("Cannot create request")
    options: list[tuple[int, bytes]] = []
    if include_options:
        segments = [] if path is None else path_segments(path, context.profile)
        if not segments and context.empty_uri_path:
            segments = [""]  # 1.20.3 (libcoap 4.2): an empty or missing path is one empty Uri-Path
        segments = fit_path(segments, context.profile)
        options = build_options(uri_host=uri_host, uri_port=uri_port, segments=segments, content_format=fmt)
    return Message(0, code, 0, tok, options, body)


def session_parts(session: CoapClientSession) -> tuple[Endpoint, object, object]:
    """The simulator's view of a session: its endpoint, and the address and port objects the script
    gave (modcoap's ``ip_addr`` and ``port``, which ``remove_client_session`` compares)."""
    return session._endpoint, session._address, session._port
