"""A large grouping shown in the list's own order comes from the regroup job without its
review columns (the first rows need not wait for them); the list then builds them on a
worker, and a sorted view still gets them from the job."""

from __future__ import annotations

from test_app_bulk_marks import near_copy_records

from dedup_gui.app import scan_jobs
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.scan_jobs import RegroupJob
from dedup_gui.core.decisions.apply_rules import ReviewColumns
from dedup_gui.core.decisions.group_order import GroupFilter, GroupSort, ordered_rows
from dedup_gui.core.grouping.index import SimilarityIndex


def run_job(index: SimilarityIndex, *, needs_columns: bool):
    job = RegroupJob(1, index, 90.0, (), needs_columns=needs_columns)
    results = []
    job.finished.connect(lambda _request, review: results.append(review))
    job.run()
    [review] = results
    return review


def test_a_large_grouping_shows_first_and_gets_its_columns_after(qtbot, monkeypatch):
    index = SimilarityIndex.build(near_copy_records(400))
    # 400 images stand for 100,000: "large" is beyond this many members.
    monkeypatch.setattr(scan_jobs, "COLUMNS_IN_BACKGROUND", 10)
    monkeypatch.setattr("dedup_gui.app.group_model.COLUMNS_IN_BACKGROUND", 10)
    review = run_job(index, needs_columns=False)
    assert review.columns is None and review.arrays.member_count > 10

    model = GroupListModel()
    model.set_groups(review)
    assert model.rowCount() == len(review.groups)
    qtbot.waitUntil(lambda: isinstance(model.columns_source(), ReviewColumns), timeout=10_000)
    built = model.columns()
    expected = ReviewColumns.of(review.groups)
    assert built.groups is review.groups
    assert (built.size == expected.size).all() and (built.starts == expected.starts).all()

    sorted_view = run_job(index, needs_columns=True)
    assert sorted_view.columns is not None
    model.set_groups(sorted_view)
    model.set_order(GroupSort.COPIES, GroupFilter())
    shown = [model.group(row) for row in range(model.rowCount())]
    expected_order = ordered_rows(sorted_view.groups, GroupSort.COPIES, GroupFilter())
    assert shown == [sorted_view.groups[p] for p in expected_order]


def test_a_small_grouping_comes_with_its_columns_whatever_the_order(qtbot):
    index = SimilarityIndex.build(near_copy_records(200))
    review = run_job(index, needs_columns=False)
    assert review.columns is not None and review.columns.groups is review.groups
