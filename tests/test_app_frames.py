"""What keeps a scroll through the views smooth: a change to one row repaints that row and
never makes the list lay out every group again (a 50-100 ms frame over 20,000 groups)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_table import ROW_HEIGHT as ROW_HEIGHT_TABLE
from dedup_gui.app.group_table import SIZE, GroupTableModel, GroupTableView
from dedup_gui.app.group_view import ROW_HEIGHT, GroupListView
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord, MatchKind


def groups(count: int) -> list[DuplicateGroup]:
    def record(k: int) -> ImageRecord:
        return ImageRecord(
            path=f"/photos/IMG_{k:05d}.jpg", size=1_000_000 + k, mtime_ns=10**18,
            width=400, height=300, format="JPEG", capture_time=None, dhash=0, phash=0,
            phash_dihedral=(0,) * 8, micro=bytes(768),
        )

    return [DuplicateGroup(tuple(
        GroupMember(record(2 * g + i), keep=i == 0, is_reference=False, distance=0,
                    similarity=100.0, match=MatchKind.EXACT)
        for i in range(2)
    )) for g in range(count)]


class CountingListView(GroupListView):
    layouts = 0

    def doItemsLayout(self) -> None:
        self.layouts += 1
        super().doItemsLayout()


@pytest.fixture
def list_view(qtbot):
    thumbnails = ThumbnailProvider(max_side=64, loader=lambda _path, side: QImage(
        side, side, QImage.Format.Format_RGB32))
    model = GroupListModel()
    view = CountingListView(thumbnails)
    view.setModel(model)
    model.set_groups(groups(2000))
    view.resize(900, 3 * ROW_HEIGHT)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    yield view
    thumbnails.shut_down()


def test_marking_a_row_reviewed_or_toggling_it_repaints_without_a_relayout(qtbot, list_view):
    model = list_view.group_model()
    list_view.verticalScrollBar().setValue(ROW_HEIGHT * 10)
    qtbot.wait(50)
    list_view.layouts = 0
    row = list_view.indexAt(list_view.viewport().rect().center()).row()
    model.mark_reviewed(row)
    model.toggle_kept(row, 1)
    qtbot.wait(50)
    list_view.viewport().repaint()
    assert model.is_reviewed(row)
    assert list_view.layouts == 0
    # The row still shows where it was: nothing moved.
    assert list_view.indexAt(list_view.viewport().rect().center()).row() == row


def test_a_changed_row_is_painted_again(qtbot, list_view):
    model = list_view.group_model()
    row = list_view.indexAt(list_view.viewport().rect().center()).row()
    before = list_view.viewport().grab().toImage()
    model.toggle_kept(row, 1)  # its second photo goes from TRASH to KEEP
    qtbot.waitUntil(lambda: list_view.viewport().grab().toImage() != before, timeout=2000)


@pytest.fixture
def table(qtbot):
    model = GroupListModel()
    model.set_groups(groups(300))
    table_model = GroupTableModel(model)
    view = GroupTableView(table_model)
    view.resize(1200, 20 * ROW_HEIGHT_TABLE)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_the_table_opens_in_the_lists_order_with_each_groups_files_together(table):
    model = table.table_model()
    list_model = model._groups
    shown = [model.location(row) for row in range(model.rowCount())]
    expected = [(position, member) for position in list_model.shown_positions().tolist()
                for member in range(len(list_model.group_at(position).members))]
    assert shown == expected


def test_clicking_a_header_sorts_the_files_by_that_column(qtbot, table):
    model = table.table_model()
    header = table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(SIZE) + 5, 5))
    sizes = [model.member(row).record.size for row in range(model.rowCount())]
    assert sizes in (sorted(sizes), sorted(sizes, reverse=True))


def test_every_other_group_is_shaded_across_the_whole_row(table):
    """Groups of two files: rows 0-1 plain, 2-3 shaded, 4-5 plain..."""
    image = table.viewport().grab().toImage()
    shade = table.table_model().shade.color().rgb()
    for row in range(8):
        y = table.rowViewportPosition(row) + ROW_HEIGHT_TABLE // 2
        shaded = row // 2 % 2 == 1
        for x in (2, 545, image.width() - 30):  # the name, the size, past the mark
            assert (image.pixel(x, y) == shade) is shaded, (row, x)
