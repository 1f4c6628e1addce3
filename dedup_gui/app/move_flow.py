"""Move Marked Copies to Folder, before and after: the trash's confirmations in the move's
words (turned into the same core removal plan) and the report."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from dedup_gui.app import dialogs
from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.app.group_model import TrashSelection
from dedup_gui.app.paths import display_path
from dedup_gui.app.trash_flow import emptied_groups_text, kept_copy_gone_text
from dedup_gui.core.models import DuplicateGroup
from dedup_gui.core.trash import move_to_folder
from dedup_gui.core.trash.actions import (
    Outcome,
    ProblemKind,
    RemovalPlan,
    RemovalRefusedError,
    groups_with_kept_copy_gone,
    plan_removal,
    removal_problems,
)
from dedup_gui.core.trash.move_to_folder import MoveReport

TITLE = "Move Marked Copies to Folder"


def confirmed_move_plan(
    parent: QWidget,
    groups: list[DuplicateGroup],
    selection: TrashSelection,
    roots: Sequence[str],
    target: str,
) -> RemovalPlan | None:
    """As `trash_flow.confirmed_removal_plan`: ask first, again for every group that would
    lose every copy; None when the user says no or the core refuses."""
    if not selection.members:
        dialogs.inform(parent, "Nothing to move", "No file is marked TRASH.")
        return None
    marked = [member.record.path for member in selection.members]
    held_back = groups_with_kept_copy_gone(groups, marked)
    held = {m.record.path for i in held_back for m in groups[i].members} & set(marked)
    moving = [m for m in selection.members if m.record.path not in held]
    if not moving:
        dialogs.warn(parent, "Nothing was moved", kept_copy_gone_text(len(held_back)),
                     "\n".join(sorted(held)))
        return None
    text = (
        f"Move {format_count(len(moving), 'file')} "
        f"({format_bytes(sum(m.record.size for m in moving))}) to {display_path(target)}?"
        "\n\nEach file is checked again first: any file changed since the scan is left alone. "
        "Their folders below the scanned folder are made there too; a file already there "
        "is never written over."
    )
    if held_back:
        text += (f"\n\nIn {format_count(len(held_back), 'group')}, the copy you keep is gone "
                 "or changed since the scan, so nothing there is moved.")
    if not dialogs.confirm(parent, TITLE, text, accept_label="Move"):
        return None
    problems = removal_problems(groups, marked, roots=roots)
    emptied = {
        p.group_index for p in problems
        if p.kind is ProblemKind.WOULD_EMPTY_GROUP and p.group_index is not None
    }
    if emptied and not dialogs.confirm(
        parent, "Move every copy?",
        emptied_groups_text(len(emptied)).replace("Trash every copy", "Move every copy"),
        accept_label="Move Every Copy",
    ):
        return None
    try:
        return plan_removal(groups, marked, roots=roots, allow_empty_groups=emptied)
    except RemovalRefusedError as refused:
        dialogs.warn(parent, "Nothing was moved", "The move was refused.",
                     "\n".join(problem.message for problem in refused.problems))
        return None


def target_problem(target: str, roots: Sequence[str]) -> str:
    """Why `target` cannot take the files ("" when it can): asked before the confirmation,
    with the core's own rule (not a scanned folder, nor inside one)."""
    return move_to_folder.target_problem(target, roots)


def move_summary(report: MoveReport, target: str) -> str:
    text = (f"Moved {format_count(len(report.moved), 'file')} "
            f"({format_bytes(report.moved_bytes)}) to {display_path(target)}.")
    if report.not_moved:
        text += f"\n{format_count(len(report.not_moved), 'file')} stayed; see the details."
    if report.leftovers_removed:
        count = format_count(len(report.leftovers_removed), "unfinished copy", "unfinished copies")
        text += (f"\nRemoved {count}"
                 " left there by an earlier move that was interrupted (the originals had "
                 "stayed in place).")
    return text


def move_details(report: MoveReport) -> str:
    return "\n".join(
        f"{o.path}\n    {o.message}" for o in report.outcomes if o.outcome is not Outcome.TRASHED
    )
