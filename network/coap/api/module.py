"""``network.Coap``: Pycom's CoAP module, a module object (not a class) over the engine.

The API is the documented one: firmware 1.20.1-1.20.2 (``socket()``, module-level ``send_request``)
together with 1.20.3.b0-b2 (client sessions, ``read(timeout)``) and the 1.20.3 features of API C
(``init(dynamic_resources, psk, hint)``, ``register_new_resource_handler``, ``get_details`` /
``set_details``, sessions with ``psk``/``identity``). Arguments are checked as MicroPython checks them,
with the firmware's exception types and messages. A function the active firmware profile lacks raises
``AttributeError`` as on that board, and a strict profile gives its version's signatures: 1.20.2.r6
``init(address, ...)`` and ``read()``; 1.20.3.b2 positional-only ``new_client_session(address,
port=5683)`` and ``remove_client_session(address, port)``; 1.20.3.b3/b4 no ``read()`` (a background
task serves from ``init()`` on), keyword-only session ports, ``remove_client_session(address, port,
protocol)`` (:mod:`.api_c`, :mod:`.sessions`).

One context per boot, as on the board: a second ``init()`` raises, and there is no ``deinit()``.
:func:`hard_reset` is the simulator's reboot (not part of the API scripts see).
"""

from __future__ import annotations

import atexit
import threading
import types
from socket import socket as UdpSocket
from typing import Any

from ... import host as sim_host
from ... import profile as profiles
from ...profile import (
    BACKGROUND_TASK,
    INIT_ADDRESS_REQUIRED,
    INIT_PORT,
    INIT_PORT_HALVED,
    MAX_AGE_8BIT,
    NO_API_C,
    READ_ONE_DATAGRAM,
    SEND_WITHOUT_PATH,
    FirmwareProfile,
)
from ..engine import Engine
from ..firmware.requests import PDU_LIBCOAP_41, check_port
from ..firmware.resources import REQUEST_DELETE, REQUEST_GET, REQUEST_POST, REQUEST_PUT
from ..protocol.numbers import MediaType
from . import api_c, sessions
from .context import Context
from .lifetime import board_stays_on
from .mpargs import Param, check_count, parse, to_int, to_str
from .objects import PROTOCOL_DTLS, PROTOCOL_UDP, CoapClientSession, CoapResource, build_request

_TASK_JOIN = 2.0  # host seconds hard_reset waits for the Coap task to end

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


_INIT_B = (Param("address", None), Param("port", None, True), Param("service_discovery", False, True))
_INIT_A = (Param("address"), *_INIT_B[1:])  # 1.20.1-1.20.2: the address is required
_INIT = (  # the docs profile: B's, with API C's
    *_INIT_B,
    Param("dynamic_resources", False, True),
    Param("psk", None, True),
    Param("hint", None, True),
)
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
# names only firmware 1.20.3.b3 and later have (and the docs profile)
_API_C_NAMES = frozenset({"register_new_resource_handler", "PROTOCOL_UDP", "PROTOCOL_DTLS"})


def _parse(args: tuple[Any, ...], kwargs: dict[str, Any], profile: FirmwareProfile) -> list[Any]:
    """``init``'s arguments on 1.20.1-1.20.3.b2 and in the docs profile (which also takes API C's
    ``dynamic_resources``, ``psk`` and ``hint``): address, port, service_discovery, dynamic, psk, hint."""
    params = _INIT_B if profile.has(NO_API_C) else _INIT
    if profile.has(INIT_ADDRESS_REQUIRED):
        params = _INIT_A
    values = parse(args, kwargs, params)
    return values + [False, None, None][len(values) - 3 :]


def _plan(values: list[Any], profile: FirmwareProfile) -> api_c.InitPlan:
    """What ``init`` sets up, its arguments checked as 1.20.3.b3 checks ``psk`` and ``hint``."""
    address, port, discovery, dynamic, psk, hint = values
    secure = address is not None and (psk is not None or hint is not None)
    if secure and (psk is None or hint is None):
        raise ValueError("Both PSK and Hint must be defined")
    bind_port = api_c.COAPS_DEFAULT_PORT if secure else api_c.COAP_DEFAULT_PORT
    if port is not None:
        requested = to_int(port)
        bound = (2 * requested + 1) & 0xFFFF
        if profile.quirk(INIT_PORT, port=requested, bound=bound):
            bind_port = bound
        elif 0 <= requested <= 0xFFFF:
            profile.quirk(INIT_PORT_HALVED, port=requested, effect=api_c.port_effect(requested))
            bind_port = requested
        else:
            raise ValueError('Invalid "port" parameter value!')
    if address is None:
        return api_c.InitPlan(None, 0, False, False, None, None)
    text = api_c.ipv4(address)
    keys = (api_c.c_string(psk), api_c.c_string(hint)) if secure else (None, None)
    return api_c.InitPlan(text, bind_port, bool(discovery), bool(dynamic), *keys)


def _start(plan: api_c.InitPlan, profile: FirmwareProfile) -> Context:
    """The context of ``plan``: the server endpoint (UDP, or DTLS-PSK), and the background task on
    1.20.3.b3/b4 (started even without a server, modcoap.c L1458)."""
    engine = Engine(profile)
    try:
        if plan.address is not None:
            address = sim_host.route(plan.address)
            if plan.psk is not None and plan.hint is not None:
                engine.start_dtls_server(address, plan.port, plan.service_discovery, plan.psk, plan.hint)
            else:
                engine.start_server(address, plan.port, plan.service_discovery)
            engine.resources.dynamic = plan.dynamic_resources
    except BaseException:
        engine.close()
        raise
    context = Context(engine, profile)
    if context.api_c:
        context.task = engine.serve_in_background()
    if plan.dynamic_resources:
        context.uses_api_c("Coap.init(dynamic_resources=True)")
    atexit.register(board_stays_on, engine)
    return context


class CoapModule(types.ModuleType):
    """The type of ``network.Coap``; its functions are this class's methods."""

    def __getattribute__(self, name: str) -> Any:
        profile = profiles.active()
        if name in profile.hidden or (name in _API_C_NAMES and profile.has(NO_API_C)):
            raise AttributeError(f"'module' object has no attribute '{name}'")
        return super().__getattribute__(name)

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(address=None, *, port=5683, service_discovery=False, dynamic_resources=False,
        psk=None, hint=None)``: start the context; with an address, serve CoAP on ``address:port``
        (DTLS-PSK on port 5684 with ``psk`` and ``hint``, which must come together). Firmware
        1.20.1-1.20.2 require the address; 1.20.1-1.20.3.b2 have no ``dynamic_resources``/``psk``/``hint``.

        ``port`` beyond a 32-bit word: ``OverflowError`` (``mp_obj_get_int``). 1.20.1-1.20.3.b2 bind
        ``(2 * port + 1) & 0xFFFF`` (strict profiles; for an int object past the 31-bit small ints the
        board uses its address bits, which nothing can reproduce); 1.20.3.b3/b4 bind ``(port - 1) // 2``
        for an odd port and, for an even one, raise ``OSError`` here where the board faults or raises
        an unrelated ``TypeError`` (:mod:`.api_c`); the docs profile binds ``port``, says what those
        versions do, and refuses one outside 0-65535 with ``ValueError``."""
        global _context
        profile = profiles.active()
        if profile.has(BACKGROUND_TASK):  # 1.20.3.b3/b4 look at ``initialized`` first (L1404)
            with _init_lock:
                if _context is not None:
                    raise RuntimeError("Coap module already initialized!")
                _context = _start(api_c.init_plan(args, kwargs, profile), profile)
            return
        values = _parse(args, kwargs, profile)
        with _init_lock:
            if _context is not None:
                raise RuntimeError("Coap module already initialized!")
            _context = _start(_plan(values, profile), profile)

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
        """``add_resource(uri, *, media_type=-1, max_age=-1, value=0, etag=False)``; "not initialized"
        comes before any argument error (modcoap checks it first: v1.20.2.r6 L997, v1.20.3.b3 L1486)."""
        context = _ctx()
        uri, media_type, max_age, value, etag = parse(args, kwargs, _ADD)
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
        context = _ctx()
        context.reading()
        context.engine.read(timeout)  # board milliseconds: the engine runs on board time

    def register_response_handler(self, *args: Any, **kwargs: Any) -> None:
        """The handler gets ``(code, id, type, token, payload)`` for each response with a payload."""
        check_count(args, kwargs, 1, 1)
        context = _ctx()
        context.entered("register_response_handler")
        context.engine.response_handler = args[0]

    def register_new_resource_handler(self, *args: Any, **kwargs: Any) -> None:
        """``register_new_resource_handler(callback)`` (1.20.3.b3 and later, L1573-1589): with
        ``init(dynamic_resources=True)``, ``callback(resource)`` is called with the ``CoapResource`` each
        PUT to an unknown URI creates, where the response handler is called (1.20.3: the IRQ thread).
        Stored unchecked: a non-callable fails at call time."""
        check_count(args, kwargs, 1, 1)
        context = _ctx()
        context.uses_api_c("Coap.register_new_resource_handler()")
        context.engine.new_resource_handler = args[0]

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
        destination = sim_host.route(api_c.ipv4(host))
        endpoint = context.engine.client_endpoint(sim_host.own_address())
        return context.send(endpoint, request, (destination, port), PDU_LIBCOAP_41)

    def new_client_session(self, *args: Any, **kwargs: Any) -> CoapClientSession:
        """``new_client_session(destination, port=5683, protocol=UDP, *, psk=None, identity=None)``: a
        session with its own socket (DTLS-PSK with ``psk`` and ``identity``, port 5684 by default).
        Firmware 1.20.3.b0-b2: ``new_client_session(destination, port=5683)``, positional only;
        1.20.3.b3/b4: ``new_client_session(address, *, port, psk=None, identity=None)`` (:mod:`.sessions`).

        The port keeps its low 16 bits (strict profiles) or must be 0-65535 (docs); 0 connects to
        5683, libcoap 4.2's default port."""
        return sessions.new_session(_ctx, _profile(), args, kwargs)

    def remove_client_session(self, *args: Any, **kwargs: Any) -> None:
        """``remove_client_session(destination, port=5683, protocol=UDP)``. Firmware 1.20.3.b0-b2:
        ``remove_client_session(destination, port)``, 1.20.3.b3/b4 ``(address, port, protocol)``,
        positional only."""
        sessions.remove_session(_ctx, _profile(), args, kwargs)

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
        "PROTOCOL_UDP": PROTOCOL_UDP,  # 1.20.3.b3 and later
        "PROTOCOL_DTLS": PROTOCOL_DTLS,
    }
    for name, value in constants.items():
        setattr(module, name, value)
    return module


Coap = _make_module()


def hard_reset() -> None:
    """The simulator's reboot: close every socket and forget the context, so ``init()`` works again."""
    global _context
    with _init_lock:
        context, _context = _context, None
        if context is not None:
            context.engine.close()
            atexit.unregister(board_stays_on)
            task = context.task
            if task is not None and task is not threading.current_thread():
                task.join(_TASK_JOIN)  # it ends at its next look at the closed engine
        profiles.active().reset_warnings()
