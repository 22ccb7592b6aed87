"""Binding a board's socket to its address, with an error that says what to do when it is taken.

Internal to the emulator. On the board, a bound port in use is lwIP's ``EADDRINUSE``: ``usocket``'s
``bind()`` raises ``OSError(EADDRINUSE)`` (``esp32/mods/lwipsocket.c``, firmware 1.20.2.r6), and
``Coap.init()`` cannot create its context. On a PC it happens when two boards share one address (the
same ``--ip``) or another process holds the port: the simulator raises the same ``OSError`` (errno
``EADDRINUSE``, the errno ``uerrno`` has), its text naming the address and port, and prints one
``firmware-sim:`` line on stderr with the fix.
"""

from __future__ import annotations

import errno
import socket
import sys

from .host import ENV_IP


def in_use_error(address: tuple[str, int], kind: int = socket.SOCK_DGRAM) -> OSError:
    """The ``OSError(EADDRINUSE, ...)`` for ``address``, after printing the ``firmware-sim:`` line."""
    ip, port = address[0], address[1]
    proto = "TCP" if kind == socket.SOCK_STREAM else "UDP"
    print(
        f"firmware-sim: {proto} {ip}:{port} is already in use (another board on the same address, or "
        f"another process): give each board its own address (firmware-sim run --ip, or {ENV_IP} for "
        "plain python) or stop the other process",
        file=sys.stderr,
        flush=True,
    )
    return OSError(errno.EADDRINUSE, f"EADDRINUSE: {proto} {ip}:{port} is already in use")


def bind(sock: socket.socket, address: tuple[str, int]) -> None:
    """``sock.bind(address)``; an address in use raises :func:`in_use_error`'s ``OSError``."""
    try:
        sock.bind(address)
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        raise in_use_error(address, sock.type) from None
