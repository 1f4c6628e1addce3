"""While a large grouping is reviewed, the heap is frozen for the cyclic collector (its full
passes over 100,000 records' objects would land in the table's frames); the next grouping
must still let the old one go, even one only garbage through a reference cycle."""

from __future__ import annotations

import gc
import weakref

import pytest
from test_app_bulk_marks import near_copy_records
from test_app_regroup_columns import run_job

from dedup_gui.app import long_lived
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.core.grouping.index import SimilarityIndex


@pytest.fixture(autouse=True)
def _thawed_after():
    yield
    gc.unfreeze()


def test_a_regroup_releases_the_old_grouping_though_the_heap_was_frozen(qtbot, monkeypatch):
    # 300 images stand for 100,000: "large" is beyond this many members.
    monkeypatch.setattr(long_lived, "LARGE_GROUPING", 10)
    index = SimilarityIndex.build(near_copy_records(300))
    model = GroupListModel()
    old = run_job(index, needs_columns=True)
    assert old.arrays.member_count >= 10
    cycle: list[object] = [old]
    cycle.append(cycle)  # e.g. a closure or a Qt wrapper that held the grouping
    model.set_groups(old)
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)  # once the first paint is done
    gone = weakref.ref(old)
    del old, cycle  # garbage now, but frozen with the rest: only the collector frees it

    model.set_groups(run_job(SimilarityIndex.build(near_copy_records(300)[:200]),
                             needs_columns=True))
    qtbot.waitUntil(lambda: gone() is None)
    assert model.rowCount() and gc.get_freeze_count() > 0


def test_the_heap_is_frozen_only_after_the_first_paint(qtbot, monkeypatch):
    # The collection before the freeze (0.25 s at 100k files) must not delay the rows.
    monkeypatch.setattr(long_lived, "LARGE_GROUPING", 10)
    gc.unfreeze()  # whatever an earlier test left
    model = GroupListModel()
    model.set_groups(run_job(SimilarityIndex.build(near_copy_records(300)), needs_columns=True))
    assert model.rowCount() and gc.get_freeze_count() == 0
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)


def test_a_small_grouping_leaves_the_heap_to_the_collector(qtbot, monkeypatch):
    monkeypatch.setattr(long_lived, "LARGE_GROUPING", 10)
    model = GroupListModel()
    model.set_groups(run_job(SimilarityIndex.build(near_copy_records(300)), needs_columns=True))
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)
    monkeypatch.setattr(long_lived, "LARGE_GROUPING", 10_000)
    model.set_groups(run_job(SimilarityIndex.build(near_copy_records(300)), needs_columns=True))
    qtbot.waitUntil(lambda: gc.get_freeze_count() == 0)
    assert model.rowCount()
