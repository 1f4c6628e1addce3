"""Bulk marking over many groups as the user sees it: every copy the action names is marked,
the window and the table say so, the marks are saved, and sorting right after a regroup
uses what the regroup job prepared."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from test_app_trash import TIMEOUT_MS, Dialogs
from test_keeper_chain import generated_groups

from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_table import MARK
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.scan_jobs import RegroupJob
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.decisions.apply_rules import apply_chain
from dedup_gui.core.decisions.group_order import GroupFilter, GroupSort, ordered_rows
from dedup_gui.core.decisions.review_data import ReviewData
from dedup_gui.core.decisions.saved_marks import SavedMarks
from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import KeeperRule
from dedup_gui.core.models import ImageRecord


def near_copy_records(count: int, seed: int = 3) -> list[ImageRecord]:
    """Random hashes, a third of them in families of 2-5 near copies."""
    rng = np.random.default_rng(seed)
    records: list[ImageRecord] = []
    while len(records) < count:
        phash, dhash = (int(v) for v in rng.integers(0, 2**63, 2))
        micro = rng.integers(0, 256, 768, dtype=np.uint8)
        for _ in range(int(rng.integers(2, 6)) if rng.random() < 0.3 else 1):
            flip = 1 << int(rng.integers(64))
            noisy = np.clip(micro.astype(np.int16) + rng.integers(-2, 3, 768), 0, 255)
            k = len(records)
            records.append(ImageRecord(
                path=f"/p/{k // 50}/img{k}.jpg", size=int(rng.integers(10**5, 10**6)),
                mtime_ns=k, width=100, height=100, format="JPEG", capture_time=None,
                dhash=dhash, phash=phash ^ flip, phash_dihedral=(phash ^ flip,) * 8,
                micro=noisy.astype(np.uint8).tobytes(),
            ))
    return records


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    Dialogs().install(monkeypatch)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(AppSettings(settings))
    qtbot.addWidget(win)
    win.show()
    yield win
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=TIMEOUT_MS)


def non_keepers(model: GroupListModel) -> list:
    return [m for g in model.groups() for k, m in enumerate(g.members)
            if k > 0 and not m.is_reference and not m.pair_kept]


def test_mark_every_non_keeper_in_1000_groups_marks_them_all_and_says_how_many(qtbot, window):
    model = window.group_model
    model.set_groups(generated_groups(1000))
    # First a rule chain keeps other copies (the largest file), so the action has work.
    columns = model.columns()
    model.apply_chain_marks(apply_chain(columns, (KeeperRule.FILE_SIZE,)), columns)
    differing = sum(
        model.is_kept(m) != (k == 0 or m.is_reference or m.pair_kept)
        for g in model.groups() for k, m in enumerate(g.members)
    )
    assert differing > 100
    saved = saved_marks(window)  # in one write, off the GUI thread
    assert saved == model.marks.overrides and False in saved.values()

    window.selection_actions.trash_all_but_keepers.trigger()

    copies = non_keepers(model)
    assert all(not model.is_kept(m) for m in copies)
    assert all(model.is_kept(g.members[0]) for g in model.groups())
    assert model.marked_totals() == (len(copies), sum(m.record.size for m in copies))
    assert f"({differing:,} marks changed)" in window.statusBar().currentMessage()
    table = window.review_pane.table_model
    marks = [table.index(row, MARK).data() for row in range(table.rowCount())]
    assert marks.count("TRASH") == len(copies)

    # Back at the suggestions: the marks the chain saved are forgotten again.
    assert saved_marks(window) == model.marks.overrides == {}


def saved_marks(window: MainWindow) -> dict[str, bool]:
    """What the decision store holds for the files in the groups, once written."""
    window.decisions_ui.flush_marks()
    assert window.decisions_ui.decisions.wait(10_000)
    records = [m.record for g in window.group_model.groups() for m in g.members]
    with DecisionStore.open_default() as store:
        return SavedMarks(store).restore(records)


def test_reset_and_next_group_losing_every_copy_after_bulk_marks(window):
    model = window.group_model
    model.set_groups(generated_groups(300))
    model.trash_all_but_keepers()
    # The user trashes the keeper of the third row by hand: that group loses every copy
    # unless a protected copy is in it.
    row = next(r for r in range(2, model.rowCount())
               if not any(m.is_reference or m.pair_kept for m in model.group(r).members))
    model.set_kept(row, 0, False)
    assert model.next_row_losing_every_copy() == row
    assert model.next_row_losing_every_copy(row) == row  # wraps around to the only one
    change = model.reset_marks()
    assert change.changed > 0 and model.next_row_losing_every_copy() is None
    assert model.marks.overrides == {}
    assert model.marked_totals()[0] == sum(
        not m.keep for g in model.groups() for m in g.members)


def test_sorting_right_after_a_regroup_uses_the_columns_the_job_made(qtbot):
    index = SimilarityIndex.build(near_copy_records(400))
    job = RegroupJob(1, index, 90.0, ())
    results = []
    job.finished.connect(lambda _request, review: results.append(review))
    job.run()
    [review] = results
    assert isinstance(review, ReviewData) and review.columns is not None
    assert review.columns.groups is review.groups

    model = GroupListModel()
    model.set_groups(review)
    assert model.columns() is review.columns  # nothing built on the GUI thread
    model.set_order(GroupSort.COPIES, GroupFilter(min_similarity=95))
    shown = [model.group(row) for row in range(model.rowCount())]
    expected = ordered_rows(review.groups, GroupSort.COPIES, GroupFilter(min_similarity=95))
    assert shown == [review.groups[p] for p in expected]
    assert len({len(g.members) for g in shown}) > 1
    counts = [len(g.members) for g in shown]
    assert counts == sorted(counts, reverse=True)
