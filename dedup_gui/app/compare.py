"""Side-by-side review of one group: the keeper against any other member, zoom and pan in
step, and a metadata table that highlights what differs."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app import desktop
from dedup_gui.app.formatting import (
    format_bytes,
    format_capture_time,
    format_dimensions,
    format_mtime,
    format_percent,
)
from dedup_gui.app.full_images import FullImageProvider
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import KEEP_COLOUR, TRASH_COLOUR
from dedup_gui.app.metadata_table import MetadataTable, breakable_path
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.app.zoom_view import ZoomView
from dedup_gui.core.models import DuplicateGroup, GroupMember, MatchKind

DIFFERENCE_COLOUR = QColor(255, 214, 102)
METADATA_ROWS = ("Dimensions", "File size", "Format", "Captured", "Modified", "Full path")


def metadata_values(member: GroupMember) -> tuple[str, ...]:
    record = member.record
    return (
        format_dimensions(record.width, record.height),
        format_bytes(record.size),
        record.format,
        format_capture_time(record.capture_time),
        format_mtime(record.mtime_ns),
        record.path,
    )


def differs_from_keeper(row: int, value: str, keeper_value: str) -> bool:
    """Paths always differ; a path is highlighted only when its folder does."""
    if METADATA_ROWS[row] == "Full path":
        return Path(value).parent != Path(keeper_value).parent
    return value != keeper_value


class ImagePane(QWidget):
    toggle_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        # A long file name cannot wrap; without this it would widen the window past the screen.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.view = ZoomView(self)
        self.view.setMinimumSize(160, 120)
        self.mark_button = QPushButton(self)
        self.mark_button.setToolTip("Keep this file, or mark it for the trash (Space)")
        self.mark_button.clicked.connect(self.toggle_requested)
        self.open_button = QPushButton("Open", self)
        self.open_button.clicked.connect(lambda: desktop.open_file(self._path))
        self.folder_button = QPushButton("Show in Folder", self)
        self.folder_button.clicked.connect(lambda: desktop.show_in_folder(self._path))
        buttons = QHBoxLayout()
        buttons.addWidget(self.mark_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._path = ""

    def path(self) -> str:
        return self._path

    def show_member(self, member: GroupMember, index: int, kept: bool, is_keeper: bool) -> None:
        self._path = member.record.path
        name = Path(member.record.path).name
        if is_keeper:
            role = "★ Suggested keeper"
            if member.keep_reason:
                role += f" <span style='color:#57606a'>({html.escape(member.keep_reason)})</span>"
        elif member.match is MatchKind.EXACT:
            role = "Exact copy"
        elif member.match is MatchKind.SAME_PIXELS:
            role = "Same pixels"
        elif member.match is MatchKind.DEEP and member.deep is not None:
            role = f"{member.deep.kind.capitalize()}, {format_percent(member.similarity)} similar"
        else:
            role = f"{format_percent(member.similarity)} similar"
        reference = " · <span style='color:#0969da'>protected</span>" if member.is_reference else ""
        self.title.setText(f"<b>{index + 1}. {name}</b> — {role}{reference}")
        self.title.setToolTip(member.record.path)
        colour = KEEP_COLOUR if kept else TRASH_COLOUR
        self.mark_button.setText("✓ Keep" if kept else "✗ Trash")
        self.mark_button.setStyleSheet(
            f"QPushButton {{ color: white; background: {colour.name()}; font-weight: bold;"
            " padding: 4px 14px; border-radius: 4px; }"
        )


class CompareView(QWidget):
    """Left: the group's keeper; right: the current member (navigable)."""

    toggle_requested = Signal(int, int)
    """(row, member index)"""
    navigate_requested = Signal(int)
    """-1 / +1: previous / next image of the group."""
    not_duplicates_requested = Signal(int, int, int)
    """(row, member index, member index): the user says the two shown are different."""

    def __init__(self, thumbnails: ThumbnailProvider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._full_images = FullImageProvider(self)
        self._full_images.ready.connect(self._on_image_ready)
        self._full_images.failed.connect(self._on_image_failed)
        thumbnails.ready.connect(self._on_image_ready)
        self._model: GroupListModel | None = None
        self._row = -1
        self._members: tuple[int, int] = (0, 0)
        self._scene_width = 1

        self.placeholder = QLabel("Select a group to compare its images side by side.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: palette(placeholder-text); font-size: 14px;")

        self.previous_button = QPushButton("◀ Previous", self)
        self.previous_button.setToolTip("Previous image of the group (Left)")
        self.previous_button.clicked.connect(lambda: self.navigate_requested.emit(-1))
        self.next_button = QPushButton("Next ▶", self)
        self.next_button.setToolTip("Next image of the group (Right)")
        self.next_button.clicked.connect(lambda: self.navigate_requested.emit(1))
        self.position_label = QLabel(self)
        self.fit_button = QPushButton("Fit", self)
        self.fit_button.clicked.connect(self.zoom_to_fit)
        self.actual_size_button = QPushButton("1:1", self)
        self.actual_size_button.setToolTip(
            "Actual pixels of the larger image; a smaller copy is enlarged to show the same detail"
        )
        self.actual_size_button.clicked.connect(self.zoom_actual_size)
        self.not_duplicates_button = QPushButton("Not Duplicates", self)
        self.not_duplicates_button.setToolTip(
            "These two are different photos: never group them again (Edit → Not Duplicates "
            "List… undoes it)"
        )
        self.not_duplicates_button.clicked.connect(self._on_not_duplicates)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.previous_button)
        toolbar.addWidget(self.position_label)
        toolbar.addWidget(self.next_button)
        toolbar.addSpacing(12)
        toolbar.addWidget(self.not_duplicates_button)
        toolbar.addStretch(1)
        toolbar.addWidget(QLabel("Zoom:", self))
        toolbar.addWidget(self.fit_button)
        toolbar.addWidget(self.actual_size_button)

        self.panes = (ImagePane(self), ImagePane(self))
        images = QSplitter(Qt.Orientation.Horizontal, self)
        for side, pane in enumerate(self.panes):
            images.addWidget(pane)
            pane.toggle_requested.connect(lambda side=side: self._toggle(side))
            pane.view.zoom_requested.connect(self._zoom_all)
            pane.view.panned.connect(lambda x, y, side=side: self._pan_others(side, x, y))

        self.table = MetadataTable(
            list(METADATA_ROWS), {METADATA_ROWS.index("Full path")}, self
        )
        self.table.setAccessibleName("Metadata of the group's images")

        self.content = QWidget(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self.content)
        self.splitter.addWidget(images)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(1, False)
        content_layout = QVBoxLayout(self.content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(toolbar)
        content_layout.addWidget(self.splitter, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.content, 1)
        self.clear()

    def clear(self) -> None:
        self._row = -1
        self.content.hide()
        self.placeholder.show()

    def shown_paths(self) -> tuple[str, str]:
        return self.panes[0].path(), self.panes[1].path()

    def show_group(self, model: GroupListModel, row: int, current_member: int) -> None:
        if not 0 <= row < model.rowCount():
            self.clear()
            return
        group = model.group(row)
        self._model = model
        self._row = row
        other = current_member if current_member > 0 else 1
        self._members = (0, min(other, len(group.members) - 1))
        self._scene_width = max(group.members[i].record.width for i in self._members)
        self.placeholder.hide()
        self.content.show()
        count = len(group.members)
        self.position_label.setText(f"Comparing 1 with {self._members[1] + 1} of {count}")
        self.previous_button.setEnabled(self._members[1] > 1)
        self.next_button.setEnabled(self._members[1] < len(group.members) - 1)
        self._refresh_panes(group)
        self._fill_table(group)

    def refresh_marks(self) -> None:
        if self._model is not None and 0 <= self._row < self._model.rowCount():
            group = self._model.group(self._row)
            self._refresh_panes(group, images=False)
            self._fill_table(group)

    def zoom_to_fit(self) -> None:
        for pane in self.panes:
            pane.view.fit()

    def zoom_actual_size(self) -> None:
        """One image pixel per screen pixel, also on high-DPI screens."""
        for pane in self.panes:
            pane.view.set_scale(1.0 / pane.view.devicePixelRatioF())

    def _refresh_panes(self, group: DuplicateGroup, *, images: bool = True) -> None:
        assert self._model is not None
        for pane, member_index in zip(self.panes, self._members, strict=True):
            member = group.members[member_index]
            pane.show_member(
                member, member_index, self._model.is_kept(member), is_keeper=member_index == 0
            )
            if images:
                self._show_image(pane, member)
        self._outline_deep_match(group.members[self._members[1]])

    def _outline_deep_match(self, member: GroupMember) -> None:
        """A deep match: outline where the smaller copy lies in the larger image."""
        deep = member.deep
        on_keeper = deep is not None and deep.region_in_keeper
        self.panes[0].view.set_outline(deep.region if deep is not None and on_keeper else None)
        self.panes[1].view.set_outline(deep.region if deep is not None and not on_keeper else None)

    def _show_image(self, pane: ImagePane, member: GroupMember) -> None:
        """Every pane's scene is as wide as the widest image shown, so equal zoom and pan show
        the same detail side by side: at 1:1 the larger image is at actual pixels and a
        smaller copy is enlarged to match, which is what makes its loss of detail visible."""
        record = member.record
        pixmap = self._full_images.pixmap(record) or self._thumbnails.pixmap(record)
        scale = self._scene_width / max(1, record.width)
        pane.view.set_pixmap(pixmap, record.width * scale, record.height * scale)

    def _fill_table(self, group: DuplicateGroup) -> None:
        assert self._model is not None
        self.table.setColumnCount(len(group.members))
        keeper_values = metadata_values(group.keeper)
        bold = QFont(self.table.font())
        bold.setBold(True)
        headers = []
        for column, member in enumerate(group.members):
            kept = self._model.is_kept(member)
            mark = "keep" if kept else "trash"
            headers.append(f"★ {column + 1}. keeper ({mark})" if column == 0
                           else f"{column + 1}. {mark}")
            for row, value in enumerate(metadata_values(member)):
                is_path = METADATA_ROWS[row] == "Full path"
                item = QTableWidgetItem(breakable_path(value) if is_path else value)
                item.setToolTip(value)
                if column > 0 and differs_from_keeper(row, value, keeper_values[row]):
                    item.setBackground(QBrush(DIFFERENCE_COLOUR))
                    item.setForeground(QBrush(QColor("black")))
                    item.setFont(bold)
                self.table.setItem(row, column, item)
        self.table.setHorizontalHeaderLabels(headers)
        for column, member in enumerate(group.members):
            header = self.table.horizontalHeaderItem(column)
            if header is not None:
                kept = self._model.is_kept(member)
                header.setForeground(QBrush(KEEP_COLOUR if kept else TRASH_COLOUR))
                if column in self._members:
                    header.setFont(bold)
        self.table.fit_columns()

    def _toggle(self, side: int) -> None:
        if self._row >= 0:
            self.toggle_requested.emit(self._row, self._members[side])

    def _on_not_duplicates(self) -> None:
        if self._row >= 0 and self._members[0] != self._members[1]:
            self.not_duplicates_requested.emit(self._row, *self._members)

    def _zoom_all(self, factor: float) -> None:
        for pane in self.panes:
            pane.view.zoom_by(factor)

    def _pan_others(self, source: int, x: float, y: float) -> None:
        for side, pane in enumerate(self.panes):
            if side != source:
                pane.view.pan_to(x, y)

    def _on_image_ready(self, path: str) -> None:
        if self._model is None or self._row < 0 or path not in self.shown_paths():
            return
        group = self._model.group(self._row)
        for pane, member_index in zip(self.panes, self._members, strict=True):
            member = group.members[member_index]
            if member.record.path == path:
                self._show_image(pane, member)

    def _on_image_failed(self, path: str, message: str) -> None:
        for pane in self.panes:
            if pane.path() == path:
                pane.title.setText(pane.title.text() + f"<br><span style='color:#cf222e'>"
                                   f"Cannot show this image: {message}</span>")
