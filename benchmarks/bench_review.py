"""Reviewing 30,000 groups (100,000 files): sort, filter and "apply a rule chain to all
groups" against plain-Python baselines measured in the same run, and the frame time of the
per-file table scrolling through 1,000 rows (offscreen).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_review.py [--records 100000]

Targets: sort, filter and apply each within 100 ms; no table frame over 16 ms. The last
line says what a full pass of Python's cyclic GC costs with the review shown (such a pass
can land in any frame; the window freezes a large grouping's heap, app/long_lived.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dedup_gui.core.decisions.apply_rules import ReviewColumns, apply_chain
from dedup_gui.core.decisions.column_order import ordered_positions
from dedup_gui.core.decisions.group_order import GroupFilter, GroupKind, GroupSort, ordered_rows
from dedup_gui.core.grouping.keeper import KeeperRule, RuleOrder, keeper_key
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord, MatchKind

FOLDERS = [f"/photos/{year}/{month:02d}" for year in range(2005, 2025) for month in (1, 6)]
FORMATS = ("JPEG", "PNG", "HEIF", "WEBP")
CHAIN = (
    KeeperRule.REFERENCE_FOLDER,
    RuleOrder(KeeperRule.FOLDER_PRIORITY, ("/photos/2010", "/photos/2020")),
    RuleOrder(KeeperRule.FORMAT_PREFERENCE, ("HEIF", "JPEG", "PNG")),
    KeeperRule.RESOLUTION,
    KeeperRule.MODIFICATION_DATE,
    KeeperRule.FILE_SIZE,
    KeeperRule.SHORTER_PATH,
)


def generated_groups(records: int, groups: int, seed: int = 3) -> list[DuplicateGroup]:
    rng = np.random.default_rng(seed)
    sizes = np.full(groups, 2)
    extra = rng.multinomial(records - 2 * groups, np.full(groups, 1 / groups))
    sizes += extra
    built = []
    k = 0
    for g, count in enumerate(sizes.tolist()):
        exact = rng.random() < 0.3
        members = []
        for position in range(count):
            folder = FOLDERS[int(rng.integers(len(FOLDERS)))]
            record = ImageRecord(
                path=f"{folder}/IMG_{k:06d}.jpg", size=int(rng.integers(500_000, 8_000_000)),
                mtime_ns=int(rng.integers(10**18, 2 * 10**18)),
                width=int(rng.choice([4000, 2000, 1024])), height=3000,
                format=FORMATS[int(rng.integers(len(FORMATS)))],
                capture_time=None if rng.random() < 0.3
                else f"20{rng.integers(10, 24)}-01-01T00:00:00",
                dhash=0, phash=0, phash_dihedral=(0,) * 8, micro=b"",
            )
            k += 1
            reference = folder.startswith("/photos/2005") and position > 0
            members.append(GroupMember(
                record, keep=position == 0 or reference, is_reference=reference, distance=0,
                similarity=100.0 if exact or position == 0 else float(rng.uniform(85, 99.9)),
                match=MatchKind.EXACT if exact and position else MatchKind.VISUAL,
            ))
        built.append(DuplicateGroup(tuple(members)))
        del g
    return built


def timed(action: Callable[[], object], repeat: int = 5) -> float:
    """Median milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report(name: str, ours: float, baseline: float, target: float | None = 100.0) -> None:
    verdict = "" if target is None else ("  ok" if ours <= target else f"  OVER {target:.0f} ms")
    print(f"{name:<46} {ours:8.1f} ms   baseline {baseline:8.1f} ms   "
          f"ratio {ours / baseline:5.2f}{verdict}")


def bench_core(groups: list[DuplicateGroup]) -> None:
    """What the list does (`column_order` over the columns) against plain Python over the
    groups, and the reference implementation (`group_order.ordered_rows`)."""
    columns = ReviewColumns.of(groups)
    keeps = columns.suggested.copy()
    kept = lambda member: member.keep  # noqa: E731

    base_sort = timed(lambda: sorted(
        range(len(groups)),
        key=lambda g: (-sum(m.record.size for m in groups[g].members if not m.keep),
                       groups[g].keeper.record.path)))
    everything = GroupFilter()
    report("sort by space saved (with the marks)",
           timed(lambda: ordered_positions(columns, GroupSort.SPACE_SAVED, everything, keeps)),
           base_sort)
    report("  group_order.ordered_rows, same sort",
           timed(lambda: ordered_rows(groups, GroupSort.SPACE_SAVED, is_kept=kept)), base_sort,
           target=None)
    base_copies = timed(lambda: sorted(range(len(groups)), key=lambda g: (
        -len(groups[g].members), groups[g].keeper.record.path)))
    report("sort by number of copies",
           timed(lambda: ordered_positions(columns, GroupSort.COPIES, everything, keeps)),
           base_copies)
    report("sort by least similar",
           timed(lambda: ordered_positions(columns, GroupSort.SIMILARITY, everything, keeps)),
           base_copies)

    visual = GroupFilter(kind=GroupKind.VISUAL, min_similarity=90, max_similarity=99)
    base_filter = timed(lambda: [
        g for g, group in enumerate(groups)
        if group.kind is MatchKind.VISUAL
        and 90 <= min(m.similarity for m in group.members) <= 99])
    report("filter: visual matches, 90-99% (then sort)",
           timed(lambda: ordered_positions(columns, GroupSort.SPACE_SAVED, visual, keeps)),
           base_filter)
    folder = GroupFilter(folder="/photos/2012")
    base_folder = timed(lambda: [g for g, group in enumerate(groups) if any(
        m.record.path.startswith("/photos/2012/") for m in group.members)])
    report("filter: a copy in one folder (then sort)",
           timed(lambda: ordered_positions(columns, GroupSort.SPACE_SAVED, folder, keeps)),
           base_folder)
    report("  group_order.ordered_rows, same filter",
           timed(lambda: ordered_rows(groups, GroupSort.SPACE_SAVED, folder, is_kept=kept)),
           base_folder, target=None)

    build_ms = timed(lambda: ReviewColumns.of(groups), repeat=3)
    apply_ms = timed(lambda: apply_chain(columns, CHAIN))
    references = [[m.is_reference for m in g.members] for g in groups]

    def plain_apply() -> list[int]:
        return [min(range(len(g.members)), key=lambda i, g=g, r=r: keeper_key(
            g.members[i].record, r[i], CHAIN)) for g, r in zip(groups, references, strict=True)]

    base_apply = timed(plain_apply, repeat=1)
    report("apply a 7-rule chain to all 30,000 groups", apply_ms, base_apply)
    report("  (columns, built once per grouping)", build_ms, base_apply, target=None)
    selected = list(range(0, len(groups), 30))
    report("apply to 1,000 selected groups", timed(lambda: apply_chain(columns, CHAIN, selected)),
           base_apply, target=None)
    with_original = (KeeperRule.REFERENCE_FOLDER, KeeperRule.ORIGINAL, KeeperRule.FILE_SIZE)
    start = time.perf_counter()
    apply_chain(columns, with_original)
    first = (time.perf_counter() - start) * 1000
    report("apply a chain with ORIGINAL, first time", first, base_apply, target=None)
    report("  the same again (verdicts kept)", timed(lambda: apply_chain(columns, with_original)),
           base_apply)


def bench_model_and_table(groups: list[DuplicateGroup]) -> None:
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QTableView

    from dedup_gui.app.group_model import GroupListModel
    from dedup_gui.app.group_table import GroupTableModel, GroupTableView

    app = QApplication.instance() or QApplication([])
    model = GroupListModel()
    model.set_groups(groups)
    model.columns()
    table_model = GroupTableModel(model)  # listens to the marks, as in the window
    edits: list[object] = []
    model.marks_edited.connect(edits.append)
    changed = model.apply_rule_chain(CHAIN).changed + model.trash_all_but_keepers().changed
    both_ms = timed(lambda: (model.apply_rule_chain(CHAIN), model.marked_totals(),
                             model.trash_all_but_keepers(), model.marked_totals()), repeat=3)
    base_set = timed(lambda: {m.record.path: False for g in groups for m in g.members[1:]},
                     repeat=3)
    report("window: a chain to all, then every non-keeper", both_ms, base_set,
           target=2 * 100.0)
    print(f"  (two actions, {changed // 2:,} marks changed by each, counted after each; "
          "baseline: a plain dict of every non-keeper's mark)")
    view = GroupTableView(table_model)
    view.resize(1200, 800)
    view.show()
    app.processEvents()
    ours, ours_cpu = scroll_frames(view, app)
    # Baseline: Qt painting the same texts from a C++ model (the first 1,100 rows).
    same_texts = QStandardItemModel(1100, table_model.columnCount())
    for row in range(1100):
        for column in range(table_model.columnCount()):
            same_texts.setItem(row, column, QStandardItem(
                str(table_model.index(row, column).data())))
    plain = QTableView()
    plain.setModel(same_texts)
    for column in range(table_model.columnCount()):
        plain.setColumnWidth(column, view.columnWidth(column))
    plain.verticalHeader().hide()
    plain.verticalHeader().setDefaultSectionSize(view.verticalHeader().defaultSectionSize())
    plain.resize(1200, 800)
    plain.show()
    app.processEvents()
    base, base_cpu = scroll_frames(plain, app)
    print(f"table, {table_model.rowCount():,} rows: scroll through 1,000 rows, frame "
          f"median {statistics.median(ours):.2f} ms, max {max(ours):.2f} ms "
          f"(same texts from a C++ model: median {statistics.median(base):.2f} ms, "
          f"max {max(base):.2f} ms)"
          f"{'  ok' if max(ours) <= 16 else '  OVER 16 ms'}")
    print(f"  CPU time of a frame (this thread only, whatever else the machine runs): "
          f"median {statistics.median(ours_cpu):.2f} ms, max {max(ours_cpu):.2f} ms "
          f"(C++ model: median {statistics.median(base_cpu):.2f} ms, "
          f"max {max(base_cpu):.2f} ms)")
    start, start_cpu = time.perf_counter(), time.thread_time()
    gc.collect()
    print(f"  a full pass of the cyclic GC with this review shown (one can come in any frame): "
          f"{(time.perf_counter() - start) * 1000:.1f} ms (CPU "
          f"{(time.thread_time() - start_cpu) * 1000:.1f} ms)")


def scroll_frames(view: object, app: object) -> tuple[list[float], list[float]]:
    """Wall and thread-CPU milliseconds of each frame."""
    bar = view.verticalScrollBar()
    frames, cpu = [], []
    for row in range(1000):
        bar.setValue(row)
        start, start_cpu = time.perf_counter(), time.thread_time()
        view.viewport().repaint()
        frames.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    app.processEvents()
    return frames, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=30_000)
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    groups = generated_groups(args.records, args.groups)
    print(f"{sum(len(g.members) for g in groups):,} records in {len(groups):,} groups "
          f"(generated in {time.perf_counter() - start:.1f} s)")
    bench_core(groups)
    bench_model_and_table(groups)


if __name__ == "__main__":
    main()
