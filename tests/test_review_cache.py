"""A cache that cannot be written is not a damaged cache: it must be kept, not rebuilt; one
another program holds the write lock of never stalls a scan."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dedup_gui.core.scanning import cache as cache_module
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, LOCKED_WARNING, HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.engine_fixtures import write_photo
from tests.test_engine_cache import record


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KB file system that fills up after a few cached thumbnails (needs root)."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
        capture_output=True, check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mount not permitted here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_keeps_the_cached_entries_and_says_why(tiny_disk):
    path = tiny_disk / CACHE_FILE_NAME
    first = record("/photos/first.jpg")
    with HashCache(path) as cache:
        cache.store(first, b"thumbnail")
        for index in range(400):
            if cache.warnings:
                break
            later = dataclasses.replace(first, path=f"/photos/{index}.jpg")
            cache.store(later, os.urandom(4000))  # incompressible: fills the disk fast
        assert cache.warnings, "the disk never filled up"
        assert "full" in cache.warnings[0]
        assert "damaged" not in cache.warnings[0]

    with HashCache(path) as reopened:
        assert reopened.lookup(first.path, first.size, first.mtime_ns) == first


class _FailingConnection:
    """A connection whose reads and writes fail as on a failing drive or a network folder
    that dropped out: SQLITE_IOERR, not damage."""

    def __init__(self, connection) -> None:
        self._connection = connection

    def _fail(self, *args, **kwargs):
        error = sqlite3.OperationalError("disk I/O error")
        error.sqlite_errorcode = 10  # SQLITE_IOERR
        raise error

    execute = executemany = _fail

    def __getattr__(self, name):
        return getattr(self._connection, name)


def test_an_io_error_bypasses_the_cache_but_never_deletes_it(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    first = record("/photos/first.jpg")
    with HashCache(path) as cache:
        cache.store(first, b"thumbnail")
    with HashCache(path) as cache:
        cache._connection = _FailingConnection(cache._connection)
        assert cache.lookup(first.path, first.size, first.mtime_ns) is None  # bypassed
        cache.store(record("/photos/second.jpg"), b"thumbnail")
        assert len(cache.warnings) == 1
        assert "I/O" in cache.warnings[0] and "rebuilt" not in cache.warnings[0]

    with HashCache(path) as reopened:
        assert reopened.warnings == []
        assert reopened.lookup(first.path, first.size, first.mtime_ns) == first


@pytest.fixture
def short_lock_waits(monkeypatch) -> float:
    """A busy timeout of a second (not ten), a retry every half second (not thirty)."""
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(cache_module, "LOCKED_RETRY_SECONDS", 0.5)
    return 1.0


@contextmanager
def write_lock_held_by_another_program(path: Path) -> Iterator[sqlite3.Connection]:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def test_a_cache_another_program_is_writing_to_never_stalls_the_scan(
    tmp_path, monkeypatch, short_lock_waits
):
    monkeypatch.setattr(scanner, "CACHE_FLUSH_RECORDS", 2)  # a dozen flushes in this scan
    photos = tmp_path / "photos"
    for index in range(24):
        write_photo(photos / f"{index:02}.jpg", seed=index, size=(120, 90))
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        scan([photos / "00.jpg", photos / "01.jpg"], cache=cache)
    write_photo(tmp_path / "later" / "new.jpg", seed=99, size=(120, 90))

    with HashCache(path) as cache:
        with write_lock_held_by_another_program(path) as other:
            started = time.monotonic()
            result = scan([photos], cache=cache, options=ScanOptions(workers=2))
            elapsed = time.monotonic() - started
            # Each flush waiting out the lock would take 11 x 1 s at least.
            assert elapsed < 5 * short_lock_waits
            assert (len(result.records), result.from_cache) == (24, 2)  # reads still work
            assert result.warnings == [LOCKED_WARNING]
            assert cache.lookup_many((r.path, r.size, r.mtime_ns) for r in result.records)
            other.execute("ROLLBACK")
        time.sleep(0.6)  # the next write after the retry interval finds the lock free
        later = scan([tmp_path / "later"], cache=cache)
        assert later.warnings == [LOCKED_WARNING]  # said once, not again

        with HashCache(path) as another_instance:
            stored = another_instance.lookup_many(
                (r.path, r.size, r.mtime_ns) for r in (*result.records, *later.records)
            )
            assert len(stored) == 25


def test_what_a_lock_kept_out_is_saved_on_close_once_the_lock_is_free(
    tmp_path, short_lock_waits
):
    path = tmp_path / CACHE_FILE_NAME
    with HashCache(path) as cache:
        cache.store(record("/photos/first.jpg"))
        with write_lock_held_by_another_program(path):
            cache.store(record("/photos/a.jpg"), b"thumb-a")
            cache.store_digest("/photos/first.jpg", 1000, 5, b"d" * 32)
            started = time.monotonic()
            cache.store(record("/photos/b.jpg"), b"thumb-b")
            assert time.monotonic() - started < short_lock_waits / 2  # kept, not waited for
            assert cache.lookup("/photos/b.jpg", 1000, 5) is not None  # served from memory
            assert cache.thumbnail_jpeg("/photos/a.jpg", 1000, 5) == b"thumb-a"
    with HashCache(path) as reopened:
        assert reopened.lookup("/photos/first.jpg", 1000, 5).content_digest == b"d" * 32
        assert reopened.thumbnail_jpeg("/photos/b.jpg", 1000, 5) == b"thumb-b"
