"""Files the walk can list but not examine are reported, never silently left out."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from dedup_gui.core.files import discovery
from dedup_gui.core.files.discovery import discover
from dedup_gui.core.models import ErrorKind
from tests.imagegen import make_photo


def write_photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    make_photo(31, 32, 24).save(path)
    return path


class _ListedOnly:
    """A directory entry whose name can be read but whose details cannot (no search right
    on its folder)."""

    def __init__(self, entry: os.DirEntry[str]) -> None:
        self.name, self.path = entry.name, entry.path

    def is_symlink(self) -> bool:
        raise PermissionError(13, "Permission denied", self.path)

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        raise PermissionError(13, "Permission denied", self.path)


class _Listing:
    def __init__(self, entries: list[object]) -> None:
        self._entries = entries

    def __enter__(self) -> list[object]:
        return self._entries

    def __exit__(self, *exc_info: object) -> None:
        return None


def test_files_that_can_be_listed_but_not_examined_are_reported(tmp_path, monkeypatch):
    write_photo(tmp_path / "ok" / "a.jpg")
    hidden_from_us = write_photo(tmp_path / "listed only" / "b.jpg")
    real_scandir = os.scandir

    def scandir(path):
        with real_scandir(path) as entries:
            listed = list(entries)
        if os.fspath(path) == str(hidden_from_us.parent):
            return _Listing([_ListedOnly(entry) for entry in listed])
        return _Listing(listed)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = discover([tmp_path])

    assert [Path(f.path).name for f in result.files] == ["a.jpg"]
    assert [(e.path, e.kind) for e in result.errors] == [
        (str(hidden_from_us), ErrorKind.PERMISSION)
    ]
    assert "permission denied" in result.errors[0].message


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_that_can_be_listed_but_not_entered_is_reported(tmp_path):
    photo = write_photo(tmp_path / "listed only" / "b.jpg")
    photo.parent.chmod(0o644)  # read (list names) without execute (stat the entries)
    try:
        result = discover([tmp_path])
    finally:
        photo.parent.chmod(0o755)
    assert [(e.path, e.kind) for e in result.errors] == [(str(photo), ErrorKind.PERMISSION)]
