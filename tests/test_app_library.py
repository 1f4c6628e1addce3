"""The library questions in the app: a photo dropped on the Find target, and the folders
check, against generated photo libraries."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from imagegen import make_photo
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from dedup_gui.app import dialogs
from dedup_gui.app.library_check import NO_LIBRARY_TEXT
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings, FolderEntry
from dedup_gui.core.files.folder_roles import FolderRole

TIMEOUT_MS = 60_000
SIDE = (192, 144)


@pytest.fixture
def messages(monkeypatch):
    shown: list[tuple[str, str]] = []

    def record(kind):
        def show(_parent, title, text, *args, **kwargs):
            shown.append((kind, f"{title}: {text}"))
            return True
        return show

    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(dialogs, kind, record(kind))
    return shown


@pytest.fixture
def window(qtbot, tmp_path, messages):
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win = MainWindow(settings)
    win.scan_on_add = False
    qtbot.addWidget(win)
    win.show()
    yield win
    win.library_tools.shut_down()
    win.cancel_job()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=TIMEOUT_MS)


def save(seed: int, path: Path, *, size: tuple[int, int] = SIDE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = make_photo(seed, *SIDE)
    if size != SIDE:
        image = image.resize(size)
    image.save(path, quality=90)
    return path


def drop_on(widget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    centre = widget.rect().center()
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


def finished_find_window(qtbot, window):
    qtbot.waitUntil(lambda: window.library_tools.find_window is not None)
    found = window.library_tools.find_window
    qtbot.waitUntil(lambda: not found.is_busy(), timeout=TIMEOUT_MS)
    return found


def test_a_photo_dropped_on_the_find_target_shows_its_library_copy_in_the_compare_view(
    qtbot, window, tmp_path
):
    library = tmp_path / "library"
    in_library = save(1, library / "2020" / "beach.jpg")
    save(2, library / "2020" / "forest.jpg")
    asked = save(1, tmp_path / "downloads" / "beach_small.jpg", size=(96, 72))
    window.folder_panel.add_folders([str(library)], role=FolderRole.PROTECTED)
    assert "Protected" in window.library_tools.find_target.scope_label.text()

    drop_on(window.library_tools.find_target, [asked])
    found = finished_find_window(qtbot, window)

    assert found.isVisible()
    assert found.model.rowCount() == 1
    group = found.model.group(0)
    assert [m.record.path for m in group.members] == [str(asked), str(in_library)]
    assert found.results.isVisible()
    assert found.compare_view.shown_paths() == (str(asked), str(in_library))
    assert "your photo" in found.compare_view.panes[0].title.text()
    assert "library copy" in found.compare_view.panes[1].title.text()
    assert "1 photo already in your library" in found.summary.text()
    # Nothing is offered for the trash: Space on the photo leaves every copy kept.
    found.group_view.setFocus()
    qtbot.keyClick(found.group_view, Qt.Key.Key_Space)
    assert all(found.model.is_kept(member) for member in group.members)
    assert found.model.trash_selection().members == ()
    assert not found.trash_button.isVisible()
    assert not any(pane.mark_button.isVisible() for pane in found.compare_view.panes)


def test_a_photo_inside_the_scanned_folders_may_be_trashed_but_never_its_library_copy(
    qtbot, window, tmp_path, messages, temp_trash
):
    library, imports = tmp_path / "library", tmp_path / "imports"
    in_library = save(3, library / "lake.jpg")
    asked = save(3, imports / "lake_copy.jpg", size=(160, 120))
    window.folder_panel.add_folders([str(library)], role=FolderRole.PROTECTED)
    window.folder_panel.add_folders([str(imports)])
    window.start_scan()
    qtbot.waitUntil(lambda: window.scan_result is not None and not window.is_busy(),
                    timeout=TIMEOUT_MS)
    assert window.group_model.rowCount() == 1  # the main window has the pair too
    window.library_tools.find_photos([str(asked)])
    found = finished_find_window(qtbot, window)
    assert [m.record.path for m in found.model.group(0).members] == [str(asked), str(in_library)]
    assert found.trash_button.isVisible() and not found.trash_button.isEnabled()
    assert [pane.mark_button.isVisible() for pane in found.compare_view.panes] == [True, False]

    found.toggle_mark(0, 1)  # the library's copy: refused
    assert "library's copy" in found.summary.text()
    found.group_view.setFocus()
    qtbot.keyClick(found.group_view, Qt.Key.Key_Space)  # your photo: marked
    assert not found.model.is_kept(found.model.group(0).keeper)
    assert found.model.is_kept(found.model.group(0).members[1])
    assert found.trash_button.isEnabled()

    found.trash_button.click()
    qtbot.waitUntil(lambda: not found.is_busy(), timeout=TIMEOUT_MS)
    assert not asked.exists()
    assert in_library.exists()
    assert [p.name for p in (temp_trash / "files").iterdir()] == ["lake_copy.jpg"]
    assert found.model.rowCount() == 0
    assert "Moved 1 file" in found.summary.text()
    # The main window lets go of it too.
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)
    assert window.group_model.rowCount() == 0
    assert str(asked) not in {record.path for record in window.scan_result.records}


def test_a_photo_without_a_copy_says_so_and_several_photos_get_a_group_each(
    qtbot, window, tmp_path
):
    library = tmp_path / "library"
    first = save(1, library / "one.jpg")
    second = save(2, library / "two.jpg")
    window.folder_panel.add_folders([str(library)])  # no Protected folder: all listed ones
    assert "all" in window.library_tools.find_target.scope_label.text() or \
        "the listed folder" in window.library_tools.find_target.scope_label.text()
    outside = tmp_path / "card"
    copy_of_first = shutil.copyfile(first, outside.mkdir() or outside / "IMG_1.jpg")
    copy_of_second = save(2, outside / "IMG_2.jpg", size=(160, 120))
    stranger = save(9, outside / "IMG_9.jpg")

    window.library_tools.find_photos([str(copy_of_first), str(stranger), str(copy_of_second)])
    found = finished_find_window(qtbot, window)

    assert [
        [m.record.path for m in found.model.group(row).members]
        for row in range(found.model.rowCount())
    ] == [[str(copy_of_first), str(first)], [str(copy_of_second), str(second)]]
    assert "No copy of <b>IMG_9.jpg</b> in your library" in found.summary.text()


def test_only_a_photo_with_no_copy_shows_no_group(qtbot, window, tmp_path):
    library = tmp_path / "library"
    save(1, library / "one.jpg")
    window.folder_panel.add_folders([str(library)], role=FolderRole.PROTECTED)
    stranger = save(7, tmp_path / "elsewhere" / "new.jpg")
    drop_on(window.library_tools.find_target, [stranger])
    found = finished_find_window(qtbot, window)
    assert found.model.rowCount() == 0
    assert not found.results.isVisible()
    assert "No copy of <b>new.jpg</b> in your library" in found.summary.text()
    assert "the Protected folders" in found.summary.text()


def test_a_drop_without_images_on_the_find_target_searches_nothing(
    qtbot, window, tmp_path, messages
):
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    drop_on(window.library_tools.find_target, [text])  # passed on to the window
    qtbot.waitUntil(lambda: bool(messages))
    assert window.library_tools.find_window is None
    assert messages[0][1].startswith("Not added")


def import_folders(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """library/ with photos 0-5; card/all: copies of 0-3 (re-encoded); card/half: copies of
    4 and 5 and the new photos 10 and 11; card/new: the new photos 20-22."""
    library = tmp_path / "library"
    for seed in range(6):
        save(seed, library / f"lib{seed}.jpg")
    card = tmp_path / "card"
    for seed in range(4):
        save(seed, card / "all" / f"IMG_{seed}.jpg", size=(160, 120))
    for seed in (4, 5, 10, 11):
        save(seed, card / "half" / f"IMG_{seed}.jpg", size=(160, 120))
    for seed in (20, 21, 22):
        save(seed, card / "new" / f"IMG_{seed}.jpg")
    return library, card / "all", card / "half", card / "new"


def test_the_folders_check_counts_per_folder_what_is_already_in_the_library(
    qtbot, window, tmp_path
):
    library, full, half, new = import_folders(tmp_path)
    window.folder_panel.add_folders([str(library)], role=FolderRole.PROTECTED)
    window.library_tools.open_check_dialog()
    check = window.library_tools.check_dialog
    assert check.isVisible()
    check.add_folders([str(full.parent)])
    assert check.check_button.isEnabled()
    check.start_check()
    qtbot.waitUntil(lambda: not check.is_busy(), timeout=TIMEOUT_MS)

    assert sorted(check.rows()) == [
        (str(full), 4, 4, 0), (str(half), 4, 2, 2), (str(new), 3, 0, 3)
    ]
    assert "11 images" in check.summary.text()
    assert "6 already in your library" in check.summary.text()
    # Sorting by "New", most first: the new folder leads.
    check.table.sortItems(3, Qt.SortOrder.DescendingOrder)
    assert check.rows()[0][0] == str(new)

    check.select_folder(str(half))
    assert sorted(Path(p).name for p in check.new_photo_paths()) == ["IMG_10.jpg", "IMG_11.jpg"]
    assert check.open_button.isEnabled()
    check.select_folder(str(full))
    assert check.new_photo_paths() == []
    assert "already in your library" in check.new_title.text()

    check.scan_button.click()
    assert str(full.parent) in window.folder_panel.paths()


def test_the_folders_check_asks_for_a_protected_library_first(qtbot, window, tmp_path):
    library, full, _half, _new = import_folders(tmp_path)
    window.folder_panel.add_folders([str(library)])  # listed, but not Protected
    window.library_tools.open_check_dialog()
    check = window.library_tools.check_dialog
    check.add_folders([str(full)])
    assert check.scope_label.text() == NO_LIBRARY_TEXT
    assert not check.check_button.isEnabled()
    window.folder_panel.set_role(str(library), FolderRole.PROTECTED)
    assert "Protected" in check.scope_label.text()
    assert check.check_button.isEnabled()


def slow_library(tmp_path: Path, monkeypatch) -> Path:
    """A Protected library of 12 photos, each taking 0.3 s longer to hash."""
    from dedup_gui.core.scanning import scanner

    library = tmp_path / "library"
    for seed in range(12):
        save(seed, library / f"p{seed}.jpg")
    real = scanner._hash_task

    def slow(task):
        time.sleep(0.3)
        return real(task)

    monkeypatch.setattr(scanner, "_hash_task", slow)
    return library


def test_cancelling_a_search_says_what_was_not_looked_for(qtbot, window, tmp_path, monkeypatch):
    library = slow_library(tmp_path, monkeypatch)
    window.folder_panel.set_entries([FolderEntry(str(library), FolderRole.PROTECTED)])
    window.library_tools.find_photos([str(save(1, tmp_path / "x" / "asked.jpg"))])
    found = window.library_tools.find_window
    assert found.is_busy() and found.progress_panel.isVisible()
    started = time.monotonic()
    found.progress_panel.cancel_button.click()
    qtbot.waitUntil(lambda: not found.is_busy(), timeout=TIMEOUT_MS)
    assert time.monotonic() - started < 3
    assert "Search cancelled: 1 photo not looked for." in found.summary.text()
    assert not found.progress_panel.isVisible()


def test_closing_the_window_stops_a_running_search(qtbot, window, tmp_path, monkeypatch):
    library = slow_library(tmp_path, monkeypatch)
    window.folder_panel.set_entries([FolderEntry(str(library), FolderRole.PROTECTED)])
    window.library_tools.find_photos([str(save(1, tmp_path / "x" / "asked.jpg"))])
    found = window.library_tools.find_window
    assert found.is_busy()
    window.close()
    assert not found.is_busy()
    assert not found.isVisible()
