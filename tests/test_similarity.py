import pytest

from dedup_gui.core.grouping.similarity import (
    DEFAULT_SIMILARITY,
    MIN_SIMILARITY,
    NAMED_STEPS,
    distance_to_similarity,
    similarity_to_distance,
)
from dedup_gui.core.models import MatchKind


def test_hundred_percent_means_zero_differing_bits():
    assert similarity_to_distance(100) == 0
    assert distance_to_similarity(0) == 100.0


def test_default_lies_between_the_loosest_setting_and_identical():
    assert MIN_SIMILARITY < DEFAULT_SIMILARITY < 100
    assert similarity_to_distance(MIN_SIMILARITY) == 8
    assert similarity_to_distance(DEFAULT_SIMILARITY) == 6


@pytest.mark.parametrize("distance", range(65))
def test_a_distance_maps_back_to_itself(distance):
    assert similarity_to_distance(distance_to_similarity(distance)) == distance


def test_the_same_percentage_means_the_same_fraction_of_bits_for_longer_hashes():
    assert similarity_to_distance(90, bits=256) == 25  # 10% of 256 bits, rounded down
    assert distance_to_similarity(32, bits=256) == distance_to_similarity(8, bits=64)


def test_lower_similarity_never_allows_fewer_differing_bits():
    distances = [similarity_to_distance(p / 2) for p in range(0, 201)]
    assert distances == sorted(distances, reverse=True)


def test_out_of_range_settings_are_clamped():
    assert similarity_to_distance(120) == 0
    assert similarity_to_distance(-5) == 64


def test_named_steps_run_from_identical_to_the_loosest_setting():
    assert NAMED_STEPS["identical"] == 100
    assert NAMED_STEPS["default"] == DEFAULT_SIMILARITY
    assert NAMED_STEPS["loose"] == MIN_SIMILARITY
    assert all(MIN_SIMILARITY <= value <= 100 for value in NAMED_STEPS.values())


def _copy_of(tmp_path, kind):
    from tests.originals_fixtures import groups_of, original_and_edit

    original_and_edit(tmp_path, kind)
    (group,) = groups_of(tmp_path)
    return group.members[1]


@pytest.mark.parametrize(("kind", "at_most"), [("caption", 99.0), ("grayscale", 95.0)])
def test_an_edit_the_hashes_miss_is_shown_below_100_percent(tmp_path, kind, at_most):
    copy = _copy_of(tmp_path, kind)
    assert copy.match is MatchKind.VISUAL
    assert copy.similarity <= at_most
    assert round(copy.similarity) < 100  # never reads "100%"


def test_a_re_encode_is_shown_close_to_but_not_at_100_percent(tmp_path):
    copy = _copy_of(tmp_path, "reencode-higher")
    assert copy.match is MatchKind.VISUAL
    assert 97.0 <= copy.similarity < 100.0


def test_the_same_pixels_without_the_metadata_are_labelled_same_pixels(tmp_path):
    copy = _copy_of(tmp_path, "stripped")
    assert copy.match is MatchKind.SAME_PIXELS
    assert copy.similarity == 100.0


def test_a_byte_identical_copy_is_an_exact_copy(tmp_path):
    from tests.originals_fixtures import groups_of, original_and_edit

    original, _ = original_and_edit(tmp_path, "stripped")
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "photo.jpg").write_bytes(original.read_bytes())
    (group,) = groups_of(tmp_path)
    exact = [m for m in group.members[1:] if m.match is MatchKind.EXACT]
    assert len(exact) == 1 and exact[0].similarity == 100.0
