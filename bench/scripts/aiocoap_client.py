"""The aiocoap counterpart of ``pycom_client.py``: K concurrent GET loops on one client context.

    python bench/scripts/aiocoap_client.py SERVER_IP PORT CONCURRENCY WARMUP SECONDS

Prints one JSON line: ``{"completed", "seconds", "rate"}`` for the SECONDS after the WARMUP.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiocoap


async def main(ip: str, port: int, concurrency: int, warmup: float, seconds: float) -> None:
    context = await aiocoap.Context.create_client_context()
    uri = f"coap://{ip}:{port}/bench"
    done = 0
    stop = time.monotonic() + warmup + seconds + 5.0

    async def loop() -> None:
        nonlocal done
        while time.monotonic() < stop:
            response = await context.request(aiocoap.Message(code=aiocoap.GET, uri=uri)).response
            if response.code == aiocoap.CONTENT:
                done += 1

    tasks = [asyncio.create_task(loop()) for _ in range(concurrency)]
    await asyncio.sleep(warmup)
    first = done
    start = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - start
    count = done - first
    print(json.dumps({"completed": count, "seconds": elapsed, "rate": count / elapsed}), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await context.shutdown()


if __name__ == "__main__":
    try:
        asyncio.run(
            main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
        )
    except KeyboardInterrupt:
        pass
