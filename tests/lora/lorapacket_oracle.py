"""lora-packet (npm, pinned in package.json) as the LoRaWAN oracle of tests/lora: one node process per
test session running ``tests/lora/lorapacket.mjs``, which answers JSON lines. Without node or the
package the peer tests fail in CI and are skipped elsewhere (:func:`conftest.need`).

Not a ``conftest.py`` (tests/conftest.py is imported as ``conftest`` by every suite); test files import
the ``lorapacket`` fixture from here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, need
from peers.node import NodeProcess

RUNNER = Path(__file__).resolve().parent / "lorapacket.mjs"
PACKAGE = ROOT / "node_modules" / "lora-packet"


class LoraPacket(NodeProcess):
    """The node process; ``call(op, **fields)`` returns its result (bytes given as ``bytes``)."""

    def __init__(self, node: str) -> None:
        super().__init__(node, RUNNER, ROOT, "lora-packet")

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        request = {k: v.hex() if isinstance(v, bytes | bytearray) else v for k, v in fields.items()}
        answer = self.request(op=op, **request)
        if "error" in answer:
            raise RuntimeError(f"lora-packet {op}: {answer['error']}")
        return answer["result"]


@pytest.fixture(scope="session")
def lorapacket() -> Iterator[LoraPacket]:
    node = shutil.which("node")
    need(node is not None, "node", "apt-get install -y nodejs npm")
    need(PACKAGE.is_dir(), "lora-packet (npm)", "npm ci")
    oracle = LoraPacket(node)  # type: ignore[arg-type]
    yield oracle
    oracle.close()
