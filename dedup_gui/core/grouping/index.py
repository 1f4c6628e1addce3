"""Duplicate groups that do not chain, regrouped at any slider value from cached pairs.

`SimilarityIndex.build` does the expensive work once: the candidate search down to
MIN_SIMILARITY, verification of every candidate (verification.py), and a minimax-linkage
dendrogram over the verified pairs (linkage.py). Every group cut from it has a prototype
that is a verified match, within the cut's distance, of *every* member: a star, so A~B~C
never links A to C by way of B; and since a looser cut only merges groups, moving the
slider never splits one. `groups(similarity)` is therefore just a cut: a prefix of the
merge list, a vectorised connected-components pass, and the keeper ranking; a group is
built once per keeper ranking and reused at every slider position that shows it (cuts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from dedup_gui.core.collector import collector_paused
from dedup_gui.core.grouping import candidates
from dedup_gui.core.grouping.arrays import distinct
from dedup_gui.core.grouping.components import component_labels
from dedup_gui.core.grouping.cuts import BuiltGroups, Cut, Cuts
from dedup_gui.core.grouping.keeper import (
    DEFAULT_KEEPER_RULES,
    KeeperRule,
    ReferenceFolders,
    keeper_ranks,
    path_ranks,
)
from dedup_gui.core.grouping.keeper_batch import choose_keepers
from dedup_gui.core.grouping.linkage import minimax_linkage
from dedup_gui.core.grouping.raw_pairs import (
    NO_COMPANION,
    PairPolicy,
    RawJpegPolicy,
    find_companions,
)
from dedup_gui.core.grouping.record_columns import RecordColumns
from dedup_gui.core.grouping.similarity import (
    MIN_SIMILARITY,
    SAME_PICTURE_CAP,
    distance_to_similarity,
    paired_thumbnail_similarities,
    shown_similarity,
    similarity_to_distance,
)
from dedup_gui.core.grouping.verification import (
    BUILD_SIGNAL_THREADS,
    REJECTED,
    Signals,
    evaluate_pairs,
)
from dedup_gui.core.models import (
    CancelToken,
    DuplicateGroup,
    GroupMember,
    ImageRecord,
    MatchKind,
    group_members,
)

if TYPE_CHECKING:
    from dedup_gui.core.deep.links import DeepLinks
    from dedup_gui.core.deep.verify import DeepSearch

Progress = Callable[[int, int], None]
PairRows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(first, second, pHash distance, effective distance) of verified pairs."""
VERIFY_BATCH = 1 << 18
"""Candidate pairs gathered from the join before they are verified."""
VERIFY_SLICE = 4096
"""Candidate pairs per evaluate_pairs call: its (pairs, 64) temporaries (~1 MB each) stay
in the CPU's cache, and ~60 numpy calls a slice cost nothing beside them."""
VERIFY_THREADS = 2
"""Threads the verification slices of one batch share."""
_ContextKey = tuple[tuple[str, ...], tuple[KeeperRule, ...]]
_HASH_SIMILARITY = np.array([distance_to_similarity(distance) for distance in range(256)])
"""distance_to_similarity of every effective distance (uint8)."""


@dataclass(frozen=True, slots=True)
class _KeeperContext:
    rank: np.ndarray
    """Position of each record in keeper order (0 = best keeper) among the records a
    merge names (Cuts.nodes); the others, never grouped, rank after them all."""
    is_reference: np.ndarray
    """Per record, in a reference folder (checked for the records a merge names)."""
    rules: tuple[KeeperRule, ...] = DEFAULT_KEEPER_RULES
    keepers: dict[int, tuple[int, str]] | None = None
    """(keeper, reason) per group, by its Cut key (cuts.py): the chain's group rules
    (originals.py) look at all members, and a group's members decide it alone."""
    pairs: PairPolicy | None = None
    """RAW+JPEG pairs and what to do with them (raw_pairs.py)."""


class SimilarityIndex:
    """Verified pairs and their complete-linkage merges for one set of records."""

    def __init__(
        self,
        records: Sequence[ImageRecord],
        signals: Signals,
        pair_first: np.ndarray,
        pair_second: np.ndarray,
        pair_phash: np.ndarray,
        pair_effective: np.ndarray,
        match_transforms: bool,
        merges: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        apart: tuple[np.ndarray, np.ndarray] | None = None,
        deep_links: DeepLinks | None = None,
        exact_class: np.ndarray | None = None,
    ) -> None:
        """`exact_class`: `_exact_classes(records)`, when the caller has it."""
        self.records: list[ImageRecord] = list(records)
        self.deep_links = deep_links
        """Deep matches (core/deep) among the pairs, by path; None without the deep pass."""
        self.match_transforms = match_transforms
        self._apart = _no_pairs() if apart is None else _normalised_pairs(apart)
        self._signals = signals
        order = np.argsort(pair_first.astype(np.int64) * len(records) + pair_second)
        self._pair_keys = (pair_first.astype(np.int64) * len(records) + pair_second)[order]
        self._pair_phash = pair_phash[order]
        self._pair_effective = pair_effective[order]
        if merges is None:
            merges = minimax_linkage(
                len(records), pair_first, pair_second, pair_effective, apart=self._apart
            )
        merge_first, merge_second, merge_height = merges
        self._merge_first = merge_first
        self._merge_second = merge_second
        self._merge_height = merge_height
        self._exact_class = _exact_classes(self.records) if exact_class is None else exact_class
        self._sizes = np.array([r.size for r in self.records], dtype=np.int64)
        self._path_rank = path_ranks(self.records)
        self._keeper_contexts: dict[_ContextKey, _KeeperContext] = {}
        self._cuts: Cuts | None = None
        self._built: dict[int, BuiltGroups] = {}
        """Groups built so far, by id() of their (cached, so living) policy context."""
        self._policy_contexts: dict[tuple[_ContextKey, RawJpegPolicy], _KeeperContext] = {}
        self._companions: np.ndarray | None = None
        self._columns: RecordColumns | None = None

    @property
    def pair_count(self) -> int:
        """Verified pairs within the loosest setting."""
        return len(self._pair_keys)

    @classmethod
    def build(
        cls,
        records: Sequence[ImageRecord],
        *,
        match_transforms: bool = False,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
        apart: tuple[np.ndarray, np.ndarray] | None = None,
        deep: DeepSearch | None = None,
    ) -> SimilarityIndex:
        """Find and verify every pair down to MIN_SIMILARITY. `apart`: index pairs the
        user marked "not duplicates", never grouped together (`ignore_list`). `deep`: also
        the deep copies the hashes miss (crops, turns, edits; core/deep). Raises
        `candidates.Cancelled` if `cancel` fires."""
        records = list(records)
        signals = Signals.from_records(
            records, with_dihedral=match_transforms, threads=BUILD_SIGNAL_THREADS
        )
        max_distance = similarity_to_distance(MIN_SIMILARITY)
        exact_class = _exact_classes(records)
        blocks = list(_verified_pairs(signals, exact_class, max_distance, progress, cancel))
        if match_transforms:
            blocks.extend(_verified_turned_pairs(signals, max_distance, cancel))
        deep_links = _with_deep_links(deep, records, signals, blocks, progress, cancel)
        if blocks:
            first = np.concatenate([b[0] for b in blocks])
            second = np.concatenate([b[1] for b in blocks])
            phash = np.concatenate([b[2] for b in blocks])
            effective = np.concatenate([b[3] for b in blocks])
            first, second, phash, effective = _best_per_pair(
                len(records), first, second, phash, effective
            )
        else:
            first = second = np.zeros(0, np.int64)
            phash = effective = np.zeros(0, np.uint8)
        return cls(
            records, signals, first, second, phash, effective, match_transforms, apart=apart,
            deep_links=deep_links, exact_class=exact_class,
        )

    def state(self) -> dict[str, np.ndarray]:
        """What `build` computed, as plain arrays (no objects): the verified pairs with
        their distances, the merges, the cannot-link pairs and the verification signals.
        `restore` with the same records makes this index again without the pair search.
        An index with deep links has state the arrays do not hold: ValueError."""
        if self.deep_links is not None:
            raise ValueError("an index with deep links cannot be saved")
        count = max(len(self.records), 1)
        first, second = np.divmod(self._pair_keys, count)
        signals = self._signals
        state = {
            "count": np.array([len(self.records)], np.int64),
            "match_transforms": np.array([self.match_transforms], np.bool_),
            "pair_first": first.astype(np.int64),
            "pair_second": second.astype(np.int64),
            "pair_phash": self._pair_phash.astype(np.uint8),
            "pair_effective": self._pair_effective.astype(np.uint8),
            "merge_first": self._merge_first.astype(np.int64),
            "merge_second": self._merge_second.astype(np.int64),
            "merge_height": self._merge_height.astype(np.int64),
            "apart_first": self._apart[0].astype(np.int64),
            "apart_second": self._apart[1].astype(np.int64),
        }
        for name in _SIGNAL_FIELDS:
            value = getattr(signals, name)
            if value is not None:
                state[f"signals_{name}"] = value
        # The records any group can hold: a pair's, or a RAW+JPEG companion's (a pair by
        # file name need not be a verified pair). The others never show in `groups`.
        companions = find_companions(self.records, first, second, self._pair_phash)
        state["grouped_rows"] = distinct(np.concatenate([
            first, second, np.flatnonzero(companions != NO_COMPANION),
        ])).astype(np.int64)
        return state

    @staticmethod
    def grouped_rows(state: dict[str, np.ndarray]) -> np.ndarray:
        """Rows (sorted) of the records a state's groups can hold (see `restore`)."""
        return np.asarray(state["grouped_rows"], np.int64)

    @staticmethod
    def grouped_state(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`state` of the index over its `grouped_rows` records alone: the same groups at
        every similarity (as `without` the others), for a fraction of the records."""
        rows = SimilarityIndex.grouped_rows(state)
        count = int(state["count"][0])
        if len(rows) and (rows.min() < 0 or rows.max() >= count):
            raise ValueError("the state names records it does not have")
        new_row = np.full(count, -1, np.int64)
        new_row[rows] = np.arange(len(rows))
        kept = new_row[state["apart_first"]] >= 0
        kept &= new_row[state["apart_second"]] >= 0
        subset = dict(state)
        subset["count"] = np.array([len(rows)], np.int64)
        for name in ("pair_first", "pair_second", "merge_first", "merge_second"):
            subset[name] = new_row[state[name]]
        subset["apart_first"] = new_row[state["apart_first"][kept]]
        subset["apart_second"] = new_row[state["apart_second"][kept]]
        for name in _SIGNAL_FIELDS:
            if f"signals_{name}" in state:
                subset[f"signals_{name}"] = state[f"signals_{name}"][rows]
        subset["grouped_rows"] = np.arange(len(rows), dtype=np.int64)
        return subset

    @classmethod
    def restore(
        cls, records: Sequence[ImageRecord], state: dict[str, np.ndarray]
    ) -> SimilarityIndex:
        """The index `state()` was taken of, for the same records in the same order.
        Raises ValueError when the arrays do not fit the records (a state of other
        records, or a damaged one): never an index that points past its records."""
        records = list(records)
        count = len(records)
        try:
            if int(state["count"][0]) != count:
                raise ValueError("the state is of another number of records")
            match_transforms = bool(state["match_transforms"][0])
            pairs = [np.asarray(state[name]) for name in _PAIR_FIELDS]
            merges = tuple(np.asarray(state[name], np.int64) for name in _MERGE_FIELDS)
            apart = (
                np.asarray(state["apart_first"], np.int64),
                np.asarray(state["apart_second"], np.int64),
            )
            signals = Signals(**{
                name: state.get(f"signals_{name}") for name in _SIGNAL_FIELDS
            })
        except (KeyError, IndexError, TypeError) as error:
            raise ValueError(f"the state is incomplete: {error}") from error
        _check_state(count, match_transforms, pairs, merges, apart, signals)
        first, second, phash, effective = pairs
        return cls(
            records, signals, first.astype(np.int64), second.astype(np.int64),
            phash.astype(np.uint8), effective.astype(np.uint8), match_transforms,
            merges=merges, apart=apart,
        )

    @property
    def apart(self) -> tuple[np.ndarray, np.ndarray]:
        """The cannot-link pairs (rows into `records`, first < second)."""
        return self._apart

    def with_apart(self, first: np.ndarray, second: np.ndarray) -> SimilarityIndex:
        """This index with more "not duplicates" pairs: only the linked clusters that hold
        a new pair are linked again."""
        added = _normalised_pairs((first, second))
        count = len(self.records)
        known = set((self._apart[0] * count + self._apart[1]).tolist())
        new = np.array(
            [key not in known for key in (added[0] * count + added[1]).tolist()], dtype=bool
        )
        if not new.any():
            return self
        apart = (
            np.concatenate([self._apart[0], added[0][new]]),
            np.concatenate([self._apart[1], added[1][new]]),
        )
        pair_first, pair_second = np.divmod(self._pair_keys, count)
        cluster = _clusters(count, pair_first, pair_second)
        touched = np.zeros(cluster.max(initial=0) + 1, dtype=bool)
        touched[cluster[added[0][new]]] = True
        touched[cluster[added[1][new]]] = True
        merges = self._relinked(
            touched[cluster], pair_first, pair_second, np.arange(count), apart
        )
        return SimilarityIndex(
            self.records, self._signals, pair_first, pair_second, self._pair_phash,
            self._pair_effective, self.match_transforms, merges=merges, apart=apart,
            deep_links=self.deep_links,
        )

    def _relinked(
        self,
        relink_row: np.ndarray,
        pair_first: np.ndarray,
        pair_second: np.ndarray,
        new_row: np.ndarray,
        apart: tuple[np.ndarray, np.ndarray],
        keep: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Merges where the clusters whose rows are flagged in `relink_row` are linked
        again (renumbered by `new_row`, dropping rows not in `keep`) and the others keep
        theirs. `apart` is in the new numbering."""
        both = np.ones(len(pair_first), dtype=bool) if keep is None else (
            keep[pair_first] & keep[pair_second]
        )
        relink = both & relink_row[pair_first]
        relinked = minimax_linkage(
            len(self.records) if keep is None else int(keep.sum()),
            new_row[pair_first[relink]],
            new_row[pair_second[relink]],
            self._pair_effective[relink],
            apart=apart,
        )
        unchanged = ~relink_row[self._merge_first]
        merge_first = np.concatenate([new_row[self._merge_first[unchanged]], relinked[0]])
        merge_second = np.concatenate([new_row[self._merge_second[unchanged]], relinked[1]])
        heights = np.concatenate([self._merge_height[unchanged], relinked[2]])
        order = np.lexsort((merge_second, merge_first, heights))
        return merge_first[order], merge_second[order], heights[order]

    @classmethod
    def for_lookup(
        cls, records: Sequence[ImageRecord], *, match_transforms: bool = False
    ) -> SimilarityIndex:
        """An index for `matches` only (asking a library about a few images): no pair
        search, so it is ready at once and `groups` finds nothing."""
        records = list(records)
        signals = Signals.from_records(records, with_dihedral=match_transforms)
        no_pairs = np.zeros(0, np.int64)
        no_distances = np.zeros(0, np.uint8)
        return cls(
            records, signals, no_pairs, no_pairs, no_distances, no_distances, match_transforms
        )

    def without(self, paths: Collection[str]) -> SimilarityIndex:
        """This index minus the records at `paths` (trashed files, a removed folder): the
        same as building it again from the other records, since every pair was found and
        verified on its own, but without the pair search. Only the linked clusters that
        lost a member are linked again; the others keep their merges."""
        gone = set(paths)
        keep = np.array([record.path not in gone for record in self.records], dtype=bool)
        if keep.all():
            return self
        count = len(self.records)
        new_row = np.cumsum(keep) - 1
        first, second = np.divmod(self._pair_keys, count)
        cluster = _clusters(count, first, second)
        touched = np.zeros(cluster.max(initial=0) + 1, dtype=bool)
        touched[cluster[~keep]] = True
        kept_apart = keep[self._apart[0]] & keep[self._apart[1]]
        apart = (new_row[self._apart[0][kept_apart]], new_row[self._apart[1][kept_apart]])
        merges = self._relinked(touched[cluster], first, second, new_row, apart, keep)
        both = keep[first] & keep[second]
        rows = np.flatnonzero(keep)
        return SimilarityIndex(
            [self.records[row] for row in rows.tolist()],
            self._signals.subset(rows),
            new_row[first[both]],
            new_row[second[both]],
            self._pair_phash[both],
            self._pair_effective[both],
            self.match_transforms,
            merges=merges,
            apart=apart,
            deep_links=self.deep_links,
        )

    def groups(
        self,
        similarity: float,
        *,
        reference_folders: Sequence[str] = (),
        keeper_rules: Sequence[KeeperRule] = DEFAULT_KEEPER_RULES,
        raw_jpeg_policy: RawJpegPolicy = RawJpegPolicy.KEEP_BOTH,
    ) -> list[DuplicateGroup]:
        """Groups at `similarity` percent: keeper first, sorted by reclaimable bytes.
        `raw_jpeg_policy`: what a RAW+JPEG pair in a group keeps (raw_pairs.py)."""
        threshold = similarity_to_distance(max(similarity, MIN_SIMILARITY))
        merges = int(np.searchsorted(self._merge_height, threshold, side="right"))
        if merges == 0:
            return []
        context = self._policy_context(reference_folders, keeper_rules, raw_jpeg_policy)
        built = self._built[id(context)]
        shown = built.by_cut.get(merges)
        if shown is None:
            # The first cut alone (a command's one call); at a second, every cut the slider
            # can reach, in one batch, so that later moves only look their lists up.
            self._show_cuts([merges] if not built.by_cut else self._reachable_cuts(), context)
            shown = built.by_cut[merges]
        return list(shown)

    def _reachable_cuts(self) -> list[int]:
        """The distinct merge counts of the slider's settings (a handful of heights)."""
        heights = np.arange(similarity_to_distance(MIN_SIMILARITY) + 1)
        counts = np.searchsorted(self._merge_height, heights, side="right")
        return sorted({count for count in counts.tolist() if count > 0})

    def _show_cuts(self, cuts: list[int], context: _KeeperContext) -> None:
        """Build the groups of these cuts (merge counts) that are not built yet, all in one
        batch, and list each cut's groups in their shown order."""
        built = self._built[id(context)]
        cuts = [merges for merges in cuts if merges not in built.by_cut]
        labelled = [self._labelled_cuts().at(merges) for merges in cuts]
        new = Cut.union([cut.subset(built.missing(cut.keys)) for cut in labelled])
        # Tens of thousands of small acyclic objects: a cyclic collection in between would
        # walk the whole library's records each time, for nothing to collect.
        with collector_paused():
            if len(new.keys):
                self._build_groups(new, context, built)
            for merges, cut in zip(cuts, labelled, strict=True):
                built.by_cut[merges] = built.ordered(cut.keys)

    def _labelled_cuts(self) -> Cuts:
        if self._cuts is None:
            self._cuts = Cuts(len(self.records), self._merge_first, self._merge_second)
        return self._cuts

    def _build_groups(self, cut: Cut, context: _KeeperContext, built: BuiltGroups) -> None:
        """Make the DuplicateGroups of `cut` (groups not built yet) and add them to
        `built`. Each group depends on its members alone, so it is made once per context."""
        grouped, starts, sizes = cut.members, cut.starts, cut.sizes
        group_of = np.repeat(np.arange(len(starts)), sizes)
        is_keeper, group_reasons = self._choose_keepers(grouped, starts, cut.keys, context)
        # Members of each group together, keeper first.
        grouped = grouped[np.lexsort((context.rank[grouped], ~is_keeper, group_of))]
        keepers = np.repeat(grouped[starts], sizes)
        others = grouped != keepers
        effective = np.zeros(len(grouped), np.uint8)
        phash = np.zeros(len(grouped), np.uint8)
        effective[others], phash[others] = self._keeper_distances(keepers[others], grouped[others])
        exact = (self._exact_class[grouped] >= 0) & (
            self._exact_class[grouped] == self._exact_class[keepers]
        )
        effective[exact] = 0
        phash[exact] = 0
        # The keeper is labelled exact only when some other member is a byte copy of it.
        has_copy = np.add.reduceat((exact & others).astype(np.int64), starts) > 0
        exact[starts] = has_copy
        # Within a group: keeper, then by effective distance, then keeper order.
        order = np.lexsort((context.rank[grouped], effective, others, group_of))
        grouped, effective, phash, exact = (
            grouped[order], effective[order], phash[order], exact[order]
        )
        bounds = np.r_[starts, len(grouped)].tolist()
        # Largest saving first: every member but the keeper and reference copies is freed.
        freed_member = others & ~context.is_reference[grouped]
        if context.pairs is not None and context.pairs.any:
            freed_member &= ~context.pairs.held(grouped, keepers)  # kept with the keeper
        freed = np.where(freed_member, self._sizes[grouped], 0)
        reclaimable = np.add.reduceat(freed, starts)
        keeper_path_rank = self._path_rank[grouped[starts]]
        if self.deep_links is None:
            groups = self._made_groups(
                grouped, starts, sizes, effective, phash, exact, context, group_reasons
            )
            built.add(cut.keys, groups, reclaimable, keeper_path_rank)
            return
        member_list = grouped.tolist()
        ordered = [tuple(member_list[a:b]) for a, b in pairwise(bounds)]
        finer = self._finer_similarities(ordered)
        groups = [
            self._make_group(
                members, effective[a:b], phash[a:b], exact[a:b], context, reason, shown
            )
            for members, a, b, reason, shown in zip(
                ordered, bounds[:-1], bounds[1:], group_reasons, finer, strict=True
            )
        ]
        built.add(cut.keys, groups, reclaimable, keeper_path_rank)

    def _made_groups(
        self,
        grouped: np.ndarray,
        starts: np.ndarray,
        sizes: np.ndarray,
        effective: np.ndarray,
        phash: np.ndarray,
        exact: np.ndarray,
        context: _KeeperContext,
        reasons: list[str],
    ) -> list[DuplicateGroup]:
        """`_make_group` of every group at once (an index without deep links): `grouped`
        the members, group after group, keeper first then by effective distance; their
        `effective` and `phash` distances to the keeper and `exact` alongside; `reasons`
        the keepers'. The same members, in the same order, with the same fields."""
        count = len(grouped)
        first = np.zeros(count, dtype=bool)
        first[starts] = True
        keepers = np.repeat(grouped[starts], sizes)
        columns = self._record_columns()
        digest, width, height = (
            columns.column(name, grouped) for name in ("digest", "width", "height")
        )
        # _same_pixels: equal pixel digests (missing ones equal nothing) at the same size.
        same_pixels = (
            ~first & ~exact
            & (digest[grouped] == digest[keepers])
            & (width[grouped] == width[keepers])
            & (height[grouped] == height[keepers])
        )
        visual = ~first & ~exact & ~same_pixels
        similarity = np.full(count, 100.0)
        shown = np.flatnonzero(visual)
        if len(shown):
            records = self.records
            finer = paired_thumbnail_similarities(
                [records[i].micro for i in keepers[shown].tolist()],
                [records[i].micro for i in grouped[shown].tolist()],
                any_turn=self.match_transforms,
            )
            # shown_similarity(distance_to_similarity(effective), finer), elementwise.
            similarity[shown] = np.minimum(
                np.minimum(_HASH_SIMILARITY[effective[shown]], finer), SAME_PICTURE_CAP
            )
        match = np.where(exact, 0, np.where(same_pixels, 1, 2))
        # The others by the similarity shown (the sort is stable: ties keep keeper order).
        group_of = np.repeat(np.arange(len(starts)), sizes)
        order = np.lexsort((np.arange(count), -similarity, ~first, group_of))
        grouped, phash, similarity, match = (
            grouped[order], phash[order], similarity[order], match[order]
        )
        is_reference = context.is_reference[grouped]
        keep_reason = [""] * count
        for start, reason in zip(starts.tolist(), reasons, strict=True):
            keep_reason[start] = reason
        records = self.records
        kinds = (MatchKind.EXACT, MatchKind.SAME_PIXELS, MatchKind.VISUAL)
        members = group_members(
            record=[records[i] for i in grouped.tolist()],
            keep=(first | is_reference).tolist(),
            is_reference=is_reference.tolist(),
            distance=phash.tolist(),
            similarity=similarity.tolist(),
            match=[kinds[k] for k in match.tolist()],
            keep_reason=keep_reason,
        )
        bounds = np.r_[starts, count].tolist()
        if context.pairs is not None and context.pairs.any:
            paired = np.add.reduceat((context.pairs.companion[grouped] >= 0).astype(np.int64),
                                     starts) > 0
            for g in np.flatnonzero(paired).tolist():
                a, b = bounds[g], bounds[g + 1]
                members[a:b] = context.pairs.members(
                    tuple(grouped[a:b].tolist()), members[a:b], records
                )
        shared = tuple(members)
        return list(map(DuplicateGroup, [shared[a:b] for a, b in pairwise(bounds)]))

    def _finer_similarities(self, groups: list[tuple[int, ...]]) -> list[list[float]]:
        """Per group (keeper first), each member's thumbnail similarity to the keeper."""
        records = self.records
        micros = [records[i].micro for members in groups for i in members]
        keepers = [records[members[0]].micro for members in groups for _ in members]
        flat = paired_thumbnail_similarities(
            keepers, micros, any_turn=self.match_transforms
        ).tolist()
        out, at = [], 0
        for members in groups:
            out.append(flat[at : at + len(members)])
            at += len(members)
        return out

    def has_keeper_context(
        self,
        reference_folders: Sequence[str],
        keeper_rules: Sequence[KeeperRule] = DEFAULT_KEEPER_RULES,
        raw_jpeg_policy: RawJpegPolicy = RawJpegPolicy.KEEP_BOTH,
    ) -> bool:
        """Whether `groups` with these reference folders, rules and policy is fast at any
        similarity (the keeper ranking and every cut's groups are cached) rather than a
        new ranking (ranks every record and checks the folders on disk) or new groups to
        build (seconds at a million photos)."""
        key = ((tuple(reference_folders), tuple(keeper_rules)), raw_jpeg_policy)
        context = self._policy_contexts.get(key)
        if context is None:
            return False
        built = self._built[id(context)].by_cut
        return all(merges in built for merges in self._reachable_cuts())

    def matches(
        self, record: ImageRecord, similarity: float
    ) -> list[tuple[ImageRecord, int, float]]:
        """Indexed records that match `record` (which need not be indexed) at `similarity`:
        (record, pHash distance, similarity percent), best first."""
        if not self.records:
            return []
        threshold = similarity_to_distance(max(similarity, MIN_SIMILARITY))
        probe = Signals.from_records([record], with_dihedral=self.match_transforms)
        phash = candidates.hamming(probe.phash[0], self._signals.phash).astype(np.int64)
        dhash = candidates.hamming(probe.dhash[0], self._signals.dhash).astype(np.int64)
        # The same candidates as build: within the loosest setting, then verified.
        loosest = similarity_to_distance(MIN_SIMILARITY)
        near = phash + dhash <= 2 * loosest
        if probe.dihedral is not None:
            turned = candidates.hamming(probe.dihedral[0][:, None], self._signals.phash[None, :])
            near |= turned.min(axis=0) <= loosest
        near = np.flatnonzero(near)
        if len(near) == 0:
            return []
        first = np.zeros(len(near), np.int64)
        transforms = None
        if probe.dihedral is not None:
            upright = evaluate_pairs(probe, first, self._signals, near)
            turned_near = turned[:, near]
            best = np.argmin(turned_near, axis=0).astype(np.int8)
            turned_evidence = evaluate_pairs(probe, first, self._signals, near, best)
            use_turned = turned_evidence.effective_distance < upright.effective_distance
            transforms = np.where(use_turned, best, 0).astype(np.int8)
        evidence = evaluate_pairs(probe, first, self._signals, near, transforms)
        effective = evidence.effective_distance
        exact = np.array(
            [_byte_identical(record, self.records[i]) for i in near.tolist()], dtype=bool
        )
        effective[exact] = 0
        keep = effective <= threshold
        near, effective, distance = near[keep], effective[keep], evidence.phash_distance[keep]
        order = np.lexsort((near, effective))
        return [
            (
                self.records[int(near[k])],
                int(distance[k]),
                distance_to_similarity(int(effective[k])),
            )
            for k in order.tolist()
        ]

    def _best_transforms(self, first: np.ndarray, second: np.ndarray) -> np.ndarray | None:
        """Per pair, the dihedral transform of `first` that best matches `second` (only
        when the index matches turned copies), else None (upright)."""
        if self._signals.dihedral is None:
            return None
        upright = evaluate_pairs(self._signals, first, self._signals, second)
        turned = candidates.hamming(
            self._signals.dihedral[first], self._signals.phash[second][:, None]
        )
        best = np.argmin(turned, axis=1).astype(np.int8)
        turned_evidence = evaluate_pairs(self._signals, first, self._signals, second, best)
        better = turned_evidence.effective_distance < upright.effective_distance
        return np.where(better, best, 0).astype(np.int8)

    def _keeper_distances(
        self, keepers: np.ndarray, members: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(effective, pHash) distance of each member to its keeper. The keeper need not
        be the group's prototype, so a pair may not be cached; those are verified now, and
        one that fails verification reports its pHash distance."""
        low, high = np.minimum(keepers, members), np.maximum(keepers, members)
        keys = low.astype(np.int64) * len(self.records) + high
        where = np.minimum(np.searchsorted(self._pair_keys, keys), max(len(self._pair_keys) - 1, 0))
        found = (
            self._pair_keys[where] == keys if len(self._pair_keys) else np.zeros(len(keys), bool)
        )
        effective = np.zeros(len(keys), np.uint8)
        phash = np.zeros(len(keys), np.uint8)
        effective[found] = self._pair_effective[where[found]]
        phash[found] = self._pair_phash[where[found]]
        missing = np.flatnonzero(~found)
        if len(missing):
            first, second = keepers[missing], members[missing]
            evidence = evaluate_pairs(
                self._signals, first, self._signals, second, self._best_transforms(first, second)
            )
            checked = evidence.effective_distance
            effective[missing] = np.where(checked == REJECTED, evidence.phash_distance, checked)
            phash[missing] = evidence.phash_distance
        return effective, phash

    def _keeper_context(
        self, reference_folders: Sequence[str], rules: Sequence[KeeperRule]
    ) -> _KeeperContext:
        key = (tuple(reference_folders), tuple(rules))
        context = self._keeper_contexts.get(key)
        if context is None:
            # Only the records a merge names are ever grouped: the others need no rank.
            nodes = self._labelled_cuts().nodes
            records = [self.records[i] for i in nodes.tolist()]
            is_reference = np.zeros(len(self.records), dtype=bool)
            if reference_folders:
                references = ReferenceFolders(reference_folders)
                is_reference[nodes] = [references.contains(r.path) for r in records]
            rank = np.full(len(self.records), len(nodes), np.int64)
            rank[nodes] = keeper_ranks(
                records, is_reference[nodes], rules, self._path_rank[nodes]
            )
            context = _KeeperContext(
                rank=rank, is_reference=is_reference, rules=tuple(rules), keepers={}
            )
            self._keeper_contexts[key] = context
        return context

    def _policy_context(
        self, reference_folders: Sequence[str], rules: Sequence[KeeperRule],
        policy: RawJpegPolicy,
    ) -> _KeeperContext:
        """The keeper ranking for these folders and rules (shared by every policy), with
        its own keepers and groups per RAW+JPEG policy; pairs are found once per index."""
        key = ((tuple(reference_folders), tuple(rules)), policy)
        context = self._policy_contexts.get(key)
        if context is None:
            if self._companions is None:
                first, second = np.divmod(self._pair_keys, max(len(self.records), 1))
                self._companions = find_companions(
                    self.records, first, second, self._pair_phash
                )
            context = replace(
                base := self._keeper_context(reference_folders, rules),
                # The chain's keepers stand when both files of a pair are kept.
                keepers=base.keepers if policy is RawJpegPolicy.KEEP_BOTH else {},
                pairs=PairPolicy.of(self.records, self._companions, policy),
            )
            self._policy_contexts[key] = context
            self._built[id(context)] = BuiltGroups()
        return context

    def _make_group(
        self,
        members: tuple[int, ...],
        effective: np.ndarray,
        phash: np.ndarray,
        exact: np.ndarray,
        context: _KeeperContext,
        reason: str,
        finer: list[float],
    ) -> DuplicateGroup:
        built = []
        keeper = self.records[members[0]]
        for position, (index, eff, bits, same_bytes) in enumerate(
            zip(members, effective.tolist(), phash.tolist(), exact.tolist(), strict=True)
        ):
            is_reference = bool(context.is_reference[index])
            record = self.records[index]
            if same_bytes:
                match, similarity = MatchKind.EXACT, 100.0
            elif position == 0 or _same_pixels(keeper, record):
                match, similarity = (MatchKind.SAME_PIXELS if position else MatchKind.VISUAL), 100.0
            else:
                match = MatchKind.VISUAL
                similarity = shown_similarity(distance_to_similarity(eff), finer[position])
            deep = None
            link = None if self.deep_links is None or position == 0 or match is not (
                MatchKind.VISUAL
            ) else self.deep_links.get(keeper.path, record.path)
            if link is not None:  # a pair the hashes did not verify (see _with_deep_links)
                match, similarity = MatchKind.DEEP, link.similarity
                deep = link.as_match(keeper.path)
            built.append(
                GroupMember(
                    record=record,
                    keep=position == 0 or is_reference,
                    is_reference=is_reference,
                    distance=bits,
                    similarity=similarity,
                    match=match,
                    keep_reason=reason if position == 0 else "",
                    deep=deep,
                )
            )
        if context.pairs is not None:
            built = context.pairs.members(members, built, self.records)
        # The others by the similarity shown (the sort is stable: ties keep keeper order).
        others = sorted(built[1:], key=lambda member: -member.similarity)
        return DuplicateGroup(members=(built[0], *others))

    def _record_columns(self) -> RecordColumns:
        """The records' attributes the keepers are chosen by, shared by every cut."""
        if self._columns is None:
            self._columns = RecordColumns(self.records, self._path_rank)
        return self._columns

    def _choose_keepers(
        self, grouped: np.ndarray, starts: np.ndarray, keys: np.ndarray,
        context: _KeeperContext,
    ) -> tuple[np.ndarray, list[str]]:
        """Per member of `grouped` (members of a group together, in index order; `keys`
        the groups' Cut keys), whether it is its group's keeper; and per group, the
        keeper's reason (one photo may keep groups of several cuts, for other reasons)."""
        assert context.keepers is not None
        member_list = grouped.tolist()
        bounds = np.r_[starts, len(grouped)].tolist()
        key_list = keys.tolist()
        # Groups not seen in this context yet, decided together (keeper_batch.py).
        new = [g for g, key in enumerate(key_list) if key not in context.keepers]
        if new:
            groups = [tuple(member_list[bounds[g] : bounds[g + 1]]) for g in new]
            chosen = choose_keepers(
                self.records, groups, context.is_reference, context.rules, self._record_columns()
            )
            if self.deep_links is not None or (context.pairs is not None and context.pairs.any):
                chosen = [
                    _keeper_after_crops_and_pairs(self, members, keeper, reason, context)
                    for members, (keeper, reason) in zip(groups, chosen, strict=True)
                ]
            context.keepers.update(zip([key_list[g] for g in new], chosen, strict=True))
        choices = [context.keepers[key] for key in key_list]
        keeper_rows = np.array([keeper for keeper, _ in choices], np.int64)
        is_keeper = grouped == np.repeat(keeper_rows, np.diff(bounds))
        return is_keeper, [reason for _, reason in choices]


_PAIR_FIELDS = ("pair_first", "pair_second", "pair_phash", "pair_effective")
_MERGE_FIELDS = ("merge_first", "merge_second", "merge_height")
_SIGNAL_FIELDS = (
    "phash", "dhash", "dihedral", "luma", "chroma", "detail", "colourfulness", "texture",
    "dimensions",
)
_SIGNAL_SHAPES = {
    "phash": ((), np.uint64), "dhash": ((), np.uint64), "dihedral": ((8,), np.uint64),
    "luma": ((8, 8), np.float32), "chroma": ((2, 4, 4), np.float32),
    "detail": ((), np.float32), "colourfulness": ((), np.float32),
    "texture": ((), np.float32), "dimensions": ((2,), np.int64),
}


def _check_state(
    count: int,
    match_transforms: bool,
    pairs: list[np.ndarray],
    merges: tuple[np.ndarray, ...],
    apart: tuple[np.ndarray, np.ndarray],
    signals: Signals,
) -> None:
    """Raise ValueError unless the arrays are shaped for `count` records: every row index
    in range, pairs and merges of one length each, merges in height order."""
    def rows_in_range(values: np.ndarray) -> bool:
        if values.ndim != 1:
            return False
        return not len(values) or bool(values.min() >= 0 and values.max() < count)

    if len({len(p) for p in pairs}) > 1 or len({len(m) for m in merges}) > 1:
        raise ValueError("the state's arrays disagree in length")
    if len(apart[0]) != len(apart[1]):
        raise ValueError("the state's apart pairs disagree in length")
    if not all(rows_in_range(a) for a in (*pairs[:2], *merges[:2], *apart)):
        raise ValueError("the state names records it does not have")
    if len(merges[2]) and np.any(np.diff(merges[2]) < 0):
        raise ValueError("the state's merges are out of order")
    for name, (shape, dtype) in _SIGNAL_SHAPES.items():
        value = getattr(signals, name)
        if name == "dihedral" and value is None and not match_transforms:
            continue
        if value is None or value.dtype != dtype or value.shape != (count, *shape):
            raise ValueError(f"the state's {name} signals do not fit the records")


def _with_deep_links(
    deep: DeepSearch | None,
    records: Sequence[ImageRecord],
    signals: Signals,
    blocks: list[PairRows],
    progress: Progress | None,
    cancel: CancelToken | None,
) -> DeepLinks | None:
    """The deep matches (core/deep) between images the hashes do not link, appended to
    `blocks` at their distance on the slider's scale."""
    if deep is None:
        return None
    no_pairs = [np.zeros(0, np.int64)]
    first = np.concatenate([b[0] for b in blocks] or no_pairs).astype(np.int64)
    second = np.concatenate([b[1] for b in blocks] or no_pairs).astype(np.int64)
    connected = _clusters(len(records), first, second)
    links = deep.links(records, signals, connected, cancel, progress)
    first, second, phash, effective = links.pair_rows(records)
    if len(first):
        blocks.append((first, second, phash, effective))
    return links


def _keeper_after_crops_and_pairs(
    index: SimilarityIndex,
    members: tuple[int, ...],
    keeper: int,
    reason: str,
    context: _KeeperContext,
) -> tuple[int, str]:
    """The chain's keeper (a record index), after deep crops (the uncropped copy wins) and
    the RAW+JPEG policy."""
    position, reason = _uncropped_keeper(
        index, members, members.index(keeper), reason, context.is_reference
    )
    choice = (members[position], reason)
    if context.pairs is not None:
        choice = context.pairs.keeper(members, *choice, context.is_reference)
    return choice


def _uncropped_keeper(
    index: SimilarityIndex,
    members: tuple[int, ...],
    position: int,
    reason: str,
    is_reference: np.ndarray,
) -> tuple[int, str]:
    """A keeper that is a crop of another member gives way to the uncropped copy (unless
    only the crop is in a protected folder)."""
    links = index.deep_links
    if links is None or not len(links):
        return position, reason
    keeper = index.records[members[position]]
    for other_position, other in enumerate(members):
        link = links.get(keeper.path, index.records[other].path)
        if (
            link is not None and link.kind == "crop" and link.container != keeper.path
            and (is_reference[other] or not is_reference[members[position]])
        ):
            return other_position, "kept: the uncropped copy"
    return position, reason


def _same_pixels(a: ImageRecord, b: ImageRecord) -> bool:
    """The same decoded pixels (see ImageRecord.pixel_digest) at the same size."""
    return (
        a.pixel_digest is not None
        and a.pixel_digest == b.pixel_digest
        and (a.width, a.height) == (b.width, b.height)
    )


def _clusters(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return component_labels(count, first, second)


def _no_pairs() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


def _normalised_pairs(pairs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (low, high) pairs, no self-pairs."""
    a, b = np.asarray(pairs[0], np.int64), np.asarray(pairs[1], np.int64)
    low, high = np.minimum(a, b), np.maximum(a, b)
    if not len(low):
        return _no_pairs()
    unique = np.unique(np.stack([low, high], axis=1)[low != high], axis=0)
    return unique[:, 0].copy(), unique[:, 1].copy()


def _byte_identical(a: ImageRecord, b: ImageRecord) -> bool:
    return (
        a.size == b.size
        and a.content_digest is not None
        and a.content_digest == b.content_digest
    )


def _exact_classes(records: Sequence[ImageRecord]) -> np.ndarray:
    """Class id per record shared by byte-identical files; -1 without a digest."""
    classes: dict[tuple[int, bytes], int] = {}
    class_of = classes.setdefault
    return np.array([
        -1 if r.content_digest is None else class_of((r.size, r.content_digest), len(classes))
        for r in records
    ], dtype=np.int64)


def _verified_pairs(
    signals: Signals,
    exact_class: np.ndarray,
    max_distance: int,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> list[PairRows]:
    """Pairs whose mean pHash/dHash distance is within `max_distance` and that pass
    verification: one 128-bit join at radius 2 * max_distance. `exact_class`: the records'
    `_exact_classes` (byte copies are at distance 0)."""
    both = np.stack([signals.phash, signals.dhash], axis=1)
    out: list[PairRows] = []

    def verify(first: np.ndarray, second: np.ndarray) -> None:
        slices = [
            (first[start : start + VERIFY_SLICE], second[start : start + VERIFY_SLICE])
            for start in range(0, len(first), VERIFY_SLICE)
        ]
        # Slices are independent: numpy lets go of the GIL, and map keeps their order.
        verified = map(verify_slice, slices) if len(slices) == 1 else pool.map(
            verify_slice, slices
        )
        out.extend(rows for rows in verified if rows is not None)

    def verify_slice(pairs: tuple[np.ndarray, np.ndarray]) -> PairRows | None:
        first, second = pairs
        evidence = evaluate_pairs(signals, first, signals, second)
        effective = evidence.effective_distance
        same_bytes = (exact_class[first] >= 0) & (exact_class[first] == exact_class[second])
        effective[same_bytes] = 0
        keep = effective <= max_distance
        if not keep.any():
            return None
        return first[keep], second[keep], evidence.phash_distance[keep], effective[keep]

    # The join yields many small blocks (one per probe); verifying them in batches keeps
    # numpy's per-call cost from dominating at a million records.
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    pending_pairs = 0
    with ThreadPoolExecutor(max_workers=VERIFY_THREADS) as pool:
        for first, second, _ in candidates.self_join(
            both, 2 * max_distance, cancel=cancel, progress=progress
        ):
            pending.append((first, second))
            pending_pairs += len(first)
            if pending_pairs >= VERIFY_BATCH:
                verify(
                    np.concatenate([p[0] for p in pending]),
                    np.concatenate([p[1] for p in pending]),
                )
                pending, pending_pairs = [], 0
        if pending:
            verify(np.concatenate([p[0] for p in pending]), np.concatenate([p[1] for p in pending]))
    return out


def _verified_turned_pairs(
    signals: Signals, max_distance: int, cancel: CancelToken | None
) -> list[PairRows]:
    """Pairs where record a, turned by a dihedral transform, matches record b upright
    (pHash only: dHash is not computed per orientation)."""
    assert signals.dihedral is not None
    out = []
    for transform in range(1, 8):
        for first, second, _ in candidates.join(
            signals.dihedral[:, transform], signals.phash, max_distance, cancel=cancel
        ):
            distinct = first != second
            first, second = first[distinct], second[distinct]
            transforms = np.full(len(first), transform, np.int8)
            evidence = evaluate_pairs(signals, first, signals, second, transforms)
            keep = evidence.effective_distance <= max_distance
            if keep.any():
                low = np.minimum(first[keep], second[keep])
                high = np.maximum(first[keep], second[keep])
                out.append(
                    (low, high, evidence.phash_distance[keep], evidence.effective_distance[keep])
                )
    return out


def _best_per_pair(
    count: int,
    first: np.ndarray,
    second: np.ndarray,
    phash: np.ndarray,
    effective: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One row per unordered pair, the smallest effective distance (a pair can be found
    both upright and turned)."""
    keys = first.astype(np.int64) * count + second
    order = np.lexsort((effective, keys))
    keys = keys[order]
    first_of_key = np.r_[True, keys[1:] != keys[:-1]]
    chosen = order[first_of_key]
    return first[chosen], second[chosen], phash[chosen], effective[chosen]
