"""Each photo's card says which file it is: name, folder, and the full path on hover."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QFontMetrics, QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QToolTip
from test_app_views import group, record

from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import CELL_WIDTH, GroupListView, caption_lines, row_layout
from dedup_gui.app.thumbnails import ThumbnailProvider

DEEP_FOLDER = "/home/someone/Pictures/Merged phone backups/2019 Samsung/DCIM/Camera/Holiday"


def test_the_caption_shows_the_name_whole_and_the_folder_elided_in_the_middle(qtbot):
    metrics = QFontMetrics(QApplication.font())
    width = CELL_WIDTH - 4
    rows = group(record(f"{DEEP_FOLDER}/IMG_2041.jpg", 2_400_000, 4000, 3000),
                 record("/backup/IMG_2041.jpg", 2_500_000, 4000, 3000))
    name, folder, size, note = caption_lines(rows.members[0], 0, metrics, width)
    assert name == "IMG_2041.jpg"
    assert folder.startswith("/home") and folder.endswith("Holiday")  # both ends readable
    assert "…" in folder and metrics.horizontalAdvance(folder) <= width
    assert size.startswith("4000\N{MULTIPLICATION SIGN}3000") and "MB" in size
    assert note == "Suggested keeper"
    assert caption_lines(rows.members[1], 1, metrics, width)[1] == "/backup"


def test_hovering_a_photo_shows_its_full_path(qtbot, tmp_path: Path):
    thumbnails = ThumbnailProvider(max_side=64)
    model = GroupListModel()
    view = GroupListView(thumbnails)
    view.setModel(model)
    view.resize(900, 600)
    qtbot.addWidget(view)
    view.show()
    paths = [f"{DEEP_FOLDER}/IMG_2041.jpg", str(tmp_path / "copy" / "IMG_2041 (1).jpg")]
    model.set_groups([group(record(paths[0], 2000), record(paths[1], 1000))])
    qtbot.waitExposed(view)
    rect = view.visualRect(model.index(0))
    for member_index, cell in row_layout(rect, 2, 0).cells:
        position = cell.center()
        event = QHelpEvent(QEvent.Type.ToolTip, position, view.viewport().mapToGlobal(position))
        QApplication.sendEvent(view.viewport(), event)
        assert QToolTip.text() == paths[member_index]
    outside = QPoint(rect.right() - 5, rect.bottom() - 5)
    QApplication.sendEvent(
        view.viewport(),
        QHelpEvent(QEvent.Type.ToolTip, outside, view.viewport().mapToGlobal(outside)),
    )
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)
    thumbnails.shut_down()


def test_the_compare_table_wraps_long_paths_and_never_cuts_a_date(qtbot):
    from dedup_gui.app.compare import METADATA_ROWS, CompareView

    thumbnails = ThumbnailProvider(max_side=64, loader=lambda path, side: QImage())
    model = GroupListModel()
    copies = [record(f"{DEEP_FOLDER}/copy {n}/IMG_2041.jpg", 2000 - n) for n in range(8)]
    model.set_groups([group(*copies)])
    compare = CompareView(thumbnails)
    qtbot.addWidget(compare)
    compare.resize(1200, 700)
    compare.show()
    compare.show_group(model, 0, 1)
    qtbot.waitExposed(compare)
    table = compare.table
    metrics = table.fontMetrics()
    modified = METADATA_ROWS.index("Modified")
    path_row = METADATA_ROWS.index("Full path")
    for column in range(8):
        date = table.item(modified, column).text()
        assert metrics.horizontalAdvance(date) < table.columnWidth(column)
        # The whole path is there (wrapped, not elided) and the row is tall enough for it.
        shown = table.item(path_row, column).text().replace("\N{ZERO WIDTH SPACE}", "")
        assert shown == copies[column].path
    assert table.rowHeight(path_row) >= 2 * metrics.height()
    # Two copies share the width of the table: no sideways scrolling, columns follow the group.
    model.set_groups([group(*copies[:2])])
    compare.show_group(model, 0, 1)
    widths = [table.columnWidth(column) for column in range(2)]
    assert sum(widths) >= table.viewport().width() - 2
    thumbnails.shut_down()
