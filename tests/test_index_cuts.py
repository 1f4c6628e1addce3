"""The slider's groups, cut from cached arrays and reused across positions, are exactly the
groups the plain algorithm makes: every merge of the minimax linkage, and every group at
every slider position in any order of moves, for libraries with byte copies, RAW+JPEG
pairs, protected folders and "not duplicates" pairs."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup_gui.core.grouping import linkage
from dedup_gui.core.grouping.components import component_labels
from dedup_gui.core.grouping.index import SimilarityIndex, _keeper_after_crops_and_pairs
from dedup_gui.core.grouping.keeper_batch import choose_keepers
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY, similarity_to_distance
from dedup_gui.core.models import DuplicateGroup, ImageRecord, MatchKind

POSITIONS = (87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 100)


def library(seed: int, families: int) -> list[ImageRecord]:
    """Families of near copies (0-7 hash bits apart, so they split along the slider),
    some byte-identical copies, RAW+JPEG pairs by stem and by capture time, and a few
    photos of their own."""
    rng = np.random.default_rng(seed)
    records: list[ImageRecord] = []

    def add(path: str, phash: int, dhash: int, micro: np.ndarray, **extra: object) -> None:
        records.append(ImageRecord(
            path=path, size=int(extra.pop("size", rng.integers(1000, 9000))), mtime_ns=0,
            width=int(extra.pop("width", rng.choice([4000, 2000]))), height=3000,
            format=str(extra.pop("format", "JPEG")),
            capture_time=extra.pop("capture_time", None),  # type: ignore[arg-type]
            dhash=dhash, phash=phash, phash_dihedral=(phash,) * 8, micro=micro.tobytes(),
            **extra,  # type: ignore[arg-type]
        ))

    for family in range(families):
        phash, dhash = (int(v) for v in rng.integers(0, 2**63, 2))
        micro = rng.integers(0, 256, 768, dtype=np.uint8)
        folder = f"/lib/{'keep' if family % 5 == 0 else 'inbox'}/{family}"
        time = f"2021:01:{family % 28 + 1:02d} 10:00:00" if rng.random() < 0.5 else None
        for copy in range(int(rng.integers(1, 7))):
            flips = rng.choice(64, int(rng.integers(0, 8)), replace=False).tolist()
            noisy = np.clip(micro + rng.integers(-3, 4, 768), 0, 255).astype(np.uint8)
            kind = rng.random()
            if kind < 0.15 and copy:  # a byte copy of the previous file
                last = records[-1]
                add(f"{folder}/copy{copy}.jpg", last.phash, last.dhash,
                    np.frombuffer(last.micro, np.uint8), size=last.size, width=last.width,
                    content_digest=last.content_digest or bytes([family % 256, copy]))
                records[-2] = _with_digest(records[-2], records[-1].content_digest)
                continue
            fmt = "RAW (NEF)" if kind < 0.35 else "JPEG"
            stem = "IMG_0001" if kind < 0.5 else f"IMG_{copy:04d}"
            extension = "nef" if fmt != "JPEG" else "jpg"
            add(f"{folder}/{stem}.{extension}", phash ^ sum(1 << b for b in flips),
                dhash ^ sum(1 << b for b in flips[:3]), noisy, format=fmt, capture_time=time)
    return records


def _with_digest(record: ImageRecord, digest: bytes | None) -> ImageRecord:
    from dataclasses import replace

    return replace(record, content_digest=digest)


def reference_groups(
    index: SimilarityIndex, similarity: float, references: tuple[str, ...],
    policy: RawJpegPolicy,
) -> list[DuplicateGroup]:
    """groups() as it was: the cut labelled over every record, keepers chosen afresh."""
    threshold = similarity_to_distance(max(similarity, MIN_SIMILARITY))
    merges = int(np.searchsorted(index._merge_height, threshold, side="right"))
    if merges == 0:
        return []
    count = len(index.records)
    labels = component_labels(count, index._merge_first[:merges], index._merge_second[:merges])
    grouped = np.flatnonzero(np.bincount(labels)[labels] > 1)
    context = index._policy_context(references, index_rules(), policy)
    grouped = grouped[np.lexsort((grouped, labels[grouped]))]
    group_labels = labels[grouped]
    starts = np.flatnonzero(np.r_[True, group_labels[1:] != group_labels[:-1]])
    bounds = np.r_[starts, len(grouped)].tolist()
    member_sets = [tuple(grouped[a:b].tolist()) for a, b in pairwise(bounds)]
    chosen = choose_keepers(index.records, member_sets, context.is_reference, context.rules)
    chosen = [
        _keeper_after_crops_and_pairs(index, members, keeper, reason, context)
        for members, (keeper, reason) in zip(member_sets, chosen, strict=True)
    ]
    is_keeper = np.zeros(len(grouped), dtype=bool)
    reasons = {}
    for start, members, (keeper, reason) in zip(bounds, member_sets, chosen, strict=False):
        is_keeper[start + members.index(keeper)] = True
        reasons[keeper] = reason
    grouped = grouped[np.lexsort((context.rank[grouped], ~is_keeper, group_labels))]
    keepers = np.repeat(grouped[starts], np.diff(np.r_[starts, len(grouped)]))
    others = grouped != keepers
    effective = np.zeros(len(grouped), np.uint8)
    phash = np.zeros(len(grouped), np.uint8)
    effective[others], phash[others] = index._keeper_distances(keepers[others], grouped[others])
    exact = (index._exact_class[grouped] >= 0) & (
        index._exact_class[grouped] == index._exact_class[keepers]
    )
    effective[exact] = 0
    phash[exact] = 0
    exact[starts] = np.add.reduceat((exact & others).astype(np.int64), starts) > 0
    order = np.lexsort((context.rank[grouped], effective, others, group_labels))
    grouped, effective, phash, exact = grouped[order], effective[order], phash[order], exact[order]
    freed_member = others & ~context.is_reference[grouped]
    if context.pairs is not None and context.pairs.any:
        freed_member &= ~context.pairs.held(grouped, keepers)
    reclaimable = np.add.reduceat(np.where(freed_member, index._sizes[grouped], 0), starts)
    group_order = np.lexsort((index._path_rank[grouped[starts]], -reclaimable))
    ordered = [tuple(grouped[a:b].tolist()) for a, b in pairwise(bounds)]
    finer = index._finer_similarities(ordered)
    made = [
        index._make_group(members, effective[a:b], phash[a:b], exact[a:b], context,
                          reasons[members[0]], shown)
        for members, a, b, shown in zip(ordered, bounds, bounds[1:], finer, strict=False)
    ]
    return [made[g] for g in group_order.tolist()]


def index_rules():
    from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES

    return DEFAULT_KEEPER_RULES


def heap_linkage(count, first, second, distance, apart=None):
    """minimax_linkage with every component through the per-component heap."""
    limit = linkage.STACKED_COMPONENT_LIMIT
    linkage.STACKED_COMPONENT_LIMIT = 2
    try:
        return linkage.minimax_linkage(count, first, second, distance, apart=apart)
    finally:
        linkage.STACKED_COMPONENT_LIMIT = limit


def assert_same_merges(ours, theirs) -> None:
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, reference)


@st.composite
def graphs(draw: st.DrawFn):
    count = draw(st.integers(3, 30))
    pairs = draw(st.lists(
        st.tuples(st.integers(0, count - 1), st.integers(0, count - 1), st.integers(0, 9)),
        min_size=1, max_size=90,
    ))
    edges = {(min(a, b), max(a, b)): d for a, b, d in pairs if a != b}
    apart = [(a, b) for a, b in draw(st.lists(
        st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=8,
    )) if a != b]
    reverse = draw(st.booleans())
    first = np.array([b if reverse else a for a, b in edges], np.int64)
    second = np.array([a if reverse else b for a, b in edges], np.int64)
    distance = np.array(list(edges.values()), np.int64)
    apart_pairs = (np.array([a for a, _ in apart], np.int64),
                   np.array([b for _, b in apart], np.int64))
    return count, first, second, distance, apart_pairs


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_stacked_linkage_makes_the_heaps_merges_exactly(graph):
    count, first, second, distance, apart = graph
    assert_same_merges(
        linkage.minimax_linkage(count, first, second, distance, apart=apart),
        heap_linkage(count, first, second, distance, apart=apart),
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 10**6),
    st.permutations(POSITIONS),
    st.sampled_from(list(RawJpegPolicy)),
    st.booleans(),
)
def test_every_slider_position_in_any_order_gives_the_plain_algorithms_groups(
    seed, moves, policy, protected
):
    records = library(seed, families=40)
    references = ("/lib/keep",) if protected else ()
    index = SimilarityIndex.build(records)
    # Some verified pairs marked "not duplicates" (both by stem and across families).
    first, second = np.divmod(index._pair_keys, len(records))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(first), min(len(first), 6), replace=False) if len(first) else []
    index = index.with_apart(first[chosen], second[chosen])
    plain = SimilarityIndex(
        records, index._signals, first, second, index._pair_phash, index._pair_effective,
        False, merges=heap_linkage(
            len(records), first, second, index._pair_effective, apart=index.apart
        ), apart=index.apart,
    )
    assert_same_merges(
        (index._merge_first, index._merge_second, index._merge_height),
        (plain._merge_first, plain._merge_second, plain._merge_height),
    )
    for similarity in (*moves, *moves[:4]):
        shown = index.groups(similarity, reference_folders=references, raw_jpeg_policy=policy)
        expected = reference_groups(plain, similarity, references, policy)
        assert shown == expected, similarity


def test_the_generated_libraries_hold_what_the_equality_test_is_about():
    records = library(7, families=40)
    index = SimilarityIndex.build(records)
    loose = index.groups(MIN_SIMILARITY)
    strict = index.groups(96)
    assert len(loose) >= 10
    assert {frozenset(m.record.path for m in g.members) for g in loose} != {
        frozenset(m.record.path for m in g.members) for g in strict
    }, "the slider splits some groups"
    assert any(m.pair_of for g in loose for m in g.members), "RAW+JPEG pairs"
    assert any(m.match is MatchKind.EXACT for g in loose for m in g.members), "byte copies"
    sizes = {len(g.members) for g in loose}
    assert max(sizes) >= 3


@pytest.mark.parametrize("similarity", [87, 90, 95])
def test_a_repeated_position_returns_a_list_the_caller_may_change(similarity):
    index = SimilarityIndex.build(library(3, families=30))
    shown = index.groups(similarity)
    shown.clear()
    expected = reference_groups(index, similarity, (), RawJpegPolicy.KEEP_BOTH)
    assert index.groups(similarity) == expected


def test_the_slider_is_told_fast_only_once_every_cut_is_built():
    index = SimilarityIndex.build(library(7, families=40))
    assert not index.has_keeper_context(())
    index.groups(90)  # a command's one call builds its own cut only
    assert not index.has_keeper_context(())
    index.groups(96)  # a second cut: every reachable one is built now
    assert index.has_keeper_context(())
    for similarity in POSITIONS:
        expected = reference_groups(index, similarity, (), RawJpegPolicy.KEEP_BOTH)
        assert index.groups(similarity) == expected


def test_members_made_field_by_field_are_the_constructors():
    from dedup_gui.core.models import GroupMember, group_members

    records = library(3, 2)[:2]
    made = group_members(
        record=records, keep=[True, False], is_reference=[False, True], distance=[0, 4],
        similarity=[100.0, 93.5], match=[MatchKind.VISUAL, MatchKind.SAME_PIXELS],
        keep_reason=["kept: most pixels", ""], pair_of=[None, "/x.nef"],
    )
    expected = [
        GroupMember(records[0], True, False, 0, 100.0, MatchKind.VISUAL, "kept: most pixels"),
        GroupMember(records[1], False, True, 4, 93.5, MatchKind.SAME_PIXELS, pair_of="/x.nef"),
    ]
    assert made == expected
    assert [repr(m) for m in made] == [repr(m) for m in expected]
    with pytest.raises(TypeError):
        group_members(record=records, keep=[True, False])
    with pytest.raises(TypeError):
        group_members(record=records, colour=[1, 2])
