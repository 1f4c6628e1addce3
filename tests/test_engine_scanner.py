"""End-to-end scans: records, per-file errors, cache reuse, digests, progress, cancel."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from dedup_gui.core.images.decode import ImageLoadError
from dedup_gui.core.images.thumbnails import load_thumbnail
from dedup_gui.core.models import CancelToken, ErrorKind
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, hash_file, scan
from tests.engine_fixtures import (
    FORMATS,
    file_snapshot,
    write_in_format,
    write_photo,
    write_rotated_copy,
)
from tests.imagegen import make_photo

TWO_WORKERS = ScanOptions(workers=2)


@pytest.fixture
def cache(tmp_path):
    with HashCache(tmp_path / "cache" / CACHE_FILE_NAME) as opened:
        yield opened


def make_library(root: pathlib.Path) -> pathlib.Path:
    for index, extension in enumerate(sorted(FORMATS)):
        write_in_format(
            root / f"photo_{extension}.{extension}", make_photo(index, 200, 150), extension
        )
    write_photo(root / "sub" / "copy_of_jpg.jpg", seed=10)
    shutil.copy(root / "sub" / "copy_of_jpg.jpg", root / "sub" / "exact_copy.jpg")
    shutil.copy(root / "photo_png.png", root / "sub" / "no_extension")
    (root / "readme").write_text("a text file without an extension is simply not an image")
    (root / "notes.jpg").write_text("text named .jpg")
    (root / "empty.png").write_bytes(b"")
    data = (root / "sub" / "copy_of_jpg.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 2])
    Image.new("RGB", (1, 1)).save(root / "dot.png")
    return root


def test_a_scan_hashes_every_image_and_reports_every_bad_file(tmp_path, cache):
    root = make_library(tmp_path / "library")
    before = file_snapshot(root)
    result = scan([root], cache=cache, options=TWO_WORKERS)
    paths = [record.path for record in result.records]
    assert paths == sorted(paths)
    names = [pathlib.Path(path).name for path in paths]
    assert set(names) == {
        *(f"photo_{extension}.{extension}" for extension in FORMATS),
        "copy_of_jpg.jpg",
        "exact_copy.jpg",
        "no_extension",
        "dot.png",
    }
    errors = {pathlib.Path(error.path).name: error.kind for error in result.errors}
    assert errors == {
        "notes.jpg": ErrorKind.NOT_AN_IMAGE,
        "empty.png": ErrorKind.EMPTY,
        "truncated.jpg": ErrorKind.TRUNCATED,
    }
    assert (result.hashed, result.from_cache, result.cancelled) == (12, 0, False)
    assert file_snapshot(root) == before  # scanning never changes a file


def test_records_carry_size_mtime_dimensions_format_and_capture_time(tmp_path):
    path = write_rotated_copy(
        tmp_path / "turned.jpg", make_photo(3, 300, 200), 6, capture="2018:05:06 07:08:09"
    )
    (record,) = scan([tmp_path]).records
    info = path.stat()
    assert (record.size, record.mtime_ns) == (info.st_size, info.st_mtime_ns)
    assert (record.width, record.height, record.format) == (300, 200, "JPEG")
    assert record.capture_time == "2018-05-06T07:08:09"


def test_exact_copies_share_a_digest_and_unique_sizes_get_none(tmp_path):
    original = write_photo(tmp_path / "a.jpg", seed=1)
    shutil.copy(original, tmp_path / "b.jpg")
    write_photo(tmp_path / "c.jpg", seed=2, size=(200, 100))
    by_name = {pathlib.Path(r.path).name: r for r in scan([tmp_path]).records}
    assert by_name["a.jpg"].content_digest is not None
    assert by_name["a.jpg"].content_digest == by_name["b.jpg"].content_digest
    assert by_name["c.jpg"].content_digest is None


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    root = make_library(tmp_path / "library")
    one = scan([root], options=ScanOptions(workers=1))
    two = scan([root], options=TWO_WORKERS)
    assert one.records == two.records
    assert one.errors == two.errors


def test_a_rescan_comes_from_the_cache_and_matches(tmp_path, cache):
    root = make_library(tmp_path / "library")
    cold = scan([root], cache=cache, options=TWO_WORKERS)
    warm = scan([root], cache=cache, options=TWO_WORKERS)
    assert (warm.hashed, warm.from_cache) == (0, len(cold.records))
    assert warm.records == cold.records
    assert warm.errors == cold.errors


def test_every_record_carries_the_identity_and_ctime_this_scan_saw(tmp_path, cache):
    root = make_library(tmp_path / "library")
    for rescan in (False, True):  # hashed, then from the cache
        result = scan([root], cache=cache, options=TWO_WORKERS)
        assert result.from_cache == (len(result.records) if rescan else 0)
        assert result.roots == (str(root),)
        for record in result.records:
            info = pathlib.Path(record.path).stat()
            assert (record.dev, record.ino, record.ctime_ns) == (
                info.st_dev, info.st_ino, info.st_ctime_ns,
            )


def test_a_changed_file_is_rehashed_and_a_deleted_one_forgotten(tmp_path, cache):
    changed = write_photo(tmp_path / "changed.jpg", seed=1)
    deleted = write_photo(tmp_path / "deleted.jpg", seed=2)
    write_photo(tmp_path / "same.jpg", seed=3)
    first = {pathlib.Path(r.path).name: r for r in scan([tmp_path], cache=cache).records}
    write_photo(changed, seed=4, size=(300, 200))
    deleted.unlink()
    second = scan([tmp_path], cache=cache)
    assert (second.hashed, second.from_cache) == (1, 1)
    renewed = {pathlib.Path(r.path).name: r for r in second.records}
    assert renewed["changed.jpg"].phash != first["changed.jpg"].phash
    assert renewed["changed.jpg"].width == 300
    old = first["deleted.jpg"]
    assert cache.lookup(old.path, old.size, old.mtime_ns) is None


def test_a_new_exact_copy_adds_a_digest_to_the_cached_original(tmp_path, cache):
    original = write_photo(tmp_path / "a.jpg")
    (cached,) = scan([tmp_path], cache=cache).records
    assert cached.content_digest is None
    shutil.copy(original, tmp_path / "b.jpg")
    result = scan([tmp_path], cache=cache)
    assert result.hashed == 1
    first, second = result.records
    assert first.content_digest is not None
    assert first.content_digest == second.content_digest
    assert dataclasses.replace(first, content_digest=None) == cached


def test_progress_comes_from_the_calling_thread_and_ends_done(tmp_path):
    for index in range(6):
        write_photo(tmp_path / f"p{index}.jpg", seed=index)
    reports = []
    threads = set()

    def on_progress(progress):
        reports.append(progress)
        threads.add(threading.get_ident())

    scan([tmp_path], options=TWO_WORKERS, progress=on_progress)
    assert threads == {threading.get_ident()}
    assert reports[-1].phase == "done"
    assert reports[-1].done == reports[-1].total == 6
    assert reports[-1].bytes_done == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert reports[-1].bytes_per_second > 0
    hashing = [report.done for report in reports if report.phase != "discovering"]
    assert hashing == sorted(hashing)


def test_cancel_mid_scan_keeps_and_caches_the_finished_records(tmp_path, cache, monkeypatch):
    for index in range(12):
        write_photo(tmp_path / f"p{index:02}.jpg", seed=index, size=(160, 120))
    token = CancelToken()

    def cancel_after_first(progress):
        if progress.phase == "hashing" and progress.done >= 1:
            token.cancel()

    original_hash = scanner._hash_task

    def slow_hash(task):  # give the cancel a chance to land before the last file
        outcome = original_hash(task)
        threading.Event().wait(0.02)
        return outcome

    monkeypatch.setattr(scanner, "_hash_task", slow_hash)
    result = scan(
        [tmp_path],
        cache=cache,
        options=ScanOptions(workers=1),
        progress=cancel_after_first,
        cancel=token,
    )
    monkeypatch.undo()
    assert result.cancelled
    assert 1 <= len(result.records) < 12
    rescan = scan([tmp_path], cache=cache)
    assert rescan.from_cache >= len(result.records)
    kept = {r.path: r for r in rescan.records}
    assert all(kept[r.path] == r for r in result.records)


def test_a_file_that_vanishes_or_changes_mid_scan_is_reported(tmp_path, monkeypatch):
    vanishing = write_photo(tmp_path / "vanishing.jpg", seed=1)
    changing = write_photo(tmp_path / "changing.jpg", seed=2)
    write_photo(tmp_path / "steady.jpg", seed=3)
    real_open_reduced = scanner.open_reduced

    def meddling_open_reduced(path, *args, **kwargs):
        decoded = real_open_reduced(path, *args, **kwargs)
        if path == str(vanishing):
            vanishing.unlink()
        elif path == str(changing):
            with changing.open("ab") as handle:
                handle.write(b"more bytes")
        return decoded

    monkeypatch.setattr(scanner, "open_reduced", meddling_open_reduced)
    result = scan([tmp_path], options=ScanOptions(workers=1))
    assert [pathlib.Path(r.path).name for r in result.records] == ["steady.jpg"]
    assert {pathlib.Path(e.path).name: e.kind for e in result.errors} == {
        "changing.jpg": ErrorKind.CHANGED,
        "vanishing.jpg": ErrorKind.VANISHED,
    }


def test_an_unreadable_file_is_a_permission_error(tmp_path, monkeypatch):
    locked = write_photo(tmp_path / "locked.jpg", seed=1)
    write_photo(tmp_path / "open.jpg", seed=2)
    real_open = os.open

    def guarded_open(path, *args, **kwargs):
        if os.fspath(path) == str(locked):  # chmod cannot lock a file away from root
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    result = scan([tmp_path], options=ScanOptions(workers=1))
    assert [pathlib.Path(r.path).name for r in result.records] == ["open.jpg"]
    assert [(e.path, e.kind) for e in result.errors] == [(str(locked), ErrorKind.PERMISSION)]


def test_a_corrupt_cache_never_stops_a_scan(tmp_path):
    cache_path = tmp_path / "cache" / CACHE_FILE_NAME
    cache_path.parent.mkdir()
    cache_path.write_bytes(b"garbage" * 1000)
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg")
    with HashCache(cache_path) as cache:
        result = scan([photos], cache=cache)
    assert len(result.records) == 1
    assert any("rebuilt" in warning for warning in result.warnings)


def test_worker_processes_give_the_same_records_as_threads(tmp_path):
    for index in range(3):
        write_photo(tmp_path / f"p{index}.jpg", seed=index)
    threaded = scan([tmp_path], options=ScanOptions(workers=2))
    in_processes = scan([tmp_path], options=ScanOptions(workers=2, use_processes=True))
    assert in_processes.records == threaded.records


def test_hash_file_matches_the_scan_and_raises_for_bad_input(tmp_path, cache):
    photo = write_photo(tmp_path / "a.jpg")
    (scanned,) = scan([tmp_path]).records
    queried = hash_file(photo, cache=cache)
    assert dataclasses.replace(queried, content_digest=None) == scanned
    assert queried.content_digest is not None
    assert hash_file(photo, cache=cache) == queried  # second time from the cache
    (tmp_path / "bad.jpg").write_text("nope")
    with pytest.raises(ImageLoadError) as caught:
        hash_file(tmp_path / "bad.jpg")
    assert caught.value.kind is ErrorKind.NOT_AN_IMAGE


def test_review_thumbnails_come_from_the_cache_after_a_scan(tmp_path, cache, monkeypatch):
    photo = write_rotated_copy(tmp_path / "turned.jpg", make_photo(9, 640, 480), 8)
    scan([tmp_path], cache=cache)
    monkeypatch.setattr(
        "dedup_gui.core.images.thumbnails.open_reduced",
        lambda *args, **kwargs: pytest.fail("decoded although the cache has the thumbnail"),
    )
    thumbnail = load_thumbnail(str(photo), cache=cache)
    assert (thumbnail.mode, thumbnail.size) == ("RGB", (256, 192))
    assert load_thumbnail(str(photo), max_side=100, cache=cache).size == (100, 75)


def test_thumbnails_without_a_cache_are_oriented_and_bounded(tmp_path):
    photo = write_rotated_copy(tmp_path / "turned.jpg", make_photo(9, 640, 480), 6)
    assert load_thumbnail(str(photo)).size == (256, 192)
    assert load_thumbnail(str(photo), max_side=512).size == (512, 384)
    (tmp_path / "bad.jpg").write_bytes(b"")
    with pytest.raises(ImageLoadError):
        load_thumbnail(str(tmp_path / "bad.jpg"))


def test_a_crashing_worker_costs_one_file_not_the_scan(tmp_path, monkeypatch):
    write_photo(tmp_path / "crash.jpg", seed=1)
    write_photo(tmp_path / "fine.jpg", seed=2)
    real_hash_task = scanner._hash_task

    def crashing(task):
        if task.stat.path.endswith("crash.jpg"):
            raise RuntimeError("decoder blew up")
        return real_hash_task(task)

    monkeypatch.setattr(scanner, "_hash_task", crashing)
    result = scan([tmp_path], options=TWO_WORKERS)
    assert [pathlib.Path(r.path).name for r in result.records] == ["fine.jpg"]
    assert [(pathlib.Path(e.path).name, e.kind) for e in result.errors] == [
        ("crash.jpg", ErrorKind.OTHER)
    ]


SCAN_IN_ANOTHER_PROCESS = """
import sys
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import scan
with HashCache(sys.argv[1]) as cache:
    for _ in range(3):
        result = scan([sys.argv[2]], cache=cache)
        assert len(result.records) == 4 and not result.warnings, result
"""


def test_two_app_instances_scanning_into_one_cache_keep_it_intact(tmp_path):
    cache_path = tmp_path / "cache" / CACHE_FILE_NAME
    for folder in ("mine", "theirs"):
        for index in range(4):
            write_photo(tmp_path / folder / f"{index}.jpg", seed=index, size=(120, 90))
    other = subprocess.Popen(
        [sys.executable, "-c", SCAN_IN_ANOTHER_PROCESS, str(cache_path), str(tmp_path / "theirs")]
    )
    with HashCache(cache_path) as cache:
        for _ in range(3):
            mine = scan([tmp_path / "mine"], cache=cache)
            assert len(mine.records) == 4
            assert mine.warnings == []
    assert other.wait(timeout=120) == 0
    with HashCache(cache_path) as cache:
        both = scan([tmp_path / "mine", tmp_path / "theirs"], cache=cache)
        assert (both.from_cache, both.hashed, both.warnings) == (8, 0, [])
    with sqlite3.connect(cache_path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_thumbnails_load_from_several_threads_sharing_one_cache(tmp_path, cache):
    photos = [
        write_photo(tmp_path / f"{index}.jpg", seed=index, size=(320, 240)) for index in range(8)
    ]
    scan([tmp_path / "0.jpg", tmp_path / "1.jpg", tmp_path / "2.jpg"], cache=cache)
    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(lambda p: load_thumbnail(str(p), cache=cache).size, photos * 3))
    assert sizes == [(256, 192)] * 24
    assert all(cache.thumbnail_jpeg(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in photos)


def test_hash_file_of_a_scanned_image_only_adds_the_digest(tmp_path, cache, monkeypatch):
    photo = write_photo(tmp_path / "a.jpg")
    (scanned,) = scan([tmp_path], cache=cache).records
    monkeypatch.setattr(
        scanner, "open_reduced", lambda *a, **k: pytest.fail("decoded a cached image")
    )
    queried = hash_file(photo, cache=cache)
    assert dataclasses.replace(queried, content_digest=None) == scanned
    assert cache.lookup(str(photo), scanned.size, scanned.mtime_ns).content_digest == (
        queried.content_digest
    )


def test_a_cancel_before_hashing_starts_returns_the_cached_part_marked_cancelled(tmp_path, cache):
    write_photo(tmp_path / "cached.jpg", seed=1)
    scan([tmp_path], cache=cache)
    write_photo(tmp_path / "new.jpg", seed=2)
    token = CancelToken()

    def cancel_when_hashing_starts(progress):
        if progress.phase == "hashing":
            token.cancel()

    result = scan([tmp_path], cache=cache, progress=cancel_when_hashing_starts, cancel=token)
    assert result.cancelled
    assert [pathlib.Path(r.path).name for r in result.records] == ["cached.jpg"]


@pytest.mark.skipif(sys.platform != "linux", reason="non-UTF-8 names need a bytes file system")
def test_odd_and_non_utf8_names_scan_cache_and_rescan(tmp_path, cache):
    write_photo(tmp_path / "ünïcödé (copy) #2.jpg", seed=1)
    write_photo(tmp_path / os.fsdecode(b"caf\xe9 latin-1.jpg"), seed=2)
    cold = scan([tmp_path], cache=cache)
    warm = scan([tmp_path], cache=cache)
    assert len(cold.records) == 2
    assert cold.errors == []
    assert (warm.from_cache, warm.records) == (2, cold.records)
    assert all(pathlib.Path(r.path).exists() for r in warm.records)


def test_a_damaged_cached_thumbnail_falls_back_to_the_file(tmp_path, cache):
    photo = write_photo(tmp_path / "a.jpg", size=(320, 240))
    info = photo.stat()
    cache.store_thumbnail(str(photo), info.st_size, info.st_mtime_ns, b"\xff\xd8\xff not really")
    assert load_thumbnail(str(photo), cache=cache).size == (256, 192)


def test_byte_identical_copies_are_decoded_once_and_each_recorded_and_cached(
    tmp_path, cache, monkeypatch
):
    original = write_photo(tmp_path / "Camera" / "IMG_0001.jpg", seed=4, size=(640, 480))
    copies = [tmp_path / folder / "IMG_0001.jpg" for folder in ("Backup", "Old disk", "Export")]
    for copy in copies:
        copy.parent.mkdir()
        shutil.copy(original, copy)
        os.utime(copy, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    write_photo(tmp_path / "Camera" / "IMG_0002.jpg", seed=5, size=(640, 480))
    decoded: list[str] = []
    real_open_reduced = scanner.open_reduced

    def counting_open_reduced(path, *args, **kwargs):
        decoded.append(pathlib.Path(path).name)
        return real_open_reduced(path, *args, **kwargs)

    monkeypatch.setattr(scanner, "open_reduced", counting_open_reduced)
    result = scan([tmp_path], cache=cache, options=ScanOptions(workers=4))

    assert sorted(decoded) == ["IMG_0001.jpg", "IMG_0002.jpg"]
    by_path = {record.path: record for record in result.records}
    assert len(by_path) == 5
    first = by_path[str(original)]
    for copy in copies:
        record = by_path[str(copy)]
        assert (record.size, record.mtime_ns) == (copy.stat().st_size, copy.stat().st_mtime_ns)
        assert dataclasses.replace(record, path=first.path, mtime_ns=first.mtime_ns) == first
        assert load_thumbnail(str(copy), cache=cache).size == (256, 192)
    rescan = scan([tmp_path], cache=cache)
    assert (rescan.hashed, rescan.from_cache) == (0, 5)


def test_identical_broken_copies_are_each_reported(tmp_path):
    data = write_photo(tmp_path / "good.jpg", seed=6).read_bytes()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / name).write_bytes(data[: len(data) // 2])
    result = scan([tmp_path], options=ScanOptions(workers=3))
    assert [pathlib.Path(r.path).name for r in result.records] == ["good.jpg"]
    assert {pathlib.Path(e.path).name: e.kind for e in result.errors} == {
        name: ErrorKind.TRUNCATED for name in ("a.jpg", "b.jpg", "c.jpg")
    }


@pytest.mark.parametrize("library_copies", [1, 2])
def test_a_backup_of_cached_photos_is_read_but_not_decoded(
    tmp_path, cache, monkeypatch, library_copies
):
    """The library was scanned before (with one copy of the photo: cached without a digest;
    with two: cached with one); a backup folder of the same bytes is scanned with it."""
    library, backup = tmp_path / "library", tmp_path / "backup"
    original = write_photo(library / "IMG_0001.jpg", seed=8, size=(640, 480))
    for k in range(1, library_copies):
        shutil.copy(original, library / f"IMG_0001 ({k}).jpg")
    scan([library], cache=cache)
    backup.mkdir()
    shutil.copy(original, backup / "IMG_0001.jpg")
    decoded: list[str] = []
    real_open_reduced = scanner.open_reduced

    def counting_open_reduced(path, *args, **kwargs):
        decoded.append(str(path))
        return real_open_reduced(path, *args, **kwargs)

    monkeypatch.setattr(scanner, "open_reduced", counting_open_reduced)
    result = scan([library, backup], cache=cache, options=TWO_WORKERS)

    assert decoded == []
    by_path = {record.path: record for record in result.records}
    copy, first = by_path[str(backup / "IMG_0001.jpg")], by_path[str(original)]
    assert dataclasses.replace(copy, path=first.path, mtime_ns=first.mtime_ns) == first
    assert copy.mtime_ns == (backup / "IMG_0001.jpg").stat().st_mtime_ns
    monkeypatch.setattr(
        "dedup_gui.core.images.thumbnails.open_reduced",
        lambda *args, **kwargs: pytest.fail("decoded although the cache has the thumbnail"),
    )
    assert load_thumbnail(str(backup / "IMG_0001.jpg"), cache=cache).size == (256, 192)


class GrowingOnRead:
    """A file handle whose file is appended to (4 MiB, like a download still running)
    right before the first read; counts the bytes the scan takes from it."""

    def __init__(self, handle, path: pathlib.Path, taken: list[int]) -> None:
        self._handle, self._path, self._taken = handle, path, taken
        self._grown = False

    def read(self, size=-1):
        if not self._grown:
            self._grown = True
            with self._path.open("ab") as appending:
                appending.write(b"\0" * (4 << 20))
        data = self._handle.read(size)
        self._taken.append(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()


def test_a_file_growing_while_it_is_read_is_read_no_further_and_left_out(tmp_path, monkeypatch):
    growing = write_photo(tmp_path / "growing.jpg", seed=1)
    shutil.copy(growing, tmp_path / "twin.jpg")  # same size: both are read whole for a digest
    size = growing.stat().st_size
    taken: list[int] = []
    real_open = scanner.open_for_reading

    def open_growing(path):
        handle = real_open(path)
        return GrowingOnRead(handle, growing, taken) if path == str(growing) else handle

    monkeypatch.setattr(scanner, "open_for_reading", open_growing)
    result = scan([tmp_path], options=ScanOptions(workers=1))

    assert sum(taken) <= size + 1  # never the 4 MiB that arrived meanwhile
    assert [pathlib.Path(r.path).name for r in result.records] == ["twin.jpg"]
    assert [(pathlib.Path(e.path).name, e.kind, e.message) for e in result.errors] == [
        ("growing.jpg", ErrorKind.CHANGED, "The file changed during the scan; it was left out.")
    ]


def test_a_digest_reads_no_more_than_the_size_the_scan_saw(tmp_path):
    from dedup_gui.core.files.bounded_read import CHUNK_BYTES, FileChangedError
    from dedup_gui.core.files.digest import file_digest

    path = tmp_path / "log.jpg"
    path.write_bytes(b"x" * (3 * CHUNK_BYTES))
    assert file_digest(path, expected_size=3 * CHUNK_BYTES) == file_digest(path)
    for seen in (CHUNK_BYTES, 3 * CHUNK_BYTES + 1):
        with pytest.raises(FileChangedError):
            file_digest(path, expected_size=seen)


def test_cancel_stops_the_scan_in_the_middle_of_digesting_huge_files(tmp_path):
    """Two same-size 4 GiB files (sparse: no disk used) must be digested to tell whether
    they are copies; a cancel must not wait for that, nor leave workers reading on."""
    for name in ("huge_a.jpg", "huge_b.jpg"):
        path = write_photo(tmp_path / name, seed=len(name))
        os.truncate(path, 4 << 30)
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.monotonic()

    result = scan([tmp_path], options=TWO_WORKERS, cancel=token)

    assert time.monotonic() - started < 1.5
    assert result.cancelled
    assert result.records == [] and result.errors == []
    deadline = time.monotonic() + 0.5
    while any(t.name.startswith("dedup-hash") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "workers still reading after the scan returned"
        time.sleep(0.02)


def test_damaged_exif_is_the_files_own_warning_never_output(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker with a long name"
    exif[0x0110] = "Model name long enough"
    damaged = exif.tobytes()[:30]  # the IFD ends in the middle of an entry
    make_photo(3, 320, 240).save(tmp_path / "damaged_exif.jpg", exif=damaged)
    write_photo(tmp_path / "fine.jpg", seed=4)

    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        result = scan([tmp_path], options=TWO_WORKERS)

    assert sorted(pathlib.Path(r.path).name for r in result.records) == [
        "damaged_exif.jpg", "fine.jpg",
    ]  # fmt: skip
    assert [(pathlib.Path(w.path).name, w.kind, w.message) for w in result.file_warnings] == [
        (
            "damaged_exif.jpg",
            ErrorKind.READ_WITH_WARNING,
            "The photo was read, but its EXIF metadata is damaged.",
        )
    ]
    assert [str(w.message) for w in escaped] == []


def test_small_files_hashed_in_chunks_get_the_records_and_thumbnails_of_one_at_a_time(
    tmp_path, cache, monkeypatch
):
    sizes = [(320, 240), (240, 320), (200, 150), (64, 48), (300, 300)]
    for index in range(20):
        write_photo(tmp_path / f"p{index:02}.jpg", seed=index, size=sizes[index % len(sizes)])
    batches = []
    real_batch = scanner.compute_signatures_many

    def counting(images):
        batches.append(len(images))
        return real_batch(images)

    monkeypatch.setattr(scanner, "compute_signatures_many", counting)
    result = scan([tmp_path], cache=cache, options=TWO_WORKERS)
    assert max(batches) > 1 and sum(batches) == 20  # the files really went in batches
    assert len(result.records) == 20 and not result.errors
    with HashCache(tmp_path.parent / "alone.sqlite3") as alone:
        for record in result.records:
            single = hash_file(record.path, cache=alone)
            assert dataclasses.replace(single, content_digest=None) == record
            assert alone.thumbnail_jpeg(record.path, record.size, record.mtime_ns) == (
                cache.thumbnail_jpeg(record.path, record.size, record.mtime_ns)
            )


def test_the_scans_default_memory_budget_is_the_decoders():
    from dedup_gui.core.images.memory_budget import DEFAULT_MEMORY_BUDGET_BYTES

    assert ScanOptions().memory_budget_bytes == DEFAULT_MEMORY_BUDGET_BYTES
