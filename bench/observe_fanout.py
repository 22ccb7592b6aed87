"""Observe fan-out: how fast one ``network.Coap`` resource's changes reach 1,000 observers.

A Pycom-style server script (``FIRMWARE_SIM_COAP_EXTENSIONS=observe``, one resource, a ``Coap.read()``
loop) in its own process; this process registers N observers (one UDP socket each, GET with Observe=0),
then tells the server (a PUT to ``/trigger``) to change the observed value K times as fast as it can
and counts the notifications that arrive. Prints notifications per second (first to last received) and
how many of the N*K arrived. A benchmark, not a test; loopback only.

    python bench/observe_fanout.py                       # 1,000 observers, 20 changes
    python bench/observe_fanout.py --observers 200 --changes 50
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network.coap.protocol.codec import Message, encode  # noqa: E402
from network.coap.protocol.numbers import Option  # noqa: E402
from network.host import free_address  # noqa: E402

SERVER = """\
import sys
from network import Coap

Coap.init(sys.argv[1])
level = Coap.add_resource("level", media_type=0, value="0")
level.callback(Coap.REQUEST_GET, True)
trigger = Coap.add_resource("trigger", value="0")
trigger.callback(Coap.REQUEST_PUT, True)
print("ready", flush=True)
changes = 0
while True:
    Coap.read(100)
    if trigger.value() != b"0":
        for n in range(int(trigger.value())):
            level.value(str(n + 1))
        trigger.value("0")
"""


def request(mid: int, token: bytes, code: int, path: str, observe: bool, payload: bytes = b"") -> bytes:
    """A CON request for ``path`` (with Observe=0 when ``observe``), on the project's codec."""
    options = [(Option.URI_PATH, path.encode())] + ([(Option.OBSERVE, b"")] if observe else [])
    return encode(Message(0, code, mid, token, options, payload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    if not 1 <= args.observers <= 5000 or not 1 <= args.changes <= 1000:
        parser.error("--observers 1..5000, --changes 1..1000")
    ip = free_address()
    script = Path(os.environ.get("TMPDIR", "/tmp")) / f"fanout-server-{os.getpid()}.py"
    script.write_text(SERVER)
    env = dict(os.environ, FIRMWARE_SIM_COAP_EXTENSIONS="observe", PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, str(script), ip],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    sockets: list[socket.socket] = []
    selector = selectors.DefaultSelector()
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        for _ in range(args.observers):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            sockets.append(sock)
            selector.register(sock, selectors.EVENT_READ)
        answered: set[socket.socket] = set()
        end = time.monotonic() + 30
        while len(answered) < args.observers and time.monotonic() < end:  # register, 50 at a time, again
            waiting = [sock for sock in sockets if sock not in answered][:50]
            for n, sock in enumerate(waiting):
                sock.sendto(request(n, b"ob", 1, "level", True), (ip, 5683))
            for key, _ in selector.select(0.2):
                while True:
                    try:
                        key.fileobj.recv(2048)  # type: ignore[union-attr]
                    except BlockingIOError:
                        break
                    answered.add(key.fileobj)  # type: ignore[arg-type]
        registered = len(answered)
        print(f"{registered} of {args.observers} observers registered")
        trigger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        trigger.sendto(request(1, b"t", 3, "trigger", False, str(args.changes).encode()), (ip, 5683))
        expected = args.observers * args.changes
        got, first, last = 0, None, None
        end = time.monotonic() + 60
        while got < expected and time.monotonic() < end:
            ready = selector.select(1.0)
            if not ready and first is not None:
                break  # a second of silence after notifications started: the rest are lost
            for key, _ in ready:
                while True:
                    try:
                        key.fileobj.recv(2048)  # type: ignore[union-attr]
                    except BlockingIOError:
                        break
                    now = time.monotonic()
                    first = now if first is None else first
                    last = now
                    got += 1
        seconds = (last - first) if first is not None and last is not None and last > first else float("nan")
        print(
            f"{args.changes} changes to {args.observers} observers: {got} of {expected} notifications "
            f"in {seconds:.3f} s, {got / seconds:,.0f} notifications/s"
        )
    finally:
        server.terminate()
        server.wait(10)
        script.unlink(missing_ok=True)
        for sock in sockets:
            sock.close()


if __name__ == "__main__":
    main()
