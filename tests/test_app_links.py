"""The window's "Follow links that lead outside the chosen folders" setting: off by default,
remembered, and what the scan does."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QSettings

from dedup_gui.app import dialogs
from dedup_gui.app.errors_view import COLUMNS
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.models import ErrorKind
from tests.engine_fixtures import write_photo

SCAN_TIMEOUT_MS = 60_000
needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


@pytest.fixture
def open_window(qtbot, tmp_path, monkeypatch):
    """Opens a window on one settings file (a second call: the app started again)."""
    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(dialogs, kind, lambda *args, **kwargs: True)
    settings_file = str(tmp_path / "settings.ini")

    def open_() -> MainWindow:
        window = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
        window.scan_on_add = False
        qtbot.addWidget(window)
        window.show()
        return window

    return open_


def scan_and_wait(qtbot, window: MainWindow) -> None:
    window.start_scan()
    qtbot.waitUntil(
        lambda: window.scan_result is not None and not window.is_busy(), timeout=SCAN_TIMEOUT_MS
    )


@pytest.fixture
def folder_with_a_link_out(tmp_path):
    """A chosen folder with one photo and a `parent -> ..` link; a photo next to it."""
    chosen = tmp_path / "chosen"
    mine = write_photo(chosen / "mine.jpg")
    theirs = write_photo(tmp_path / "sibling" / "theirs.jpg", seed=5)
    (chosen / "parent").symlink_to("..", target_is_directory=True)
    return chosen, mine, theirs


def test_the_setting_is_off_by_default_and_remembered(open_window):
    first = open_window()
    assert not first.follow_links_box.isChecked()
    first.follow_links_box.setChecked(True)
    first.close()

    assert open_window().follow_links_box.isChecked()


@needs_symlinks
def test_by_default_a_link_out_is_listed_on_the_not_scanned_tab(
    qtbot, open_window, folder_with_a_link_out
):
    chosen, mine, _theirs = folder_with_a_link_out
    window = open_window()
    window.folder_panel.add_folder(str(chosen))
    scan_and_wait(qtbot, window)

    assert window.scan_result is not None
    assert [record.path for record in window.scan_result.records] == [str(mine)]
    model = window.errors_view.error_model
    assert model.rowCount() == 1
    row = [model.data(model.index(0, column)) for column in range(len(COLUMNS))]
    assert row[0] == str(chosen / "parent")
    assert row[1] == "link not followed"
    assert row[2].startswith("Not followed: the link leads outside the chosen folders")
    assert window.tabs.tabText(1) == "Not scanned (1)"


@needs_symlinks
def test_with_the_setting_on_the_scan_follows_the_link(qtbot, open_window, folder_with_a_link_out):
    chosen, mine, theirs = folder_with_a_link_out
    window = open_window()
    window.follow_links_box.setChecked(True)
    window.close()
    window = open_window()  # the remembered setting, not only the checkbox, reaches the scan
    window.folder_panel.add_folder(str(chosen))
    scan_and_wait(qtbot, window)

    assert window.scan_result is not None
    paths = {record.path for record in window.scan_result.records}
    assert str(mine) in paths
    assert str(chosen / "parent" / "sibling" / theirs.name) in paths
    assert all(e.kind is not ErrorKind.LINK_NOT_FOLLOWED for e in window.scan_result.errors)
    assert window.tabs.tabText(1) == f"Not scanned ({len(window.scan_result.errors)})"
