"""Deep matching costs: candidate search over synthetic descriptors (exact vs ANN, time,
memory, recall against the exact search) and a cold scan of 12 MP photos with and
without the deep pass.

    python benchmarks/bench_deep.py [--sizes 40000,100000,1000000] [--scan 48]
    python benchmarks/bench_deep.py --scan 0 --sizes 200000 --alternatives
    python benchmarks/bench_deep.py --scan 0 --sizes 300000 --variants "ANN_LINKS=32;ANN_LINKS=16"

--alternatives measures other faiss indexes beside the chosen one (search.ann_factory) in
the same run, in turn, on the same descriptors: the graph over float32 codes (as before),
the graph with 16 links, and inverted files (time, recall of the planted copies).

Synthetic descriptors have an anisotropic spectrum (variance falling as 1 / (1 + i / 32)
over the 512 dimensions: random pairs stay below cosine 0.4, as unrelated photos do) and 1%
planted near-copies at cosine 0.75; recall is measured two ways: of the planted copies,
and of every pair the exact search finds for 2,000 sampled images. On a shared machine
the CPU seconds (all threads) are the steadier figure: wall time on 2 free cores is about
half of them.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from dedup_gui.core.deep import search
from dedup_gui.core.deep.links import LOOSEST_COSINE


def planted(count: int, seed: int = 0) -> tuple[np.ndarray, set[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    scale = (1.0 / np.sqrt(1 + np.arange(512) / 32)).astype(np.float32)
    out = np.empty((count, 512), np.float16)
    for start in range(0, count, 100_000):
        block = rng.standard_normal((min(100_000, count - start), 512), np.float32) * scale
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    pairs = count // 100
    originals = rng.choice(count - pairs, pairs, replace=False)
    copies = count - pairs + np.arange(pairs)
    noise = rng.standard_normal((pairs, 512), np.float32) * scale
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    mixed = 0.75 * out[originals].astype(np.float32) + np.sqrt(1 - 0.75**2) * noise
    out[copies] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out, {(int(a), int(b)) for a, b in zip(originals, copies, strict=True)}


def exact_for_rows(
    vectors: np.ndarray, rows: np.ndarray, min_cosine: float
) -> set[tuple[int, int]]:
    full = vectors[rows].astype(np.float32)
    found: set[tuple[int, int]] = set()
    for start in range(0, len(vectors), 50_000):
        block = vectors[start : start + 50_000].astype(np.float32)
        query, column = np.nonzero(full @ block.T >= min_cosine)
        for q, c in zip(rows[query].tolist(), (column + start).tolist(), strict=True):
            if q != c:
                found.add((min(q, c), max(q, c)))
    return found


SAMPLED = 2000
"""Images whose every pair at the loosest cosine the exact search finds, for the recall."""


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_search(count: int, alternatives: bool = False, variants: str = "") -> None:
    vectors, truth = planted(count)
    if alternatives:
        for label, factory, effort in ALTERNATIVES:
            bench_alternative(vectors, truth, label, factory, effort)
    for variant in variants.split(";") if variants else [""]:
        settings = dict(item.split("=") for item in variant.split(",") if item)
        saved = {name: getattr(search, name) for name in settings}
        for name, value in settings.items():
            setattr(search, name, int(value))
        if settings:
            print(f"{'':>9}  with {variant}:", flush=True)
        bench_chosen(vectors, truth)
        for name, value in saved.items():
            setattr(search, name, value)


def bench_chosen(vectors: np.ndarray, truth: set[tuple[int, int]]) -> None:
    count = len(vectors)
    before = peak_rss_mb()
    phases = Phases(count)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    first, second, _ = search.candidate_pairs(vectors, LOOSEST_COSINE, progress=phases)
    phases.mark()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    peak = peak_rss_mb()
    method = "exact" if count <= search.EXACT_LIMIT or not search.faiss_available() else "ANN"
    found = set(zip(first.tolist(), second.tolist(), strict=True))
    rows = np.random.default_rng(1).choice(count, SAMPLED, replace=False)
    expected = exact_for_rows(vectors, rows, LOOSEST_COSINE)
    sampled_rows = set(rows.tolist())
    sampled = {p for p in found if p[0] in sampled_rows or p[1] in sampled_rows}
    print(f"{count:>9,} descriptors, {method:5}: {seconds:7.1f} s (CPU {cpu:.0f} s), "
          f"peak memory +{peak - before:6.0f} MB (descriptors {vectors.nbytes / 1e6:.0f} MB, "
          f"peak RSS {peak:.0f} MB), {len(found):,} pairs; recall of planted copies "
          f"{len(truth & found) / len(truth):.3f}, of exact pairs of {SAMPLED:,} sampled images "
          f"{len(expected & sampled) / max(len(expected), 1):.3f} ({len(expected)})", flush=True)
    if method == "ANN":
        print(f"{'':>9}  phases, CPU s (wall s): {phases.report(started, cpu_started)}",
              flush=True)


class Phases:
    """The ANN search's phases timed from its progress calls (rows added, then searched):
    PCA training and the graph build, the search of every image with its re-ranking, and
    the pruning to each image's best after the last search."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.marks: list[tuple[float, float]] = []

    def __call__(self, done: int, total: int) -> None:
        if done in (self.count, 2 * self.count) and total == 2 * self.count:
            self.mark()

    def mark(self) -> None:
        self.marks.append((time.perf_counter(), cpu_seconds()))

    def report(self, started: float, cpu_started: float) -> str:
        if len(self.marks) != 3:
            return "n/a"
        marks = [(started, cpu_started), *self.marks]
        labels = ("train + build", "search + re-rank", "pruning")
        return ", ".join(
            f"{label} {c1 - c0:.0f} ({w1 - w0:.0f})"
            for label, (w0, c0), (w1, c1) in zip(labels, marks[:-1], marks[1:], strict=True)
        )


ALTERNATIVES = (
    # (label, faiss factory, HNSW efSearch or IVF probes)
    ("HNSW32 float32 codes", "PCA64,L2norm,HNSW32,Refine(SQfp16)", 64),
    ("HNSW16 8-bit", "PCA64,L2norm,HNSW16_SQ8,Refine(SQfp16)", 64),
    ("IVF1024 8-bit, 16 probes", "PCA64,L2norm,IVF1024,SQ8,Refine(SQfp16)", 16),
    ("IVF2048 8-bit, 32 probes", "PCA64,L2norm,IVF2048,SQ8,Refine(SQfp16)", 32),
)


def bench_alternative(vectors: np.ndarray, truth: set[tuple[int, int]], label: str,
                      factory: str, effort: int) -> None:
    import faiss

    count = len(vectors)
    started, cpu = time.perf_counter(), cpu_seconds()
    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    refine = faiss.downcast_index(index)
    inner = faiss.downcast_index(faiss.downcast_index(refine.base_index).index)
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efConstruction = search.ANN_BUILD_EFFORT
    sample = np.sort(np.random.default_rng(0).choice(count, min(count, 60_000), replace=False))
    index.train(np.asarray(vectors[sample], np.float32))
    for start in range(0, count, search.ANN_BLOCK):
        index.add(np.asarray(vectors[start : start + search.ANN_BLOCK], np.float32))
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = effort
    else:
        faiss.extract_index_ivf(inner).nprobe = effort
    wanted = search.ANN_NEIGHBOURS + 1
    refine.k_factor = search.ANN_RERANKED / wanted
    found: set[tuple[int, int]] = set()
    for start in range(0, count, search.ANN_BLOCK):
        stop = min(start + search.ANN_BLOCK, count)
        cosine, rows = index.search(np.asarray(vectors[start:stop], np.float32), wanted)
        query = np.repeat(np.arange(start, stop), wanted)
        keep = (rows.ravel() >= 0) & (rows.ravel() != query) & (cosine.ravel() >= LOOSEST_COSINE)
        a, b = query[keep], rows.ravel()[keep]
        found.update(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(f"{count:>9,} descriptors, {label:25}: {seconds:7.1f} s (CPU {cpu:.0f} s); recall of "
          f"planted copies "
          f"{len(truth & found) / len(truth):.3f}", flush=True)


def bench_scan(count: int) -> None:
    from photo_corpus import ensure_corpus

    from dedup_gui.core.deep.extractor import DescriptorExtractor
    from dedup_gui.core.deep.model import load_model
    from dedup_gui.core.scanning import scanner

    paths = ensure_corpus(count)
    folder = str(paths[0].parent)
    model = load_model()
    for label, hook in (("hashes", None), ("hashes + deep", DescriptorExtractor(model))):
        started = time.perf_counter()
        result = scanner.scan([folder], options=scanner.ScanOptions(descriptors=hook))
        seconds = time.perf_counter() - started
        print(f"cold scan, {label:14}: {len(result.records)} photos of 12 MP in {seconds:5.1f} s "
              f"= {len(result.records) / seconds:5.1f} photos/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40000,100000,1000000")
    parser.add_argument("--scan", type=int, default=48, help="photos for the scan (0: none)")
    parser.add_argument("--alternatives", action="store_true",
                        help="also time other faiss indexes on the same descriptors")
    parser.add_argument("--variants", default="",
                        help="search.py settings to run in turn on the same descriptors, "
                        "e.g. 'ANN_BUILD_EFFORT=40;ANN_BUILD_EFFORT=60,ANN_LARGE_SEARCH_EFFORT=80'")
    args = parser.parse_args()
    tempfile.gettempdir()
    if args.scan:
        bench_scan(args.scan)
    for size in (int(s) for s in args.sizes.split(",") if s):
        bench_search(size, args.alternatives, args.variants)


if __name__ == "__main__":
    main()
