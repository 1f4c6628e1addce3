"""Folders and images into the window: the Add Folder dialogs, a drop on the window, and
the results kept to the folders listed when one is removed."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from dedup_gui.app import dialogs
from dedup_gui.app.folders import ROLE_NAMES
from dedup_gui.app.paths import display_path, local_path
from dedup_gui.core.files.folder_roles import FolderRole, newly_scanned
from dedup_gui.core.files.imagetypes import has_image_extension
from dedup_gui.core.models import ScanResult

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow

REJECTED_NAMES_SHOWN = 10
"""Refused paths listed by name after a drop; the rest are counted, so dropping hundreds of
non-images never makes a message taller than the screen."""


def not_added_text(rejected: list[str]) -> str:
    lines = rejected[:REJECTED_NAMES_SHOWN]
    if len(rejected) > len(lines):
        lines.append(f"and {len(rejected) - len(lines):,} more")
    return "Only folders and image files can be added. Not added:\n" + "\n".join(lines)


class FolderIntake(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def add_folder_from_dialog(self) -> None:
        folder = dialogs.choose_folder(self._window)
        if folder:
            self.add_paths([folder])

    def add_subfolder_from_dialog(self, folder: str) -> None:
        """A subfolder of the listed `folder`, picked in a dialog that opens inside it, is
        listed under it; the keyboard goes to its role box."""
        window = self._window
        subfolder = dialogs.choose_folder(window, "Add a subfolder with its own role", folder)
        if subfolder:
            self.add_paths([subfolder])
            window.folder_panel.focus_role(os.path.abspath(subfolder))  # noqa: PTH100

    def add_paths(self, paths: list[str]) -> None:
        """Folders and image files are added; anything else is refused with a message.
        What the last scan did not look at yet is scanned (with `scan_on_add`)."""
        window = self._window
        accepted, rejected = [], []
        for path in paths:
            candidate = Path(path)
            if candidate.is_dir() or (candidate.is_file() and has_image_extension(candidate.name)):
                accepted.append(path)
            else:
                rejected.append(path)
        before = window.folder_panel.roles()
        added = window.folder_panel.add_folders(accepted)
        if rejected:
            # Every path stays available behind "Show Details…", which scrolls.
            details = "\n".join(rejected) if len(rejected) > REJECTED_NAMES_SHOWN else ""
            dialogs.warn(window, "Not added", not_added_text(rejected), details)
        if added and newly_scanned(before, window.folder_panel.roles()):
            self.scan_what_is_new()
        elif added:
            role = window.folder_panel.role_of(added[-1]) or FolderRole.NORMAL
            window.statusBar().showMessage(
                f"“{display_path(Path(added[-1]).name)}” is inside a listed folder: it is listed"
                f" under it, {ROLE_NAMES[role]} as there. Choose its own role beside it.", 10000
            )

    def scan_what_is_new(self) -> None:
        """Folders were added, or an exclusion lifted: scan to include their photos."""
        window = self._window
        if not window.scan_on_add:
            return
        if window.jobs.job is not None:
            window.statusBar().showMessage("Added. Scan again to include it.", 8000)
        else:
            window.scan_flow.start_scan()

    # The window's drag and drop events
    def drag_entered(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self._window.empty_state.set_highlighted(True)
        else:
            event.ignore()

    def drag_left(self) -> None:
        self._window.empty_state.set_highlighted(False)

    def dropped(self, event: QDropEvent) -> None:
        self._window.empty_state.set_highlighted(False)
        paths = [local_path(url) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # After the drop returns, so the file manager is not kept waiting on a message box.
        QTimer.singleShot(0, lambda: self.add_paths(paths))

    def on_folders_changed(self) -> None:
        window = self._window
        window.settings.set_folders(window.folder_panel.entries())
        if not self._drop_records_outside_folders():
            window.regrouping.timer.start()  # a reference mark changed: only the keepers move
        window.status.update_state()

    def _drop_records_outside_folders(self) -> bool:
        """After a folder is removed, its images leave the results (regrouped in the
        background). Returns False when nothing had to go."""
        window = self._window
        if window.scan_flow.result is None or window.jobs.job is not None:
            return False
        within = self.within_folders(window.scan_flow.result)
        if within is None:
            return False
        window.scan_flow.result = within
        window.scan_flow.regroup_records_in_background(within, shrink_from=window.scan_flow.index)
        return True

    def within_folders(self, result: ScanResult) -> ScanResult | None:
        """`result` without the images and errors of folders no longer in the list, or None
        when it has none."""
        # An excluded subfolder is out of the list too; the deepest listed folder decides.
        roles = self._window.folder_panel.roles()
        records = [record for record, scanned in zip(
            result.records, roles.scanned(record.path for record in result.records), strict=True
        ) if scanned]
        errors = [error for error in result.errors if roles.is_scanned(error.path)]
        if len(records) == len(result.records) and len(errors) == len(result.errors):
            return None
        return dataclasses.replace(result, records=records, errors=errors)

