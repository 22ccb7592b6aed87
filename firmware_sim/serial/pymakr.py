"""A project's Pymakr configuration: which host files become the board's ``/flash``.

Pycom projects carry the settings of their upload tool. Pymakr 1.x (Atom / VS Code) reads
``pymakr.conf`` (JSON) in the project folder: ``sync_folder`` is the folder uploaded as ``/flash``
(relative to the project, empty for all of it), only files whose extension is in ``sync_file_types``
(a list, or a comma-separated string; default ``py,txt,log,json,xml,html,js,css,mpy``) go unless
``sync_all_file_types`` is true (a file without an extension always goes), and ``py_ignore`` names
files and folders left out (a name, a path relative to the synced folder, or here also a glob).
Pymakr 2 reads ``pymakr.json``: ``py_ignore`` as above, ``dist_dir`` for the synced folder, every
file type. Other keys (``address``, ``name``, ``open_on_start`` ...) are about the editor, not the
board, and are ignored. ``firmware-sim run PROJECT`` and ``deploy`` both select files here; without
either file a project is copied whole (:func:`.paths.local_files`).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import RunnerError
from .paths import local_files

CONFIG_NAMES = ("pymakr.conf", "pymakr.json")  # Pymakr 1.x, Pymakr 2; the first found is read
DEFAULT_TYPES = ("py", "txt", "log", "json", "xml", "html", "js", "css", "mpy")  # Pymakr 1.x's default


class PymakrError(RunnerError):
    """A pymakr file that cannot be read as Pymakr would; a usage error (exit status 2)."""

    exit_code = 2


@dataclass(frozen=True)
class SyncRules:
    """What a pymakr file selects: ``folder`` becomes ``/flash``; ``types`` None means every type."""

    config: Path
    folder: Path
    types: frozenset[str] | None
    ignore: tuple[str, ...]

    def wants(self, rel: str) -> bool:
        """Whether the file at ``rel`` (POSIX, relative to ``folder``) goes to the board."""
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):  # the file, or any folder on its way, may be ignored
            if self._ignored("/".join(parts[:depth]), parts[depth - 1]):
                return False
        name = parts[-1]
        if rel == self._config_rel():
            return False  # the tool's own settings are not the board's
        if self.types is None or "." not in name:
            return True
        return name.rsplit(".", 1)[1] in self.types

    def _ignored(self, path: str, name: str) -> bool:
        return any(
            entry in (path, name) or fnmatch.fnmatchcase(path, entry) or fnmatch.fnmatchcase(name, entry)
            for entry in self.ignore
        )

    def _config_rel(self) -> str:
        try:
            return self.config.relative_to(self.folder).as_posix()
        except ValueError:
            return ""


def read_rules(project: Path) -> SyncRules | None:
    """The rules of ``project``'s ``pymakr.conf`` (else ``pymakr.json``), None when it has neither;
    :class:`PymakrError` names the file and the fix when one cannot be used."""
    for name in CONFIG_NAMES:
        config = project / name
        if config.is_file():
            break
    else:
        return None

    def bad(what: str, fix: str) -> PymakrError:
        return PymakrError(f"{config}: {what}", fix)

    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad(f"not valid JSON ({err})", "fix the file (Pymakr reads it as JSON) or remove it") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object", 'write the settings as {"sync_folder": "", "py_ignore": [...]}')
    folder_key = "sync_folder" if name == "pymakr.conf" else "dist_dir"
    where = data.get(folder_key) or ""
    if not isinstance(where, str):
        raise bad(
            f"{folder_key} must be a string", f'give a folder of the project, e.g. "{folder_key}": "src"'
        )
    folder = (project / where.strip().strip("/")).resolve()
    if not folder.is_relative_to(project.resolve()) or not folder.is_dir():
        raise bad(
            f'{folder_key} "{where}" is not a folder inside the project',
            'give a path relative to the project folder, or "" for all of it',
        )
    types: frozenset[str] | None = None
    if name == "pymakr.conf" and data.get("sync_all_file_types") is not True:
        raw = data.get("sync_file_types", list(DEFAULT_TYPES))
        if isinstance(raw, str):
            raw = raw.split(",")
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise bad("sync_file_types must be a list of extensions", 'e.g. "sync_file_types": "py,txt,json"')
        types = frozenset(t.strip().lstrip(".") for t in raw if t.strip())
    ignore = data.get("py_ignore", [])
    if isinstance(ignore, str):
        ignore = ignore.split(",")
    if not isinstance(ignore, list) or not all(isinstance(e, str) for e in ignore):
        raise bad("py_ignore must be a list of names", 'e.g. "py_ignore": ["tests", "*.md"]')
    cleaned = tuple(e.strip().strip("/") for e in ignore if e.strip().strip("/"))
    return SyncRules(config, folder, types, cleaned)


def project_files(project: Path) -> tuple[Path, list[tuple[Path, str]]]:
    """The host folder that becomes ``/flash`` and its files that go there (with their POSIX paths
    relative to it): the pymakr file's selection, else every file of ``project`` as ``put`` sends
    them (dot files and folders, ``__pycache__`` and ``*.pyc`` are never sent)."""
    rules = read_rules(project)
    if rules is None:
        return project, local_files(project)
    return rules.folder, [(path, rel) for path, rel in local_files(rules.folder) if rules.wants(rel)]
