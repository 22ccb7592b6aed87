"""A CoAP load generator over raw UDP sockets: CON GET /bench (or ``--path``) with K requests in flight.

    python bench/loadgen.py --target 127.0.0.3 --source 127.0.0.4 --inflight 32 --seconds 5

Every request is pre-encoded (only the 2-byte message id differs) and sent from one of a few sockets
bound to ``--source``; an ACK is matched to its request by (socket, message id). Each message id is
used once per socket and each socket is kept open until the process ends, so no (source address,
port, message id) is ever sent twice: the server's RFC 7252 de-duplication never answers from its
cache. A socket whose 65536 ids are used up is replaced by a new one. A request unanswered after
``--timeout`` seconds counts as lost and is replaced by a new one, so K stay in flight.

Runs a warm-up phase (its own sockets), then the measured phase; prints one JSON line:
``{"completed", "seconds", "rate", "lost", "bad", "sockets"}``. Bounded by ``--seconds`` and
``--max-requests``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import selectors
import socket
import sys
import time

_ID_SPACE = 0x10000
_TOKEN = b"\xbe\x9c"
_ACK_CONTENT = 0x45  # 2.05


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and ip.is_loopback


def _uri_path(path: str) -> bytes:
    """Uri-Path options (11) for ``path``'s segments, each shorter than 13 bytes."""
    out, number = b"", 0
    for segment in path.strip("/").split("/"):
        data = segment.encode()
        if not 0 < len(data) < 13:
            raise ValueError(f"--path {path}: each segment must be 1-12 bytes")
        out += bytes(((11 - number) << 4 | len(data),)) + data
        number = 11
    return out


def _requests(path: str) -> list[bytes]:
    """The CON GET ``path`` datagram for each message id (type CON, token length 2)."""
    head = 0x40 | len(_TOKEN)
    options = _uri_path(path)
    return [bytes((head, 1, mid >> 8, mid & 0xFF)) + _TOKEN + options for mid in range(_ID_SPACE)]


class _Slot:
    """One socket: the ids sent so far, the send times of those in flight, and the socket that took
    over once its ids were used up (this one stays open for the answers still due)."""

    __slots__ = ("sock", "next_id", "pending", "successor")

    def __init__(self, source: str, target: tuple[str, int]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.connect(target)
        self.sock.setblocking(False)
        self.next_id = 0
        self.pending: dict[int, float] = {}
        self.successor: _Slot | None = None


class LoadGenerator:
    """Keeps ``inflight`` requests outstanding over ``sockets`` sockets and counts the answers."""

    def __init__(
        self, source: str, target: tuple[str, int], inflight: int, sockets: int, path: str = "bench"
    ) -> None:
        self.source = source
        self.target = target
        self.inflight = inflight
        self.per_socket = max(1, -(-inflight // max(1, sockets)))  # requests in flight per socket
        self.n_sockets = -(-inflight // self.per_socket)
        self.requests = _requests(path)
        self.opened: list[_Slot] = []  # every socket ever opened: kept open so ports are never reused

    def _new_slot(self) -> _Slot:
        slot = _Slot(self.source, self.target)
        self.opened.append(slot)
        return slot

    def run(self, seconds: float, max_requests: int, timeout: float) -> dict[str, float]:
        """One phase on fresh sockets: returns completed, seconds, rate, lost, bad."""
        selector = selectors.DefaultSelector()
        slots = [self._new_slot() for _ in range(self.n_sockets)]
        requests = self.requests
        completed = lost = bad = sent = outstanding = 0

        def send(slot: _Slot, now: float) -> None:
            nonlocal sent, outstanding
            while slot.successor is not None:
                slot = slot.successor
            if slot.next_id >= _ID_SPACE:  # ids used up: continue on a new socket
                slot.successor = slot = self._new_slot()
                slots.append(slot)
                selector.register(slot.sock, selectors.EVENT_READ, slot)
            mid = slot.next_id
            slot.next_id = mid + 1
            slot.pending[mid] = now
            sent += 1
            outstanding += 1
            try:
                slot.sock.send(requests[mid])
            except OSError:
                pass  # counted as lost after the timeout

        start = time.monotonic()
        end = start + seconds
        for slot in slots:
            selector.register(slot.sock, selectors.EVENT_READ, slot)
        for i in range(self.inflight):
            send(slots[i % len(slots)], start)
        select = selector.select
        next_check = start + timeout / 4
        now = start
        while now < end and (sent < max_requests or outstanding):  # at the bound: wait for the last ones
            ready = select(min(end - now, 0.05))
            now = time.monotonic()
            for key, _ in ready:
                slot = key.data
                recv = slot.sock.recv
                pending = slot.pending
                while True:
                    try:
                        data = recv(2048)
                    except BlockingIOError:
                        break
                    except OSError:
                        continue  # an ICMP error reported on the connected socket
                    if len(data) < 4:
                        continue
                    if pending.pop((data[2] << 8) | data[3], None) is None:
                        continue  # not ours, or a late answer to a request already counted lost
                    outstanding -= 1
                    if data[0] & 0x30 == 0x20 and data[1] == _ACK_CONTENT:
                        completed += 1
                    else:
                        bad += 1
                    if sent < max_requests:
                        send(slot, now)
            if now >= next_check:
                next_check = now + timeout / 4
                for slot in list(slots):  # the ones retired too
                    for mid in [m for m, t in slot.pending.items() if now - t > timeout]:
                        del slot.pending[mid]
                        lost += 1
                        outstanding -= 1
                        if sent < max_requests:
                            send(slot, now)
        elapsed = time.monotonic() - start
        selector.close()
        return {
            "completed": completed,
            "seconds": elapsed,
            "rate": completed / elapsed if elapsed > 0 else 0.0,
            "lost": lost,
            "bad": bad,
        }

    def close(self) -> None:
        for slot in self.opened:
            slot.sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="server address (loopback)")
    parser.add_argument("--port", type=int, default=5683)
    parser.add_argument("--source", required=True, help="loopback address to send from")
    parser.add_argument("--inflight", type=int, default=1)
    parser.add_argument("--sockets", type=int, default=8, help="spread the requests over this many sockets")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=5_000_000, help="per phase")
    parser.add_argument("--timeout", type=float, default=2.0, help="a request is lost after this")
    parser.add_argument("--path", default="bench", help="the resource to GET (default bench)")
    args = parser.parse_args(argv)
    for address in (args.target, args.source):
        if not _is_loopback(address):
            parser.error(f"{address}: an IPv4 loopback address (127.0.0.0/8) is required")
    gen = LoadGenerator(args.source, (args.target, args.port), args.inflight, args.sockets, args.path)
    try:
        if args.warmup > 0:
            gen.run(args.warmup, args.max_requests, args.timeout)
        result = gen.run(args.seconds, args.max_requests, args.timeout)
        result["sockets"] = len(gen.opened)
    except KeyboardInterrupt:
        return 130
    finally:
        gen.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
