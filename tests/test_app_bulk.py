"""Reviewing thousands of groups fast: the rule chain, the Select menu, sort and filter,
the table view and Move Marked Copies to Folder, as a user notices them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMenu
from test_app_trash import TIMEOUT_MS, Dialogs, make_library, scan
from test_keeper_chain import generated_groups

from dedup_gui.app import dialogs
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.decisions.group_order import GroupKind
from dedup_gui.core.grouping.keeper import KeeperRule
from dedup_gui.core.models import MatchKind


@pytest.fixture
def asked(monkeypatch):
    answers = Dialogs()
    answers.install(monkeypatch)
    return answers


@pytest.fixture
def settings_file(tmp_path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def window(qtbot, settings_file, asked):
    win = MainWindow(AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.show()
    yield win
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=TIMEOUT_MS)


def kept_paths(window: MainWindow) -> set[str]:
    model = window.group_model
    return {m.record.path for g in model.groups() for m in g.members if model.is_kept(m)}


def apply_and_wait(qtbot, window: MainWindow, button) -> None:
    """Click an Apply button; the keepers are chosen off the GUI thread."""
    window.statusBar().clearMessage()
    button.click()
    qtbot.waitUntil(lambda: "Rules applied" in window.statusBar().currentMessage(),
                    timeout=TIMEOUT_MS)


def only_rule(dialog, wanted: KeeperRule) -> None:
    """Move `wanted` to the top with Move Up and untick every other rule."""
    rules = dialog.rules
    while dialog.rule_order()[0] is not wanted:
        rules.list.setCurrentRow(dialog.rule_order().index(wanted))
        rules.up_button.click()
    for row, item in enumerate(rules.items()):
        item.setCheckState(Qt.CheckState.Checked if row == 0 else Qt.CheckState.Unchecked)


def test_a_rule_chain_applied_to_all_1000_groups_keeps_what_the_chain_says(qtbot, window):
    groups = generated_groups(1000)
    window.group_model.set_groups(groups)
    window.open_rule_chain()
    dialog = window.rule_chain_dialog
    only_rule(dialog, KeeperRule.FILE_SIZE)
    apply_and_wait(qtbot, window, dialog.apply_all_button)

    model = window.group_model
    for group in model.groups():
        kept = [m for m in group.members if model.is_kept(m)]
        largest = max(m.record.size for m in group.members)
        assert any(m.record.size == largest for m in kept if not m.is_reference) or any(
            m.is_reference for m in kept)
        assert all(model.is_kept(m) for m in group.members if m.is_reference)
        assert len([m for m in kept if not m.is_reference]) <= 1
    assert "Rules applied to every group" in window.statusBar().currentMessage()
    marked = [m for g in model.groups() for m in g.members if not model.is_kept(m)]
    assert model.marked_totals() == (len(marked), sum(m.record.size for m in marked))

    # the folder priority: a copy in the first folder listed wins
    dialog.set_chain(dialog.chain())
    only_rule(dialog, KeeperRule.FOLDER_PRIORITY)
    dialog.add_folder("/dl")
    apply_and_wait(qtbot, window, dialog.apply_all_button)
    for group in model.groups():
        in_dl = [m for m in group.members if m.record.path.startswith("/dl/")]
        if in_dl and not any(m.is_reference for m in group.members):
            assert next(m for m in group.members if model.is_kept(m)) in in_dl


def test_apply_to_the_selected_group_leaves_the_users_marks_elsewhere(qtbot, window):
    window.group_model.set_groups(generated_groups(30))
    model = window.group_model
    other = model.group(5)
    window.toggle_keep(5, len(other.members) - 1)  # the user's own mark elsewhere
    before_other = [model.is_kept(m) for m in other.members]
    window.group_view.set_current(2)
    window.open_rule_chain()
    dialog = window.rule_chain_dialog
    only_rule(dialog, KeeperRule.SHORTER_PATH)
    apply_and_wait(qtbot, window, dialog.apply_selected_button)
    assert [model.is_kept(m) for m in other.members] == before_other
    chosen = model.group(2)
    shortest = min(chosen.members, key=lambda m: (len(m.record.path), m.record.path))
    assert model.is_kept(shortest)


def test_the_chain_is_remembered_and_can_be_the_suggested_keeper(qtbot, window, settings_file):
    window.group_model.set_groups(generated_groups(10))
    window.open_rule_chain()
    dialog = window.rule_chain_dialog
    only_rule(dialog, KeeperRule.MODIFICATION_DATE)
    dialog.use_as_suggestion.setChecked(True)
    apply_and_wait(qtbot, window, dialog.apply_all_button)
    assert window.keeper_choice.uses_chain()
    assert window.keeper_choice.rules() == (KeeperRule.REFERENCE_FOLDER,
                                            KeeperRule.MODIFICATION_DATE)
    window.settings.sync()
    again = MainWindow(AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)))
    qtbot.addWidget(again)
    assert again.keeper_choice.uses_chain()
    assert again.keeper_choice.rules() == (KeeperRule.REFERENCE_FOLDER,
                                           KeeperRule.MODIFICATION_DATE)


def test_the_select_menu_marks_and_finds_the_group_that_would_lose_every_copy(qtbot, window):
    window.group_model.set_groups(generated_groups(20))
    model = window.group_model
    menu = window.findChild(QMenu, "select_menu")
    assert menu is not None and window.findChild(QMenu, "view_menu") is not None
    actions = window.selection_actions
    row = next(r for r in range(3, 20) if not any(m.is_reference for m in model.group(r).members))
    window.group_view.set_current(0)
    for member_index in range(len(model.group(row).members)):
        model.set_kept(row, member_index, False)
    qtbot.keyClick(window.group_view, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert window.group_view.current_row() == row
    assert "is marked for the trash" in window.statusBar().currentMessage()
    actions.reset_group.trigger()
    assert not model.marks.loses_every_copy(model.group(row))
    actions.invert.trigger()
    assert not model.is_kept(model.group(row).members[0])  # the keeper goes, the others stay
    assert all(model.is_kept(m) for m in model.group(row).members[1:])
    actions.reset_all.trigger()
    assert model.marks.overrides == {}


def test_sort_and_filter_show_the_right_groups_and_say_how_many(window):
    groups = generated_groups(40)
    exact = set(range(0, 40, 4))
    from dataclasses import replace

    groups = [
        replace(g, members=(g.members[0], *(replace(m, match=MatchKind.EXACT)
                                            for m in g.members[1:])))
        if k in exact else g for k, g in enumerate(groups)
    ]
    window.group_model.set_groups(groups)
    bar = window.review_pane.filter_bar
    bar.set_kind(GroupKind.EXACT)
    model = window.group_model
    assert model.rowCount() == len(exact)
    assert all(model.group(r).kind is MatchKind.EXACT for r in range(model.rowCount()))
    assert bar.shown_label.text() == f"{len(exact)} of 40 groups shown"
    marked_before = model.marked_totals()
    assert marked_before == (sum(not model.is_kept(m) for g in groups for m in g.members),
                             sum(m.record.size for g in groups for m in g.members
                                 if not model.is_kept(m)))
    bar.set_kind(GroupKind.ANY)
    bar.set_sort(bar.sort().COPIES)
    counts = [len(model.group(r).members) for r in range(model.rowCount())]
    assert counts == sorted(counts, reverse=True) and model.rowCount() == 40
    bar.set_folder("/backup")
    assert all(any(m.record.path.startswith("/backup/") for m in model.group(r).members)
               for r in range(model.rowCount()))
    assert model.rowCount() < 40 and bar.more_button.text() == "More Filters (1)"
    assert model.marked_totals() == marked_before  # filtering changes no mark


def test_the_table_toggles_a_mark_that_the_thumbnail_rows_show(qtbot, window):
    window.group_model.set_groups(generated_groups(50))
    model = window.group_model
    window.selection_actions.show_table.trigger()
    table = window.review_pane.table_view
    assert window.review_pane.is_table_shown()
    assert table.model().rowCount() == sum(len(model.group(r).members)
                                           for r in range(model.rowCount()))
    table.setCurrentIndex(table.model().index(1, 0))  # group 0's second copy
    group = model.group(0)
    member = group.members[1]
    was_kept = model.is_kept(member)
    before = model.describe(0)
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert model.is_kept(member) is (not was_kept) or member.is_reference
    if not member.is_reference:
        assert model.describe(0) != before  # the thumbnail row's header counts it
        assert table.model().index(1, 6).data() == ("KEEP" if not was_kept else "TRASH")
    assert window.group_view.current_row() == 0 and window.group_view.current_member() == 1
    table.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # by size, largest first
    sizes = [table.model().member(r).record.size for r in range(table.model().rowCount())]
    assert sizes == sorted(sizes, reverse=True)
    window.selection_actions.show_thumbnails.trigger()
    assert not window.review_pane.is_table_shown()


def test_move_to_folder_moves_exactly_the_marked_copies_and_keeps_the_structure(
    qtbot, window, tmp_path, asked, monkeypatch
):
    library = tmp_path / "lib"
    make_library(library, seeds=(1, 2, 3))
    scan(qtbot, window, library)
    model = window.group_model
    marked = [m.record.path for g in model.groups() for m in g.members if not model.is_kept(m)]
    kept = [m.record.path for g in model.groups() for m in g.members if model.is_kept(m)]
    assert len(marked) == 3
    target = tmp_path / "set aside"
    taken = target / Path(marked[0]).relative_to(library)
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"already here")
    Path(marked[1]).write_bytes(Path(marked[1]).read_bytes() + b"edited")  # changed since
    monkeypatch.setattr(dialogs, "choose_folder", lambda *_args, **_kw: str(target))

    window.move_to_folder_action.trigger()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)

    [question] = asked.texts("confirm")
    assert "Move 3 files" in question and str(target) in question
    assert taken.read_bytes() == b"already here"  # never written over
    assert Path(marked[0]).exists() and Path(marked[1]).exists()
    assert not Path(marked[2]).exists()
    assert (target / Path(marked[2]).relative_to(library)).is_file()
    assert all(Path(p).exists() for p in kept)
    [report] = asked.texts("warn")
    assert "Moved 1 file" in report and "2 files stayed" in report
