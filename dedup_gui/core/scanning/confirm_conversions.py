"""The scan's pass after hashing that finds large lossless conversions of lossy files.

A PNG (BMP, TIFF, ...) saved from a JPEG's (HEIC's, AVIF's) decode is a conversion of it
and the keeper keeps the lossy original (grouping/originals.py). The pixel digests show it
only below 512 px: above, the two reduced decodes differ (a JPEG is DCT-scaled, a PNG
box-shrunk). So for each pair that could be such a conversion, both files are decoded
whole and compared (images/decode_match.py), and a lossless file found to hold a lossy
one's decode gets `holds_decode_of` = that file's pixel digest.

A pair is looked at only when it could be one: a lossless record and a lossy one of the
same width and height, pHash + dHash within PAIR_RADIUS_BITS (a conversion is the same
picture; measured 0-5 bits between a JPEG's and its PNG's, on eval_keeper's 16 large
pairs and 3 corpus photos at 4000x3000), different pixel digests (equal ones already say
it) and neither hashed from an embedded thumbnail. The search costs 0.4 s of CPU for
50,000 PNGs beside 50,000 JPEGs (on every scan: a verdict is a cache lookup). Each
verdict, yes or no, is kept in the cache for those versions of both files, so a rescan
decodes nothing again and a changed file is compared again. The decodes run on the
scan's worker count in the scan's memory budget (both decodes of a pair held in one
reservation); cancel stops the pass within about a second, keeping what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace

import numpy as np

from dedup_gui.core.files.interrupt import Cancelled
from dedup_gui.core.grouping import candidates
from dedup_gui.core.grouping.originals import LOSSY_FORMATS, stores_decodes
from dedup_gui.core.images.memory_budget import MemoryBudget
from dedup_gui.core.images.recipe import CONVERSION_RULE_VERSION
from dedup_gui.core.models import CancelToken, ImageRecord, ScanResult
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import FileKey, HashCache

PHASE = "comparing"
"""ScanProgress.phase while pairs are decoded (done / total count the pairs)."""
PAIR_RADIUS_BITS = 12
"""pHash + dHash bits (of 128) within which a lossless and a lossy record are compared."""
_POLL_SECONDS = 0.1


def candidate_pairs(
    records: Sequence[ImageRecord], elsewhere: Sequence[ImageRecord] = ()
) -> list[tuple[int, int]]:
    """(lossless, lossy) pairs of positions that could be a conversion: the lossless one
    in `records`, the lossy one in `records` + `elsewhere` (positions past len(records))."""
    everyone = [*records, *elsewhere]
    lossless = [
        k
        for k, r in enumerate(records)
        if stores_decodes(r.format) and r.pixel_digest is not None and not r.from_thumbnail
    ]
    lossy = [
        k
        for k, r in enumerate(everyone)
        if r.format in LOSSY_FORMATS and r.pixel_digest is not None and not r.from_thumbnail
    ]
    if not lossless or not lossy:
        return []

    def hashes(positions: list[int]) -> np.ndarray:
        values = [[everyone[k].phash, everyone[k].dhash] for k in positions]
        return np.array(values, dtype=np.uint64).reshape(-1, 2)

    pairs: list[tuple[int, int]] = []
    for first, second, _ in candidates.join(hashes(lossless), hashes(lossy), PAIR_RADIUS_BITS):
        for a, b in zip(first.tolist(), second.tolist(), strict=True):
            copy, source = everyone[lossless[a]], everyone[lossy[b]]
            if (copy.width, copy.height) == (source.width, source.height) and (
                copy.pixel_digest != source.pixel_digest
            ):
                pairs.append((lossless[a], lossy[b]))
    return sorted(set(pairs))


def confirm(
    result: ScanResult,
    reporter: scanner._ProgressReporter,
    options: scanner.ScanOptions,
    cache: HashCache | None,
    cancel: CancelToken,
    elsewhere: Sequence[ImageRecord] = (),
) -> bool:
    """Set `holds_decode_of` on the records of `result` (and in `cache`) from the verdicts
    on `candidate_pairs`: cached ones, else decoded now. Returns True when cancelled (the
    pairs not yet compared are left as if they were no conversion)."""
    if cancel.cancelled:
        return True
    everyone = [*result.records, *elsewhere]
    pairs = candidate_pairs(result.records, elsewhere)
    keys = [(_key(everyone[a]), _key(everyone[b])) for a, b in pairs]
    known = cache.conversion_verdicts(keys, CONVERSION_RULE_VERSION) if cache else {}
    to_compare = [k for k, (a, b) in enumerate(keys) if (a[0], b[0]) not in known]
    verdicts: dict[int, bool] = {
        k: known[a[0], b[0]] for k, (a, b) in enumerate(keys) if (a[0], b[0]) in known
    }
    cancelled = False
    if to_compare:
        found, cancelled = _compare(keys, to_compare, reporter, options, cancel)
        verdicts.update(found)
        result.undecided += 0 if cancelled else len(to_compare) - len(found)
    holding: dict[int, bytes] = {}
    for k, holds in sorted(verdicts.items()):
        lossless, lossy = pairs[k]
        if holds:
            holding.setdefault(lossless, everyone[lossy].pixel_digest)  # type: ignore[arg-type]
    changed: list[ImageRecord] = []
    for position, record in enumerate(result.records):
        value = holding.get(position)
        if record.holds_decode_of != value and not (cancelled and value is None):
            record = replace(record, holds_decode_of=value)
            result.records[position] = record
            changed.append(record)
    if cache is not None:
        new = [(keys[k][0], keys[k][1], verdicts[k]) for k in to_compare if k in verdicts]
        cache.store_conversions(new, CONVERSION_RULE_VERSION, changed)
    return cancelled


def _compare(
    keys: list[tuple[FileKey, FileKey]],
    positions: list[int],
    reporter: scanner._ProgressReporter,
    options: scanner.ScanOptions,
    cancel: CancelToken,
) -> tuple[dict[int, bool], bool]:
    """Verdicts by position in `keys` (an undecidable pair: absent), and whether cancelled."""
    budget = MemoryBudget(options.memory_budget_bytes)
    workers = max(1, min(options.workers or scanner.usable_cores(), len(positions)))
    reporter.start_pass(PHASE, len(positions))
    verdicts: dict[int, bool] = {}
    with ThreadPoolExecutor(workers, thread_name_prefix="dedup-conversions") as executor:
        pending: dict[Future[bool | None], int] = {
            executor.submit(_verdict, keys[k], budget, cancel): k for k in positions
        }
        while pending:
            done, _ = wait(pending, _POLL_SECONDS, FIRST_COMPLETED)
            for future in done:
                k = pending.pop(future)
                try:
                    holds = future.result()
                except Cancelled:
                    continue
                if holds is not None:
                    verdicts[k] = holds
                reporter.file_done(keys[k][0][0], 0)
            reporter.hashing()
            if cancel.cancelled:
                for future in pending:
                    future.cancel()
                wait(pending)  # a running one finishes its pair (a second or so)
                for future, k in pending.items():
                    if not future.cancelled() and future.exception() is None:
                        holds = future.result()
                        if holds is not None:
                            verdicts[k] = holds
                return verdicts, True
    return verdicts, False


def _verdict(
    pair: tuple[FileKey, FileKey], budget: MemoryBudget, cancel: CancelToken
) -> bool | None:
    if cancel.cancelled:
        raise Cancelled
    from dedup_gui.core.images import decode_match  # Pillow: only when a pair is decoded

    (lossless, _, _), (lossy, _, _) = pair
    try:
        return decode_match.holds_decode(lossless, lossy, budget=budget, cancel=cancel)
    except Cancelled:
        raise
    except Exception:  # a file the full decode cannot read: evidence, never worth a crash
        return None


def _key(record: ImageRecord) -> FileKey:
    return (record.path, record.size, record.mtime_ns)
