"""`dedup-cli --exclude FOLDER` and `scan --raw-jpeg`: the GUI's Excluded folder role and its
RAW+JPEG pair setting, from a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dedup_gui import cli
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy
from dedup_gui.core.images.dng_writer import DngLayout, dng_bytes
from tests.imagegen import make_photo
from tests.test_cli import FAST, run, tree
from tests.test_library import PhotoTree

__all__ = ["tree"]  # the fixture, used by name


def scanned_groups(out: str) -> list[set[str]]:
    return [{file["path"] for file in group["files"]} for group in json.loads(out)["groups"]]


def test_an_excluded_folder_is_not_scanned(tree: PhotoTree, capsys):
    status, out, _ = run(capsys, "scan", str(tree.library), "--exclude",
                         str(tree.library / "backup"), *FAST)
    assert status == cli.EXIT_FOUND
    assert scanned_groups(out) == [{tree.lib("2020/a.jpg"), tree.lib("2020/a_small.png")}]


def test_exclude_is_repeatable_and_leaves_nothing_to_match(tree: PhotoTree, capsys):
    status, out, _ = run(capsys, "scan", str(tree.library),
                         "--exclude", str(tree.library / "backup"),
                         "--exclude", str(tree.library / "2020"), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert scanned_groups(out) == []


def test_a_misspelt_excluded_folder_is_a_usage_error_not_a_full_scan(tree: PhotoTree, capsys):
    status, _, err = run(capsys, "scan", str(tree.library), "--exclude",
                         str(tree.library / "bakcup"), *FAST)
    assert status == cli.EXIT_USAGE
    assert "bakcup is not a folder" in err


def test_query_leaves_out_the_excluded_folder(tree: PhotoTree, capsys):
    status, out, _ = run(capsys, "query", str(tree.outside / "a_again.jpg"), str(tree.library),
                         "--exclude", str(tree.library / "backup"), "--format", "json", *FAST)
    assert status == cli.EXIT_FOUND
    found = {match["path"] for match in json.loads(out)["matches"]}
    assert found == {tree.lib("2020/a.jpg"), tree.lib("2020/a_small.png")}


@pytest.fixture
def camera(tmp_path) -> Path:
    """A camera's RAW+JPEG pair of one shot."""
    picture = make_photo(21, 640, 480)
    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "DSC_0001.NEF").write_bytes(
        dng_bytes(picture, DngLayout(thumbnail_side=160, dng_tags=False)))
    picture.save(folder / "DSC_0001.JPG", quality=95)
    return folder


@pytest.mark.parametrize(("choice", "kept"), [
    (None, {"DSC_0001.NEF": True, "DSC_0001.JPG": True}),
    ("keep-both", {"DSC_0001.NEF": True, "DSC_0001.JPG": True}),
    ("keep-raw", {"DSC_0001.NEF": True, "DSC_0001.JPG": False}),
    ("keep-jpeg", {"DSC_0001.NEF": False, "DSC_0001.JPG": True}),
])
def test_raw_jpeg_chooses_what_a_pair_keeps(camera, capsys, choice, kept):
    extra = [] if choice is None else ["--raw-jpeg", choice]
    status, out, _ = run(capsys, "scan", str(camera), *extra, *FAST)
    assert status == cli.EXIT_FOUND
    [group] = json.loads(out)["groups"]
    assert {Path(f["path"]).name: f["keep"] for f in group["files"]} == kept


def test_an_unknown_raw_jpeg_choice_is_a_usage_error(camera, capsys):
    status, _, err = run(capsys, "scan", str(camera), "--raw-jpeg", "keep-neither", *FAST)
    assert status == cli.EXIT_USAGE
    assert "keep-both" in err


def test_the_choices_are_the_apps_settings():
    assert tuple(policy.value for policy in RawJpegPolicy) == cli.RAW_JPEG_CHOICES
    assert cli.RAW_JPEG_CHOICES[0] == RawJpegPolicy.KEEP_BOTH.value
