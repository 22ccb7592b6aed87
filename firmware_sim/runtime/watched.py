"""A JSON object file the outside world rewrites while the board runs (``pins.json``,
``environment.json``): read again only when its stat (mtime, inode, size) changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class WatchedJson:
    """``changed()`` is the file's object when the file changed since it was last read, else None."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None  # the stat of the content last read

    def changed(self) -> dict[str, Any] | None:
        """The new object ({} once the file is gone, or when it holds no object); None when nothing
        changed, or the file is half written (it is looked at again next time)."""
        try:
            info = self.path.stat()
            found: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_ino, info.st_size)
        except OSError:
            found = None
        if found == self._seen:
            return None
        if found is None:
            self._seen = None
            return {}
        try:
            data = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return None
        self._seen = found
        return data if isinstance(data, dict) else {}
