"""``network.Coap``: Pycom's CoAP module, a module object (not a class) over the engine.

The API is the documented one: firmware 1.20.1-1.20.2 (``socket()``, module-level ``send_request``)
together with 1.20.3.b0-b2 (client sessions, ``read(timeout)``). Arguments are checked as
MicroPython checks them, with the firmware's exception types and messages. A function the active
firmware profile lacks raises ``AttributeError`` as on that board, and a strict profile gives its
version's signatures: 1.20.2.r6 ``init(address, ...)`` and ``read()``; 1.20.3.b2 positional-only
``new_client_session(address, port=5683)`` and ``remove_client_session(address, port)``.

One context per boot, as on the board: a second ``init()`` raises, and there is no ``deinit()``.
:func:`hard_reset` is the simulator's reboot (not part of the API scripts see).
"""

from __future__ import annotations

import atexit
import ipaddress
import math
import os
import sys
import threading
import time
import types
from socket import socket as UdpSocket
from typing import Any

from ... import host as sim_host
from ... import profile as profiles
from ...profile import (
    EMPTY_URI_PATH,
    HANDLER_REENTRY,
    INIT_ADDRESS_REQUIRED,
    INIT_PORT,
    MAX_AGE_8BIT,
    POSITIONAL_SESSIONS,
    READ_ONE_DATAGRAM,
    SEND_WITHOUT_PATH,
    SWAPPED_IDS,
    FirmwareProfile,
)
from ..engine import Endpoint, Engine, in_response_handler
from ..firmware.requests import LIBCOAP_DEFAULT_PORT, PDU_LIBCOAP_41, check_port, fit_request
from ..firmware.resources import REQUEST_DELETE, REQUEST_GET, REQUEST_POST, REQUEST_PUT, Resource
from ..protocol.codec import Message
from ..protocol.numbers import MediaType
from .mpargs import Param, check_count, parse, to_int, to_str
from .objects import CoapClientSession, CoapResource, build_request

PROTOCOL_UDP = 1
ENV_TIMEOUT = "FIRMWARE_SIM_TIMEOUT"
_THREAD_START_GRACE = 0.5  # seconds


class Context:
    """The module's state for one boot: the engine and the facade objects handed to the script."""

    def __init__(self, engine: Engine, profile: FirmwareProfile) -> None:
        self.engine = engine
        self.profile = profile
        self.resources: dict[Resource, CoapResource] = {}
        self.sessions: list[CoapClientSession] = []
        # per-request differences between versions, computed once
        self.swapped_ids = profile.has(SWAPPED_IDS)
        self.empty_uri_path = profile.has(EMPTY_URI_PATH)

    def entered(self, function: str) -> None:
        """Called by the 1.20.1-1.20.2 functions that take modcoap's semaphore: there, calling them from
        the response handler deadlocks. (Client sessions are 1.20.3-only, where the handler runs in a
        thread of its own, so their functions do not call this.)"""
        if in_response_handler():
            self.profile.quirk(HANDLER_REENTRY, function=function)

    def send(self, endpoint: Endpoint, request: Message, peer: tuple[str, int], pdu_limit: int) -> int:
        """Send ``request``; its message id as the firmware returns it (1.20.1-1.20.2: byte-swapped).
        A request larger than ``pdu_limit`` loses its payload (strict profiles), one larger than a
        datagram raises ``OSError``: either way before anything is queued."""
        fit_request(request, pdu_limit, self.profile)
        with self.engine.lock:
            request.mid = mid = endpoint.layer.next_mid()
            self.engine.send_request(endpoint, request, peer)
        return ((mid & 0xFF) << 8) | (mid >> 8) if self.swapped_ids else mid

    def facade(self, resource: Resource) -> CoapResource:
        obj = self.resources.get(resource)
        if obj is None:
            obj = self.resources[resource] = CoapResource(resource, self)
        return obj


_context: Context | None = None
_init_lock = threading.Lock()


def _ctx() -> Context:
    if _context is None:
        raise RuntimeError("Coap module has not been initialized!")
    return _context


def _profile() -> FirmwareProfile:
    """The context's profile; before ``init()``, the active one (for argument checks)."""
    context = _context
    return profiles.active() if context is None else context.profile


def _ipv4(text: str, error: Exception) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise error from None


_INIT = (Param("address", None), Param("port", None, True), Param("service_discovery", False, True))
_INIT_A = (Param("address"), *_INIT[1:])  # 1.20.1-1.20.2: the address is required
_ADD = (
    Param("uri"),
    Param("media_type", -1, True),
    Param("max_age", -1, True),
    Param("value", 0, True),
    Param("etag", False, True),
)
_SEND = (
    Param("uri_host"),
    Param("method"),
    Param("uri_port", 5683, True),
    Param("uri_path", None, True),
    Param("content_format", -1, True),
    Param("payload", None, True),
    Param("token", None, True),
    Param("include_options", True, True),
)
_SESSION = (Param("destination"), Param("port", 5683), Param("protocol", PROTOCOL_UDP))


class CoapModule(types.ModuleType):
    """The type of ``network.Coap``; its functions are this class's methods."""

    def __getattribute__(self, name: str) -> Any:
        if name in profiles.active().hidden:
            raise AttributeError(f"'module' object has no attribute '{name}'")
        return super().__getattribute__(name)

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(address=None, *, port=5683, service_discovery=False)``: start the context; with an
        address, serve CoAP on ``address:port``. Firmware 1.20.1-1.20.2 require the address.

        ``port`` beyond a 32-bit word: ``OverflowError`` (``mp_obj_get_int``). 1.20.1-1.20.3.b2 bind
        ``(2 * port + 1) & 0xFFFF`` (strict profiles; for an int object past the 31-bit small ints the
        board uses its address bits, which nothing can reproduce); the docs profile binds ``port`` and
        refuses one outside 0-65535 with ``ValueError``."""
        global _context
        profile = profiles.active()
        params = _INIT_A if profile.has(INIT_ADDRESS_REQUIRED) else _INIT
        address, port, discovery = parse(args, kwargs, params)
        with _init_lock:
            if _context is not None:
                raise RuntimeError("Coap module already initialized!")
            bind_port = 5683
            if port is not None:
                requested = to_int(port)
                bound = (2 * requested + 1) & 0xFFFF
                if profile.quirk(INIT_PORT, port=requested, bound=bound):
                    bind_port = bound
                elif 0 <= requested <= 0xFFFF:
                    bind_port = requested
                else:
                    raise ValueError('Invalid "port" parameter value!')
            engine = Engine(profile)
            try:
                if address is not None:
                    text = _ipv4(to_str(address), ValueError("invalid arguments"))
                    engine.start_server(sim_host.route(text), bind_port, bool(discovery))
            except BaseException:
                engine.close()
                raise
            _context = Context(engine, profile)
            atexit.register(_board_stays_on, engine)

    def socket(self, *args: Any, **kwargs: Any) -> UdpSocket:
        """The server endpoint's UDP socket, the same object every call (firmware 1.20.1-1.20.2).

        It shares the engine's socket (polling and reading it work as on the board), but blocking it,
        giving it a timeout or closing it never stalls ``read()``; once closed, ``read()`` says so as
        the firmware does (see :meth:`network.coap.engine.Engine.script_socket`)."""
        check_count(args, kwargs, 0, 0)
        engine = _ctx().engine
        if engine.server is None:
            raise OSError("Coap.socket(): no server endpoint, Coap.init() was called without an address")
        return engine.script_socket()

    def add_resource(self, *args: Any, **kwargs: Any) -> CoapResource:
        """``add_resource(uri, *, media_type=-1, max_age=-1, value=0, etag=False)``."""
        uri, media_type, max_age, value, etag = parse(args, kwargs, _ADD)
        context = _ctx()
        context.entered("add_resource")
        uri = to_str(uri)
        media_type, max_age = to_int(media_type), to_int(max_age)
        if max_age > 255 and context.profile.quirk(MAX_AGE_8BIT, max_age=max_age, cut=max_age & 0xFF):
            max_age &= 0xFF
        with context.engine.lock:
            resource = context.engine.resources.add(uri, media_type, max_age, value, bool(etag))
            if resource is None:
                raise RuntimeError("Resource already exists or cannot be created!")
            return context.facade(resource)

    def remove_resource(self, *args: Any, **kwargs: Any) -> None:
        check_count(args, kwargs, 1, 1)
        context = _ctx()
        context.entered("remove_resource")
        with context.engine.lock:
            resource = context.engine.resources.get(to_str(args[0]))
            if resource is not None:
                context.engine.resources.remove(resource.uri)
                context.resources.pop(resource, None)

    def get_resource(self, *args: Any, **kwargs: Any) -> CoapResource | None:
        check_count(args, kwargs, 1, 1)
        context = _ctx()
        context.entered("get_resource")
        with context.engine.lock:
            resource = context.engine.resources.get(to_str(args[0]))
            return None if resource is None else context.facade(resource)

    def read(self, *args: Any, **kwargs: Any) -> None:
        """``read(timeout=0)``: handle incoming packets; 0 blocks until one was handled, otherwise
        return after at most ``timeout`` board ms or once a packet was handled. Firmware 1.20.1-1.20.2:
        ``read()`` without arguments blocks until one datagram came, and handles just that one."""
        if _profile().has(READ_ONE_DATAGRAM):
            check_count(args, kwargs, 0, 0)
            _ctx().engine.read(0, one=True)
            return
        check_count(args, kwargs, 0, 1)
        timeout = to_int(args[0]) if args else 0
        if timeout < 0:
            raise ValueError("If specified, timeout must be bigger or equal to 0!")
        _ctx().engine.read(timeout)  # board milliseconds: the engine runs on board time

    def register_response_handler(self, *args: Any, **kwargs: Any) -> None:
        """The handler gets ``(code, id, type, token, payload)`` for each response with a payload."""
        check_count(args, kwargs, 1, 1)
        context = _ctx()
        context.entered("register_response_handler")
        context.engine.response_handler = args[0]

    def send_request(self, *args: Any, **kwargs: Any) -> int:
        """``send_request(uri_host, method, *, uri_port=5683, uri_path, content_format, payload, token,
        include_options=True)`` from the server socket (firmware 1.20.1-1.20.2); returns the id.

        Every argument is checked, and the request sized against libcoap 4.1's 1400-byte PDU, before
        anything is sent (``firmware/requests.py``: ports, path buffer, payload)."""
        host, method, uri_port, uri_path, content_format, payload, token, include = parse(args, kwargs, _SEND)
        context = _ctx()
        context.entered("send_request")
        host = to_str(host)
        port = check_port(to_int(uri_port), context.profile, "uri_port")
        if uri_path is None:
            context.profile.quirk(SEND_WITHOUT_PATH)
        request = build_request(
            context,
            method,
            uri_host=host.encode(),
            uri_port=port,
            uri_path=uri_path,
            content_format=content_format,
            payload=payload,
            token=token,
            include_options=include,
        )
        destination = sim_host.route(_ipv4(host, ValueError("invalid arguments")))
        endpoint = context.engine.client_endpoint(sim_host.own_address())
        return context.send(endpoint, request, (destination, port), PDU_LIBCOAP_41)

    def new_client_session(self, *args: Any, **kwargs: Any) -> CoapClientSession:
        """``new_client_session(destination, port=5683, protocol=UDP)``: a session with its own socket.
        Firmware 1.20.3.b0-b2: ``new_client_session(destination, port=5683)``, positional only.

        The port keeps its low 16 bits (strict profiles) or must be 0-65535 (docs); 0 connects to
        5683, libcoap 4.2's default port."""
        if _profile().has(POSITIONAL_SESSIONS):
            check_count(args, kwargs, 1, 2)
            destination, port, protocol = args[0], args[1] if len(args) > 1 else 5683, PROTOCOL_UDP
        else:
            destination, port, protocol = parse(args, kwargs, _SESSION)
        context = _ctx()
        host = to_str(destination)
        port_number = check_port(to_int(port), context.profile)
        if to_int(protocol) != PROTOCOL_UDP:
            raise ValueError('Invalid "protocol" parameter value!')
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            raise RuntimeError("Client Session has not been created!") from None
        remote = (sim_host.route(str(address)), port_number or LIBCOAP_DEFAULT_PORT)
        with context.engine.lock:
            endpoint = context.engine.new_session((host, port_number), sim_host.own_address(), remote)
            session = CoapClientSession(endpoint, context, destination, port, host)
            context.sessions.append(session)
            return session

    def remove_client_session(self, *args: Any, **kwargs: Any) -> None:
        """``remove_client_session(destination, port=5683, protocol=UDP)``. Firmware 1.20.3.b0-b2:
        ``remove_client_session(destination, port)``, positional only."""
        if _profile().has(POSITIONAL_SESSIONS):
            check_count(args, kwargs, 2, 2)
            destination, port = args
        else:
            destination, port, _protocol = parse(args, kwargs, _SESSION)
        context = _ctx()
        key = (to_str(destination), check_port(to_int(port), context.profile))
        with context.engine.lock:
            for session in context.sessions:
                if session._endpoint.key == key:
                    context.sessions.remove(session)
                    context.engine.remove_session(session._endpoint)
                    return
        raise RuntimeError("Client Session has not been removed")

    def get_client_sessions(self, *args: Any, **kwargs: Any) -> list[CoapClientSession]:
        check_count(args, kwargs, 0, 0)
        context = _ctx()
        with context.engine.lock:
            return list(context.sessions)


# On the board ``type(Coap)`` is the plain module type: ``<class 'module'>``.
CoapModule.__name__ = CoapModule.__qualname__ = "module"
CoapModule.__module__ = "builtins"


def _make_module() -> CoapModule:
    module = CoapModule("coap")
    constants = {
        "REQUEST_GET": REQUEST_GET,
        "REQUEST_PUT": REQUEST_PUT,
        "REQUEST_POST": REQUEST_POST,
        "REQUEST_DELETE": REQUEST_DELETE,
        **{f"MEDIATYPE_{media.name}": int(media) for media in MediaType},
    }
    for name, value in constants.items():
        setattr(module, name, value)
    return module


Coap = _make_module()


def hard_reset() -> None:
    """The simulator's reboot: close every socket and forget the context, so ``init()`` works again."""
    global _context
    with _init_lock:
        if _context is not None:
            _context.engine.close()
            atexit.unregister(_board_stays_on)
        _context = None
        profiles.active().reset_warnings()


def _other_threads() -> bool:
    main = threading.main_thread().ident
    return any(ident != main for ident in sys._current_frames())


def _board_stays_on(engine: Engine) -> None:
    """At interpreter exit: while the script's other threads run (a ``Coap.read()`` loop, say), keep
    the process up, as a board keeps running its threads after ``main.py`` returns. Ctrl-C, the
    threads ending, or ``FIRMWARE_SIM_TIMEOUT`` seconds end it."""
    if engine.closed:
        return
    started = time.monotonic() + _THREAD_START_GRACE  # a thread just started may not show up yet
    while not _other_threads():
        if time.monotonic() > started:
            return
        time.sleep(0.01)
    limit = float(os.environ.get(ENV_TIMEOUT) or math.inf)
    end = time.monotonic() + limit
    announce = time.monotonic() + _THREAD_START_GRACE  # threads about to end need no announcement
    try:
        while not engine.closed and _other_threads() and time.monotonic() < end:
            if announce and time.monotonic() > announce:
                announce = 0.0
                print(
                    "firmware-sim: the script has finished; its threads keep running as on the board "
                    "(Ctrl-C stops)",
                    file=sys.stderr,
                    flush=True,
                )
            time.sleep(min(0.05, max(end - time.monotonic(), 0.0)))
    except KeyboardInterrupt:
        pass
