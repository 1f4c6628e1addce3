"""The Rule Chain dialog: order the keeper rules (drag and drop, or Move Up/Down), list the
folders and formats to prefer, then apply the chain to all or the selected groups."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app import dialogs
from dedup_gui.app.paths import display_path
from dedup_gui.core.grouping.keeper import (
    DEFAULT_FORMAT_ORDER,
    DEFAULT_KEEPER_RULES,
    ChainRule,
    KeeperRule,
    RuleOrder,
    rule_kind,
)

RULE_LABELS: dict[KeeperRule, str] = {
    KeeperRule.RAW_FIRST: "Camera RAW before JPEG or HEIC",
    KeeperRule.ORIGINAL: "The original (not resized, edited or re-saved)",
    KeeperRule.RESOLUTION: "Most pixels",
    KeeperRule.FILE_SIZE: "Largest file",
    KeeperRule.CAPTURE_DATE: "Earliest capture date",
    KeeperRule.MODIFICATION_DATE: "Earliest modification date",
    KeeperRule.SHORTER_PATH: "Shortest path",
    KeeperRule.FOLDER_PRIORITY: "In the folder listed first (Folder priority)",
    KeeperRule.FORMAT_PREFERENCE: "In the format listed first (Format preference)",
}
ORDERABLE = tuple(RULE_LABELS)
KNOWN_FORMATS = (*DEFAULT_FORMAT_ORDER, "GIF", "BMP")
_RULE_ROLE = Qt.ItemDataRole.UserRole
_PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def full_chain(chain: Sequence[ChainRule]) -> list[tuple[KeeperRule, bool]]:
    """Every orderable rule with whether `chain` uses it: those in the chain in its order,
    then the unused ones."""
    used = [rule_kind(r) for r in chain if rule_kind(r) in RULE_LABELS]
    return [(r, True) for r in used] + [(r, False) for r in ORDERABLE if r not in used]


class _OrderedList(QWidget):
    """A list the user reorders by drag and drop or with Move Up / Move Down."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setAccessibleName(title)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.up_button = QPushButton("Move Up", self)
        self.down_button = QPushButton("Move Down", self)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.buttons = QVBoxLayout()
        self.buttons.addWidget(self.up_button)
        self.buttons.addWidget(self.down_button)
        self.buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(self.buttons)

    def move_current(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    def items(self) -> list[QListWidgetItem]:
        return [self.list.item(row) for row in range(self.list.count())]


class RuleChainDialog(QDialog):
    """`apply_requested(all_groups)` when an Apply button is clicked; `chain()` is what the
    user set up."""

    apply_requested = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ruleChainDialog")
        self.setWindowTitle("Rule Chain")
        self.resize(860, 520)

        fixed = QLabel("1. In a protected folder — always first; protected copies are always "
                       "kept", self)
        fixed.setEnabled(False)
        self.rules = _OrderedList("Keeper rules, first decides", self)
        self.rules.list.setToolTip("Drag to reorder; untick a rule to leave it out")
        rules_box = QGroupBox("Keep the copy that is…  (the first rule that tells the copies "
                              "apart decides)", self)
        rules_layout = QVBoxLayout(rules_box)
        rules_layout.addWidget(fixed)
        rules_layout.addWidget(self.rules, 1)

        self.folders = _OrderedList("Folder priority", self)
        self.folders.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.folders.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.add_folder_button = QPushButton("Add Folder…", self)
        self.remove_folder_button = QPushButton("Remove", self)
        self.add_folder_button.clicked.connect(self._add_folder_from_dialog)
        self.remove_folder_button.clicked.connect(self._remove_folder)
        self.folders.buttons.insertWidget(0, self.add_folder_button)
        self.folders.buttons.insertWidget(1, self.remove_folder_button)
        folders_box = QGroupBox("Folder priority (a copy in a folder higher up wins)", self)
        QVBoxLayout(folders_box).addWidget(self.folders)

        self.formats = _OrderedList("Format preference", self)
        formats_box = QGroupBox("Format preference (higher up wins)", self)
        QVBoxLayout(formats_box).addWidget(self.formats)

        self.use_as_suggestion = QCheckBox(
            "Use this chain for the suggested keeper of every group (after a scan too)", self
        )
        self.apply_selected_button = QPushButton("Apply to Selected Groups", self)
        self.apply_all_button = QPushButton("Apply to All Groups", self)
        self.apply_all_button.setDefault(True)
        close = QPushButton("Close", self)
        self.apply_selected_button.clicked.connect(lambda: self.apply_requested.emit(False))
        self.apply_all_button.clicked.connect(lambda: self.apply_requested.emit(True))
        close.clicked.connect(self.close)
        explanation = QLabel(
            "Applying keeps the copy the rules choose and marks the others for the trash in "
            "those groups; your marks in other groups stay as they are.", self
        )
        explanation.setWordWrap(True)

        grid = QGridLayout()
        grid.addWidget(rules_box, 0, 0, 2, 1)
        grid.addWidget(folders_box, 0, 1)
        grid.addWidget(formats_box, 1, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_as_suggestion)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_selected_button)
        buttons.addWidget(self.apply_all_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(grid, 1)
        layout.addWidget(explanation)
        layout.addLayout(buttons)
        self.set_chain(DEFAULT_KEEPER_RULES)

    # The chain
    def set_chain(self, chain: Sequence[ChainRule]) -> None:
        self.rules.list.clear()
        for rule, used in full_chain(chain):
            item = QListWidgetItem(RULE_LABELS[rule])
            item.setData(_RULE_ROLE, rule.value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
            item.setCheckState(Qt.CheckState.Checked if used else Qt.CheckState.Unchecked)
            self.rules.list.addItem(item)
        self.rules.list.setCurrentRow(0)
        orders = {r.rule: r.order for r in chain if isinstance(r, RuleOrder)}
        self.set_folders(orders.get(KeeperRule.FOLDER_PRIORITY, ()))
        formats = orders.get(KeeperRule.FORMAT_PREFERENCE, DEFAULT_FORMAT_ORDER)
        self.formats.list.clear()
        for name in (*formats, *(f for f in KNOWN_FORMATS if f not in formats)):
            self.formats.list.addItem(_plain_item(name, name))

    def chain(self) -> tuple[ChainRule, ...]:
        chain: list[ChainRule] = [KeeperRule.REFERENCE_FOLDER]
        for item in self.rules.items():
            if item.checkState() != Qt.CheckState.Checked:
                continue
            rule = KeeperRule(item.data(_RULE_ROLE))
            if rule is KeeperRule.FOLDER_PRIORITY:
                chain.append(RuleOrder(rule, self.folder_order()))
            elif rule is KeeperRule.FORMAT_PREFERENCE:
                chain.append(RuleOrder(rule, self.format_order()))
            else:
                chain.append(rule)
        return tuple(chain)

    def rule_order(self) -> list[KeeperRule]:
        """The rules as listed, ticked or not."""
        return [KeeperRule(item.data(_RULE_ROLE)) for item in self.rules.items()]

    def folder_order(self) -> tuple[str, ...]:
        return tuple(str(item.data(_PATH_ROLE)) for item in self.folders.items())

    def format_order(self) -> tuple[str, ...]:
        return tuple(str(item.data(_PATH_ROLE)) for item in self.formats.items())

    def set_folders(self, folders: Sequence[str]) -> None:
        self.folders.list.clear()
        for folder in folders:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        folder = os.path.normpath(os.path.abspath(folder))  # noqa: PTH100
        if folder not in self.folder_order():
            self.folders.list.addItem(_plain_item(display_path(folder), folder))
        self._tick(KeeperRule.FOLDER_PRIORITY)

    def _tick(self, rule: KeeperRule) -> None:
        """A list the user fills in is a rule the user wants used."""
        for item in self.rules.items():
            if item.data(_RULE_ROLE) == rule.value:
                item.setCheckState(Qt.CheckState.Checked)

    def _add_folder_from_dialog(self) -> None:
        folder = dialogs.choose_folder(self, "Add a folder to prefer")
        if folder:
            self.add_folder(folder)

    def _remove_folder(self) -> None:
        row = self.folders.list.currentRow()
        if row >= 0:
            self.folders.list.takeItem(row)


def _plain_item(text: str, value: str) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setData(_PATH_ROLE, value)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
    return item
