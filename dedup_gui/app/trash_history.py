"""Recently Trashed: the logged Moves to Trash, which of their files are still in the trash,
and putting a batch back; the report of a restore."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app.decisions import Decisions
from dedup_gui.app.formatting import format_count
from dedup_gui.app.paths import display_path
from dedup_gui.core.decisions.trash_log import LoggedFile, RestoreOutcome, RestoreResult, TrashBatch
from dedup_gui.core.trash import system_trash

BATCH_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True, slots=True)
class BatchView:
    batch: TrashBatch
    in_trash: tuple[bool, ...]
    """Per file of the batch: still in the trash (always False once restored)."""

    @property
    def waiting_count(self) -> int:
        return sum(self.in_trash)


def batch_views(batches: Sequence[TrashBatch]) -> list[BatchView]:
    """Looks at the trash on disk: call it on a worker."""
    return [
        BatchView(batch, tuple(_still_in_trash(logged) for logged in batch.files))
        for batch in batches
    ]


def _still_in_trash(logged: LoggedFile) -> bool:
    if logged.restored_to is not None:
        return False
    if not system_trash.SUPPORTED:
        return True  # not looked up there; the user puts it back by hand
    return logged.trashed_path is not None and Path(logged.trashed_path).is_file()


def file_status(logged: LoggedFile, in_trash: bool) -> str:
    if logged.restored_to is not None:
        if logged.restored_to != logged.original_path:
            return f"restored beside it, as {display_path(Path(logged.restored_to).name)}"
        return "restored"
    return "in the trash" if in_trash else "no longer in the trash"


def by_hand_lines(files: Sequence[LoggedFile]) -> list[str]:
    lines = []
    for logged in files:
        original = Path(logged.original_path)
        lines.append(
            f"{display_path(original.name)}  (back to {display_path(str(original.parent))})"
        )
    return lines


def open_system_trash(first_path: str | None) -> None:
    """The system trash where it is a folder (macOS), else the folder of the first file
    (the Windows Recycle Bin has no path to open)."""
    if sys.platform == "darwin":
        url = QUrl.fromLocalFile(str(Path.home() / ".Trash"))
    elif first_path:
        url = QUrl.fromLocalFile(str(Path(first_path).parent))
    else:
        url = QUrl.fromLocalFile(str(Path.home()))
    QDesktopServices.openUrl(url)


def restore_report(outcomes: Sequence[RestoreOutcome]) -> tuple[str, str, bool]:
    """(summary, details, whether it is a warning) for a restore."""
    counts = {result: 0 for result in RestoreResult}
    for outcome in outcomes:
        counts[outcome.result] += 1
    back = counts[RestoreResult.RESTORED] + counts[RestoreResult.RESTORED_BESIDE]
    lines = []
    if not outcomes:
        lines.append("Nothing to put back: every file of that Move to Trash was restored already.")
    if back:
        lines.append(f"Put back {format_count(back, 'file')}.")
    if counts[RestoreResult.RESTORED_BESIDE]:
        beside = [o for o in outcomes if o.result is RestoreResult.RESTORED_BESIDE]
        names = ", ".join(display_path(Path(o.restored_to or "").name) for o in beside[:3])
        lines.append(
            f"{format_count(len(beside), 'file')} found another file at its place, which was "
            f"left alone: restored beside it as {names}{', …' if len(beside) > 3 else ''}."
        )
    if counts[RestoreResult.BY_HAND]:
        lines.append(
            f"Put {format_count(counts[RestoreResult.BY_HAND], 'file')} back from the system "
            "trash by hand (listed in the details); the trash is opened for you."
        )
    failed = len(outcomes) - back - counts[RestoreResult.BY_HAND]
    if failed:
        lines.append(f"{format_count(failed, 'file')} could not be put back; see the details.")
    details = "\n".join(
        f"{display_path(o.original_path)}\n    {o.message}"
        for o in outcomes
        if o.result is not RestoreResult.RESTORED
    )
    return "\n".join(lines), details, bool(failed)


class RecentlyTrashedDialog(QDialog):
    """Lists the logged batches, newest first; Restore puts the chosen one back (through
    `restore_requested`, which the window runs as a job)."""

    restore_requested = Signal(int)

    def __init__(self, decisions: Decisions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recently Trashed")
        self.resize(900, 460)
        self._decisions = decisions
        self._views: list[BatchView] = []
        intro = QLabel(
            "Every Move to Trash made by this app. Restoring puts each file back where it was; "
            "if another file is there now, the photo is restored beside it, never over it.",
            self,
        )
        intro.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Moved to the trash", "Files", "Folder"])
        self.tree.setColumnWidth(0, 280)
        self.tree.setColumnWidth(1, 200)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the last folders show
        self.tree.setAccessibleName("Recently trashed files")
        self.tree.currentItemChanged.connect(self._update_buttons)
        self.status = QLabel("Loading…", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        label = "Restore" if system_trash.SUPPORTED else "Put Back by Hand…"
        self.restore_button = QPushButton(label, self)
        self.restore_button.setToolTip(
            "Put the chosen Move to Trash back" if system_trash.SUPPORTED
            else "Lists the files to put back and opens the trash"
        )
        self.restore_button.clicked.connect(self.restore_selected)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._update_buttons()
        self.reload()

    def reload(self) -> None:
        self._run(lambda: batch_views(self._decisions.batches()), self._show)

    def _run(self, task: Callable[[], object], then: Callable[[object], None]) -> None:
        self._decisions.ask(task, then)

    def _show(self, views: object) -> None:
        assert isinstance(views, list)
        self._views = views
        self.tree.clear()
        for number, view in enumerate(views):
            batch = view.batch
            when = time.strftime("%Y-%m-%d  %H:%M:%S", time.localtime(batch.trashed_at))
            files = format_count(len(batch.files), "file")
            if view.waiting_count == len(batch.files):
                state = f"{files}, all in the trash"
            elif view.waiting_count:
                state = f"{files}, {view.waiting_count:,} in the trash"
            else:
                state = f"{files}, none in the trash"
            item = QTreeWidgetItem([when, state, ""])
            item.setData(0, BATCH_ROLE, number)
            for logged, in_trash in zip(batch.files, view.in_trash, strict=True):
                original = Path(logged.original_path)
                child = QTreeWidgetItem([
                    display_path(original.name), file_status(logged, in_trash),
                    display_path(str(original.parent)),
                ])
                for column in (0, 2):
                    child.setToolTip(column, display_path(logged.original_path))
                child.setData(0, BATCH_ROLE, number)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
        if views:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
            self.tree.topLevelItem(0).setExpanded(True)
            self.status.setText("")
        else:
            self.status.setText("Nothing has been moved to the trash with this app yet.")
        self._update_buttons()

    def selected_view(self) -> BatchView | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        number = item.data(0, BATCH_ROLE)
        return self._views[number] if isinstance(number, int) else None

    def select_batch(self, batch_id: int) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if self._views[item.data(0, BATCH_ROLE)].batch.batch_id == batch_id:
                self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        view = self.selected_view()
        self.restore_button.setEnabled(view is not None and view.waiting_count > 0)

    def restore_selected(self) -> None:
        view = self.selected_view()
        if view is None or not view.waiting_count:
            return
        waiting = [f for f, here in zip(view.batch.files, view.in_trash, strict=True) if here]
        if not system_trash.SUPPORTED:
            self.status.setText(
                "This system cannot restore from its trash for another program. Put these "
                "back by hand (the trash is open now):\n" + "\n".join(by_hand_lines(waiting))
            )
            open_system_trash(waiting[0].original_path)
            return
        self.restore_requested.emit(view.batch.batch_id)
        self.accept()
