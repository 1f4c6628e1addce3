"""RAW+JPEG pairs: a camera RAW and the JPEG (or HEIC, AVIF) the camera wrote of the same shot.

A photographer who shoots RAW+JPEG keeps both files on purpose, so such a pair is not a
duplicate: by default (`RawJpegPolicy.KEEP_BOTH`) the two are kept together, and a group
that holds nothing but the pair frees nothing. The user may instead keep only the RAW or
only the JPEG of each pair; keeping only the JPEG is the one case where a RAW is
suggested for the trash in favour of a JPEG of it.

Two files are a pair when
- they have the same name stem (case-insensitive) in the same folder, one a RAW and the
  other a JPEG/HEIF/AVIF, and their capture times do not disagree; or
- the similarity index verified them as a match, one a RAW and the other not, with the
  same capture time to the second.
Each file pairs with at most one other, the closest (a same-stem pair first). Pairs are
found once per index (`find_companions`); a group only looks its members up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from dedup_gui.core.files.imagetypes import is_raw_format
from dedup_gui.core.models import GroupMember, ImageRecord


class RawJpegPolicy(str, Enum):
    """What to suggest for the two files of a RAW+JPEG pair. The value is stable (settings)."""

    KEEP_BOTH = "keep-both"
    """Keep both: a pair alone is not a duplicate group."""
    KEEP_RAW = "keep-raw"
    """Keep the RAW; its JPEG is suggested for the trash."""
    KEEP_JPEG = "keep-jpeg"
    """Keep the JPEG; the RAW is suggested for the trash (only ever by the user's choice)."""


COMPANION_FORMATS = frozenset({"JPEG", "MPO", "HEIF", "AVIF"})
"""Formats a camera writes next to its RAW (an MPO is a JPEG with a second picture)."""

PAIR_REASON = "kept: RAW+JPEG pair (both kept)"
RAW_CHOSEN_REASON = "kept: the RAW of a RAW+JPEG pair (your choice)"
JPEG_CHOSEN_REASON = "kept: the JPEG of a RAW+JPEG pair (your choice)"

NO_COMPANION = -1

_STEM_PAIR, _TIME_PAIR = 0, 1


def raw_formats(records: Sequence[ImageRecord]) -> np.ndarray:
    """Per record, whether it is a camera RAW (`is_raw_format`, asked once per format)."""
    formats = [r.format for r in records]
    raw = {name: is_raw_format(name) for name in set(formats)}
    return np.fromiter(map(raw.__getitem__, formats), dtype=bool, count=len(formats))


def find_companions(
    records: Sequence[ImageRecord],
    matched_first: np.ndarray,
    matched_second: np.ndarray,
    matched_distance: np.ndarray,
) -> np.ndarray:
    """Per record, the row of its RAW+JPEG companion, or NO_COMPANION (symmetric: a RAW's
    companion has the RAW as its companion). `matched_*`: the index's verified pairs (rows
    and pHash distance), where a pair by capture time must come from."""
    companion = np.full(len(records), NO_COMPANION, np.int64)
    is_raw = raw_formats(records)
    if not is_raw.any():
        return companion
    edges = _stem_edges(records, np.flatnonzero(is_raw).tolist())
    edges.extend(_capture_time_edges(records, is_raw, matched_first, matched_second,
                                     matched_distance))
    # Closest first; each file takes the first edge that reaches it.
    for *_, raw, other in sorted(edges):
        if companion[raw] == NO_COMPANION and companion[other] == NO_COMPANION:
            companion[raw], companion[other] = other, raw
    return companion


def _stem_key(path: str) -> tuple[str, str]:
    folder, _, name = path.rpartition(os.sep)
    stem = name.rpartition(".")[0] or name
    return folder, stem.casefold()


def _times_agree(a: str | None, b: str | None) -> bool:
    """Unknown agrees with anything (not every JPEG keeps its EXIF); to the second."""
    return a is None or b is None or a[:19] == b[:19]


def _stem_edges(records: Sequence[ImageRecord], raw_rows: list[int]) -> list[tuple]:
    raws_by_key: dict[tuple[str, str], list[int]] = {}
    for row in raw_rows:
        raws_by_key.setdefault(_stem_key(records[row].path), []).append(row)
    folders = {folder for folder, _ in raws_by_key}
    edges: list[tuple] = []
    for row, record in enumerate(records):
        if record.format not in COMPANION_FORMATS:
            continue
        # Most files share no folder with a RAW: one partition, no stem, for those.
        if record.path.rpartition(os.sep)[0] not in folders:
            continue
        for raw in raws_by_key.get(_stem_key(record.path), ()):
            raw_time = records[raw].capture_time
            if _times_agree(raw_time, record.capture_time):
                unknown_time = raw_time is None or record.capture_time is None
                edges.append((_STEM_PAIR, unknown_time, record.format != "JPEG", 0,
                              record.path, records[raw].path, raw, row))
    return edges


def _capture_time_edges(
    records: Sequence[ImageRecord],
    is_raw: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    distance: np.ndarray,
) -> list[tuple]:
    mixed = np.flatnonzero(is_raw[first] != is_raw[second])
    edges: list[tuple] = []
    for k in mixed.tolist():
        a, b = int(first[k]), int(second[k])
        raw, other = (a, b) if is_raw[a] else (b, a)
        raw_time, other_time = records[raw].capture_time, records[other].capture_time
        if raw_time is None or other_time is None or raw_time[:19] != other_time[:19]:
            continue
        same_folder = _stem_key(records[raw].path)[0] == _stem_key(records[other].path)[0]
        edges.append((_TIME_PAIR, not same_folder, False, int(distance[k]),
                      records[other].path, records[raw].path, raw, other))
    return edges


@dataclass(frozen=True, slots=True)
class PairPolicy:
    """The pairs of one index under one policy, applied to a group's keeper and marks."""

    companion: np.ndarray
    """find_companions of the index's records."""
    is_raw: np.ndarray
    policy: RawJpegPolicy = RawJpegPolicy.KEEP_BOTH
    any: bool = False
    """Whether the index holds a pair at all (else nothing here needs to run)."""

    @classmethod
    def of(cls, records: Sequence[ImageRecord], companion: np.ndarray,
           policy: RawJpegPolicy) -> PairPolicy:
        is_raw = np.zeros(len(records), dtype=bool)
        paired = np.flatnonzero(companion >= 0)
        is_raw[paired] = [is_raw_format(records[row].format) for row in paired.tolist()]
        return cls(companion, is_raw, policy, any=bool(len(paired)))

    def held(self, members: np.ndarray, keepers: np.ndarray) -> np.ndarray:
        """Per member (rows, with its group's keeper row alongside), whether it is the
        keeper's companion kept with it (`members`, vectorised over a whole cut)."""
        partner_is_keeper = (self.companion[members] == keepers) & (members != keepers)
        if self.policy is RawJpegPolicy.KEEP_BOTH:
            return partner_is_keeper
        keeper_is_raw = self.is_raw[keepers]
        keeps_other = ~keeper_is_raw if self.policy is RawJpegPolicy.KEEP_RAW else keeper_is_raw
        return partner_is_keeper & keeps_other

    def keeper(
        self, members: tuple[int, ...], keeper: int, reason: str, is_reference: np.ndarray
    ) -> tuple[int, str]:
        """The keeper chain's choice, unless the policy keeps the other file of the
        keeper's pair instead (a file in a protected folder stays the keeper)."""
        partner = int(self.companion[keeper]) if self.any else NO_COMPANION
        if partner == NO_COMPANION or partner not in members or is_reference[keeper]:
            return keeper, reason
        if self.policy is RawJpegPolicy.KEEP_JPEG and self.is_raw[keeper]:
            return partner, JPEG_CHOSEN_REASON
        if self.policy is RawJpegPolicy.KEEP_RAW and not self.is_raw[keeper]:
            return partner, RAW_CHOSEN_REASON
        return keeper, reason

    def members(
        self, rows: tuple[int, ...], built: list[GroupMember], records: Sequence[ImageRecord]
    ) -> list[GroupMember]:
        """`built` (the group's members for `rows`, keeper first) with each pair's
        companion named, and the keeper's companion kept as the policy says."""
        if not self.any:
            return built
        partners = self.companion[list(rows)]
        if not (partners >= 0).any():
            return built
        position_of = {row: position for position, row in enumerate(rows)}
        keeper_partner = position_of.get(int(partners[0]))
        held = keeper_partner is not None and self._keeps_both(rows[0])
        alone = held and len(rows) == 2
        out = []
        for position, (member, partner) in enumerate(zip(built, partners.tolist(), strict=True)):
            if partner not in position_of:
                out.append(member)
                continue
            in_pair = held and position in (0, keeper_partner)
            reason = member.keep_reason
            if in_pair and position:
                reason = PAIR_REASON if self.policy is RawJpegPolicy.KEEP_BOTH else (
                    RAW_CHOSEN_REASON if self.is_raw[rows[position]] else JPEG_CHOSEN_REASON
                )
            elif alone and self.policy is RawJpegPolicy.KEEP_BOTH:
                reason = PAIR_REASON  # nothing in the group is a copy to trash
            out.append(replace(
                member, keep=member.keep or in_pair, keep_reason=reason,
                pair_of=records[partner].path, pair_kept=in_pair,
            ))
        return out

    def _keeps_both(self, keeper: int) -> bool:
        """Whether the keeper's companion is kept with it: always with KEEP_BOTH; with
        KEEP_RAW / KEEP_JPEG only when it is the file the user chose to keep (the keeper
        then is the other one only because it is protected)."""
        if self.policy is RawJpegPolicy.KEEP_BOTH:
            return True
        keeper_is_raw = bool(self.is_raw[keeper])
        wanted_raw = self.policy is RawJpegPolicy.KEEP_RAW
        return keeper_is_raw != wanted_raw
