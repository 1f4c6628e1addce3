"""100% similarity means the same picture at the same size, or the same bytes."""

import shutil

from PIL import Image

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.models import MatchKind
from dedup_gui.core.scanning.scanner import scan
from tests.imagegen import make_photo


def test_at_100_percent_only_byte_copies_and_lossless_conversions_group(tmp_path):
    photo = make_photo(7, 640, 480)
    photo.save(tmp_path / "original.jpg", quality=92)
    shutil.copyfile(tmp_path / "original.jpg", tmp_path / "copy.jpg")
    photo.resize((320, 240)).save(tmp_path / "smaller.jpg", quality=92)
    index = SimilarityIndex.build(scan([tmp_path]).records)

    [identical] = index.groups(100)
    names = sorted(m.record.path.rsplit("/", 1)[-1] for m in identical.members)
    assert names == ["copy.jpg", "original.jpg"]
    assert identical.kind is MatchKind.EXACT

    [loose] = index.groups(90)
    assert len(loose.members) == 3
    smaller = next(m for m in loose.members if m.record.path.endswith("smaller.jpg"))
    assert smaller.similarity < 100


def test_a_png_of_the_same_pixels_is_100_percent(tmp_path):
    photo = make_photo(8, 640, 480)
    photo.save(tmp_path / "original.png")
    photo.save(tmp_path / "converted.webp", lossless=True)
    index = SimilarityIndex.build(scan([tmp_path]).records)

    [group] = index.groups(100)
    assert {m.similarity for m in group.members} == {100.0}


def test_a_jpeg_saved_as_png_is_100_percent(tmp_path):
    make_photo(9, 1600, 1200).save(tmp_path / "photo.jpg", quality=90)
    with Image.open(tmp_path / "photo.jpg") as decoded:
        decoded.save(tmp_path / "photo.png")
    index = SimilarityIndex.build(scan([tmp_path]).records)

    [group] = index.groups(100)
    assert len(group.members) == 2
