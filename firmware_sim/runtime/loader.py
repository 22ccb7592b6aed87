"""The board's import system: MicroPython module names, ``/flash`` and ``/flash/lib``, nothing else.

A script's ``import time`` gets the board's ``utime`` (scaled clock, ``sleep_ms``...), ``import os``
the sandboxed ``uos``, and so on, while the simulator's own code keeps CPython's modules: the
script's code runs with its own ``__builtins__`` whose ``__import__`` and ``open`` are the board's.
A module that is neither built into the board nor on its flash raises ``ImportError`` as on the board.
A board module is a view (:func:`board_view`) holding the board's names only, never the host modules
its implementation uses; files are read through the flash's sandbox (``Flash.open``/``is_file``).
"""

from __future__ import annotations

import builtins
import importlib
import sys
import types
from collections.abc import Callable

from .flash import Flash

# MicroPython's weak links: ``time`` is ``utime`` and so on (esp32/mpconfigport.h).
ALIASES = {
    "time": "utime",
    "os": "uos",
    "socket": "usocket",
    "select": "uselect",
    "json": "ujson",
    "binascii": "ubinascii",
    "struct": "ustruct",
    "collections": "ucollections",
    "hashlib": "uhashlib",
    "crypto": "ucrypto",
    "errno": "uerrno",
    "re": "ure",
    "sys": "usys",
    "io": "uio",
    "random": "urandom",
    "umachine": "machine",
    "queue": "uqueue",
    "zlib": "uzlib",
}
# Board modules implemented in firmware_sim.modules (file name -> module name on the board).
BUILTIN = {
    "utime": "utime",
    "uos": "uos",
    "usocket": "usocket",
    "uselect": "uselect",
    "ujson": "ujson",
    "ubinascii": "ubinascii",
    "ustruct": "ustruct",
    "ucollections": "ucollections",
    "uhashlib": "uhashlib",
    "ucrypto": "ucrypto",
    "uerrno": "uerrno",
    "ure": "ure",
    "usys": "usys",
    "uio": "uio",
    "urandom": "urandom",
    "uqueue": "uqueue",
    "uzlib": "uzlib",
    "machine": "machine",
    "pycom": "pycom",
    "network": "network",
    "_thread": "_thread",
    "gc": "gc",
    "micropython": "micropython",
    "math": None,  # CPython's, unchanged
    "cmath": None,
    "array": None,
}


def board_print(
    *values, sep: str | None = " ", end: str | None = "\n", file=None, flush: bool = False
) -> None:
    """``print`` as a board's UART does it: each call written whole, so threads never split a line."""
    stream = sys.stdout if file is None else file
    stream.write((" " if sep is None else sep).join(map(str, values)) + ("\n" if end is None else end))
    if flush:
        stream.flush()


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


class Loader:
    """Imports for one board; ``run(board_path, name)`` executes a script as ``__main__``."""

    def __init__(self, flash: Flash) -> None:
        self.flash = flash
        self.modules: dict[str, types.ModuleType] = {}
        self.files: set[str] = set()  # code filenames that are the board's own (for tracebacks)
        # CPython's builtins, less the import machinery's own objects (``__loader__`` would load any
        # host module) and site's helpers that read host files
        hidden = ("__loader__", "__spec__", "copyright", "credits", "license")
        self.builtins = {name: value for name, value in builtins.__dict__.items() if name not in hidden}
        self.builtins["__import__"] = self.import_module
        self.builtins["open"] = flash.open
        self.builtins["exit"] = self.builtins["quit"] = sys.exit
        self.builtins["print"] = board_print

    # -- executing board code ----------------------------------------------------------------------

    def compile(self, board_path: str, display: str) -> types.CodeType:
        with self.flash.open(board_path, "rb") as f:
            source = f.read()
        self.files.add(display)
        return compile(source, display, "exec", dont_inherit=True)

    def new_globals(self, name: str, display: str) -> dict:
        return {"__name__": name, "__file__": display, "__builtins__": self.builtins}

    def run(self, board_path: str, display: str) -> None:
        """Run a script file of the flash as ``__main__`` (``boot.py``, ``main.py``)."""
        code = self.compile(board_path, display)
        exec(code, self.new_globals("__main__", display))

    # -- import ------------------------------------------------------------------------------------

    def import_module(self, name: str, globals=None, locals=None, fromlist=(), level: int = 0):
        if level:
            package = (globals or {}).get("__package__") or ""
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            name = f"{base}.{name}" if name else base
        module = self._load(name)
        if fromlist:
            for item in fromlist:
                if item != "*" and not hasattr(module, item) and hasattr(module, "__path__"):
                    try:
                        self._load(f"{name}.{item}")
                    except ImportError:
                        pass  # "cannot import name" is raised by the import statement itself
            return module
        return self.modules[name.split(".", 1)[0]]

    def _load(self, name: str) -> types.ModuleType:
        found = self.modules.get(name)
        if found is not None:
            return found
        parts = name.split(".")
        if len(parts) > 1:
            self._load(".".join(parts[:-1]))
        target = ALIASES.get(name, name)
        builtin = target in BUILTIN and len(parts) == 1
        module = self._builtin(target) if builtin else self._from_flash(name)
        self.modules[name] = module
        if len(parts) > 1:
            setattr(self.modules[".".join(parts[:-1])], parts[-1], module)
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

    def _from_flash(self, name: str) -> types.ModuleType:
        rel = name.replace(".", "/")
        for folder in ("/flash", "/flash/lib"):
            for candidate, package in ((f"{folder}/{rel}.py", False), (f"{folder}/{rel}/__init__.py", True)):
                if self.flash.is_file(candidate):
                    return self._exec_module(name, candidate, package)
        raise ImportError(f"no module named '{name}'")

    def _exec_module(self, name: str, board_path: str, package: bool) -> types.ModuleType:
        module = types.ModuleType(name)
        display = board_path
        code = self.compile(board_path, display)
        module.__dict__.update(self.new_globals(name, display))
        if package:
            module.__path__ = [board_path.rsplit("/", 1)[0]]
            module.__package__ = name
        else:
            module.__package__ = name.rpartition(".")[0]
        self.modules[name] = module
        try:
            exec(code, module.__dict__)
        except BaseException:
            del self.modules[name]
            raise
        return module
