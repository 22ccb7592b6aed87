"""Paths on both sides: board paths (POSIX, relative ones under ``/flash``, the board's working
directory) and the local files of a project folder that are worth sending."""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path

FLASH = "/flash"
IGNORED = {"__pycache__"}  # plus every name starting with "." and *.pyc


def remote_path(path: str | None, cwd: str = FLASH) -> str:
    """An absolute, normalised board path; relative paths (and a leading ``:``, as mpremote writes
    them) are under ``cwd``."""
    p = (path or "").strip()
    if p.startswith(":"):
        p = p[1:]
    p = posixpath.normpath(posixpath.join(cwd, p)) if p else cwd
    return "/" + p.lstrip("/")


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a local file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            h.update(block)
    return h.hexdigest()


def local_files(folder: Path) -> list[tuple[Path, str]]:
    """The files of a project folder to send, with their POSIX paths relative to it (sorted); skips
    dot files and folders, ``__pycache__`` and ``*.pyc``."""
    found: list[tuple[Path, str]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in IGNORED)
        for name in sorted(files):
            if name.startswith(".") or name.endswith(".pyc"):
                continue
            path = Path(root) / name
            found.append((path, path.relative_to(folder).as_posix()))
    return found
