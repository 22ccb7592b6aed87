"""The layout's rules, checked on the source: imports point down (``network`` never imports
``firmware_sim``), no import cycle between files, no private name taken from another file, and no
source file longer than ARCHITECTURE.md allows."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.unit

PACKAGES = ("network", "firmware_sim")
MAX_LINES = 400


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in source_files()}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_runtime(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _resolve(importer: str, is_package: bool, module: str | None, level: int) -> str:
    if not level:
        return module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports_of(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import that runs."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, is_package, node.module, node.level)
            yield target, [alias.name for alias in node.names], node.lineno


def edges() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name that is a submodule counts as that module)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, names, _ in imports_of(path):
            if target.split(".")[0] not in PACKAGES:
                continue
            for taken in names:
                if f"{target}.{taken}" in MODULES:
                    graph[name].add(f"{target}.{taken}")
                elif target in MODULES:
                    graph[name].add(target)
            if not names and target in MODULES:
                graph[name].add(target)
    for targets in graph.values():
        targets.discard("")
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_network_never_imports_firmware_sim() -> None:
    wrong = [
        f"{module_name(path)}:{line} imports {target}"
        for path in source_files()
        if module_name(path).startswith("network")
        for target, _, line in imports_of(path)
        if target.split(".")[0] == "firmware_sim"
    ]
    assert not wrong, wrong


def test_no_import_cycle_between_files() -> None:
    cycle = find_cycle(edges())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_private_name_is_imported_from_another_module() -> None:
    wrong = []
    for path in source_files():
        importer = module_name(path)
        for target, names, line in imports_of(path):
            if target.split(".")[0] not in PACKAGES:
                continue
            owner = target if target in MODULES else target.rpartition(".")[0]
            for taken in names:
                if taken.startswith("_") and not taken.startswith("__") and owner != importer:
                    wrong.append(f"{importer}:{line} takes {taken} from {target}")
            private_module = any(
                part.startswith("_") and not part.startswith("__") for part in target.split(".")
            )
            if private_module and target != importer:
                wrong.append(f"{importer}:{line} imports private module {target}")
    assert not wrong, wrong


def test_no_private_attribute_of_another_module_is_used() -> None:
    """``module._name`` on a module imported from another file (reaching into its privates)."""
    wrong = []
    for path in source_files():
        importer = module_name(path)
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}
        for target, names, _ in imports_of(path):
            if target.split(".")[0] not in PACKAGES:
                continue
            for taken in names:
                if f"{target}.{taken}" in MODULES:
                    aliases[taken] = f"{target}.{taken}"
        for node in _walk_runtime(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    full = aliases.get(alias.name)
                    if full and alias.asname:
                        aliases[alias.asname] = aliases.pop(alias.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and aliases[node.value.id] != importer
            ):
                wrong.append(f"{importer}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not wrong, wrong


def allowed_long_files() -> set[str]:
    """Files ARCHITECTURE.md lists as longer than MAX_LINES, with the reason (its "Long files" table)."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    section = text.split("## Long files", 1)[1] if "## Long files" in text else ""
    return {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}


def test_no_source_file_is_longer_than_architecture_md_allows() -> None:
    allowed = allowed_long_files()
    long = [
        f"{path.relative_to(ROOT)} ({count} lines)"
        for path in source_files()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in allowed
    ]
    assert not long, f"split these, or say why in ARCHITECTURE.md's 'Long files': {long}"
