"""RAW+JPEG pairs: a RAW and the camera's JPEG of the same shot are kept together by
default; the user may keep only the RAW or only the JPEG of each pair."""

from __future__ import annotations

import dataclasses
import io
from pathlib import PurePath

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.decisions.marks import ReviewMarks
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import KeeperRule
from dedup_gui.core.grouping.raw_pairs import (
    NO_COMPANION,
    PAIR_REASON,
    RawJpegPolicy,
    find_companions,
)
from dedup_gui.core.images.dng_writer import DngLayout, dng_bytes
from dedup_gui.core.models import DuplicateGroup
from dedup_gui.core.output import export
from dedup_gui.core.scanning.scanner import scan
from tests.grouping_records import jpeg, record
from tests.imagegen import make_photo

SHOT_TIME = "2021-06-05T14:30:00"
SIMILARITY = 90.0


def name(path: str) -> str:
    return PurePath(path).name


def photo(seed: int) -> Image.Image:
    return make_photo(seed, 320, 240)


def raw_record(path: str, seed: int, capture_time: str | None = SHOT_TIME, kind: str = "CR2"):
    image = photo(seed)
    return dataclasses.replace(
        record(image, path, size=9_000_000, capture_time=capture_time), format=f"RAW ({kind})"
    )


def jpeg_record(path: str, seed: int, capture_time: str | None = SHOT_TIME, *, size=2_000_000,
                image_format: str = "JPEG", quality: int = 92):
    return dataclasses.replace(
        record(jpeg(photo(seed), quality), path, size=size, capture_time=capture_time),
        format=image_format,
    )


def groups_of(records, policy=RawJpegPolicy.KEEP_BOTH, **options) -> list[DuplicateGroup]:
    return SimilarityIndex.build(records).groups(SIMILARITY, raw_jpeg_policy=policy, **options)


def marks_by_path(group: DuplicateGroup) -> dict[str, bool]:
    return {name(m.record.path): m.keep for m in group.members}


def companions_by_name(records) -> dict[str, str]:
    index = SimilarityIndex.build(records)
    first, second = np.divmod(index._pair_keys, len(records))
    companion = find_companions(records, first, second, index._pair_phash)
    return {
        name(r.path): name(records[c].path)
        for r, c in zip(records, companion.tolist(), strict=True) if c != NO_COMPANION
    }


# ----- finding pairs ---------------------------------------------------------------------

@pytest.mark.parametrize("jpeg_name", ["IMG_0001.JPG", "IMG_0001.jpg", "img_0001.jpeg"])
def test_a_raw_and_a_jpeg_with_the_same_stem_in_one_folder_are_a_pair(jpeg_name):
    records = [raw_record("/p/IMG_0001.CR2", 1), jpeg_record(f"/p/{jpeg_name}", 1)]
    assert companions_by_name(records) == {"IMG_0001.CR2": jpeg_name, jpeg_name: "IMG_0001.CR2"}


def test_a_heic_written_next_to_the_raw_is_a_pair_too():
    records = [raw_record("/p/IMG_0001.CR3", 1, kind="CR3"),
               jpeg_record("/p/IMG_0001.HEIC", 1, image_format="HEIF")]
    assert companions_by_name(records)["IMG_0001.CR3"] == "IMG_0001.HEIC"


def test_the_same_stem_in_another_folder_or_another_shot_is_not_a_pair():
    records = [
        raw_record("/p/IMG_0001.CR2", 1),
        # Another folder, not matched by the index (another picture): no pair.
        jpeg_record("/other/IMG_0001.JPG", 2, capture_time="2019-01-01T10:00:00"),
        # Same folder and stem, but a second camera's shot an hour later (two cards merged).
        raw_record("/p/IMG_0002.NEF", 3, kind="NEF"),
        jpeg_record("/p/IMG_0002.JPG", 4, capture_time="2021-06-05T15:30:00"),
    ]
    assert companions_by_name(records) == {}


def test_a_match_with_the_same_capture_time_is_a_pair_whatever_the_names():
    records = [
        raw_record("/raw/DSC_0042.NEF", 5, kind="NEF"),
        jpeg_record("/phone-export/holiday-42.jpg", 5),
    ]
    assert companions_by_name(records) == {
        "DSC_0042.NEF": "holiday-42.jpg", "holiday-42.jpg": "DSC_0042.NEF"
    }


def test_a_match_with_another_capture_time_is_no_pair():
    records = [
        raw_record("/raw/DSC_0042.NEF", 5, kind="NEF"),
        jpeg_record("/export/holiday-42.jpg", 5, capture_time="2021-06-05T14:30:07"),
    ]
    assert companions_by_name(records) == {}
    group, = groups_of(records)
    assert marks_by_path(group) == {"DSC_0042.NEF": True, "holiday-42.jpg": False}
    assert all(member.pair_of is None for member in group.members)


def test_each_raw_pairs_with_its_closest_companion_only():
    records = [
        raw_record("/p/IMG_0001.CR2", 1),
        jpeg_record("/p/IMG_0001.JPG", 1),
        # Same capture time and matched, but only a copy elsewhere: the stem pair wins.
        jpeg_record("/backup/IMG_0001-copy.jpg", 1, size=1_900_000),
    ]
    assert companions_by_name(records) == {"IMG_0001.CR2": "IMG_0001.JPG",
                                           "IMG_0001.JPG": "IMG_0001.CR2"}


# ----- what a group suggests --------------------------------------------------------------

@pytest.fixture
def pair():
    return [raw_record("/p/IMG_0001.CR2", 1), jpeg_record("/p/IMG_0001.JPG", 1)]


def test_by_default_a_pair_alone_keeps_both_and_frees_nothing(pair):
    group, = groups_of(pair)
    assert marks_by_path(group) == {"IMG_0001.CR2": True, "IMG_0001.JPG": True}
    assert group.keeper.record.path == "/p/IMG_0001.CR2"
    assert group.is_raw_pair and group.reclaimable_bytes == 0
    assert group.members[1].pair_of == "/p/IMG_0001.CR2"
    assert group.keeper.pair_of == "/p/IMG_0001.JPG"
    assert group.members[1].keep_reason == PAIR_REASON


def test_keep_only_the_raw_suggests_the_jpeg_for_the_trash(pair):
    group, = groups_of(pair, RawJpegPolicy.KEEP_RAW)
    assert marks_by_path(group) == {"IMG_0001.CR2": True, "IMG_0001.JPG": False}
    assert group.reclaimable_bytes == 2_000_000
    assert group.members[1].pair_of == "/p/IMG_0001.CR2"


def test_keep_only_the_jpeg_is_the_one_way_a_raw_is_suggested_for_the_trash(pair):
    group, = groups_of(pair, RawJpegPolicy.KEEP_JPEG)
    assert group.keeper.record.path == "/p/IMG_0001.JPG"
    assert "JPEG of a RAW+JPEG pair" in group.keep_reason
    assert marks_by_path(group) == {"IMG_0001.CR2": False, "IMG_0001.JPG": True}
    assert group.reclaimable_bytes == 9_000_000


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RawJpegPolicy.KEEP_BOTH, {"IMG_0001.CR2": True, "IMG_0001.JPG": True}),
        (RawJpegPolicy.KEEP_RAW, {"IMG_0001.CR2": True, "IMG_0001.JPG": False}),
        (RawJpegPolicy.KEEP_JPEG, {"IMG_0001.CR2": False, "IMG_0001.JPG": True}),
    ],
)
def test_the_policy_holds_even_when_the_keeper_chain_prefers_the_other_file(policy, expected):
    # A chain without raw-first (dedup-cli --keep-order) and a JPEG with more pixels.
    big = jpeg(photo(1).resize((640, 480)), 92)
    records = [
        raw_record("/p/IMG_0001.CR2", 1),
        dataclasses.replace(record(big, "/p/IMG_0001.JPG", capture_time=SHOT_TIME),
                            format="JPEG"),
    ]
    chain = (KeeperRule.RESOLUTION,)
    group, = groups_of(records, policy, keeper_rules=chain)
    assert marks_by_path(group) == expected


def test_a_raw_in_a_protected_folder_is_kept_even_when_keeping_only_the_jpeg(tmp_path):
    protected = tmp_path / "masters"
    records = [raw_record(f"{protected}/IMG_0001.CR2", 1),
               jpeg_record(f"{protected}/IMG_0001.JPG", 1)]
    group, = groups_of(records, RawJpegPolicy.KEEP_JPEG, reference_folders=[str(protected)])
    assert marks_by_path(group) == {"IMG_0001.CR2": True, "IMG_0001.JPG": True}


def test_a_raw_without_a_companion_is_kept_over_a_jpeg_copy_elsewhere():
    records = [raw_record("/p/IMG_0001.CR2", 1, capture_time=None),
               jpeg_record("/export/web.jpg", 1, capture_time=None)]
    for policy in RawJpegPolicy:
        group, = groups_of(records, policy)
        assert marks_by_path(group) == {"IMG_0001.CR2": True, "web.jpg": False}
        assert not group.is_raw_pair


@pytest.fixture
def pair_with_copies():
    return [
        raw_record("/p/IMG_0001.CR2", 1),
        jpeg_record("/p/IMG_0001.JPG", 1),
        jpeg_record("/backup/IMG_0001 (1).JPG", 1, capture_time=None, size=2_100_000),
        jpeg_record("/web/small.jpg", 1, capture_time=None, size=300_000, quality=70),
    ]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RawJpegPolicy.KEEP_BOTH, {"IMG_0001.CR2": True, "IMG_0001.JPG": True}),
        (RawJpegPolicy.KEEP_RAW, {"IMG_0001.CR2": True, "IMG_0001.JPG": False}),
        (RawJpegPolicy.KEEP_JPEG, {"IMG_0001.CR2": False, "IMG_0001.JPG": True}),
    ],
)
def test_in_a_larger_group_the_pair_follows_the_policy_and_other_copies_go(
    pair_with_copies, policy, expected
):
    group, = groups_of(pair_with_copies, policy)
    assert len(group.members) == 4 and not group.is_raw_pair
    assert marks_by_path(group) == {**expected, "IMG_0001 (1).JPG": False, "small.jpg": False}
    assert group.reclaimable_bytes == sum(m.record.size for m in group.members if not m.keep)
    names = {name(m.record.path): m for m in group.members}
    assert names["IMG_0001.JPG"].pair_of == "/p/IMG_0001.CR2"
    assert names["IMG_0001 (1).JPG"].pair_of is None


def test_the_groups_are_ordered_by_what_they_really_free(pair_with_copies):
    records = [*pair_with_copies, raw_record("/q/IMG_0009.CR2", 9),
               jpeg_record("/q/IMG_0009.JPG", 9, size=5_000_000)]
    groups = groups_of(records)
    assert [g.reclaimable_bytes for g in groups] == [2_400_000, 0]
    assert groups[1].is_raw_pair


def test_no_helper_offers_a_kept_pair_for_the_trash(pair_with_copies, pair):
    groups = [*groups_of(pair_with_copies), *groups_of(pair)]
    marks = ReviewMarks()
    marks.trash_all_but_keeper(groups)
    marks.mark_folder(groups, "/p", keep=False)
    for group in groups:
        marks.invert(group)
        marks.invert(group)
    kept = {m.record.path for g in groups for m in g.members if marks.is_kept(m)}
    assert kept == {"/p/IMG_0001.CR2", "/p/IMG_0001.JPG"}
    # The user's own click still can.
    jpeg_member = next(m for m in groups[1].members if m.record.path.endswith(".JPG"))
    assert marks.set(jpeg_member, False) and not marks.is_kept(jpeg_member)


def test_regrouping_with_another_policy_is_a_cut_of_the_same_index(pair):
    index = SimilarityIndex.build(pair)
    before = index.groups(SIMILARITY)
    assert not index.has_keeper_context((), raw_jpeg_policy=RawJpegPolicy.KEEP_JPEG)
    jpeg_first = index.groups(SIMILARITY, raw_jpeg_policy=RawJpegPolicy.KEEP_JPEG)
    assert index.has_keeper_context((), raw_jpeg_policy=RawJpegPolicy.KEEP_JPEG)
    assert index.groups(SIMILARITY) == before  # the default is untouched
    assert jpeg_first[0].keeper.record.path.endswith(".JPG")
    assert index.groups(SIMILARITY, raw_jpeg_policy=RawJpegPolicy.KEEP_JPEG)[0] is jpeg_first[0]


def test_the_export_names_each_files_companion(pair, pair_with_copies):
    groups = groups_of(pair_with_copies) + groups_of(pair)
    document = export.export_document(groups, [], SIMILARITY)
    rows = {name(f["path"]): f for g in document["groups"] for f in g["files"]}
    assert rows["IMG_0001.JPG"]["pair"] == "/p/IMG_0001.CR2"
    assert rows["IMG_0001.CR2"]["pair"] == "/p/IMG_0001.JPG"
    assert rows["small.jpg"]["pair"] == ""
    stream = io.StringIO()
    export.write_csv(groups, stream)
    stream.seek(0)
    read = export.read_csv(stream)
    assert {r["path"]: r["pair"] for r in read}["/p/IMG_0001.JPG"] == "/p/IMG_0001.CR2"


def test_a_scanned_raw_and_the_cameras_jpeg_are_both_kept(tmp_path):
    picture = make_photo(21, 640, 480)
    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "DSC_0001.NEF").write_bytes(
        dng_bytes(picture, DngLayout(thumbnail_side=160, dng_tags=False))
    )
    picture.save(folder / "DSC_0001.JPG", quality=95)
    result = scan([folder])
    assert not result.errors
    group, = SimilarityIndex.build(result.records).groups(SIMILARITY)
    assert group.is_raw_pair and all(m.keep for m in group.members)
    assert group.keeper.record.format.startswith("RAW")
