"""Undo a trash: the files come back byte-identical, and nothing is ever written over."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import send2trash

from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.decisions.trash_log import (
    RestoreResult,
    TrashedEntry,
    TrashLog,
    trashed_entries,
)
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.scanning import scanner
from dedup_gui.core.trash.actions import execute_removal, plan_removal
from tests.imagegen import make_photo

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the freedesktop trash (Linux)"
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def library(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = make_photo(2, 320, 240)
    photo.save(folder / "beach.jpg", quality=95)
    (folder / "beach copy.jpg").write_bytes((folder / "beach.jpg").read_bytes())
    photo.save(folder / "beach small.jpg", quality=60)
    (folder / "other").mkdir()
    photo.save(folder / "other" / "beach.jpg", quality=70)  # same name, another folder
    return folder


def trash(records, kept: str) -> list[TrashedEntry]:
    for record in records:
        send2trash.send2trash(record.path)
    return [TrashedEntry(record, kept) for record in records]


def test_a_trashed_batch_comes_back_byte_identical_and_leaves_no_trash_info(
    tmp_path, library, temp_trash
):
    records = {Path(r.path).relative_to(library).as_posix(): r
               for r in scanner.scan([library]).records}
    gone = [records["beach copy.jpg"], records["beach small.jpg"], records["other/beach.jpg"]]
    before = {r.path: sha256(Path(r.path)) for r in gone}
    with DecisionStore(tmp_path / "decisions.sqlite3") as store:
        TrashLog(store).record(trash(gone, records["beach.jpg"].path))
    assert not any(Path(path).exists() for path in before)
    with DecisionStore(tmp_path / "decisions.sqlite3") as store:
        log = TrashLog(store)
        batch = log.last()
        assert batch is not None and len(batch.waiting) == 3
        assert {f.kept_path for f in batch.files} == {records["beach.jpg"].path}
        outcomes = log.restore(batch)
        assert {o.result for o in outcomes} == {RestoreResult.RESTORED}
        assert {path: sha256(Path(path)) for path in before} == before
        assert list((temp_trash / "info").iterdir()) == []
        assert list((temp_trash / "files").iterdir()) == []
        assert log.last() is None  # nothing left to undo


def test_a_file_now_at_the_original_place_is_never_written_over(tmp_path, library, temp_trash):
    (record,) = [r for r in scanner.scan([library]).records if r.path.endswith("small.jpg")]
    original = sha256(Path(record.path))
    with DecisionStore(tmp_path / "d.sqlite3") as store:
        log = TrashLog(store)
        log.record(trash([record], None))
        Path(record.path).write_bytes(b"a new file the user put here since")
        (outcome,) = log.restore(log.last())
    assert outcome.result is RestoreResult.RESTORED_BESIDE
    assert Path(record.path).read_bytes() == b"a new file the user put here since"
    assert outcome.restored_to == str(library / "beach small (restored).jpg")
    assert sha256(Path(outcome.restored_to)) == original
    assert "restored beside it" in outcome.message


def test_a_file_changed_in_the_trash_is_left_there(tmp_path, library, temp_trash):
    records = [r for r in scanner.scan([library]).records if "copy" in r.path]
    assert records[0].content_digest is not None  # a byte copy: its digest is known
    with DecisionStore(tmp_path / "d.sqlite3") as store:
        log = TrashLog(store)
        log.record(trash(records, None))
        in_trash = temp_trash / "files" / "beach copy.jpg"
        data = bytearray(in_trash.read_bytes())
        data[-10] ^= 0xFF
        in_trash.write_bytes(bytes(data))
        (outcome,) = log.restore(log.last())
    assert outcome.result is RestoreResult.CHANGED_IN_TRASH
    assert in_trash.exists() and not Path(records[0].path).exists()


def test_two_trashed_files_of_one_name_are_told_apart(tmp_path, library, temp_trash):
    records = {Path(r.path).relative_to(library).as_posix(): r
               for r in scanner.scan([library]).records}
    pair = [records["beach.jpg"], records["other/beach.jpg"]]
    before = {r.path: sha256(Path(r.path)) for r in pair}
    with DecisionStore(tmp_path / "d.sqlite3") as store:
        log = TrashLog(store)
        log.record(trash(pair, None))
        batch = log.last()
        assert len({f.trashed_path for f in batch.files}) == 2  # "beach.jpg", "beach 1.jpg"
        log.restore(batch)
    assert {path: sha256(Path(path)) for path in before} == before


def test_a_move_to_trash_logs_where_each_file_went_and_undo_puts_it_back(
    tmp_path, library, temp_trash
):
    result = scanner.scan([library])
    groups = SimilarityIndex.build(result.records).groups(90)
    marked = [m.record.path for g in groups for m in g.members if not m.keep]
    assert len(marked) >= 2
    before = {path: sha256(Path(path)) for path in marked}
    plan = plan_removal(groups, marked, roots=result.roots)
    report = execute_removal(plan)
    assert {o.path for o in report.trashed} == set(marked)
    assert all(o.trashed_to is not None for o in report.trashed)
    with DecisionStore(tmp_path / "d.sqlite3") as store:
        log = TrashLog(store)
        entries = trashed_entries(plan, report)
        assert {e.kept_path for e in entries} <= {g.keeper.record.path for g in groups}
        log.record(entries)
        batch = log.last()
        assert {f.trashed_path for f in batch.files} == {
            o.trashed_to.files_path for o in report.trashed
        }
        log.restore(batch)
    assert {path: sha256(Path(path)) for path in before} == before
    assert list((temp_trash / "files").iterdir()) == []
