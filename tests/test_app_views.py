"""Views and models with hand-made groups: keep marks, keyboard review, compare, thumbnails."""

from __future__ import annotations

import csv
import dataclasses
import os
import sys
import threading
import types
import urllib.parse
from pathlib import Path

import pytest
from imagegen import make_photo
from PIL import Image
from PySide6.QtCore import QPoint, QSettings, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from dedup_gui.app import desktop, dialogs, main
from dedup_gui.app.compare import DIFFERENCE_COLOUR, METADATA_ROWS, CompareView
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import GroupListView, badge_rect, row_layout, visible_members
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord, MatchKind


def record(path: Path | str, size: int, width: int = 320, height: int = 240,
           fmt: str = "JPEG") -> ImageRecord:
    return ImageRecord(
        path=str(path), size=size, mtime_ns=1_700_000_000_000_000_000, width=width,
        height=height, format=fmt, capture_time=None, dhash=0, phash=0,
        phash_dihedral=(0,) * 8, micro=bytes(768),
    )


def group(*records: ImageRecord, reference: frozenset[str] = frozenset()) -> DuplicateGroup:
    return DuplicateGroup(tuple(
        GroupMember(rec, keep=i == 0, is_reference=rec.path in reference,
                    distance=0 if i == 0 else 2, similarity=100.0 if i == 0 else 96.9,
                    match=MatchKind.VISUAL)
        for i, rec in enumerate(records)
    ))


@pytest.fixture
def photos(tmp_path) -> list[Path]:
    """Three files of one photo: original, half size, PNG."""
    photo = make_photo(4, 320, 240)
    paths = [tmp_path / "a.jpg", tmp_path / "b_small.jpg", tmp_path / "c.png"]
    photo.save(paths[0], quality=90)
    photo.resize((160, 120), Image.Resampling.LANCZOS).save(paths[1], quality=80)
    photo.save(paths[2])
    return paths


@pytest.fixture
def photo_group(photos) -> DuplicateGroup:
    return group(record(photos[0], photos[0].stat().st_size),
                 record(photos[1], photos[1].stat().st_size, 160, 120),
                 record(photos[2], photos[2].stat().st_size, fmt="PNG"))


@pytest.fixture
def view(qtbot):
    thumbnails = ThumbnailProvider(max_side=64)
    model = GroupListModel()
    list_view = GroupListView(thumbnails)
    list_view.setModel(model)
    list_view.resize(900, 600)
    qtbot.addWidget(list_view)
    list_view.show()
    yield list_view
    thumbnails.shut_down()


def test_groups_are_sorted_by_reclaimable_space():
    small = group(record("/x/1.jpg", 100), record("/x/2.jpg", 50))
    large = group(record("/y/1.jpg", 9000), record("/y/2.jpg", 8000), record("/y/3.jpg", 10))
    model = GroupListModel()
    model.set_groups([small, large])
    assert [model.group(row) for row in range(2)] == [large, small]


def test_keep_marks_survive_regrouping_and_reference_files_cannot_be_trashed():
    first = group(record("/p/a.jpg", 10), record("/p/b.jpg", 9), reference=frozenset({"/p/a.jpg"}))
    model = GroupListModel()
    model.set_groups([first])
    assert model.toggle_kept(0, 1)
    assert not model.toggle_kept(0, 0)
    assert model.keep_decisions() == {"/p/a.jpg": True, "/p/b.jpg": True}
    regrouped = group(first.members[0].record, first.members[1].record, record("/p/c.jpg", 8),
                      reference=frozenset({"/p/a.jpg"}))
    model.set_groups([regrouped])
    assert model.keep_decisions() == {"/p/a.jpg": True, "/p/b.jpg": True, "/p/c.jpg": False}


def test_trash_selection_counts_files_bytes_and_emptied_groups():
    model = GroupListModel()
    model.set_groups([group(record("/a/1.jpg", 100), record("/a/2.jpg", 40))])
    selection = model.trash_selection()
    assert (len(selection.members), selection.total_bytes) == (1, 40)
    assert selection.emptied_groups == ()
    model.toggle_kept(0, 0)
    assert model.trash_selection().total_bytes == 140
    assert len(model.trash_selection().emptied_groups) == 1


def test_a_long_group_scrolls_to_keep_the_current_image_visible():
    assert visible_members(3, 5, 0) == (range(3), 0)
    shown, hidden = visible_members(12, 5, 9)
    assert 9 in shown and len(shown) == 4 and hidden == 8


def test_arrow_keys_move_between_groups_and_images_and_space_toggles(qtbot, view):
    model = view.group_model()
    model.set_groups([
        group(record("/g1/a.jpg", 500), record("/g1/b.jpg", 400), record("/g1/c.jpg", 300)),
        group(record("/g2/a.jpg", 50), record("/g2/b.jpg", 40)),
    ])
    toggles = []
    view.toggle_requested.connect(lambda row, member: toggles.append((row, member)))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert (view.current_row(), view.current_member()) == (0, 0)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)  # stops at the last image
    assert view.current_member() == 2
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert (view.current_row(), view.current_member()) == (1, 0)
    assert toggles == [(0, 2)]


def test_clicking_a_badge_toggles_keep(qtbot, view):
    model = view.group_model()
    model.set_groups([group(record("/g/a.jpg", 500), record("/g/b.jpg", 400))])
    rect = view.visualRect(model.index(0))
    cells = dict(row_layout(rect, 2, 0).cells)
    toggles = []
    view.toggle_requested.connect(lambda row, member: toggles.append((row, member)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=badge_rect(cells[1]).center())
    assert toggles == [(0, 1)]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=cells[0].center() - QPoint(0, 20))
    assert toggles == [(0, 1)] and view.current_member() == 0
    menus = []
    view.context_menu_requested.connect(lambda row, member, _pos: menus.append((row, member)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=cells[1].center())
    assert menus == [(0, 1)] and view.current_member() == 1 and toggles == [(0, 1)]


def test_thumbnails_load_off_the_gui_thread_and_are_cached(qtbot, photos):
    threads = []

    def loader(path, max_side):
        threads.append(threading.current_thread())
        if path.endswith(".png"):
            raise OSError("unreadable")
        return QImage(max_side, max_side // 2, QImage.Format.Format_RGB888)

    provider = ThumbnailProvider(max_side=64, loader=loader)
    jpeg, png = record(photos[0], 1000), record(photos[2], 2000)
    assert provider.pixmap(jpeg) is None
    ready = []
    provider.ready.connect(ready.append)
    assert provider.pixmap(png) is None
    qtbot.waitUntil(lambda: len(ready) == 2, timeout=5000)
    assert sorted(ready) == sorted([str(photos[0]), str(photos[2])])
    assert provider.pixmap(jpeg) is not None
    assert provider.pixmap(jpeg).width() == 64
    assert provider.has_failed(png)
    assert len(threads) == 2 and threading.main_thread() not in threads
    provider.shut_down()


def test_real_thumbnails_come_from_the_core(qtbot, photos):
    provider = ThumbnailProvider(max_side=100)
    small = record(photos[1], photos[1].stat().st_size)
    qtbot.waitUntil(lambda: provider.pixmap(small) is not None, timeout=10000)
    pixmap = provider.pixmap(small)
    assert (pixmap.width(), pixmap.height()) == (100, 75)
    provider.shut_down()


def test_compare_view_highlights_differences_and_shows_the_chosen_member(qtbot, photo_group):
    thumbnails = ThumbnailProvider(max_side=64)
    model = GroupListModel()
    model.set_groups([photo_group])
    compare = CompareView(thumbnails)
    qtbot.addWidget(compare)
    compare.show_group(model, 0, 2)
    assert compare.shown_paths() == (photo_group.members[0].record.path,
                                     photo_group.members[2].record.path)

    def highlighted(row_name: str, column: int) -> bool:
        item = compare.table.item(METADATA_ROWS.index(row_name), column)
        return item.background().color() == DIFFERENCE_COLOUR

    assert highlighted("Dimensions", 1) and not highlighted("Dimensions", 2)
    assert highlighted("Format", 2) and not highlighted("Format", 1)
    assert not highlighted("Full path", 1)  # same folder as the keeper
    assert "keeper" in compare.table.horizontalHeaderItem(0).text()
    compare.show_group(model, 0, 0)  # the keeper is compared with the next image
    assert compare.shown_paths()[1] == photo_group.members[1].record.path
    # The half-size copy is laid out at the keeper's size: equal zoom shows equal detail.
    assert compare.panes[0].view.sceneRect() == compare.panes[1].view.sceneRect()
    qtbot.waitUntil(lambda: not compare.panes[0].view.scene().items()[0].pixmap().isNull(),
                    timeout=10000)
    compare.zoom_actual_size()
    assert compare.panes[0].view.scale_factor() == 1.0 == compare.panes[1].view.scale_factor()
    compare.panes[0].view.zoom_requested.emit(2.0)
    assert compare.panes[1].view.scale_factor() == 2.0
    thumbnails.shut_down()


@pytest.fixture
def window_with_group(qtbot, tmp_path, photo_group, monkeypatch):
    win = MainWindow(AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.group_model.set_groups([photo_group])
    win.group_view.set_current(0, 1)
    return win


def test_export_writes_the_groups_with_the_users_marks(qtbot, window_with_group, tmp_path,
                                                      monkeypatch, photo_group):
    window = window_with_group
    window.toggle_keep(0, 1)
    target = tmp_path / "out.csv"
    monkeypatch.setattr(dialogs, "choose_export_path", lambda parent: str(target))
    window.export_results()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=10000)
    assert "Exported 1 group to" in window.statusBar().currentMessage()
    with target.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["path"], row["keep"]) for row in rows] == [
        (m.record.path, "true" if i < 2 else "false") for i, m in enumerate(photo_group.members)
    ]


def test_open_file_and_show_in_folder_hand_the_right_paths_to_the_desktop(
    window_with_group, monkeypatch, photo_group
):
    opened = []
    monkeypatch.setattr(desktop.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    window_with_group.open_current_file()
    window_with_group.show_current_in_folder()
    current = photo_group.members[1].record.path
    assert opened == [current, str(Path(current).parent)]
    assert QUrl.fromLocalFile(opened[0]).isLocalFile()


def test_version_and_self_check_need_no_window(capsys, monkeypatch):
    assert main.main(["--version"]) == 0
    assert "0.1.0" in capsys.readouterr().out
    fake = types.ModuleType("dedup_gui.app.selfcheck")
    fake.run_self_check = lambda: 7
    monkeypatch.setitem(sys.modules, "dedup_gui.app.selfcheck", fake)
    assert main.main(["--self-check"]) == 7


def test_marked_totals_follow_every_toggle():
    model = GroupListModel()
    model.set_groups([
        group(record("/a/1.jpg", 100), record("/a/2.jpg", 40), record("/a/3.jpg", 5))
    ])
    assert model.marked_totals() == (2, 45)
    model.toggle_kept(0, 2)
    model.toggle_kept(0, 0)
    assert model.marked_totals() == (2, 140)
    selection = model.trash_selection()
    assert model.marked_totals() == (len(selection.members), selection.total_bytes)


def test_thumbnails_are_sharp_on_high_dpi_screens(qtbot):
    provider = ThumbnailProvider(
        max_side=64, pixel_ratio=2.0,
        loader=lambda path, side: QImage(side, side, QImage.Format.Format_RGB888),
    )
    any_photo = record("/any.jpg", 100)
    qtbot.waitUntil(lambda: provider.pixmap(any_photo) is not None, timeout=5000)
    pixmap = provider.pixmap(any_photo)
    assert pixmap.width() == 128 and pixmap.deviceIndependentSize().width() == 64
    provider.shut_down()


def test_thumbnail_memory_is_bounded_and_evicted_ones_reload(qtbot, monkeypatch):
    from dedup_gui.app import thumbnails

    loads = []

    def loader(path, side):
        loads.append(path)
        return QImage(side, side, QImage.Format.Format_RGB32)

    monkeypatch.setattr(thumbnails, "CACHE_BYTES", 2 * 64 * 64 * 4)
    provider = ThumbnailProvider(max_side=64, loader=loader)
    first, second, third = (record(name, 100) for name in ("/1.jpg", "/2.jpg", "/3.jpg"))
    for photo in (first, second, third):
        qtbot.waitUntil(lambda photo=photo: provider.pixmap(photo) is not None, timeout=5000)
    assert provider.pixmap(first) is None  # the oldest made room
    qtbot.waitUntil(lambda: provider.pixmap(first) is not None, timeout=5000)
    assert loads == ["/1.jpg", "/2.jpg", "/3.jpg", "/1.jpg"]
    provider.shut_down()


def test_main_opens_the_window_with_the_folders_given_and_scans_them(qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication

    from dedup_gui import APP_ID

    make_photo(5, 160, 120).save(tmp_path / "one.jpg")
    window = main.open_main_window([str(tmp_path)])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.scan_result is not None and not window.is_busy(),
                    timeout=30000)
    assert window.folder_panel.paths() == [str(tmp_path)]
    assert len(window.scan_result.records) == 1
    assert not QGuiApplication.windowIcon().isNull()
    assert QGuiApplication.desktopFileName() == APP_ID


def test_folders_the_system_opens_with_the_app_are_added_together_and_scanned(qtbot, tmp_path):
    """macOS: a drop on the Dock icon or Finder's "Open With" arrives as one
    QFileOpenEvent per item."""
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    first, second = tmp_path / "first", tmp_path / "second"
    for seed, folder in enumerate((first, second)):
        folder.mkdir()
        make_photo(seed, 160, 120).save(folder / "photo.jpg")
    window = main.open_main_window([])
    qtbot.addWidget(window)
    window.folder_panel.set_entries([])  # QSettings may remember another test's folders
    for folder in (first, second):
        QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(folder)))
    qtbot.waitUntil(lambda: window.scan_result is not None and not window.is_busy(),
                    timeout=30000)
    assert window.folder_panel.paths() == [str(first), str(second)]
    assert len(window.scan_result.records) == 2


def test_a_very_long_file_name_does_not_widen_the_compare_view(qtbot, tmp_path):
    long_name = "holiday_" * 40
    thumbnails = ThumbnailProvider(max_side=64, loader=lambda path, side: QImage())
    model = GroupListModel()
    model.set_groups([group(record(tmp_path / f"{long_name}.jpg", 2000),
                            record(tmp_path / "deep" / f"{long_name}_copy.jpg", 1000))])
    compare = CompareView(thumbnails)
    qtbot.addWidget(compare)
    compare.show()
    narrow = compare.minimumSizeHint().width()
    compare.show_group(model, 0, 1)
    qtbot.wait(10)
    assert compare.minimumSizeHint().width() <= max(narrow, 800)
    assert long_name in compare.panes[1].title.toolTip()


def test_export_follows_the_chosen_format_when_the_name_has_no_extension(monkeypatch, tmp_path):
    def save_dialog(parent, caption, name, filters):
        return str(tmp_path / "dupes"), "JSON (*.json)"

    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName", save_dialog)
    assert dialogs.choose_export_path(None) == str(tmp_path / "dupes.json")
    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName",
                        lambda *args: (str(tmp_path / "dupes.csv"), "JSON (*.json)"))
    assert dialogs.choose_export_path(None) == str(tmp_path / "dupes.csv")


def test_qt_calls_returning_nothing_keep_none_alive(qtbot):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every call of a Qt method
    that returns nothing; painting the group list makes thousands of them, and after about a
    minute of scrolling the app aborts with "deallocating None" (pyproject excludes it)."""
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
    assert sys.getrefcount(None) >= before - 10


def test_a_file_marked_trash_is_kept_once_its_folder_is_protected():
    keeper, copy = record("/archive/a.jpg", 10), record("/new/a.jpg", 9)
    model = GroupListModel()
    model.set_groups([group(keeper, copy)])
    assert model.toggle_kept(0, 0)  # the user sends the suggested keeper to the trash
    assert model.marked_totals() == (2, 19)
    model.set_groups([group(keeper, copy, reference=frozenset({keeper.path}))])
    assert model.keep_decisions() == {keeper.path: True, copy.path: False}
    assert model.marked_totals() == (1, 9)
    assert [m.record.path for m in model.trash_selection().members] == [copy.path]


def test_a_file_name_that_is_not_utf8_gets_its_thumbnail_and_blocks_no_others(qtbot, tmp_path):
    def loader(path, max_side):
        return QImage(max_side, max_side, QImage.Format.Format_RGB888)

    provider = ThumbnailProvider(max_side=32, loader=loader, threads=1)
    ready = []
    provider.ready.connect(ready.append)
    latin1_name = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jpg")  # 'caf\udce9.jpg'
    others = [str(tmp_path / f"photo{number}.jpg") for number in range(3)]
    records = [record(path, 100) for path in [latin1_name, *others]]
    for photo in records:
        provider.pixmap(photo)
        qtbot.waitUntil(lambda path=photo.path: path in ready, timeout=5000)
    assert all(provider.pixmap(photo) is not None for photo in records)
    provider.shut_down()


def test_open_file_finds_a_file_whose_name_is_not_utf8(monkeypatch, tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9 & co #1.jpg"
    opened = []
    monkeypatch.setattr(desktop.QDesktopServices, "openUrl",
                        lambda url: opened.append(url) or True)
    desktop.open_file(os.fsdecode(raw))
    assert opened[0].isLocalFile()
    assert urllib.parse.unquote_to_bytes(bytes(opened[0].toEncoded()).decode()) == b"file://" + raw
    desktop.open_file(str(tmp_path / "plain name.jpg"))
    assert opened[1].toLocalFile() == str(tmp_path / "plain name.jpg")


def test_a_file_edited_since_its_thumbnail_was_made_gets_a_new_one(qtbot):
    """The cache is keyed by the file's version: the scan after an edit reports a new size and
    mtime, and that version's pixels are loaded, even while the old one is still loading."""
    widths = iter([64, 40])
    provider = ThumbnailProvider(
        max_side=64, threads=1,
        loader=lambda path, side: QImage(next(widths), side, QImage.Format.Format_RGB888),
    )
    before = record("/album/photo.jpg", 5000)
    after = dataclasses.replace(before, size=5200, mtime_ns=before.mtime_ns + 1)
    provider.pixmap(before)
    provider.pixmap(after)
    qtbot.waitUntil(lambda: provider.pixmap(after) is not None, timeout=5000)
    assert provider.pixmap(after).width() == 40
    assert provider.pixmap(before).width() == 64
    provider.forget({"/album/photo.jpg"})
    assert provider.pixmap(after) is None
    provider.shut_down()
