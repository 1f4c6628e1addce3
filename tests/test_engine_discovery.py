"""Discovery: each file once, by content too, surviving loops and unreadable folders."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from dedup_gui.core.discovery import discover
from dedup_gui.core.models import CancelToken, ErrorKind
from tests.engine_fixtures import write_photo

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


def found_paths(*roots, **options) -> list[str]:
    return [file.path for file in discover([str(r) for r in roots], **options).files]


def test_images_are_found_recursively_sorted_with_size_and_mtime(tmp_path):
    write_photo(tmp_path / "b.jpg")
    write_photo(tmp_path / "a" / "deep" / "c.png")
    (tmp_path / "notes.txt").write_text("not an image")
    result = discover([tmp_path])
    paths = [file.path for file in result.files]
    assert paths == sorted(paths)
    assert str(tmp_path / "b.jpg") in paths
    assert str(tmp_path / "a" / "deep" / "c.png") in paths
    by_path = {file.path: file for file in result.files}
    info = (tmp_path / "b.jpg").stat()
    assert (by_path[str(tmp_path / "b.jpg")].size, by_path[str(tmp_path / "b.jpg")].mtime_ns) == (
        info.st_size,
        info.st_mtime_ns,
    )
    assert not by_path[str(tmp_path / "b.jpg")].needs_sniff
    assert by_path[str(tmp_path / "notes.txt")].needs_sniff  # decided by content later


def test_hidden_and_system_folders_are_skipped_unless_asked(tmp_path):
    write_photo(tmp_path / "visible.jpg")
    write_photo(tmp_path / ".thumbnails" / "t.jpg")
    write_photo(tmp_path / "@eaDir" / "s.jpg")
    write_photo(tmp_path / "._visible.jpg")
    assert found_paths(tmp_path) == [str(tmp_path / "visible.jpg")]
    assert len(found_paths(tmp_path, include_hidden=True)) == 4


def test_a_hidden_root_chosen_by_the_user_is_scanned(tmp_path):
    write_photo(tmp_path / ".photos" / "a.jpg")
    assert found_paths(tmp_path / ".photos") == [str(tmp_path / ".photos" / "a.jpg")]


def test_overlapping_roots_list_each_file_once(tmp_path):
    write_photo(tmp_path / "inner" / "a.jpg")
    write_photo(tmp_path / "b.jpg")
    paths = found_paths(tmp_path, tmp_path / "inner", tmp_path)
    assert paths == [str(tmp_path / "b.jpg"), str(tmp_path / "inner" / "a.jpg")]


def test_hard_links_are_one_file(tmp_path):
    original = write_photo(tmp_path / "z_original.jpg")
    os.link(original, tmp_path / "a_link.jpg")
    assert found_paths(tmp_path) == [str(tmp_path / "a_link.jpg")]


@needs_symlinks
def test_a_symlinked_file_is_listed_under_its_real_path(tmp_path):
    original = write_photo(tmp_path / "z_real.jpg")
    (tmp_path / "a_alias.jpg").symlink_to(original)
    assert found_paths(tmp_path) == [str(original)]


@needs_symlinks
def test_a_symlinked_folder_outside_the_roots_is_followed(tmp_path):
    outside = write_photo(tmp_path / "outside" / "x.jpg").parent
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(outside, target_is_directory=True)
    assert found_paths(root) == [str(root / "linked" / "x.jpg")]


@needs_symlinks
def test_symlink_loops_end_and_a_self_link_is_reported(tmp_path):
    write_photo(tmp_path / "a" / "photo.jpg")
    (tmp_path / "a" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self.jpg").symlink_to(tmp_path / "self.jpg")
    result = discover([tmp_path])
    assert [file.path for file in result.files] == [str(tmp_path / "a" / "photo.jpg")]
    assert [(e.path, e.kind) for e in result.errors] == [
        (str(tmp_path / "self.jpg"), ErrorKind.SYMLINK_LOOP)
    ]


def test_an_unreadable_folder_is_reported_and_the_rest_is_found(tmp_path, monkeypatch):
    write_photo(tmp_path / "ok" / "a.jpg")
    write_photo(tmp_path / "locked" / "b.jpg")
    real_scandir = os.scandir
    locked = str(tmp_path / "locked")

    def scandir(path):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = discover([tmp_path])
    assert [file.path for file in result.files] == [str(tmp_path / "ok" / "a.jpg")]
    assert [(e.path, e.kind) for e in result.errors] == [(locked, ErrorKind.UNREADABLE_FOLDER)]
    assert "permission" in result.errors[0].message


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_without_read_permission_is_reported(tmp_path):
    locked = write_photo(tmp_path / "locked" / "b.jpg").parent
    locked.chmod(0)
    try:
        result = discover([tmp_path])
    finally:
        locked.chmod(0o755)
    assert [e.kind for e in result.errors] == [ErrorKind.UNREADABLE_FOLDER]


def test_a_missing_root_is_an_error_not_a_crash(tmp_path):
    result = discover([tmp_path / "nowhere"])
    assert result.files == []
    assert [e.kind for e in result.errors] == [ErrorKind.UNREADABLE_FOLDER]


def test_a_file_given_as_a_root_is_scanned(tmp_path):
    photo = write_photo(tmp_path / "one.jpg")
    assert found_paths(photo) == [str(photo)]


@pytest.mark.skipif(sys.platform != "linux", reason="non-UTF-8 names need a bytes file system")
def test_non_utf8_and_odd_names_round_trip(tmp_path):
    odd = write_photo(tmp_path / "spaces and ünïcödé #1 (copy).jpg")
    raw_name = os.fsdecode(b"caf\xe9.jpg")  # Latin-1 bytes: not valid UTF-8
    shutil.copy(odd, tmp_path / raw_name)
    paths = found_paths(tmp_path)
    assert sorted(paths) == sorted([str(odd), str(tmp_path / raw_name)])
    assert all(Path(path).exists() for path in paths)


def test_a_cancelled_discovery_stops(tmp_path):
    for index in range(3):
        write_photo(tmp_path / f"d{index}" / "a.jpg", size=(32, 24))
    token = CancelToken()
    token.cancel()
    assert discover([tmp_path], cancel=token).cancelled


@needs_symlinks
def test_a_root_that_is_a_link_into_another_root_keeps_the_real_paths(tmp_path):
    real = write_photo(tmp_path / "a_library" / "sub" / "a.jpg")
    (tmp_path / "z_shortcut").symlink_to(real.parent, target_is_directory=True)
    assert found_paths(tmp_path / "z_shortcut", tmp_path / "a_library") == [str(real)]
