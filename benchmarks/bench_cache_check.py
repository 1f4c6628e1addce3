"""What the cache's damage protection costs on a large library.

Fills a fresh cache with N records (random hashes and micro thumbnails) and N thumbnails
of --thumbnail-bytes random bytes (a real 256 px JPEG is 5-15 KB), then times:
- opening it when the weekly `PRAGMA quick_check` is due, against an open when it is not;
- a warm lookup of all N records (every row's checksum verified), against the checksum
  work alone.
The OS page cache is warm (the file was just written); a cold disk reads the whole file
for the check. Exits non-zero only on an error.

    python benchmarks/bench_cache_check.py [--rows 100000] [--thumbnail-bytes 12000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from dedup_gui.core.images.signatures import RECIPE_VERSION
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning import cache_rows
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.cache_schema import CHECKED_AT_KEY

BATCH = 1000


def fake_record(index: int, rng: random.Random) -> ImageRecord:
    phash = rng.getrandbits(64)
    return ImageRecord(
        path=f"/photos/album_{index // 100:04}/IMG_{index:06}.jpg",
        size=2_000_000 + index,
        mtime_ns=1_700_000_000_000_000_000 + index,
        width=4000,
        height=3000,
        format="JPEG",
        capture_time="2021-06-01T12:00:00",
        dhash=rng.getrandbits(64),
        phash=phash,
        phash_dihedral=(phash, *(rng.getrandbits(64) for _ in range(7))),
        micro=rng.randbytes(768),
        content_digest=rng.randbytes(32) if index % 3 == 0 else None,
    )


def fill(path: Path, rows: int, thumbnail_bytes: int) -> list[ImageRecord]:
    rng = random.Random(3)
    records = [fake_record(index, rng) for index in range(rows)]
    with HashCache(path) as cache:
        for start in range(0, rows, BATCH):
            batch = records[start : start + BATCH]
            cache.store_many(
                batch,
                [rng.randbytes(thumbnail_bytes) for _ in batch],
                [(1, 10_000 + start + offset) for offset in range(len(batch))],
            )
    return records


def timed_open(path: Path, *, check_due: bool) -> float:
    if check_due:
        with sqlite3.connect(path) as connection:
            connection.execute("DELETE FROM meta WHERE key = ?", (CHECKED_AT_KEY,))
        connection.close()
    started = time.perf_counter()
    with HashCache(path) as cache:
        elapsed = time.perf_counter() - started
        assert cache.warnings == [], cache.warnings
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--thumbnail-bytes", type=int, default=12_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / CACHE_FILE_NAME
        started = time.perf_counter()
        records = fill(path, args.rows, args.thumbnail_bytes)
        fill_seconds = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size_mb:,.0f} MB, filled in {fill_seconds:.1f} s")

        plain = min(timed_open(path, check_due=False) for _ in range(3))
        checked = min(timed_open(path, check_due=True) for _ in range(3))
        print(f"open: {plain * 1000:.0f} ms; with quick_check due: {checked:.2f} s")

        keys = [(r.path, r.size, r.mtime_ns) for r in records]
        with HashCache(path) as cache:
            started = time.perf_counter()
            found = cache.lookup_many(keys)
            lookup = time.perf_counter() - started
        assert len(found) == args.rows
        rows = [cache_rows.record_row(r, RECIPE_VERSION, (1, 2)) for r in records]
        started = time.perf_counter()
        assert all(cache_rows.is_intact(row) for row in rows)
        verify = time.perf_counter() - started
        print(f"lookup of all {args.rows:,}: {lookup:.2f} s, of which checksums {verify:.2f} s")


if __name__ == "__main__":
    main()
