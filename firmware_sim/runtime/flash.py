"""The board's ``/flash``: a real folder, seen through board paths, with no way out of it.

Board paths are POSIX paths under ``/flash`` (the working directory at boot). Anything that
normalises outside ``/flash`` (``/flash/../../etc/passwd``) does not exist for the board:
``OSError: [Errno 2] ENOENT``, as on the device. Errors carry MicroPython's errno names and never a
host path. The simulator's own files (nvs) live in ``/flash/.firmware-sim``, invisible to the board.

No check is ever separate from its use. Every operation walks the path one component at a time from
a descriptor of the flash folder (``openat`` with ``O_NOFOLLOW``), so whatever a host process swaps
meanwhile, the walk only ever stands in folders it opened inside the flash. A symlink met on the way
is read from the descriptor of the link itself and its target walked the same way: one that stays
inside the flash is followed, one that leaves it (or dangles, or loops) is ENOENT, as a board, which
has no symlinks, would say of a file it does not have. The last component is opened, made or removed
relative to its folder's descriptor with ``O_NOFOLLOW`` (a link swapped in there fails, and is then
read and walked in turn).

Another volume (an SD card at ``/sd``, :meth:`Flash.mount`) is a folder inside the flash's hidden one,
walked the same way from its own descriptor (reached with ``O_NOFOLLOW`` at each step): nothing leaves it.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path

ROOT = "/flash"
HIDDEN = ".firmware-sim"
MAX_LINKS = 40  # symlinks followed in one lookup, as Linux's own limit; a loop is ENOENT

_LOOK = os.O_PATH | os.O_NOFOLLOW  # a descriptor of the entry itself, symlink or not, opening nothing

_NAMES = {
    errno.ENOENT: "ENOENT",
    errno.EEXIST: "EEXIST",
    errno.EACCES: "EACCES",
    errno.EISDIR: "EISDIR",
    errno.ENOTDIR: "ENOTDIR",
    errno.EINVAL: "EINVAL",
    errno.ENOTEMPTY: "ENOTEMPTY",
    errno.ENOSPC: "ENOSPC",
    errno.EBADF: "EBADF",
    errno.EPERM: "EPERM",
    errno.EROFS: "EROFS",
}
_FOLDER = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW


def mp_oserror(code: int) -> OSError:
    """``OSError: [Errno 2] ENOENT`` as MicroPython prints it."""
    return OSError(code, _NAMES.get(code, errno.errorcode.get(code, str(code))))


@contextlib.contextmanager
def mp_errors() -> Iterator[None]:
    """Re-raise host filesystem errors as the board's ``OSError(errno, NAME)`` (no host path)."""
    try:
        yield
    except OSError as err:
        if err.errno is None or (err.args[1:2] == (_NAMES.get(err.errno),) and err.filename is None):
            raise
        raise mp_oserror(err.errno) from None


class _Walk:
    """Open folders from a volume's root down to where a walk stands, and their names inside it."""

    def __init__(self, root_fd: int, point: str, root: Path) -> None:
        self.fds = [root_fd]
        self.names: list[str] = []
        self.point = point  # the volume's mount point ("/flash", "/sd")
        self.root = root  # its host folder (absolute symlink targets are taken inside it)

    @property
    def fd(self) -> int:
        return self.fds[-1]

    def check(self, name: str) -> None:
        """ENOENT for the simulator's hidden folder: it is not there for the board."""
        if not self.names and name == HIDDEN and self.point == ROOT:
            raise mp_oserror(errno.ENOENT)

    def down(self, fd: int, name: str) -> None:
        """Stand in ``fd`` (folder ``name``), which the walk now owns."""
        self.check(name)
        self.fds.append(fd)
        self.names.append(name)

    def up(self) -> None:
        if not self.names:
            raise mp_oserror(errno.ENOENT)  # above the volume: nothing there for the board
        os.close(self.fds.pop())
        self.names.pop()

    def to_root(self) -> None:
        while self.names:
            self.up()

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def __enter__(self) -> _Walk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Flash:
    """The board's file operations on the folder ``root``, every one confined to it."""

    def __init__(self, root: str | Path) -> None:
        Path(root).mkdir(parents=True, exist_ok=True)
        self.root = Path(root).resolve()
        self.cwd = ROOT
        # the other volumes in mount order: mount point ("/sd") -> (its folder, read-only); pop to unmount
        self.volumes: dict[str, tuple[tuple[str, ...], bool]] = {}
        root_fd = self._open_folder(())
        try:
            for folder in ("lib", "cert", "sys", HIDDEN):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(folder, dir_fd=root_fd)
        finally:
            os.close(root_fd)

    # -- paths -------------------------------------------------------------------------------------------

    def board_path(self, path: str | bytes) -> str:
        """``path`` as an absolute, normalised board path (relative to the board's cwd)."""
        if isinstance(path, bytes):
            path = path.decode()
        if not isinstance(path, str):
            raise TypeError(f"can't convert '{type(path).__name__}' object to str implicitly")
        return posixpath.normpath(posixpath.join(self.cwd, path))

    def _parts(self, path: str | bytes) -> tuple[str, list[str]]:
        """The mount point of the volume ``path`` is on, and the path's components inside it."""
        board = self.board_path(path)
        for point in (ROOT, *self.volumes):
            if board == point or board.startswith(point + "/"):
                return point, [part for part in board[len(point) :].split("/") if part]
        raise mp_oserror(errno.ENOENT)

    def _open_folder(self, folder: tuple[str, ...], make: bool = False) -> int:
        """A descriptor of the flash's host sub-folder ``folder``, each step taken with ``O_NOFOLLOW``
        (a symlink on the way fails); ``make`` makes the missing folders."""
        fd = os.open(self.root, _FOLDER)
        for name in folder:
            try:
                if make:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, dir_fd=fd)
                child = os.open(name, _FOLDER, dir_fd=fd)
            finally:
                os.close(fd)
            fd = child
        return fd

    # -- volumes ----------------------------------------------------------------------------------------

    def mount(self, point: str, folder: tuple[str, ...], readonly: bool = False) -> None:
        """Make the flash's host sub-folder ``folder`` (made if missing, never through a symlink) the
        volume at board path ``point`` (``"/sd"``); EPERM where something is mounted already."""
        if point == ROOT or point in self.volumes:
            raise mp_oserror(errno.EPERM)
        with mp_errors():
            os.close(self._open_folder(folder, make=True))
        self.volumes[point] = (folder, readonly)

    def _writable(self, path: str | bytes) -> tuple[str, list[str]]:
        """``_parts`` of a path the board changes: EROFS on a volume mounted read-only."""
        point, parts = self._parts(path)
        if point != ROOT and self.volumes[point][1]:
            raise mp_oserror(errno.EROFS)
        return point, parts

    def _target(self, link_fd: int, walk: _Walk, links: int) -> tuple[list[str], int]:
        """The components a symlink (open as ``link_fd``) points to, from where ``walk`` stands (moved
        to the root for an absolute target inside the flash); ENOENT for one leaving the flash."""
        if links >= MAX_LINKS:
            raise mp_oserror(errno.ENOENT)  # a loop: the board has no such file
        target = os.readlink("", dir_fd=link_fd)  # the link we hold, not whatever has the name now
        if target.startswith("/"):
            inside = posixpath.relpath(posixpath.normpath(target), str(walk.root))
            if inside == ".." or inside.startswith("../"):
                raise mp_oserror(errno.ENOENT)
            walk.to_root()
            target = inside
        return target.split("/"), links + 1

    def _walk(self, point: str, parts: list[str], links: int = 0) -> tuple[_Walk, str | None, int]:
        """Open the folders down to the last component of ``parts`` in the volume at ``point``,
        following symlinks inside it: the walk standing in the last one's folder, its name (None when
        the path is that folder itself) and the symlinks followed so far."""
        folder = self.volumes[point][0] if point != ROOT else ()
        walk = _Walk(self._open_folder(folder), point, self.root.joinpath(*folder))
        pending = list(reversed(parts))
        try:
            while pending:
                name = pending.pop()
                if name in ("", "."):
                    continue
                if name == "..":
                    walk.up()
                elif not pending:
                    walk.check(name)
                    return walk, name, links
                else:
                    target, links = self._step(walk, name, links)
                    pending.extend(reversed(target))
            return walk, None, links
        except BaseException:
            walk.close()
            raise

    def _step(self, walk: _Walk, name: str, links: int) -> tuple[list[str], int]:
        """Step from where ``walk`` stands onto ``name``: into it when it is a folder (no components
        left to walk), else the components its symlink points to; ENOTDIR for anything else."""
        fd = os.open(name, _LOOK, dir_fd=walk.fd)
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                walk.down(fd, name)
                fd = -1  # the walk's now
                return [], links
            if not stat.S_ISLNK(mode):
                raise mp_oserror(errno.ENOTDIR)
            return self._target(fd, walk, links)
        finally:
            if fd >= 0:
                os.close(fd)

    def _entry(self, path: str | bytes) -> _Walk:
        """A walk standing on the entry ``path`` names, symlinks inside the flash followed: its ``fd``
        is the entry's own (a folder or a file)."""
        (point, parts), links = self._parts(path), 0
        while True:
            walk, name, links = self._walk(point, parts, links)
            if name is None:
                return walk
            try:
                fd = os.open(name, _LOOK, dir_fd=walk.fd)
                try:
                    if not stat.S_ISLNK(os.fstat(fd).st_mode):
                        walk.down(fd, name)
                        fd = -1
                        return walk
                    target, links = self._target(fd, walk, links)
                finally:
                    if fd >= 0:
                        os.close(fd)
                parts = walk.names + target
            except BaseException:
                walk.close()
                raise
            walk.close()

    # -- the board's operations ------------------------------------------------------------------------

    def open(
        self,
        file: str | bytes,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ):
        """The board's ``open``: only files of its volumes; text is not newline-translated (MicroPython)."""
        if "b" not in mode and newline is None:
            newline = ""
        shown = self.board_path(file)
        (point, parts), links = (self._writable if set(mode) & set("wax+") else self._parts)(file), 0
        with mp_errors():
            while True:
                walk, name, links = self._walk(point, parts, links)
                with walk:
                    if name is None:
                        raise mp_oserror(errno.EISDIR)

                    def opener(_shown: str, flags: int, folder: int = walk.fd, last: str = name) -> int:
                        return os.open(last, flags | os.O_NOFOLLOW, 0o666, dir_fd=folder)

                    try:
                        return builtins.open(shown, mode, buffering, encoding, errors, newline, opener=opener)
                    except OSError as err:
                        if err.errno != errno.ELOOP:
                            raise
                    # the last component is a symlink: walk its target (inside the flash only)
                    fd = os.open(name, _LOOK, dir_fd=walk.fd)
                    try:
                        if stat.S_ISLNK(os.fstat(fd).st_mode):
                            target, links = self._target(fd, walk, links)
                            parts = walk.names + target
                        elif links >= MAX_LINKS:
                            raise mp_oserror(errno.ENOENT)
                        else:
                            links += 1  # swapped back meanwhile: try again, a bounded number of times
                    finally:
                        os.close(fd)

    def stat(self, path: str | bytes) -> os.stat_result:
        """The host ``stat`` of the entry ``path`` names (symlinks inside the flash followed)."""
        with mp_errors(), self._entry(path) as walk:
            return os.fstat(walk.fd)

    def is_dir(self, path: str | bytes) -> bool:
        try:
            return stat.S_ISDIR(self.stat(path).st_mode)
        except OSError:
            return False

    def is_file(self, path: str | bytes) -> bool:
        try:
            return stat.S_ISREG(self.stat(path).st_mode)
        except OSError:
            return False

    def listdir(self, path: str | bytes) -> list[str]:
        """The names in folder ``path``, sorted; entries that do not exist for the board (the hidden
        folder, symlinks leaving the flash, dangling or looping) are left out."""
        with mp_errors():
            with self._entry(path) as walk:
                folder = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=walk.fd)
                point, where = walk.point, list(walk.names)
            try:
                with os.scandir(folder) as entries:
                    found = [(entry.name, entry.is_symlink()) for entry in entries]
            finally:
                os.close(folder)
        names = []
        for name, link in found:
            if not where and name == HIDDEN and point == ROOT:
                continue
            if link and not self._exists(point, where + [name]):
                continue
            names.append(name)
        return sorted(names)

    def _exists(self, point: str, parts: list[str]) -> bool:
        try:
            with self._entry(point + "/" + "/".join(parts)):
                return True
        except OSError:
            return False

    def mkdir(self, path: str | bytes) -> None:
        point, parts = self._writable(path)
        with mp_errors():
            walk, name, _ = self._walk(point, parts)
            with walk:
                if name is None:
                    raise mp_oserror(errno.EEXIST)
                os.mkdir(name, dir_fd=walk.fd)

    def rmdir(self, path: str | bytes) -> None:
        point, parts = self._writable(path)
        with mp_errors():
            walk, name, _ = self._walk(point, parts)
            with walk:
                if name is None:
                    raise mp_oserror(errno.EINVAL)
                os.rmdir(name, dir_fd=walk.fd)

    def remove(self, path: str | bytes) -> None:
        """Remove file ``path`` (a symlink there is removed itself, its target never)."""
        point, parts = self._writable(path)
        with mp_errors():
            walk, name, _ = self._walk(point, parts)
            with walk:
                if name is None:
                    raise mp_oserror(errno.EISDIR)
                os.remove(name, dir_fd=walk.fd)

    def rename(self, old: str | bytes, new: str | bytes) -> None:
        """Rename within one volume (EPERM across two, as MicroPython's vfs)."""
        (point, old_parts), (new_point, new_parts) = self._parts(old), self._parts(new)
        if point != new_point:
            raise mp_oserror(errno.EPERM)
        self._writable(old)
        with mp_errors():
            source, old_name, _ = self._walk(point, old_parts)
            with source:
                target, new_name, _ = self._walk(point, new_parts)
                with target:
                    if old_name is None or new_name is None:
                        raise mp_oserror(errno.EINVAL)
                    os.rename(old_name, new_name, src_dir_fd=source.fd, dst_dir_fd=target.fd)

    def private(self, name: str) -> Path:
        """A file of the simulator's own (nvs), kept with the flash but hidden from the board."""
        return self.root / HIDDEN / name
