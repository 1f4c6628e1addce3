"""Library questions: copies of one photo, and which new folders are already in the library."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dedup_gui.core import library
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.models import CancelToken
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, hash_file, scan
from tests.imagegen import make_photo

SIDE = (192, 144)
ONE_WORKER = ScanOptions(workers=1)


@dataclass(frozen=True)
class PhotoTree:
    library: Path
    new: Path
    outside: Path
    """A folder outside both, for the images asked about."""

    def lib(self, name: str) -> str:
        return str(self.library / name)


def save(seed: int, path: Path, *, size: tuple[int, int] = SIDE, quality: int = 92) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = make_photo(seed, *SIDE)
    if size != SIDE:
        image = image.resize(size)
    if path.suffix == ".png":
        image.save(path)
    else:
        image.save(path, quality=quality)
    return path


def copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def build_photo_tree(root: Path) -> PhotoTree:
    """library/: photo 1 three times (two byte copies, one smaller PNG), photos 2 and 3.
    new/trip1: copies of 1 and 2 (one re-encoded); new/trip2: photos 4 and 5, both new;
    new/mixed: a copy of 3 and the new photo 6."""
    lib, new, outside = root / "library", root / "new", root / "outside"
    first = save(1, lib / "2020" / "a.jpg")
    copy(first, lib / "backup" / "a.jpg")
    save(1, lib / "2020" / "a_small.png", size=(144, 108))
    save(2, lib / "2020" / "b.jpg")
    third = save(3, lib / "2021" / "c.jpg")

    copy(first, new / "trip1" / "a.jpg")
    save(2, new / "trip1" / "b_reencoded.jpg", quality=70)
    save(4, new / "trip2" / "d.jpg")
    save(5, new / "trip2" / "e.jpg")
    copy(third, new / "mixed" / "c.jpg")
    save(6, new / "mixed" / "f.jpg")

    copy(first, outside / "a_again.jpg")
    save(7, outside / "unrelated.jpg")
    (outside / "notes.jpg").write_bytes(b"this is not a photo")
    return PhotoTree(lib, new, outside)


@pytest.fixture
def tree(tmp_path) -> PhotoTree:
    return build_photo_tree(tmp_path)


def test_query_finds_every_copy_of_the_photo_and_nothing_else(tree):
    result = library.query(str(tree.outside / "a_again.jpg"), [str(tree.library)],
                           options=ONE_WORKER)

    assert result.image is not None and result.image_error is None
    found = {m.record.path: m for m in result.matches}
    assert set(found) == {
        tree.lib("2020/a.jpg"), tree.lib("backup/a.jpg"), tree.lib("2020/a_small.png"),
    }
    assert found[tree.lib("2020/a.jpg")].exact and found[tree.lib("backup/a.jpg")].exact
    assert not found[tree.lib("2020/a_small.png")].exact
    assert [m.exact for m in result.matches] == [True, True, False]  # exact copies first
    assert len(result.library.records) == 5


def test_the_lookup_index_finds_what_the_full_index_finds(tree):
    records = scan([str(tree.library)], options=ONE_WORKER).records
    probes = [hash_file(tree.outside / "a_again.jpg"), *records]
    for match_transforms in (False, True):
        full = SimilarityIndex.build(records, match_transforms=match_transforms)
        lookup = SimilarityIndex.for_lookup(records, match_transforms=match_transforms)
        for probe in probes:
            assert lookup.matches(probe, 87) == full.matches(probe, 87)


def test_query_never_returns_the_image_itself(tree):
    result = library.query(tree.lib("2020/b.jpg"), [str(tree.library)], options=ONE_WORKER)
    assert result.matches == []


def test_query_of_an_unrelated_photo_finds_nothing(tree):
    result = library.query(str(tree.outside / "unrelated.jpg"), [str(tree.library)],
                           options=ONE_WORKER)
    assert result.image is not None
    assert result.matches == []


def test_query_of_a_file_that_is_not_an_image_explains_why(tree):
    result = library.query(str(tree.outside / "notes.jpg"), [str(tree.library)],
                           options=ONE_WORKER)
    assert result.image is None
    assert result.image_error is not None
    assert result.image_error.path == str(tree.outside / "notes.jpg")
    assert result.image_error.message


def test_query_reuses_the_cache_for_the_library(tree):
    with HashCache.open_default() as cache:
        first = library.query(str(tree.outside / "a_again.jpg"), [str(tree.library)],
                              cache=cache, options=ONE_WORKER)
        again = library.query(str(tree.outside / "a_again.jpg"), [str(tree.library)],
                              cache=cache, options=ONE_WORKER)
    assert first.library.hashed == 5
    assert again.library.from_cache == 5 and again.library.hashed == 0
    assert [m.record.path for m in again.matches] == [m.record.path for m in first.matches]


def test_new_vs_library_reports_each_folder(tree):
    result = library.new_vs_library([str(tree.new)], [str(tree.library)], options=ONE_WORKER)

    assert not result.cancelled
    reports = {Path(r.folder).name: r for r in result.folders}
    assert list(reports) == ["mixed", "trip1", "trip2"]
    trip1, trip2, mixed = reports["trip1"], reports["trip2"], reports["mixed"]
    assert trip1.new == () and len(trip1.present) == 2
    copies = {Path(record.path).name: match.record.path for record, match in trip1.present}
    assert copies["b_reencoded.jpg"] == tree.lib("2020/b.jpg")
    assert Path(copies["a.jpg"]).name == "a.jpg"
    assert trip2.present == () and sorted(Path(r.path).name for r in trip2.new) == [
        "d.jpg", "e.jpg",
    ]
    assert [Path(r.path).name for r in mixed.new] == ["f.jpg"]
    assert [match.record.path for _, match in mixed.present] == [tree.lib("2021/c.jpg")]


def test_a_new_folder_inside_the_library_is_not_its_own_copy(tree):
    imports = tree.library / "import"
    copy(tree.library / "2020" / "b.jpg", imports / "b.jpg")
    fresh = save(8, imports / "g.jpg")
    copy(fresh, imports / "g copy.jpg")

    result = library.new_vs_library([str(imports)], [str(tree.library)], options=ONE_WORKER)

    [report] = result.folders
    assert [match.record.path for _, match in report.present] == [tree.lib("2020/b.jpg")]
    assert sorted(Path(r.path).name for r in report.new) == ["g copy.jpg", "g.jpg"]


def test_new_vs_library_stops_when_cancelled(tree):
    cancel = CancelToken()
    cancel.cancel()
    result = library.new_vs_library([str(tree.new)], [str(tree.library)], options=ONE_WORKER,
                                    cancel=cancel)
    assert result.cancelled
    assert result.folders == []


def test_byte_copies_in_a_new_folder_take_the_cached_library_records(tmp_path, monkeypatch):
    """An SD card or backup of photos already in the library: each is read and digested,
    not decoded again."""
    from dedup_gui.core.scanning import scanner

    photos = [save(seed, tmp_path / "library" / f"IMG_{seed}.jpg") for seed in (1, 2, 3)]
    backup = tmp_path / "backup"
    for photo in photos[:2]:
        copy(photo, backup / photo.name)
    other = save(9, backup / "IMG_9.jpg")
    with HashCache(tmp_path / "cache.sqlite") as cache:
        scan([tmp_path / "library"], cache=cache)  # the library was scanned before
        decoded: list[str] = []
        real_open_reduced = scanner.open_reduced

        def counting_open_reduced(path, *args, **kwargs):
            decoded.append(Path(path).name)
            return real_open_reduced(path, *args, **kwargs)

        monkeypatch.setattr(scanner, "open_reduced", counting_open_reduced)
        result = library.new_vs_library(
            [str(backup)], [str(tmp_path / "library")], cache=cache, options=ONE_WORKER
        )

    assert decoded == [other.name]
    [report] = result.folders
    assert {Path(r.path).name: m.exact for r, m in report.present} == {
        "IMG_1.jpg": True, "IMG_2.jpg": True,
    }
    assert [Path(r.path).name for r in report.new] == ["IMG_9.jpg"]
