"""The scan's confirmation pass: a HEIC hashed from its embedded thumbnail that could be in
a group is decoded in full before grouping (core/scanning/confirm_thumbnails.py)."""

from __future__ import annotations

from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.models import CancelToken, ImageRecord, ScanProgress
from dedup_gui.core.scanning import confirm_thumbnails
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.imagegen import make_photo
from tests.test_engine_formats_heif import write_heic

SIZE = (960, 720)

pillow_heif.register_heif_opener()


def _groups(records: list[ImageRecord]) -> set[frozenset[str]]:
    found = SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY)
    return {frozenset(Path(m.record.path).name for m in group.members) for group in found}


def _by_name(records: list[ImageRecord]) -> dict[str, ImageRecord]:
    return {Path(record.path).name: record for record in records}


def _full_decode_scan(folder: Path) -> list[ImageRecord]:
    return scan([folder], options=ScanOptions(embedded_thumbnails=False)).records


def _shifted_crop(image: Image.Image) -> Image.Image:
    width, height = image.size
    return image.crop((width * 3 // 100, height * 3 // 100, width, height)).resize(image.size)


def _library(folder: Path) -> Path:
    """A real pair (a photo and its re-encode), a photo edited by a program that kept its
    old thumbnail (the pair's picture), a shifted crop of another photo next to it, and a
    photo with no duplicate at all."""
    picture = make_photo(21, *SIZE)
    write_heic(folder / "original.heic", picture)
    picture.save(folder / "copy.jpg", quality=85)
    write_heic(folder / "edited.heic", make_photo(22, *SIZE), thumbnail_of=picture)
    beach = make_photo(23, *SIZE)
    write_heic(folder / "beach.heic", beach)
    write_heic(folder / "beach_crop.heic", _shifted_crop(beach))
    write_heic(folder / "alone.heic", make_photo(24, *SIZE))
    return folder


def test_grouped_photos_are_full_decodes_and_groups_equal_a_full_decode_scan(tmp_path):
    folder = _library(tmp_path / "photos")
    records = _by_name(scan([folder]).records)
    # The stale thumbnail looked like the pair's picture: it had to be checked, and was.
    for name in ("original.heic", "edited.heic", "beach.heic", "beach_crop.heic"):
        assert not records[name].from_thumbnail, name
    full = _by_name(_full_decode_scan(folder))
    assert records["edited.heic"].phash == full["edited.heic"].phash
    assert _groups(list(records.values())) == _groups(list(full.values()))
    assert not any("edited.heic" in group for group in _groups(list(records.values())))


def test_a_heic_with_no_candidate_keeps_its_thumbnail_hashes(tmp_path):
    folder = _library(tmp_path / "photos")
    records = _by_name(scan([folder]).records)
    assert records["alone.heic"].from_thumbnail
    assert confirm_thumbnails.needing_confirmation([records["alone.heic"]]) == []


def test_confirmed_records_replace_the_cached_ones(tmp_path):
    folder = _library(tmp_path / "photos")
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        cold = _by_name(scan([folder], cache=cache).records)
    phases: list[str] = []
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        warm = scan([folder], cache=cache, progress=lambda p: phases.append(p.phase))
        cached = cache.lookup(str(folder / "edited.heic"), cold["edited.heic"].size,
                              cold["edited.heic"].mtime_ns)
    assert cached is not None and not cached.from_thumbnail
    assert cached.phash == cold["edited.heic"].phash
    assert warm.from_cache == len(cold) and warm.hashed == 0
    assert confirm_thumbnails.PHASE not in phases  # nothing left to check: no decode


def test_the_pass_says_what_it_checks(tmp_path):
    folder = _library(tmp_path / "photos")
    seen: list[ScanProgress] = []
    scan([folder], progress=seen.append)
    checking = [p for p in seen if p.phase == confirm_thumbnails.PHASE]
    assert checking and all(p.total == 4 for p in checking)


@pytest.mark.parametrize("use_processes", [False, True])
def test_cancel_during_the_pass_stops_it_and_leaves_the_rest_from_thumbnails(
    tmp_path, use_processes
):
    folder = _library(tmp_path / "photos")
    cancel = CancelToken()

    def on_progress(progress: ScanProgress) -> None:
        if progress.phase == confirm_thumbnails.PHASE:
            cancel.cancel()

    result = scan([folder], progress=on_progress, cancel=cancel,
                  options=ScanOptions(workers=1, use_processes=use_processes))
    assert result.cancelled
    records = _by_name(result.records)
    assert len(records) == 6  # nothing lost: an unchecked photo keeps its thumbnail record
    still = [name for name, record in records.items() if record.from_thumbnail]
    assert len(still) > 1  # more than "alone.heic": the pass did not run to its end


def test_a_warm_rescan_searches_nothing_and_a_new_copy_confirms_an_old_thumbnail(
    tmp_path, monkeypatch
):
    folder = tmp_path / "photos"
    folder.mkdir()
    picture = make_photo(31, *SIZE)
    write_heic(folder / "kept.heic", picture)
    write_heic(folder / "other.heic", make_photo(32, *SIZE))
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        first = _by_name(scan([folder], cache=cache).records)
    assert first["kept.heic"].from_thumbnail  # no partner yet

    searched: list[int] = []
    real_join = confirm_thumbnails.candidates.join

    def counting_join(queries, index, *args, **kwargs):
        searched.append(len(queries))
        return real_join(queries, index, *args, **kwargs)

    monkeypatch.setattr(confirm_thumbnails.candidates, "join", counting_join)
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        scan([folder], cache=cache)
    assert searched == []  # nothing new: the wide search is not run again

    picture.save(folder / "kept copy.jpg", quality=85)  # a new photo, fully decoded
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        third = _by_name(scan([folder], cache=cache).records)
    assert searched == [1]  # only the new photo is searched for
    assert not third["kept.heic"].from_thumbnail  # its old partner is decoded in full
    assert third["other.heic"].from_thumbnail
