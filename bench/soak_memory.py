"""Memory soak of a ``network.Coap`` server process: N clients hammer GET and PUT with 1-60 KB values.

    python bench/soak_memory.py                                   # 200 clients, 10 minutes
    python bench/soak_memory.py --clients 50 --minutes 1 --json soak.json

The server is a plain Pycom-style script (``bench/scripts/pycom_soak_server.py``) in its own process on
its own 127.x.y.z, with ``--resources`` resources (GET and PUT enabled) and a ``Coap.read()`` loop.
This process runs the clients: ``--clients`` UDP sockets, each on its own loopback address and port,
each with one CON request at a time (NSTART 1), half GET and half PUT of a random resource, a PUT
carrying a value of ``--min-size`` to ``--max-size`` bytes. A request unanswered after ``--timeout``
seconds is sent again with the same message id (the timeout doubles, at most 4 times, as RFC 7252
§4.2 with a short ACK_TIMEOUT), so the server's de-duplication is exercised too; then it counts as
lost and the client goes on. Every ``--sample`` seconds the server's RSS is read from
/proc/PID/status (VmRSS).

Reported: requests completed (GET, PUT), retransmissions, lost, the RSS samples, the maximum, the RSS
at 5 minutes and at the end, the least-squares slope over the last half of the run in MB/min and the
last half's range, and the target: RSS under ``--max-rss`` MB (64 by default) and flat over the last
half (the slope within +-``--flat`` MB/min, 0.2 by default: under 1 MB in 5 minutes). The last line
printed is the JSON summary; exit status 0 when the target was met. Stops by itself after ``--minutes``;
Linux (it reads /proc), loopback only.
"""

from __future__ import annotations

import argparse
import json
import random
import selectors
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from coap_throughput import Addresses, Processes, stop_on_sigterm, wait_ready  # noqa: E402
from procstat import rss_mb, slope_per_minute, udp_receive_drops  # noqa: E402

from network.coap.protocol.codec import Message, ParseError, decode, encode  # noqa: E402

PORT = 5683
CON, ACK = 0, 2
GET, PUT = 1, 3
CONTENT, CHANGED = 69, 68
MAX_RETRANSMIT = 4


@dataclass
class Client:
    """One client: a socket, its next message id, and the request in flight."""

    sock: socket.socket
    mid: int
    request: bytes = b""
    method: int = GET
    deadline: float = 0.0
    timeout: float = 0.0
    attempts: int = 0


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.values = self.rng.randbytes(args.max_size)
        self.procs = Processes()
        self.addrs = Addresses()
        self.ip = self.addrs.take()
        self.target = (self.ip, PORT)
        self.clients: list[Client] = []
        self.done = {GET: 0, PUT: 0}
        self.bad = self.lost = self.retransmissions = 0
        self.rss: list[tuple[float, float]] = []

    def _next(self, client: Client, now: float) -> None:
        """Send the client's next request."""
        rng = self.rng
        client.mid = (client.mid + 1) & 0xFFFF
        path = [(11, b"v%d" % rng.randrange(self.args.resources))]
        if rng.random() < 0.5:
            client.method = GET
            client.request = encode(Message(CON, GET, client.mid, b"g", path))
        else:
            client.method = PUT
            size = rng.randint(self.args.min_size, self.args.max_size)
            start = rng.randrange(self.args.max_size - size + 1)
            payload = self.values[start : start + size]
            client.request = encode(Message(CON, PUT, client.mid, b"p", [*path, (12, b"\x2a")], payload))
        client.attempts = 0
        client.timeout = self.args.timeout * rng.uniform(1.0, 1.5)
        client.deadline = now + client.timeout
        self._send(client)

    def _send(self, client: Client) -> None:
        try:
            client.sock.send(client.request)
        except OSError:
            pass  # a full buffer: the retransmission will try again

    def _receive(self, client: Client, now: float) -> None:
        for _ in range(8):
            try:
                data = client.sock.recv(70000)
            except BlockingIOError:
                return
            except OSError:
                continue
            try:
                reply = decode(data)
            except ParseError:
                self.bad += 1
                continue
            if reply.mid != client.mid or reply.mtype != ACK:
                continue  # a late answer to an earlier attempt
            ok = CONTENT if client.method == GET else CHANGED
            if reply.code == ok:
                self.done[client.method] += 1
            else:
                self.bad += 1
            self._next(client, now)
            return

    def _timeouts(self, now: float) -> None:
        for client in self.clients:
            if client.deadline > now:
                continue
            if client.attempts >= MAX_RETRANSMIT:
                self.lost += 1
                self._next(client, now)
                continue
            client.attempts += 1
            client.timeout *= 2
            client.deadline = now + client.timeout
            self.retransmissions += 1
            self._send(client)

    def go(self) -> dict[str, object]:
        args = self.args
        seconds = args.minutes * 60.0
        script = BENCH / "scripts" / "pycom_soak_server.py"
        server = self.procs.start([str(script), self.ip, str(args.resources), str(seconds + 120)])
        wait_ready(self.procs, server, "the soaked server")
        drops_before = udp_receive_drops()
        sel = selectors.DefaultSelector()
        for n in range(args.clients):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.addrs.take() if n % 10 == 0 else "127.0.0.1", 0))
            sock.connect(self.target)
            sock.setblocking(False)
            client = Client(sock, self.rng.randrange(0x10000))
            self.clients.append(client)
            sel.register(sock, selectors.EVENT_READ, client)
        started = time.monotonic()
        end = started + seconds
        first = rss_mb(server.pid)
        if first is not None:
            self.rss.append((0.0, first))
        next_sample = started + args.sample
        next_report = started + 30.0
        next_timeouts = started
        for client in self.clients:
            self._next(client, started)
        try:
            while (now := time.monotonic()) < end:
                for key, _ in sel.select(0.05):
                    self._receive(key.data, now)
                if now >= next_timeouts:
                    self._timeouts(now)
                    next_timeouts = now + 0.05
                if now >= next_sample:
                    if server.poll() is not None:
                        raise RuntimeError(f"the server ended: {self.procs.stderr(server)}")
                    mb = rss_mb(server.pid)
                    if mb is not None:
                        self.rss.append((now - started, mb))
                    next_sample += args.sample
                if now >= next_report:
                    rate = (self.done[GET] + self.done[PUT]) / (now - started)
                    print(
                        f"  {(now - started) / 60:4.1f} min: server RSS {self.rss[-1][1]:.1f} MB, "
                        f"{rate:.0f} req/s, {self.lost} lost",
                        flush=True,
                    )
                    next_report += 30.0
        finally:
            sel.close()
            for client in self.clients:
                client.sock.close()
            self.procs.stop_all()
        drops_after = udp_receive_drops()
        return self._summary(seconds, drops_before, drops_after)

    def _summary(
        self, seconds: float, drops_before: int | None, drops_after: int | None
    ) -> dict[str, object]:
        args = self.args
        rss = [v for _, v in self.rss]
        half = [(t, v) for t, v in self.rss if t >= seconds / 2]
        slope = slope_per_minute(half)
        spread = max(v for _, v in half) - min(v for _, v in half) if half else 0.0

        def at(t: float) -> float | None:
            near = [v for s, v in self.rss if abs(s - t) <= args.sample]
            return round(near[-1], 1) if near else None

        completed = self.done[GET] + self.done[PUT]
        flat = abs(slope) <= args.flat
        return {
            "clients": args.clients,
            "resources": args.resources,
            "minutes": args.minutes,
            "sizes": [args.min_size, args.max_size],
            "completed": completed,
            "gets": self.done[GET],
            "puts": self.done[PUT],
            "rate": round(completed / seconds),
            "retransmissions": self.retransmissions,
            "lost": self.lost,
            "bad_replies": self.bad,
            "rss_start_mb": round(rss[0], 1) if rss else None,
            "rss_max_mb": round(max(rss), 1) if rss else None,
            "rss_at_5_min_mb": at(300.0),
            "rss_end_mb": round(rss[-1], 1) if rss else None,
            "slope_last_half_mb_per_min": round(slope, 3),
            "range_last_half_mb": round(spread, 1),
            "target_max_rss_mb": args.max_rss,
            "target_met": bool(rss) and max(rss) < args.max_rss and flat,
            "kernel_udp_drops": None
            if drops_before is None or drops_after is None
            else drops_after - drops_before,
            "samples": [(round(t, 1), round(v, 2)) for t, v in self.rss],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="clients (default 200)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    parser.add_argument("--resources", type=int, default=200, help="resources on the server (default 200)")
    parser.add_argument("--min-size", type=int, default=1000, help="smallest PUT value (default 1000)")
    parser.add_argument("--max-size", type=int, default=60000, help="largest PUT value (default 60000)")
    parser.add_argument("--timeout", type=float, default=0.5, help="first retransmission timeout (0.5 s)")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples (default 5)")
    parser.add_argument("--max-rss", type=float, default=64.0, help="target: RSS under this (MB, 64)")
    parser.add_argument("--flat", type=float, default=0.2, help="target: |slope| at most this (MB/min)")
    parser.add_argument("--seed", type=int, default=8, help="random seed (default 8)")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    args = parser.parse_args(argv)
    if not (
        1 <= args.clients <= 5000
        and 0 < args.minutes <= 24 * 60
        and 1 <= args.resources <= 10000
        and 1 <= args.min_size <= args.max_size <= 65000
        and 0.01 <= args.timeout <= 10
        and 0.5 <= args.sample <= 60
    ):
        parser.error("check the ranges: 1-5000 clients, 1-65000 bytes, 0.5-60 s samples ...")
    stop_on_sigterm()
    soak = Soak(args)
    print(
        f"soak: {args.clients} clients, GET and PUT of {args.min_size}-{args.max_size} bytes on "
        f"{args.resources} resources at {soak.ip}:{PORT} for {args.minutes:g} min",
        flush=True,
    )
    try:
        summary = soak.go()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"{summary['completed']} requests ({summary['rate']}/s, {summary['lost']} lost, "
        f"{summary['retransmissions']} retransmissions); server RSS: {summary['rss_start_mb']} MB at start, "
        f"max {summary['rss_max_mb']} MB, {summary['rss_at_5_min_mb']} MB at 5 min, "
        f"{summary['rss_end_mb']} MB at the end, slope over the last half "
        f"{summary['slope_last_half_mb_per_min']} MB/min (range {summary['range_last_half_mb']} MB); "
        f"target {'met' if summary['target_met'] else 'NOT met'}",
        flush=True,
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    return 0 if summary["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
