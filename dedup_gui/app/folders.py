"""The folders to scan as a small tree: listed folders at the top, subfolders the user gave a
role of their own nested under their nearest listed ancestor. Each row has a role: Normal,
Protected (always kept) or Excluded (not scanned)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app.paths import display_path
from dedup_gui.app.settings import FolderEntry
from dedup_gui.core.files.folder_roles import FolderRole, FolderRoles, newly_scanned

PATH_COLUMN = 0
ROLE_COLUMN = 1
REFERENCE_COLOUR = QColor(9, 105, 218)
EXCLUDED_COLOUR = QColor(188, 76, 0)
"""Orange, not grey: an excluded folder's row must not look disabled."""
ROLE_NAMES = {
    FolderRole.NORMAL: "Normal",
    FolderRole.PROTECTED: "Protected",
    FolderRole.EXCLUDED: "Excluded",
}
ROLE_HELP = {
    FolderRole.NORMAL: "Scanned; its copies may be suggested for the trash",
    FolderRole.PROTECTED: "Scanned; its photos are always kept and preferred as the keeper",
    FolderRole.EXCLUDED: "Not scanned at all",
}


class FolderPanel(QWidget):
    """Add / remove folders (Delete removes the selected ones, with their nested entries);
    each row's role box, or its context menu, sets its role."""

    folders_changed = Signal()
    add_requested = Signal()
    add_subfolder_requested = Signal(str)
    """(listed folder): the user asks to give one of its subfolders its own role."""
    scope_widened = Signal()
    """A role change or a removal made photos in scope that the last scan did not look at
    (an exclusion lifted); adding folders is reported by `add_folders` instead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tree = QTreeWidget(self)
        self._tree.setHeaderLabels(["Folders to scan", "Role"])
        self._tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._tree.setAccessibleName("Folders to scan")
        # The end of a path names the folder: cut its beginning, never its name.
        self._tree.setTextElideMode(Qt.TextElideMode.ElideLeft)
        self._tree.setIndentation(14)
        self._tree.setUniformRowHeights(True)
        header = self._tree.header()
        header.setSectionResizeMode(PATH_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(ROLE_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self._tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._tree.customContextMenuRequested.connect(self._show_menu)
        self._tree.itemSelectionChanged.connect(self._update_buttons)
        self._tree.installEventFilter(self)
        self._roles = FolderRoles([])

        self.add_button = QPushButton("Add Folder…", self)
        self.add_button.setToolTip("Add a folder to scan (Ctrl+O)")
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        hint = QLabel(
            "<b>Protected</b> photos are always kept; <b>Excluded</b> folders are not "
            "scanned. Right-click a folder to give a subfolder its own role.",
            self,
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._tree, 1)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        self._update_buttons()

    # What is listed
    def entries(self) -> list[FolderEntry]:
        """Every listed folder, parents before their nested folders."""
        return [FolderEntry(_path_of(item), _role_of(item)) for item in self._items()]

    def paths(self) -> list[str]:
        return [entry.path for entry in self.entries()]

    def roles(self) -> FolderRoles:
        return FolderRoles((entry.path, entry.role) for entry in self.entries())

    def reference_folders(self) -> tuple[str, ...]:
        """For `SimilarityIndex.groups`: protection with the nested roles applied."""
        return self.roles().reference_folders()

    def has_folders_to_scan(self) -> bool:
        return any(_role_of(item) is not FolderRole.EXCLUDED for item in self._items())

    def role_of(self, path: str) -> FolderRole | None:
        item = self._item_for(path)
        return None if item is None else _role_of(item)

    # Changes
    def set_entries(self, entries: list[FolderEntry]) -> None:
        self._tree.clear()
        self._add([(entry.path, entry.role) for entry in entries])
        self._roles = self.roles()
        self._update_buttons()
        self.folders_changed.emit()

    def add_folder(
        self, path: str, *, reference: bool = False, role: FolderRole | None = None
    ) -> bool:
        """Adds `path` unless it is listed already; see `add_folders`."""
        return bool(self.add_folders([path], reference=reference, role=role))

    def add_folders(
        self, paths: list[str], *, reference: bool = False, role: FolderRole | None = None
    ) -> list[str]:
        """Adds each path not listed yet, with one `folders_changed` for all: a drop of a
        thousand photos must not redo the work a thousand times. A folder is added with
        `role` (default Normal, or Protected for a `reference`); a subfolder of a listed
        folder is nested under it and, without `role`, keeps the role it has there until
        the user picks another (inside an excluded one it is Normal: it was added to be
        scanned). A file inside a listed folder is scanned already and is not added.
        Returns the paths added."""
        chosen = role or (FolderRole.PROTECTED if reference else FolderRole.NORMAL)
        added = self._add([(path, chosen) for path in paths], inherit=role is None)
        if added:
            self._roles = self.roles()
            self._update_buttons()
            self.folders_changed.emit()
        return added

    def set_role(self, path: str, role: FolderRole) -> None:
        item = self._item_for(path)
        box = self._role_box(item) if item is not None else None
        if box is not None:
            box.set_role(role)  # reported by the box, as a choice made by hand is

    def set_reference(self, path: str, reference: bool) -> None:
        self.set_role(path, FolderRole.PROTECTED if reference else FolderRole.NORMAL)

    def remove_folder(self, path: str) -> None:
        item = self._item_for(path)
        if item is not None:
            self._remove([item])

    def remove_selected(self) -> None:
        self._remove(self._tree.selectedItems())

    def focus_role(self, path: str) -> None:
        """Select `path`'s row and put the keyboard on its role box."""
        item = self._item_for(path)
        box = self._role_box(item) if item is not None else None
        if item is not None and box is not None:
            self._tree.setCurrentItem(item)
            self._tree.scrollToItem(item)
            box.setFocus(Qt.FocusReason.OtherFocusReason)

    # The tree
    def _add(self, wanted: list[tuple[str, FolderRole]], *, inherit: bool = False) -> list[str]:
        by_path = {_path_of(item): item for item in self._items()}
        added = []
        for path, role in wanted:
            # abspath, not resolve(): the scanner reports paths as the user spelled them.
            resolved = os.path.abspath(Path(path).expanduser())  # noqa: PTH100
            if resolved in by_path:
                continue
            parent = next(
                (by_path[str(p)] for p in Path(resolved).parents if str(p) in by_path), None
            )
            if parent is not None and not Path(resolved).is_dir():
                continue  # a photo inside a listed folder: scanned already
            if inherit and parent is not None:
                role = _role_of(parent)
                if role is FolderRole.EXCLUDED:
                    role = FolderRole.NORMAL
            item = self._new_item(resolved, role)
            siblings = self._children(parent)
            if parent is None:
                self._tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            # Entries listed before inside the new folder move under it.
            for sibling in siblings:
                if _is_inside(_path_of(sibling), resolved):
                    self._detach(sibling)
                    item.addChild(sibling)
            for moved in self._subtree(item):
                self._attach_role_box(moved, self._path_text(moved))
            by_path[resolved] = item
            added.append(resolved)
        self._tree.setRootIsDecorated(any(i.childCount() for i in self._top_level()))
        self._tree.expandAll()
        return added

    def _new_item(self, path: str, role: FolderRole) -> QTreeWidgetItem:
        item = QTreeWidgetItem(["", ""])
        # As bytes: a Qt string would lose the name of a folder that is not UTF-8.
        item.setData(PATH_COLUMN, Qt.ItemDataRole.UserRole, QByteArray(os.fsencode(path)))
        item.setData(ROLE_COLUMN, Qt.ItemDataRole.UserRole, role.value)
        item.setToolTip(PATH_COLUMN, display_path(path))
        return item

    def _attach_role_box(self, item: QTreeWidgetItem, text: str) -> None:
        """(Re)builds the row: moving an item in the tree drops its widget."""
        item.setText(PATH_COLUMN, text)
        box = RoleBox(_role_of(item), self._tree)
        box.setAccessibleName(f"Role of {Path(_path_of(item)).name or _path_of(item)}")
        box.role_changed.connect(lambda role, row=item: self._on_role_changed(row, role))
        self._tree.setItemWidget(item, ROLE_COLUMN, box)
        item.setSizeHint(ROLE_COLUMN, box.sizeHint())
        self._style(item)

    def _path_text(self, item: QTreeWidgetItem) -> str:
        parent = item.parent()
        path = _path_of(item)
        if parent is None:
            return display_path(path)
        return display_path(os.path.relpath(path, _path_of(parent)))

    def _remove(self, items: list[QTreeWidgetItem]) -> None:
        chosen = {id(item) for item in items}
        # Removing a folder removes what is nested in it; a nested one chosen too is gone.
        roots = [item for item in items if not any(id(a) in chosen for a in _ancestors(item))]
        if not roots:
            return
        for item in roots:
            self._detach(item)
        self._tree.setRootIsDecorated(any(i.childCount() for i in self._top_level()))
        self._update_buttons()
        self._report_change()

    def _detach(self, item: QTreeWidgetItem) -> None:
        parent = item.parent()
        if parent is None:
            self._tree.takeTopLevelItem(self._tree.indexOfTopLevelItem(item))
        else:
            parent.removeChild(item)

    def _on_role_changed(self, item: QTreeWidgetItem, role: FolderRole) -> None:
        item.setData(ROLE_COLUMN, Qt.ItemDataRole.UserRole, role.value)
        self._style(item)
        self._report_change()

    def _report_change(self) -> None:
        before, self._roles = self._roles, self.roles()
        self.folders_changed.emit()
        if newly_scanned(before, self._roles):
            self.scope_widened.emit()

    def _style(self, item: QTreeWidgetItem) -> None:
        role = _role_of(item)
        font = QFont(self._tree.font())
        font.setBold(role is FolderRole.PROTECTED)
        font.setItalic(role is FolderRole.EXCLUDED)
        item.setFont(PATH_COLUMN, font)
        colours = {FolderRole.PROTECTED: REFERENCE_COLOUR, FolderRole.EXCLUDED: EXCLUDED_COLOUR}
        item.setForeground(PATH_COLUMN, colours.get(role, self.palette().text().color()))
        item.setToolTip(
            PATH_COLUMN, f"{display_path(_path_of(item))}\n{ROLE_NAMES[role]}: {ROLE_HELP[role]}"
        )

    def _show_menu(self, position: QPoint) -> None:
        item = self._tree.itemAt(position) or self._tree.currentItem()
        if item is None:
            return
        if self._tree.itemAt(position) is None:  # from the keyboard: at the current row
            position = self._tree.visualItemRect(item).center()
        path = _path_of(item)
        menu = QMenu(self)
        for role, name in ROLE_NAMES.items():
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(_role_of(item) is role)
            action.setToolTip(ROLE_HELP[role])
            action.triggered.connect(lambda _=False, r=role: self.set_role(path, r))
        menu.addSeparator()
        subfolder = menu.addAction("Add a subfolder with its own role…")
        subfolder.setEnabled(Path(path).is_dir())
        subfolder.triggered.connect(lambda: self.add_subfolder_requested.emit(path))
        menu.addAction("Remove").triggered.connect(lambda: self._remove([item]))
        menu.popup(self._tree.viewport().mapToGlobal(position))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete in the folder list removes the selected folders: claimed before the
        window's Delete shortcut (Move to Trash) can see it. F2 opens the current row's
        role box."""
        if watched is self._tree and isinstance(event, QKeyEvent):
            if event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and (
                event.matches(QKeySequence.StandardKey.Delete)
            ):
                if event.type() == QEvent.Type.KeyPress:
                    self.remove_selected()
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_F2:
                item = self._tree.currentItem()
                box = self._role_box(item) if item is not None else None
                if box is not None:
                    box.setFocus()
                    box.showPopup()
                    return True
        return super().eventFilter(watched, event)

    def _role_box(self, item: QTreeWidgetItem) -> RoleBox | None:
        box = self._tree.itemWidget(item, ROLE_COLUMN)
        return box if isinstance(box, RoleBox) else None

    def _item_for(self, path: str) -> QTreeWidgetItem | None:
        return next((item for item in self._items() if _path_of(item) == path), None)

    def _top_level(self) -> list[QTreeWidgetItem]:
        return [self._tree.topLevelItem(i) for i in range(self._tree.topLevelItemCount())]

    def _children(self, parent: QTreeWidgetItem | None) -> list[QTreeWidgetItem]:
        if parent is None:
            return self._top_level()
        return [parent.child(i) for i in range(parent.childCount())]

    def _items(self) -> list[QTreeWidgetItem]:
        """Every row, each parent before its nested rows."""
        return [item for top in self._top_level() for item in self._subtree(top)]

    def _subtree(self, item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
        rows = [item]
        for child in self._children(item):
            rows.extend(self._subtree(child))
        return rows

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self._tree.selectedItems()))


class RoleBox(QComboBox):
    """A row's role: Normal, Protected or Excluded, each with its own mark and colour."""

    role_changed = Signal(object)
    """FolderRole"""

    def __init__(self, role: FolderRole, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for each, name in ROLE_NAMES.items():
            self.addItem(role_icon(each), name, each.value)
            self.setItemData(self.count() - 1, ROLE_HELP[each], Qt.ItemDataRole.ToolTipRole)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._plain_text = self.palette().color(QPalette.ColorRole.ButtonText)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.set_role(role)
        self._show(role)
        self.currentIndexChanged.connect(self._on_index_changed)

    def role(self) -> FolderRole:
        return FolderRole(self.currentData())

    def set_role(self, role: FolderRole) -> None:
        self.setCurrentIndex(self.findData(role.value))

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()  # scrolling the list must not change a folder's role on the way

    def _on_index_changed(self, _index: int) -> None:
        self._show(self.role())
        self.role_changed.emit(self.role())

    def _show(self, role: FolderRole) -> None:
        colour = {FolderRole.PROTECTED: REFERENCE_COLOUR, FolderRole.EXCLUDED: EXCLUDED_COLOUR}
        palette = self.palette()
        text = colour.get(role, self._plain_text)
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.ButtonText, text)
            palette.setColor(group, QPalette.ColorRole.Text, text)
        self.setPalette(palette)
        self.setToolTip(f"{ROLE_NAMES[role]}: {ROLE_HELP[role]}")


def role_icon(role: FolderRole, side: int = 14) -> QIcon:
    """A mark beside the role's name: a filled check for Protected, a barred circle for
    Excluded, an empty circle for Normal (the name says it too: never colour alone)."""
    pixmap = QPixmap(side * 2, side * 2)  # drawn at 2x: sharp on high-DPI screens
    pixmap.setDevicePixelRatio(2)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    inset = 1.5
    size = side - 2 * inset
    if role is FolderRole.PROTECTED:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(REFERENCE_COLOUR)
        painter.drawRoundedRect(inset, inset, size, size, 3, 3)
        check = QPainterPath(QPointF(side * 0.28, side * 0.52))
        check.lineTo(side * 0.44, side * 0.68)
        check.lineTo(side * 0.74, side * 0.34)
        painter.setPen(QPen(Qt.GlobalColor.white, 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(check)
    elif role is FolderRole.EXCLUDED:
        painter.setPen(QPen(EXCLUDED_COLOUR, 1.6))
        painter.drawEllipse(QPointF(side / 2, side / 2), size / 2, size / 2)
        offset = size / 2 * 0.7071
        painter.drawLine(
            QPointF(side / 2 - offset, side / 2 + offset),
            QPointF(side / 2 + offset, side / 2 - offset),
        )
    else:
        painter.setPen(QPen(QColor(140, 149, 159), 1.4))
        painter.drawEllipse(QPointF(side / 2, side / 2), size / 2 - 0.5, size / 2 - 0.5)
    painter.end()
    return QIcon(pixmap)


def _path_of(item: QTreeWidgetItem) -> str:
    return os.fsdecode(bytes(item.data(PATH_COLUMN, Qt.ItemDataRole.UserRole)))


def _role_of(item: QTreeWidgetItem) -> FolderRole:
    return FolderRole(item.data(ROLE_COLUMN, Qt.ItemDataRole.UserRole))


def _ancestors(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    parents = []
    parent = item.parent()
    while parent is not None:
        parents.append(parent)
        parent = parent.parent()
    return parents


def _is_inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)
