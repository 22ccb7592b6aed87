"""Firmware 1.20.3.b3/b4's ``network.Coap`` arguments (API C): ``init`` and ``new_client_session`` as
modcoap.c (tag v1.20.3.b3; 1.20.3.b4 has the same file) checks them, in its order, and the port bug
they share. The docs profile uses :func:`port_effect` to say what these versions do with a port.

The port bug: ``port`` is declared ``MP_ARG_INT`` with the default ``{.u_obj = mp_const_none}`` and read
back as ``.u_obj`` (init L1392/L1431, new_client_session L1593/L1607). Left out, the default 5683 (5684
with security) is used. Given, the int's bit pattern is taken for an object: an odd ``P`` is the small
int ``(P - 1) // 2`` (5683 -> 2841, ``MICROPY_OBJ_REPR_A``), an even ``P`` a qstr or a pointer to
nothing, which makes the board raise an unrelated ``TypeError`` or fault. The simulator raises
``OSError`` for an even port, naming the bug. A given ``None`` is a ``TypeError`` (``mp_obj_get_int``
at parse time), so ``port=None`` does not mean "default" on these versions.
"""

from __future__ import annotations

import ipaddress
from typing import Any, NamedTuple

from ...profile import FirmwareProfile
from ..firmware.requests import check_port
from .mpargs import NOT_GIVEN, Param, parse, to_bytes, to_int, to_str
from .objects import PROTOCOL_DTLS, PROTOCOL_UDP

COAP_DEFAULT_PORT, COAPS_DEFAULT_PORT = 5683, 5684

INIT = (
    Param("address", NOT_GIVEN),
    Param("port", NOT_GIVEN, True),
    Param("service_discovery", False, True),
    Param("dynamic_resources", False, True),
    Param("psk", None, True),
    Param("hint", None, True),
)
SESSION = (
    Param("address", NOT_GIVEN),
    Param("port", NOT_GIVEN, True),
    Param("psk", None, True),
    Param("identity", None, True),
)


class InitPlan(NamedTuple):
    """What ``init`` sets up: a server on ``address:port`` (None: client only), DTLS-PSK when ``psk``."""

    address: str | None
    port: int
    service_discovery: bool
    dynamic_resources: bool
    psk: bytes | None
    hint: bytes | None


class SessionPlan(NamedTuple):
    """A client session: what ``get_details()`` shows (``address``, ``port``, ``protocol``) and where
    it connects (``host``, ``remote_port``); DTLS-PSK with ``identity`` and ``psk``."""

    address: object
    port: object
    protocol: int
    host: str
    remote_port: int
    identity: bytes | None
    psk: bytes | None


def port_effect(port: int) -> str:
    """What 1.20.3.b3/b4 do with a given ``port=`` (for the docs profile's warning)."""
    if port & 1:
        return f"uses port {(port >> 1) & 0xFFFF}"
    return "raises TypeError or faults the board (an even port is read as a pointer)"


def port_object(port: int, call: str) -> int:
    """The int a given ``port`` becomes on 1.20.3.b3/b4: ``P >> 1`` for an odd ``P``; an even one raises
    ``OSError`` here (the board raises ``TypeError("can't convert str to int")`` when ``P / 4`` happens
    to be a qstr's number, and faults (LoadProhibited) and reboots otherwise)."""
    if port & 1:
        return port >> 1
    raise OSError(
        f"{call}(port={port}): firmware 1.20.3.b3/b4 read the port as an object pointer (modcoap.c "
        "MP_ARG_INT read as u_obj); with an even port the board raises TypeError or faults and reboots. "
        "Only the default port works on these versions"
    )


def c_string(obj: object) -> bytes:
    """``mp_obj_str_get_str`` then ``strlen``: str or bytes, up to the first NUL byte."""
    return to_bytes(obj).split(b"\0", 1)[0]


def ipv4(address: object) -> str:
    """``netutils_parse_ipv4_addr``: str or bytes (else ``TypeError``), a dotted IPv4 address (else
    ``ValueError("invalid arguments")``)."""
    try:
        return str(ipaddress.IPv4Address(to_str(address)))
    except ValueError:
        raise ValueError("invalid arguments") from None


def init_plan(args: tuple[Any, ...], kwargs: dict[str, Any], profile: FirmwareProfile) -> InitPlan:
    """``init(address=None, *, port, service_discovery=False, dynamic_resources=False, psk=None,
    hint=None)`` (L1390-1456). Without an address (left out, not ``None``: a given ``None`` is an
    address that is not a str) a client-only context: every other argument is ignored unchecked.
    Else: ``psk`` and ``hint`` both or neither (``ValueError``), then the address, the port, then
    ``hint`` and ``psk`` as C strings."""
    address, port, discovery, dynamic, psk, hint = parse(args, kwargs, INIT)
    port = port if port is NOT_GIVEN else to_int(port)  # MP_ARG_INT: converted while parsing
    if address is NOT_GIVEN:
        return InitPlan(None, 0, False, False, None, None)
    if (psk is None) != (hint is None):
        raise ValueError("Both PSK and Hint must be defined")
    secure = psk is not None
    text = ipv4(address)
    if port is NOT_GIVEN:
        number = COAPS_DEFAULT_PORT if secure else COAP_DEFAULT_PORT
    else:
        number = check_port(port_object(port, "Coap.init"), profile)
    hint_bytes = c_string(hint) if secure else None
    psk_bytes = c_string(psk) if secure else None
    return InitPlan(text, number, bool(discovery), bool(dynamic), psk_bytes, hint_bytes)


def session_plan(args: tuple[Any, ...], kwargs: dict[str, Any], profile: FirmwareProfile) -> SessionPlan:
    """``new_client_session(address, *, port, psk=None, identity=None)`` (L1591-1653): the port and its
    default (5683, 5684 with ``psk``), the two port rules, ``psk`` and ``identity`` both or neither, then
    the address, then ``identity`` and ``psk`` as C strings. A port of 0 connects to libcoap's default
    port for the protocol (``coap_session_create_client``)."""
    address, port, psk, identity = parse(args, kwargs, SESSION)
    port = port if port is NOT_GIVEN else to_int(port)
    secure = psk is not None
    if port is NOT_GIVEN:
        number = COAPS_DEFAULT_PORT if secure else COAP_DEFAULT_PORT
    else:
        number = port_object(port, "Coap.new_client_session")
    if secure and number == COAP_DEFAULT_PORT:
        raise ValueError("If Security is configured port must not be 5683!")
    if not secure and number == COAPS_DEFAULT_PORT:
        raise ValueError("If Security is not configured port must not be 5684!")
    if secure != (identity is not None):
        raise ValueError("For Security both PSK and Identity must be configured!")
    if address is NOT_GIVEN:  # NULL handed to netutils_parse_inet_addr (L186, L194)
        raise OSError("Coap.new_client_session() without an address: firmware 1.20.3.b3/b4 fault and reboot")
    host = ipv4(address)
    remote = check_port(number, profile) or (COAPS_DEFAULT_PORT if secure else COAP_DEFAULT_PORT)
    if secure:
        identity_bytes, psk_bytes = c_string(identity), c_string(psk)
        return SessionPlan(address, number, PROTOCOL_DTLS, host, remote, identity_bytes, psk_bytes)
    return SessionPlan(address, number, PROTOCOL_UDP, host, remote, None, None)
