"""Library answers must never call a file a copy of itself, whatever name it is reached by:
a user deletes what is "already in the library"."""

from __future__ import annotations

from pathlib import Path

from dedup_gui.core import library
from tests.test_library import ONE_WORKER, build_photo_tree, copy, save
from tests.test_review_actions import bind_mount


def test_a_new_folder_that_is_the_library_seen_elsewhere_is_not_already_in_it(tmp_path):
    tree = build_photo_tree(tmp_path)
    imports = tree.library / "import"
    fresh = save(8, imports / "g.jpg")
    copy(fresh, imports / "g copy.jpg")
    card = tmp_path / "card"  # the import folder mounted a second time, e.g. over a share

    with bind_mount(imports, card):
        result = library.new_vs_library([str(card)], [str(tree.library)], options=ONE_WORKER)

    [report] = result.folders
    assert report.present == ()
    assert sorted(Path(r.path).name for r in report.new) == ["g copy.jpg", "g.jpg"]


def test_query_never_finds_the_image_itself_under_another_mount(tmp_path):
    tree = build_photo_tree(tmp_path)
    alias = tmp_path / "mnt"

    with bind_mount(tree.library / "2021", alias):
        result = library.query(
            str(alias / "c.jpg"), [str(tree.library)], options=ONE_WORKER
        )

    assert result.image is not None
    assert [match.record.path for match in result.matches] == []
