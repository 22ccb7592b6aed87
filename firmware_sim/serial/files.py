"""The board's filesystem through small snippets run in its raw REPL.

Uploads are atomic and verified: the data goes to ``<name>.fsim-part`` next to the final name in
base64 chunks, the board hashes that file (``uhashlib.sha256`` + ``ubinascii``) and renames it onto
the final name only if the hash equals the local file's. A transfer that breaks leaves the final
name untouched (the old file, or none); the temporary file is removed when the board still answers.
One left behind (the board was killed or froze mid-transfer) is stale, since one REPL runs one
transfer at a time: ``put`` and ``deploy`` remove those in the folders they write to before sending,
and ``ls`` and a folder's ``get`` never show them.
Downloads stream base64 lines in one exec and end with the board's SHA-256 of what it read.

Board paths are POSIX paths; relative ones are under ``/flash`` (the board's working directory).
"""

from __future__ import annotations

import ast
import base64
import binascii
import hashlib
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BoardError, BoardReset, BoardTimeout, PortGone, RemoteError, RunnerError, remote_error
from .onboard import PRELUDE, TEMP_SUFFIX
from .paths import FLASH, local_files, remote_path, sha256_file
from .progress import Progress
from .session import ReplSession

PUT_CHUNK = 2048  # file bytes per exec when uploading (base64: 2732 characters of code)
GET_CHUNK = 1536  # file bytes per output line when downloading (base64: 2048 characters)


@dataclass
class Entry:
    """A file or folder on the board."""

    name: str
    path: str
    is_dir: bool
    size: int = 0


@dataclass
class SyncResult:
    """What ``sync`` did: board paths sent and left alone, and the file bytes sent."""

    sent: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_sent: int = 0


def _lit(value: object) -> str:
    return repr(value)


class RemoteFS:
    """Filesystem operations on the board of ``session`` (in its raw REPL)."""

    def __init__(self, session: ReplSession, chunk_size: int = PUT_CHUNK) -> None:
        self.session = session
        self.chunk_size = chunk_size
        self._prelude_at: int | None = None  # session.resets when the helpers were defined

    # running snippets

    def _ready(self) -> None:
        """Define the helpers on the board unless this session already did since its last reset."""
        if self._prelude_at != self.session.resets or not self.session.in_raw:
            self.session.exec(PRELUDE)
            self._prelude_at = self.session.resets

    def call(self, code: str, path: str = "", **kwargs: object) -> bytes:
        """Run ``code`` after the helpers are defined; board errors become ``RemoteError``."""
        self._ready()
        try:
            return self.session.exec(code, **kwargs)  # type: ignore[arg-type]
        except BoardError as err:
            if err.exc_type == "NameError" and "_fsim" in err.message:  # helpers lost: define them again
                self._prelude_at = None
                self._ready()
                return self.session.exec(code, **kwargs)  # type: ignore[arg-type]
            raise remote_error(err, path, self.session.port) from None

    # queries

    def stat(self, path: str) -> tuple[bool, int] | None:
        """``(is_dir, size)`` of a board path, None when it does not exist."""
        p = remote_path(path)
        out = self.call(f"print(repr(_fsim_st({_lit(p)})))", p)
        return _literal(out.decode().strip())  # type: ignore[return-value]

    def ls(self, path: str | None = None) -> list[Entry]:
        """The entries of a folder (or the file itself), folders first, then by name; a folder's upload
        parts left by a broken transfer are not shown."""
        p = remote_path(path)
        entries = []
        for line in self.call(f"_fsim_ls({_lit(p)})", p).decode().splitlines():
            if line.strip():
                name, is_dir, size = _entry(line)
                if name.startswith("/"):  # a file lists itself
                    entries.append(Entry(posixpath.basename(name), name, bool(is_dir), int(size)))
                elif not _is_part(name, bool(is_dir)):
                    entries.append(Entry(name, posixpath.join(p, name), bool(is_dir), int(size)))
        return sorted(entries, key=lambda e: (not e.is_dir, e.name))

    def walk(self, path: str) -> list[Entry]:
        """Every file and folder below a board folder (absolute paths), upload parts left out."""
        p = remote_path(path)
        entries = []
        for line in self.call(f"_fsim_walk({_lit(p)})", p).decode().splitlines():
            if line.strip():
                full, is_dir, size = _entry(line)
                if not _is_part(full, bool(is_dir)):
                    entries.append(Entry(posixpath.basename(full), full, bool(is_dir), int(size)))
        return entries

    def sha256(self, path: str) -> str | None:
        """The board's SHA-256 (hex) of a file, None when it is missing."""
        return self.sha256_many([path])[remote_path(path)]

    def sha256_many(self, paths: Iterable[str]) -> dict[str, str | None]:
        """SHA-256 of several board files in one exec (None for missing ones)."""
        wanted = [remote_path(p) for p in paths]
        if not wanted:
            return {}
        code = f"for _p in {_lit(wanted)}:\n try:\n  print(_fsim_sha(_p))\n except Exception:\n  print('-')\n"
        lines = [line.strip() for line in self.call(code).decode().splitlines() if line.strip()]
        return {
            p: (h if h != "-" else None) for p, h in zip(wanted, lines + ["-"] * len(wanted), strict=False)
        }

    # changes

    def mkdirs(self, *paths: str) -> None:
        """Create folders and their parents (``mkdir -p``) in one exec."""
        wanted = [remote_path(p) for p in paths]
        if wanted:
            self.call(f"for _p in {_lit(wanted)}:\n _fsim_mkdirs(_p)\n", ", ".join(wanted))

    def clean_parts(self, folders: Iterable[str]) -> None:
        """Remove the upload parts (``*.fsim-part``) in these board folders (not below them), in one exec:
        before a transfer writes there, any is stale (a transfer that broke; one REPL runs one at a
        time). A folder that does not exist is skipped."""
        wanted = sorted({remote_path(f) for f in folders})
        if wanted:
            self.call(f"_fsim_clean({_lit(wanted)})", ", ".join(wanted))

    def rm(self, path: str, recursive: bool = False) -> None:
        """Remove a board file (a folder and its contents with ``recursive``); never /flash itself."""
        p = remote_path(path)
        if p in ("/", FLASH):
            raise RemoteError(
                f"refusing to remove {p} itself", f"remove what is inside it, e.g. rm -r {FLASH}/lib"
            )
        self.call(f"_fsim_rm({_lit(p)},{1 if recursive else 0})", p)

    # transfers

    def put_file(self, local: Path, remote: str, progress: Progress | None = None) -> int:
        """Upload one file atomically; the board verifies the SHA-256 before the rename. Its size."""
        dest = remote_path(remote)
        temp = dest + TEMP_SUFFIX
        data = local.read_bytes()
        expected = hashlib.sha256(data).hexdigest()
        self._ready()
        try:
            self.call(f"_fsim_f=open({_lit(temp)},'wb')\n_fsim_w=_fsim_f.write\n_fsim_d=_fb.a2b_base64", dest)
            for i in range(0, len(data), self.chunk_size):
                piece = data[i : i + self.chunk_size]
                self.call(f"_fsim_w(_fsim_d('{base64.b64encode(piece).decode()}'))", dest)
                if progress is not None:
                    progress.update(len(piece))
            answer = (
                self.call(f"_fsim_done({_lit(temp)},{_lit(dest)},{_lit(expected)})", dest).decode().strip()
            )
        except (BoardTimeout, PortGone, BoardReset) as err:
            err.fix = f"{err.fix}; {dest} was not changed" + (
                f" (a partial copy may remain as {temp})" if not isinstance(err, PortGone) else ""
            )
            raise
        except BaseException:
            self._drop(temp)
            raise
        if answer != "ok":
            got = answer.split()[-1] if answer else "nothing"
            raise RemoteError(
                f"{dest}: the copy on the board has SHA-256 {got}, not {expected} (the data was damaged on "
                "the line); the board's file was left unchanged",
                "retry; if it persists check the cable or lower the chunk size",
            )
        return len(data)

    def _drop(self, temp: str) -> None:
        """Best-effort removal of a temporary upload while the board still answers."""
        session = self.session
        try:
            if not session.in_raw:
                session.enter_raw_repl()
            self.call(f"_fsim_drop({_lit(temp)})", temp)
        except (RunnerError, KeyboardInterrupt):
            pass

    def get_file(self, remote: str, local: Path, progress: Progress | None = None) -> int:
        """Download one file (to ``local.fsim-part``, renamed once its SHA-256 matches). Its size."""
        src = remote_path(remote)
        temp = local.with_name(local.name + TEMP_SUFFIX)
        h = hashlib.sha256()
        pending = b""  # a line not complete yet
        board_hash: str | None = None  # the board's SHA-256, on the last line
        size = 0
        local.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("wb") as out:

            def take(chunk: bytes) -> None:
                nonlocal pending, board_hash, size
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    line = line.strip()
                    if line.startswith(b"#"):
                        board_hash = line[1:].decode()
                    elif line:
                        data = binascii.a2b_base64(line)
                        h.update(data)
                        out.write(data)
                        size += len(data)
                        if progress is not None:
                            progress.update(len(data))

            try:
                self.call(f"_fsim_get({_lit(src)},{GET_CHUNK})", src, on_output=take)
                take(b"\n")
            except BaseException:
                out.close()
                temp.unlink(missing_ok=True)
                raise
        if board_hash != h.hexdigest():
            temp.unlink(missing_ok=True)
            raise RemoteError(
                f"{src}: the data received does not match the board's SHA-256 (damaged on the line)",
                "retry; if it persists check the cable",
            )
        os.replace(temp, local)
        return size

    def put(
        self, local: Path, remote: str | None = None, progress: bool | None = None
    ) -> list[tuple[Path, str]]:
        """Copy a file or folder to the board; returns ``(local, board path)`` of every file sent.

        A file goes to ``remote`` (default ``/flash/<name>``; into it when it is a folder or ends with
        ``/``). A folder's contents go into ``remote`` (default ``/flash/<folder name>``)."""
        if local.is_dir():
            root = remote_path(remote) if remote else remote_path(local.resolve().name)
            pairs = [(path, posixpath.join(root, rel)) for path, rel in local_files(local)]
            folders = {root} | {posixpath.dirname(dest) for _, dest in pairs}
        elif local.is_file():
            if remote is None or remote.rstrip().endswith("/") or remote.strip() in ("", ":"):
                dest = posixpath.join(remote_path(remote), local.name)
            else:
                dest = remote_path(remote)
                st = self.stat(dest)
                if st is not None and st[0]:
                    dest = posixpath.join(dest, local.name)
            pairs = [(local, dest)]
            folders = {posixpath.dirname(dest)}
        else:
            raise RemoteError(f"{local}: no such file or folder", "give an existing local file or folder")
        self.mkdirs(*sorted(f for f in folders if f not in ("/", FLASH)))
        self.clean_parts(folders)
        self._send(pairs, progress)
        return pairs

    def _send(self, pairs: list[tuple[Path, str]], progress: bool | None) -> int:
        total = sum(path.stat().st_size for path, _ in pairs)
        bar = Progress(total, "put", progress)
        try:
            for path, dest in pairs:
                bar.label = f"put {dest}"
                self.put_file(path, dest, bar)
        finally:
            bar.done()
        return total

    def get(self, remote: str, local: Path | None = None, progress: bool | None = None) -> list[Path]:
        """Copy a board file or folder here; returns the local files written.

        A file goes to ``local`` (default ``./<name>``; into it when it is a folder). A folder's
        contents go into ``local`` (default ``./<folder name>``)."""
        src = remote_path(remote)
        st = self.stat(src)
        if st is None:
            raise remote_error(BoardError("OSError: [Errno 2] ENOENT"), src, self.session.port)
        is_dir, size = st
        if is_dir:
            root = local if local is not None else Path(posixpath.basename(src) or "flash")
            found = self.walk(src)
            pairs = [(e.path, root / posixpath.relpath(e.path, src)) for e in found if not e.is_dir]
            sizes = {e.path: e.size for e in found if not e.is_dir}
            for e in found:
                if e.is_dir:
                    (root / posixpath.relpath(e.path, src)).mkdir(parents=True, exist_ok=True)
            root.mkdir(parents=True, exist_ok=True)
        else:
            dest = local if local is not None else Path(posixpath.basename(src))
            if dest.is_dir():
                dest = dest / posixpath.basename(src)
            pairs = [(src, dest)]
            sizes = {src: size}
        bar = Progress(sum(sizes.values()), "get", progress)
        try:
            for path, dest in pairs:
                bar.label = f"get {path}"
                self.get_file(path, dest, bar)
        finally:
            bar.done()
        return [dest for _, dest in pairs]

    def sync(
        self,
        folder: Path,
        remote: str = FLASH,
        progress: bool | None = None,
        chosen: list[tuple[Path, str]] | None = None,
    ) -> SyncResult:
        """Send the files of ``folder`` (or the ``chosen`` ones, with their paths relative to ``remote``)
        whose SHA-256 differs from the board's copy (or that it lacks)."""
        root = remote_path(remote)
        chosen = local_files(folder) if chosen is None else chosen
        files = [(path, posixpath.join(root, rel)) for path, rel in chosen]
        remote_hashes = self.sha256_many(dest for _, dest in files)
        self.clean_parts({root} | {posixpath.dirname(dest) for _, dest in files})
        result = SyncResult()
        changed = []
        for path, dest in files:
            if remote_hashes.get(dest) == sha256_file(path):
                result.unchanged.append(dest)
            else:
                changed.append((path, dest))
        if changed:
            self.mkdirs(*sorted({posixpath.dirname(d) for _, d in changed} - {"/", FLASH}))
            result.bytes_sent = self._send(changed, progress)
        result.sent = [dest for _, dest in changed]
        return result


def _is_part(name: str, is_dir: bool) -> bool:
    """An upload part (a file named ``*.fsim-part``): not for the user's eyes."""
    return not is_dir and name.endswith(TEMP_SUFFIX)


def _entry(line: str) -> tuple[str, bool, int]:
    """``(name or path, is_dir, size)`` from a line the helpers printed."""
    value = _literal(line.strip())
    if not (isinstance(value, tuple) and len(value) == 3):
        raise RunnerError(
            f"unexpected answer from the board: {line[:80]!r}", "retry; if it persists reset the board"
        )
    return str(value[0]), bool(value[1]), int(value[2])


def _literal(text: str) -> object:
    """A Python literal the board printed; ``RunnerError`` when it is not one."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise RunnerError(
            f"unexpected answer from the board: {text[:80]!r}", "retry; if it persists reset the board"
        ) from None
