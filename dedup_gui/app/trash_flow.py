"""The words of the Move to Trash confirmations and of the report afterwards."""

from __future__ import annotations

from collections.abc import Sequence

from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.core.actions import Outcome, TrashReport


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
