"""Phone HEICs are hashed from their embedded thumbnail when it is big enough, and a stale
thumbnail (another picture than the image) never passes for the image."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.images.decode import REDUCED_MIN_SIDE, open_reduced
from dedup_gui.core.images.heif_thumbnails import confirm_thumbnail_hashes
from dedup_gui.core.images.signatures import compute_signatures
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within
from dedup_gui.core.models import MatchKind
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.imagegen import make_photo

PHOTO_SIZE = (960, 720)


@contextlib.contextmanager
def _thumbnail_made_from(other: Image.Image | None) -> Iterator[None]:
    """While saving a grid HEIC: its thumbnail is encoded from `other`'s pixels (a stale
    thumbnail, as an editor that keeps the old one leaves it)."""
    real = pillow_heif.misc._add_planes
    tile = pillow_heif.options.GRID_TILE_SIZE
    pillow_heif.options.GRID_TILE_SIZE = 512

    def planes(im_out, size, mode, data, stride, bit_depth_out):
        if other is not None and size == other.size:  # the full-size copy thumbnails come from
            data, stride = other.tobytes(), 0
        real(im_out, size, mode, data, stride, bit_depth_out)

    pillow_heif.misc._add_planes = planes
    try:
        yield
    finally:
        pillow_heif.misc._add_planes = real
        pillow_heif.options.GRID_TILE_SIZE = tile


def write_heic(
    path: Path, image: Image.Image, *, thumbnail: int | None = 320,
    thumbnail_of: Image.Image | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"quality": 80}
    if thumbnail is not None:
        options["thumbnails"] = [thumbnail]
    with _thumbnail_made_from(thumbnail_of):
        image.save(path, "HEIF", **options)
    return path


def _hashes_of_full_decode(path: Path) -> tuple[int, int]:
    reduced, _ = open_reduced(path, REDUCED_MIN_SIDE)
    signatures = compute_signatures(fit_within(reduced, THUMBNAIL_SIDE))
    return signatures.dhash, signatures.phash


def _bits(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def test_a_heic_with_a_big_enough_thumbnail_is_hashed_from_it_within_2_bits(tmp_path):
    path = write_heic(tmp_path / "phone.heic", make_photo(3, *PHOTO_SIZE))
    small, info = open_reduced(path, REDUCED_MIN_SIDE, embedded_long_side=THUMBNAIL_SIDE)
    assert info.from_thumbnail
    assert max(small.size) == 320
    assert (info.width, info.height) == PHOTO_SIZE  # the image's size, not the thumbnail's
    signatures = compute_signatures(fit_within(small, THUMBNAIL_SIDE))
    dhash, phash = _hashes_of_full_decode(path)
    assert _bits(signatures.dhash, dhash) <= 2
    assert _bits(signatures.phash, phash) <= 2


@pytest.mark.parametrize("thumbnail", [None, 160])
def test_a_heic_without_a_usable_thumbnail_is_decoded_in_full(tmp_path, thumbnail):
    path = write_heic(tmp_path / "plain.heic", make_photo(4, *PHOTO_SIZE), thumbnail=thumbnail)
    image, info = open_reduced(path, REDUCED_MIN_SIDE, embedded_long_side=THUMBNAIL_SIDE)
    assert not info.from_thumbnail
    assert min(image.size) >= REDUCED_MIN_SIDE


def test_the_scan_records_and_caches_that_hashes_came_from_a_thumbnail(tmp_path):
    photos = tmp_path / "photos"
    write_heic(photos / "thumb.heic", make_photo(5, *PHOTO_SIZE))
    write_heic(photos / "plain.heic", make_photo(6, *PHOTO_SIZE), thumbnail=None)
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        cold = {Path(r.path).name: r for r in scan([photos], cache=cache).records}
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        warm_result = scan([photos], cache=cache)
    warm = {Path(r.path).name: r for r in warm_result.records}
    assert warm_result.from_cache == 2
    for records in (cold, warm):
        assert records["thumb.heic"].from_thumbnail
        assert records["thumb.heic"].pixel_digest is None  # never "the same pixels"
        assert not records["plain.heic"].from_thumbnail
        assert records["plain.heic"].pixel_digest is not None


def test_full_decode_option_never_uses_the_thumbnail(tmp_path):
    write_heic(tmp_path / "thumb.heic", make_photo(5, *PHOTO_SIZE))
    records = scan([tmp_path], options=ScanOptions(embedded_thumbnails=False)).records
    assert [r.from_thumbnail for r in records] == [False]


def test_a_stale_thumbnail_is_caught_by_the_confirmation(tmp_path):
    picture, old_picture = make_photo(7, *PHOTO_SIZE), make_photo(8, *PHOTO_SIZE)
    stale = write_heic(tmp_path / "edited.heic", picture, thumbnail_of=old_picture)
    fresh = write_heic(tmp_path / "fresh.heic", picture)
    records = {Path(r.path).name: r for r in scan([tmp_path]).records}
    assert records["edited.heic"].from_thumbnail
    assert not confirm_thumbnail_hashes(stale, records["edited.heic"].phash)
    assert confirm_thumbnail_hashes(fresh, records["fresh.heic"].phash)


@pytest.fixture
def unconfirmed(monkeypatch):
    """Scans leave every thumbnail record as it is, as a cancelled confirmation pass (or a
    turned match, which the pass does not look for) does: what still guards them."""
    from dedup_gui.core.scanning import confirm_thumbnails

    monkeypatch.setattr(confirm_thumbnails, "needing_confirmation", lambda *_args, **_kwargs: [])


def test_two_pictures_with_the_same_stale_thumbnail_are_never_the_same_pixels(
    tmp_path, unconfirmed
):
    old_picture = make_photo(9, *PHOTO_SIZE)
    write_heic(tmp_path / "a.heic", make_photo(10, *PHOTO_SIZE), thumbnail_of=old_picture)
    write_heic(tmp_path / "b.heic", make_photo(11, *PHOTO_SIZE), thumbnail_of=old_picture)
    records = scan([tmp_path]).records
    assert all(r.from_thumbnail for r in records)
    groups = SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY)
    # They look alike only through the old thumbnail: a visual match at most, which the
    # confirmation before acting then refuses.
    for group in groups:
        assert all(m.match is not MatchKind.SAME_PIXELS for m in group.members[1:])
        for member in group.members:
            assert not confirm_thumbnail_hashes(member.record.path, member.record.phash)


def test_a_group_made_by_a_stale_thumbnail_costs_no_photo_when_trashed(tmp_path, unconfirmed):
    from dedup_gui.core.trash.actions import Outcome, execute_removal, plan_removal

    old_picture = make_photo(9, *PHOTO_SIZE)
    write_heic(tmp_path / "a.heic", make_photo(10, *PHOTO_SIZE), thumbnail_of=old_picture)
    write_heic(tmp_path / "b.heic", make_photo(11, *PHOTO_SIZE), thumbnail_of=old_picture)
    result = scan([tmp_path])
    groups = SimilarityIndex.build(result.records).groups(DEFAULT_SIMILARITY)
    assert groups, "the stale thumbnails make the two pictures look alike"
    marked = [m.record.path for g in groups for m in g.members if not m.keep]
    trashed: list[str] = []
    report = execute_removal(
        plan_removal(groups, marked, roots=result.roots), trash=trashed.append
    )
    assert trashed == []
    assert {o.outcome for o in report.outcomes} == {Outcome.SKIPPED_CHANGED}
    assert "thumbnail inside the file" in report.outcomes[0].message
