"""A damaged cache file never crashes a scan or hands it a wrong record; a damaged entry
is dropped and said once; the weekly check finds damage no read meets."""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.engine_fixtures import write_photo

ONE_WORKER = ScanOptions(workers=1)
WEEK_AND_A_DAY = 8 * 24 * 3600
real_time = time.time


@dataclass(frozen=True)
class Library:
    photos: Path
    cache_bytes: bytes
    """A cache built before four photos were renamed (so the scan adopts moved files)."""
    records: list[ImageRecord]
    """What a scan without any cache finds."""
    thumbnails: dict[str, bytes]
    """What an undamaged cache serves after a scan."""


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    root = tmp_path_factory.mktemp("damage")
    photos = root / "photos"
    for index in range(16):
        write_photo(photos / f"{index:02}.jpg", seed=index, size=(160, 120))
    shutil.copy(photos / "03.jpg", photos / "03 copy.jpg")  # byte copies: digests
    built = root / CACHE_FILE_NAME
    with HashCache(built) as cache:
        scan([photos], cache=cache, options=ONE_WORKER)
    for index in range(4):
        (photos / f"{index + 8:02}.jpg").rename(photos / f"renamed {index}.jpg")
    pristine = root / "pristine.sqlite3"
    shutil.copy(built, pristine)
    with HashCache(pristine) as cache:
        warm = scan([photos], cache=cache, options=ONE_WORKER)
        assert (warm.from_cache, warm.warnings) == (17, [])
        thumbnails = {
            r.path: cache.thumbnail_jpeg(r.path, r.size, r.mtime_ns) for r in warm.records
        }
    return Library(
        photos, built.read_bytes(), scan([photos], options=ONE_WORKER).records, thumbnails
    )


def pages_of(cache_bytes: bytes, tmp_path: Path, *names: str) -> list[int]:
    """Page numbers (from 1) holding the named tables and indexes (all pages if the SQLite
    build lacks the dbstat table)."""
    copy = tmp_path / "pages.sqlite3"
    copy.write_bytes(cache_bytes)
    with sqlite3.connect(copy) as connection:
        try:
            found = connection.execute(
                f"SELECT pageno FROM dbstat WHERE name IN ({','.join('?' * len(names))})", names
            ).fetchall()
        except sqlite3.OperationalError:
            found = []
    page_count = len(cache_bytes) // page_size(cache_bytes)
    return [page for (page,) in found] or list(range(1, page_count + 1))


def page_size(cache_bytes: bytes) -> int:
    size = int.from_bytes(cache_bytes[16:18], "big")
    return 65536 if size == 1 else size


def flip_bits(data: bytearray, rng: random.Random, low: int, high: int, bits: int) -> None:
    for _ in range(bits):
        offset = rng.randrange(low, high)
        data[offset] ^= 1 << rng.randrange(8)


def overwrite(data: bytearray, rng: random.Random, low: int, high: int) -> None:
    length = rng.randint(1, 64)
    offset = rng.randrange(low, max(low + 1, high - length))
    data[offset : offset + length] = rng.randbytes(length)


def damaged(library: Library, how: str, seed: int, tmp_path: Path) -> bytes:
    data = bytearray(library.cache_bytes)
    rng = random.Random(f"{how}/{seed}")
    size = page_size(data)
    pages = len(data) // size

    def in_page(page: int) -> tuple[int, int]:
        return (page - 1) * size, page * size

    if how == "two flipped bits anywhere":
        flip_bits(data, rng, 0, len(data), 2)
    elif how == "random bytes anywhere":
        overwrite(data, rng, 0, len(data))
    elif how == "a flipped bit in a record":
        page = rng.choice(pages_of(library.cache_bytes, tmp_path, "records"))
        flip_bits(data, rng, *in_page(page), 1)
    elif how == "a flipped bit in an index":
        names = ("sqlite_autoindex_records_1", "records_by_inode", "sqlite_autoindex_thumbnails_1")
        page = rng.choice(pages_of(library.cache_bytes, tmp_path, *names))
        flip_bits(data, rng, *in_page(page), 1)
    elif how == "the middle page":
        overwrite(data, rng, *in_page(pages // 2 + 1))
    elif how == "the last page":
        flip_bits(data, rng, *in_page(pages), 2)
    else:
        raise AssertionError(how)
    return bytes(data)


DAMAGE = [
    "two flipped bits anywhere",
    "random bytes anywhere",
    "a flipped bit in a record",
    "a flipped bit in an index",
    "the middle page",
    "the last page",
]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_cache_never_stops_a_scan_nor_changes_its_records(library, tmp_path, how):
    """Every scan returns what a scan without cache does; a rebuilt file is said; a few
    scans later, the cache serves every file again (whatever was damaged is gone)."""
    failures = []
    files = len(library.records)
    for seed in range(12):
        path = tmp_path / f"{seed}" / CACHE_FILE_NAME
        path.parent.mkdir()
        path.write_bytes(damaged(library, how, seed, tmp_path))
        original = path.parent / "original"
        original.hardlink_to(path)  # keeps the inode: a rebuilt file is another one
        try:
            with HashCache(path) as cache:
                scans = [scan([library.photos], cache=cache, options=ONE_WORKER)]
                while scans[-1].from_cache < files and len(scans) < 4:
                    scans.append(scan([library.photos], cache=cache, options=ONE_WORKER))
                thumbnails = {
                    r.path: cache.thumbnail_jpeg(r.path, r.size, r.mtime_ns)
                    for r in library.records
                }
                warnings = list(cache.warnings)  # a thumbnail read may have rebuilt it too
        except Exception as error:  # reported with its seed below
            failures.append(f"seed {seed}: raised {type(error).__name__}: {error}")
            continue
        if any(result.records != library.records for result in scans):
            failures.append(f"seed {seed}: records differ from a scan without cache")
        rebuilt = not path.exists() or not path.samefile(original)
        if rebuilt and not any("rebuilt" in warning for warning in warnings):
            failures.append(f"seed {seed}: rebuilt without a word: {warnings}")
        if scans[-1].from_cache != files:
            failures.append(f"seed {seed}: still {scans[-1].from_cache} from the cache")
        wrong = [p for p, jpeg in thumbnails.items() if jpeg not in (None, library.thumbnails[p])]
        if wrong:
            failures.append(f"seed {seed}: wrong thumbnails for {wrong}")
    assert failures == []


def test_a_damaged_index_handing_back_another_files_row_means_a_rebuild(tmp_path):
    """The tester's crash: the index sends a lookup of '05.jpe' (a new photo) to the row
    of '05.jpg'."""
    photos = tmp_path / "photos"
    for index in range(8):
        write_photo(photos / f"{index:02}.jpg", seed=index, size=(160, 120))
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        scan([photos], cache=cache, options=ONE_WORKER)
    write_photo(photos / "05.jpe", seed=99, size=(160, 120))
    cache_bytes = path.read_bytes()
    data = bytearray(cache_bytes)
    size = page_size(data)
    for page in pages_of(cache_bytes, tmp_path, "sqlite_autoindex_records_1"):
        start = (page - 1) * size
        data[start : start + size] = data[start : start + size].replace(b"/05.jpg", b"/05.jpe")
    assert bytes(data) != cache_bytes
    path.write_bytes(bytes(data))
    reference = scan([photos], options=ONE_WORKER).records
    with HashCache(path) as cache:
        result = scan([photos], cache=cache, options=ONE_WORKER)
    assert result.records == reference
    assert any("damaged" in warning and "rebuilt" in warning for warning in result.warnings)


def test_values_damaged_inside_valid_rows_are_never_trusted_and_said_once(library, tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    path.write_bytes(library.cache_bytes)
    with sqlite3.connect(path) as connection:  # what a flipped bit does, SQLite none the wiser
        for change, name in [
            ("width = width + 1", "00.jpg"),
            ("phash = (phash | 4) - (phash & 4)", "01.jpg"),
            ("dev = dev + 1", "09.jpg"),
        ]:
            connection.execute(
                f"UPDATE records SET {change} WHERE CAST(path AS TEXT) LIKE ?", (f"%/{name}",)
            )
    with HashCache(path) as cache:
        first = scan([library.photos], cache=cache, options=ONE_WORKER)
        again = scan([library.photos], cache=cache, options=ONE_WORKER)
    assert first.records == library.records
    assert (first.from_cache, first.hashed) == (14, 3)  # 09.jpg was renamed: not adopted
    assert first.warnings == [
        "3 cache entries were damaged and not used; those files are read again."
    ]
    assert (again.from_cache, again.hashed) == (17, 0)


def test_a_damaged_thumbnail_is_never_served(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    photo = write_photo(tmp_path / "photos" / "a.jpg")
    with HashCache(path) as cache:
        (record,) = scan([photo.parent], cache=cache).records
        jpeg = cache.thumbnail_jpeg(record.path, record.size, record.mtime_ns)
    damaged_jpeg = bytearray(jpeg)
    damaged_jpeg[len(jpeg) // 2] ^= 0x10
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE thumbnails SET jpeg = ?", (bytes(damaged_jpeg),))
    with HashCache(path) as cache:
        assert cache.thumbnail_jpeg(record.path, record.size, record.mtime_ns) is None
        assert cache.warnings == [
            "1 cache entry was damaged and not used; those files are read again."
        ]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM thumbnails").fetchone() == (0,)


def test_a_damaged_entry_is_never_copied_to_a_moved_file(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    photo = write_photo(tmp_path / "photos" / "a.jpg")
    with HashCache(path) as cache:
        scan([photo.parent], cache=cache)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE records SET height = 1")
    moved = photo.rename(tmp_path / "photos" / "b.jpg")
    info = moved.stat()
    with HashCache(path) as cache:
        identity = (info.st_dev, info.st_ino)
        assert cache.adopt_moved([(str(moved), info.st_size, info.st_mtime_ns, identity)]) == {}
        assert cache.lookup(str(moved), info.st_size, info.st_mtime_ns) is None
        assert any("damaged" in warning for warning in cache.warnings)


def last_thumbnail_leaf(cache_bytes: bytes, path: Path) -> int:
    """A page of the thumbnails table that neither a lookup nor opening reads: the last leaf
    under its root (an interior page)."""
    with sqlite3.connect(path) as connection:
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'thumbnails'"
        ).fetchone()
    size = page_size(cache_bytes)
    header = (root - 1) * size + (100 if root == 1 else 0)
    assert cache_bytes[header] == 0x05, "the thumbnails table fits one page: add photos"
    return int.from_bytes(cache_bytes[header + 8 : header + 12], "big")


def test_the_weekly_check_finds_damage_no_read_has_met(tmp_path, monkeypatch):
    path = tmp_path / CACHE_FILE_NAME
    photos = tmp_path / "photos"
    for index in range(12):
        write_photo(photos / f"{index}.jpg", seed=index)
    with HashCache(path) as cache:
        scan([photos], cache=cache)
    data = bytearray(path.read_bytes())
    leaf = last_thumbnail_leaf(bytes(data), path)
    data[(leaf - 1) * page_size(data)] = 0x42  # not a page type
    path.write_bytes(bytes(data))

    with HashCache(path) as cache:  # checked at creation: not due
        assert cache.warnings == []
        assert scan([photos], cache=cache).from_cache == 12

    monkeypatch.setattr(time, "time", lambda: real_time() + WEEK_AND_A_DAY)
    with HashCache(path) as cache:
        assert len(cache.warnings) == 1
        assert "damaged" in cache.warnings[0] and "rebuilt" in cache.warnings[0]
        assert scan([photos], cache=cache).from_cache == 0
    with HashCache(path) as cache:  # rebuilt and checked: due again in a week
        assert cache.warnings == []
        assert scan([photos], cache=cache).from_cache == 12

