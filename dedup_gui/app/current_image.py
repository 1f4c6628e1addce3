"""The image the user is on: keep / trash it (Space), its context menu, mark every copy in
its folder, step between its group's members, open it or show its folder."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from dedup_gui.app import desktop
from dedup_gui.app.formatting import format_count
from dedup_gui.app.paths import display_path

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow


class CurrentImage(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def toggle_keep(self, row: int, member_index: int) -> None:
        window = self._window
        if not window.group_model.toggle_kept(row, member_index):
            window.statusBar().showMessage(
                "This file is in a protected (reference) folder and is always kept.", 5000
            )
        window.compare_view.refresh_marks()

    def show_menu(self, row: int, member_index: int, position: QPoint) -> None:
        window = self._window
        member = window.group_model.group(row).members[member_index]
        menu = QMenu(window)
        kept = window.group_model.is_kept(member)
        toggle = menu.addAction("Mark for the Trash" if kept else "Keep")
        toggle.setShortcut(QKeySequence(Qt.Key.Key_Space))
        toggle.triggered.connect(lambda: self.toggle_keep(row, member_index))
        folder = os.path.dirname(member.record.path)  # noqa: PTH120
        name = display_path(os.path.basename(folder) or folder)  # noqa: PTH119
        menu.addAction(f"Mark Every Copy in “{name}” for the Trash").triggered.connect(
            lambda: self.mark_folder(folder, keep=False)
        )
        menu.addAction(f"Keep Every Copy in “{name}”").triggered.connect(
            lambda: self.mark_folder(folder, keep=True)
        )
        menu.addSeparator()
        menu.addAction("Open File").triggered.connect(self.open_current_file)
        menu.addAction("Show in Folder").triggered.connect(self.show_current_in_folder)
        window.decisions_ui.add_image_actions(menu, row, member_index)
        menu.popup(position)

    def mark_folder(self, folder: str, *, keep: bool) -> None:
        """Selection helper: keep, or mark for the trash, every copy in `folder` (never the
        last kept copy of a group, never a protected file)."""
        window = self._window
        changed, spared = window.group_model.mark_folder(folder, keep=keep)
        window.compare_view.refresh_marks()
        name = display_path(folder)
        if keep:
            message = f"Every copy in {name} is kept ({format_count(changed, 'mark')} changed)."
        else:
            message = f"Marked {format_count(changed, 'copy', 'copies')} in {name} for the trash."
            if spared:
                message += (
                    f" {format_count(spared, 'group has', 'groups have')} every copy there:"
                    " one of each stays kept."
                )
        window.statusBar().showMessage(message, 10000)

    def navigate_members(self, step: int) -> None:
        window = self._window
        row = window.group_view.current_row()
        if row >= 0:
            current = max(1, window.group_view.current_member())
            window.group_view.set_current(row, current + step)

    def on_current_changed(self, row: int, member_index: int) -> None:
        window = self._window
        if row < 0:
            window.compare_view.clear()
        else:
            window.compare_view.show_group(window.group_model, row, member_index)
        window.status.update_actions()

    def current_path(self) -> str | None:
        window = self._window
        row = window.group_view.current_row()
        if row < 0:
            return None
        group = window.group_model.group(row)
        return group.members[window.group_view.current_member()].record.path

    def open_current_file(self) -> None:
        path = self.current_path()
        if path:
            desktop.open_file(path)

    def show_current_in_folder(self) -> None:
        path = self.current_path()
        if path:
            desktop.show_in_folder(path)

