"""The "Not scanned" tab also lists the files that were read with a note (a damaged part
Pillow warned about, the CLI's `note:` lines), counted in the tab's title, each one a
click from its viewer or its folder."""

from __future__ import annotations

import dataclasses

import pytest
from imagegen import make_photo
from PIL import Image
from PySide6.QtCore import QSettings

from dedup_gui.app import desktop, dialogs
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.images.decode import EXIF_DAMAGED_NOTE
from tests.engine_fixtures import write_photo

SCAN_TIMEOUT_MS = 60_000


def save_with_damaged_exif(path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker with a long name"
    exif[0x0110] = "Model name long enough"
    make_photo(3, 320, 240).save(path, exif=exif.tobytes()[:30])  # the IFD ends mid-entry


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(dialogs, kind, lambda *args, **kwargs: True)
    win = MainWindow(AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.cancel_job()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=SCAN_TIMEOUT_MS)


@pytest.fixture
def opened(monkeypatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(desktop, "open_file", lambda path: calls.append(("open", path)))
    monkeypatch.setattr(desktop, "show_in_folder", lambda path: calls.append(("folder", path)))
    return calls


def test_a_photo_read_with_a_note_is_listed_with_its_reason_and_counted(
    qtbot, window, tmp_path, opened
):
    library = tmp_path / "library"
    library.mkdir()
    damaged = library / "damaged_exif.jpg"
    save_with_damaged_exif(damaged)
    write_photo(library / "fine.jpg", seed=4)
    (library / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    window.add_paths([str(library)])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)

    view = window.errors_view
    assert window.tabs.tabText(1) == "Not scanned (1) · Notes (1)"
    assert [e.path for e in view.error_model.errors()] == [str(library / "broken.jpg")]
    notes = view.note_model
    row = [notes.data(notes.index(0, column)) for column in range(notes.columnCount())]
    assert row == [str(damaged), EXIF_DAMAGED_NOTE]
    assert not view.notes_page.isHidden()
    assert "1 file" in view.notes_label.text()

    assert not view.open_button.isEnabled()
    view.notes_table.selectRow(0)
    assert view.open_button.isEnabled()
    view.open_button.click()
    view.folder_button.click()
    view.errors_table.selectRow(0)  # the skipped file now: one selection across both lists
    assert not view.notes_table.selectionModel().hasSelection()
    view.open_button.click()
    assert opened == [("open", str(damaged)), ("folder", str(damaged)),
                      ("open", str(library / "broken.jpg"))]


def test_a_note_goes_with_its_file_and_a_clean_scan_shows_no_notes_section(
    qtbot, window, tmp_path
):
    library = tmp_path / "library"
    library.mkdir()
    save_with_damaged_exif(library / "damaged_exif.jpg")
    write_photo(library / "fine.jpg", seed=4)
    window.add_paths([str(library)])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    result = window.scan_result
    assert result is not None and len(result.file_warnings) == 1

    # The damaged file gone from the scan (trashed from the window, or its folder removed).
    fine_only = [r for r in result.records if r.path.endswith("fine.jpg")]
    window.errors_view.show_scan(dataclasses.replace(result, records=fine_only))
    assert window.errors_view.note_model.rowCount() == 0
    assert window.errors_view.notes_page.isHidden()
    assert window.errors_view.tab_title() == "Not scanned (0)"
    assert "Nothing was skipped" in window.errors_view.errors_label.text()
