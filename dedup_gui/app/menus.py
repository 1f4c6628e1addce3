"""The window's menu bar: File, Edit, View, Help, holding the toolbar's own QActions (one
action, one shortcut, wherever it is shown). Each menu has an object name ("file_menu",
"edit_menu", "view_menu", "help_menu") so other parts of the app can add to it with
`window.findChild(QMenu, name)`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from dedup_gui import APP_NAME, __version__
from dedup_gui.app.shortcuts_dialog import ShortcutsDialog

if TYPE_CHECKING:
    from dedup_gui.app.library_tools import LibraryTools
    from dedup_gui.app.main_window import MainWindow

MENU_NAMES = {"file_menu": "&File", "edit_menu": "&Edit", "view_menu": "&View",
              "help_menu": "&Help"}


def menu(window: QMainWindow, name: str) -> QMenu:
    """The named menu of the window's menu bar, created (in File, Edit, View, Help order)
    on first use."""
    found = window.findChild(QMenu, name)
    if isinstance(found, QMenu):
        return found
    created = window.menuBar().addMenu(MENU_NAMES[name])
    created.setObjectName(name)
    return created


def new_action(
    window: QMainWindow,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    action.triggered.connect(slot)
    if shortcut is not None:
        action.setShortcut(shortcut)
    action.setToolTip(tip or text)
    action.setStatusTip(tip or text)
    return action


def add_all(target: QMenu, actions: Sequence[QAction | None]) -> None:
    """`None` is a separator."""
    for action in actions:
        if action is None:
            target.addSeparator()
        else:
            target.addAction(action)


def build_menu_bar(window: QMainWindow) -> None:
    """Create the four menus in their order, empty, so that whoever fills one first does
    not decide where it stands."""
    for name in MENU_NAMES:
        menu(window, name)


def standard_shortcuts(key: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for `key`, or `fallback` where the platform has none (Quit has
    none on some Linux desktops, and none offscreen)."""
    keys = [sequence for sequence in QKeySequence.keyBindings(key) if not sequence.isEmpty()]
    return keys or [QKeySequence(fallback)]


@dataclass(slots=True)
class MenuActions:
    """The actions only the menus have (the others are the window's toolbar actions)."""

    quit: QAction
    fit: QAction
    actual_size: QAction
    shortcuts: QAction
    about: QAction


def install_menus(window: MainWindow, library: LibraryTools) -> MenuActions:
    """Fill File, Edit, View and Help with the window's actions (the toolbar's too)."""
    build_menu_bar(window)
    compare = window.compare_view
    actions = MenuActions(
        quit=new_action(window, "&Quit", window.close, None, "Close the window"),
        fit=new_action(window, "Zoom to &Fit", compare.zoom_to_fit, "Ctrl+0",
                       "Fit both photos of the comparison in their panes"),
        actual_size=new_action(
            window, "&Actual Pixels (1:1)", compare.zoom_actual_size, "Ctrl+1",
            "One pixel of the larger photo per screen pixel",
        ),
        shortcuts=new_action(window, "&Keyboard Shortcuts", lambda: show_shortcuts(window),
                             None, "Every key of the window (F1)"),
        about=new_action(window, f"&About {APP_NAME}", lambda: show_about(window)),
    )
    actions.quit.setShortcuts(standard_shortcuts(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
    actions.quit.setMenuRole(QAction.MenuRole.QuitRole)
    add_all(menu(window, "file_menu"), [
        window.add_action, window.scan_action, None,
        library.find_action, library.check_action, None,
        window.open_action, window.show_folder_action, None,
        window.export_action, None,
        actions.quit,
    ])
    add_all(menu(window, "edit_menu"), [window.trash_action])

    add_all(menu(window, "view_menu"), [actions.fit, actions.actual_size])

    actions.shortcuts.setShortcuts(
        standard_shortcuts(QKeySequence.StandardKey.HelpContents, "F1")
    )
    actions.about.setMenuRole(QAction.MenuRole.AboutRole)
    add_all(menu(window, "help_menu"), [actions.shortcuts, None, actions.about])
    return actions


def show_shortcuts(window: QMainWindow) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def show_about(window: QMainWindow) -> None:
    QMessageBox.about(
        window, f"About {APP_NAME}",
        f"<b>{APP_NAME}</b> {__version__}<p>Finds duplicate and near-duplicate photos, "
        "and answers whether a photo or a folder is already in your library. Extra copies "
        "are only ever moved to the trash.</p>",
    )
