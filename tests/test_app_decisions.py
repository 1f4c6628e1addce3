"""Decisions that outlive the window: "not duplicates", saved marks, reviewed groups."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from imagegen import make_photo
from PIL import Image
from PySide6.QtCore import QSettings

from dedup_gui.app import dialogs
from dedup_gui.app.ignore_dialog import NOT_FOUND
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.decisions.store import DecisionStore, DecisionStoreError

TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def answered(monkeypatch):
    """Every dialog answered without blocking; what was shown is kept."""
    shown: list[str] = []

    def message(_parent, title, text, details="", **_kwargs):
        shown.append(f"{title}: {text}\n{details}")
        return False

    monkeypatch.setattr(dialogs, "confirm", lambda *_args, **_kwargs: True)
    for kind in ("inform", "warn", "report"):
        monkeypatch.setattr(dialogs, kind, message)
    return shown


@pytest.fixture
def open_window(qtbot, tmp_path):
    """Opens a window on one settings file; a second call is the app started again."""
    settings_file = str(tmp_path / "settings.ini")

    def open_() -> MainWindow:
        settings = QSettings(settings_file, QSettings.Format.IniFormat)
        window = MainWindow(AppSettings(settings))
        qtbot.addWidget(window)
        window.show()
        return window

    return open_


def make_pairs(root: Path, seeds=(1, 2)) -> dict[int, tuple[Path, Path]]:
    """Per seed, a photo and a smaller JPEG of it: one group each."""
    root.mkdir(parents=True, exist_ok=True)
    pairs = {}
    for seed in seeds:
        photo = make_photo(seed, 320, 240)
        original, small = root / f"photo{seed}.png", root / f"photo{seed}_small.jpg"
        photo.save(original)
        photo.resize((160, 120), Image.Resampling.LANCZOS).save(small, quality=85)
        pairs[seed] = (original, small)
    return pairs


def scan(qtbot, window: MainWindow, *folders: Path) -> None:
    for folder in folders:
        window.folder_panel.add_folder(str(folder))
    window.start_scan()
    wait_idle(qtbot, window)


def wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)


def grouped_paths(window: MainWindow) -> list[set[str]]:
    return [{m.record.path for m in g.members} for g in window.group_model.groups()]


def together(window: MainWindow, first: Path, second: Path) -> bool:
    return any({str(first), str(second)} <= group for group in grouped_paths(window))


def test_a_pair_marked_not_duplicates_stays_apart_after_a_restart_until_removed_from_the_list(
    qtbot, open_window, tmp_path
):
    pairs = make_pairs(tmp_path / "photos")
    window = open_window()
    scan(qtbot, window, tmp_path / "photos")
    assert together(window, *pairs[1]) and together(window, *pairs[2])

    row = window.group_model.row_of_path(str(pairs[1][0]))
    small = next(i for i, m in enumerate(window.group_model.group(row).members) if i > 0)
    window.decisions_ui.not_duplicates(row, [0, small])
    wait_idle(qtbot, window)
    assert not together(window, *pairs[1])  # split at once, without a rescan
    assert together(window, *pairs[2])
    window.close()

    again = open_window()
    again.start_scan()  # the folders come back from the settings
    wait_idle(qtbot, again)
    assert again.group_model.rowCount() == 1
    assert not together(again, *pairs[1])
    # Stricter or looser, never together.
    again.similarity_slider.setValue(again.similarity_slider.minimum())
    again.regroup()
    wait_idle(qtbot, again)
    assert not together(again, *pairs[1])

    dialog = again.decisions_ui.show_ignore_list()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=TIMEOUT_MS)
    names = {dialog.table.item(0, column).text().split("\n")[0] for column in (0, 1)}
    assert names == {pairs[1][0].name, pairs[1][1].name}
    qtbot.waitUntil(
        lambda: dialog.has_thumbnail(0, 0) and dialog.has_thumbnail(0, 1), timeout=TIMEOUT_MS
    )
    dialog.table.selectRow(0)
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: together(again, *pairs[1]), timeout=TIMEOUT_MS)


def test_not_duplicates_for_the_whole_group_and_from_the_compare_view(
    qtbot, open_window, tmp_path
):
    photos = tmp_path / "photos"
    pairs = make_pairs(photos, seeds=(3, 4))
    third = photos / "photo3_medium.jpg"
    Image.open(pairs[3][0]).resize((240, 180), Image.Resampling.LANCZOS).save(third, quality=90)
    window = open_window()
    scan(qtbot, window, photos)
    row = window.group_model.row_of_path(str(third))
    assert len(window.group_model.group(row).members) == 3

    window.decisions_ui.not_duplicates(row, None)
    wait_idle(qtbot, window)
    assert all(window.group_model.row_of_path(str(p)) is None for p in (*pairs[3], third))

    row = window.group_model.row_of_path(str(pairs[4][0]))
    window.group_view.set_current(row, 1)
    assert set(window.compare_view.shown_paths()) == {str(p) for p in pairs[4]}
    window.compare_view.not_duplicates_button.click()
    wait_idle(qtbot, window)
    assert window.group_model.rowCount() == 0
    assert "apart" in window.statusBar().currentMessage()


def test_the_list_shows_a_file_no_longer_on_disk_and_clear_all_groups_again(
    qtbot, open_window, tmp_path
):
    pairs = make_pairs(tmp_path / "photos", seeds=(5,))
    window = open_window()
    scan(qtbot, window, tmp_path / "photos")
    window.decisions_ui.not_duplicates(0, None)
    wait_idle(qtbot, window)
    assert window.group_model.rowCount() == 0
    moved = tmp_path / "elsewhere.png"
    pairs[5][0].rename(moved)

    dialog = window.decisions_ui.show_ignore_list()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=TIMEOUT_MS)
    texts = [dialog.table.item(0, column).text() for column in (0, 1)]
    gone = next(text for text in texts if pairs[5][0].name in text)
    assert NOT_FOUND in gone and str(pairs[5][0].parent) in gone
    assert NOT_FOUND not in next(text for text in texts if pairs[5][1].name in text)

    moved.rename(pairs[5][0])
    dialog.clear_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: together(window, *pairs[5]), timeout=TIMEOUT_MS)


def test_marks_survive_a_restart_and_a_changed_file_goes_back_to_the_suggestion(
    qtbot, open_window, tmp_path
):
    pairs = make_pairs(tmp_path / "photos")
    window = open_window()
    scan(qtbot, window, tmp_path / "photos")
    model = window.group_model
    for seed in (1, 2):
        row = model.row_of_path(str(pairs[seed][0]))
        for index in range(2):
            window.toggle_keep(row, index)  # keep the small copy, trash the keeper
    marked = {m.record.path for g in model.groups() for m in g.members if not model.is_kept(m)}
    assert marked == {str(pairs[1][0]), str(pairs[2][0])}
    window.close()

    changed = pairs[2][0]
    info = changed.stat()
    os.utime(changed, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    again = open_window()
    again.start_scan()
    wait_idle(qtbot, again)
    model = again.group_model
    by_path = {m.record.path: m for g in model.groups() for m in g.members}
    assert not model.is_kept(by_path[str(pairs[1][0])])
    assert model.is_kept(by_path[str(pairs[1][1])])
    # The edited file is back to its suggestion (kept); its copy keeps its saved mark.
    assert by_path[str(pairs[2][0])].keep and model.is_kept(by_path[str(pairs[2][0])])
    assert not by_path[str(pairs[2][1])].keep and model.is_kept(by_path[str(pairs[2][1])])


def test_reset_marks_forgets_the_saved_marks(qtbot, open_window, tmp_path):
    pairs = make_pairs(tmp_path / "photos")
    window = open_window()
    scan(qtbot, window, tmp_path / "photos")
    for seed in (1, 2):
        window.toggle_keep(window.group_model.row_of_path(str(pairs[seed][1])), 1)
    assert window.group_model.marked_totals()[0] == 0
    window.group_view.set_current(window.group_model.row_of_path(str(pairs[1][0])))
    window.decisions_ui.reset_group_action.trigger()
    assert window.group_model.marked_totals()[0] == 1
    window.close()

    again = open_window()
    again.start_scan()
    wait_idle(qtbot, again)
    assert again.group_model.marked_totals()[0] == 1  # photo2's kept copy was restored
    again.decisions_ui.reset_action.trigger()
    assert again.group_model.marked_totals()[0] == 2
    again.close()

    third = open_window()
    third.start_scan()
    wait_idle(qtbot, third)
    assert third.group_model.marked_totals()[0] == 2


def test_a_group_looked_at_for_a_second_is_reviewed_and_stays_reviewed(
    qtbot, open_window, tmp_path
):
    pairs = make_pairs(tmp_path / "photos")
    window = open_window()
    scan(qtbot, window, tmp_path / "photos")
    model = window.group_model
    first = model.row_of_path(str(pairs[1][0]))
    second = model.row_of_path(str(pairs[2][0]))
    window.group_view.set_current(first)
    qtbot.waitUntil(lambda: model.is_reviewed(first), timeout=5000)
    window.group_view.set_current(second)
    qtbot.wait(200)
    window.group_view.set_current(first)  # photo2's group was only passed through
    qtbot.wait(300)
    assert not model.is_reviewed(second)
    window.close()

    again = open_window()
    again.start_scan()
    wait_idle(qtbot, again)
    model = again.group_model
    assert model.is_reviewed(model.row_of_path(str(pairs[1][0])))
    assert not model.is_reviewed(model.row_of_path(str(pairs[2][0])))
    row = model.row_of_path(str(pairs[2][0]))
    again.toggle_keep(row, 1)  # a changed group is reviewed at once
    assert model.is_reviewed(row)


def test_without_a_decision_store_the_app_says_so_once_and_goes_on(
    qtbot, open_window, tmp_path, monkeypatch
):
    calls = []

    def broken() -> DecisionStore:
        calls.append(1)
        raise DecisionStoreError("disk is read-only")

    monkeypatch.setattr(DecisionStore, "open_default", staticmethod(broken))
    pairs = make_pairs(tmp_path / "photos")
    window = open_window()
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    scan(qtbot, window, tmp_path / "photos")
    assert window.group_model.rowCount() == 2
    window.toggle_keep(0, 1)
    window.decisions_ui.not_duplicates(window.group_model.row_of_path(str(pairs[1][0])), None)
    wait_idle(qtbot, window)
    window.decisions_ui.decisions.wait()
    qtbot.wait(100)
    assert not together(window, *pairs[1])  # still kept apart for this session
    assert len([m for m in messages if "disk is read-only" in m]) == 1
    assert len(calls) == 1


def test_a_mark_is_saved_shortly_after_it_is_made_while_the_window_stays_open(
    qtbot, open_window, tmp_path
):
    from dedup_gui.core.decisions.saved_marks import SavedMarks

    pairs = make_pairs(tmp_path / "photos", seeds=(1,))
    window = open_window()
    scan(qtbot, window, tmp_path / "photos")
    small = next(m for m in window.group_model.group(0).members if not m.keep)
    window.toggle_keep(0, window.group_model.group(0).members.index(small))
    window.toggle_keep(0, 0)  # the keeper to the trash: two presses, saved together

    records = [m.record for m in window.group_model.group(0).members]

    def saved() -> dict[str, bool]:
        with DecisionStore.open_default() as store:
            return SavedMarks(store).restore(records)

    qtbot.waitUntil(lambda: saved() == {str(pairs[1][0]): False, str(pairs[1][1]): True},
                    timeout=5000)
