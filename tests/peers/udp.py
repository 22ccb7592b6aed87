"""Plain-UDP stand-ins for tests that need a peer faster and simpler than a real CoAP stack.

``DatagramServer`` is a socket served by a thread until ``stop()``: ``handle(data, source)`` gets each
datagram. ``DatagramEcho`` sends every datagram back and records it. ``EchoServer`` answers every CON
request with a piggy-backed ACK 2.05 whose payload is ``echo:`` plus the request's token, and records
what it got. ``Hammer`` GETs one path from a server as fast as it is answered, recording the payloads and
anything unexpected, in a thread until ``stop()``.
"""

from __future__ import annotations

import socket
import threading
import time

from network.coap.protocol.codec import Message, ParseError, decode, encode

CON, ACK = 0, 2


class DatagramServer:
    """A UDP socket on ``(ip, port)`` whose datagrams a thread hands to :meth:`handle`."""

    def __init__(self, ip: str, port: int = 5683) -> None:
        self.ip = ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((ip, port))
        self.sock.settimeout(0.05)
        self.address: tuple[str, int] = self.sock.getsockname()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.handle(data, source)

    def handle(self, data: bytes, source: tuple[str, int]) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


class DatagramEcho(DatagramServer):
    """Every datagram back to its sender; ``received``: what came, in order."""

    def __init__(self, ip: str, port: int = 5683) -> None:
        self.received: list[bytes] = []
        super().__init__(ip, port)

    def handle(self, data: bytes, source: tuple[str, int]) -> None:
        self.received.append(data)
        self.sock.sendto(data, source)


class EchoServer(DatagramServer):
    def __init__(self, ip: str) -> None:
        self.requests: list[Message] = []
        self.sources: set[tuple[str, int]] = set()
        super().__init__(ip)

    def handle(self, data: bytes, source: tuple[str, int]) -> None:
        try:
            msg = decode(data)
        except ParseError:
            return
        if msg.mtype != CON or not 1 <= msg.code <= 31:
            return
        self.requests.append(msg)
        self.sources.add(source)
        reply = Message(ACK, 69, msg.mid, msg.token, [], b"echo:" + msg.token)
        self.sock.sendto(encode(reply), source)


class Hammer:
    def __init__(self, server_ip: str, path: bytes, token: bytes = b"h", pause: float = 0.0) -> None:
        self.server = (server_ip, 5683)
        self.path = path
        self.token = token
        self.pause = pause
        self.payloads: list[bytes] = []
        self.problems: list[object] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2.0)
            mid = 0
            while not self._stop.is_set():
                mid = (mid + 1) & 0xFFFF
                sock.sendto(encode(Message(CON, 1, mid, self.token, [(11, self.path)])), self.server)
                try:
                    reply = decode(sock.recv(2048))
                except (TimeoutError, ParseError) as err:
                    self.problems.append(err)
                    continue
                if (reply.mtype, reply.code, reply.mid, reply.token) != (ACK, 69, mid, self.token):
                    self.problems.append(reply)
                else:
                    self.payloads.append(reply.payload)
                if self.pause:
                    time.sleep(self.pause)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
