"""A deep match in the JSON and CSV exports says what kind of copy it is and where it lies:
the kind, the region's corners and the image they lie in (the rectangle the compare view
outlines), for `dedup-cli scan --deep` and the GUI's export alike."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from dedup_gui.core.deep import availability
from dedup_gui.core.models import DeepMatch, DuplicateGroup, GroupMember, ImageRecord, MatchKind
from dedup_gui.core.output.export import export_document, read_csv, write_csv

REGION = (0.15, 0.15, 0.85, 0.15, 0.85, 0.85, 0.15, 0.85)


def _record(path: str, width: int) -> ImageRecord:
    return ImageRecord(
        path=path, size=width * 100, mtime_ns=1_700_000_000_000_000_000, width=width,
        height=width * 3 // 4, format="JPEG", capture_time=None, dhash=1, phash=2,
        phash_dihedral=(2,) * 8, micro=bytes(768),
    )


def _member(path: str, width: int, keep: bool, deep: DeepMatch | None = None) -> GroupMember:
    return GroupMember(
        record=_record(path, width), keep=keep, is_reference=False, distance=0 if keep else 9,
        similarity=100.0 if keep else 71.3, match=MatchKind.DEEP if deep else MatchKind.VISUAL,
        deep=deep,
    )


@pytest.fixture
def groups() -> list[DuplicateGroup]:
    return [
        DuplicateGroup((
            _member("/photos/original.jpg", 4000, True),
            _member("/photos/crop.jpg", 2800, False, DeepMatch("crop", REGION, True)),
            _member("/photos/resized.jpg", 2000, False),
        )),
        # A keeper chosen by another rule (say, a reference folder) inside a bordered copy:
        # the region lies on the other member.
        DuplicateGroup((
            _member("/ref/inner.jpg", 1000, True),
            _member("/photos/framed.jpg", 1400, False, DeepMatch("edited", REGION, False)),
        )),
    ]


def test_a_deep_match_in_the_json_has_its_kind_and_region(groups):
    files = [g["files"] for g in export_document(groups, [], 90)["groups"]]

    crop = files[0][1]
    assert crop["match"] == "deep" and crop["deep_kind"] == "crop"
    assert crop["region"] == list(REGION)
    assert crop["region_in"] == "/photos/original.jpg"
    framed = files[1][1]
    assert framed["deep_kind"] == "edited" and framed["region_in"] == "/photos/framed.jpg"
    for plain in (files[0][0], files[0][2], files[1][0]):
        assert (plain["deep_kind"], plain["region"], plain["region_in"]) == ("", None, "")


def test_the_csv_carries_the_same_deep_fields(groups):
    stream = io.StringIO(newline="")
    write_csv(groups, stream)
    stream.seek(0)

    rows = read_csv(stream)

    document = export_document(groups, [], 90)
    assert rows == [{"group": g["id"], **f} for g in document["groups"] for f in g["files"]]
    assert rows[1]["region"] == list(REGION) and rows[1]["deep_kind"] == "crop"


deep_only = pytest.mark.skipif(availability() is not None, reason=str(availability()))


@pytest.fixture
def crop_pair(tmp_path: Path) -> Path:
    from imagegen import make_photo

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = make_photo(2, 800, 600)
    photo.save(folder / "original.jpg", quality=92)
    # an off-centre crop: 60% of each side, from (20%, 30%) of the original
    photo.crop((160, 180, 640, 540)).save(folder / "crop.jpg", quality=90)
    make_photo(7, 800, 600).save(folder / "other.jpg", quality=92)
    return folder


def _corners(row: dict) -> np.ndarray:
    return np.array(row["region"], float).reshape(4, 2)


@deep_only
def test_cli_scan_deep_json_says_where_the_crop_lies(crop_pair, tmp_path):
    from dedup_gui import cli

    out = tmp_path / "out.json"
    status = cli.main(["scan", str(crop_pair), "--deep", "--similarity", "87", "--format",
                       "json", "-o", str(out), "--no-cache"])
    assert status == cli.EXIT_FOUND
    (group,) = json.loads(out.read_text())["groups"]
    keeper, crop = group["files"]
    assert Path(keeper["path"]).name == "original.jpg" and keeper["deep_kind"] == ""
    assert Path(crop["path"]).name == "crop.jpg"
    assert crop["match"] == "deep" and crop["deep_kind"] == "crop"
    assert crop["region_in"] == keeper["path"]
    expected = np.array([[0.2, 0.3], [0.8, 0.3], [0.8, 0.9], [0.2, 0.9]])
    assert np.abs(_corners(crop) - expected).max() < 0.04

    csv_out = tmp_path / "out.csv"
    status = cli.main(["scan", str(crop_pair), "--deep", "--similarity", "87", "--format",
                       "csv", "-o", str(csv_out), "--no-cache"])
    assert status == cli.EXIT_FOUND
    with csv_out.open(newline="") as stream:
        rows = {Path(row["path"]).name: row for row in read_csv(stream)}
    assert rows["crop.jpg"]["deep_kind"] == "crop"
    assert rows["crop.jpg"]["region_in"] == keeper["path"]
    assert np.abs(_corners(rows["crop.jpg"]) - expected).max() < 0.04

