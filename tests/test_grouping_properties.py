"""Properties that must hold for any library: deterministic groups, a member that matches
every other member (no chaining), and a looser setting never splitting a group."""

from dataclasses import replace
from functools import cache

import numpy as np
from grouping_records import record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagegen import make_photo

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY, similarity_to_distance
from dedup_gui.core.grouping.verification import Signals, evaluate_pairs
from dedup_gui.core.models import ImageRecord

SETTINGS = (100, 96, 93, 90, MIN_SIMILARITY)


@cache
def base_records() -> tuple[ImageRecord, ...]:
    return tuple(record(make_photo(seed, 96, 72), f"/base/{seed}.png") for seed in range(5))


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


@st.composite
def libraries(draw: st.DrawFn) -> list[ImageRecord]:
    """Near copies of a few photos: some hash bits flipped, the thumbnail slightly noisy,
    sometimes a byte-identical duplicate."""
    count = draw(st.integers(2, 12))
    records = []
    for k in range(count):
        base = base_records()[draw(st.integers(0, len(base_records()) - 1))]
        phash = flip(base.phash, draw(st.lists(st.integers(0, 63), max_size=6, unique=True)))
        dhash = flip(base.dhash, draw(st.lists(st.integers(0, 63), max_size=8, unique=True)))
        noise = np.random.default_rng(draw(st.integers(0, 1000))).integers(-4, 5, 768)
        micro = np.clip(np.frombuffer(base.micro, np.uint8) + noise, 0, 255).astype(np.uint8)
        exact = draw(st.booleans()) and records
        if exact:
            records.append(replace(records[-1], path=f"/lib/{k}.png"))
            continue
        records.append(
            replace(
                base,
                path=f"/lib/{k}.png",
                size=draw(st.integers(1, 10**6)),
                phash=phash,
                dhash=dhash,
                phash_dihedral=(phash, *base.phash_dihedral[1:]),
                micro=micro.tobytes(),
                content_digest=None,
            )
        )
    return records


def as_sets(groups) -> set[frozenset[str]]:
    return {frozenset(m.record.path for m in g.members) for g in groups}


PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(libraries(), st.randoms(use_true_random=False))
def test_grouping_is_deterministic_whatever_the_input_order(records, random):
    shuffled = list(records)
    random.shuffle(shuffled)
    first, second = SimilarityIndex.build(records), SimilarityIndex.build(shuffled)
    for similarity in SETTINGS:
        one, two = first.groups(similarity), second.groups(similarity)
        assert as_sets(one) == as_sets(two)
        assert [g.keeper.record.path for g in one] == [g.keeper.record.path for g in two]


@PROPERTY_SETTINGS
@given(libraries())
def test_every_group_has_a_member_matching_all_others_within_the_setting(records):
    index = SimilarityIndex.build(records)
    signals = Signals.from_records(records)
    position = {r.path: k for k, r in enumerate(records)}
    for similarity in SETTINGS:
        threshold = similarity_to_distance(similarity)
        for group in index.groups(similarity):
            members = np.array([position[m.record.path] for m in group.members])
            first = np.repeat(members, len(members))
            second = np.tile(members, len(members))
            evidence = evaluate_pairs(signals, first, signals, second)
            within = evidence.effective_distance <= threshold
            same_bytes = np.array(
                [records[a].path == records[b].path or (
                    records[a].content_digest is not None
                    and records[a].content_digest == records[b].content_digest
                ) for a, b in zip(first.tolist(), second.tolist(), strict=True)]
            )
            matches = (within | same_bytes).reshape(len(members), len(members))
            assert matches.all(axis=1).any(), "no member matches the whole group"


@PROPERTY_SETTINGS
@given(libraries())
def test_a_looser_setting_never_splits_a_group(records):
    index = SimilarityIndex.build(records)
    previous = None
    for similarity in SETTINGS:  # from strict to loose
        current = as_sets(index.groups(similarity))
        if previous is not None:
            for group in previous:
                assert any(group <= looser for looser in current)
        previous = current


@PROPERTY_SETTINGS
@given(libraries(), st.sampled_from([(), ("/lib",), ("/elsewhere",)]))
def test_keep_marks_follow_the_keeper_and_the_reference_folders(records, references):
    index = SimilarityIndex.build(records)
    for group in index.groups(MIN_SIMILARITY, reference_folders=references):
        keeper, *others = group.members
        assert keeper.keep and keeper.distance == 0 and keeper.similarity == 100.0
        for member in others:
            assert member.keep == member.is_reference
            assert member.is_reference == bool(references == ("/lib",))


def described(groups) -> list[list[tuple[str, bool, float, str]]]:
    return [
        [(m.record.path, m.keep, round(m.similarity, 6), m.match.name) for m in g.members]
        for g in groups
    ]


@PROPERTY_SETTINGS
@given(libraries(), st.booleans(), st.data())
def test_dropping_files_from_an_index_groups_as_a_rebuild_without_them_would(
    records, match_transforms, data
):
    paths = [r.path for r in records]
    gone = set(data.draw(st.lists(st.sampled_from(paths), max_size=len(paths), unique=True)))
    rebuilt = SimilarityIndex.build(
        [r for r in records if r.path not in gone], match_transforms=match_transforms
    )
    shrunk = SimilarityIndex.build(records, match_transforms=match_transforms).without(gone)
    assert [r.path for r in shrunk.records] == [r.path for r in rebuilt.records]
    for similarity in SETTINGS:
        assert described(shrunk.groups(similarity)) == described(rebuilt.groups(similarity))
