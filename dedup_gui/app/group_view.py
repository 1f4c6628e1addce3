"""The groups list: a QListView whose delegate paints each group as a row of thumbnails."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from dedup_gui.app.formatting import (
    format_bytes,
    format_count,
    format_dimensions,
    format_percent,
)
from dedup_gui.app.group_model import GROUP_ROLE, GroupListModel
from dedup_gui.app.pair_items import (
    Item,
    half_badge,
    pair_badge,
    pair_name,
    pair_sizes,
    pair_tooltip,
    row_items,
)
from dedup_gui.app.paths import display_path
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.core.models import DuplicateGroup, GroupMember, MatchKind

THUMB_SIDE = 150
CELL_WIDTH = THUMB_SIDE + 12
CELL_GAP = 8
MARGIN = 8
HEADER_HEIGHT = 24
CAPTION_LINE = 17
CAPTION_HEIGHT = 4 * CAPTION_LINE + 4
"""Under each thumbnail: file name, folder, dimensions and size, similarity."""
ROW_HEIGHT = MARGIN + HEADER_HEIGHT + THUMB_SIDE + CAPTION_HEIGHT + MARGIN

KEEP_COLOUR = QColor(46, 160, 67)
TRASH_COLOUR = QColor(207, 34, 46)
REFERENCE_COLOUR = QColor(9, 105, 218)
PAIR_COLOUR = QColor(110, 84, 148)
REVIEWED_COLOUR = QColor(130, 80, 223)
REVIEWED_TAG = "✓ Reviewed"

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class RowHeader:
    """What a group row's header says (GroupDelegate.header)."""

    title: str
    """Bold, on the left."""
    kind: str
    """Grey, on the right: the kind of match."""
    alert: str = ""
    """In red after the title (e.g. every copy is marked for the trash)."""
    reviewed: bool = False
    """The "✓ Reviewed" tag left of the kind."""


@dataclass(frozen=True, slots=True)
class Caption:
    """The four lines under a thumbnail (GroupDelegate.caption), each fitted to the cell."""

    lines: tuple[str, str, str, str]
    """Name, folder, dimensions and size, note."""
    highlight_note: bool = False
    """The note in the highlight colour instead of grey."""


@dataclass(frozen=True, slots=True)
class RowLayout:
    """Where each visible member of one row is drawn."""

    cells: tuple[tuple[int, QRect], ...]
    """(member index, cell rectangle) for the items shown; a folded RAW+JPEG pair's cell
    names the RAW."""
    more_cell: QRect | None
    hidden: int
    folded: dict[int, int] = field(default_factory=dict)
    """RAW member index -> its companion's, for the pairs shown as one item."""


def visible_members(count: int, fits: int, current: int) -> tuple[range, int]:
    """The members shown in a row that fits `fits` cells, scrolled so `current` is visible,
    and how many are hidden (shown as a "+N more" cell)."""
    if count <= fits:
        return range(count), 0
    slots = max(1, fits - 1)
    start = min(max(0, current - slots + 1), count - slots)
    return range(start, start + slots), count - slots


def row_layout(
    rect: QRect, count: int, current: int, items: tuple[Item, ...] | None = None
) -> RowLayout:
    """Cells for `count` members, or for `items` (row_items: pairs folded), scrolled so the
    item holding member `current` is visible."""
    if items is None:
        items = tuple((index,) for index in range(count))
    position = next((k for k, item in enumerate(items) if current in item), 0)
    fits = max(1, (rect.width() - 2 * MARGIN + CELL_GAP) // (CELL_WIDTH + CELL_GAP))
    shown, hidden = visible_members(len(items), fits, position)
    top = rect.top() + MARGIN + HEADER_HEIGHT
    cells = []
    for slot, item_index in enumerate(shown):
        left = rect.left() + MARGIN + slot * (CELL_WIDTH + CELL_GAP)
        cells.append((items[item_index][0],
                      QRect(left, top, CELL_WIDTH, THUMB_SIDE + CAPTION_HEIGHT)))
    more = None
    if hidden:
        left = rect.left() + MARGIN + len(shown) * (CELL_WIDTH + CELL_GAP)
        more = QRect(left, top, CELL_WIDTH, THUMB_SIDE)
    folded = {items[k][0]: items[k][1] for k in shown if len(items[k]) == 2}
    return RowLayout(tuple(cells), more, hidden, folded)


def group_row_layout(
    rect: QRect, group: DuplicateGroup, model: GroupListModel, current: int
) -> RowLayout:
    return row_layout(rect, len(group.members), current, row_items(group, model.is_kept))


def thumb_rect(cell: QRect) -> QRect:
    return QRect(cell.left() + 6, cell.top(), THUMB_SIDE, THUMB_SIDE)


def badge_rect(cell: QRect) -> QRect:
    thumb = thumb_rect(cell)
    return QRect(thumb.left() + 4, thumb.bottom() - 24, 64, 20)


class GroupDelegate(QStyledItemDelegate):
    def __init__(self, view: GroupListView, thumbnails: ThumbnailProvider) -> None:
        super().__init__(view)
        self._view = view
        self._thumbnails = thumbnails
        self._captions: dict[tuple[object, ...], tuple[object, Caption]] = {}
        """Fitted caption lines of the photos painted lately: eliding four lines a photo
        on every frame of a scroll costs more than drawing them."""

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        # The list stretches rows to its width; asking for one cell never forces a
        # horizontal scroll bar (extra images fold into "+N more").
        return QSize(CELL_WIDTH + 2 * MARGIN, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        group: DuplicateGroup = index.data(GROUP_ROLE)
        model = index.model()
        if group is None or not isinstance(model, GroupListModel):
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if index.row() % 2:  # even rows show the view's own background (Base)
            painter.fillRect(rect, palette.alternateBase())
        if selected:
            tint = QColor(palette.highlight().color())
            tint.setAlpha(45)
            painter.fillRect(rect, tint)
            painter.fillRect(QRect(rect.left(), rect.top(), 4, rect.height()), palette.highlight())

        self._paint_header(painter, option, group, model, index.row())
        current = self._view.current_member() if selected else 0
        layout = group_row_layout(rect, group, model, current)
        for member_index, cell in layout.cells:
            member = group.members[member_index]
            companion_index = layout.folded.get(member_index)
            companion = None if companion_index is None else group.members[companion_index]
            self._paint_member(
                painter, option, cell, member, member_index, model.is_kept(member),
                focused=selected and current in (member_index, companion_index),
                companion=(companion_index, companion) if companion is not None else None,
            )
        if layout.more_cell is not None:
            painter.setPen(palette.placeholderText().color())
            font = QFont(option.font)
            font.setPointSizeF(font.pointSizeF() * 1.3)
            painter.setFont(font)
            painter.drawText(
                layout.more_cell, Qt.AlignmentFlag.AlignCenter, f"+{layout.hidden} more"
            )
        painter.restore()

    def header(self, group: DuplicateGroup, model: GroupListModel, row: int) -> RowHeader:
        """What row `row`'s header says; a subclass overrides it to say something else."""
        marked = [m for m in group.members if not model.is_kept(m)]
        freed = sum(m.record.size for m in marked)
        title = (
            f"{format_count(len(group.members), 'image')}  ·  {len(marked)} to trash  ·  "
            f"{format_bytes(freed)} to free"
        )
        if group.is_raw_pair and not marked:
            title = "2 images  ·  both kept (a RAW and its JPEG are not copies)"
        kind = "exact copies" if group.kind is MatchKind.EXACT else "look alike"
        kind = "RAW+JPEG pair" if group.is_raw_pair else kind
        alert = "Every copy is marked for the trash" if len(marked) == len(group.members) else ""
        return RowHeader(title, kind, alert, reviewed=model.is_reviewed(row))

    def caption(
        self,
        member: GroupMember,
        member_index: int,
        metrics: QFontMetrics,
        width: int,
        companion: tuple[int, GroupMember] | None = None,
    ) -> Caption:
        """The lines under a photo, fitted to `width`; a subclass overrides it."""
        name, folder, details, note = caption_lines(member, member_index, metrics, width,
                                                    companion)
        return Caption((name, folder, details, note))

    def _paint_header(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        group: DuplicateGroup,
        model: GroupListModel,
        row: int,
    ) -> None:
        rect = option.rect
        header = QRect(rect.left() + MARGIN, rect.top() + MARGIN, rect.width() - 2 * MARGIN,
                       HEADER_HEIGHT - 4)
        says = self.header(group, model, row)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        text = says.title
        painter.drawText(header, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        if says.alert:
            offset = painter.fontMetrics().horizontalAdvance(text + "    ")
            painter.setPen(TRASH_COLOUR)
            painter.drawText(
                header.adjusted(offset, 0, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                says.alert,
            )
        painter.setFont(option.font)
        painter.setPen(option.palette.placeholderText().color())
        kind = says.kind
        painter.drawText(header, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, kind)
        if says.reviewed:
            self._paint_reviewed_tag(painter, option, header, kind)

    def _paint_reviewed_tag(
        self, painter: QPainter, option: QStyleOptionViewItem, header: QRect, kind: str
    ) -> None:
        """A small "Reviewed" tag left of the match kind: this group was looked at."""
        metrics = painter.fontMetrics()
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        width = QFontMetrics(small).horizontalAdvance(REVIEWED_TAG) + 14
        right = header.right() - metrics.horizontalAdvance(kind) - 10
        tag = QRect(right - width, header.top() + 1, width, header.height() - 2)
        painter.setPen(QPen(REVIEWED_COLOUR, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(tag, 6, 6)
        painter.setFont(small)
        painter.setPen(REVIEWED_COLOUR)
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, REVIEWED_TAG)
        painter.setFont(option.font)

    def _paint_member(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        cell: QRect,
        member: GroupMember,
        member_index: int,
        kept: bool,
        *,
        focused: bool,
        companion: tuple[int, GroupMember] | None = None,
    ) -> None:
        """One photo, or a RAW with its companion folded in (`companion`: its index and
        member), painted as the RAW with a pair badge."""
        palette = option.palette
        thumb = thumb_rect(cell)
        painter.fillRect(thumb, palette.window())
        pixmap = self._thumbnails.pixmap(member.record)
        if pixmap is not None:
            target = QRect(QPoint(0, 0), pixmap.deviceIndependentSize().toSize())
            target.moveCenter(thumb.center())
            painter.drawPixmap(target, pixmap)
            if not kept:
                painter.fillRect(target, QColor(255, 255, 255, 110))
        else:
            painter.setPen(palette.placeholderText().color())
            failed = self._thumbnails.has_failed(member.record)
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter,
                             "Cannot show" if failed else "Loading…")

        frame = KEEP_COLOUR if kept else TRASH_COLOUR
        painter.setPen(QPen(frame, 3 if focused else 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(thumb.adjusted(-1, -1, 1, 1))
        if focused:
            painter.setPen(QPen(palette.highlight().color(), 2, Qt.PenStyle.DashLine))
            painter.drawRect(thumb.adjusted(-5, -5, 5, 5))

        badge = badge_rect(cell)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(frame)
        painter.drawRoundedRect(badge, 6, 6)
        small = QFont(option.font)
        small.setBold(True)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        painter.setFont(small)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "KEEP" if kept else "TRASH")
        if member.is_reference:
            reference = QRect(badge.right() + 4, badge.top(), 40, badge.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(REFERENCE_COLOUR)
            painter.drawRoundedRect(reference, 6, 6)
            painter.setPen(QColor("white"))
            painter.drawText(reference, Qt.AlignmentFlag.AlignCenter, "REF")
        if companion is not None or member.pair_of is not None:
            text = pair_badge(member, companion[1]) if companion else half_badge(member)
            width = painter.fontMetrics().horizontalAdvance(text) + 12
            tag = QRect(thumb.left() + 4, thumb.top() + 4, width, badge.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PAIR_COLOUR)
            painter.drawRoundedRect(tag, 6, 6)
            painter.setPen(QColor("white"))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

        self._paint_caption(painter, option, cell, member, member_index, companion)

    def _paint_caption(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        cell: QRect,
        member: GroupMember,
        member_index: int,
        companion: tuple[int, GroupMember] | None = None,
    ) -> None:
        """Name, folder (elided in the middle, so its last folders show), size, similarity.
        The name is elided only when it alone is wider than the cell."""
        palette = option.palette
        painter.setFont(option.font)
        width = cell.width() - 4
        caption = self._cached_caption(member, member_index, option.font, painter, width,
                                       companion)
        texts = caption.lines
        colours = (palette.text(), palette.placeholderText(), palette.text(),
                   palette.highlight() if caption.highlight_note else palette.placeholderText())
        top = thumb_rect(cell).bottom() + 4
        for line, (text, colour) in enumerate(zip(texts, colours, strict=True)):
            box = QRect(cell.left() + 2, top + line * CAPTION_LINE, width, CAPTION_LINE)
            painter.setPen(colour.color())
            painter.drawText(
                box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, text
            )

    def _cached_caption(
        self, member: GroupMember, member_index: int, font: QFont, painter: QPainter,
        width: int, companion: tuple[int, GroupMember] | None,
    ) -> Caption:
        """`caption`, fitted once per photo, width and font (fitting elides text, which
        costs more than drawing it)."""
        key = (id(member), member_index, width, font.key(),
               None if companion is None else (companion[0], id(companion[1])))
        owners = (member, None if companion is None else companion[1])  # ids stay theirs
        cached = self._captions.get(key)
        if cached is not None and cached[0] == owners:
            return cached[1]
        if len(self._captions) > 4096:
            self._captions.clear()
        caption = self.caption(member, member_index, painter.fontMetrics(), width, companion)
        self._captions[key] = (owners, caption)
        return caption

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: AnyIndex,
    ) -> bool:
        """The tooltip of a photo is its full path."""
        group: DuplicateGroup | None = index.data(GROUP_ROLE)
        if event.type() != QHelpEvent.Type.ToolTip or group is None:
            return super().helpEvent(event, view, option, index)
        current = self._view.current_member() if index.row() == self._view.current_row() else 0
        layout = group_row_layout(option.rect, group, self._view.group_model(), current)
        for member_index, cell in layout.cells:
            if cell.contains(event.pos()):
                member = group.members[member_index]
                folded = layout.folded.get(member_index)
                text = (
                    display_path(member.record.path) if folded is None
                    else pair_tooltip(member, group.members[folded])
                )
                QToolTip.showText(event.globalPos(), text, view)
                return True
        QToolTip.hideText()
        return True


def caption_lines(
    member: GroupMember,
    member_index: int,
    metrics: QFontMetrics,
    width: int,
    companion: tuple[int, GroupMember] | None = None,
) -> list[str]:
    """The four caption lines of a photo, each fitted to `width` pixels: the file name
    (elided only if it alone is too wide), its folder elided in the middle (the start and
    the last folders stay readable), dimensions and size, and the similarity note. A RAW
    with its companion folded in names both files and both sizes."""
    record = member.record
    folder, name = os.path.split(display_path(record.path))
    details = f"{format_dimensions(record.width, record.height)}  ·  {format_bytes(record.size)}"
    note = member_note(member, member_index)
    if companion is not None:  # both sizes take the line (the compare view has the pixels)
        other_index, other = companion
        name, details = pair_name(member, other), pair_sizes(member, other)
        note = "Suggested keeper" if 0 in (member_index, other_index) else note
        note = f"RAW+JPEG pair · {note}" if note != "Suggested keeper" else "Keeper: RAW+JPEG pair"
    return [
        metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, width),
        metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, width),
        metrics.elidedText(details, Qt.TextElideMode.ElideRight, width),
        metrics.elidedText(note, Qt.TextElideMode.ElideRight, width),
    ]


def member_note(member: GroupMember, member_index: int) -> str:
    if member_index == 0:
        return "Suggested keeper"
    if member.match is MatchKind.EXACT:
        return "Exact copy"
    if member.match is MatchKind.SAME_PIXELS:
        return "Same pixels"
    if member.match is MatchKind.DEEP and member.deep is not None:
        return f"{member.deep.kind.capitalize()}, {format_percent(member.similarity)}"
    return f"{format_percent(member.similarity)} similar"


class GroupListView(QListView):
    """Up/Down move between groups, Left/Right between the images of the current group,
    Space toggles keep/trash of the current image; clicking a badge toggles it too."""

    current_changed = Signal(int, int)
    """(row, member index) of the image that has the keyboard focus; row -1 when none."""
    toggle_requested = Signal(int, int)
    trash_requested = Signal()
    context_menu_requested = Signal(int, int, QPoint)
    """(row, member index, global position) of a right-click on an image."""

    def __init__(self, thumbnails: ThumbnailProvider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current_member = 0
        self._member_chosen = False
        self.setItemDelegate(GroupDelegate(self, thumbnails))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(ROW_HEIGHT // 4)
        self.setMouseTracking(False)
        self.setAccessibleName("Duplicate groups")
        thumbnails.ready.connect(self._on_thumbnail_ready)

    def setModel(self, model: GroupListModel) -> None:  # type: ignore[override]
        super().setModel(model)
        self.selectionModel().currentRowChanged.connect(self._on_row_changed)
        model.modelReset.connect(self._on_reset)

    def group_model(self) -> GroupListModel:
        model = self.model()
        assert isinstance(model, GroupListModel)
        return model

    def dataChanged(
        self, topLeft: QModelIndex, bottomRight: QModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        """Repaint the rows changed, without QListView's relayout: it asks the model about
        every row (a group marked reviewed cost a 50-100 ms frame over 20,000 groups), and
        every row is the same height whatever its data (the delegate's fixed sizeHint)."""
        QAbstractItemView.dataChanged(self, topLeft, bottomRight, list(roles))

    def current_row(self) -> int:
        index = self.currentIndex()
        return index.row() if index.isValid() else -1

    def current_member(self) -> int:
        return self._current_member

    def set_current(self, row: int, member_index: int = 0) -> None:
        model = self.group_model()
        if not 0 <= row < model.rowCount():
            return
        count = len(model.group(row).members)
        self._current_member = max(0, min(member_index, count - 1))
        self.scrollTo(model.index(row))
        self.viewport().update()
        if self.current_row() != row:
            self._member_chosen = True
            try:
                self.setCurrentIndex(model.index(row))  # emits through _on_row_changed
            finally:
                self._member_chosen = False
        else:
            self.current_changed.emit(row, self._current_member)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        row = self.current_row()
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and row >= 0:
            step = -1 if key == Qt.Key.Key_Left else 1
            items = self._items(row)
            position = self._item_position(items)
            target = items[max(0, min(position + step, len(items) - 1))]
            self.set_current(row, target[0] if target != items[position] else self._current_member)
        elif key == Qt.Key.Key_Space and row >= 0:
            self._toggle_item(row, self._items(row)[self._item_position(self._items(row))])
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.trash_requested.emit()
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and row < 0 and self.model().rowCount():
            self.set_current(0)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if not index.isValid() or event.button() not in (
            Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
        ):
            super().mousePressEvent(event)
            return
        rect = self.visualRect(index)
        model = self.group_model()
        current = self._current_member if index.row() == self.current_row() else 0
        pos = event.position().toPoint()
        layout = group_row_layout(rect, model.group(index.row()), model, current)
        for member_index, cell in layout.cells:
            if cell.contains(pos):
                self.set_current(index.row(), member_index)
                if event.button() == Qt.MouseButton.RightButton:
                    self.context_menu_requested.emit(
                        index.row(), member_index, event.globalPosition().toPoint()
                    )
                elif badge_rect(cell).contains(pos):
                    folded = layout.folded.get(member_index)
                    self._toggle_item(
                        index.row(), (member_index,) if folded is None else (member_index, folded)
                    )
                return
        self.set_current(index.row(), current)

    def _items(self, row: int) -> tuple[Item, ...]:
        model = self.group_model()
        return row_items(model.group(row), model.is_kept)

    def _item_position(self, items: tuple[Item, ...]) -> int:
        return next((k for k, item in enumerate(items) if self._current_member in item), 0)

    def _toggle_item(self, row: int, item: Item) -> None:
        """A folded pair is marked as one: both files get the new mark."""
        for member_index in item:
            self.toggle_requested.emit(row, member_index)

    def _on_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.current_changed.emit(-1, 0)
            return
        if not self._member_chosen:
            self._current_member = 0  # a new group starts at its keeper
        self.current_changed.emit(current.row(), self._current_member)

    def _on_reset(self) -> None:
        self._current_member = 0
        self.current_changed.emit(-1, 0)

    def _on_thumbnail_ready(self, path: str) -> None:
        """Repaint the visible row showing `path`, if any (only visible rows ask for one)."""
        model = self.group_model()
        first = self.indexAt(QPoint(0, 0)).row()
        last = self.indexAt(QPoint(0, self.viewport().height() - 1)).row()
        if first < 0:
            return
        for row in range(first, (last if last >= 0 else model.rowCount() - 1) + 1):
            if any(m.record.path == path for m in model.group(row).members):
                self.update(model.index(row))
