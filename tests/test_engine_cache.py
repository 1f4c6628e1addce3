"""The hash cache: hits, misses, invalidation, forgetting, damage, locks, two users,
upgrades of an older file."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import struct
import threading

import pytest

from dedup_gui.core.images.signatures import RECIPE_VERSION
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, SCHEMA_VERSION, HashCache


def record(path: str, *, size: int = 1000, mtime_ns: int = 5, seed: int = 1) -> ImageRecord:
    high = (1 << 64) - 1 - seed  # above 2**63: exercises the signed storage
    return ImageRecord(
        path=path,
        size=size,
        mtime_ns=mtime_ns,
        width=4000,
        height=3000,
        format="JPEG",
        capture_time="2020-01-02T03:04:05",
        dhash=high,
        phash=seed,
        phash_dihedral=tuple(high - k for k in range(8)),
        micro=bytes([seed % 256]) * 768,
        content_digest=None,
    )


@pytest.fixture
def cache(tmp_path):
    with HashCache(tmp_path / "cache" / CACHE_FILE_NAME) as opened:
        yield opened


def test_a_stored_record_comes_back_identical_for_the_same_size_and_mtime(cache):
    stored = record("/photos/a.jpg")
    cache.store(stored, b"jpeg-bytes")
    assert cache.lookup("/photos/a.jpg", 1000, 5) == stored
    assert cache.thumbnail_jpeg("/photos/a.jpg", 1000, 5) == b"jpeg-bytes"


@pytest.mark.parametrize(("size", "mtime_ns"), [(1001, 5), (1000, 6)])
def test_a_changed_size_or_mtime_is_a_miss(cache, size, mtime_ns):
    cache.store(record("/photos/a.jpg"), b"jpeg")
    assert cache.lookup("/photos/a.jpg", size, mtime_ns) is None
    assert cache.thumbnail_jpeg("/photos/a.jpg", size, mtime_ns) is None


def test_a_replaced_file_replaces_its_entry(cache):
    cache.store(record("/photos/a.jpg", seed=1))
    newer = record("/photos/a.jpg", size=2000, mtime_ns=9, seed=2)
    cache.store(newer)
    assert cache.lookup("/photos/a.jpg", 2000, 9) == newer
    assert cache.lookup("/photos/a.jpg", 1000, 5) is None


def test_a_different_recipe_version_is_a_miss(cache, monkeypatch):
    cache.store(record("/photos/a.jpg"))
    monkeypatch.setattr("dedup_gui.core.scanning.cache.RECIPE_VERSION", RECIPE_VERSION + 1)
    assert cache.lookup("/photos/a.jpg", 1000, 5) is None


def test_lookups_are_batched_and_return_only_fresh_hits(cache):
    for index in range(1200):
        cache.store_many([record(f"/p/{index:05}.jpg", seed=index)], [None])
    keys = [(f"/p/{index:05}.jpg", 1000, 5 if index % 3 else 6) for index in range(1300)]
    hits = cache.lookup_many(keys)
    assert len(hits) == sum(1 for index in range(1200) if index % 3)
    assert hits["/p/00001.jpg"].phash == 1


def test_content_digests_can_be_added_later(cache):
    cache.store(record("/photos/a.jpg"))
    cache.store_digest("/photos/a.jpg", 1000, 5, b"d" * 32)
    assert cache.lookup("/photos/a.jpg", 1000, 5).content_digest == b"d" * 32


def test_files_gone_from_a_scanned_folder_are_forgotten_and_others_kept(cache):
    for path in ("/lib/a.jpg", "/lib/sub/b.jpg", "/lib2/c.jpg", "/library/d.jpg"):
        cache.store(record(path), b"thumb")
    forgotten = cache.forget_missing(["/lib"], present={"/lib/a.jpg"})
    assert forgotten == 1
    assert cache.lookup("/lib/sub/b.jpg", 1000, 5) is None
    assert cache.thumbnail_jpeg("/lib/sub/b.jpg", 1000, 5) is None
    for kept in ("/lib/a.jpg", "/lib2/c.jpg", "/library/d.jpg"):
        assert cache.lookup(kept, 1000, 5) is not None


def test_undecodable_path_names_round_trip(cache):
    odd = os.fsdecode(b"/photos/caf\xe9.jpg")
    cache.store(record(odd))
    assert cache.lookup(odd, 1000, 5).path == odd


def test_entries_survive_reopening_and_clear_empties(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as first:
        first.store(record("/photos/a.jpg"))
    with HashCache(path) as second:
        assert second.lookup("/photos/a.jpg", 1000, 5) is not None
        second.clear()
        assert second.lookup("/photos/a.jpg", 1000, 5) is None


def test_open_default_uses_the_environment_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DEDUP_GUI_CACHE_DIR", str(tmp_path / "portable"))
    with HashCache.open_default() as cache:
        assert cache.path == tmp_path / "portable" / CACHE_FILE_NAME
        cache.store(record("/photos/a.jpg"))
    assert (tmp_path / "portable" / CACHE_FILE_NAME).exists()


def test_a_corrupt_cache_file_is_rebuilt_with_a_warning(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    path.write_bytes(b"this is not a database at all" * 200)
    with HashCache(path) as cache:
        assert cache.available
        assert any("rebuilt" in warning for warning in cache.warnings)
        cache.store(record("/photos/a.jpg"))
        assert cache.lookup("/photos/a.jpg", 1000, 5) is not None


def test_a_cache_damaged_after_opening_is_rebuilt_on_next_use(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        for index in range(300):
            cache.store(record(f"/p/{index}.jpg"), b"x" * 2000)
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # keep the header, wreck every page
    path.write_bytes(bytes(data))
    with HashCache(path) as cache:
        assert cache.lookup("/p/1.jpg", 1000, 5) is None
        cache.store(record("/photos/a.jpg"))
        assert cache.lookup("/photos/a.jpg", 1000, 5) is not None
        assert cache.warnings


def test_a_cache_locked_by_another_program_is_bypassed_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr("dedup_gui.core.scanning.cache.BUSY_TIMEOUT_SECONDS", 0.2)
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        cache.store(record("/photos/a.jpg"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("PRAGMA journal_mode=DELETE")
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with HashCache(path) as cache:
            cache.store(record("/photos/b.jpg"))  # must not raise
            assert cache.lookup("/photos/b.jpg", 1000, 5) is None
            assert any("program" in warning for warning in cache.warnings)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with HashCache(path) as cache:
        assert cache.lookup("/photos/a.jpg", 1000, 5) is not None  # never deleted


def test_two_instances_writing_at_once_both_land(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    first, second = HashCache(path), HashCache(path)
    errors: list[BaseException] = []

    def fill(cache: HashCache, prefix: str) -> None:
        try:
            for index in range(150):
                cache.store_many([record(f"/{prefix}/{index}.jpg")], [b"t"])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=fill, args=(first, "one")),
        threading.Thread(target=fill, args=(second, "two")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.close()
    second.close()
    assert errors == []
    with HashCache(path) as cache:
        keys = [(f"/{p}/{i}.jpg", 1000, 5) for p in ("one", "two") for i in range(150)]
        assert len(cache.lookup_many(keys)) == 300
        assert cache.warnings == []


def test_records_round_trip_every_field(cache):
    stored = dataclasses.replace(record("/p/x.jpg"), capture_time=None, content_digest=b"z" * 32)
    cache.store(stored)
    assert cache.lookup("/p/x.jpg", 1000, 5) == stored


def test_entries_under_a_folder_that_could_not_be_read_are_kept(cache):
    for path in ("/lib/a.jpg", "/lib/offline/b.jpg"):
        cache.store(record(path))
    assert cache.forget_missing(["/lib"], present=set(), keep_under=["/lib/offline"]) == 1
    assert cache.lookup("/lib/offline/b.jpg", 1000, 5) is not None


def test_a_cache_of_an_older_schema_is_rebuilt_empty(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        cache.store(record("/photos/a.jpg"))
    with sqlite3.connect(path) as old:
        old.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    with HashCache(path) as cache:
        assert cache.lookup("/photos/a.jpg", 1000, 5) is None
        cache.store(record("/photos/b.jpg"))
        assert cache.lookup("/photos/b.jpg", 1000, 5) is not None


def test_a_moved_file_is_found_by_device_inode_size_and_mtime(cache):
    stored = dataclasses.replace(record("/old/a.jpg"), content_digest=b"d" * 16)
    cache.store(stored, b"thumb", identity=(7, 42))
    misses = [
        ("/new/dev.jpg", 1000, 5, (8, 42)),
        ("/new/ino.jpg", 1000, 5, (7, 43)),
        ("/new/size.jpg", 1001, 5, (7, 42)),
        ("/new/mtime.jpg", 1000, 6, (7, 42)),
    ]
    assert cache.adopt_moved(misses) == {}
    adopted = cache.adopt_moved([("/new/a.jpg", 1000, 5, (7, 42))])
    assert adopted == {"/new/a.jpg": dataclasses.replace(stored, path="/new/a.jpg")}
    assert cache.lookup("/new/a.jpg", 1000, 5) == adopted["/new/a.jpg"]
    assert cache.thumbnail_jpeg("/new/a.jpg", 1000, 5) == b"thumb"
    assert cache.forget_missing(["/old", "/new"], present={"/new/a.jpg"}) == 1
    assert cache.lookup("/new/a.jpg", 1000, 5) is not None


def test_an_entry_stored_without_an_identity_is_never_adopted(cache):
    cache.store(record("/old/a.jpg"))
    assert cache.adopt_moved([("/new/a.jpg", 1000, 5, (0, 0))]) == {}
    assert cache.adopt_moved([("/new/a.jpg", 1000, 5, (1, 2))]) == {}


def test_a_cache_of_the_first_layout_without_identities_is_rebuilt(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        old.execute("INSERT INTO meta VALUES ('schema', '1')")
        old.execute(
            "CREATE TABLE records (path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " recipe INTEGER, width INTEGER, height INTEGER, format TEXT, capture_time TEXT,"
            " dhash INTEGER, phash INTEGER, phash_dihedral BLOB, micro BLOB, content_digest BLOB)"
        )
        old.execute(
            "INSERT INTO records VALUES (?, 1000, 5, ?, 1, 1, 'JPEG', NULL, 1, 1, ?, ?, NULL)",
            (b"/photos/a.jpg", RECIPE_VERSION, bytes(64), bytes(768)),
        )
    with HashCache(path) as cache:
        assert cache.warnings == []
        assert cache.lookup("/photos/a.jpg", 1000, 5) is None
        cache.store(record("/photos/b.jpg"), b"t", identity=(1, 2))
        assert cache.adopt_moved([("/moved/b.jpg", 1000, 5, (1, 2))]) != {}


SCHEMA_2 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE records (path BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, recipe INTEGER NOT NULL, width INTEGER NOT NULL,"
    " height INTEGER NOT NULL, format TEXT NOT NULL, capture_time TEXT,"
    " dhash INTEGER NOT NULL, phash INTEGER NOT NULL, phash_dihedral BLOB NOT NULL,"
    " micro BLOB NOT NULL, content_digest BLOB, dev INTEGER, ino INTEGER)",
    "CREATE INDEX records_by_inode ON records (ino)",
    "CREATE TABLE thumbnails (path BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, recipe INTEGER NOT NULL, jpeg BLOB NOT NULL)",
    "INSERT INTO meta VALUES ('schema', '2')",
)


def write_schema_2_cache(path, stored: ImageRecord) -> None:
    """A cache as the version before checksums wrote it."""

    def signed(value: int) -> int:
        return value - (1 << 64) if value >= 1 << 63 else value

    with sqlite3.connect(path) as old:
        for statement in SCHEMA_2:
            old.execute(statement)
        old.execute(
            "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                os.fsencode(stored.path), stored.size, stored.mtime_ns, RECIPE_VERSION,
                stored.width, stored.height, stored.format, stored.capture_time,
                signed(stored.dhash), signed(stored.phash),
                struct.pack(">8Q", *stored.phash_dihedral), stored.micro,
                stored.content_digest, 7, 42,
            ),
        )
        old.execute(
            "INSERT INTO thumbnails VALUES (?,?,?,?,?)",
            (os.fsencode(stored.path), stored.size, stored.mtime_ns, RECIPE_VERSION, b"thumb"),
        )
    old.close()


def test_a_cache_of_an_older_version_is_brought_up_to_date_quietly(tmp_path):
    """Its records were made by an older recipe: not used, and no "damaged" warning."""
    path = tmp_path / CACHE_FILE_NAME
    stored = dataclasses.replace(record("/photos/a.jpg"), content_digest=b"d" * 32)
    write_schema_2_cache(path, stored)
    with HashCache(path) as cache:
        assert cache.warnings == []
        assert cache.lookup("/photos/a.jpg", 1000, 5) is None
        assert cache.thumbnail_jpeg("/photos/a.jpg", 1000, 5) is None
        cache.store(stored, b"thumb")
        assert cache.lookup("/photos/a.jpg", 1000, 5) == stored
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )


@pytest.mark.parametrize("old_version", ["0", "1", "2"])
def test_no_upgrade_ever_drops_a_table_of_the_users_decisions(tmp_path, old_version):
    """The ignore list, saved marks and trash log will live in this file too: an upgrade
    may rebuild what a scan computes, never what the user said."""
    path = tmp_path / CACHE_FILE_NAME
    write_schema_2_cache(path, record("/photos/a.jpg"))
    with sqlite3.connect(path) as old:
        old.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (old_version,))
        old.execute("CREATE TABLE ignored (path BLOB PRIMARY KEY, note TEXT)")
        old.execute("INSERT INTO ignored VALUES (?, 'not a duplicate')", (b"/photos/a.jpg",))
    old.close()
    with HashCache(path) as cache:
        cache.store(record("/photos/b.jpg"))
        assert cache.lookup("/photos/b.jpg", 1000, 5) is not None
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT * FROM ignored").fetchall() == [
            (b"/photos/a.jpg", "not a duplicate")
        ]


def test_a_cache_written_by_a_newer_version_is_left_untouched(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        cache.store(record("/photos/a.jpg"))
    with sqlite3.connect(path) as newer:
        newer.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    newer.close()
    before = path.read_bytes()
    with HashCache(path) as cache:
        assert not cache.available
        assert cache.lookup("/photos/a.jpg", 1000, 5) is None
        cache.store(record("/photos/b.jpg"))
        assert cache.warnings == [
            "The cache was written by a newer version of dedup-gui; continuing without it."
        ]
    assert path.read_bytes() == before
