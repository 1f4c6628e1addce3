"""The app's words around Move Marked Copies to Folder: which folders it refuses, and what
the report says after a move that found an interrupted one's leftovers."""

from __future__ import annotations

from dedup_gui.app.move_flow import move_summary, target_problem
from dedup_gui.core.trash.actions import FileOutcome, Outcome, TrashReport
from dedup_gui.core.trash.move_to_folder import MoveReport


def test_a_folder_inside_a_scanned_folder_is_refused_before_anything_is_asked(tmp_path):
    library = tmp_path / "Pictures"
    assert "other than a scanned folder" in target_problem(str(library), [str(library)])
    assert "outside the scanned folders" in target_problem(
        str(library / "Duplicates"), [str(library)])
    assert target_problem(str(tmp_path / "Set aside"), [str(library)]) == ""


def test_the_report_says_when_an_interrupted_moves_copies_were_cleaned_up(tmp_path):
    moved = FileOutcome(str(tmp_path / "a.jpg"), Outcome.TRASHED, "", 2048)
    report = MoveReport(TrashReport((moved,)), {moved.path: str(tmp_path / "t" / "a.jpg")},
                        (str(tmp_path / "t" / ".b.jpg.dedup-move-7-00.tmp"),))
    text = move_summary(report, str(tmp_path / "t"))
    assert text.startswith("Moved 1 file (2.0 KB)")
    assert "Removed 1 unfinished copy left there by an earlier move" in text
    assert "unfinished copy" not in move_summary(
        MoveReport(TrashReport((moved,)), {}), str(tmp_path / "t"))
