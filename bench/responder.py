"""A minimal, stateless CoAP responder on raw UDP: every CON request gets ACK 2.05 with a payload.

    python bench/responder.py --ip 127.0.0.5 [--port 5683] [--payload bench-value]

The answer echoes the request's message id and token, nothing else is parsed: it is the "fast
peer" the client benchmark runs against, so the figures measure the clients, not the server.
Prints ``ready`` once bound; runs until terminated (or ``--max-seconds``).
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import time


def serve(ip: str, port: int, payload: bytes, max_seconds: float) -> None:
    """Answer until ``max_seconds`` have passed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((ip, port))
    sock.settimeout(0.5)
    print("ready", flush=True)
    tail = b"\xff" + payload
    recvfrom = sock.recvfrom
    sendto = sock.sendto
    end = time.monotonic() + max_seconds
    count = 0
    while True:
        try:
            data, peer = recvfrom(2048)
        except TimeoutError:
            if time.monotonic() > end:
                return
            continue
        except OSError:
            continue
        count += 1
        if count & 0xFFF == 0 and time.monotonic() > end:
            return
        if len(data) < 4 or data[0] & 0xF0 != 0x40 or not 1 <= data[1] <= 31:
            continue  # only CON requests are answered
        tkl = data[0] & 0x0F
        if tkl > 8:
            continue
        head = bytes((0x60 | tkl, 0x45)) + data[2 : 4 + tkl]
        try:
            sendto(head + tail, peer)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ip", required=True)
    parser.add_argument("--port", type=int, default=5683)
    parser.add_argument("--payload", default="bench-value")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    try:
        loopback = ipaddress.ip_address(args.ip).version == 4 and ipaddress.ip_address(args.ip).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        parser.error(f"{args.ip}: an IPv4 loopback address (127.0.0.0/8) is required")
    try:
        serve(args.ip, args.port, args.payload.encode(), args.max_seconds)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
