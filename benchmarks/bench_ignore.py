"""What a long "not duplicates" list costs: the index build and a slider move at 100,000
images with 10,000 entries, against the same without the list, in one run.

    python benchmarks/bench_ignore.py [--count 100000] [--entries 10000]

Records come from bench_regroup's generator (30% in families of near copies). The entries
are pairs inside those families (the case that costs something: each one splits a group),
keyed by content as `IgnoreList` keys them; matching them to the records
(`ignore_list.apart_pairs`) is timed with the build. Target: the list adds at most 10% to
a regroup.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_regroup import SLIDER_MOVES, synthetic_records

from dedup_gui.core.decisions.ignore_list import IgnoredPair, apart_pairs
from dedup_gui.core.grouping.index import SimilarityIndex


def with_digests(records: list) -> list:
    return [replace(r, content_digest=k.to_bytes(32, "big")) for k, r in enumerate(records)]


def family_pairs(index: SimilarityIndex, wanted: int, seed: int) -> list[IgnoredPair]:
    """`wanted` pairs of records that the index groups together at the loosest setting
    (each group's keeper with its copies, in random group order)."""
    rng = np.random.default_rng(seed)
    groups = index.groups(87)
    chosen = rng.permutation(len(groups))
    entries = []
    for g in chosen.tolist():
        first = groups[g].members[0].record
        for member in groups[g].members[1:]:  # the keeper and each copy
            second = member.record
            entries.append(IgnoredPair(
                (first.size, first.content_digest), (second.size, second.content_digest),
                first.path, second.path, 0.0,
            ))
            if len(entries) == wanted:
                return entries
    return entries


def timed_slider(index: SimilarityIndex) -> float:
    index.groups(87)  # the first cut builds the keeper context
    timings = []
    for similarity in SLIDER_MOVES:
        started = time.perf_counter()
        index.groups(similarity)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    records = with_digests(synthetic_records(args.count))

    started = time.perf_counter()
    plain = SimilarityIndex.build(records)
    plain_build = time.perf_counter() - started
    entries = family_pairs(plain, args.entries, seed=2)

    started = time.perf_counter()
    apart = apart_pairs(entries, records)
    ignored = SimilarityIndex.build(records, apart=apart)
    ignored_build = time.perf_counter() - started

    started = time.perf_counter()
    added = plain.with_apart(*apart)
    with_apart_seconds = time.perf_counter() - started

    plain_slider = timed_slider(plain)
    ignored_slider = timed_slider(ignored)
    split = len(ignored.groups(87)) - len(plain.groups(87))
    same = [len(g.members) for g in added.groups(90)] == [
        len(g.members) for g in ignored.groups(90)
    ]
    print(f"{args.count:,} images, {len(entries):,} 'not duplicates' entries "
          f"({split:+,} groups at 87%)")
    print(f"{'measure':44}{'without':>10}{'with':>10}{'ratio':>8}")
    print(f"{'index build (s), matching the list included':44}"
          f"{plain_build:10.2f}{ignored_build:10.2f}{ignored_build / plain_build:8.2f}")
    print(f"{'slider move, median (ms)':44}"
          f"{plain_slider:10.1f}{ignored_slider:10.1f}{ignored_slider / plain_slider:8.2f}")
    print(f"adding all {len(entries):,} entries to a built index (with_apart): "
          f"{with_apart_seconds:.2f} s; same groups as a build with them: {same}")
    verdict = "met" if ignored_slider <= 1.10 * plain_slider else "not met"
    print(f"target: the list adds <= 10% to a regroup (slider move): {verdict}")


if __name__ == "__main__":
    main()
