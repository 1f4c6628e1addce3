"""The GUI side of deep matching: the option (greyed with a hint without the extra), the
outline of a deep match's region in the compare view."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from dedup_gui.app.deep_option import DeepOption
from dedup_gui.app.zoom_view import ZoomView
from dedup_gui.core.deep import availability


def test_the_option_is_off_by_default_and_remembered(qtbot, tmp_path):
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    option = DeepOption(store=store)
    qtbot.addWidget(option)
    assert not option.enabled()
    if availability() is not None:
        assert not option.box.isEnabled()
        assert "pip install" in option.hint.text() or "ONNX file" in option.hint.text()
        return
    option.box.setChecked(True)
    again = DeepOption(store=store)
    qtbot.addWidget(again)
    assert again.enabled()


def test_without_the_extra_the_option_is_greyed_with_the_install_hint(qtbot, tmp_path,
                                                                      monkeypatch):
    import dedup_gui.app.deep_option as deep_option

    monkeypatch.setattr(deep_option, "availability",
                        lambda model_file=None: "Deep matching needs onnxruntime")
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    store.setValue(deep_option.SETTING, True)
    option = DeepOption(store=store)
    qtbot.addWidget(option)
    assert not option.box.isEnabled() and not option.enabled()
    assert not option.model_combo.isEnabled()  # no runtime: no model file helps either
    assert "onnxruntime" in option.hint.text()


def test_the_outline_follows_the_image_size(qtbot):
    from PySide6.QtGui import QPixmap

    view = ZoomView()
    qtbot.addWidget(view)
    pixmap = QPixmap(100, 75)
    view.set_pixmap(pixmap, 800, 600)
    view.set_outline((0.15, 0.15, 0.85, 0.15, 0.85, 0.85, 0.15, 0.85))
    polygon = view.outline_polygon()
    assert [(round(p.x()), round(p.y())) for p in polygon] == [
        (120, 90), (680, 90), (680, 510), (120, 510)
    ]
    view.set_outline(None)
    assert view.outline_polygon().isEmpty()


@pytest.mark.skipif(availability() is not None, reason=str(availability()))
def test_the_compare_view_outlines_the_crop_on_the_keeper(qtbot, tmp_path):
    from imagegen import make_photo

    from dedup_gui.app.compare import CompareView
    from dedup_gui.app.group_model import GroupListModel
    from dedup_gui.app.thumbnails import ThumbnailProvider
    from dedup_gui.core.deep.session import deep_search, scan_hook
    from dedup_gui.core.grouping.index import SimilarityIndex
    from dedup_gui.core.scanning import scanner
    from dedup_gui.core.scanning.cache import HashCache

    photo = make_photo(2, 800, 600)
    photo.save(tmp_path / "original.jpg", quality=92)
    photo.crop((120, 90, 680, 510)).save(tmp_path / "crop.jpg", quality=90)
    with HashCache.open_default() as cache:
        result = scanner.scan(
            [tmp_path], cache=cache, options=scanner.ScanOptions(descriptors=scan_hook(cache))
        )
    index = SimilarityIndex.build(result.records, deep=deep_search(result.descriptors))
    groups = index.groups(87)
    assert len(groups) == 1
    model = GroupListModel()
    model.set_groups(groups)
    view = CompareView(ThumbnailProvider(max_side=64))
    qtbot.addWidget(view)
    view.show_group(model, 0, 1)
    assert Path(view.shown_paths()[0]).name == "original.jpg"
    assert "Crop" in view.panes[1].title.text()
    outline = view.panes[0].view.outline_polygon()
    assert len(outline) == 4 and view.panes[1].view.outline_polygon().isEmpty()
    left = min(p.x() for p in outline)
    assert abs(left - 120) < 30  # where the crop was taken, in the keeper's 800 px width
