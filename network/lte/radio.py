"""The modem's network side: the real sockets behind its connections (:mod:`.sockets`), on loopback.

:class:`Radio` performs the actions of the modem's socket table with real UDP and TCP sockets and
feeds back what the network did. A socket is bound to the board's own address
(``network.host.own_address()``, the modem's ``AT+CGPADDR`` address); the remote host a script
dials (an address or a name) goes through the address map (``network.host.route``), so nothing
leaves 127.0.0.0/8. A host the map does not cover fails the dial (``NO CARRIER``) with a
``firmware-sim:`` line on stderr saying how to map it. Waits are on the host's clock, converted from
board time with ``network.host.host_seconds``.
"""

from __future__ import annotations

import selectors
import socket
import sys
import time

from .. import host
from .sockets import Close, Open, Send, SocketTable

# what ends lteppp's reading of an answer (lteppp_wait_at_rsp, esp32/lte/lteppp.c)
FINAL = ("\r\nOK\r\n", "\r\nERROR\r\n", "+SYSSTART", "\r\nCONNECT\r\n")
QUIET_S = 1.0  # lteppp keeps reading until the UART was quiet this long (10 x 100 ms)


class Radio:
    """The sockets of the modem's six connections, and waiting for what they receive."""

    def __init__(self) -> None:
        self._socks: dict[int, socket.socket] = {}
        self._tcp: set[int] = set()
        self._selector = selectors.DefaultSelector()

    def active(self) -> bool:
        """True while a connection has a socket (something may still arrive)."""
        return bool(self._socks)

    def perform(self, table: SocketTable) -> None:
        """Do what the table asks (open, send, close) and tell it how the opens went."""
        for action in table.take_actions():
            if isinstance(action, Open):
                self._open(table, action)
            elif isinstance(action, Send):
                self._send(table, action)
            elif isinstance(action, Close):
                self._close(action.conn_id)

    def _open(self, table: SocketTable, action: Open) -> None:
        self._close(action.conn_id)
        try:
            remote = host.route(action.host)
        except OSError as err:
            print(err, file=sys.stderr, flush=True)
            table.open_failed(action.conn_id)
            return
        ipv6 = ":" in remote
        family = socket.AF_INET6 if ipv6 else socket.AF_INET
        kind = socket.SOCK_STREAM if action.tcp else socket.SOCK_DGRAM
        sock = socket.socket(family, kind)
        try:
            sock.bind(("::1" if ipv6 else host.own_address(), action.local_port))
            sock.settimeout(host.host_seconds(action.timeout_s))
            sock.connect((remote, action.port))
        except OSError:
            sock.close()
            table.open_failed(action.conn_id)
            return
        sock.setblocking(False)
        self._socks[action.conn_id] = sock
        if action.tcp:
            self._tcp.add(action.conn_id)
        self._selector.register(sock, selectors.EVENT_READ, action.conn_id)
        table.opened(action.conn_id, sock.getsockname()[1])

    def _send(self, table: SocketTable, action: Send) -> None:
        sock = self._socks.get(action.conn_id)
        if sock is None:
            return
        try:
            if action.conn_id in self._tcp:
                sock.setblocking(True)
                sock.sendall(action.data)
                sock.setblocking(False)
            else:
                sock.send(action.data)
        except OSError:
            if action.conn_id in self._tcp:
                self._close(action.conn_id)
                table.remote_closed(action.conn_id)

    def _close(self, conn_id: int) -> None:
        sock = self._socks.pop(conn_id, None)
        self._tcp.discard(conn_id)
        if sock is not None:
            self._selector.unregister(sock)
            sock.close()

    def close_all(self) -> None:
        for conn_id in list(self._socks):
            self._close(conn_id)

    def poll(self, table: SocketTable, timeout_s: float) -> None:
        """Hand the table what arrived, waiting up to ``timeout_s`` host seconds for something."""
        if not self._socks:
            return
        for key, _ in self._selector.select(max(timeout_s, 0.0)):
            conn_id = key.data
            sock = self._socks[conn_id]
            tcp = conn_id in self._tcp
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:  # UDP: an ICMP error of an earlier datagram; TCP: reset
                if not tcp:
                    continue
                data = b""
            if tcp and not data:
                self._close(conn_id)
                table.remote_closed(conn_id)
            else:
                table.received(conn_id, data)

    def wait(self, table: SocketTable, timeout_s: float) -> str:
        """What the modem writes within ``timeout_s`` host seconds, as lteppp collects an answer
        that has not started: the first bytes, then more until the UART is quiet for a second of
        board time or a final result code came."""
        deadline = time.monotonic() + timeout_s
        out = ""
        while not out and self._socks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return ""
            self.poll(table, remaining)
            self.perform(table)
            out = table.take_output()
        while out and self._socks and not any(code in out for code in FINAL):
            self.poll(table, host.host_seconds(QUIET_S))
            self.perform(table)
            more = table.take_output()
            if not more:
                break
            out += more
        return out
