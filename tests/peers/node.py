"""A long-running node process that answers JSON lines: the shape of the test oracles run under node
(the MicroPython VM of tests/dialect, lora-packet of tests/lora). The script prints ``{"ready": true}``
first, then answers each request line (which carries an ``id``) with one line carrying the same ``id``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


class NodeProcess:
    """``node SCRIPT`` started in ``cwd``; :meth:`request` sends one JSON object and returns the answer.
    ``what`` names it in errors."""

    def __init__(self, node: str, script: Path, cwd: Path, what: str) -> None:
        self.what = what
        self.proc = subprocess.Popen(
            [node, str(script)],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        ready = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"{what} did not start: {ready}")
        self.count = 0

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            raise RuntimeError(f"the {self.what} process ended: {self.proc.stderr.read()}")
        return json.loads(line)

    def request(self, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.count += 1
        self.proc.stdin.write(json.dumps({"id": self.count, **fields}) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        assert answer["id"] == self.count, answer
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
