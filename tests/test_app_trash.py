"""Move to Trash from the window: confirmations, re-checks, per-file failures, refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import make_photo
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTreeWidget

from dedup_gui.app import dialogs, scan_jobs
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.trash.actions import KEPT_COPY_GONE

TIMEOUT_MS = 60_000


class Dialogs:
    """Answers every dialog without blocking and remembers what was asked."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answers: list[bool] = []

    def install(self, monkeypatch) -> None:
        def confirm(_parent, title, text, **_kwargs):
            self.shown.append(("confirm", title, text))
            return self.answers.pop(0) if self.answers else True

        def message(kind):
            def show(_parent, title, text, details=""):
                self.shown.append((kind, title, f"{text}\n{details}"))
            return show

        def report(parent, title, text, details="", *, warning=False, action_label=""):
            # The report with Undo: shown as inform/warn, Undo not chosen.
            (dialogs.warn if warning else dialogs.inform)(parent, title, text, details)
            return False

        monkeypatch.setattr(dialogs, "confirm", confirm)
        monkeypatch.setattr(dialogs, "inform", message("inform"))
        monkeypatch.setattr(dialogs, "warn", message("warn"))
        monkeypatch.setattr(dialogs, "report", report)

    def texts(self, kind: str) -> list[str]:
        return [text for shown_kind, _title, text in self.shown if shown_kind == kind]


@pytest.fixture
def asked(monkeypatch):
    answers = Dialogs()
    answers.install(monkeypatch)
    return answers


@pytest.fixture
def window(qtbot, tmp_path, asked):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(AppSettings(settings))
    qtbot.addWidget(win)
    win.show()
    yield win
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=TIMEOUT_MS)


@pytest.fixture
def trash_dir(temp_trash) -> Path:
    """Where send2trash puts trashed files (conftest's temp_trash points it at a temp dir)."""
    return temp_trash / "files"


def make_library(root: Path, seeds=(1, 2)) -> dict[int, list[Path]]:
    copies = {}
    for seed in seeds:
        photo = make_photo(seed, 320, 240)
        original = root / "photos" / f"photo{seed}.png"
        resized = root / "photos" / f"photo{seed}_small.jpg"
        original.parent.mkdir(parents=True, exist_ok=True)
        photo.save(original)
        photo.resize((160, 120), Image.Resampling.LANCZOS).save(resized, quality=85)
        copies[seed] = [original, resized]
    return copies


def scan(qtbot, window: MainWindow, *folders: Path) -> None:
    for folder in folders:
        window.folder_panel.add_folder(str(folder))
    window.start_scan()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)
    assert window.group_model.rowCount() > 0


def trash_and_wait(qtbot, window: MainWindow) -> None:
    """Press Delete in the group list, as a user reviewing with the keyboard does."""
    window.group_view.setFocus()
    qtbot.keyClick(window.group_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)


def test_trashing_moves_the_marked_copies_and_leaves_the_keepers(
    qtbot, window, tmp_path, asked, trash_dir
):
    make_library(tmp_path)
    scan(qtbot, window, tmp_path / "photos")
    groups = window.group_model.groups()
    keepers = [Path(g.keeper.record.path) for g in groups]
    marked = [Path(m.record.path) for g in groups for m in g.members if not m.keep]
    keeper_bytes = [p.read_bytes() for p in keepers]

    trash_and_wait(qtbot, window)

    [question] = asked.texts("confirm")
    assert f"Move {len(marked)} files" in question
    assert [p.read_bytes() for p in keepers] == keeper_bytes
    assert not any(p.exists() for p in marked)
    assert sorted(p.name for p in trash_dir.iterdir()) == sorted(p.name for p in marked)
    assert any("Moved 2 files" in text for text in asked.texts("inform"))
    qtbot.waitUntil(lambda: window.group_model.rowCount() == 0, timeout=TIMEOUT_MS)


def test_the_report_shows_over_a_list_that_no_longer_has_the_trashed_files(
    qtbot, window, tmp_path, monkeypatch, trash_dir
):
    copies = make_library(tmp_path, seeds=(1, 2))
    (tmp_path / "photos" / "photo1_copy.png").write_bytes(copies[1][0].read_bytes())
    scan(qtbot, window, tmp_path / "photos")
    listed_at_report: list[set[str]] = []

    def inform(_parent, _title, _text, details=""):
        listed_at_report.extend(
            {m.record.path for m in g.members} for g in window.group_model.groups()
        )

    monkeypatch.setattr(dialogs, "inform", inform)
    photo1_group = window.group_model.row_of_path(str(copies[1][0]))
    window.group_view.set_current(photo1_group)
    small = next(i for i, m in enumerate(window.group_model.group(photo1_group).members)
                 if m.record.path == str(copies[1][1]))
    window.toggle_keep(photo1_group, small)  # keep the small copy too: only one goes
    trash_and_wait(qtbot, window)

    trashed = {p.name for p in trash_dir.iterdir()}
    assert len(trashed) == 2  # one of photo1's PNGs and photo2's small copy
    # photo1 keeps two images; photo2 has one left, so it is no longer a group.
    assert [len(group) for group in listed_at_report] == [2]
    assert not {Path(path).name for path in listed_at_report[0]} & trashed


def test_after_a_trash_the_groups_update_without_comparing_the_library_again(
    qtbot, window, tmp_path, monkeypatch, trash_dir
):
    copies = make_library(tmp_path, seeds=(1, 2, 3))
    (tmp_path / "photos" / "photo1_copy.png").write_bytes(copies[1][0].read_bytes())
    scan(qtbot, window, tmp_path / "photos")
    builds: list[int] = []
    real_build = scan_jobs.SimilarityIndex.build

    def counting_build(records, **kwargs):
        builds.append(len(records))
        return real_build(records, **kwargs)

    monkeypatch.setattr(scan_jobs.SimilarityIndex, "build", counting_build)
    trash_and_wait(qtbot, window)

    assert builds == []
    assert window.group_model.rowCount() == 0  # every marked copy went, in every group
    assert len(list(trash_dir.iterdir())) == 4
    survivors = {r.path for r in window.scan_result.records}
    assert survivors == {str(copies[seed][0]) for seed in (1, 2, 3)}


def test_a_file_changed_after_the_scan_is_not_trashed(qtbot, window, tmp_path, asked, trash_dir):
    make_library(tmp_path)
    scan(qtbot, window, tmp_path / "photos")
    marked = [Path(m.record.path) for g in window.group_model.groups()
              for m in g.members if not m.keep]
    changed = marked[0]
    make_photo(50, 160, 120).save(changed, quality=85)  # edited in another program meanwhile
    changed_bytes = changed.read_bytes()

    trash_and_wait(qtbot, window)

    assert changed.read_bytes() == changed_bytes
    assert not marked[1].exists()
    [report] = asked.texts("warn")
    assert "1 file could not be moved" in report
    assert str(changed) in report
    assert changed.name not in {p.name for p in trash_dir.iterdir()}


def test_cancelling_the_confirmation_trashes_nothing(qtbot, window, tmp_path, asked, trash_dir):
    copies = make_library(tmp_path)
    scan(qtbot, window, tmp_path / "photos")
    asked.answers = [False]
    trash_and_wait(qtbot, window)
    assert all(p.exists() for paths in copies.values() for p in paths)
    assert not trash_dir.exists() or not any(trash_dir.iterdir())


def test_emptying_a_group_needs_a_second_confirmation(qtbot, window, tmp_path, asked, trash_dir):
    copies = make_library(tmp_path, seeds=(3,))
    scan(qtbot, window, tmp_path / "photos")
    window.group_view.set_current(0, 0)
    window.group_view.setFocus()
    qtbot.keyClick(window.group_view, " ")  # the keeper is marked for the trash too
    assert window.group_model.trash_selection().emptied_groups

    asked.answers = [True, False]
    trash_and_wait(qtbot, window)
    assert len(asked.texts("confirm")) == 2
    assert "no copy of those photos would be left" in asked.texts("confirm")[1]
    assert all(p.exists() for p in copies[3])

    asked.answers = [True, True]
    trash_and_wait(qtbot, window)
    assert not any(p.exists() for p in copies[3])
    assert len(list(trash_dir.iterdir())) == 2


def test_files_in_a_protected_folder_are_kept_and_cannot_be_marked(qtbot, window, tmp_path):
    photo = make_photo(7, 320, 240)
    archive, inbox = tmp_path / "archive", tmp_path / "inbox"
    archive.mkdir()
    inbox.mkdir()
    photo.resize((160, 120)).save(archive / "small.jpg", quality=85)
    photo.save(inbox / "big.png")
    window.folder_panel.add_folder(str(archive), reference=True)
    scan(qtbot, window, inbox)

    group = window.group_model.group(0)
    assert group.keeper.record.path == str(archive / "small.jpg")
    assert group.keeper.is_reference
    window.group_view.set_current(0, 0)
    window.group_view.setFocus()
    qtbot.keyClick(window.group_view, " ")
    assert window.group_model.is_kept(group.keeper)
    assert "protected" in window.statusBar().currentMessage()


def test_delete_moves_to_trash_wherever_the_focus_is_but_removes_a_folder_in_the_list(
    qtbot, window, tmp_path, asked, trash_dir
):
    copies = make_library(tmp_path, seeds=(4,))
    scan(qtbot, window, tmp_path / "photos")
    window.activateWindow()
    asked.answers = [False, False]
    for widget in (window.similarity_slider, window.compare_view.next_button):
        widget.setFocus()
        qtbot.keyClick(widget, Qt.Key.Key_Delete)
    assert len(asked.texts("confirm")) == 2
    assert all(p.exists() for p in copies[4])

    folders = window.folder_panel.findChild(QTreeWidget)
    folders.setFocus()
    folders.setCurrentItem(folders.topLevelItem(0))
    qtbot.keyClick(folders, Qt.Key.Key_Delete)
    assert window.folder_panel.paths() == []
    assert len(asked.texts("confirm")) == 2  # the folder left the list; nothing was trashed
    assert all(p.exists() for p in copies[4])


def test_marking_every_copy_in_a_folder_never_empties_a_group(
    qtbot, window, tmp_path, asked, trash_dir
):
    camera, phone = tmp_path / "Camera", tmp_path / "Phone exports"
    for folder in (camera, phone):
        folder.mkdir()
    first, second = make_photo(31, 320, 240), make_photo(32, 320, 240)
    first.save(camera / "a.png")
    first.resize((160, 120), Image.Resampling.LANCZOS).save(phone / "a_small.jpg", quality=85)
    second.save(phone / "b.png")  # every copy of b is in the phone folder
    second.resize((160, 120), Image.Resampling.LANCZOS).save(phone / "b_small.jpg", quality=85)
    scan(qtbot, window, tmp_path)
    assert window.group_model.rowCount() == 2

    window.group_view.set_current(window.group_model.row_of_path(str(phone / "b.png")), 1)
    window.mark_folder(str(phone), keep=True)
    assert window.group_model.marked_totals()[0] == 0
    assert [pane.mark_button.text() for pane in window.compare_view.panes] == ["✓ Keep"] * 2
    window.mark_folder(str(phone), keep=False)
    assert "✗ Trash" in [pane.mark_button.text() for pane in window.compare_view.panes]
    assert "one of each stays kept" in window.statusBar().currentMessage()
    trash_and_wait(qtbot, window)

    assert sorted(p.name for p in trash_dir.iterdir()) == ["a_small.jpg", "b_small.jpg"]
    assert (camera / "a.png").exists() and (phone / "b.png").exists()
    assert len(asked.texts("confirm")) == 1  # no group emptied, so no second question


def test_a_keeper_deleted_after_the_scan_keeps_its_copies_and_the_report_says_why(
    qtbot, window, tmp_path, asked, trash_dir
):
    copies = make_library(tmp_path, seeds=(1, 2))
    scan(qtbot, window, tmp_path / "photos")
    by_seed = {
        seed: window.group_model.group(window.group_model.row_of_path(str(paths[0])))
        for seed, paths in copies.items()
    }
    gone_keeper = Path(by_seed[1].keeper.record.path)
    held_copy = next(Path(m.record.path) for m in by_seed[1].members if not m.keep)
    moved_copy = next(Path(m.record.path) for m in by_seed[2].members if not m.keep)
    gone_keeper.unlink()  # deleted in another program while the user reviews

    trash_and_wait(qtbot, window)

    [question] = asked.texts("confirm")  # never "Trash every copy?": the user kept one
    assert "Move 1 file" in question
    assert f"the copy you keep ({gone_keeper.name}) is gone" in question
    assert held_copy.exists()
    assert not moved_copy.exists()
    assert [p.name for p in trash_dir.iterdir()] == [moved_copy.name]
    [report] = asked.texts("warn")
    assert "Moved 1 file" in report
    assert "1 file stayed: the copy you keep in its group is gone" in report
    assert f"{held_copy}\n    {KEPT_COPY_GONE}" in report


def test_when_every_kept_copy_is_gone_nothing_is_asked_or_moved(
    qtbot, window, tmp_path, asked, trash_dir
):
    copies = make_library(tmp_path, seeds=(1,))
    scan(qtbot, window, tmp_path / "photos")
    group = window.group_model.group(0)
    Path(group.keeper.record.path).unlink()

    trash_and_wait(qtbot, window)

    assert asked.texts("confirm") == []
    [warning] = asked.texts("warn")
    assert "the copy you keep is gone or changed since the scan, so nothing was moved" in warning
    assert all(p.exists() for p in copies[1] if str(p) != group.keeper.record.path)
    assert not trash_dir.exists() or not any(trash_dir.iterdir())
