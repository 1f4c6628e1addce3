"""The window's library questions, wired in one place: the sidebar's Find target, the Find
window, the folders check, and their menu actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from dedup_gui.app.find_photo import FIND_TITLE, FindPhotosWindow, FindTarget
from dedup_gui.app.library_check import CHECK_TITLE, LibraryCheckDialog
from dedup_gui.app.library_scope import LibraryScope, library_scope
from dedup_gui.app.menus import new_action
from dedup_gui.core.files.folder_roles import FolderRoles

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow


class LibraryTools(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.find_target = FindTarget(window)
        self.find_target.photos_chosen.connect(self.find_photos)
        self.find_window: FindPhotosWindow | None = None
        self.check_dialog: LibraryCheckDialog | None = None
        self.find_action: QAction = new_action(
            window, f"{FIND_TITLE}…", self.open_find_window, "Ctrl+F",
            "Is this photo already in my library? (Ctrl+F)",
        )
        self.check_action: QAction = new_action(
            window, f"{CHECK_TITLE}…", self.open_check_dialog, None,
            "Which of these folders are already in my library?",
        )
        window.folder_panel.folders_changed.connect(self.refresh_scope)
        self.refresh_scope()

    def scope(self) -> LibraryScope:
        return library_scope(self._window.folder_panel.roles())

    def refresh_scope(self) -> None:
        self.find_target.set_scope(self.scope())
        if self.check_dialog is not None:
            self.check_dialog.refresh_scope()

    # Find a photo
    def find_photos(self, photos: list[str]) -> None:
        self._find_window().find(photos)

    def open_find_window(self) -> None:
        window = self._find_window()
        window.show()
        window.raise_()
        window.activateWindow()

    def _find_window(self) -> FindPhotosWindow:
        if self.find_window is None:
            self.find_window = FindPhotosWindow(
                self._window.thumbnails, self._scope_and_roles, self._search_settings,
                self._window,
            )
            self.find_window.files_trashed.connect(self._window.forget_trashed)
        return self.find_window

    def _scope_and_roles(self) -> tuple[LibraryScope, FolderRoles]:
        roles = self._window.folder_panel.roles()
        return library_scope(roles), roles

    # Check folders
    def open_check_dialog(self) -> None:
        if self.check_dialog is None:
            self.check_dialog = LibraryCheckDialog(
                self._window.thumbnails, self.scope, self._search_settings, self._window
            )
            self.check_dialog.add_to_scan_requested.connect(self._add_to_scan)
        self.check_dialog.refresh_scope()
        self.check_dialog.show()
        self.check_dialog.raise_()
        self.check_dialog.activateWindow()

    def _add_to_scan(self, folders: list[str]) -> None:
        self._window.add_paths(folders)
        self._window.raise_()
        self._window.activateWindow()

    # Both
    def _search_settings(self) -> tuple[float, bool, bool]:
        window = self._window
        return (
            float(window.similarity()),
            window.transforms_box.isChecked(),
            window.follow_links_box.isChecked(),
        )

    def is_busy(self) -> bool:
        return any(
            tool is not None and tool.is_busy() for tool in (self.find_window, self.check_dialog)
        )

    def shut_down(self) -> None:
        """The window closes: stop and wait for any search or check."""
        for tool in (self.find_window, self.check_dialog):
            if tool is not None:
                tool.shut_down()
                tool.close()
