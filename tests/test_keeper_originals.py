"""The suggested keeper is the unedited original, not an edited copy that is larger."""

from __future__ import annotations

import json

import pytest

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import KeeperRule, rules_preferring
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY
from dedup_gui.core.output.export import export_document
from dedup_gui.core.scanning import scanner
from tests.originals_fixtures import groups_of, original_and_edit

EDITS = (
    "brighten", "gamma", "caption", "watermark", "grayscale", "crop",
    "reencode-lower", "reencode-higher", "resize-down", "resize-up", "stripped",
)  # fmt: skip


@pytest.mark.parametrize("saved_by", ["editor", "strip"])
@pytest.mark.parametrize("kind", EDITS)
def test_the_original_is_kept_over_a_larger_edited_copy(tmp_path, kind, saved_by):
    original, copy = original_and_edit(tmp_path, kind, saved_by=saved_by)
    (group,) = groups_of(tmp_path)
    assert {m.record.path for m in group.members} == {str(original), str(copy)}
    assert group.keeper.record.path == str(original)
    assert group.keep_reason.startswith("kept: ")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("grayscale", "kept: the others look edited from it"),
        ("reencode-higher", "kept: the others are JPEG re-encodes of it"),
        ("resize-up", "kept: the larger copies look enlarged from it"),
    ],
)
def test_with_the_camera_metadata_copied_the_pixels_and_compression_still_tell(
    tmp_path, kind, reason
):
    original, _ = original_and_edit(tmp_path, kind, saved_by="verbatim")
    (group,) = groups_of(tmp_path)
    assert group.keeper.record.path == str(original)
    assert group.keep_reason == reason


def test_a_stripped_copy_loses_to_the_one_with_the_camera_metadata(tmp_path):
    original, _ = original_and_edit(tmp_path, "stripped", saved_by="strip")
    (group,) = groups_of(tmp_path)
    assert group.keeper.record.path == str(original)
    assert group.keep_reason == "kept: has the camera's metadata"


def test_a_resized_down_copy_never_wins_even_with_the_camera_metadata(tmp_path):
    original, _ = original_and_edit(tmp_path, "resize-down", saved_by="verbatim")
    (group,) = groups_of(tmp_path)
    assert group.keeper.record.path == str(original)


def test_the_whole_family_keeps_the_original(tmp_path):
    """One original and all its edits, saved by different programs, in one scan."""
    family = tmp_path / "family"
    (family / "library").mkdir(parents=True)
    for index, kind in enumerate(EDITS):
        saved_by = ("editor", "strip")[index % 2]
        original, copy = original_and_edit(tmp_path / kind, kind, saved_by=saved_by)
        (family / "library" / "photo.jpg").write_bytes(original.read_bytes())
        (family / f"{kind}.jpg").write_bytes(copy.read_bytes())
    groups = groups_of(family)
    biggest = max(groups, key=lambda g: len(g.members))
    assert biggest.keeper.record.path == str(family / "library" / "photo.jpg")


def test_preferring_the_largest_file_still_keeps_the_larger_edit(tmp_path):
    _, copy = original_and_edit(tmp_path, "brighten")
    index = SimilarityIndex.build(scanner.scan([tmp_path]).records)
    (group,) = index.groups(MIN_SIMILARITY, keeper_rules=rules_preferring(KeeperRule.FILE_SIZE))
    assert group.keeper.record.path == str(copy)
    assert group.keep_reason == "kept: largest file"


def test_the_reason_is_exported_for_the_keeper_only(tmp_path):
    original_and_edit(tmp_path, "caption")
    document = json.loads(json.dumps(export_document(groups_of(tmp_path), [], 90)))
    reasons = [f["reason"] for f in document["groups"][0]["files"]]
    assert reasons[0].startswith("kept: ") and reasons[1:] == [""]
