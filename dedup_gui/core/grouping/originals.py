"""Which copies of a group look like the original the others were made from.

Evidence, strongest first (each step only narrows the candidates, never empties them):
1. Pixels: a copy with clearly fewer pixels than another is a resized-down copy, unless
   the bigger one's metadata is weaker (an upscale, made by a program, loses its camera
   EXIF or keeps a stale one whose pixel size disagrees).
2. Metadata: the camera's make/model present, no editor named in Software, no modify
   date after the capture date.
3. Compression. First, a file with the same decoded pixels (ImageRecord.pixel_digest, at
   the same size) as a lossy one (JPEG, HEIF, AVIF) but in another format (PNG, BMP,
   TIFF, GIF, a lossless WebP), or found at scan time to hold its full-size decode
   (ImageRecord.holds_decode_of, images/decode_match.py: above 512 px the reduced decodes
   differ), is a conversion of that decode: a lossy encode never gives
   back its source's pixels exactly, so the lossy file cannot have been made from the
   other, and the other stores what decoding the lossy one gave. Then, of two JPEGs of
   the same picture, a lower quality is a re-encode, unless the higher-quality file is
   too small for its quality to have been compressed from anything but the lower-quality
   one (a re-encode "up": its size grows much less than a fresh encode's would, measured
   by `_REENCODE_EXPONENT`). Conversions go first: in original -> re-encode -> PNG of the
   re-encode, the PNG shares the re-encode's pixels, not the original's.
4. Content, pairwise on the micro thumbnail and the regional detail: grey beside colour,
   an overlay (a difference concentrated in one region where the copy has more edges),
   clipped highlights or shadows from a tone change; for copies whose framing differs
   (framing.py), a crop of the other's field of view or a large painted overlay (a
   caption bar).
5. File names (copy_names.py): a copy whose name is another's with a copy marker added
   ("IMG_1234 (1)", "IMG_1234 copy", "Copy of IMG_1234", "IMG_1234-edited", "IMG_E1234"...).
6. In groups of three or more, the medoid (every derivative is one edit away from the
   original, so two derivatives are farther apart than either is from it).
7. The earlier modification time, when the files' times are minutes apart.

Why names sit there. A marker records only that a file of the plain name already existed
where the copy was saved (a second download, a duplicate in the Finder, an app's edit next
to its source); it says nothing about how the pixels were made, and a rename or a "save
as" over the plain name undoes it. Steps 1-4 read what the pixels and the file themselves
went through, and each is a loss a copy cannot undo: a resized-down copy with the plain
name is still the copy (a share-sized export named IMG_1234, the full-size download
IMG_1234 (1)); a stripped EXIF cannot be written back by a download; a lower JPEG quality
is a re-encode, and a lossless conversion holds only the lossy file's decode (however
much larger it is); a greyed, captioned or clipped copy cannot give back the colour, the
covered region or the clipped tones. So names only decide between copies those steps
find alike. They come before the medoid, which assumes every copy was made from the
original directly (a chain original -> edit -> edit of the edit makes the middle one the
medoid, while the names still say which came first), and before the modification time,
which a plain copy or a download resets and a marker survives. Only pairs count: one name
alone ("holiday-edit.jpg") is never evidence, and "IMG_1234-1" marks a copy only beside
an "IMG_1234" of the same group.

Why metadata comes before the conversion evidence: identical pixels mean keeping either
copy loses no picture, so the metadata decides what else is kept (a conversion that kept
the camera's EXIF the JPEG has since lost is the more complete file).

Only what the records carry is used: nothing is read from disk here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup_gui.core.files.imagetypes import is_raw_format
from dedup_gui.core.grouping import framing
from dedup_gui.core.grouping.arrays import median_of_sorted
from dedup_gui.core.grouping.copy_names import lineage
from dedup_gui.core.images.provenance import DETAIL_CELLS, GRID, is_editor, quantiser_step
from dedup_gui.core.models import MICRO_SIDE, ImageRecord

RESIZED_PIXEL_RATIO = 0.8
"""A copy with fewer than this share of another's pixels was resized (not re-saved)."""
_SAME_PICTURE_RMS = 1.5
"""Micro thumbnails closer than this (RMS, 0-255) show the same picture: a re-encode."""
_REENCODE_EXPONENT = 0.42
"""A fresh JPEG encode grows as (step ratio)^0.5..0.6 (benchmarks/eval_keeper.py); a
re-encode of an already compressed file at a finer step grows as ^0.3..0.4."""
_ALIGNED = framing.ALIGNED
"""Tone and overlay evidence needs the same framing: micro lumas correlated this well (a
crop or a shift moves every edge; a brightness, gamma or caption edit does not). Pairs
that do not line up are left to framing.py (a crop, a large overlay)."""
_GREY_SHARE = 0.3
_MIN_COLOUR = 6.0
_OVERLAY_CONCENTRATION = 3.0
_OVERLAY_MIN_DIFF = 4.0
_MORE_EDGES = 1.15
_CLIP_MARGIN = 2
_TONE_MARGIN = 2.0
_MEDOID_MARGIN = 0.9
_MTIME_GAP_NS = 60 * 1_000_000_000
LOSSY_FORMATS = frozenset({"JPEG", "MPO", "HEIF", "AVIF"})
"""Pillow formats whose encode loses detail: a file of another format with the same
decoded pixels is a conversion of the decode."""
EDITED_REASON = "kept: the others look edited from it"
CONVERSION_REASON = "kept: the others are lossless conversions of it"
NAMES_REASON = "kept: the others' names mark them as copies"


@dataclass(frozen=True, slots=True)
class Verdict:
    candidates: tuple[int, ...]
    """Positions (in the records given) of the copies that look most original."""
    reasons: tuple[str, ...]
    """Why: the reason of each step that narrowed the candidates, in order (none when
    nothing did)."""


class _Thumbnails:
    """The group's micro thumbnails compared all pairs at once (one numpy pass a group)."""

    def __init__(self, records: Sequence[ImageRecord]) -> None:
        expected = MICRO_SIDE * MICRO_SIDE * 3
        self.valid = np.array([len(r.micro) == expected for r in records], dtype=bool)
        blob = b"".join(r.micro if len(r.micro) == expected else bytes(expected) for r in records)
        rgb = np.frombuffer(blob, np.uint8).reshape(len(records), -1, 3).astype(np.float32)
        flat = rgb.reshape(len(records), -1)
        squares = (flat**2).sum(axis=1)
        mse = (squares[:, None] + squares[None, :] - 2 * flat @ flat.T) / flat.shape[1]
        self.rms = np.sqrt(np.maximum(mse, 0.0))
        both = self.valid[:, None] & self.valid[None, :]
        self.rms[~both] = np.inf
        luma = rgb.mean(axis=2)
        self.mean = luma.mean(axis=1)
        centred = luma - self.mean[:, None]
        norms = np.sqrt((centred**2).sum(axis=1))
        scale = np.where(norms > 0, norms, 1.0)
        self.correlation = (centred @ centred.T) / (scale[:, None] * scale[None, :])
        flat_rows = norms == 0
        self.correlation[flat_rows, :] = 1.0
        self.correlation[:, flat_rows] = 1.0
        self.colourfulness = np.abs(rgb - luma[..., None]).mean(axis=(1, 2))
        self._rgb = rgb

    def overlay_cell(self, a: int, b: int) -> int | None:
        """The GRID cell where `a` and `b` differ, if their difference is concentrated
        there (a caption, a watermark), else None."""
        side = MICRO_SIDE // GRID
        diff = np.abs(self._rgb[a] - self._rgb[b]).mean(axis=1).reshape(GRID, side, GRID, side)
        cells = diff.mean(axis=(1, 3)).reshape(-1)
        top = int(np.argmax(cells))
        rest = float(median_of_sorted(np.sort(np.delete(cells, top))))
        if cells[top] > _OVERLAY_MIN_DIFF and cells[top] > _OVERLAY_CONCENTRATION * max(rest, 0.5):
            return top
        return None


def most_original(records: Sequence[ImageRecord], candidates: Sequence[int]) -> Verdict:
    """Narrow `candidates` (positions in `records`, the whole group) to those that look
    most original; the other group members serve as evidence too."""
    remaining = list(candidates)
    reasons: list[str] = []
    thumbnails: _Thumbnails | None = None
    for step in STEPS:
        if len(remaining) < 2:
            break
        if step in _NEEDS_THUMBNAILS and thumbnails is None:
            thumbnails = _Thumbnails(records)
        narrowed, why = step(records, remaining, thumbnails)
        if narrowed and len(narrowed) < len(remaining):
            remaining = narrowed
            if why:
                reasons.append(why)
    return Verdict(tuple(remaining), tuple(reasons))


def metadata_score(record: ImageRecord) -> int:
    """Camera metadata present counts for, signs of an editor against."""
    return (
        (record.camera is not None)
        - record.edited_after_capture
        - is_editor(record.software)
    )


def _by_pixels(
    records: Sequence[ImageRecord], remaining: list[int], _: _Thumbnails | None
) -> tuple[list[int], str]:
    pixels = {i: records[i].width * records[i].height for i in remaining}
    if len(set(pixels.values())) == 1:
        return remaining, ""
    scores = {i: metadata_score(records[i]) for i in remaining}
    # An upscale: more pixels than a copy whose metadata is stronger.
    genuine = [
        i
        for i in remaining
        if not any(
            pixels[j] < pixels[i] * RESIZED_PIXEL_RATIO and scores[j] > scores[i]
            for j in remaining
        )
    ]
    largest = max(pixels[i] for i in genuine)
    kept = [i for i in genuine if pixels[i] >= largest * RESIZED_PIXEL_RATIO]
    if any(pixels[i] > largest for i in remaining):
        return kept, "kept: the larger copies look enlarged from it"
    return kept, "kept: most pixels"


def _by_metadata(
    records: Sequence[ImageRecord], remaining: list[int], _: _Thumbnails | None
) -> tuple[list[int], str]:
    scores = {i: metadata_score(records[i]) for i in remaining}
    best = max(scores.values())
    kept = [i for i in remaining if scores[i] == best]
    if any(records[i].camera is not None for i in kept) and any(
        records[i].camera is None for i in remaining
    ):
        return kept, "kept: has the camera's metadata"
    return kept, "kept: the others were saved again by an editing program"


def stores_decodes(image_format: str) -> bool:
    """A format a lossy file's decode can be saved in unchanged (neither lossy nor RAW)."""
    return image_format not in LOSSY_FORMATS and not is_raw_format(image_format)


def is_conversion_of(copy: ImageRecord, source: ImageRecord) -> bool:
    """`copy` stores the decoded pixels of the lossy file `source` in another format."""
    return (
        source.format in LOSSY_FORMATS
        and stores_decodes(copy.format)
        and source.pixel_digest is not None
        and source.pixel_digest in (copy.pixel_digest, copy.holds_decode_of)
        and (copy.width, copy.height) == (source.width, source.height)
    )


def _by_conversion(
    records: Sequence[ImageRecord], remaining: list[int], _: _Thumbnails | None
) -> tuple[list[int], str]:
    derived = {a for a in remaining for b in remaining if is_conversion_of(records[a], records[b])}
    return [i for i in remaining if i not in derived], CONVERSION_REASON


def _by_compression(
    records: Sequence[ImageRecord], remaining: list[int], thumbnails: _Thumbnails | None
) -> tuple[list[int], str]:
    assert thumbnails is not None
    derived: set[int] = set()
    for a in remaining:
        for b in remaining:
            ra, rb = records[a], records[b]
            if a == b or ra.jpeg_quality is None or rb.jpeg_quality is None:
                continue
            if ra.jpeg_quality == rb.jpeg_quality or (ra.width, ra.height) != (rb.width, rb.height):
                continue
            if thumbnails.rms[a, b] > _SAME_PICTURE_RMS:
                continue
            if thumbnails.overlay_cell(a, b) is not None:
                continue
            if _is_reencode_of(ra, rb):
                derived.add(a)
    kept = [i for i in remaining if i not in derived]
    return kept, "kept: the others are JPEG re-encodes of it"


def _is_reencode_of(copy: ImageRecord, source: ImageRecord) -> bool:
    """`copy` is `source` compressed again (both JPEGs of the same picture)."""
    assert copy.jpeg_quality is not None and source.jpeg_quality is not None
    if copy.jpeg_quality < source.jpeg_quality:
        # Lower quality: a re-encode, unless `source` is itself a re-encode "up" of it.
        return not _is_reencode_up(source, copy)
    if copy.jpeg_quality > source.jpeg_quality:
        return _is_reencode_up(copy, source)
    return False


def _is_reencode_up(finer: ImageRecord, coarser: ImageRecord) -> bool:
    assert finer.jpeg_quality is not None and coarser.jpeg_quality is not None
    step_ratio = quantiser_step(coarser.jpeg_quality) / quantiser_step(finer.jpeg_quality)
    if step_ratio <= 1.05 or finer.size <= coarser.size:
        return False
    exponent = math.log(finer.size / coarser.size) / math.log(step_ratio)
    return exponent < _REENCODE_EXPONENT


def _by_content(
    records: Sequence[ImageRecord], remaining: list[int], thumbnails: _Thumbnails | None
) -> tuple[list[int], str]:
    assert thumbnails is not None
    evidence = dict.fromkeys(remaining, 0.0)
    for a in remaining:
        for b in remaining:
            if a != b:
                evidence[a] += _looks_edited_from(records, thumbnails, a, b)
    least = min(evidence.values())
    kept = [i for i in remaining if evidence[i] == least]
    return kept, EDITED_REASON


def _by_names(
    records: Sequence[ImageRecord], remaining: list[int], _: _Thumbnails | None
) -> tuple[list[int], str]:
    names = {i: lineage(records[i].path) for i in remaining}
    marked = {
        a for a in remaining for b in remaining if a != b and names[b][0] in names[a][1]
    }
    return [i for i in remaining if i not in marked], NAMES_REASON


def _by_medoid(
    records: Sequence[ImageRecord], remaining: list[int], thumbnails: _Thumbnails | None
) -> tuple[list[int], str]:
    """In groups of three or more, the copy nearest to all the others (every member is
    evidence, also those no longer candidates)."""
    assert thumbnails is not None
    if len(records) < 3:
        return remaining, ""
    spread = {i: float(np.delete(thumbnails.rms[i], i).sum()) for i in remaining}
    centre = min(spread, key=spread.__getitem__)
    others = [spread[i] for i in remaining if i != centre]
    if others and spread[centre] < _MEDOID_MARGIN * min(others):
        return [centre], EDITED_REASON
    return remaining, ""


def _looks_edited_from(
    records: Sequence[ImageRecord], thumbnails: _Thumbnails, a: int, b: int
) -> float:
    """Evidence (0, 1, 2, ...) that record `a` is an edit of record `b`."""
    if not (thumbnails.valid[a] and thumbnails.valid[b]):
        return 0.0
    score = 0.0
    colour_copy, colour_other = thumbnails.colourfulness[a], thumbnails.colourfulness[b]
    if colour_other > _MIN_COLOUR and colour_copy < _GREY_SHARE * colour_other:
        score += 1
    copy, other = records[a], records[b]
    aligned = thumbnails.correlation[a, b] >= _ALIGNED
    if not aligned and framing.edited_by_framing(copy, other):
        score += 1
    if aligned and len(copy.detail) == len(other.detail) == DETAIL_CELLS + 2:
        cell = thumbnails.overlay_cell(a, b)
        if cell is not None and copy.detail[cell] > _MORE_EDGES * other.detail[cell] + 1:
            score += 1
        brighter = float(thumbnails.mean[a] - thumbnails.mean[b])
        high, low = DETAIL_CELLS, DETAIL_CELLS + 1
        if brighter > _TONE_MARGIN and copy.detail[high] > other.detail[high] + _CLIP_MARGIN:
            score += 1
        if -brighter > _TONE_MARGIN and copy.detail[low] > other.detail[low] + _CLIP_MARGIN:
            score += 1
    return score


def _by_mtime(
    records: Sequence[ImageRecord], remaining: list[int], _: _Thumbnails | None
) -> tuple[list[int], str]:
    earliest = min(records[i].mtime_ns for i in remaining)
    kept = [i for i in remaining if records[i].mtime_ns - earliest < _MTIME_GAP_NS]
    return kept, "kept: saved before the others"


STEPS = (
    _by_pixels, _by_metadata, _by_conversion, _by_compression, _by_content, _by_names,
    _by_medoid, _by_mtime,
)  # fmt: skip
"""The evidence in the order it is weighed (the module docstring says why)."""
_NEEDS_THUMBNAILS = (_by_compression, _by_content, _by_medoid)
