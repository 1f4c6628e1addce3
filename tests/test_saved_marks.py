"""Keep/trash marks and reviewed groups come back on the next scan, while the files are
unchanged."""

from __future__ import annotations

from pathlib import Path

from imagegen import make_photo

from dedup_gui.core.decisions.saved_marks import ReviewedGroups, SavedMarks
from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.scanning import scanner


def library(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = make_photo(5, 320, 240)
    photo.save(folder / "a.jpg", quality=95)
    photo.save(folder / "b.jpg", quality=80)
    photo.save(folder / "c.png")
    return folder


def test_marks_come_back_after_a_restart_and_a_changed_file_goes_back_to_the_suggestion(
    tmp_path,
):
    folder = library(tmp_path)
    records = {Path(r.path).name: r for r in scanner.scan([folder]).records}
    store_path = tmp_path / "data" / "decisions.sqlite3"
    with DecisionStore(store_path) as store:
        SavedMarks(store).save({records["a.jpg"]: False, records["b.jpg"]: True,
                                records["c.png"]: True})
    make_photo(6, 320, 240).save(folder / "c.png")  # edited since it was marked
    with DecisionStore(store_path) as store:
        marks = SavedMarks(store)
        rescan = scanner.scan([folder]).records
        restored = marks.restore(rescan)
        assert restored == {str(folder / "a.jpg"): False, str(folder / "b.jpg"): True}
        # The stale mark was dropped, not just skipped.
        edited = next(r for r in rescan if r.path.endswith("c.png"))
        marks.save({edited: False})
        marks.forget([edited])
        assert str(folder / "c.png") not in marks.restore(rescan)
        marks.forget()
        assert marks.restore(rescan) == {}


def test_a_reviewed_group_is_remembered_until_it_changes(tmp_path):
    folder = library(tmp_path)
    records = scanner.scan([folder]).records
    (group,) = SimilarityIndex.build(records).groups(90)
    store_path = tmp_path / "decisions.sqlite3"
    with DecisionStore(store_path) as store:
        ReviewedGroups(store).mark([group])
    with DecisionStore(store_path) as store:
        reviewed = ReviewedGroups(store)
        assert reviewed.reviewed([group]) == {0}
        make_photo(5, 320, 240).save(folder / "d.jpg", quality=70)  # a new copy joins
        (bigger,) = SimilarityIndex.build(scanner.scan([folder]).records).groups(90)
        assert len(bigger.members) == 4
        assert reviewed.reviewed([bigger, group]) == {1}
        reviewed.unmark([group])
        assert reviewed.reviewed([group]) == set()
