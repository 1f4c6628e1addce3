"""A warm rescan builds its records straight from the cache's rows: they must be exactly
what the scan that hashed the files made, every field and its type, identity included."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from dedup_gui.core.files.discovery import ON_FOUND_EVERY, discover
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.engine_fixtures import write_photo
from tests.imagegen import make_photo
from tests.test_engine_scanner import make_library


@pytest.fixture
def cache(tmp_path):
    with HashCache(tmp_path / "cache" / CACHE_FILE_NAME) as opened:
        yield opened


def fields_of(record) -> list[tuple[str, type, object]]:
    return [(f.name, type(getattr(record, f.name)), getattr(record, f.name))
            for f in dataclasses.fields(record)]


def test_a_warm_rescan_gives_the_records_of_the_cold_scan_field_by_field(tmp_path, cache):
    root = make_library(tmp_path / "library")
    write_photo(root / "sub" / "b.jpg", seed=3)
    make_photo(4, 300, 200).save(root / "rotated.png")
    cold = scan([root], cache=cache, options=ScanOptions(workers=2))
    warm = scan([root], cache=cache, options=ScanOptions(workers=2))
    assert (warm.hashed, warm.from_cache) == (0, len(cold.records)) and cold.records
    # dev, ino and ctime_ns are left out of ==: compared here too, with every type.
    assert [fields_of(r) for r in warm.records] == [fields_of(r) for r in cold.records]
    assert any(r.content_digest is not None for r in warm.records)  # the byte copies


def test_a_cached_digest_is_dropped_once_no_other_file_has_the_size(tmp_path, cache):
    root = tmp_path / "library"
    write_photo(root / "a.jpg", seed=1)
    shutil.copy(root / "a.jpg", root / "b.jpg")
    both = scan([root], cache=cache)
    assert all(r.content_digest is not None for r in both.records)
    (root / "b.jpg").unlink()
    [alone] = scan([root], cache=cache).records
    with HashCache(tmp_path / "fresh" / CACHE_FILE_NAME) as fresh:
        [cold] = scan([root], cache=fresh).records
    assert alone.content_digest is None
    assert fields_of(alone) == fields_of(cold)


def test_discovery_reports_the_count_as_it_goes_and_the_total_at_the_end(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    jpeg = (make_photo(1, 16, 12).tobytes())[:64]
    count = ON_FOUND_EVERY + 44
    for index in range(count):
        (folder / f"{index:04d}.jpg").write_bytes(jpeg + index.to_bytes(4, "big"))
    reported: list[int] = []
    found = discover([tmp_path], on_found=lambda n, _path: reported.append(n))
    assert len(found.files) == count
    assert reported[0] == 1 and ON_FOUND_EVERY + 1 in reported
    assert reported[-1] == count and reported == sorted(reported)
