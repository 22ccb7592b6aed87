"""The modem's socket commands (``AT+SQNSCFG``, ``+SQNSCFGEXT``, ``+SQNSD``, ``+SQNSSENDEXT``,
``+SQNSSEND``, ``+SQNSRECV``, ``+SQNSH``, ``+SQNSI``, ``+SQNSS``, ``+SQNSO``): their syntax, over
the sockets of :mod:`.sockets`. :data:`SOCKET_COMMANDS` holds them by name, as
:data:`.commands.COMMANDS` holds the others.

A wrong argument (a connection id outside 1..6, a value out of range, a missing address) answers
``ERROR``. A command the socket's state refuses (sending or reading on a closed socket, reading with
nothing received, closing a closed one, dialling one that is open, dialling unregistered) answers
``+CME ERROR: 3``, which ``AT+CMEE=0`` (the default,
kept by Pycom's firmware) words as plain ``ERROR``. ``AT+SQNSD`` answers when the network did:
``OK`` (command mode, <connMode> 1), ``CONNECT`` (online data mode, <connMode> 0, the default) or
``NO CARRIER``. ``AT+SQNSSENDEXT=<connId>,<bytes>`` answers the prompt ``\\r\\n> ``, takes exactly
<bytes> bytes (twice as many hex digits with <sendDataMode> 1) and answers ``OK``.
``AT+SQNSRECV`` answers ``+SQNSRECV: <connId>,<n>``, the data on the next line, then ``OK``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .at import CME, CONNECT, ERROR, LATER, OK, PROMPT, Args, number, to_text, unquote
from .commands import Command
from .sockets import CONN_IDS, MAX_SEND, NOT_ALLOWED, Connection, SocketError
from .state import ModemState

IP_TYPES = ("IP", "IPV4V6")

SOCKET_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    """Register the function as the handler of ``AT<name>``; a refused command (a
    :class:`SocketError`) answers ``ERROR`` or ``+CME ERROR``."""

    def register(handler: Command) -> Command:
        SOCKET_COMMANDS[name] = refusals(handler)
        return handler

    return register


def refusals(handler: Command) -> Command:
    """A refused socket command (:class:`SocketError`) answers ``ERROR`` or ``+CME ERROR``."""

    @functools.wraps(handler)
    def wrapper(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
        try:
            return handler(modem, form, args, now, out)
        except SocketError as err:
            return ERROR if err.cme is None else f"{CME}{err.cme}"

    return wrapper


def _int(args: Args, index: int, low: int, high: int, default: int | None = None) -> int:
    """Argument ``index`` as a number in ``low..high`` (``default`` when omitted), else ERROR."""
    text = args[index] if index < len(args) else None
    if text is None:
        if default is None:
            raise SocketError()
        return default
    value = number(text)
    if not low <= value <= high:
        raise SocketError()
    return value


def _conn_id(args: Args) -> int:
    return _int(args, 0, CONN_IDS.start, CONN_IDS.stop - 1)


@command("+SQNSCFG")
def sqnscfg(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSCFG=<connId>,<cid>,<pktSz>,<maxTo>,<connTo>,<txTo>`` (an omitted value is kept)."""
    table = modem.sockets
    if form == "read":
        for conn in table.conns.values():
            cfg = conn.config
            out.append(
                f"+SQNSCFG: {conn.conn_id},{cfg.cid},{cfg.packet_size},{cfg.max_timeout},"
                f"{cfg.connect_timeout},{cfg.tx_timeout}"
            )
        return OK
    if form == "test":
        out.append("+SQNSCFG: (1-6),(1-8),(0-1500),(0-65535),(10-1200),(0-255)")
        return OK
    if form != "set" or len(args) > 6:
        return ERROR
    cfg = table.conn(_conn_id(args)).config
    cid = _int(args, 1, 1, 8, cfg.cid)
    packet_size = _int(args, 2, 0, MAX_SEND, cfg.packet_size) or 300
    max_timeout = _int(args, 3, 0, 65535, cfg.max_timeout)
    connect_timeout = _int(args, 4, 10, 1200, cfg.connect_timeout)
    tx_timeout = _int(args, 5, 0, 255, cfg.tx_timeout)
    cfg.cid, cfg.packet_size, cfg.max_timeout = cid, packet_size, max_timeout
    cfg.connect_timeout, cfg.tx_timeout = connect_timeout, tx_timeout
    return OK


@command("+SQNSCFGEXT")
def sqnscfgext(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSCFGEXT=<connId>,<srMode>,<recvDataMode>,<keepalive>[,<listenAutoRsp>
    [,<sendDataMode>]]``; later values (Pycom scripts send eight) are taken and unused."""
    table = modem.sockets
    if form == "read":
        for conn in table.conns.values():
            ext = conn.ext
            out.append(
                f"+SQNSCFGEXT: {conn.conn_id},{ext.ring_mode},{ext.recv_hex},{ext.keepalive},"
                f"{ext.listen_auto},{ext.send_hex}"
            )
        return OK
    if form == "test":
        out.append("+SQNSCFGEXT: (1-6),(0-2),(0-1),(0-240),(0-1),(0-1)")
        return OK
    if form != "set" or not 2 <= len(args) <= 8:
        return ERROR
    ext = table.conn(_conn_id(args)).ext
    values = (
        _int(args, 1, 0, 2, ext.ring_mode),
        _int(args, 2, 0, 1, ext.recv_hex),
        _int(args, 3, 0, 240, ext.keepalive),
        _int(args, 4, 0, 1, ext.listen_auto),
        _int(args, 5, 0, 1, ext.send_hex),
    )
    for index in range(6, len(args)):
        _int(args, index, 0, 65535, 0)
    ext.ring_mode, ext.recv_hex, ext.keepalive, ext.listen_auto, ext.send_hex = values
    return OK


@command("+SQNSD")
def sqnsd(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSD=<connId>,<txProt>,<rPort>,<IPaddr>[,<closureType>[,<lPort>[,<connMode>
    [,<acceptAnyRemote>]]]]``: <txProt> 0 TCP, 1 UDP; <connMode> 0 online, 1 command mode."""
    if form != "set" or not 4 <= len(args) <= 8:
        return ERROR
    conn_id = _conn_id(args)
    udp = _int(args, 1, 0, 1)
    port = _int(args, 2, 1, 65535)
    host = unquote(args[3])
    if not host:
        return ERROR
    if _int(args, 4, 0, 255, 0) not in (0, 255):
        return ERROR
    local_port = _int(args, 5, 0, 65535, 0)
    command_mode = _int(args, 6, 0, 1, 0)
    _int(args, 7, 0, 2, 0)
    conn = modem.sockets.conn(conn_id)
    context = modem.contexts.get(conn.config.cid)
    if not modem.registered(now) or context is None or context[0] not in IP_TYPES:
        raise SocketError(NOT_ALLOWED)
    online = command_mode == 0
    modem.sockets.dial(conn_id, not udp, host, port, local_port, online, modem.address)
    return LATER


@command("+SQNSSENDEXT")
def sqnssendext(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSSENDEXT=<connId>,<bytes>[,<rai>]``: the prompt, then exactly <bytes> bytes."""
    if form == "test":
        out.append(f"+SQNSSENDEXT: (1-6),(1-{MAX_SEND}),(0-2)")
        return OK
    if form != "set" or not 2 <= len(args) <= 3:
        return ERROR
    conn_id = _conn_id(args)
    size = _int(args, 1, 1, MAX_SEND)
    _int(args, 2, 0, 2, 0)
    modem.sockets.start_send(conn_id, size)
    return PROMPT


@command("+SQNSSEND")
def sqnssend(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSSEND=<connId>``: the prompt, then data up to Ctrl-Z (ESC cancels)."""
    if form != "set" or len(args) != 1:
        return ERROR
    modem.sockets.start_send(_conn_id(args), 0)
    return PROMPT


@command("+SQNSRECV")
def sqnsrecv(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSRECV=<connId>,<maxByte>``: ``+SQNSRECV: <connId>,<n>``, then the data."""
    if form == "test":
        out.append(f"+SQNSRECV: (1-6),(1-{MAX_SEND})")
        return OK
    if form != "set" or len(args) != 2:
        return ERROR
    conn_id = _conn_id(args)
    data = modem.sockets.recv(conn_id, _int(args, 1, 1, MAX_SEND))
    shown = data.hex().upper() if modem.sockets.conns[conn_id].ext.recv_hex else to_text(data)
    out += [f"+SQNSRECV: {conn_id},{len(data)}", shown]
    return OK


@command("+SQNSH")
def sqnsh(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSH=<connId>``: close the connection."""
    if form != "set" or len(args) != 1:
        return ERROR
    modem.sockets.close(_conn_id(args))
    return OK


def _chosen(modem: ModemState, form: str, args: Args) -> list[Connection]:
    """Every connection (execution form) or the one of ``=<connId>``."""
    if form == "exec":
        return list(modem.sockets.conns.values())
    if form != "set" or len(args) != 1:
        raise SocketError()
    return [modem.sockets.conn(_conn_id(args))]


@command("+SQNSI")
def sqnsi(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``+SQNSI: <connId>,<sent>,<received>,<buff_in>,<ack_waiting>``."""
    for conn in _chosen(modem, form, args):
        conn.settle()
        out.append(f"+SQNSI: {conn.conn_id},{conn.sent},{conn.received},{conn.pending()},0")
    return OK


@command("+SQNSS")
def sqnss(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``+SQNSS: <connId>,<state>[,<locIP>,<locPort>,<remIP>,<remPort>]`` (the addresses not for
    a closed connection)."""
    for conn in _chosen(modem, form, args):
        conn.settle()
        line = f"+SQNSS: {conn.conn_id},{conn.state}"
        if conn.is_open():
            line += f",{conn.local_ip},{conn.local_port},{conn.remote_host},{conn.remote_port}"
        out.append(line)
    return OK


@command("+SQNSO")
def sqnso(modem: ModemState, form: str, args: Args, now: float, out: list[str]) -> str:
    """``AT+SQNSO=<connId>``: back to online data mode on an open connection."""
    if form != "set" or len(args) != 1:
        return ERROR
    modem.sockets.resume(_conn_id(args))
    return CONNECT
