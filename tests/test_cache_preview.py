"""The cache's records of a set of folders, read without walking them (a preview to show
while the scan checks it): what it takes, and when it stands for the scan."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.models import ScanResult
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.cache_preview import CachePreview, preview_records
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.test_app_decisions import make_pairs


def scanned(folder: Path, **options) -> list:
    with HashCache.open_default() as cache:
        return scan([str(folder)], cache=cache, options=ScanOptions(**options)).records


def previewed(folder: Path, **kwargs) -> list:
    with HashCache.open_default() as cache:
        return preview_records(cache, [str(folder)], **kwargs)


def test_the_preview_of_an_unchanged_folder_is_what_the_scan_finds(tmp_path):
    folder = tmp_path / "photos"
    make_pairs(folder, seeds=(1, 2, 3))
    shutil.copyfile(folder / "photo1.png", folder / "photo1 (copy).png")  # a byte copy
    records = scanned(folder)
    preview = previewed(folder)
    assert [r.path for r in preview] == [r.path for r in records]
    assert preview == records  # every field a record means, the digests included
    assert sum(r.content_digest is not None for r in preview) == 2
    assert all(r.ctime_ns == 0 for r in preview)  # not known without a walk
    index = SimilarityIndex.build(preview)
    shown = CachePreview(ScanResult(records=preview), index)
    assert shown.stands_for(records) and not shown.changed_paths(records)
    full = shown.full_index(records)
    assert full.records is not index.records and all(
        a is b for a, b in zip(full.records, records, strict=True)
    )
    members = [[m.record.path for m in g.members] for g in full.groups(90)]
    assert members == [[m.record.path for m in g.members] for g in index.groups(90)]
    assert all(m.record.ctime_ns != 0 for g in full.groups(90) for m in g.members)


def test_the_preview_leaves_out_what_the_walk_skips(tmp_path):
    folder = tmp_path / "photos"
    make_pairs(folder / "kept")
    make_pairs(folder / "excluded")
    make_pairs(folder / ".hidden")
    scanned(folder, include_hidden=True)
    make_pairs(tmp_path / "photos-elsewhere", seeds=(5,))  # a sibling with the same prefix
    scanned(tmp_path / "photos-elsewhere")

    preview = previewed(folder, excluded_folders=[str(folder / "excluded")])
    assert {Path(r.path).parent.name for r in preview} == {"kept"}
    assert len(previewed(folder, include_hidden=True)) == 12
    with HashCache.open_default() as cache:  # what decides whether a preview is worth it
        assert cache.count_under([str(folder)]) == 12
        assert cache.count_under([str(folder / "kept")]) == 4


def test_a_changed_or_damaged_file_keeps_the_preview_from_standing(tmp_path):
    folder = tmp_path / "photos"
    pairs = make_pairs(folder)
    scanned(folder)
    # A row damaged in the cache: the preview reads it as it is (it is not verified)...
    with HashCache.open_default() as cache:
        database = cache.path
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("UPDATE records SET dhash = dhash + 1 WHERE path = ?",
                           (os.fsencode(str(pairs[1][0])),))
    connection.close()
    damaged = previewed(folder)
    # ...a file changed since...
    pairs[2][1].write_bytes(pairs[2][1].read_bytes() + b"\0")
    records = scanned(folder)  # the scan verifies every row: the damaged one is hashed again
    shown = CachePreview(ScanResult(records=damaged), SimilarityIndex.build(damaged))
    assert not shown.stands_for(records)
    assert sorted(shown.changed_paths(records)) == sorted([str(pairs[1][0]), str(pairs[2][1])])
