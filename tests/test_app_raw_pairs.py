"""A RAW+JPEG pair in the review: one item with a RAW+JPG badge, marked as one, and the
"RAW+JPEG pairs" setting regroups without a rescan."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import make_photo
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip
from test_app_views import record

from dedup_gui.app import dialogs, scan_jobs
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import (
    CELL_WIDTH,
    GroupListView,
    badge_rect,
    caption_lines,
    group_row_layout,
)
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.pair_items import row_items
from dedup_gui.app.settings import AppSettings
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.core.grouping.raw_pairs import PAIR_REASON, RawJpegPolicy
from dedup_gui.core.images.dng_writer import DngLayout, dng_bytes
from dedup_gui.core.models import DuplicateGroup, GroupMember, MatchKind

SCAN_TIMEOUT_MS = 60_000
RAW = "/shoot/IMG_0001.CR2"
JPG = "/shoot/IMG_0001.JPG"


def member(rec, *, keep=True, pair_of=None, reason="", similarity=100.0) -> GroupMember:
    return GroupMember(rec, keep=keep, is_reference=False, distance=0, similarity=similarity,
                       match=MatchKind.VISUAL, keep_reason=reason, pair_of=pair_of,
                       pair_kept=pair_of is not None and keep)


@pytest.fixture
def pair_and_copy() -> DuplicateGroup:
    """A kept RAW+JPEG pair and a JPEG copy elsewhere, suggested for the trash."""
    return DuplicateGroup((
        member(record(RAW, 25_000_000, 6000, 4000, fmt="RAW (CR2)"), pair_of=JPG),
        member(record(JPG, 8_000_000, 6000, 4000), pair_of=RAW, reason=PAIR_REASON,
               similarity=98.0),
        member(record("/backup/IMG_0001.JPG", 8_000_000, 6000, 4000), keep=False,
               similarity=97.0),
    ))


@pytest.fixture
def view(qtbot):
    thumbnails = ThumbnailProvider(max_side=64)
    model = GroupListModel()
    list_view = GroupListView(thumbnails)
    list_view.setModel(model)
    list_view.resize(900, 600)
    qtbot.addWidget(list_view)
    list_view.show()
    qtbot.waitExposed(list_view)
    yield list_view
    thumbnails.shut_down()


def layout_of(view: GroupListView, row: int = 0):
    model = view.group_model()
    return group_row_layout(view.visualRect(model.index(row)), model.group(row), model,
                            view.current_member())


def test_a_kept_pair_is_one_item_with_both_files_in_its_caption_and_tooltip(view,
                                                                          pair_and_copy):
    model = view.group_model()
    model.set_groups([pair_and_copy])
    layout = layout_of(view)
    assert [index for index, _cell in layout.cells] == [0, 2]
    assert layout.folded == {0: 1}
    metrics = QFontMetrics(QApplication.font())
    name, _folder, size, note = caption_lines(
        pair_and_copy.members[0], 0, metrics, CELL_WIDTH - 4, (1, pair_and_copy.members[1])
    )
    assert name == "IMG_0001.CR2 + .JPG"
    assert "+" in size and note == "Keeper: RAW+JPEG pair"
    cell = dict(layout.cells)[0]
    position = cell.center()
    QApplication.sendEvent(view.viewport(), QHelpEvent(
        QEvent.Type.ToolTip, position, view.viewport().mapToGlobal(position)))
    assert RAW in QToolTip.text() and JPG in QToolTip.text()


def test_the_pair_is_marked_as_one_and_unfolds_when_its_files_differ(qtbot, view,
                                                                   pair_and_copy):
    model = view.group_model()
    model.set_groups([pair_and_copy])
    view.toggle_requested.connect(model.toggle_kept)
    cell = dict(layout_of(view).cells)[0]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=badge_rect(cell).center())
    assert [model.is_kept(m) for m in pair_and_copy.members] == [False, False, False]
    assert layout_of(view).folded == {0: 1}  # both for the trash: still one item
    model.toggle_kept(0, 1)  # the user keeps only the JPEG (from the compare view)
    assert layout_of(view).folded == {}
    assert [index for index, _cell in layout_of(view).cells] == [0, 1, 2]


def test_left_and_right_step_over_the_folded_jpeg_and_the_compare_view_still_shows_it(
    qtbot, view, pair_and_copy
):
    model = view.group_model()
    model.set_groups([pair_and_copy])
    view.setFocus()
    view.set_current(0, 0)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.current_member() == 2
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.current_member() == 0
    view.set_current(0, 1)  # what the compare view's Next does: the JPEG on its own
    toggles = []
    view.toggle_requested.connect(lambda row, index: toggles.append(index))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert toggles == [0, 1]  # Space on the pair's item marks both


def test_row_items_fold_only_pairs_in_the_group():
    lone = DuplicateGroup((
        member(record(RAW, 25_000_000, fmt="RAW (CR2)")),
        member(record("/web/small.jpg", 300_000), keep=False),
    ))
    assert row_items(lone, lambda m: m.keep) == ((0,), (1,))


# ----- the setting, in the window ---------------------------------------------------------

@pytest.fixture
def answers(monkeypatch):
    asked: list[str] = []
    reply = {"confirm": True}

    def confirm(_parent, title, text, **_kwargs):
        asked.append(f"{title}: {text}")
        return reply["confirm"]

    monkeypatch.setattr(dialogs, "confirm", confirm)
    for kind in ("inform", "warn"):
        monkeypatch.setattr(dialogs, kind, lambda *args, **kwargs: None)
    return asked, reply


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings_file, answers):
    win = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.cancel_job()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=SCAN_TIMEOUT_MS)


def camera_shot(folder: Path) -> tuple[str, str]:
    """What a camera set to RAW+JPEG writes: DSC_0001.NEF and DSC_0001.JPG."""
    folder.mkdir(parents=True, exist_ok=True)
    picture = make_photo(21, 640, 480)
    raw = folder / "DSC_0001.NEF"
    raw.write_bytes(dng_bytes(picture, DngLayout(thumbnail_side=160, dng_tags=False)))
    picture.save(folder / "DSC_0001.JPG", quality=95)
    return str(raw), str(folder / "DSC_0001.JPG")


def marks(window: MainWindow) -> dict[str, bool]:
    return window.group_model.keep_decisions()


def pick(window: MainWindow, policy: RawJpegPolicy) -> None:
    combo = window.raw_pair_choice.combo
    combo.setCurrentIndex(combo.findData(policy.value))


def test_the_setting_regroups_without_a_rescan_and_only_keep_jpeg_trashes_the_raw(
    qtbot, window, tmp_path, answers, monkeypatch, settings_file
):
    asked, reply = answers
    raw, jpg = camera_shot(tmp_path / "DCIM")
    window.folder_panel.add_folder(str(tmp_path / "DCIM"))
    window.start_scan()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert marks(window) == {raw: True, jpg: True}
    assert "0 files marked" in window.status_label.text()

    def no_rescan(*args, **kwargs):
        raise AssertionError("changing the pair setting must not rescan")

    monkeypatch.setattr(scan_jobs, "scan", no_rescan)
    pick(window, RawJpegPolicy.KEEP_RAW)
    qtbot.waitUntil(lambda: marks(window) == {raw: True, jpg: False}, timeout=5000)
    assert asked == []

    reply["confirm"] = False  # asked first, and saying no changes nothing
    pick(window, RawJpegPolicy.KEEP_JPEG)
    assert len(asked) == 1 and "RAW files will be suggested for the trash" in asked[0]
    assert window.raw_pair_choice.policy() is RawJpegPolicy.KEEP_RAW
    assert marks(window) == {raw: True, jpg: False}

    reply["confirm"] = True
    pick(window, RawJpegPolicy.KEEP_JPEG)
    qtbot.waitUntil(lambda: marks(window) == {raw: False, jpg: True}, timeout=5000)
    pick(window, RawJpegPolicy.KEEP_BOTH)
    qtbot.waitUntil(lambda: marks(window) == {raw: True, jpg: True}, timeout=5000)
    pick(window, RawJpegPolicy.KEEP_JPEG)  # confirmed once: not asked again
    qtbot.waitUntil(lambda: marks(window) == {raw: False, jpg: True}, timeout=5000)
    assert len(asked) == 2

    window.save_settings()
    reopened = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(reopened)
    assert reopened.raw_pair_choice.policy() is RawJpegPolicy.KEEP_JPEG
