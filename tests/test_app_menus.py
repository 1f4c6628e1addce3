"""The menu bar, the F1 shortcut sheet, and the window's habits: the keeper combo box gives
the arrow keys back, Open says when nothing can open a file, `dedup-gui FOLDER` scans
just FOLDER."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from imagegen import make_photo
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMenu

from dedup_gui.app import desktop, dialogs, main
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.remembered_folders import RememberedFoldersBar
from dedup_gui.app.settings import AppSettings, FolderEntry
from dedup_gui.app.shortcuts_dialog import ShortcutsDialog
from dedup_gui.core.files.folder_roles import FolderRole

TIMEOUT_MS = 60_000


@pytest.fixture
def messages(monkeypatch):
    shown: list[str] = []
    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(dialogs, kind,
                            lambda _parent, title, text, *a, **k: shown.append(title) or True)
    return shown


@pytest.fixture
def settings(tmp_path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot, settings, messages):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.cancel_job()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=TIMEOUT_MS)


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def photos_in_groups(folder: Path, groups: int) -> None:
    """`groups` photos, each saved twice (a copy re-encoded smaller): one group each."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(groups):
        photo = make_photo(seed, 240, 180)
        photo.save(folder / f"photo{seed}.jpg", quality=92)
        photo.resize((120, 90)).save(folder / f"photo{seed}_small.jpg", quality=85)


def test_the_menus_hold_the_toolbar_actions_and_can_be_found_by_name(window):
    menus = {name: window.findChild(QMenu, name)
             for name in ("file_menu", "edit_menu", "view_menu", "help_menu")}
    assert all(isinstance(found, QMenu) for found in menus.values())
    bar = [action.menu() for action in window.menuBar().actions()]
    assert [menu for menu in bar if menu.objectName() != "select_menu"] == list(menus.values())
    assert [menu.objectName() for menu in bar].index("select_menu") == 2  # after Edit
    file_actions = menus["file_menu"].actions()
    for action in (window.add_action, window.scan_action, window.export_action,
                   window.library_tools.find_action, window.library_tools.check_action):
        assert action in file_actions  # the very QAction of the toolbar
    assert window.trash_action in menus["edit_menu"].actions()
    assert window.add_action.shortcut().toString() == "Ctrl+O"


def test_f1_lists_every_shortcut_of_the_window(qtbot, window):
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.findChild(ShortcutsDialog) is not None)
    sheet = window.findChild(ShortcutsDialog)
    rows = dict(sheet.rows())
    assert rows["Ctrl+O"] == "Add Folder"
    assert rows["F5"] == "Scan"
    assert rows["Ctrl+Q"] == "Quit"
    assert rows["F1"] == "Keyboard Shortcuts"
    assert {"↑ / ↓", "← / →", "Space", "Esc"} <= set(rows)
    sheet.close()


def test_the_sheet_follows_a_changed_shortcut(window):
    window.scan_action.setShortcut("Ctrl+R")
    rows = dict(ShortcutsDialog(window).rows())
    assert rows["Ctrl+R"] == "Scan"
    assert "F5" not in rows


def test_ctrl_q_closes_the_window(qtbot, window):
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_after_choosing_a_keeper_rule_by_keyboard_the_arrow_keys_move_between_groups(
    qtbot, window, tmp_path
):
    photos_in_groups(tmp_path / "photos", 3)
    window.add_paths([str(tmp_path / "photos")])
    qtbot.waitUntil(lambda: window.scan_result is not None and not window.is_busy(),
                    timeout=TIMEOUT_MS)
    assert window.group_model.rowCount() == 3
    activate(qtbot, window)
    window.group_view.set_current(0)
    combo = window.keeper_choice.combo
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # a choice made with the keyboard
    chosen = combo.currentIndex()
    assert chosen == 1
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)  # regrouped
    qtbot.wait(20)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert window.group_view.current_row() == 1
    assert combo.currentIndex() == chosen


def test_open_with_no_program_for_the_type_says_so_in_the_window(
    window, tmp_path, monkeypatch
):
    photo = tmp_path / "beach.jpg"
    make_photo(1, 64, 48).save(photo)
    monkeypatch.setattr(desktop.QDesktopServices, "openUrl", lambda _url: False)
    assert not desktop.open_file(str(photo))
    assert window.statusBar().currentMessage() == "No program is set up to open JPEG files."


@pytest.mark.skipif(os.name != "posix", reason="xdg-mime is a freedesktop tool")
def test_open_says_so_when_xdg_open_would_fail_without_a_word(window, tmp_path, monkeypatch):
    """xdg-open starts (so Qt reports success) but has no program for the type."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    xdg_mime = bin_dir / "xdg-mime"
    xdg_mime.write_text("#!/bin/sh\nexit 0\n")  # no default program for any type
    xdg_mime.chmod(xdg_mime.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    opened = []
    monkeypatch.setattr(desktop.QDesktopServices, "openUrl",
                        lambda url: opened.append(url) or True)
    photo = tmp_path / "scan.png"
    make_photo(1, 64, 48).save(photo)
    assert not desktop.open_file(str(photo))
    assert window.statusBar().currentMessage() == "No program is set up to open PNG files."


def test_dedup_gui_folder_scans_only_that_folder_and_offers_the_remembered_ones(
    qtbot, tmp_path, settings
):
    remembered, named = tmp_path / "library", tmp_path / "card"
    photos_in_groups(remembered, 2)
    photos_in_groups(named, 1)
    settings.set_folders([FolderEntry(str(remembered), FolderRole.PROTECTED)])

    window = main.open_main_window([str(named)], settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.scan_result is not None and not window.is_busy(),
                    timeout=TIMEOUT_MS)
    assert window.folder_panel.paths() == [str(named)]
    assert {Path(r.path).parent for r in window.scan_result.records} == {named}
    bar = window.findChild(RememberedFoldersBar)
    assert bar is not None and bar.isVisible()
    assert "Also scan your 1 remembered folder?" in bar.label.text()
    # Still remembered, with its role, though not listed now.
    saved = AppSettings(settings.store).folders()
    assert FolderEntry(str(remembered), FolderRole.PROTECTED) in saved

    bar.accept_button.click()
    qtbot.waitUntil(lambda: not window.is_busy() and len(window.scan_result.records) == 6,
                    timeout=TIMEOUT_MS)
    assert window.folder_panel.role_of(str(remembered)) is FolderRole.PROTECTED
    qtbot.waitUntil(lambda: window.findChild(RememberedFoldersBar) is None)
    window.close()


def test_no_two_actions_of_the_window_share_a_shortcut(window):
    """An ambiguous shortcut fires neither action (Qt only reports it), so each key
    combination the menus show must belong to one action."""
    from PySide6.QtGui import QAction

    owners: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            if not sequence.isEmpty():
                owners.setdefault(sequence.toString(), []).append(action.text())
    shared = {key: names for key, names in owners.items() if len(set(names)) > 1}
    assert shared == {}
    assert "Ctrl+Shift+2" in owners  # the table view is still reachable from the keyboard
