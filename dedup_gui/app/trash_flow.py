"""Move to Trash, before and after: the confirmations (turned into the core's removal plan)
and the report of what happened to each file."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from dedup_gui.app import dialogs
from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.app.group_model import TrashSelection
from dedup_gui.core.models import DuplicateGroup
from dedup_gui.core.trash.actions import (
    Outcome,
    ProblemKind,
    RemovalPlan,
    RemovalRefusedError,
    TrashReport,
    groups_with_kept_copy_gone,
    plan_removal,
    removal_problems,
)


def confirmed_removal_plan(
    parent: QWidget,
    groups: list[DuplicateGroup],
    selection: TrashSelection,
    roots: Sequence[str],
) -> RemovalPlan | None:
    """Ask first (how many files, how many bytes; which groups stay because the copy kept
    there is gone), then again for every group whose every copy the user marked; None when
    the user says no or the core refuses the plan. `roots`: the scan the groups came from."""
    if not selection.members:
        dialogs.inform(parent, "Nothing to trash", "No file is marked TRASH.")
        return None
    marked = [member.record.path for member in selection.members]
    marked_set = set(marked)
    held_back = groups_with_kept_copy_gone(groups, marked)
    held_paths = {
        member.record.path
        for index in held_back
        for member in groups[index].members
        if member.record.path in marked_set
    }
    moving = [member for member in selection.members if member.record.path not in held_paths]
    if not moving:
        dialogs.warn(parent, "Nothing was moved", kept_copy_gone_text(len(held_back)),
                     "\n".join(sorted(held_paths)))
        return None
    if not dialogs.confirm(
        parent, "Move to Trash",
        confirmation_text(
            len(moving), sum(member.record.size for member in moving),
            held_back_keepers=[_kept_name(groups[index], marked_set) for index in held_back],
            held_back_files=len(held_paths),
        ),
        accept_label="Move to Trash",
    ):
        return None
    problems = removal_problems(groups, marked, roots=roots)
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
        # Held-back files stay in the plan: the re-check keeps them and the report says why.
        return plan_removal(groups, marked, roots=roots, allow_empty_groups=emptied)
    except RemovalRefusedError as refused:
        dialogs.warn(parent, "Nothing was moved", "The removal was refused.",
                     "\n".join(problem.message for problem in refused.problems))
        return None


def confirmation_text(
    file_count: int,
    total_bytes: int,
    *,
    held_back_keepers: Sequence[str] = (),
    held_back_files: int = 0,
) -> str:
    """`held_back_keepers`: for each group the re-check will hold back, the name of the copy
    the user keeps there (gone or changed since the scan)."""
    text = (
        f"Move {format_count(file_count, 'file')} ({format_bytes(total_bytes)}) to the trash?"
        "\n\nEach file is checked again first: any file changed since the scan is left alone. "
        "You can restore them from the system trash."
    )
    if held_back_keepers:
        names = ", ".join(held_back_keepers[:3]) + (", …" if len(held_back_keepers) > 3 else "")
        one = len(held_back_keepers) == 1
        text += (
            f"\n\nIn {format_count(len(held_back_keepers), 'group')}, "
            f"{'the copy' if one else 'the copies'} you keep ({names}) "
            f"{'is' if one else 'are'} gone or changed since the scan, so nothing there is moved: "
            f"{format_count(held_back_files, 'marked file')} "
            f"{'stays' if held_back_files == 1 else 'stay'} in place."
        )
    return text


def _kept_name(group: DuplicateGroup, marked: set[str]) -> str:
    kept = next(m.record.path for m in group.members if m.record.path not in marked)
    return os.path.basename(kept)  # noqa: PTH119 (a str path, possibly with surrogates)


def kept_copy_gone_text(group_count: int) -> str:
    groups = "the group" if group_count == 1 else f"all {group_count} groups"
    return (
        f"In {groups} with files marked TRASH, the copy you keep is gone or changed since "
        "the scan, so nothing was moved. Scan again to see what is on disk now."
    )


def emptied_groups_text(group_count: int) -> str:
    groups = format_count(group_count, "group")
    return (
        f"In {groups}, you marked every file for the trash, so no copy of those photos "
        "would be left.\n\nTrash every copy in "
        f"{'this group' if group_count == 1 else 'these groups'} anyway?"
    )


def report_summary(report: TrashReport) -> str:
    trashed = report.trashed
    moved = format_bytes(report.trashed_bytes)
    text = f"Moved {format_count(len(trashed), 'file')} ({moved}) to the trash."
    held_back = [o for o in report.outcomes if o.outcome is Outcome.SKIPPED_NO_KEPT_COPY]
    if held_back:
        text += (
            f"\n{format_count(len(held_back), 'file')} stayed: the copy you keep in "
            f"{'its' if len(held_back) == 1 else 'their'} group is gone (or changed) since "
            "the scan."
        )
    others = len(report.not_trashed) - len(held_back)
    if others:
        text += f"\n{format_count(others, 'file')} could not be moved; see the details."
    elif held_back:
        text += " See the details."
    return text


def report_details(report: TrashReport) -> str:
    lines: Sequence[str] = [
        f"{outcome.path}\n    {outcome.message}"
        for outcome in report.outcomes
        if outcome.outcome is not Outcome.TRASHED
    ]
    return "\n".join(lines)


UNDO_LABEL = "Undo"


def show_trash_report(parent: QWidget, report: TrashReport, *, can_undo: bool) -> bool:
    """The report of a Move to Trash, with Undo when the batch was logged; returns whether
    the user chose Undo."""
    text = report_summary(report)
    if can_undo and report.trashed:
        text += "\n\nUndo puts them back now; Edit → Recently Trashed… does it later."
    return dialogs.report(
        parent, "Move to Trash", text, report_details(report),
        warning=bool(report.not_trashed),
        action_label=UNDO_LABEL if can_undo and report.trashed else "",
    )
