"""The Select menu (bulk marking helpers) and the View menu's Table / Thumbnails toggle.

Menus are found by object name first (`select_menu`, `view_menu`): another part of the app
may have made them already, and these actions are then added to it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from dedup_gui.app.formatting import format_count
from dedup_gui.app.paths import display_path

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow

NEXT_LOSING_EVERY_COPY_SHORTCUT = "Ctrl+J"


def menu_named(window: QMainWindow, name: str, title: str) -> QMenu:
    menu = window.findChild(QMenu, name)
    if menu is None:
        menu = QMenu(title, window)
        menu.setObjectName(name)
        later = window.findChild(QMenu, "view_menu") or window.findChild(QMenu, "help_menu")
        if isinstance(later, QMenu):
            window.menuBar().insertMenu(later.menuAction(), menu)  # File, Edit, Select, View
        else:
            window.menuBar().addMenu(menu)
    return menu


class SelectionActions:
    """The helpers, acting on the window's groups and its current group and file."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        menu = menu_named(window, "select_menu", "&Select")
        self.menu = menu

        def add(text: str, slot: object, shortcut: str | None = None) -> QAction:
            action = menu.addAction(text)
            action.triggered.connect(slot)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            return action

        self.trash_all_but_keepers = add(
            "Mark Every Copy but the Keeper for the Trash", self._trash_all_but_keepers)
        menu.addSeparator()
        self.keep_folder = add("Keep Every Copy in This Folder", lambda: self._folder(True))
        self.trash_folder = add("Mark Every Copy in This Folder for the Trash",
                                lambda: self._folder(False))
        menu.addSeparator()
        self.invert = add("Invert Marks in This Group", self._invert, "Ctrl+I")
        self.reset_group = add("Reset Marks in This Group", self._reset_group)
        self.reset_all = add("Reset All Marks", self._reset_all)
        menu.addSeparator()
        self.next_losing = add("Next Group That Would Lose Every Copy", self._next_losing,
                               NEXT_LOSING_EVERY_COPY_SHORTCUT)
        menu.addSeparator()
        self.rule_chain = add("Apply Rule Chain…", window.open_rule_chain, "Ctrl+R")

        view = menu_named(window, "view_menu", "&View")
        group = QActionGroup(view)
        self.show_thumbnails = view.addAction("Thumbnails")
        self.show_table = view.addAction("Table")
        for action, shortcut in (
            # Ctrl+0 / Ctrl+1 are the compare view's zoom (Fit, 1:1), as in photo viewers.
            (self.show_thumbnails, "Ctrl+Shift+1"), (self.show_table, "Ctrl+Shift+2"),
        ):
            action.setCheckable(True)
            action.setShortcut(QKeySequence(shortcut))
            group.addAction(action)
        self.show_thumbnails.setChecked(True)
        self.show_table.toggled.connect(window.review_pane.show_table)

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)
        self.window.compare_view.refresh_marks()

    def _trash_all_but_keepers(self) -> None:
        change = self.window.group_model.trash_all_but_keepers()
        self._message(f"Every copy but the keeper is marked for the trash "
                      f"({format_count(change.changed, 'mark')} changed).")

    def _folder(self, keep: bool) -> None:
        path = self.window.current_path()
        if path:
            self.window.mark_folder(os.path.dirname(path), keep=keep)  # noqa: PTH120

    def _invert(self) -> None:
        row = self.window.group_view.current_row()
        if row >= 0:
            change = self.window.group_model.invert_marks(row)
            note = " The keeper stays kept, so one copy is left." if change.spared else ""
            self._message(f"Marks inverted in this group.{note}")

    def _reset_group(self) -> None:
        row = self.window.group_view.current_row()
        if row >= 0:
            self.window.group_model.reset_marks([row])
            self._message("This group is back to the suggested marks.")

    def _reset_all(self) -> None:
        change = self.window.group_model.reset_marks()
        self._message(f"Every group is back to the suggested marks "
                      f"({format_count(change.changed, 'mark')} changed).")

    def _next_losing(self) -> None:
        window = self.window
        row = window.group_model.next_row_losing_every_copy(window.group_view.current_row())
        if row is None:
            window.statusBar().showMessage(
                "No group shown would lose every copy.", 5000)
            return
        window.group_view.set_current(row)
        keeper = window.group_model.group(row).keeper.record.path
        window.statusBar().showMessage(
            f"Every copy of {display_path(os.path.basename(keeper))} is marked "  # noqa: PTH119
            "for the trash.", 8000)
