"""Discovery: each file once, by content too, surviving loops and unreadable folders."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from dedup_gui.core.files.discovery import discover
from dedup_gui.core.models import CancelToken, ErrorKind
from dedup_gui.core.scanning.scanner import ScanOptions, scan
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
def test_a_symlinked_folder_outside_the_roots_is_followed_when_asked(tmp_path):
    outside = write_photo(tmp_path / "outside" / "x.jpg").parent
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(outside, target_is_directory=True)
    result = discover([root], follow_links=True)
    assert [file.path for file in result.files] == [str(root / "linked" / "x.jpg")]
    assert result.errors == []


def not_followed(result) -> list[str]:
    return [e.path for e in result.errors if e.kind is ErrorKind.LINK_NOT_FOLLOWED]


@needs_symlinks
def test_a_parent_link_does_not_pull_the_sibling_folders_into_the_scan(tmp_path):
    mine = write_photo(tmp_path / "chosen" / "mine.jpg")
    write_photo(tmp_path / "sibling" / "theirs.jpg")
    write_photo(tmp_path / "next to chosen.jpg")
    (tmp_path / "chosen" / "parent").symlink_to("..", target_is_directory=True)

    result = discover([tmp_path / "chosen"])

    assert [file.path for file in result.files] == [str(mine)]
    [error] = result.errors
    assert (error.path, error.kind) == (
        str(tmp_path / "chosen" / "parent"), ErrorKind.LINK_NOT_FOLLOWED
    )
    assert error.message == (
        f"Not followed: the link leads outside the chosen folders ({tmp_path})."
    )
    assert ErrorKind.LINK_NOT_FOLLOWED.value == "link-not-followed"


@needs_symlinks
def test_a_link_to_a_big_outside_folder_is_listed_once_not_per_file(tmp_path):
    outside = tmp_path / "whole disk"
    for folder in range(5):
        for index in range(4):
            write_photo(outside / f"folder {folder}" / f"{index}.jpg", size=(32, 24))
    (outside / "folder 0" / "nested link").symlink_to(outside / "folder 1")
    root = write_photo(tmp_path / "chosen" / "mine.jpg").parent
    (root / "everything").symlink_to(outside, target_is_directory=True)

    result = discover([root])

    assert [file.path for file in result.files] == [str(root / "mine.jpg")]
    assert not_followed(result) == [str(root / "everything")]
    assert len(result.errors) == 1
    assert str(outside) in result.errors[0].message


@needs_symlinks
def test_a_link_to_a_folder_inside_another_chosen_root_is_scanned_once(tmp_path):
    other = write_photo(tmp_path / "b_other" / "sub" / "o.jpg")
    root = write_photo(tmp_path / "a_root" / "r.jpg").parent
    (root / "to other").symlink_to(other.parent, target_is_directory=True)
    (root / "back to itself").symlink_to(root, target_is_directory=True)

    result = discover([root, tmp_path / "b_other"])

    assert [file.path for file in result.files] == [str(root / "r.jpg"), str(other)]
    assert result.errors == []


@needs_symlinks
def test_a_file_link_is_followed_inside_the_chosen_folders_only(tmp_path):
    outside = write_photo(tmp_path / "outside" / "x.jpg")
    inside = write_photo(tmp_path / "chosen" / "sub" / "real.jpg")
    root = inside.parent.parent
    (root / "alias of outside.jpg").symlink_to(outside)
    (root / "alias of inside.jpg").symlink_to(inside)

    result = discover([root])

    assert [file.path for file in result.files] == [str(inside)]
    assert not_followed(result) == [str(root / "alias of outside.jpg")]
    assert str(outside) in result.errors[0].message


@needs_symlinks
def test_a_root_that_is_a_link_is_followed_and_its_target_counts_as_inside(tmp_path):
    real = write_photo(tmp_path / "elsewhere" / "library" / "a.jpg").parent
    write_photo(real / "sub" / "b.jpg")
    (real / "z shortcut to sub").symlink_to(real / "sub", target_is_directory=True)
    chosen = tmp_path / "Pictures"
    chosen.symlink_to(real, target_is_directory=True)

    result = discover([chosen])

    paths = [file.path for file in result.files]
    assert [Path(path).name for path in paths] == ["a.jpg", "b.jpg"]
    assert all(path.startswith(str(chosen) + os.sep) for path in paths)
    assert result.errors == []


@needs_symlinks
def test_inside_a_linked_root_a_link_to_a_sibling_never_names_the_siblings_files(tmp_path):
    real = write_photo(tmp_path / "elsewhere" / "library" / "sub" / "b.jpg").parent.parent
    # Sorted before "sub", and absolute: the link is met first in the listing.
    (real / "a shortcut to sub").symlink_to(real / "sub", target_is_directory=True)
    chosen = tmp_path / "Pictures"
    chosen.symlink_to(real, target_is_directory=True)

    result = discover([chosen])

    assert [file.path for file in result.files] == [str(chosen / "sub" / "b.jpg")]
    assert result.errors == []


@needs_symlinks
def test_dangling_links_stay_silent(tmp_path):
    root = write_photo(tmp_path / "chosen" / "a.jpg").parent
    (root / "gone").symlink_to(tmp_path / "removed folder", target_is_directory=True)
    (root / "gone.jpg").symlink_to(tmp_path / "removed.jpg")
    result = discover([root])
    assert [file.path for file in result.files] == [str(root / "a.jpg")]
    assert result.errors == []


@needs_symlinks
def test_following_links_still_visits_each_file_once(tmp_path):
    write_photo(tmp_path / "sibling" / "theirs.jpg")
    shared = write_photo(tmp_path / "outside" / "x.jpg")
    os.link(shared, tmp_path / "outside" / "hard link.jpg")
    root = write_photo(tmp_path / "chosen" / "mine.jpg").parent
    (root / "parent").symlink_to("..", target_is_directory=True)
    (root / "one").symlink_to(shared.parent, target_is_directory=True)
    (root / "two").symlink_to(shared.parent, target_is_directory=True)

    result = discover([root], follow_links=True)

    paths = [file.path for file in result.files]
    assert len(paths) == len({(f.dev, f.ino) for f in result.files}) == 3
    assert str(root / "mine.jpg") in paths  # its real path, not one through "parent"
    assert {Path(path).name for path in paths} == {"mine.jpg", "theirs.jpg", "hard link.jpg"}
    assert result.errors == []


@needs_symlinks
def test_the_scan_passes_follow_links_to_the_walk(tmp_path):
    outside = write_photo(tmp_path / "outside" / "x.jpg").parent
    root = write_photo(tmp_path / "chosen" / "mine.jpg", size=(40, 30)).parent
    (root / "linked").symlink_to(outside, target_is_directory=True)

    default = scan([root], options=ScanOptions(workers=1))
    following = scan([root], options=ScanOptions(workers=1, follow_links=True))

    assert [r.path for r in default.records] == [str(root / "mine.jpg")]
    assert [(e.path, e.kind) for e in default.errors] == [
        (str(root / "linked"), ErrorKind.LINK_NOT_FOLLOWED)
    ]
    assert sorted(r.path for r in following.records) == [
        str(root / "linked" / "x.jpg"), str(root / "mine.jpg")
    ]
    assert following.errors == []


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


def test_an_excluded_subfolder_is_not_walked(tmp_path, monkeypatch):
    write_photo(tmp_path / "a.jpg")
    write_photo(tmp_path / "junk" / "b.jpg")
    write_photo(tmp_path / "junk" / "deeper" / "c.jpg")
    write_photo(tmp_path / "junkyard" / "d.jpg")  # a sibling whose name starts alike
    listed: list[str] = []
    real_scandir = os.scandir

    def scandir(folder):
        listed.append(os.fspath(folder))
        return real_scandir(folder)

    monkeypatch.setattr(os, "scandir", scandir)
    paths = found_paths(tmp_path, excluded=[str(tmp_path / "junk")])
    assert paths == [str(tmp_path / "a.jpg"), str(tmp_path / "junkyard" / "d.jpg")]
    junk = str(tmp_path / "junk")
    assert not [folder for folder in listed if folder == junk or folder.startswith(junk + os.sep)]


def test_a_root_inside_an_excluded_folder_is_walked(tmp_path):
    write_photo(tmp_path / "junk" / "b.jpg")
    kept = write_photo(tmp_path / "junk" / "keep" / "c.jpg")
    paths = found_paths(tmp_path, tmp_path / "junk" / "keep", excluded=[str(tmp_path / "junk")])
    assert paths == [str(kept)]


@needs_symlinks
def test_an_excluded_folder_reached_through_a_link_is_left_out(tmp_path):
    root = tmp_path / "library"
    write_photo(root / "junk" / "b.jpg")
    mine = write_photo(root / "mine.jpg")
    (root / "shortcut").symlink_to(root / "junk", target_is_directory=True)
    (root / "b_alias.jpg").symlink_to(root / "junk" / "b.jpg")
    assert found_paths(root, excluded=[str(root / "junk")]) == [str(mine)]


def test_the_scan_leaves_out_its_excluded_folders(tmp_path):
    root = tmp_path / "library"
    mine = write_photo(root / "mine.jpg")
    write_photo(root / "junk" / "b.jpg", seed=2)
    result = scan([root], options=ScanOptions(workers=1, excluded_folders=(str(root / "junk"),)))
    assert [record.path for record in result.records] == [str(mine)]
