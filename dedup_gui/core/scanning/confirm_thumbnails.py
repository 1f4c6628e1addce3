"""The scan's last hashing pass: a photo hashed from its embedded thumbnail (a phone's
HEIC, `record.from_thumbnail`) that could be in a group is decoded in full, so groups are
only ever built from full decodes, and a stale thumbnail can never make a false group.

"Could be in a group" is a candidate partner under the loosest slider setting, widened by
the most a thumbnail was measured to move a pair's distance. libheif writes thumbnails by
nearest-neighbour scaling, which shifts a photo's own hashes by up to 28 pHash + dHash bits
(p95 9) against its full decode (benchmarks/eval_decode_paths.py, 538 HEICs of the
accuracy set with 320 px thumbnails); but two copies of one picture are sampled alike, so
what a pair's distance gains is smaller: at most 9 bits with both sides from thumbnails
and 13 with one. THUMBNAIL_MARGIN_BITS covers that worst case. A photo with no candidate
keeps its thumbnail hashes: most photos in a library have no duplicate, and that is where
the thumbnail's speed comes from.

Only pairs with an end decoded by this scan are looked for (the wide radius is costly:
about 90 s for 100,000 thumbnail records on 2 cores), so a warm rescan searches nothing.
A scan cancelled before this pass leaves its new thumbnail records unchecked in the cache;
they stay from_thumbnail, and the check right before trashing (below) still holds for them.

Turned copies (`match_transforms`) are not looked for here: a scan does not know whether
its grouping will match turns. A turned match made from a thumbnail is still confirmed
right before anything is done with the file (trash.recheck, heif_thumbnails).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from dedup_gui.core.files.discovery import FileStat
from dedup_gui.core.grouping import candidates
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY, similarity_to_distance
from dedup_gui.core.models import CancelToken, ImageRecord, ScanResult
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import HashCache

PHASE = "confirming"
"""ScanProgress.phase while the pass runs (done / total count its photos)."""
THUMBNAIL_MARGIN_BITS = 13
"""pHash + dHash bits added to the loosest candidate radius for a pair with a record from
a thumbnail: the worst rise of a candidate pair's distance measured (see the docstring)."""
LOOSEST_PAIR_BITS = 2 * similarity_to_distance(MIN_SIMILARITY)
"""The grouping's candidate radius on the 128 pHash + dHash bits (index._verified_pairs)."""


def needing_confirmation(
    records: Sequence[ImageRecord],
    elsewhere: Sequence[ImageRecord] = (),
    new: Collection[str] | None = None,
) -> list[int]:
    """Positions in `records` of those from a thumbnail with a candidate partner among
    `records` and `elsewhere` (another set they are compared with), ascending.

    With `new` (the paths decoded by this scan), only pairs with a new end are looked for:
    two records from the cache were compared when the later of them was new, so a warm
    rescan that decoded nothing searches nothing (the wide radius costs about a minute at
    100,000 records; benchmarks/bench_formats.py)."""
    thumbnail = np.fromiter((r.from_thumbnail for r in records), bool, len(records))
    if not thumbnail.any():
        return []
    if new is None:
        queries = np.flatnonzero(thumbnail)
        thumbnail_only = True
    else:
        queries = np.flatnonzero([record.path in new for record in records])
        thumbnail_only = False
    if len(queries) == 0:
        return []
    everyone = [*records, *elsewhere]
    hashes = np.array([[r.phash, r.dhash] for r in everyone], dtype=np.uint64).reshape(-1, 2)
    partner_is_ours = np.zeros(len(everyone), bool)
    partner_is_ours[: len(records)] = thumbnail
    radius = LOOSEST_PAIR_BITS + THUMBNAIL_MARGIN_BITS
    found: set[int] = set()
    for first, second, _ in candidates.join(hashes[queries], hashes, radius):
        first = queries[first]
        real = first != second
        first, second = first[real], second[real]
        found.update(first[thumbnail[first]].tolist())
        if not thumbnail_only:  # an old thumbnail record paired with a new photo
            found.update(second[partner_is_ours[second]].tolist())
    return sorted(found)


def confirm(
    result: ScanResult,
    reporter: scanner._ProgressReporter,
    options: scanner.ScanOptions,
    cache: HashCache | None,
    cancel: CancelToken,
    elsewhere: Sequence[ImageRecord] = (),
    new: Collection[str] | None = None,
) -> bool:
    """Decode in full, in the scan's worker pool and memory budget, every record of
    `result` that `needing_confirmation` names, and put the new records (hashes,
    signatures, thumbnails; from_thumbnail False) in place, in `cache` too. A file that can
    no longer be read leaves the records for `result.errors`, as a full-decode scan would.
    Returns True when cancelled (the records not yet decoded stay as they were). `new`:
    as for `needing_confirmation`."""
    if not options.embedded_thumbnails or cancel.cancelled:
        return cancel.cancelled
    positions = needing_confirmation(result.records, elsewhere, new)
    if not positions:
        return False
    tasks = [_full_decode_task(result.records[k]) for k in positions]
    decoded = ScanResult()
    descriptors, reporter.descriptors = reporter.descriptors, None
    reporter.phase, reporter.total, reporter.done, reporter.from_cache = PHASE, len(tasks), 0, 0
    reporter.hashing()
    try:
        cancelled = scanner._hash_all(
            tasks, {}, decoded, options, reporter, cache, cancel, copies=None
        )
    finally:
        reporter.descriptors = descriptors
    confirmed = {record.path: record for record in decoded.records}
    failed = {error.path for error in decoded.errors}
    result.records[:] = [
        confirmed.get(record.path, record)
        for record in result.records
        if record.path not in failed
    ]
    result.errors.extend(decoded.errors)
    result.file_warnings.extend(decoded.file_warnings)
    return cancelled


def _full_decode_task(record: ImageRecord) -> scanner._Task:
    stat = FileStat(
        record.path, record.size, record.mtime_ns,
        dev=record.dev, ino=record.ino, ctime_ns=record.ctime_ns,
    )
    return scanner._Task(
        stat, want_digest=record.content_digest is not None, embedded_thumbnails=False
    )

