"""``usocket`` / ``socket`` on the board: real sockets, bound to the board's address, sent through the
simulator's address map (only loopback is ever reached; an unmapped outside address is refused).
``socket(AF_LORA, SOCK_RAW)`` is a LoRa socket (``network/lora/socket.py``, as modlora.c's
``lora_socket_*``); the LoRa names are on every board kind (the firmware has them on the LoPy, LoPy4 and
FiPy only, where ``network.LoRa`` exists: elsewhere such a socket finds no network card)."""

from __future__ import annotations

import socket as _host

from network import binding
from network import host as sim_host

from ..runtime.buffers import as_buffer

# the board's names: all a script sees
__all__ = [
    "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "IPPROTO_IP", "IPPROTO_TCP",
    "IPPROTO_UDP", "SOL_SOCKET", "SO_REUSEADDR", "IP_ADD_MEMBERSHIP", "error", "timeout", "getaddrinfo",
    "socket", "AF_LORA", "SOL_LORA", "SO_CONFIRMED", "SO_DR", "AF_SIGFOX", "SOL_SIGFOX", "SO_RX",
    "SO_TX_REPEAT", "SO_OOB", "SO_BIT",
]  # fmt: skip

AF_INET, AF_INET6 = 2, 10
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP = 0, 6, 17
SOL_SOCKET, SO_REUSEADDR = 0xFFF, 4
IP_ADD_MEMBERSHIP = 3
AF_LORA, SOL_LORA, SO_CONFIRMED, SO_DR = 0xA0, 0xFFF05, 0xF0002, 0xF0003  # modusocket.h
AF_SIGFOX, SOL_SIGFOX, SO_RX, SO_TX_REPEAT, SO_OOB, SO_BIT = 0xA1, 0xFFF06, 0xF0004, 0xF0005, 0xF0006, 0xF0007
error = OSError
timeout = TimeoutError

_OPTIONS = {(SOL_SOCKET, SO_REUSEADDR): (_host.SOL_SOCKET, _host.SO_REUSEADDR)}


def _bind_host(host: str) -> str:
    return sim_host.own_address() if host in ("", "0.0.0.0") else sim_host.route(host)


def _peer(address: tuple) -> tuple[str, int]:
    host, port = address[0], address[1]
    return sim_host.route(host), int(port)


def getaddrinfo(host: str, port: int, af: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> list:
    """Dotted addresses as they are; ``localhost``; names only when the map names them (no DNS)."""
    try:
        _host.inet_aton(host)
        address = host  # as the script wrote it: the map applies when the socket sends
    except OSError:
        if host == "localhost":
            address = "127.0.0.1"
        elif sim_host.lookup(host) is not None:
            address = sim_host.lookup(host)
        else:
            raise OSError(-202) from None  # no DNS on a simulated board: map the name with --map
    kind = type or SOCK_STREAM
    proto = proto or (IPPROTO_UDP if kind == SOCK_DGRAM else IPPROTO_TCP)
    return [(AF_INET, kind, proto, "", (address, port))]


class socket:  # noqa: N801  (board API)
    def __new__(cls, *args, **kwargs):
        """``socket_make_new``: ``AF_LORA`` makes a raw LoRa socket (type ``SOCK_RAW``, the default)."""
        if args and not kwargs and len(args) <= 4 and args[0] == AF_LORA:
            if len(args) > 1 and args[1] != SOCK_RAW:
                raise OSError("incorrect socket type")
            from network.lora.socket import LoRaSocket

            return LoRaSocket()
        if args and not kwargs and len(args) <= 4 and args[0] == AF_SIGFOX:
            from network.sigfox import open_socket

            return open_socket(*args[1:2])
        return super().__new__(cls)

    def __init__(self, af: int = AF_INET, type: int = SOCK_STREAM, proto: int = 0, *, _wrap=None) -> None:
        self._bound = _wrap is not None
        if _wrap is not None:
            self._s = _wrap
            return
        if af != AF_INET:
            raise OSError(97)  # EAFNOSUPPORT
        self._s = _host.socket(_host.AF_INET, _host.SOCK_DGRAM if type == SOCK_DGRAM else _host.SOCK_STREAM)

    def __repr__(self) -> str:
        return f"<socket type={self._s.type}>"

    def fileno(self) -> int:
        return self._s.fileno()

    def _own_source(self) -> None:
        """An unbound socket sends from the board's own address, as the board's only interface."""
        if not self._bound:
            self._s.bind((sim_host.own_address(), 0))
            self._bound = True

    def bind(self, address: tuple) -> None:
        """Bind on the board's address; one in use raises ``OSError(EADDRINUSE)`` as lwIP's bind does,
        its text and a ``firmware-sim:`` line on stderr naming the address and port."""
        binding.bind(self._s, (_bind_host(address[0]), int(address[1])))
        self._bound = True

    def connect(self, address: tuple) -> None:
        peer = _peer(address)
        self._own_source()
        self._s.connect(peer)

    def listen(self, backlog: int = 1) -> None:
        self._s.listen(backlog)

    def accept(self):
        conn, (host, port) = self._s.accept()
        return socket(_wrap=conn), (sim_host.unroute(host), port)

    def send(self, data: bytes | str) -> int:
        """Send a buffer; a ``str`` is one (its UTF-8 bytes), as MicroPython's buffer protocol has it."""
        return self._s.send(as_buffer(data))

    def write(self, data: bytes | str, length: int | None = None) -> int:
        """The stream's ``write(buf[, max_len])`` (py/stream.c): at most ``length`` bytes of ``buf``."""
        buffer = as_buffer(data)
        if length is not None:
            buffer = memoryview(buffer)[: max(int(length), 0)]
        return self._s.send(buffer)

    def sendall(self, data: bytes | str) -> None:
        self._s.sendall(as_buffer(data))

    def sendto(self, data: bytes | str, address: tuple) -> int:
        peer = _peer(address)
        self._own_source()
        return self._s.sendto(as_buffer(data), peer)

    def recv(self, size: int) -> bytes:
        return self._s.recv(size)

    def recvfrom(self, size: int):
        data, (host, port) = self._s.recvfrom(size)
        return data, (sim_host.unroute(host), port)

    def read(self, size: int | None = None) -> bytes:
        if size is not None:
            return self._s.recv(size)
        chunks = []
        while chunk := self._s.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)

    def readinto(self, buf, size: int | None = None) -> int:
        return self._s.recv_into(buf, size or 0)

    def readline(self) -> bytes:
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self._s.recv(1)
            if not byte:
                break
            line += byte
        return bytes(line)

    def makefile(self, mode: str = "rb", buffering: int = 0):
        return self

    def settimeout(self, value: float | None) -> None:
        self._s.settimeout(None if value is None else value / sim_host.time_scale())

    def setblocking(self, flag: bool) -> None:
        self._s.setblocking(flag)

    def setsockopt(self, level: int, option: int, value) -> None:
        host_level, host_option = _OPTIONS.get((level, option), (level, option))
        self._s.setsockopt(host_level, host_option, value)

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
