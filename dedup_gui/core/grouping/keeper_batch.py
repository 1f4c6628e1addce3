"""`keeper.choose_in_group` for many groups at once: the same decisions, in numpy.

Groups of the same size are stacked into (groups, size) arrays and every rule of the chain,
the originals analysis included (originals.py), runs as masks over the stack: one numpy
pass per rule and size instead of a Python loop per group. Where a float comparison is so
close to its threshold that the stacked arithmetic could round another way than the
per-group code (micro-thumbnail RMS, correlation, overlay cells), and for groups larger
than MAX_STACKED, that group is decided by `choose_in_group` itself, so a decision never
depends on which path took it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dedup_gui.core.grouping import framing
from dedup_gui.core.grouping import originals as og
from dedup_gui.core.grouping.arrays import median_of_sorted
from dedup_gui.core.grouping.keeper import (
    _RULE_REASONS,
    ChainRule,
    KeeperRule,
    _string_ranks,
    choose_in_group,
    joined_reason,
)
from dedup_gui.core.grouping.record_columns import RecordColumns
from dedup_gui.core.images.provenance import DETAIL_CELLS, GRID
from dedup_gui.core.models import MICRO_SIDE, ImageRecord

MAX_STACKED = 12
"""Larger groups (rare) go through choose_in_group one by one."""
_MARGIN = 1e-3
"""Relative distance to a threshold below which a float comparison is left to the
per-group code."""
_STACK_VALUES = 20_000
"""Groups x size x size per stacked pass (bounds the pairwise temporaries to ~60 MB)."""

_ORIGINAL_REASONS = (
    "",
    "kept: the larger copies look enlarged from it",
    "kept: most pixels",
    "kept: has the camera's metadata",
    "kept: the others were saved again by an editing program",
    "kept: the others are JPEG re-encodes of it",
    "kept: the others look edited from it",
    "kept: saved before the others",
    og.NAMES_REASON,
    og.CONVERSION_REASON,
)
_EXPECTED_MICRO = MICRO_SIDE * MICRO_SIDE * 3
_THUMBNAIL_SLICE = 256
"""Members per slice of the thumbnail arithmetic (~0.8 MB per float32 temporary)."""


def _luma_of_sum() -> np.ndarray:
    """`rgb.mean(axis=-1)` of float32 channels by their (exact, integer) sum 0..765."""
    total = np.arange(3 * 255 + 1)
    channels = np.stack(
        [np.minimum(total, 255), np.clip(total - 255, 0, 255), np.clip(total - 510, 0, 255)],
        axis=1,
    ).astype(np.float32)
    return channels.mean(axis=1)


_LUMA_OF_SUM = _luma_of_sum()


_STACKED_RULES = frozenset({
    KeeperRule.REFERENCE_FOLDER, KeeperRule.RAW_FIRST, KeeperRule.ORIGINAL,
    KeeperRule.RESOLUTION, KeeperRule.FILE_SIZE, KeeperRule.CAPTURE_DATE,
    KeeperRule.SHORTER_PATH,
})
"""Rules `_Stack` decides in numpy; a chain with any other is decided group by group."""


def choose_keepers(
    records: Sequence[ImageRecord],
    groups: Sequence[tuple[int, ...]],
    is_reference: np.ndarray,
    rules: Sequence[ChainRule],
    columns: RecordColumns | None = None,
) -> list[tuple[int, str]]:
    """(keeper's record index, reason) per group (record indices into `records`), the
    same as `choose_in_group` on each group's records in the order given. `columns`: the
    records' RecordColumns, kept by a caller that decides groups of the same records
    again (an index's cuts)."""
    out: list[tuple[int, str] | None] = [None] * len(groups)
    rules = tuple(rules)
    if not all(rule in _STACKED_RULES for rule in rules):  # the user's own lists, mtime
        return [_one(records, members, is_reference, rules) for members in groups]
    if columns is None:
        columns = RecordColumns(records)
    by_size: dict[int, list[int]] = {}
    for g, members in enumerate(groups):
        by_size.setdefault(len(members), []).append(g)
    for size, chosen in by_size.items():
        if size < 2 or size > MAX_STACKED:
            for g in chosen:
                out[g] = _one(records, groups[g], is_reference, rules)
            continue
        step = max(1, _STACK_VALUES // (size * size))
        for start in range(0, len(chosen), step):
            part = chosen[start : start + step]
            members = np.array([groups[g] for g in part], dtype=np.int64)
            stack = _Stack(records, members, is_reference, columns)
            keepers, reasons, unsure = stack.choose(rules)
            for row, g in enumerate(part):
                if unsure[row]:
                    out[g] = _one(records, groups[g], is_reference, rules)
                else:
                    out[g] = (int(keepers[row]), reasons[row])
    return [choice for choice in out if choice is not None]


def _one(
    records: Sequence[ImageRecord],
    members: tuple[int, ...],
    is_reference: np.ndarray,
    rules: tuple[ChainRule, ...],
) -> tuple[int, str]:
    position, reason = choose_in_group(
        [records[i] for i in members], [bool(is_reference[i]) for i in members], rules
    )
    return members[position], reason


def _near(value: np.ndarray, threshold: np.ndarray | float) -> np.ndarray:
    threshold = np.asarray(threshold, np.float64)
    scale = np.maximum(np.abs(threshold), 1.0)
    with np.errstate(invalid="ignore"):
        return np.abs(np.asarray(value, np.float64) - threshold) <= _MARGIN * scale


class _Stack:
    """Groups of one size: per-member attributes as (groups, size) arrays."""

    def __init__(
        self,
        records: Sequence[ImageRecord],
        members: np.ndarray,
        is_reference: np.ndarray,
        columns: RecordColumns | None = None,
    ) -> None:
        self.records = records
        self.members = members
        self.count, self.size = members.shape
        self.columns = RecordColumns(records) if columns is None else columns
        self._values: dict[str, np.ndarray] = {}
        self.is_reference = is_reference[members]
        self.unsure = np.zeros(self.count, dtype=bool)
        self._thumbs: dict[str, np.ndarray] | None = None
        self._flat: list[ImageRecord] | None = None

    def _of(self, name: str, active: np.ndarray) -> np.ndarray:
        """RecordColumns' column `name` of the members, as (groups, size), read for the
        groups `active` when first asked for. Those after are among them (candidates only
        narrow), and the others' values are never read: they are decided."""
        value = self._values.get(name)
        if value is None:
            rows = self.members[active].reshape(-1)
            value = self._values[name] = self.columns.column(name, rows)[self.members]
        return value

    def _pixel_count(self, active: np.ndarray) -> np.ndarray:
        return self._of("width", active) * self._of("height", active)

    @property
    def flat(self) -> list[ImageRecord]:
        """The members' records, group after group."""
        if self._flat is None:
            records = self.records
            self._flat = [records[i] for i in self.members.reshape(-1).tolist()]
        return self._flat

    # The chain

    def choose(self, rules: tuple[KeeperRule, ...]) -> tuple[np.ndarray, list[str], np.ndarray]:
        candidates = np.ones((self.count, self.size), dtype=bool)
        steps: list[np.ndarray] = []  # per narrowing step: its reason code per group, -1: none
        texts: list[str] = []
        for rule in rules:
            active = candidates.sum(axis=1) >= 2
            if not active.any():
                break
            if rule is KeeperRule.ORIGINAL:
                # Its steps narrow only groups of two candidates or more.
                candidates, codes = self._most_original(candidates)
                steps.extend(np.where(code >= 0, code + len(texts), -1) for code in codes)
                texts.extend(_ORIGINAL_REASONS)
                continue
            key = self._rule_key(rule, active)
            best = np.where(candidates, key, np.iinfo(np.int64).max).min(axis=1)
            narrowed = candidates & (key == best[:, None])
            shrunk = active & (narrowed.sum(axis=1) < candidates.sum(axis=1))
            candidates = np.where(shrunk[:, None], narrowed, candidates)
            steps.append(np.where(shrunk, len(texts), -1))
            texts.append(_RULE_REASONS[rule])
        keepers = self._smallest_paths(candidates)
        table = np.stack(steps, axis=1) if steps else np.full((self.count, 0), -1)
        # One reason per distinct row of reason codes (a handful per stack).
        rows = list(map(tuple, table.tolist()))
        joined = {
            row: joined_reason([texts[code] for code in row if code >= 0]) for row in set(rows)
        }
        return keepers, list(map(joined.__getitem__, rows)), self.unsure

    def _smallest_paths(self, candidates: np.ndarray) -> np.ndarray:
        """The final tie-break: per group, the candidate with the smallest path (the first
        such member on equal paths)."""
        path_rank = self.columns.path_rank
        members = self.members
        if path_rank is not None and (self.size < 2 or bool(np.all(np.diff(members, axis=1) > 0))):
            # Ranks follow (path, row): with members in row order, the smallest rank is the
            # smallest path and, on equal paths, the first such member.
            ranks = np.where(candidates, path_rank[members], np.iinfo(np.int64).max)
            return members[np.arange(self.count), np.argmin(ranks, axis=1)]
        paths = [r.path for r in self.flat]
        keepers = np.empty(self.count, np.int64)
        for row in range(self.count):
            allowed = np.flatnonzero(candidates[row]).tolist()
            position = min(allowed, key=lambda p, row=row: paths[row * self.size + p])
            keepers[row] = members[row, position]
        return keepers

    def _rule_key(self, rule: KeeperRule, active: np.ndarray) -> np.ndarray:
        if rule is KeeperRule.REFERENCE_FOLDER:
            return (~self.is_reference).astype(np.int64)
        if rule is KeeperRule.RAW_FIRST:
            return (~self._of("raw", active)).astype(np.int64)
        if rule is KeeperRule.RESOLUTION:
            return -self._pixel_count(active)
        if rule is KeeperRule.FILE_SIZE:
            return -self._of("file_size", active)
        if rule is KeeperRule.CAPTURE_DATE:
            rows = np.flatnonzero(active)  # (the others' keys are never read)
            records = self.records
            dates = [records[i].capture_time for i in self.members[rows].reshape(-1).tolist()]
            rank = _string_ranks([d or "" for d in dates])
            missing = np.array([d is None for d in dates], dtype=bool)
            # (no date, date text) in tuple order: every dated copy before every undated one.
            key = np.zeros(self.members.shape, np.int64)
            key[rows] = np.where(missing, len(dates) + 1, rank).reshape(len(rows), self.size)
            return key
        if rule is KeeperRule.SHORTER_PATH:
            return self._of("path_length", active)
        raise ValueError(f"no key for {rule}")

    # originals.most_original, stacked

    def _most_original(self, candidates: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """(candidates left, per step the code of its reason in _ORIGINAL_REASONS for the
        groups it narrowed, -1 for the others)."""
        remaining = candidates.copy()
        codes: list[np.ndarray] = []
        for step in (self._by_pixels, self._by_metadata, self._by_conversion,
                     self._by_compression, self._by_content, self._by_names, self._by_medoid,
                     self._by_mtime):
            active = remaining.sum(axis=1) >= 2
            if not active.any():
                break
            narrowed, why = step(remaining, active)
            count = narrowed.sum(axis=1)
            settled = active & (count > 0) & (count < remaining.sum(axis=1))
            remaining = np.where(settled[:, None], narrowed, remaining)
            codes.append(np.where(settled, why, -1))
        return remaining, codes

    def _by_pixels(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        pixels, scores = self._pixel_count(active), self._of("score", active)
        # j makes i an upscale: fewer pixels than i by the ratio, and stronger metadata.
        smaller = pixels[:, None, :] < pixels[:, :, None] * og.RESIZED_PIXEL_RATIO
        stronger = scores[:, None, :] > scores[:, :, None]
        upscale = (smaller & stronger & remaining[:, None, :]).any(axis=2)
        genuine = remaining & ~upscale
        largest = np.where(genuine, pixels, -1).max(axis=1)
        kept = genuine & (pixels >= largest[:, None] * og.RESIZED_PIXEL_RATIO)
        enlarged = (remaining & (pixels > largest[:, None])).any(axis=1)
        low = np.where(remaining, pixels, np.iinfo(np.int64).max).min(axis=1)
        high = np.where(remaining, pixels, -1).max(axis=1)
        kept = np.where((low == high)[:, None], remaining, kept)
        return kept, np.where(enlarged, 1, 2)

    def _by_metadata(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        score, camera = self._of("score", active), self._of("camera", active)
        best = np.where(remaining, score, np.iinfo(np.int64).min).max(axis=1)
        kept = remaining & (score == best[:, None])
        camera_kept = (kept & camera).any(axis=1)
        camera_missing = (remaining & ~camera).any(axis=1)
        return kept, np.where(camera_kept & camera_missing, 3, 4)

    def _thumbnails(self, active: np.ndarray) -> dict[str, np.ndarray]:
        """originals._Thumbnails of the groups still undecided when it is first needed
        (the others are never read: they are decided)."""
        if self._thumbs is not None:
            return self._thumbs
        count, size = self.count, self.size
        rows = np.flatnonzero(active)
        records = self.records
        micros = [records[i].micro for i in self.members[rows].reshape(-1).tolist()]
        valid_rows = np.array([len(m) == _EXPECTED_MICRO for m in micros], dtype=bool)
        if not valid_rows.all():
            micros = [m if fits else bytes(_EXPECTED_MICRO) for m, fits in zip(
                micros, valid_rows.tolist(), strict=True)]
        pixels = np.frombuffer(b"".join(micros), np.uint8).reshape(len(rows), size, -1, 3)
        valid = np.zeros((count, size), dtype=bool)
        valid[rows] = valid_rows.reshape(len(rows), size)
        rms = np.full((count, size, size), np.inf, np.float32)
        mean = np.zeros((count, size), np.float32)
        correlation = np.ones((count, size, size), np.float32)
        colourfulness = np.zeros((count, size), np.float32)
        flat_rows = np.zeros((count, size), dtype=bool)
        # In slices whose temporaries stay in the CPU's cache; every value is per group, so
        # the slices change none of them.
        step = max(1, _THUMBNAIL_SLICE // size)
        for at in range(0, len(rows), step):
            part = rows[at : at + step]
            self._thumbnail_slice(pixels[at : at + step], part, rms, mean, correlation,
                                  colourfulness, flat_rows)
        rms[~(valid[:, :, None] & valid[:, None, :])] = np.inf
        correlation[np.broadcast_to(flat_rows[:, :, None], correlation.shape)] = 1.0
        correlation[np.broadcast_to(flat_rows[:, None, :], correlation.shape)] = 1.0
        self._pixels = pixels
        """The thumbnails' pixels of the groups `rows`, in their order (for _overlay)."""
        self._pixel_row = np.full(count, -1, np.int64)
        self._pixel_row[rows] = np.arange(len(rows))
        self._thumbs = {
            "valid": valid,
            "rms": rms,
            "mean": mean,
            "correlation": correlation,
            "colourfulness": colourfulness,
        }
        return self._thumbs

    @staticmethod
    def _thumbnail_slice(
        pixels: np.ndarray, rows: np.ndarray, rms: np.ndarray, mean: np.ndarray,
        correlation: np.ndarray, colourfulness: np.ndarray, flat_rows: np.ndarray,
    ) -> None:
        """The _thumbnails values of the groups `rows` (`pixels`: theirs, uint8)."""
        rgb = pixels.astype(np.float32)
        flat = rgb.reshape(len(rows), pixels.shape[1], -1)
        squares = (flat**2).sum(axis=2)
        dots = np.matmul(flat, flat.transpose(0, 2, 1))
        mse = (squares[:, :, None] + squares[:, None, :] - 2 * dots) / flat.shape[2]
        rms[rows] = np.sqrt(np.maximum(mse, 0.0))
        # rgb.mean(axis=3), looked up: the channel sums are exact integers.
        channels = pixels[..., 0].astype(np.uint16)
        channels += pixels[..., 1]
        channels += pixels[..., 2]
        luma = _LUMA_OF_SUM[channels]
        mean[rows] = row_mean = luma.mean(axis=2)
        centred = luma - row_mean[:, :, None]
        norms = np.sqrt((centred**2).sum(axis=2))
        scale = np.where(norms > 0, norms, 1.0)
        correlation[rows] = np.matmul(centred, centred.transpose(0, 2, 1)) / (
            scale[:, :, None] * scale[:, None, :]
        )
        flat_rows[rows] = norms == 0
        # np.abs(rgb - luma[..., None]).mean(axis=(2, 3)), with the luma repeated per
        # channel (a contiguous subtraction: the same values).
        spread = flat - np.repeat(luma, 3, axis=2)
        np.abs(spread, out=spread)
        colourfulness[rows] = spread.mean(axis=2)

    def _overlay(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """originals._Thumbnails.overlay_cell for the (group, a, b) pairs flagged in
        `wanted`: (cell or -1, too close to call) as (groups, size, size) arrays."""
        cell = np.full(wanted.shape, -1, np.int64)
        unsure = np.zeros(wanted.shape, dtype=bool)
        g, a, b = np.nonzero(wanted)
        if len(g) == 0:
            return cell, unsure
        side = MICRO_SIDE // GRID
        at = self._pixel_row[g]
        rgb_a = self._pixels[at, a].astype(np.float32)
        rgb_b = self._pixels[at, b].astype(np.float32)
        diff = np.abs(rgb_a - rgb_b).mean(axis=2)
        cells = diff.reshape(len(g), GRID, side, GRID, side).mean(axis=(2, 4))
        cells = cells.reshape(len(g), -1)
        ordered = np.sort(cells, axis=1)
        top_value, second = ordered[:, -1], ordered[:, -2]
        top = np.argmax(cells, axis=1)
        rest = median_of_sorted(ordered[:, :-1])
        bar = og._OVERLAY_CONCENTRATION * np.maximum(rest, 0.5)
        overlay = (top_value > og._OVERLAY_MIN_DIFF) & (top_value > bar)
        cell[g, a, b] = np.where(overlay, top, -1)
        unsure[g, a, b] = (
            _near(top_value, og._OVERLAY_MIN_DIFF)
            | _near(top_value, bar)
            | (overlay & _near(top_value, second))
        )
        return cell, unsure

    def _by_conversion(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        # a (axis 1) stores the decode of the lossy b (axis 2): originals.is_conversion_of.
        pair = remaining[:, :, None] & remaining[:, None, :] & active[:, None, None]
        pair &= self._of("convertible", active)[:, :, None] & self._of("lossy", active)[:, None, :]
        digest, holds = self._of("digest", active), self._of("holds", active)
        pair &= (digest[:, :, None] == digest[:, None, :]) | (
            holds[:, :, None] == digest[:, None, :]
        )
        width, height = self._of("width", active), self._of("height", active)
        pair &= (width[:, :, None] == width[:, None, :]) & (
            height[:, :, None] == height[:, None, :]
        )
        return remaining & ~pair.any(axis=2), np.full(self.count, 9)

    def _by_compression(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        thumbs = self._thumbnails(active)
        quality = self._of("quality", active)
        pair = remaining[:, :, None] & remaining[:, None, :] & ~np.eye(self.size, dtype=bool)
        pair &= (quality[:, :, None] >= 0) & (quality[:, None, :] >= 0)
        pair &= quality[:, :, None] != quality[:, None, :]
        width, height = self._of("width", active), self._of("height", active)
        pair &= (width[:, :, None] == width[:, None, :]) & (
            height[:, :, None] == height[:, None, :]
        )
        pair &= active[:, None, None]
        rms = thumbs["rms"]
        unsure = pair & _near(rms, og._SAME_PICTURE_RMS)
        pair &= rms <= og._SAME_PICTURE_RMS
        cell, overlay_unsure = self._overlay(pair)
        unsure |= pair & overlay_unsure
        pair &= cell < 0
        self.unsure |= active & unsure.any(axis=(1, 2))
        derived = np.zeros_like(remaining)
        for g, a, b in zip(*np.nonzero(pair), strict=True):
            flat_a, flat_b = self.flat[g * self.size + a], self.flat[g * self.size + b]
            if og._is_reencode_of(flat_a, flat_b):
                derived[g, a] = True
        return remaining & ~derived, np.full(self.count, 5)

    def _by_content(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        thumbs = self._thumbnails(active)
        size = self.size
        valid, colour, mean = thumbs["valid"], thumbs["colourfulness"], thumbs["mean"]
        pair = remaining[:, :, None] & remaining[:, None, :] & ~np.eye(size, dtype=bool)
        pair &= valid[:, :, None] & valid[:, None, :] & active[:, None, None]
        unsure = np.zeros_like(pair)
        # a (axis 1) looks edited from b (axis 2).
        copy_colour, other_colour = colour[:, :, None], colour[:, None, :]
        bar = og._GREY_SHARE * other_colour
        greyed = (other_colour > og._MIN_COLOUR) & (copy_colour < bar)
        unsure |= _near(other_colour, og._MIN_COLOUR) | _near(copy_colour, bar)
        score = greyed.astype(np.float64)
        detail = self._of("detail", active).astype(np.float64)  # zeros if missing
        has_detail = self._of("has_detail", active)
        correlation = thumbs["correlation"]
        aligned = (correlation >= og._ALIGNED) & has_detail[:, :, None] & has_detail[:, None, :]
        unsure |= _near(correlation, og._ALIGNED)
        cell, overlay_unsure = self._overlay(pair & aligned)
        unsure |= aligned & overlay_unsure
        at_cell = np.maximum(cell, 0)
        copy_cell = np.take_along_axis(detail[:, :, None, :], at_cell[..., None], axis=3)[..., 0]
        other_cell = np.take_along_axis(detail[:, None, :, :], at_cell[..., None], axis=3)[..., 0]
        score += aligned & (cell >= 0) & (copy_cell > og._MORE_EDGES * other_cell + 1)
        brighter = mean[:, :, None] - mean[:, None, :]  # float32, as originals.py
        high, low = DETAIL_CELLS, DETAIL_CELLS + 1
        copy_high, other_high = detail[:, :, None, high], detail[:, None, :, high]
        copy_low, other_low = detail[:, :, None, low], detail[:, None, :, low]
        score += aligned & (brighter > og._TONE_MARGIN) & (copy_high > other_high + og._CLIP_MARGIN)
        score += aligned & (-brighter > og._TONE_MARGIN) & (copy_low > other_low + og._CLIP_MARGIN)
        unsure |= aligned & (_near(brighter, og._TONE_MARGIN) | _near(-brighter, og._TONE_MARGIN))
        # Pairs that do not line up: framing.py, pair by pair (the same float64 code).
        for g, a, b in zip(*np.nonzero(pair & (correlation < og._ALIGNED)), strict=True):
            copy, other = self.flat[g * size + a], self.flat[g * size + b]
            score[g, a, b] += framing.edited_by_framing(copy, other)
        evidence = np.where(pair, score, 0.0).sum(axis=2)
        self.unsure |= active & (pair & unsure).any(axis=(1, 2))
        least = np.where(remaining, evidence, np.inf).min(axis=1)
        return remaining & (evidence == least[:, None]), np.full(self.count, 6)

    def _by_names(self, remaining: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stem, lineage = self._names(active)
        # marked[g, a, b]: a's name is b's with copy markers added (ids are never -1).
        marked = (lineage[:, :, None, :] == stem[:, None, :, None]).any(axis=3)
        marked &= remaining[:, None, :] & ~np.eye(self.size, dtype=bool)
        return remaining & ~marked.any(axis=2), np.full(self.count, 8)

    def _names(self, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stem id, lineage ids padded with -1) per member (copy_names.lineage), as
        (groups, size) and (groups, size, depth) arrays; ids are equal for equal names."""
        columns = self.columns
        rows = np.flatnonzero(active)
        chosen = self.members[rows]
        stems = np.full((self.count, self.size), -2, np.int64)
        stems[rows] = columns.column("stem", chosen.reshape(-1))[chosen]
        lineages = [
            (row, k, codes)
            for row, members in zip(rows.tolist(), chosen.tolist(), strict=True)
            for k, member in enumerate(members)
            if (codes := columns.lineage.get(member)) is not None
        ] if columns.lineage else []
        depth = max([1, *(len(codes) for _, _, codes in lineages)])
        out = np.full((self.count, self.size, depth), -1, np.int64)
        for row, k, codes in lineages:
            out[row, k, : len(codes)] = codes
        return stems, out

    def _by_medoid(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        size = self.size
        if size < 3:
            return remaining, np.full(self.count, 6)
        thumbs = self._thumbnails(active)
        rms = thumbs["rms"].copy()
        rms[:, np.arange(size), np.arange(size)] = 0.0
        # The medoid over every member (a removed candidate is still evidence).
        spread = rms.sum(axis=2).astype(np.float64)
        masked = np.where(remaining, spread, np.inf)
        centre = np.argmin(masked, axis=1)
        rows = np.arange(self.count)
        centre_spread = masked[rows, centre]
        others = masked.copy()
        others[rows, centre] = np.inf
        closest_other = others.min(axis=1)
        has_others = remaining.sum(axis=1) >= 2
        finite = np.isfinite(centre_spread) & np.isfinite(closest_other)
        wins = active & has_others & (centre_spread < og._MEDOID_MARGIN * closest_other)
        # (Near-equal spreads need no care: then the margin is not met either way.)
        bar = og._MEDOID_MARGIN * closest_other
        self.unsure |= active & has_others & finite & _near(centre_spread, bar)
        kept = remaining.copy()
        kept[wins] = False
        kept[rows[wins], centre[wins]] = True
        return kept, np.full(self.count, 6)

    def _by_mtime(
        self, remaining: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        mtime = self._of("mtime", active)
        earliest = np.where(remaining, mtime, np.iinfo(np.int64).max).min(axis=1)
        kept = remaining & (mtime - earliest[:, None] < og._MTIME_GAP_NS)
        return kept, np.full(self.count, 7)

