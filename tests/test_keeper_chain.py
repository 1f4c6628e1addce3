"""The three newer keeper rules (modification date, folder priority, format preference) and
a chain applied to many groups at once, as the rule-chain dialog does."""

from __future__ import annotations

import random
from dataclasses import replace

from test_review_marks import record

from dedup_gui.core.decisions.apply_rules import ReviewColumns, apply_chain
from dedup_gui.core.grouping.keeper import (
    DEFAULT_KEEPER_RULES,
    KeeperRule,
    RuleOrder,
    choose_in_group,
    keeper_key,
    keeper_ranks,
)
from dedup_gui.core.models import DuplicateGroup, GroupMember, MatchKind


def shot(path: str, **changes) -> object:
    return replace(record(path), **changes)


def test_the_earliest_modified_copy_wins_the_modification_date_rule():
    older = shot("/b/x.jpg", mtime_ns=1_000)
    newer = shot("/a/x.jpg", mtime_ns=2_000)
    keeper, reason = choose_in_group([newer, older], [False, False],
                                     (KeeperRule.MODIFICATION_DATE,))
    assert keeper == 1 and reason == "kept: earliest modification date"


def test_a_copy_in_a_folder_listed_earlier_wins_whatever_its_depth():
    rule = RuleOrder(KeeperRule.FOLDER_PRIORITY, ("/photos/best", "/photos"))
    records = [shot("/photos/2020/x.jpg"), shot("/photos/best/deep/x.jpg"), shot("/dl/x.jpg")]
    keeper, reason = choose_in_group(records, [False] * 3, (rule,))
    assert keeper == 1 and reason == "kept: in the folder you rank first"
    # whole folder names only: /photos/bestof is not /photos/best
    assert choose_in_group([shot("/photos/bestof/x.jpg"), shot("/photos/x.jpg")],
                           [False, False], (rule, KeeperRule.SHORTER_PATH))[0] == 1


def test_the_format_listed_first_wins_and_unlisted_formats_come_last():
    rule = RuleOrder(KeeperRule.FORMAT_PREFERENCE, ("HEIF", "JPEG", "PNG"))
    records = [shot("/a.png", format="PNG"), shot("/a.gif", format="GIF"),
               shot("/a.heic", format="HEIF"), shot("/a.jpg", format="JPEG")]
    keeper, reason = choose_in_group(records, [False] * 4, (rule,))
    assert records[keeper].format == "HEIF" and reason == "kept: in the format you prefer"
    assert choose_in_group(records[:2], [False] * 2, (rule,))[0] == 0  # PNG over GIF


def test_the_bare_rules_have_defaults_and_the_old_chain_is_unchanged():
    assert keeper_key(shot("/x.jpg"), False, DEFAULT_KEEPER_RULES) == keeper_key(
        shot("/x.jpg"), False, DEFAULT_KEEPER_RULES)
    heic, png = shot("/a.heic", format="HEIF"), shot("/b.png", format="PNG")
    assert choose_in_group([png, heic], [False, False], (KeeperRule.FORMAT_PREFERENCE,))[0] == 1
    # no folders listed: the rule does not decide, the next one does
    assert choose_in_group([shot("/long/a.jpg"), shot("/b.jpg")], [False, False],
                           (KeeperRule.FOLDER_PRIORITY, KeeperRule.SHORTER_PATH))[0] == 1


def test_the_library_wide_ranks_agree_with_the_per_copy_key():
    rules = (RuleOrder(KeeperRule.FORMAT_PREFERENCE, ("PNG", "JPEG")),
             RuleOrder(KeeperRule.FOLDER_PRIORITY, ("/b",)), KeeperRule.MODIFICATION_DATE)
    records = [shot(f"/{folder}/{k}.x", format=fmt, mtime_ns=mtime)
               for k, (folder, fmt, mtime) in enumerate(
                   [("a", "PNG", 5), ("b", "JPEG", 1), ("b", "PNG", 9), ("a", "PNG", 2)])]
    import numpy as np

    ranks = keeper_ranks(records, np.zeros(4, bool), rules)
    by_key = sorted(range(4), key=lambda k: keeper_key(records[k], False, rules))
    assert list(np.argsort(ranks)) == by_key


# ----- a chain applied to many groups ------------------------------------------------------

FOLDERS = ("/lib/2019", "/lib/2020", "/dl", "/backup/old", "/lib/2020/edits")
FORMATS = ("JPEG", "PNG", "HEIF", "RAW (CR2)", "WEBP")


def generated_groups(count: int, seed: int = 7) -> list[DuplicateGroup]:
    rng = random.Random(seed)
    groups = []
    for g in range(count):
        members = []
        for k in range(rng.randint(2, 5)):
            folder = rng.choice(FOLDERS)
            rec = replace(
                record(f"{folder}/img{g}_{k}.jpg", size=rng.choice([1000, 2000, 3000])),
                width=rng.choice([100, 200]), height=100, format=rng.choice(FORMATS),
                mtime_ns=rng.choice([1, 2, 3]) * 10**9,
                capture_time=rng.choice([None, "2020-01-01T00:00:00", "2019-05-05T00:00:00"]),
            )
            reference = folder == "/backup/old" and rng.random() < 0.5
            members.append(GroupMember(rec, keep=k == 0 or reference, is_reference=reference,
                                       distance=0, similarity=100.0, match=MatchKind.VISUAL))
        groups.append(DuplicateGroup(tuple(members)))
    return groups


CHAINS = [
    DEFAULT_KEEPER_RULES,
    (KeeperRule.REFERENCE_FOLDER, RuleOrder(KeeperRule.FOLDER_PRIORITY, ("/dl", "/lib")),
     KeeperRule.RESOLUTION, KeeperRule.SHORTER_PATH),
    (KeeperRule.REFERENCE_FOLDER, RuleOrder(KeeperRule.FORMAT_PREFERENCE, ("PNG", "HEIF")),
     KeeperRule.MODIFICATION_DATE, KeeperRule.CAPTURE_DATE, KeeperRule.FILE_SIZE),
    (KeeperRule.REFERENCE_FOLDER, KeeperRule.CAPTURE_DATE, KeeperRule.ORIGINAL,
     KeeperRule.FILE_SIZE),
]


def test_applying_a_chain_to_many_groups_picks_the_keeper_each_group_would_pick_alone():
    groups = generated_groups(1000)
    columns = ReviewColumns.of(groups)
    apply_chain(columns, CHAINS[3], rows=range(0, 1000, 7))  # some verdicts remembered first
    for rules in CHAINS:
        marks = apply_chain(columns, rules)
        for row, keeper in zip(marks.rows.tolist(), marks.keeper.tolist(), strict=True):
            records = [m.record for m in groups[row].members]
            expected, _ = choose_in_group(
                records, [m.is_reference for m in groups[row].members], rules)
            assert keeper == expected, (rules, row)


def test_the_marks_keep_the_keeper_and_protected_copies_and_only_in_the_chosen_groups():
    groups = generated_groups(50)
    columns = ReviewColumns.of(groups)
    marks = apply_chain(columns, (KeeperRule.REFERENCE_FOLDER, KeeperRule.FILE_SIZE), rows=[3, 7])
    assert marks.rows.tolist() == [3, 7]
    members = [m for row in (3, 7) for m in groups[row].members]
    assert len(marks.keep) == len(members)
    for member, keep in zip(members, marks.keep.tolist(), strict=True):
        if member.is_reference:
            assert keep
    for row, keeper in zip((3, 7), marks.keeper.tolist(), strict=True):
        sizes = [m.record.size for m in groups[row].members]
        assert groups[row].members[keeper].is_reference or sizes[keeper] == max(sizes)
    start = 0
    for row in (3, 7):
        kept = marks.keep[start:start + len(groups[row].members)]
        assert kept.sum() == 1 + sum(m.is_reference for m in groups[row].members
                                     if m is not groups[row].members[
                                         marks.keeper[(3, 7).index(row)]])
        start += len(groups[row].members)


def test_the_index_suggests_the_keeper_of_a_chain_with_a_folder_list():
    from grouping_records import record as image_record
    from imagegen import make_photo

    from dedup_gui.core.grouping.index import SimilarityIndex

    photo = make_photo(4, 160, 120)
    records = [image_record(photo, path) for path in ("/a/x.png", "/b/x.png", "/c/x.png")]
    index = SimilarityIndex.build(records)
    by_folder = (KeeperRule.REFERENCE_FOLDER, RuleOrder(KeeperRule.FOLDER_PRIORITY, ("/c", "/b")))
    [group] = index.groups(90, keeper_rules=by_folder)
    assert group.keeper.record.path == "/c/x.png"
    assert group.keep_reason == "kept: in the folder you rank first"
    other_list = (KeeperRule.REFERENCE_FOLDER, RuleOrder(KeeperRule.FOLDER_PRIORITY, ("/b",)))
    [group] = index.groups(90, keeper_rules=other_list)  # another list: not the cached keeper
    assert group.keeper.record.path == "/b/x.png"
