"""A cache that cannot be written is not a damaged cache: it must be kept, not rebuilt."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedup_gui.core.cache import CACHE_FILE_NAME, HashCache
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
