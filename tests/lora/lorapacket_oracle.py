"""lora-packet (npm, pinned in package.json) as the LoRaWAN oracle of tests/lora: one node process per
test session running ``tests/lora/lorapacket.mjs``, which answers JSON lines. Without node or the
package the peer tests fail in CI and are skipped elsewhere (:func:`conftest.need`).

Not a ``conftest.py`` (tests/conftest.py is imported as ``conftest`` by every suite); test files import
the ``lorapacket`` fixture from here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, need

RUNNER = Path(__file__).resolve().parent / "lorapacket.mjs"
PACKAGE = ROOT / "node_modules" / "lora-packet"


class LoraPacket:
    """The node process; ``call(op, **fields)`` returns its result (bytes given as ``bytes``)."""

    def __init__(self, node: str) -> None:
        self.proc = subprocess.Popen(
            [node, str(RUNNER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        ready = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"lora-packet did not start: {ready}")
        self.count = 0

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            raise RuntimeError(f"the lora-packet process ended: {self.proc.stderr.read()}")
        return json.loads(line)

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.count += 1
        request = {k: v.hex() if isinstance(v, bytes | bytearray) else v for k, v in fields.items()}
        self.proc.stdin.write(json.dumps({"id": self.count, "op": op, **request}) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        assert answer["id"] == self.count, answer
        if "error" in answer:
            raise RuntimeError(f"lora-packet {op}: {answer['error']}")
        return answer["result"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def lorapacket() -> Iterator[LoraPacket]:
    node = shutil.which("node")
    need(node is not None, "node", "apt-get install -y nodejs npm")
    need(PACKAGE.is_dir(), "lora-packet (npm)", "npm ci")
    oracle = LoraPacket(node)  # type: ignore[arg-type]
    yield oracle
    oracle.close()
