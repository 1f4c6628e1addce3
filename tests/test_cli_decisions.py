"""`dedup-cli ignore` and `dedup-cli restore`: the same decisions as the app, from a terminal."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from dedup_gui import cli
from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.decisions.trash_log import TrashLog, trashed_entries
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.scanning import scanner
from dedup_gui.core.trash.actions import execute_removal, plan_removal
from tests.test_library import PhotoTree, build_photo_tree

FAST = ["--workers", "1"]


@pytest.fixture
def tree(tmp_path) -> PhotoTree:
    return build_photo_tree(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def grouped_paths(out: str) -> list[set[str]]:
    return [{f["path"] for f in g["files"]} for g in json.loads(out)["groups"]]


def test_files_marked_not_duplicates_stay_apart_in_scan_until_removed(tree, capsys):
    first, second = tree.lib("2020/a.jpg"), tree.lib("2020/a_small.png")
    status, out, _ = run(capsys, "scan", str(tree.library), *FAST)
    assert any({first, second} <= group for group in grouped_paths(out))

    status, _, err = run(capsys, "ignore", "add", first, second)
    assert status == 0 and "added 1 pair" in err
    status, out, _ = run(capsys, "scan", str(tree.library), *FAST)
    assert not any({first, second} <= group for group in grouped_paths(out))
    status, out, _ = run(capsys, "scan", str(tree.library), "--no-ignore", *FAST)
    assert any({first, second} <= group for group in grouped_paths(out))

    status, out, _ = run(capsys, "ignore", "list", "--format", "json")
    (entry,) = json.loads(out)["ignored"]
    assert {entry["first"], entry["second"]} == {first, second}
    status, _, err = run(capsys, "ignore", "remove", first, second)
    assert status == 0 and "removed 1 pair" in err
    status, out, _ = run(capsys, "scan", str(tree.library), *FAST)
    assert any({first, second} <= group for group in grouped_paths(out))


def test_query_does_not_offer_a_file_marked_not_a_duplicate_of_the_image(tree, capsys):
    image, library_copy = tree.lib("2020/a.jpg"), tree.lib("2020/a_small.png")
    run(capsys, "ignore", "add", image, library_copy)
    _, out, _ = run(capsys, "query", image, str(tree.library), "--format", "json", *FAST)
    matches = {m["path"] for m in json.loads(out)["matches"]}
    assert library_copy not in matches and matches  # the other copies are still found
    run(capsys, "ignore", "clear")
    _status, out, _ = run(capsys, "query", image, str(tree.library), "--format", "json", *FAST)
    assert library_copy in {m["path"] for m in json.loads(out)["matches"]}


def test_ignore_refuses_byte_identical_copies_and_missing_files(tree, tmp_path, capsys):
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(Path(tree.lib("2020/a.jpg")).read_bytes())
    status, _, err = run(capsys, "ignore", "add", tree.lib("2020/a.jpg"), str(copy))
    assert status == cli.EXIT_USAGE and "byte-identical" in err
    status, _, err = run(capsys, "ignore", "add", str(tmp_path / "nope.jpg"), str(copy))
    assert status == cli.EXIT_USAGE and "not a file" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop trash")
def test_restore_last_undoes_the_apps_last_move_to_trash(tree, capsys, temp_trash):
    result = scanner.scan([tree.library])
    groups = SimilarityIndex.build(result.records).groups(90)
    marked = [m.record.path for g in groups for m in g.members if not m.keep]
    before = {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in marked}
    plan = plan_removal(groups, marked, roots=result.roots)
    report = execute_removal(plan)
    with DecisionStore.open_default() as store:
        TrashLog(store).record(trashed_entries(plan, report))

    status, out, _ = run(capsys, "restore", "--list")
    assert status == 0 and f"{len(marked)} files ({len(marked)} in the trash)" in out
    status, out, err = run(capsys, "restore", "--last")
    assert status == 0, err
    assert {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in marked} == before
    assert out.count("restored ") == len(marked)
    status, _, err = run(capsys, "restore", "--last")
    assert status == 1 and "nothing to restore" in err


def test_a_photo_with_damaged_exif_is_scanned_with_a_note_naming_it(tmp_path, capsys):
    from PIL import Image

    from tests.imagegen import make_photo

    exif = Image.Exif()
    exif[0x010F] = "Camera maker with a long name"
    exif[0x0110] = "Model name long enough"
    make_photo(3, 320, 240).save(tmp_path / "damaged_exif.jpg", exif=exif.tobytes()[:30])
    status, _, err = run(capsys, "scan", str(tmp_path), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert f"note: {tmp_path / 'damaged_exif.jpg'}: The photo was read, but its EXIF" in err
    assert "Warning" not in err  # no bare Python warning
