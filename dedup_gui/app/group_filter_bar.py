"""The compact bar above the groups: sort by, and which groups to show."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from dedup_gui.app import dialogs
from dedup_gui.app.paths import display_path
from dedup_gui.core.decisions.group_order import GroupFilter, GroupKind, GroupSort

SORTS: tuple[tuple[str, GroupSort], ...] = (
    ("Space saved", GroupSort.SPACE_SAVED),
    ("Number of copies", GroupSort.COPIES),
    ("Least similar", GroupSort.SIMILARITY),
    ("Folder", GroupSort.FOLDER),
    ("Newest date", GroupSort.DATE),
)
KINDS: tuple[tuple[str, GroupKind], ...] = (
    ("All matches", GroupKind.ANY),
    ("Exact copies", GroupKind.EXACT),
    ("Visual matches", GroupKind.VISUAL),
)


class GroupFilterBar(QWidget):
    """`changed` fires whenever the sort or a filter changes; `sort()` and `group_filter()`
    say what they are."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("groupFilterBar")
        self._folder: str | None = None

        self.sort_box = QComboBox(self)
        self.sort_box.setAccessibleName("Sort groups by")
        for label, sort in SORTS:
            self.sort_box.addItem(label, sort.value)
        self.kind_box = QComboBox(self)
        self.kind_box.setAccessibleName("Show matches")
        for label, kind in KINDS:
            self.kind_box.addItem(label, kind.value)

        self.min_similarity = self._percent_box("Least similarity shown", 0)
        self.max_similarity = self._percent_box("Most similarity shown", 100)
        self.folder_button = QToolButton(self)
        self.folder_button.setText("Any folder")
        self.folder_button.setToolTip("Only groups with a copy inside a folder (click to choose)")
        self.folder_button.clicked.connect(self._choose_folder)
        self.clear_folder_button = QToolButton(self)
        self.clear_folder_button.setText("✕")
        self.clear_folder_button.setToolTip("Show groups in any folder")
        self.clear_folder_button.setAccessibleName("Any folder")
        self.clear_folder_button.clicked.connect(lambda: self.set_folder(None))
        self.clear_folder_button.hide()
        self.unreviewed_box = QCheckBox("Only groups I have not reviewed", self)
        self.unreviewed_box.setToolTip("Hide the groups you have reviewed")

        # The rarer filters live in a drop-down, so the bar stays one short line.
        self.more_button = QToolButton(self)
        self.more_button.setText("More Filters")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more_menu = QMenu(self.more_button)
        panel = QWidget(more_menu)
        form = QFormLayout(panel)
        similarity = QHBoxLayout()
        similarity.addWidget(self.min_similarity)
        similarity.addWidget(QLabel("to", panel))
        similarity.addWidget(self.max_similarity)
        form.addRow("Least similar copy:", similarity)
        folder = QHBoxLayout()
        folder.addWidget(self.folder_button, 1)
        folder.addWidget(self.clear_folder_button)
        form.addRow("With a copy in:", folder)
        form.addRow(self.unreviewed_box)
        holder = QWidgetAction(more_menu)
        holder.setDefaultWidget(panel)
        more_menu.addAction(holder)
        self.more_button.setMenu(more_menu)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(6)
        layout.addWidget(QLabel("Sort:", self))
        layout.addWidget(self.sort_box)
        layout.addSpacing(8)
        layout.addWidget(QLabel("Show:", self))
        layout.addWidget(self.kind_box)
        layout.addWidget(self.more_button)
        self.shown_label = QLabel(self)
        self.shown_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.shown_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.shown_label, 1)

        self.sort_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.kind_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.min_similarity.valueChanged.connect(self._on_range_changed)
        self.max_similarity.valueChanged.connect(self._on_range_changed)
        self.unreviewed_box.toggled.connect(self._on_unreviewed_toggled)

    def _percent_box(self, name: str, value: int) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(0, 100)
        box.setValue(value)
        box.setSuffix("%")
        box.setAccessibleName(name)
        box.setKeyboardTracking(False)
        return box

    def sort(self) -> GroupSort:
        return GroupSort(self.sort_box.currentData())

    def set_sort(self, sort: GroupSort) -> None:
        self.sort_box.setCurrentIndex(self.sort_box.findData(sort.value))

    def group_filter(self) -> GroupFilter:
        return GroupFilter(
            folder=self._folder,
            kind=GroupKind(self.kind_box.currentData()),
            min_similarity=float(self.min_similarity.value()),
            max_similarity=float(self.max_similarity.value()),
            only_unreviewed=self.unreviewed_box.isChecked(),
        )

    def set_kind(self, kind: GroupKind) -> None:
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind.value))

    def set_folder(self, folder: str | None) -> None:
        self._folder = os.path.normpath(folder) if folder else None
        if self._folder:
            name = os.path.basename(self._folder) or self._folder  # noqa: PTH119
            self.folder_button.setText(f"In “{display_path(name)}”")
            self.folder_button.setToolTip(display_path(self._folder))
        else:
            self.folder_button.setText("Any folder")
            self.folder_button.setToolTip(
                "Only groups with a copy inside a folder (click to choose)"
            )
        self.clear_folder_button.setVisible(bool(self._folder))
        self._show_active_filters()
        self.changed.emit()

    def _show_active_filters(self) -> None:
        active = sum((
            self._folder is not None,
            self.min_similarity.value() > 0 or self.max_similarity.value() < 100,
            self.unreviewed_box.isChecked(),
        ))
        self.more_button.setText(f"More Filters ({active})" if active else "More Filters")

    def show_counts(self, shown: int, total: int) -> None:
        self.shown_label.setText(
            f"{shown:,} of {total:,} groups shown" if shown != total else ""
        )

    def _on_unreviewed_toggled(self, _checked: bool) -> None:
        self._show_active_filters()
        self.changed.emit()

    def _choose_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Show the groups with a copy in", self._folder or "")
        if folder:
            self.set_folder(folder)

    def _on_range_changed(self) -> None:
        low, high = self.min_similarity.value(), self.max_similarity.value()
        if low > high:  # the other end follows, so the range is never empty by accident
            sender = self.sender()
            other = self.max_similarity if sender is self.min_similarity else self.min_similarity
            other.blockSignals(True)
            other.setValue(low if other is self.max_similarity else high)
            other.blockSignals(False)
        self._show_active_filters()
        self.changed.emit()
