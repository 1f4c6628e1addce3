"""Move to Trash, before and after: the confirmations (turned into the core's removal plan)
and the report of what happened to each file."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from dedup_gui.app import dialogs
from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.app.group_model import TrashSelection
from dedup_gui.core.actions import (
    Outcome,
    ProblemKind,
    RemovalPlan,
    RemovalRefusedError,
    TrashReport,
    plan_removal,
    removal_problems,
)
from dedup_gui.core.models import DuplicateGroup


def confirmed_removal_plan(
    parent: QWidget, groups: list[DuplicateGroup], selection: TrashSelection
) -> RemovalPlan | None:
    """Ask first (how many files, how many bytes), then again for every group that would
    lose all its copies; None when the user says no or the core refuses the plan."""
    if not selection.members:
        dialogs.inform(parent, "Nothing to trash", "No file is marked TRASH.")
        return None
    if not dialogs.confirm(
        parent, "Move to Trash",
        confirmation_text(len(selection.members), selection.total_bytes),
        accept_label="Move to Trash",
    ):
        return None
    marked = [member.record.path for member in selection.members]
    problems = removal_problems(groups, marked)
    emptied = {
        problem.group_index
        for problem in problems
        if problem.kind is ProblemKind.WOULD_EMPTY_GROUP and problem.group_index is not None
    }
    if emptied and not dialogs.confirm(
        parent, "Trash every copy?", emptied_groups_text(len(emptied)),
        accept_label="Trash Every Copy",
    ):
        return None
    try:
        return plan_removal(groups, marked, allow_empty_groups=emptied)
    except RemovalRefusedError as refused:
        dialogs.warn(parent, "Nothing was moved", "The removal was refused.",
                     "\n".join(problem.message for problem in refused.problems))
        return None


def confirmation_text(file_count: int, total_bytes: int) -> str:
    return (
        f"Move {format_count(file_count, 'file')} ({format_bytes(total_bytes)}) to the trash?\n\n"
        "Each file is checked again first: any file changed since the scan is left alone. "
        "You can restore them from the system trash."
    )


def emptied_groups_text(group_count: int) -> str:
    groups = format_count(group_count, "group")
    return (
        f"In {groups}, every file is marked for the trash, so no copy of those photos "
        "would be left.\n\nTrash every copy in "
        f"{'this group' if group_count == 1 else 'these groups'} anyway?"
    )


def report_summary(report: TrashReport) -> str:
    trashed = report.trashed
    moved = format_bytes(report.trashed_bytes)
    text = f"Moved {format_count(len(trashed), 'file')} ({moved}) to the trash."
    skipped = report.not_trashed
    if skipped:
        text += f"\n{format_count(len(skipped), 'file')} could not be moved; see the details."
    return text


def report_details(report: TrashReport) -> str:
    lines: Sequence[str] = [
        f"{outcome.path}\n    {outcome.message}"
        for outcome in report.outcomes
        if outcome.outcome is not Outcome.TRASHED
    ]
    return "\n".join(lines)
