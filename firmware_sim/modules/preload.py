"""Import once every module a board's script can import, with all their parts: a process that forks
boards (``firmware-sim up``) does this before the first fork, so each board shares that code and data
with the others instead of loading its own copy."""

from __future__ import annotations

import gc
import importlib

import network

from ..runtime import boot  # noqa: F401  (the boot sequence itself, shared as well)
from ..runtime.modtable import BUILTIN


def preload() -> None:
    """Every board module of the firmware's module table, each name of their lazily loaded parts, and
    then a frozen heap: the garbage collector of a forked board never walks (and so never copies) what
    was loaded here."""
    for target in sorted({target for target in BUILTIN.values() if target is not None}):
        module = importlib.import_module(f"{__package__}.{target}")
        for name in getattr(module, "__all__", ()):
            getattr(module, name)
    for name in network.__all__:  # the classes behind the board's ``network`` (loaded on first use)
        getattr(network, name)
    gc.collect()
    gc.freeze()
