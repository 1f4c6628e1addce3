"""Moved and renamed photos are recognised by the cache: nothing is decoded again."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import threading

import pytest

from dedup_gui.core.images.thumbnails import load_thumbnail
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.engine_fixtures import write_photo

TWO_WORKERS = ScanOptions(workers=2)


@pytest.fixture
def cache(tmp_path):
    with HashCache(tmp_path / "cache" / CACHE_FILE_NAME) as opened:
        yield opened


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The paths the scanner decodes or digests, in any order."""
    paths: list[str] = []
    lock = threading.Lock()

    def counting(function):
        def wrapper(path, *args, **kwargs):
            with lock:
                paths.append(os.fspath(path))
            return function(path, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(scanner, "open_reduced", counting(scanner.open_reduced))
    monkeypatch.setattr(scanner, "file_digest", counting(scanner.file_digest))
    return paths


def by_name(records) -> dict[str, object]:
    return {pathlib.Path(record.path).name: record for record in records}


def test_a_moved_and_renamed_folder_is_not_decoded_again(tmp_path, cache, decoded, monkeypatch):
    root = tmp_path / "library"
    for seed, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        write_photo(root / "inbox" / name, seed=seed)
    shutil.copy(root / "inbox" / "a.jpg", root / "inbox" / "a_copy.jpg")  # has a digest
    write_photo(root / "stays.jpg", seed=7)
    before = scan([root], cache=cache, options=TWO_WORKERS)
    assert before.hashed == 5

    destination = root / "2024" / "trip"
    destination.parent.mkdir()
    (root / "inbox").rename(destination)
    (destination / "b.jpg").rename(destination / "beach.jpg")
    decoded.clear()
    after = scan([root], cache=cache, options=TWO_WORKERS)

    assert decoded == []
    assert (after.hashed, after.from_cache, after.errors) == (0, 5, [])
    renamed = {"b.jpg": "beach.jpg"}
    expected = {
        renamed.get(name, name): record for name, record in by_name(before.records).items()
    }
    for name, record in by_name(after.records).items():
        assert record == dataclasses.replace(expected[name], path=record.path)
    assert by_name(after.records)["a.jpg"].content_digest is not None
    assert {record.path for record in after.records} == {
        str(destination / name) for name in ("a.jpg", "a_copy.jpg", "beach.jpg", "c.jpg")
    } | {str(root / "stays.jpg")}

    monkeypatch.setattr(
        "dedup_gui.core.images.thumbnails.open_reduced",
        lambda *args, **kwargs: pytest.fail("decoded although the cache has the thumbnail"),
    )
    assert load_thumbnail(str(destination / "beach.jpg"), cache=cache).size == (256, 192)
    again = scan([root], cache=cache, options=TWO_WORKERS)
    assert (again.hashed, again.records) == (0, after.records)


def test_the_old_paths_are_forgotten_after_the_rescan(tmp_path, cache):
    photo = write_photo(tmp_path / "old" / "a.jpg", seed=1)
    (record,) = scan([tmp_path], cache=cache).records
    moved = tmp_path / "new" / "a.jpg"
    moved.parent.mkdir()
    photo.rename(moved)
    scan([tmp_path], cache=cache)
    assert cache.lookup(str(photo), record.size, record.mtime_ns) is None
    assert cache.thumbnail_jpeg(str(photo), record.size, record.mtime_ns) is None
    assert cache.lookup(str(moved), record.size, record.mtime_ns) is not None


def test_an_edited_file_and_a_copy_with_the_same_mtime_are_hashed(tmp_path, cache, decoded):
    edited = write_photo(tmp_path / "edited.jpg", seed=1)
    original = write_photo(tmp_path / "original.jpg", seed=2, size=(300, 200))
    first = by_name(scan([tmp_path], cache=cache).records)

    info = edited.stat()
    write_photo(edited, seed=3)  # rewritten in place: same inode
    os.utime(edited, ns=(info.st_atime_ns, info.st_mtime_ns + 2_000_000_000))
    assert edited.stat().st_ino == info.st_ino
    copy = shutil.copy2(original, tmp_path / "copy.jpg")  # new inode, same size and mtime
    decoded.clear()
    second = scan([tmp_path], cache=cache)

    assert second.hashed == 2
    # The copy's bytes are the original's: its digest finds the cached record (no decode).
    assert str(edited) in decoded and str(copy) not in decoded
    renewed = by_name(second.records)
    assert renewed["edited.jpg"].dhash != first["edited.jpg"].dhash
    assert renewed["copy.jpg"].content_digest == renewed["original.jpg"].content_digest
    assert dataclasses.replace(renewed["copy.jpg"], path=str(original)) == renewed["original.jpg"]


def test_hash_file_reuses_the_record_of_a_moved_file(tmp_path, cache, decoded):
    photo = write_photo(tmp_path / "a.jpg", seed=4)
    first = scanner.hash_file(photo, cache=cache)
    moved = photo.rename(tmp_path / "renamed.jpg")
    decoded.clear()
    assert scanner.hash_file(moved, cache=cache) == dataclasses.replace(first, path=str(moved))
    assert decoded == []
