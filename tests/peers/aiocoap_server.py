"""An aiocoap CoAP server on a loopback address: the real peer the client tests and the benchmark use.

    python tests/peers/aiocoap_server.py --ip 127.0.0.3 [--port 5683]

Resources: ``/time`` (GET text, PUT stores), ``/resource1`` (GET, PUT, POST store), ``/bench`` (GET,
a short fixed payload) and ``/.well-known/core``. Every request is logged on stdout as
``request <METHOD> /<path> <payload repr>``; ``ready`` is printed once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiocoap
import aiocoap.resource as resource


class Stored(resource.Resource):
    def __init__(self, name: str, value: bytes, log: bool) -> None:
        super().__init__()
        self.name = name
        self.value = value
        self.log = log

    def _note(self, request: aiocoap.Message) -> None:
        if self.log:
            print(f"request {request.code.name} /{self.name} {request.payload!r}", flush=True)

    async def render_get(self, request):
        self._note(request)
        payload = time.strftime("%b %d %H:%M:%S").encode() if self.name == "time" else self.value
        return aiocoap.Message(payload=payload)

    async def render_put(self, request):
        self._note(request)
        self.value = request.payload
        return aiocoap.Message(code=aiocoap.CHANGED, payload=b"stored")

    async def render_post(self, request):
        self._note(request)
        self.value = request.payload
        return aiocoap.Message(code=aiocoap.CHANGED, payload=b"posted")


async def main(ip: str, port: int, quiet: bool) -> None:
    root = resource.Site()
    root.add_resource([".well-known", "core"], resource.WKCResource(root.get_resources_as_linkheader))
    root.add_resource(["time"], Stored("time", b"", not quiet))
    root.add_resource(["resource1"], Stored("resource1", b"value1", not quiet))
    root.add_resource(["bench"], Stored("bench", b"bench-value", False))
    await aiocoap.Context.create_server_context(root, bind=(ip, port), transports=["udp6"])
    print("ready", flush=True)
    await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ip", required=True)
    parser.add_argument("--port", type=int, default=5683)
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.ip, args.port, args.quiet))
    except KeyboardInterrupt:
        pass
