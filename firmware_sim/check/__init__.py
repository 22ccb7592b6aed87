"""``firmware-sim check``'s engine: what the board cannot run that the simulator cannot catch at run time.

Two kinds of finding, each with file and line: a file MicroPython 1.11's compiler rejects
(:func:`firmware_sim.runtime.syntax.verdict`, mpy-cross 1.11), and a call ``x.NAME(...)`` of a method
CPython's built-in types have and no MicroPython 1.11 type has (:mod:`.methods`, from the firmware's
``locals_dict`` tables), unless the project defines ``NAME`` itself (a class of its own may)."""

from __future__ import annotations

from .scan import Finding, check_path, python_files

__all__ = ["Finding", "check_path", "python_files"]
