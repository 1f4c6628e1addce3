"""What a group row says, painted through the list delegate's public hooks (header and
caption): the review list's totals, and the Find window's query row, which says the same
things in its own words without copying the delegate's painting."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem
from test_app_views import group, record

from dedup_gui.app.find_photo import QUERY_NOTE, QueryDelegate, query_group
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import ROW_HEIGHT, GroupDelegate, GroupListView, RowHeader
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.core.library import LibraryMatch, QueryResult
from dedup_gui.core.models import ScanResult


class RecordingPainter(QPainter):
    """A painter that keeps every text drawn, with the pen colour it was drawn in."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[tuple[str, QColor]] = []

    def drawText(self, *args) -> None:
        self.texts.append((str(args[-1]), self.pen().color()))
        super().drawText(*args)

    def strings(self) -> list[str]:
        return [text for text, _colour in self.texts]


def painted(qtbot, delegate_type: type[GroupDelegate], groups, row: int = 0
            ) -> RecordingPainter:
    thumbnails = ThumbnailProvider(max_side=64, loader=lambda path, side: QImage())
    model = GroupListModel()
    view = GroupListView(thumbnails)
    qtbot.addWidget(view)
    delegate = delegate_type(view, thumbnails)
    view.setItemDelegate(delegate)
    view.setModel(model)
    model.set_groups(groups)
    image = QImage(QSize(1000, ROW_HEIGHT), QImage.Format.Format_RGB32)
    painter = RecordingPainter(image)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = QRect(0, 0, 1000, ROW_HEIGHT)
    option.state &= ~QStyle.StateFlag.State_Selected
    index = model.index(row)
    assert index != QModelIndex()
    delegate.paint(painter, option, index)
    painter.end()
    thumbnails.shut_down()
    return painter


def test_the_review_row_says_what_goes_to_the_trash_and_what_it_frees(qtbot):
    rows = group(record("/photos/beach.jpg", 2_000_000), record("/backup/beach.jpg", 1_000_000))
    texts = painted(qtbot, GroupDelegate, [rows]).strings()
    assert any("2 images" in text and "1 to trash" in text for text in texts)
    assert "look alike" in texts
    assert "Suggested keeper" in texts and "97% similar" in texts


def test_the_find_window_row_names_the_photo_and_its_library_copies(qtbot):
    asked = record("/downloads/beach_small.jpg", 40_000, 96, 72)
    copy = record("/library/2020/beach.jpg", 2_000_000)
    match = LibraryMatch(copy, distance=0, similarity=100.0, exact=True)
    result = QueryResult(image=asked, image_error=None, matches=[match],
                         library=ScanResult(records=[copy]))
    query = query_group(result)
    assert query is not None

    painter = painted(qtbot, QueryDelegate, [query])
    texts = painter.strings()
    assert "beach_small.jpg: 1 copy in your library" in texts
    assert "1 exact, 0 look alike" in texts
    assert "Library copy: exact" in texts
    # None of the review list's words: the query row is no keep/trash decision.
    assert not any("to trash" in text or "to free" in text or "Reviewed" in text
                   for text in texts)
    assert "Suggested keeper" not in texts
    # The photo asked about stands out: its note is in the highlight colour.
    note_colour = dict(painter.texts)[QUERY_NOTE]
    assert note_colour == QStyleOptionViewItem().palette.highlight().color()


def test_a_subclass_changes_the_header_and_keeps_the_rest_of_the_row(qtbot):
    class Quiet(GroupDelegate):
        def header(self, group, model, row) -> RowHeader:
            return RowHeader("Two photos of the beach", "my kind", alert="look here")

    rows = group(record("/photos/beach.jpg", 2_000_000), record("/backup/beach.jpg", 1_000_000))
    texts = painted(qtbot, Quiet, [rows]).strings()
    assert texts[:3] == ["Two photos of the beach", "look here", "my kind"]
    assert "Suggested keeper" in texts and "beach.jpg" in texts
