"""A crop or a captioned copy is not kept over its original when the copy kept the camera's
EXIF verbatim and the original's file time (only the pixels tell them apart)."""

from __future__ import annotations

from dataclasses import replace
from itertools import permutations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dedup_gui.core.grouping.framing import edited_by_framing
from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, KeeperRule
from dedup_gui.core.grouping.keeper_batch import choose_keepers
from dedup_gui.core.models import MICRO_SIDE
from dedup_gui.core.scanning import scanner
from tests.imagegen import make_photo
from tests.originals_fixtures import groups_of, original_and_edit
from tests.test_grouping_keeper_batch import one_by_one


@pytest.mark.parametrize("kind", ["crop", "caption"])
def test_a_crop_or_caption_with_the_camera_metadata_copied_loses_to_its_original(
    tmp_path, kind
):
    original, _ = original_and_edit(tmp_path, kind, saved_by="verbatim")
    (group,) = groups_of(tmp_path)
    assert group.keeper.record.path == str(original)
    assert group.keep_reason == "kept: the others look edited from it"


def _micro(image: Image.Image) -> bytes:
    return image.resize((MICRO_SIDE, MICRO_SIDE), Image.Resampling.BOX).tobytes()


def _pair(edit: str, seed: int = 3):
    from tests.test_keeper_names import _record

    photo = make_photo(seed, 480, 360)
    if edit == "crop":
        copy = photo.crop((40, 20, 440, 320))  # 83% of the width, off centre
    elif edit == "bar":
        copy = photo.copy()
        ImageDraw.Draw(copy).rectangle((0, 300, 480, 360), fill=(255, 255, 255))
    else:
        copy = Image.fromarray(np.clip(np.asarray(photo, np.int16) + 25, 0, 255).astype(np.uint8))
    base = _record("/photos/photo.jpg")
    bar_detail = bytes([20] * 16 + [40, 0]) if edit == "bar" else bytes([20] * 16 + [0, 0])
    original = replace(base, micro=_micro(photo), width=480, height=360,
                       detail=bytes([20] * 16 + [0, 0]))  # fmt: skip
    edited = replace(base, path="/dl/photo.jpg", micro=_micro(copy), width=copy.width,
                     height=copy.height, detail=bar_detail)  # fmt: skip
    return original, edited


@pytest.mark.parametrize("edit", ["crop", "bar"])
def test_the_copy_is_told_from_the_original_one_way_only(edit):
    original, copy = _pair(edit)
    assert edited_by_framing(copy, original)
    assert not edited_by_framing(original, copy)


def test_a_tone_edit_or_the_same_picture_is_no_framing_evidence():
    original, brighter = _pair("brighten")
    assert not edited_by_framing(brighter, original)
    assert not edited_by_framing(original, brighter)
    assert not edited_by_framing(original, original)


def test_the_stacked_keeper_weighs_framing_as_choose_in_group_does(tmp_path):
    """Scanned originals with crops, captions and other edits, in groups of two and three
    in every order: the same keeper and reason either way."""
    for kind in ("crop", "caption", "watermark", "brighten", "reencode-lower"):
        original_and_edit(tmp_path / kind, kind, saved_by="verbatim", seed=7)
    records = scanner.scan([tmp_path]).records
    originals = [i for i, r in enumerate(records) if "/library/" in r.path]
    edits = [i for i, r in enumerate(records) if "/library/" not in r.path]
    groups = [(o, e) for o in originals for e in edits]
    groups += [p for o in originals for e in edits for f in edits if e < f
               for p in permutations((o, e, f))]  # fmt: skip
    is_reference = np.zeros(len(records), dtype=bool)
    for chain in (DEFAULT_KEEPER_RULES, (KeeperRule.ORIGINAL,)):
        assert choose_keepers(records, groups, is_reference, chain) == one_by_one(
            records, groups, is_reference, chain
        )
