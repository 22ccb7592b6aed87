"""``Coap.new_client_session`` and ``Coap.remove_client_session`` of each API: 1.20.3.b0-b2 (positional
only), 1.20.3.b3/b4 (keyword-only port, ``psk``/``identity``, three-argument removal: :mod:`.api_c`),
and the docs profile's union ``new_client_session(destination, port=5683, protocol=1, *, psk=None,
identity=None)`` (``address=`` accepted for ``destination``), ``remove_client_session(destination,
port=5683, protocol=1)``.

A session with ``psk`` is DTLS-PSK (``PROTOCOL_DTLS``, 1.20.3.b3 and later and the docs profile): the
engine's :meth:`~network.coap.engine.Engine.start_dtls_session`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from ... import host as sim_host
from ...profile import BACKGROUND_TASK, POSITIONAL_SESSIONS, SESSION_PORT_HALVED, FirmwareProfile
from ..engine import Endpoint
from ..firmware.requests import check_port
from . import api_c
from .context import Context
from .mpargs import Param, check_count, parse, to_int, to_str
from .objects import PROTOCOL_DTLS, PROTOCOL_UDP, CoapClientSession, session_parts

_SESSION = (
    Param("destination"),
    Param("port", None),
    Param("protocol", None),
    Param("psk", None, True),
    Param("identity", None, True),
)
_REMOVE = (Param("destination"), Param("port", 5683), Param("protocol", PROTOCOL_UDP))


def new_session(
    ctx: Callable[[], Context], profile: FirmwareProfile, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> CoapClientSession:
    """A session as ``profile``'s firmware makes it; ``ctx()`` is the context, or "not initialized",
    asked where that firmware asks (1.20.3.b3/b4 before the arguments, the others after)."""
    if profile.has(BACKGROUND_TASK):
        context = ctx()
        plan = api_c.session_plan(args, kwargs, context.profile)
        return _open(context, plan, (plan.host, plan.remote_port))
    keyword_port = "port" in kwargs
    if profile.has(POSITIONAL_SESSIONS):
        check_count(args, kwargs, 1, 2)
        destination, port = args[0], args[1] if len(args) > 1 else 5683
        protocol = psk = identity = None
    else:
        if "address" in kwargs and "destination" not in kwargs:
            kwargs = {("destination" if k == "address" else k): v for k, v in kwargs.items()}
        destination, port, protocol, psk, identity = parse(args, kwargs, _SESSION)
    context = ctx()
    secure = psk is not None
    if secure or identity is not None:
        context.uses_api_c("new_client_session(psk=..., identity=...)")
    if port is None:
        port = api_c.COAPS_DEFAULT_PORT if secure else api_c.COAP_DEFAULT_PORT
    number = to_int(port)
    if keyword_port:
        context.profile.quirk(SESSION_PORT_HALVED, port=number, effect=api_c.port_effect(number))
    host = to_str(destination)
    port_number = check_port(number, context.profile)
    kind = PROTOCOL_DTLS if secure else PROTOCOL_UDP
    if protocol is not None and to_int(protocol) != kind:
        raise ValueError('Invalid "protocol" parameter value!')
    if secure and number == api_c.COAP_DEFAULT_PORT:
        raise ValueError("If Security is configured port must not be 5683!")
    if secure != (identity is not None):
        raise ValueError("For Security both PSK and Identity must be configured!")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise RuntimeError("Client Session has not been created!") from None
    remote = port_number or (api_c.COAPS_DEFAULT_PORT if secure else api_c.COAP_DEFAULT_PORT)
    identity_bytes = api_c.c_string(identity) if secure else None
    psk_bytes = api_c.c_string(psk) if secure else None
    plan = api_c.SessionPlan(destination, port, kind, host, remote, identity_bytes, psk_bytes)
    return _open(context, plan, (host, port_number))


def _open(context: Context, plan: api_c.SessionPlan, key: tuple[str, int]) -> CoapClientSession:
    engine = context.engine
    remote = (sim_host.route(plan.host), plan.remote_port)
    with engine.lock:
        local = sim_host.own_address()
        if plan.identity is not None and plan.psk is not None:
            endpoint = engine.start_dtls_session(key, local, remote, plan.identity, plan.psk)
        else:
            endpoint = engine.new_session(key, local, remote)
        session = CoapClientSession(endpoint, context, plan.address, plan.port, plan.host, plan.protocol)
        context.sessions.append(session)
        return session


def remove_session(
    ctx: Callable[[], Context], profile: FirmwareProfile, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Remove the first session matching the arguments; ``RuntimeError`` when none does.
    1.20.3.b3/b4 (L1658-1686): exactly ``(address, port, protocol)``, matched on the address text, the
    low 16 bits of the port the session keeps (what ``get_details()`` shows) and the protocol."""
    if profile.has(BACKGROUND_TASK):
        check_count(args, kwargs, 3, 3)
        context = ctx()
        address, port, protocol = to_str(args[0]), to_int(args[1]) & 0xFFFF, to_int(args[2]) & 0xFF
        with context.engine.lock:
            for session in context.sessions:
                endpoint, given_address, given_port = session_parts(session)
                same_port = (to_int(given_port) & 0xFFFF) == port
                if same_port and session.protocol == protocol and to_str(given_address) == address:
                    return _close(context, session, endpoint)
        raise RuntimeError("Client Session has not been removed")
    if profile.has(POSITIONAL_SESSIONS):
        check_count(args, kwargs, 2, 2)
        (destination, port), protocol = args, PROTOCOL_UDP
    else:
        destination, port, protocol = parse(args, kwargs, _REMOVE)
    context = ctx()
    key = (to_str(destination), check_port(to_int(port), context.profile))
    protocol = to_int(protocol)
    with context.engine.lock:
        for session in context.sessions:
            endpoint = session_parts(session)[0]
            if endpoint.key == key and session.protocol == protocol:
                return _close(context, session, endpoint)
    raise RuntimeError("Client Session has not been removed")


def _close(context: Context, session: CoapClientSession, endpoint: Endpoint) -> None:
    context.sessions.remove(session)  # under the engine's lock
    context.engine.remove_session(endpoint)
