"""Undo a Move to Trash, and Recently Trashed, from the window."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from test_app_decisions import make_pairs, scan, together, wait_idle

from dedup_gui.app import dialogs, trash_history
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.trash import system_trash

TIMEOUT_MS = 60_000


class Answers:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.undo = False
        self.offered: list[str] = []

    def install(self, monkeypatch) -> None:
        def message(_parent, title, text, details="", **_kwargs):
            self.shown.append(f"{title}: {text}\n{details}")

        def report(_parent, title, text, details="", *, warning=False, action_label=""):
            self.shown.append(f"{title}: {text}\n{details}")
            self.offered.append(action_label)
            return self.undo and bool(action_label)

        monkeypatch.setattr(dialogs, "confirm", lambda *_args, **_kwargs: True)
        monkeypatch.setattr(dialogs, "inform", message)
        monkeypatch.setattr(dialogs, "warn", message)
        monkeypatch.setattr(dialogs, "report", report)


@pytest.fixture
def answers(monkeypatch) -> Answers:
    chosen = Answers()
    chosen.install(monkeypatch)
    return chosen


@pytest.fixture
def window(qtbot, tmp_path, answers):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(AppSettings(settings))
    qtbot.addWidget(win)
    win.show()
    yield win
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=TIMEOUT_MS)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trash_marked(qtbot, window: MainWindow) -> None:
    window.move_to_trash()
    wait_idle(qtbot, window)


def test_undo_in_the_report_puts_the_files_back_byte_identical_and_grouped_again(
    qtbot, window, tmp_path, answers, temp_trash
):
    pairs = make_pairs(tmp_path / "photos")
    scan(qtbot, window, tmp_path / "photos")
    marked = [Path(m.record.path) for g in window.group_model.groups() for m in g.members
              if not m.keep]
    digests = {path: sha256(path) for path in marked}
    answers.undo = True

    trash_marked(qtbot, window)

    assert answers.offered == ["Undo"]
    qtbot.waitUntil(lambda: all(path.exists() for path in marked), timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)
    assert {path: sha256(path) for path in marked} == digests
    assert not list((temp_trash / "files").iterdir())
    assert not list((temp_trash / "info").iterdir())
    qtbot.waitUntil(
        lambda: together(window, *pairs[1]) and together(window, *pairs[2]), timeout=TIMEOUT_MS
    )
    assert any("Put back 2 files." in text for text in answers.shown)


def test_ctrl_z_undoes_the_last_trash_and_a_file_now_in_its_place_is_kept(
    qtbot, window, tmp_path, answers
):
    pairs = make_pairs(tmp_path / "photos", seeds=(1,))
    scan(qtbot, window, tmp_path / "photos")
    [trashed] = [Path(m.record.path) for g in window.group_model.groups() for m in g.members
                 if not m.keep]
    original = sha256(trashed)
    trash_marked(qtbot, window)
    assert not trashed.exists()
    trashed.write_bytes(b"a new file the user made meanwhile")

    assert window.decisions_ui.undo_action.shortcut().toString() == "Ctrl+Z"
    window.decisions_ui.undo_action.trigger()
    qtbot.waitUntil(lambda: any("Restore" in text for text in answers.shown),
                    timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)

    assert trashed.read_bytes() == b"a new file the user made meanwhile"
    beside = trashed.with_name(f"{trashed.stem} (restored){trashed.suffix}")
    assert sha256(beside) == original
    [report] = [text for text in answers.shown if text.startswith("Restore")]
    assert beside.name in report and "left alone" in report
    assert pairs[1][0].exists()


def test_recently_trashed_lists_the_batches_and_restores_an_older_one(
    qtbot, window, tmp_path, answers, temp_trash
):
    pairs = make_pairs(tmp_path / "photos")
    scan(qtbot, window, tmp_path / "photos")
    model = window.group_model
    first_row = model.row_of_path(str(pairs[1][0]))
    second_row = model.row_of_path(str(pairs[2][0]))
    first_copy = Path(next(m.record.path for m in model.group(first_row).members if not m.keep))
    second_copy = Path(next(m.record.path for m in model.group(second_row).members
                            if not m.keep))
    first_digest = sha256(first_copy)
    window.toggle_keep(second_row, 1)  # only photo1's copy goes first
    trash_marked(qtbot, window)
    assert not first_copy.exists() and second_copy.exists()
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=TIMEOUT_MS)
    window.toggle_keep(0, 1)
    trash_marked(qtbot, window)
    assert not second_copy.exists()

    dialog = window.decisions_ui.show_recently_trashed()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 2, timeout=TIMEOUT_MS)
    newest, older = (dialog.tree.topLevelItem(i) for i in range(2))
    assert "1 file, all in the trash" in newest.text(1)
    assert older.child(0).text(0) == first_copy.name
    assert older.child(0).text(1) == "in the trash"
    dialog.tree.setCurrentItem(older)
    assert dialog.restore_button.isEnabled()
    dialog.restore_button.click()

    qtbot.waitUntil(first_copy.exists, timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)
    assert sha256(first_copy) == first_digest
    assert not second_copy.exists()  # the newer batch stays in the trash
    qtbot.waitUntil(lambda: together(window, *pairs[1]), timeout=TIMEOUT_MS)

    again = window.decisions_ui.show_recently_trashed()
    qtbot.waitUntil(lambda: again.tree.topLevelItemCount() == 2, timeout=TIMEOUT_MS)
    assert again.tree.topLevelItem(1).child(0).text(1) == "restored"
    assert "none in the trash" in again.tree.topLevelItem(1).text(1)
    again.tree.setCurrentItem(again.tree.topLevelItem(1))
    assert not again.restore_button.isEnabled()


def test_where_the_trash_cannot_be_restored_from_the_dialog_lists_the_files_and_opens_it(
    qtbot, window, tmp_path, answers, monkeypatch
):
    make_pairs(tmp_path / "photos", seeds=(1,))
    scan(qtbot, window, tmp_path / "photos")
    [trashed] = [m.record.path for g in window.group_model.groups() for m in g.members
                 if not m.keep]
    trash_marked(qtbot, window)
    opened = []
    monkeypatch.setattr(system_trash, "SUPPORTED", False)
    monkeypatch.setattr(trash_history.QDesktopServices, "openUrl", opened.append)

    dialog = window.decisions_ui.show_recently_trashed()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 1, timeout=TIMEOUT_MS)
    assert dialog.restore_button.text() == "Put Back by Hand…"
    dialog.restore_button.click()

    assert Path(trashed).name in dialog.status.text()
    assert "by hand" in dialog.status.text()
    [url] = opened
    assert url.toLocalFile() == str(Path(trashed).parent)
    assert dialog.isVisible()
