"""A copy whose name is another's with an OS's or app's copy marker added is not kept over
the plain-named one, unless the pixels, metadata, compression or content say otherwise."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from dedup_gui.core.grouping.copy_names import is_marked_copy_of, lineage
from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, choose_in_group
from dedup_gui.core.grouping.keeper_batch import choose_keepers
from dedup_gui.core.grouping.originals import NAMES_REASON
from tests.originals_fixtures import ORIGINAL_TIME, groups_of, original_and_edit
from tests.test_grouping_keeper_batch import CHAINS, group_of, one_by_one

MARKED = (
    "IMG_1234 (1).jpg", "IMG_1234(2).jpg", "IMG_1234 copy.jpg", "IMG_1234 copy 2.jpg",
    "IMG_1234 - Copy.jpg", "IMG_1234 - Copy (2).jpg", "Copy of IMG_1234.jpg",
    "IMG_1234-edited.jpg", "IMG_1234_edit.jpg", "IMG_1234-edit.jpg", "IMG_E1234.JPG",
    "IMG_1234~2.jpg", "IMG_1234-1.jpg", "img_1234 copy (1).HEIC",
)  # fmt: skip


@pytest.mark.parametrize("name", MARKED)
def test_each_os_and_app_marker_names_a_copy_of_the_plain_name(name):
    assert is_marked_copy_of(f"/downloads/{name}", "/library/IMG_1234.JPG")
    assert not is_marked_copy_of("/library/IMG_1234.JPG", f"/downloads/{name}")


@pytest.mark.parametrize(
    ("copy", "other"),
    [
        ("IMG_1234 (1).jpg", "IMG_1235.jpg"),  # another photo's name
        ("IMG_1234 (1).jpg", "IMG_1234 (2).jpg"),  # two copies: neither is the source
        ("IMG_1234-1.jpg", "IMG_1234-2.jpg"),  # a burst, or two copies
        ("2021-05-01.jpg", "2021-05.jpg"),  # a date, not a marker
        ("holiday-edit.jpg", "holiday-edit.jpg"),
        ("xIMG_1234 copy.jpg", "IMG_1234.jpg"),
    ],
)
def test_names_that_are_not_a_marked_copy_of_the_other(copy, other):
    assert not is_marked_copy_of(copy, other)
    assert not is_marked_copy_of(other, copy)


def test_a_marker_alone_is_no_evidence():
    """One name says nothing: "-edit" in the only copy there is marks nothing."""
    stem, bases = lineage("/photos/holiday-edit.jpg")
    assert stem == "holiday-edit" and bases == ("holiday",)
    twin = _record("/photos/holiday-edit.jpg")
    other = replace(twin, path="/zz/sunset.jpg")
    assert choose_in_group([twin, other], [False, False])[1] != NAMES_REASON


def _record(path: str):
    rng = np.random.default_rng(0)
    (record,) = group_of(rng, 0, 1)
    return replace(
        record, path=path, size=2_000_000, mtime_ns=0, width=4000, height=3000,
        format="JPEG", camera="Canon EOS 80D", software="Firmware 1.0",
        edited_after_capture=False, jpeg_quality=92,
    )  # fmt: skip


@pytest.mark.parametrize("name", MARKED)
def test_of_two_alike_copies_the_plain_name_is_kept(name):
    """The marked copy has the shorter path and the larger file: those rules come later."""
    plain = _record("/photos/2021/summer/IMG_1234.JPG")
    copy = replace(plain, path=f"/dl/{name}", size=plain.size + 5000)
    keeper, reason = choose_in_group([copy, plain], [False, False])
    assert (keeper, reason) == (1, NAMES_REASON)
    assert choose_keepers([copy, plain], [(0, 1)], np.zeros(2, bool), DEFAULT_KEEPER_RULES) == [
        (1, NAMES_REASON)
    ]


def test_a_resized_down_copy_with_the_plain_name_is_still_the_copy():
    full = _record("/dl/IMG_1234 (1).jpg")
    small = replace(full, path="/photos/IMG_1234.jpg", width=1600, height=1200)
    assert choose_in_group([small, full], [False, False]) == (1, "kept: most pixels")


def test_a_stripped_copy_with_the_plain_name_loses_to_the_camera_metadata():
    marked = _record("/dl/IMG_1234 (1).jpg")
    stripped = replace(marked, path="/photos/IMG_1234.jpg", camera=None, software=None)
    assert choose_in_group([stripped, marked], [False, False]) == (
        1, "kept: has the camera's metadata",
    )  # fmt: skip


def test_names_decide_before_the_medoid_of_an_edit_chain():
    """original -> edit -> edit of the edit: the middle copy is nearest to both, but the
    names say which came first."""
    rng = np.random.default_rng(4)
    base = _record("/photos/IMG_1234.jpg")
    micro = np.frombuffer(base.micro, np.uint8).astype(np.int64)
    middle = np.clip(micro + rng.integers(-3, 4, micro.shape), 0, 255)
    far = np.clip(middle + rng.integers(-3, 4, micro.shape), 0, 255)
    edits = [
        replace(base, path=f"/dl/IMG_1234{marker}.jpg", micro=pixels.astype(np.uint8).tobytes())
        for marker, pixels in ((" copy", middle), (" copy 2", far))
    ]
    group = [edits[0], base, edits[1]]
    assert choose_in_group(group, [False] * 3) == (1, NAMES_REASON)
    assert choose_in_group([edits[0], edits[1]], [False] * 2)[1] != NAMES_REASON


def _named_library(seed: int, count: int):
    """Groups as in test_grouping_keeper_batch, their files named with copy markers."""
    rng = np.random.default_rng(seed)
    stems = ("IMG_0042", "img_0042", "DSC0001")
    markers = ("", "", " (1)", " copy", " - Copy (2)", "-edited", "_edit", "~2", "-1", " copy 2")
    records, groups = [], []
    for g in range(count):
        size = int(rng.choice([2, 2, 3, 4, 6, 14]))
        members = group_of(rng, g, size)
        for k, record in enumerate(members):
            stem = stems[int(rng.integers(0, 3))]
            name = f"{stem}{markers[int(rng.integers(0, len(markers)))]}"
            if rng.random() < 0.15:
                name = "Copy of " + name
            if rng.random() < 0.1:
                name = name.replace("IMG_", "IMG_E")
            ext = (".jpg", ".JPG", ".heic")[int(rng.integers(0, 3))]
            members[k] = replace(record, path=f"/lib/{g}/{k}/{name}{ext}")
        groups.append(tuple(range(len(records), len(records) + size)))
        records.extend(members)
    return records, groups


@pytest.mark.parametrize("chain", CHAINS)
@pytest.mark.parametrize("seed", range(6))
def test_the_stacked_keeper_weighs_names_as_choose_in_group_does(seed, chain):
    records, groups = _named_library(seed, 60)
    is_reference = np.zeros(len(records), dtype=bool)
    assert choose_keepers(records, groups, is_reference, chain) == one_by_one(
        records, groups, is_reference, chain
    )


def test_the_named_library_reaches_the_names_step():
    """Guards the test above: names decide some groups, later steps others."""
    records, groups = _named_library(11, 600)
    is_reference = np.zeros(len(records), dtype=bool)
    chosen = choose_keepers(records, groups, is_reference, DEFAULT_KEEPER_RULES)
    assert chosen == one_by_one(records, groups, is_reference, DEFAULT_KEEPER_RULES)
    # The last step a reason names is the one that settled the group.
    settled_by = Counter(
        reason.rsplit(", then ", 1)[-1].removeprefix("kept: ") for _, reason in chosen
    )
    assert settled_by[NAMES_REASON.removeprefix("kept: ")] > 3
    assert settled_by["the others look edited from it"] > 0
    assert settled_by["saved before the others"] > 0


def test_scanned_copies_keep_the_plain_named_file(tmp_path):
    """Two downloads of one photo, the second named "(1)" by the browser, in a folder with
    a shorter path and saved first: the plain name is kept."""
    original, _ = original_and_edit(tmp_path, "brighten")
    copy = tmp_path / "dl" / "photo (1).jpg"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes() + b"\0" * 300)  # trailing bytes, same pixels
    os.utime(copy, (ORIGINAL_TIME - 3600, ORIGINAL_TIME - 3600))
    (copy.parent.parent / "downloads" / "photo-brighten.jpg").unlink()
    (group,) = groups_of(tmp_path)
    assert group.keeper.record.path == str(original)
    assert group.keep_reason == NAMES_REASON


_NAME_PARTS = (
    "copy", " copy", " - copy", "copy of ", "edit", "edited", "-edit", "_edited", " (1)",
    " (12)", "~2", "-1", "-12", "img_e", "img_", "1234", " ", "(", ")", "\u0661", "of ", "x",
    "IMG", "É", "ß", "~", "-", "0",
)


def test_the_quick_marker_check_never_skips_a_name_the_marker_pattern_matches():
    """copy_names.may_carry_marker is only a shortcut before _ANY_MARKER."""
    from dedup_gui.core.grouping.copy_names import _ANY_MARKER, may_carry_marker, stem_key

    rng = np.random.default_rng(7)
    matched = 0
    for _ in range(40_000):
        parts = rng.choice(len(_NAME_PARTS), int(rng.integers(1, 6)))
        stem = stem_key("".join(_NAME_PARTS[k] for k in parts) + ".jpg")
        if stem and _ANY_MARKER.match(stem):
            matched += 1
            assert may_carry_marker(stem), stem
    assert matched > 5_000
    for name in MARKED:
        assert may_carry_marker(stem_key(name))
