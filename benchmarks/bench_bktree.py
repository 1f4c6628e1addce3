"""Would a BK-tree prune the candidate search? Fraction of the tree a range query visits.

    python benchmarks/bench_bktree.py [--count 100000] [--queries 300]

A BK-tree over the 64-bit pHashes (the word used for the metric; the 128-bit pHash+dHash
code of candidates.py behaves the same way at twice the radius), queried at the radii the
slider uses. On 64-bit codes a radius-r query must descend into every child whose edge
distance lies within r of the query's distance to the node, which at r >= 8 is most of them.
If the visited fraction is high, a BK-tree is a slower brute force; that is why the candidate
search uses multi-index hashing instead (bench_candidates.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_candidates import clustered, uniform


class BKTree:
    def __init__(self) -> None:
        self.values: list[int] = []
        self.children: list[dict[int, int]] = []

    def add(self, value: int) -> None:
        if not self.values:
            self.values.append(value)
            self.children.append({})
            return
        node = 0
        while True:
            distance = (self.values[node] ^ value).bit_count()
            child = self.children[node].get(distance)
            if child is None:
                self.values.append(value)
                self.children.append({})
                self.children[node][distance] = len(self.values) - 1
                return
            node = child

    def visited(self, value: int, radius: int) -> int:
        """Nodes whose distance to `value` a range query must compute."""
        count, stack = 0, [0]
        while stack:
            node = stack.pop()
            count += 1
            distance = (self.values[node] ^ value).bit_count()
            for edge, child in self.children[node].items():
                if distance - radius <= edge <= distance + radius:
                    stack.append(child)
        return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    print(f"{'distribution':>12} {'n':>8} {'radius':>6} {'visited':>9} {'per query':>10}")
    for name, make in (("uniform", uniform), ("clustered", clustered)):
        phashes = [int(h) for h in make(args.count, rng)[:, 0]]
        tree = BKTree()
        for value in phashes:
            tree.add(value)
        queries = [phashes[i] for i in rng.integers(0, len(phashes), args.queries).tolist()]
        for radius in (4, 6, 8):
            start = time.perf_counter()
            visited = np.mean([tree.visited(q, radius) for q in queries])
            per_query = (time.perf_counter() - start) / len(queries)
            print(
                f"{name:>12} {len(phashes):>8} {radius:>6} {visited / len(phashes):>8.1%} "
                f"{per_query * 1000:>8.1f} ms"
            )


if __name__ == "__main__":
    main()
