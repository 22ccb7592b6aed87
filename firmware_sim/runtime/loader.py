"""The board's import system: MicroPython module names, ``/flash`` and ``/flash/lib``, nothing else.

A script's ``import time`` gets the board's ``utime`` (scaled clock, ``sleep_ms``...), ``import os``
the sandboxed ``uos``, and so on, while the simulator's own code keeps CPython's modules: the
script's code runs with its own ``__builtins__`` whose ``__import__`` and ``open`` are the board's.
A module that is neither built into the board nor on its flash raises ``ImportError`` as on the board.
A board module is a view (:func:`board_view`) holding the board's names only, never the host modules
its implementation uses; files are read through the flash's sandbox (``Flash.open``/``is_file``).
"""

from __future__ import annotations

import importlib
import io
import posixpath
import re
import tokenize
import types
from collections.abc import Callable

from . import constfold, syntax
from .flash import Flash
from .modtable import ALIASES, BUILTIN, SYS_PATH


def board_view(module: types.ModuleType, name: str) -> types.ModuleType:
    """The module object a script gets for the simulator's ``module``: what its ``board_module()``
    builds, else a new module ``name`` holding only the names in its ``__all__``, so that no host module
    (``os``, ``socket`` ...) or simulator helper the implementation uses hangs off it."""
    factory: Callable[[], types.ModuleType] | None = getattr(module, "board_module", None)
    if factory is not None:
        return factory()
    names = getattr(module, "__all__", None)
    if names is None:
        raise TypeError(f"{module.__name__} has neither board_module() nor __all__ (the board's names)")
    view = types.ModuleType(name)
    view.__dict__.update({board_name: getattr(module, board_name) for board_name in names})
    return view


_QUOTE = re.compile(rb"(?i)(?:[rbuf]|br|rb|fr|rf)?(\'\'\'|\"\"\"|\'|\")")  # a string literal's start


def indent_as_micropython(source: bytes) -> bytes:
    """``source`` with each logical line's leading tabs replaced by spaces up to the next multiple of 8,
    as MicroPython's lexer counts indentation (py/lexer.c ``TAB_SIZE`` 8), so a file mixing tabs and
    spaces that the board runs never meets CPython's ``TabError``. Only indentation changes: string
    literals, bracketed and backslash-continued lines, and the line numbers stay as they are."""
    if b"\t" not in source:
        return source
    out: list[bytes] = []
    depth, quote, continued = 0, b"", False
    for line in source.splitlines(keepends=True):
        if not quote and not depth and not continued:
            body = line.lstrip(b" \t")
            indent = line[: len(line) - len(body)]
            if b"\t" in indent and body.strip():
                column = 0
                for byte in indent:
                    column = (column // 8 + 1) * 8 if byte == 9 else column + 1
                line = b" " * column + body
        continued = False
        i = 0
        while i < len(line):
            if quote:
                end = line.find(quote, i)
                escape = line.find(b"\\", i)
                if escape != -1 and (end == -1 or escape < end):
                    i = escape + 2
                elif end == -1:
                    if len(quote) == 1 and not line.rstrip(b"\r\n").endswith(b"\\"):
                        quote = b""  # an unterminated short string: CPython reports it, leave it
                    break
                else:
                    i, quote = end + len(quote), b""
                continue
            char = line[i : i + 1]
            if char == b"#":
                break
            match = _QUOTE.match(line, i) if char.isalpha() or char in b"'\"" else None
            after_name = i > 0 and (line[i - 1 : i].isalnum() or line[i - 1 : i] == b"_")
            if match is not None and not (after_name and match.start(1) > i):  # a prefix starts no name
                quote, i = match.group(1), match.end()
                continue
            if char in b"([{":
                depth += 1
            elif char in b")]}":
                depth = max(depth - 1, 0)
            elif char == b"\\" and line[i + 1 :].strip(b"\r\n") == b"":
                continued = True
            i += 1
        out.append(line)
    return b"".join(out)


def _ascii_escape(ch: str) -> str:
    return ch if ch.isascii() else "".join(f"\\x{byte:02x}" for byte in ch.encode())


def board_source(source: bytes) -> bytes:
    """``source`` as CPython must see it to compile what MicroPython 1.11's compiler accepts: indentation
    counted as the board does (:func:`indent_as_micropython`), and non-ASCII characters in a bytes
    literal (``b'é'``: py/lexer.c keeps their UTF-8 bytes, CPython refuses them) written as ``\\x``
    escapes of those bytes. Line numbers stay as they are."""
    source = indent_as_micropython(source)
    if source.isascii():
        return source
    try:
        text = source.decode()
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (UnicodeDecodeError, SyntaxError, tokenize.TokenError):
        return source  # the compiler will say what is wrong
    starts = [0]
    for line in io.StringIO(text).readlines():  # the lines tokenize numbers
        starts.append(starts[-1] + len(line))
    edits = []
    for token in tokens:
        literal = token.string
        prefix = literal[: len(literal) - len(literal.lstrip("rRbBuUfF"))].lower()
        if token.type != tokenize.STRING or "b" not in prefix or "r" in prefix or literal.isascii():
            continue
        escaped = "".join(map(_ascii_escape, literal))
        begin = starts[token.start[0] - 1] + token.start[1]
        edits.append((begin, begin + len(literal), escaped))
    for begin, end, escaped in reversed(edits):
        text = text[:begin] + escaped + text[end:]
    return text.encode()


class Loader:
    """Imports for one board; ``run(board_path, name)`` executes a script as ``__main__``."""

    def __init__(self, flash: Flash) -> None:
        self.flash = flash
        self.modules: dict[str, types.ModuleType] = {}
        self.files: set[str] = set()  # code filenames that are the board's own (for tracebacks)
        self.path: list[str] = list(SYS_PATH)  # the board's sys.path: usys hands scripts this list
        self._main: dict | None = None  # __main__'s namespace (main_globals)
        # MicroPython 1.11's builtins as the firmware configures them (board_builtins.py)
        from .board_builtins import board_builtins

        self.builtins = board_builtins(self)

    # -- executing board code ----------------------------------------------------------------------

    def compile(self, board_path: str, display: str) -> types.CodeType:
        """Compile a board file as the board does: MicroPython 1.11's compiler judges its syntax first
        (:mod:`.syntax`: the board's ``SyntaxError`` and line), then CPython's builds the code."""
        with self.flash.open(board_path, "rb") as f:
            source = f.read()
        self.files.add(display)
        syntax.check(source, display)
        return constfold.compile_board(board_source(source), display)

    def new_globals(self, name: str, display: str) -> dict:
        return {"__name__": name, "__file__": display, "__builtins__": self.builtins}

    def main_globals(self) -> dict:
        """The session's ``__main__`` namespace, one for boot.py, main.py and the REPL, as the firmware
        runs them all in it (esp32/mptask.c, lib/utils/pyexec.c); it starts as the frozen ``_boot.py``
        leaves it (``import os``, ``from machine import UART``), so a script's bare ``os`` or a name
        boot.py defined works in main.py as on the board."""
        if self._main is None:
            self._main = {"__name__": "__main__", "__builtins__": self.builtins}
            self._main["os"] = self.import_module("os")
            self._main["UART"] = self.import_module("machine", fromlist=("UART",)).UART
        return self._main

    def run(self, board_path: str, display: str) -> None:
        """Run a script file of the flash in ``__main__`` (``boot.py``, ``main.py``: :meth:`main_globals`),
        its ``__file__`` set as pyexec does."""
        code = self.compile(board_path, display)
        namespace = self.main_globals()
        namespace["__file__"] = display
        exec(code, namespace)

    # -- import ------------------------------------------------------------------------------------

    def import_module(self, name: str, globals=None, locals=None, fromlist=(), level: int = 0):
        """``__import__`` as py/builtinimport.c does it; ``from m import x`` as py/runtime.c's
        ``mp_import_from``: ``x`` missing from a package is imported as ``m.x`` (whatever that raises
        propagates), missing from a module is ``ImportError: cannot import name x``."""
        if level:
            package = (globals or {}).get("__package__") or ""
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            name = f"{base}.{name}" if name else base
        module = self._load(name)
        if fromlist:
            for item in fromlist:
                if item == "*" or hasattr(module, item):
                    continue
                if not hasattr(module, "__path__"):
                    raise ImportError(f"cannot import name {item}")
                self._load(f"{name}.{item}")
            return module
        return self.modules[name.split(".", 1)[0]]

    def _load(self, name: str) -> types.ModuleType:
        found = self.modules.get(name)
        if found is not None:
            return found
        parts = name.split(".")
        parent = self._load(".".join(parts[:-1])) if len(parts) > 1 else None
        if parent is None and name in BUILTIN:
            module = self._builtin(name)
        elif parent is None and name in ALIASES:  # a weak link: a file of that name comes first
            found = self._find(name, None)
            module = self._builtin(ALIASES[name]) if found is None else self._exec_module(name, *found)
        else:
            module = self._from_flash(name, parent)
        self.modules[name] = module
        if parent is not None:
            setattr(parent, parts[-1], module)
        return module

    def _builtin(self, target: str) -> types.ModuleType:
        cached = self.modules.get(target)
        if cached is not None:
            return cached
        implementation = BUILTIN[target]
        if implementation is None:
            module = importlib.import_module(target)
        else:
            module = board_view(importlib.import_module(f"firmware_sim.modules.{implementation}"), target)
        self.modules[target] = module
        return module

    def _from_flash(self, name: str, parent: types.ModuleType | None) -> types.ModuleType:
        found = self._find(name, parent)
        if found is None:
            raise ImportError(f"no module named '{name}'")
        return self._exec_module(name, *found)

    def _find(self, name: str, parent: types.ModuleType | None) -> tuple[str, str] | None:
        """(board path, host path) of module ``name``, or None, found as py/builtinimport.c's
        ``find_file``/``stat_dir_or_file`` do: a top-level name in each folder of the board's
        ``sys.path`` in turn (as the script left it), a submodule in its package's folder; in each
        folder a directory ``name`` first (a package, with or without ``__init__.py``), then
        ``name.py``. Names match as FAT does (:meth:`_on_fat`)."""
        leaf = name.rpartition(".")[2]
        folders: list[object]
        if parent is None:
            folders = [entry for entry in self.path if isinstance(entry, str)]
        else:
            folders = [getattr(parent, "__path__", None)]
        for folder in folders:
            if not isinstance(folder, str):
                break  # a module is no package: nothing is found under it
            wanted = f"{folder}/{leaf}" if folder else leaf
            directory = self._on_fat(wanted, folder=True)
            if directory is not None:
                return self.flash.board_path(wanted), directory
            source = self._on_fat(f"{wanted}.py", folder=False)
            if source is not None:
                return self.flash.board_path(f"{wanted}.py"), source
        return None

    def _on_fat(self, path: str, folder: bool) -> str | None:
        """The flash entry (a folder, or a file) that ``path`` names on the board's FAT ``/flash``: the
        exact spelling first, else an entry whose name equals it ignoring case (FatFS compares names
        upper-cased: lib/oofatfs/ff.c), found through the flash's sandbox only; None if none."""
        board = self.flash.board_path(path)
        exists = self.flash.is_dir if folder else self.flash.is_file
        if exists(board):
            return board
        parent, leaf = posixpath.split(board)
        if not parent.startswith("/flash") or not leaf:
            return None
        real_parent = self._on_fat(parent, folder=True)
        if real_parent is None:
            return None
        try:
            names = self.flash.listdir(real_parent)
        except OSError:
            return None
        for entry in names:
            if entry.upper() == leaf.upper() and exists(f"{real_parent}/{entry}"):
                return f"{real_parent}/{entry}"
        return None

    def _exec_module(self, name: str, display: str, found: str) -> types.ModuleType:
        """Run the module file ``found`` (``display``: its path as the import spelled it, for
        ``__file__`` and tracebacks); a folder ``found`` is a package (``__path__`` its path, a str as
        builtinimport.c stores it) whose ``__init__.py``, if any, runs, as builtinimport.c:436-449."""
        module = types.ModuleType(name)
        module.__dict__.update(self.new_globals(name, display))
        code = None
        if self.flash.is_dir(found):
            module.__dict__["__path__"] = display
            module.__package__ = name
            init = self._on_fat(f"{found}/__init__.py", folder=False)
            if init is None:
                del module.__file__  # a folder without __init__.py: a package with no code
            else:
                module.__file__ = f"{display}/__init__.py"
                code = self.compile(init, module.__file__)
        else:
            module.__package__ = name.rpartition(".")[0]
            code = self.compile(found, display)
        self.modules[name] = module
        try:
            if code is not None:
                exec(code, module.__dict__)
        except BaseException:
            del self.modules[name]
            raise
        return module
