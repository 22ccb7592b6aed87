"""Fuzz a ``network.Coap`` server process with mutated datagrams on loopback, with health checks.

    python bench/fuzz_server.py                                  # a million datagrams, at most an hour
    python bench/fuzz_server.py --datagrams 20000 --seconds 5 --json out.json

The server is a plain Pycom-style script (``bench/scripts/pycom_fuzz_server.py``) in its own process
on its own 127.x.y.z: resources for every built-in handler, and ``while True: Coap.read(500)``, so an
exception out of ``read()`` ends it with a traceback. The fuzzer sends bursts of mutated datagrams
(valid requests, responses, pings and empty messages of every kind, with bytes flipped, inserted,
deleted, cut, spliced, header fields and option nibbles rewritten, exact duplicates, random bytes,
and datagrams up to 65,000 bytes) from 16 sockets on other loopback addresses. After every burst a
health check, a CON GET /alive from a socket of its own, must be answered ``2.05 yes`` (sent again
after 1, 2 and 4 s like a CoAP client's retransmissions); since the server reads one socket in order,
the answer also shows it has handled the burst. Replies to the fuzzing sockets must decode as CoAP.

Reported: datagrams sent, seconds, crashes (the server process ended; it is started again and the run
goes on), tracebacks in its stderr, health checks and how many went unanswered, malformed replies,
the server's RSS (start, max, end; from /proc), and UDP receive-buffer drops (namespace-wide). The
last line printed is the JSON summary. Exit status 0 when there was no crash, no traceback, no
unanswered health check and no malformed reply. Stops by itself after ``--datagrams`` or
``--seconds``; Linux (it reads /proc), loopback only.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from coap_throughput import Addresses, Processes, stop_on_sigterm, wait_ready  # noqa: E402
from fuzzgen import Mutator, uri_path  # noqa: E402
from procstat import rss_mb, slope_per_minute, udp_receive_drops  # noqa: E402

from network.coap.protocol.codec import Message, ParseError, decode, encode  # noqa: E402

PORT = 5683
CON, ACK = 0, 2
GET = 1
FUZZ_SOCKETS = 16
MAX_RESTARTS = 20


class Checker:
    """The health check: CON GET /alive from its own socket; the answer must be ACK 2.05 ``yes``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.target = target
        self.mid = random.randrange(0x10000)

    def check(self, alive: Callable[[], bool], waits: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)) -> bool:
        """Send the check and its retransmissions; True once answered (within 15 s in all). Gives up
        early when ``alive()`` says the server has ended."""
        self.mid = (self.mid + 1) & 0xFFFF
        request = encode(Message(CON, GET, self.mid, b"hc", uri_path("alive")))
        for wait in waits:
            if not alive():
                return False
            self.sock.sendto(request, self.target)
            end = time.monotonic() + wait
            while (left := end - time.monotonic()) > 0:
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(70000)
                except TimeoutError:
                    break
                except OSError:
                    continue
                try:
                    reply = decode(data)
                except ParseError:
                    continue
                if reply.mid == self.mid and (reply.mtype, reply.code, reply.payload) == (ACK, 69, b"yes"):
                    return True
        return False

    def close(self) -> None:
        self.sock.close()


class Run:
    """One fuzzing run against a server it starts (and starts again after a crash)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs = Processes()
        addrs = Addresses()
        self.ip = addrs.take()
        self.target = (self.ip, PORT)
        self.mutator = Mutator(args.seed)
        self.socks = []
        for _ in range(FUZZ_SOCKETS):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((addrs.take(), 0))
            sock.setblocking(False)
            self.socks.append(sock)
        self.checker = Checker(self.target)
        self.server = None
        self.crashes: list[dict[str, object]] = []
        self.tracebacks = 0
        self.checks = self.unanswered = self.replies = self.malformed = self.restarts = 0
        self.malformed_examples: list[str] = []
        self.rss: list[tuple[float, float]] = []

    def start_server(self) -> None:
        script = BENCH / "scripts" / "pycom_fuzz_server.py"
        self.server = self.procs.start([str(script), self.ip, str(self.args.seconds + 120)])
        wait_ready(self.procs, self.server, "the fuzzed server")

    def stop_server(self) -> None:
        """Stop the server and count the tracebacks in its whole stderr."""
        proc = self.server
        if proc is None:
            return
        self.procs.stop(proc)
        err = self.procs.errs.get(proc.pid)
        if err is not None:
            err.seek(0)
            self.tracebacks += err.read().count(b"Traceback (most recent call last)")
        self.procs.forget(proc)
        self.server = None

    def drain(self) -> None:
        """Read what came back to the fuzzing sockets: every reply must be well-formed CoAP."""
        for sock in self.socks:
            for _ in range(10000):
                try:
                    data = sock.recv(70000)
                except BlockingIOError:
                    break
                except OSError:
                    continue
                self.replies += 1
                try:
                    decode(data)
                except ParseError:
                    self.malformed += 1
                    if len(self.malformed_examples) < 5:
                        self.malformed_examples.append(data[:64].hex())

    def go(self) -> dict[str, object]:
        args = self.args
        drops_before = udp_receive_drops()
        self.start_server()
        assert self.server is not None
        started = time.monotonic()
        deadline = started + args.seconds
        next_sample = started
        sent = 0
        deaf = 0
        rng = random.Random(args.seed + 1)
        datagram = self.mutator.datagram
        socks = self.socks
        while sent < args.datagrams and time.monotonic() < deadline:
            burst = min(args.burst, args.datagrams - sent)
            for _ in range(burst):
                try:
                    rng.choice(socks).sendto(datagram(), self.target)
                except OSError:
                    pass  # e.g. a full send buffer: the datagram is lost, as UDP may
            sent += burst
            self.checks += 1
            answered = self.checker.check(self._server_alive)
            self.drain()
            now = time.monotonic()
            if now >= next_sample:
                mb = rss_mb(self.server.pid)
                if mb is not None:
                    self.rss.append((now - started, mb))
                next_sample = now + 1.0
            if self.server.poll() is not None:
                self.crashes.append(
                    {"after": sent, "exit": self.server.returncode, "stderr": self.procs.stderr(self.server)}
                )
                self._restart()
                continue
            if answered:
                deaf = 0
                continue
            self.unanswered += 1
            deaf += 1
            if deaf >= 3:  # alive but deaf: start it again so the run can go on
                self._restart()
                deaf = 0
        seconds = time.monotonic() - started
        mb = rss_mb(self.server.pid) if self.server is not None else None
        if mb is not None:
            self.rss.append((seconds, mb))
        self.stop_server()
        drops_after = udp_receive_drops()
        rss = [v for _, v in self.rss]
        half = [(t, v) for t, v in self.rss if t >= seconds / 2]
        return {
            "datagrams": sent,
            "seconds": round(seconds, 1),
            "rate": round(sent / seconds) if seconds else 0,
            "crashes": len(self.crashes),
            "tracebacks": self.tracebacks,
            "restarts": self.restarts,
            "health_checks": self.checks,
            "unanswered": self.unanswered,
            "replies": self.replies,
            "malformed_replies": self.malformed,
            "malformed_examples": self.malformed_examples,
            "rss_start_mb": round(rss[0], 1) if rss else None,
            "rss_max_mb": round(max(rss), 1) if rss else None,
            "rss_end_mb": round(rss[-1], 1) if rss else None,
            "rss_slope_last_half_mb_per_min": round(slope_per_minute(half), 2),
            "kernel_udp_drops": None
            if drops_before is None or drops_after is None
            else drops_after - drops_before,
            "seed": args.seed,
            "crash_details": self.crashes[:5],
            "rss_samples": [(round(t, 1), round(v, 2)) for t, v in self.rss[:: max(1, len(self.rss) // 200)]],
        }

    def _server_alive(self) -> bool:
        return self.server is not None and self.server.poll() is None

    def _restart(self) -> None:
        self.stop_server()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise RuntimeError(f"the server had to be started again {MAX_RESTARTS} times: giving up")
        self.start_server()

    def close(self) -> None:
        for sock in self.socks:
            sock.close()
        self.checker.close()
        self.procs.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=int, default=1_000_000, help="fuzzed datagrams (default 1e6)")
    parser.add_argument("--seconds", type=float, default=3600.0, help="stop after this long (default 3600)")
    parser.add_argument("--burst", type=int, default=100, help="datagrams between health checks (100)")
    parser.add_argument("--seed", type=int, default=8, help="random seed (default 8)")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    args = parser.parse_args(argv)
    if args.datagrams < 1 or args.seconds <= 0 or not 1 <= args.burst <= 1000:
        parser.error("--datagrams >= 1, --seconds > 0, 1 <= --burst <= 1000")
    stop_on_sigterm()
    run = Run(args)
    try:
        print(f"fuzzing {run.ip}:{PORT}: up to {args.datagrams} datagrams in {args.seconds:g} s", flush=True)
        summary = run.go()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        run.close()
    print(
        f"{summary['datagrams']} datagrams in {summary['seconds']} s ({summary['rate']}/s): "
        f"{summary['crashes']} crashes, {summary['tracebacks']} tracebacks, "
        f"{summary['unanswered']} of {summary['health_checks']} health checks unanswered, "
        f"{summary['malformed_replies']} malformed of {summary['replies']} replies; server RSS "
        f"{summary['rss_start_mb']} MB at start, {summary['rss_max_mb']} MB max, {summary['rss_end_mb']} MB "
        f"at the end; {summary['kernel_udp_drops']} UDP receive-buffer drops",
        flush=True,
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    bad = summary["crashes"] or summary["tracebacks"] or summary["unanswered"] or summary["malformed_replies"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
