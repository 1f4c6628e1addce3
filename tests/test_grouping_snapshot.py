"""A saved grouping (core/scanning/snapshot.py) shows the same groups as the scan it was
saved after, and is never used when it cannot be trusted."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import KeeperRule
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY
from dedup_gui.core.models import ScanResult
from dedup_gui.core.scanning import snapshot
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import scan
from dedup_gui.core.trash.actions import Outcome, execute_removal, plan_removal
from tests.engine_fixtures import write_photo
from tests.imagegen import make_photo


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Families of near copies (recompressed, resized, byte copies) and loners."""
    root = tmp_path / "photos"
    for family in range(6):
        photo = make_photo(100 + family, 320, 240)
        folder = root / f"trip{family % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        photo.save(folder / f"IMG_{family}.jpg", quality=95)
        photo.save(folder / f"IMG_{family}_small.jpg", quality=60)
        photo.resize((160, 120), Image.LANCZOS).save(folder / f"IMG_{family}_web.png")
        if family % 3 == 0:
            (root / "backup").mkdir(exist_ok=True)
            (root / "backup" / f"IMG_{family}.jpg").write_bytes(
                (folder / f"IMG_{family}.jpg").read_bytes()
            )
    for loner in range(5):
        write_photo(root / "misc" / f"single_{loner}.jpg", seed=500 + loner, quality=90)
    return root


def scanned(root: Path, cache: HashCache) -> ScanResult:
    return scan([str(root)], cache=cache)


def key_for(root: Path, **settings: object) -> snapshot.SnapshotKey:
    return snapshot.SnapshotKey(roots=(str(root),), **settings)  # type: ignore[arg-type]


def shown(groups: list) -> list[tuple]:
    """What the user sees of the groups: members in order, marks, similarity, reasons."""
    return [
        tuple(
            (m.record.path, m.keep, m.is_reference, m.distance, round(m.similarity, 6),
             m.match, m.keep_reason)
            for m in group.members
        )
        for group in groups
    ]


def saved_and_loaded(
    root: Path, *, match_transforms: bool = False, with_checksums: bool = True
) -> tuple[SimilarityIndex, snapshot.Snapshot | None, ScanResult]:
    with HashCache.open_default() as cache:
        result = scanned(root, cache)
        index = SimilarityIndex.build(result.records, match_transforms=match_transforms)
        folder = snapshot.snapshot_folder(cache)
        key = key_for(root, match_transforms=match_transforms)
        assert snapshot.save(folder, key, result, index, cache if with_checksums else None)
        return index, snapshot.load(cache, folder, key), result


@pytest.mark.parametrize(("match_transforms", "with_checksums"),
                         [(False, True), (True, True), (False, False)])
def test_restored_index_shows_the_same_groups_at_every_slider_position(
    library: Path, match_transforms: bool, with_checksums: bool
) -> None:
    built, loaded, result = saved_and_loaded(
        library, match_transforms=match_transforms, with_checksums=with_checksums
    )
    assert loaded is not None
    assert loaded.stands_for(result.records)
    assert loaded.result.roots == result.roots
    # Only the records some group can hold are read back: not the loners.
    loners = {r.path for r in result.records if "single_" in r.path}
    assert {r.path for r in loaded.result.records} == {r.path for r in result.records} - loners
    whole = loaded.full_index(result.records)
    references = (str(library / "backup"),)
    rules = (KeeperRule.MODIFICATION_DATE, KeeperRule.RESOLUTION)
    some_groups = False
    for similarity in range(int(MIN_SIMILARITY), 101):
        for kwargs in ({}, {"reference_folders": references, "keeper_rules": rules}):
            expected = shown(built.groups(similarity, **kwargs))
            assert shown(loaded.index.groups(similarity, **kwargs)) == expected
            assert shown(whole.groups(similarity, **kwargs)) == expected
            some_groups = some_groups or bool(expected)
    assert some_groups
    # What the window does with an index later works the same on a restored one.
    gone = [loaded.result.records[0].path]
    assert shown(loaded.index.without(gone).groups(90)) == shown(built.without(gone).groups(90))
    assert shown(whole.without(gone).groups(90)) == shown(built.without(gone).groups(90))


def test_no_snapshot_is_none(library: Path) -> None:
    with HashCache.open_default() as cache:
        assert snapshot.load(cache, snapshot.snapshot_folder(cache), key_for(library)) is None


def test_snapshot_of_other_settings_is_not_used(library: Path) -> None:
    saved_and_loaded(library)
    with HashCache.open_default() as cache:
        folder = snapshot.snapshot_folder(cache)
        for other in (
            key_for(library, match_transforms=True),
            key_for(library, excluded_folders=(str(library / "misc"),)),
            key_for(library, ignore_list="another list"),
            snapshot.SnapshotKey(roots=(str(library / "trip0"),)),
        ):
            assert snapshot.load(cache, folder, other) is None


def test_damaged_snapshot_is_ignored(library: Path) -> None:
    saved_and_loaded(library)
    with HashCache.open_default() as cache:
        folder = snapshot.snapshot_folder(cache)
        target = folder / key_for(library).file_name()
        good = target.read_bytes()
        for damaged in (
            good[: len(good) // 2],  # cut short
            good[:-100] + bytes(b ^ 0xFF for b in good[-100:]),  # bytes flipped
            b"not a snapshot",
            b"",
        ):
            target.write_bytes(damaged)
            assert snapshot.load(cache, folder, key_for(library)) is None
        target.write_bytes(good)
        assert snapshot.load(cache, folder, key_for(library)) is not None


def test_snapshot_whose_files_changed_in_the_cache_is_ignored(library: Path) -> None:
    """A file rescanned since (another size and mtime in the cache) takes the snapshot's
    record with it: the snapshot no longer stands for what is cached."""
    saved_and_loaded(library)
    changed = library / "trip0" / "IMG_0.jpg"
    make_photo(999, 320, 240).save(changed, quality=80)
    with HashCache.open_default() as cache:
        scanned(library, cache)
        assert snapshot.load(cache, snapshot.snapshot_folder(cache), key_for(library)) is None


def test_state_of_other_records_is_refused(library: Path) -> None:
    built, loaded, result = saved_and_loaded(library)
    with pytest.raises(ValueError):
        SimilarityIndex.restore(result.records[:-1], built.state())
    assert loaded is not None
    assert not loaded.stands_for(result.records[:-1])
    assert loaded.changed_paths(result.records[1:]) == [result.records[0].path]


def test_file_changed_after_the_snapshot_is_not_trashed_from_its_groups(
    library: Path,
) -> None:
    """Before the background check has run, the groups shown are the snapshot's; a file
    edited since is refused by the re-check right before the trash."""
    _built, loaded, _result = saved_and_loaded(library)
    assert loaded is not None
    group = loaded.index.groups(90)[0]
    victim = group.members[1].record
    with Image.open(victim.path) as image:
        edited = image.convert("RGB").rotate(3)
    edited.save(victim.path, format=image.format or "JPEG")
    trashed: list[str] = []
    plan = plan_removal([group], [victim.path], roots=loaded.result.roots)
    report = execute_removal(plan, trash=lambda path: trashed.append(os.fspath(path)))
    assert trashed == []
    assert [o.outcome for o in report.outcomes] == [Outcome.SKIPPED_CHANGED]
    assert Path(victim.path).exists()


def damage_row(name: str, change: str) -> None:
    """What a flipped bit does to a cache row, SQLite none the wiser."""
    with HashCache.open_default() as cache:
        path = cache.path
    with sqlite3.connect(path) as connection:
        connection.execute(
            f"UPDATE records SET {change} WHERE CAST(path AS TEXT) LIKE ?", (f"%/{name}",)
        )
    connection.close()


def test_a_row_damaged_since_the_snapshot_shows_but_the_check_finds_it(library: Path) -> None:
    """A row that still ends with the checksum the snapshot saved is shown as it is read
    (a display only); the scan that checks the snapshot verifies every row, and the
    record it finds otherwise is a change: the snapshot does not stand."""
    saved_and_loaded(library)
    damage_row("trip0/IMG_0.jpg", "width = width + 1")
    with HashCache.open_default() as cache:
        loaded = snapshot.load(cache, snapshot.snapshot_folder(cache), key_for(library))
        assert loaded is not None
        rescanned = scanned(library, cache)  # the check: the damaged row is read again
    damaged = str(library / "trip0" / "IMG_0.jpg")
    shown_width = {r.path: r.width for r in loaded.result.records}[damaged]
    assert shown_width == 321
    assert {r.path: r.width for r in rescanned.records}[damaged] == 320
    assert not loaded.stands_for(rescanned.records)
    assert loaded.changed_paths(rescanned.records) == [damaged]


def test_a_row_rewritten_since_the_snapshot_is_verified(library: Path) -> None:
    """A row whose checksum is not the snapshot's is verified as a scan reads it: a
    damaged one is never shown (no snapshot, a normal open)."""
    saved_and_loaded(library)
    damage_row("trip0/IMG_0.jpg", "width = width + 1, checksum = x'0000000000000000'")
    with HashCache.open_default() as cache:
        assert snapshot.load(cache, snapshot.snapshot_folder(cache), key_for(library)) is None


def test_snapshot_with_damaged_row_checksums_is_ignored(library: Path) -> None:
    """The saved checksums are covered by the snapshot's digest: a snapshot whose bytes
    were changed is not used, whichever part."""
    saved_and_loaded(library)
    with HashCache.open_default() as cache:
        folder = snapshot.snapshot_folder(cache)
        target = folder / key_for(library).file_name()
        good = target.read_bytes()
        at = good.find(b"row_checksums")
        assert at > 0
        target.write_bytes(good[:at + 200] + bytes([good[at + 200] ^ 1]) + good[at + 201 :])
        assert snapshot.load(cache, folder, key_for(library)) is None
