"""The board's /flash through the runner: copy both ways, list, remove; nothing escapes /flash."""

from __future__ import annotations

import pytest

from firmware_sim.serial import BoardError, RemoteFS

REMOTE = "/flash/board_tests_tmp"


@pytest.fixture
def fs(board):
    remote = RemoteFS(board)
    if remote.stat(REMOTE):  # left over from an interrupted run
        remote.rm(REMOTE, recursive=True)
    yield remote
    if remote.stat(REMOTE):
        remote.rm(REMOTE, recursive=True)


def test_put_get_round_trip_of_binary_files(fs, tmp_path):
    source = tmp_path / "src"
    (source / "lib").mkdir(parents=True)
    (source / "main.py").write_text("print('hi')\n")
    (source / "lib" / "blob.bin").write_bytes(bytes(range(256)) * 20)
    fs.put(source, REMOTE)
    names = sorted(entry.name for entry in fs.ls(REMOTE))
    assert names == ["lib", "main.py"]
    back = tmp_path / "back"
    fs.get(REMOTE, back)
    got = next(p for p in back.rglob("blob.bin"))
    assert got.read_bytes() == bytes(range(256)) * 20


def test_rm_removes_and_a_missing_file_is_enoent(fs, board, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("x")
    fs.put(note, f"{REMOTE}/note.txt")
    fs.rm(f"{REMOTE}/note.txt")
    assert fs.stat(f"{REMOTE}/note.txt") is None
    with pytest.raises(BoardError, match="ENOENT"):
        board.exec(f"open('{REMOTE}/note.txt')")


def test_paths_outside_flash_do_not_exist(board):
    with pytest.raises(BoardError, match=r"OSError: \[Errno 2\] ENOENT"):
        board.exec("open('/flash/../../etc/passwd')")
