"""The Sequans modem's six sockets (``AT+SQNS*``), without I/O: their settings, state, buffers and
counters, the text the modem writes about them on its own (URCs, a dial's late result, online data)
and the network actions they need.

The caller is the modem's network side (:mod:`.radio`): it performs each action of
:meth:`SocketTable.take_actions` (:class:`Open`, :class:`Send`, :class:`Close`) with a real socket
and reports back with :meth:`~SocketTable.opened`, :meth:`~SocketTable.open_failed`,
:meth:`~SocketTable.received` and :meth:`~SocketTable.remote_closed`; what the modem writes on its
UART as a result collects in :meth:`SocketTable.take_output`. The AT syntax is in :mod:`.socketcmds`.

The modem's socket interface follows Telit's ``#SD`` family (connection ids 1..6, ``+SQNSS``
states as ``#SS``). Formats, from drivers written against Monarch modems (Verizon's ThingSpace SDK,
ST's X-CUBE-CELLULAR, TinyGSM) and a Pycom NB-IoT socket class: ``+SQNSRING: <connId>`` /
``+SQNSRING: <connId>,<recData>`` (one per arrival, the bytes that arrived) /
``+SQNSRING: <connId>,<recData>,<data>`` as ``AT+SQNSCFGEXT`` <srMode> 0/1/2, ``+SQNSH: <connId>``
when the peer closes, ``+SQNSRECV: <connId>,<n>`` then the data, hex with <recvDataMode> 1.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .at import CME, CONNECT, ERROR, NO_CARRIER, OK, frame, to_text, urc

TCP, UDP = 0, 1
# +SQNSS <state>
CLOSED, ACTIVE, SUSPENDED, SUSPENDED_DATA, LISTENING, INCOMING, OPENING = range(7)
CONN_IDS = range(1, 7)
MAX_SEND = 1500  # AT+SQNSSENDEXT <bytes>, AT+SQNSRECV <maxByte>
NOT_ALLOWED = 3  # +CME ERROR: 3, a command the socket's state refuses
CTRL_Z, ESC = 0x1A, 0x1B  # end and cancel AT+SQNSSEND's data


class SocketError(Exception):
    """A refused socket command: ``ERROR`` (a wrong argument) or ``+CME ERROR: <cme>``."""

    def __init__(self, cme: int | None = None) -> None:
        super().__init__(cme)
        self.cme = cme


@dataclass
class Config:
    """``AT+SQNSCFG``: PDP context, packet size, inactivity timeout (s), connect timeout and
    online-mode send delay (0.1 s)."""

    cid: int = 1
    packet_size: int = 300
    max_timeout: int = 90
    connect_timeout: int = 600
    tx_timeout: int = 50


@dataclass
class ExtConfig:
    """``AT+SQNSCFGEXT``: ring format (0 id, 1 id and length, 2 with the data), received data as
    text (0) or hex (1), keepalive, listen auto-answer, data to send as text (0) or hex (1)."""

    ring_mode: int = 0
    recv_hex: int = 0
    keepalive: int = 0
    listen_auto: int = 0
    send_hex: int = 0


@dataclass(frozen=True)
class Open:
    """Open ``conn_id`` to ``host:port`` (a name or address as the script wrote it)."""

    conn_id: int
    tcp: bool
    host: str
    port: int
    local_port: int
    timeout_s: float


@dataclass(frozen=True)
class Send:
    conn_id: int
    data: bytes


@dataclass(frozen=True)
class Close:
    conn_id: int


Action = Open | Send | Close


@dataclass
class Connection:
    """One connection id: its settings, state, what arrived and is not read, and the counters."""

    conn_id: int
    config: Config = field(default_factory=Config)
    ext: ExtConfig = field(default_factory=ExtConfig)
    state: int = CLOSED
    tcp: bool = False
    online: bool = False  # <connMode> 0: CONNECT and online data mode once open
    local_ip: str = ""
    local_port: int = 0
    remote_host: str = ""
    remote_port: int = 0
    rx: deque[bytes] = field(default_factory=deque)  # datagrams (UDP) or segments (TCP)
    sent: int = 0
    received: int = 0
    peer_closed: bool = False

    def pending(self) -> int:
        return sum(len(chunk) for chunk in self.rx)

    def is_open(self) -> bool:
        return self.state in (ACTIVE, SUSPENDED, SUSPENDED_DATA)

    def settle(self) -> None:
        """The command-mode state: data waiting or not; closed once the peer left and all is read."""
        if self.state in (SUSPENDED, SUSPENDED_DATA):
            self.state = SUSPENDED_DATA if self.rx else SUSPENDED
            if self.peer_closed and not self.rx:
                self.state = CLOSED


@dataclass
class _Sending:
    conn_id: int
    size: int  # bytes to collect (AT+SQNSSENDEXT), 0 for AT+SQNSSEND's Ctrl-Z
    hex: bool
    buffer: bytearray = field(default_factory=bytearray)


class SocketTable:
    """The six connections and the modem's data phases: a send's prompt, online data mode."""

    def __init__(self) -> None:
        self.conns = {conn_id: Connection(conn_id) for conn_id in CONN_IDS}
        self.online: int | None = None  # the connection the UART carries in online data mode
        self._dialing: int | None = None
        self._sending: _Sending | None = None
        self._actions: list[Action] = []
        self._output: list[str] = []

    def conn(self, conn_id: int) -> Connection:
        if conn_id not in self.conns:
            raise SocketError()
        return self.conns[conn_id]

    def open_conn(self, conn_id: int) -> Connection:
        """A connection that must be open (in command mode) for the command."""
        conn = self.conn(conn_id)
        conn.settle()
        if not conn.is_open():
            raise SocketError(NOT_ALLOWED)
        return conn

    # -- the modem's life ------------------------------------------------------------------------

    def reset(self) -> None:
        """A modem reboot: every connection closed (no URC), settings back to their defaults."""
        for conn_id in CONN_IDS:
            if self.conns[conn_id].state != CLOSED:
                self._actions.append(Close(conn_id))
            self.conns[conn_id] = Connection(conn_id)
        self.online = self._dialing = None
        self._sending = None
        self._output.clear()

    def network_lost(self) -> None:
        """The PDN is gone (radio off, detached): open connections close with ``+SQNSH``."""
        for conn in self.conns.values():
            if conn.state != CLOSED:
                self._drop(conn)
                self._output.append(urc(f"+SQNSH: {conn.conn_id}"))
        self._dialing = None

    def _drop(self, conn: Connection) -> None:
        self._actions.append(Close(conn.conn_id))
        conn.state = CLOSED
        conn.rx.clear()
        conn.peer_closed = False
        if self.online == conn.conn_id:
            self.online = None

    def any_open(self) -> bool:
        return any(conn.state != CLOSED for conn in self.conns.values())

    # -- commands --------------------------------------------------------------------------------

    def dial(
        self, conn_id: int, tcp: bool, host: str, port: int, local_port: int, online: bool, local_ip: str
    ) -> None:
        """``AT+SQNSD``: open ``conn_id``; the final result comes when the network answers."""
        conn = self.conn(conn_id)
        conn.settle()
        if conn.state != CLOSED:
            raise SocketError(NOT_ALLOWED)
        conn.state, conn.tcp, conn.online = OPENING, tcp, online
        conn.remote_host, conn.remote_port, conn.local_ip = host, port, local_ip
        conn.local_port, conn.sent, conn.received, conn.peer_closed = 0, 0, 0, False
        conn.rx.clear()
        self._dialing = conn_id
        timeout = conn.config.connect_timeout / 10
        self._actions.append(Open(conn_id, tcp, host, port, local_port if not tcp else 0, timeout))

    def start_send(self, conn_id: int, size: int) -> None:
        """``AT+SQNSSENDEXT`` (``size`` bytes) or ``AT+SQNSSEND`` (0: until Ctrl-Z): the prompt."""
        conn = self.open_conn(conn_id)
        if conn.peer_closed:
            raise SocketError(NOT_ALLOWED)
        self._sending = _Sending(conn_id, size, bool(conn.ext.send_hex))

    def collecting(self) -> bool:
        return self._sending is not None

    def feed(self, data: bytes) -> tuple[str | None, bytes]:
        """Bytes after the prompt: ``(None, b"")`` while more are due, else the send's result code
        and the bytes after the data (read as commands again)."""
        sending = self._sending
        assert sending is not None
        rest = b""
        if sending.size:
            need = sending.size * (2 if sending.hex else 1)
            take = need - len(sending.buffer)
            sending.buffer += data[:take]
            rest = data[take:]
            if len(sending.buffer) < need:
                return None, b""
        else:
            stops = [at for at in (data.find(bytes([CTRL_Z])), data.find(bytes([ESC]))) if at >= 0]
            if not stops:
                sending.buffer += data
                return None, b""
            end = min(stops)
            sending.buffer += data[:end]
            rest = data[end + 1 :]
            if data[end] == ESC:
                self._sending = None
                return OK, rest  # cancelled: nothing sent
        self._sending = None
        payload = bytes(sending.buffer)
        if sending.hex:
            try:
                payload = bytes.fromhex(payload.decode("ascii"))
            except ValueError:
                return ERROR, rest
        conn = self.conns[sending.conn_id]
        if not conn.is_open() or conn.peer_closed:
            return f"{CME}{NOT_ALLOWED}", rest
        self._actions.append(Send(conn.conn_id, payload))
        conn.sent += len(payload)
        return OK, rest

    def recv(self, conn_id: int, max_bytes: int) -> bytes:
        """``AT+SQNSRECV``: up to ``max_bytes`` of what arrived (one datagram at most on UDP)."""
        conn = self.conn(conn_id)
        conn.settle()
        if not conn.rx or conn.state in (CLOSED, OPENING):
            raise SocketError(NOT_ALLOWED)
        if conn.tcp:
            data = b"".join(conn.rx)
            conn.rx.clear()
        else:
            data = conn.rx.popleft()
        if len(data) > max_bytes:
            conn.rx.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        conn.settle()
        return data

    def close(self, conn_id: int) -> None:
        """``AT+SQNSH``: close ``conn_id`` (what it still held is lost)."""
        conn = self.conn(conn_id)
        conn.settle()
        if conn.state == CLOSED:
            raise SocketError(NOT_ALLOWED)
        self._drop(conn)

    def resume(self, conn_id: int) -> None:
        """``AT+SQNSO``: back to online data mode; what arrived meanwhile follows ``CONNECT``."""
        conn = self.open_conn(conn_id)
        conn.state = ACTIVE
        self.online = conn_id
        while conn.rx:
            self._output.append(to_text(conn.rx.popleft()))

    def write_online(self, data: bytes) -> None:
        """Bytes on the UART in online data mode: sent as they are."""
        assert self.online is not None
        conn = self.conns[self.online]
        self._actions.append(Send(conn.conn_id, data))
        conn.sent += len(data)

    def escape(self) -> None:
        """``+++`` in online data mode: command mode again, the connection stays open."""
        assert self.online is not None
        conn = self.conns[self.online]
        self.online = None
        conn.state = SUSPENDED
        conn.settle()

    # -- what the network did --------------------------------------------------------------------

    def opened(self, conn_id: int, local_port: int) -> None:
        conn = self.conns[conn_id]
        if conn.state != OPENING:
            return
        conn.local_port = local_port
        if self._dialing == conn_id:
            self._dialing = None
        if conn.online:
            conn.state = ACTIVE
            self.online = conn_id
            self._output.append(frame([], CONNECT))
        else:
            conn.state = SUSPENDED
            self._output.append(frame([], OK))

    def open_failed(self, conn_id: int) -> None:
        conn = self.conns[conn_id]
        if conn.state != OPENING:
            return
        conn.state = CLOSED
        if self._dialing == conn_id:
            self._dialing = None
        self._output.append(frame([], NO_CARRIER))

    def received(self, conn_id: int, data: bytes) -> None:
        """Data from the network: online, straight on the UART; else buffered, with a ring."""
        conn = self.conns[conn_id]
        if not conn.is_open() or not data:
            return
        conn.received += len(data)
        if self.online == conn_id:
            self._output.append(to_text(data))
            return
        ring = f"+SQNSRING: {conn_id}"
        if conn.ext.ring_mode == 0:
            conn.rx.append(data)
        elif conn.ext.ring_mode == 1:
            conn.rx.append(data)
            ring += f",{len(data)}"
        else:  # the data in the ring itself
            shown = data.hex().upper() if conn.ext.recv_hex else to_text(data)
            ring += f",{len(data)},{shown}"
        conn.settle()
        self._output.append(urc(ring))

    def remote_closed(self, conn_id: int) -> None:
        """The peer closed (TCP): ``+SQNSH``, or ``NO CARRIER`` in online data mode."""
        conn = self.conns[conn_id]
        if not conn.is_open():
            return
        self._actions.append(Close(conn_id))
        if self.online == conn_id:
            self.online = None
            conn.state = CLOSED
            conn.rx.clear()
            self._output.append(frame([], NO_CARRIER))
            return
        conn.peer_closed = True
        conn.settle()
        self._output.append(urc(f"+SQNSH: {conn_id}"))

    # -- for the modem's network side ------------------------------------------------------------

    def take_actions(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions

    def take_output(self) -> str:
        output = "".join(self._output)
        self._output.clear()
        return output
