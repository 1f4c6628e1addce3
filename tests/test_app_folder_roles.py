"""Folder roles in the window, as a user meets them: a subfolder given its own role in the
folder list changes what is scanned and what is kept, and the roles are remembered."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import make_photo
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTreeWidget

from dedup_gui.app import dialogs
from dedup_gui.app.folders import RoleBox
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings, FolderEntry
from dedup_gui.core.files.folder_roles import FolderRole
from dedup_gui.core.trash.actions import removal_problems

SCAN_TIMEOUT_MS = 60_000


@pytest.fixture
def settings_file(tmp_path) -> str:
    return str(tmp_path / "settings.ini")


@pytest.fixture
def dialogs_shown(monkeypatch) -> list[str]:
    shown: list[str] = []
    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(
            dialogs, kind, lambda _parent, title, text, *a, **k: shown.append(text) or True
        )
    return shown


def open_window(qtbot, settings_file: str) -> MainWindow:
    window = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(qtbot, settings_file, dialogs_shown):
    win = open_window(qtbot, settings_file)
    yield win
    win.cancel_job()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=SCAN_TIMEOUT_MS)


def save_pair(seed: int, big: Path, small: Path) -> None:
    """One photo twice: a large PNG (the keeper by resolution) and a small JPEG copy."""
    for path in (big, small):
        path.parent.mkdir(parents=True, exist_ok=True)
    photo = make_photo(seed, 320, 240)
    photo.save(big)
    photo.resize((160, 120)).save(small, quality=85)


def wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)


def scanned_paths(window: MainWindow) -> set[str]:
    assert window.scan_result is not None
    return {record.path for record in window.scan_result.records}


def tree(window: MainWindow) -> QTreeWidget:
    return window.folder_panel.findChild(QTreeWidget)


def role_box(window: MainWindow, path: Path) -> RoleBox:
    folders = tree(window)
    for item in folders.findItems("", Qt.MatchFlag.MatchContains | Qt.MatchFlag.MatchRecursive):
        if item.toolTip(0).startswith(str(path) + "\n"):
            box = folders.itemWidget(item, 1)
            assert isinstance(box, RoleBox)
            return box
    raise AssertionError(f"{path} is not listed")


def add_subfolder_from_the_menu(window: MainWindow, folder: Path, subfolder: Path,
                                monkeypatch) -> list[str]:
    """Right-click on `folder` → "Add a subfolder with its own role…", pick `subfolder`.
    Returns the folders the dialog opened in."""
    opened_in: list[str] = []

    def choose(_parent, _title="", start=""):
        opened_in.append(start)
        return str(subfolder)

    monkeypatch.setattr(dialogs, "choose_folder", choose)
    window.folder_panel.add_subfolder_requested.emit(str(folder))
    return opened_in


def choose_role(box: RoleBox, role: FolderRole) -> None:
    box.setCurrentIndex(box.findData(role.value))  # as a pick in its list does


def test_an_excluded_subfolder_is_not_scanned(qtbot, window, tmp_path, monkeypatch):
    library = tmp_path / "library"
    save_pair(1, library / "trip" / "a.png", library / "trip" / "a_small.jpg")
    save_pair(2, library / "junk" / "b.png", library / "junk" / "b_small.jpg")
    window.add_paths([str(library)])
    wait_idle(qtbot, window)
    assert len(window.group_model.groups()) == 2

    opened_in = add_subfolder_from_the_menu(window, library, library / "junk", monkeypatch)
    assert opened_in == [str(library)]
    box = role_box(window, library / "junk")
    assert window.focusWidget() is box  # the keyboard is on its role
    assert box.role() is FolderRole.NORMAL  # as inside its parent, until the user picks
    choose_role(box, FolderRole.EXCLUDED)
    wait_idle(qtbot, window)

    assert [{Path(m.record.path).name for m in g.members} for g in window.group_model.groups()
            ] == [{"a.png", "a_small.jpg"}]
    window.start_scan()
    wait_idle(qtbot, window)
    assert scanned_paths(window) == {str(library / "trip" / "a.png"),
                                     str(library / "trip" / "a_small.jpg")}

    choose_role(role_box(window, library / "junk"), FolderRole.NORMAL)  # scanned again
    wait_idle(qtbot, window)
    assert str(library / "junk" / "b.png") in scanned_paths(window)
    assert len(window.group_model.groups()) == 2


def test_a_protected_subfolder_of_a_normal_folder_keeps_its_copy(qtbot, window, tmp_path):
    library = tmp_path / "library"
    big, small = library / "inbox" / "big.png", library / "best" / "small.jpg"
    save_pair(3, big, small)
    window.add_paths([str(library)])
    wait_idle(qtbot, window)
    assert window.group_model.group(0).keeper.record.path == str(big)

    window.add_paths([str(library / "best")])  # dropped too: listed under its folder
    assert "listed under it" in window.statusBar().currentMessage()
    window.folder_panel.focus_role(str(library / "best"))
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Down)  # Normal -> Protected
    assert role_box(window, library / "best").currentText() == "Protected"
    qtbot.waitUntil(lambda: window.group_model.group(0).keeper.record.path == str(small),
                    timeout=SCAN_TIMEOUT_MS)
    wait_idle(qtbot, window)

    group = window.group_model.group(0)
    by_path = {member.record.path: member for member in group.members}
    assert window.group_model.is_kept(by_path[str(small)])
    assert by_path[str(small)].is_reference
    assert not window.group_model.is_kept(by_path[str(big)])  # marked for the trash


def test_a_normal_subfolder_of_a_protected_folder_is_not_protected(qtbot, window, tmp_path):
    archive = tmp_path / "archive"
    original, edit = archive / "a.png", archive / "edits" / "a_small.jpg"
    save_pair(4, original, edit)
    window.folder_panel.add_folder(str(archive), role=FolderRole.PROTECTED)
    window.add_paths([str(archive / "edits")])
    assert window.folder_panel.role_of(str(archive / "edits")) is FolderRole.PROTECTED
    window.start_scan()
    wait_idle(qtbot, window)
    assert all(m.is_reference for m in window.group_model.group(0).members)

    choose_role(role_box(window, archive / "edits"), FolderRole.NORMAL)
    qtbot.waitUntil(lambda: not window.group_model.group(0).members[1].is_reference,
                    timeout=SCAN_TIMEOUT_MS)
    wait_idle(qtbot, window)

    group = window.group_model.group(0)
    [copy] = [m for m in group.members if m.record.path == str(edit)]
    assert not window.group_model.is_kept(copy)
    # The trash planner agrees: the copy may go, the original in the archive may not.
    roots = window.scan_result.roots
    assert removal_problems(window.groups_with_marks(), [str(edit)], roots=roots) == []
    assert removal_problems(window.groups_with_marks(), [str(original)], roots=roots) != []


def test_the_roles_are_back_after_a_restart(qtbot, settings_file, dialogs_shown, tmp_path):
    library = tmp_path / "library"
    for folder in ("best", "junk", "best/deeper"):
        (library / folder).mkdir(parents=True)
    first = open_window(qtbot, settings_file)
    first.scan_on_add = False
    first.add_paths([str(library)])
    first.add_paths([str(library / "best"), str(library / "junk")])
    first.folder_panel.set_role(str(library / "best"), FolderRole.PROTECTED)
    first.folder_panel.set_role(str(library / "junk"), FolderRole.EXCLUDED)
    first.add_paths([str(library / "best" / "deeper")])
    first.folder_panel.set_role(str(library / "best" / "deeper"), FolderRole.NORMAL)
    first.close()

    second = open_window(qtbot, settings_file)
    assert second.folder_panel.entries() == [
        FolderEntry(str(library), FolderRole.NORMAL),
        FolderEntry(str(library / "best"), FolderRole.PROTECTED),
        FolderEntry(str(library / "best" / "deeper"), FolderRole.NORMAL),
        FolderEntry(str(library / "junk"), FolderRole.EXCLUDED),
    ]
    top = tree(second).topLevelItem(0)
    assert tree(second).topLevelItemCount() == 1
    assert [top.child(i).text(0) for i in range(top.childCount())] == ["best", "junk"]
    assert top.child(0).child(0).text(0) == "deeper"
    assert role_box(second, library / "junk").currentText() == "Excluded"


def test_removing_a_folder_removes_its_nested_entries(qtbot, window, tmp_path):
    library = tmp_path / "library"
    (library / "junk").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    window.scan_on_add = False
    window.add_paths([str(library), str(library / "junk"), str(tmp_path / "other")])
    window.folder_panel.set_role(str(library / "junk"), FolderRole.EXCLUDED)
    folders = tree(window)
    folders.setFocus()
    folders.setCurrentItem(folders.topLevelItem(0))
    qtbot.keyClick(folders, Qt.Key.Key_Delete)
    assert window.folder_panel.paths() == [str(tmp_path / "other")]


def test_a_folder_added_around_listed_ones_takes_them_under_it(qtbot, window, tmp_path):
    library = tmp_path / "library"
    (library / "best").mkdir(parents=True)
    window.scan_on_add = False
    window.folder_panel.add_folder(str(library / "best"), role=FolderRole.PROTECTED)
    window.folder_panel.add_folder(str(library))
    top = tree(window).topLevelItem(0)
    assert tree(window).topLevelItemCount() == 1
    assert top.child(0).text(0) == "best"
    assert role_box(window, library / "best").role() is FolderRole.PROTECTED


def test_reference_marks_stored_before_roles_become_protected(settings_file, tmp_path):
    store = QSettings(settings_file, QSettings.Format.IniFormat)
    store.beginWriteArray("folders", 2)
    for i, (name, reference) in enumerate((("photos", False), ("archive", True))):
        store.setArrayIndex(i)
        store.setValue("path", str(tmp_path / name))
        store.setValue("reference", reference)
    store.endArray()
    store.sync()

    assert AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)).folders() == [
        FolderEntry(str(tmp_path / "photos"), FolderRole.NORMAL),
        FolderEntry(str(tmp_path / "archive"), FolderRole.PROTECTED),
    ]
