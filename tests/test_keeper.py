from dataclasses import replace

import numpy as np
import pytest

from dedup_gui.core.grouping.keeper import (
    DEFAULT_KEEPER_RULES,
    KeeperRule,
    choose_keeper,
    is_in_reference,
    keeper_key,
    keeper_ranks,
    rules_preferring,
)
from dedup_gui.core.models import ImageRecord


def photo(path, *, width=4000, height=3000, size=5_000_000, capture_time=None):
    return ImageRecord(
        path=path, size=size, mtime_ns=0, width=width, height=height, format="JPEG",
        capture_time=capture_time, dhash=0, phash=0, phash_dihedral=(0,) * 8, micro=b"",
    )


def kept(records, **kwargs):
    return records[choose_keeper(records, **kwargs)].path


def test_the_copy_in_a_reference_folder_is_kept_even_if_smaller():
    records = [photo("/photos/big.jpg"), photo("/archive/small.jpg", width=800, height=600)]
    assert kept(records, reference_folders=["/archive"]) == "/archive/small.jpg"


def test_without_references_the_highest_resolution_wins():
    records = [photo("/a/small.jpg", width=800, height=600), photo("/a/large.jpg")]
    assert kept(records) == "/a/large.jpg"


def test_equal_resolution_falls_back_to_the_larger_file():
    records = [photo("/a/1.jpg", size=100), photo("/a/2.jpg", size=200)]
    assert kept(records) == "/a/2.jpg"


def test_then_the_earliest_capture_date_and_a_dated_copy_beats_an_undated_one():
    records = [
        photo("/a/undated.jpg"),
        photo("/a/late.jpg", capture_time="2021-05-01T10:00:00"),
        photo("/a/early.jpg", capture_time="2019-05-01T10:00:00"),
    ]
    assert kept(records) == "/a/early.jpg"


def test_then_the_shorter_path():
    records = [photo("/a/deeper/folder/img.jpg"), photo("/a/img.jpg")]
    assert kept(records) == "/a/img.jpg"


def test_rule_order_is_configurable():
    records = [
        photo("/a/large.jpg", size=100),
        photo("/a/small.jpg", width=10, height=10, size=999),
    ]
    assert kept(records) == "/a/large.jpg"
    assert kept(records, rules=[KeeperRule.FILE_SIZE, KeeperRule.RESOLUTION]) == "/a/small.jpg"


def test_a_preferred_rule_decides_first_but_a_reference_copy_is_still_kept():
    records = [
        photo("/a/large.jpg", capture_time="2021-05-01T10:00:00"),
        photo("/a/small_early.jpg", width=800, height=600, capture_time="2019-05-01T10:00:00"),
        photo("/ref/tiny_late.jpg", width=80, height=60, capture_time="2022-01-01T00:00:00"),
    ]
    earliest = rules_preferring(KeeperRule.CAPTURE_DATE)
    assert kept(records[:2], rules=earliest) == "/a/small_early.jpg"
    assert kept(records, rules=earliest, reference_folders=["/ref"]) == "/ref/tiny_late.jpg"
    assert sorted(earliest) == sorted(DEFAULT_KEEPER_RULES)
    assert rules_preferring(KeeperRule.ORIGINAL) == DEFAULT_KEEPER_RULES


def test_the_choice_does_not_depend_on_input_order():
    records = [photo("/a/b.jpg"), photo("/a/a.jpg"), photo("/a/c.jpg")]
    choices = {kept(order) for order in (records, records[::-1], records[1:] + records[:1])}
    assert choices == {"/a/a.jpg"}


def test_default_rules_follow_the_documented_order():
    assert list(DEFAULT_KEEPER_RULES) == [
        KeeperRule.REFERENCE_FOLDER, KeeperRule.RAW_FIRST, KeeperRule.ORIGINAL,
        KeeperRule.RESOLUTION,
        KeeperRule.FILE_SIZE,
        KeeperRule.CAPTURE_DATE, KeeperRule.SHORTER_PATH,
    ]


def test_choose_keeper_refuses_an_empty_group():
    with pytest.raises(ValueError):
        choose_keeper([])


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("/photos/ref/a.jpg", True),
        ("/photos/ref/deep/er/a.jpg", True),
        ("/photos/ref", True),
        ("/photos/reference-old/a.jpg", False),
        ("/photos/re/a.jpg", False),
        ("/photos/ref/../other/a.jpg", False),
        ("/elsewhere/photos/ref/a.jpg", False),
    ],
)
def test_reference_membership_compares_whole_path_components(path, inside):
    assert is_in_reference(path, ["/photos/ref"]) is inside
    assert is_in_reference(path, ["/photos/ref/"]) is inside


def test_relative_reference_folders_are_resolved_against_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert is_in_reference(str(tmp_path / "ref" / "a.jpg"), ["ref"])


def test_no_reference_folders_means_nothing_is_protected():
    assert not is_in_reference("/photos/a.jpg", [])
    record = photo("/photos/a.jpg")
    assert kept([record, replace(record, path="/photos/b.jpg")], reference_folders=[]) == (
        "/photos/a.jpg"
    )


def test_library_wide_ranking_agrees_with_the_per_group_choice():
    """The grouping ranks a whole library at once; it must pick the same keepers."""
    records = [
        photo(f"/lib/{'deep/' * (k % 3)}{k}.jpg", width=1000 + 100 * (k % 4), size=k % 5,
              capture_time=None if k % 2 else f"2020-01-{1 + k % 9:02d}T00:00:00")
        for k in range(40)
    ]
    is_reference = np.array([k % 7 == 0 for k in range(40)])
    for rules in (DEFAULT_KEEPER_RULES, DEFAULT_KEEPER_RULES[::-1], (KeeperRule.CAPTURE_DATE,)):
        rank = keeper_ranks(records, is_reference, rules)
        expected = sorted(
            range(40), key=lambda k: keeper_key(records[k], bool(is_reference[k]), rules)
        )
        assert np.argsort(rank).tolist() == expected
