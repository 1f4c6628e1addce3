"""The cache's conversion verdicts (scanning/confirm_conversions.py) and the schema step
that added them: a version-6 file keeps its records, sealed again over the new column."""

from __future__ import annotations

import dataclasses
import sqlite3

from dedup_gui.core.scanning import cache_rows
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, SCHEMA_VERSION, HashCache
from tests.test_engine_cache import record

PNG = ("/photos/a.png", 2000, 7)
JPEG = ("/photos/a.jpg", 1000, 5)


def test_a_verdict_is_found_only_for_both_files_as_they_were(tmp_path):
    with HashCache(tmp_path / CACHE_FILE_NAME) as cache:
        cache.store_conversions([(PNG, JPEG, True)], rule=1)
        assert cache.conversion_verdicts([(PNG, JPEG)], rule=1) == {(PNG[0], JPEG[0]): True}
        assert cache.conversion_verdicts([(PNG, JPEG)], rule=2) == {}
        assert cache.conversion_verdicts([(PNG, (JPEG[0], 1000, 6))], rule=1) == {}
        assert cache.conversion_verdicts([((PNG[0], 2001, 7), JPEG)], rule=1) == {}
        cache.store_conversions([(PNG, (JPEG[0], 1000, 6), False)], rule=1)  # replaces it
        assert cache.conversion_verdicts([(PNG, (JPEG[0], 1000, 6))], rule=1) == {
            (PNG[0], JPEG[0]): False
        }
        assert cache.conversion_verdicts([(PNG, JPEG)], rule=1) == {}


def test_holds_decode_of_is_set_on_the_cached_record_of_that_version_only(tmp_path):
    png = dataclasses.replace(record(PNG[0], size=PNG[1], mtime_ns=PNG[2]), format="PNG")
    with HashCache(tmp_path / CACHE_FILE_NAME) as cache:
        cache.store(png)
        holding = dataclasses.replace(png, holds_decode_of=b"jpeg pixels")
        cache.store_conversions([(PNG, JPEG, True)], 1, [holding])
        assert cache.lookup(*PNG) == holding
        newer = dataclasses.replace(png, mtime_ns=8, holds_decode_of=b"other pixels")
        cache.store_conversions([], 1, [newer])
        assert cache.lookup(*PNG) == holding  # a record of another version is left alone


def test_a_version_6_cache_keeps_its_records(tmp_path):
    path = tmp_path / CACHE_FILE_NAME
    stored = record("/photos/a.jpg")
    with HashCache(path) as cache:
        cache.store(stored, b"thumb")
    names = [column.name for column in cache_rows.RECORD_COLUMNS]
    old_names = [name for name in names if name != "holds_decode_of"]
    with sqlite3.connect(path) as old:  # as version 6 wrote it
        (row,) = old.execute(f"SELECT {', '.join(old_names)} FROM records").fetchall()
        old.execute("DROP TABLE conversions")
        old.execute("ALTER TABLE records DROP COLUMN holds_decode_of")
        old.execute("UPDATE records SET checksum = ?", (cache_rows.checksum(row),))
        old.execute("UPDATE meta SET value = '6' WHERE key = 'schema'")
        damaged = (b"/photos/b.jpg", *row[1:])
        old.execute(
            f"INSERT INTO records ({', '.join(old_names)}, checksum) VALUES"
            f" ({','.join('?' * (len(old_names) + 1))})",
            (*damaged, b"badcheck"),
        )
    old.close()
    with HashCache(path) as cache:
        assert cache.lookup("/photos/a.jpg", 1000, 5) == stored
        assert cache.thumbnail_jpeg("/photos/a.jpg", 1000, 5) == b"thumb"
        assert cache.lookup("/photos/b.jpg", 1000, 5) is None  # damaged: dropped
        assert cache.warnings == []
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert check.execute("SELECT count(*) FROM records").fetchone() == (1,)
    check.close()
