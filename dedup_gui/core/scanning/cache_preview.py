"""What the cache already knows of a set of folders, shown before they are walked.

Opening folders that have no snapshot yet (scanned by `dedup-cli`, or by the app with other
settings or another set of folders) would otherwise wait for the whole scan: walking every
folder, reading and verifying every cache row, then grouping. When the cache holds many
records under the folders, their rows are read as they are instead (no walk, no checksum),
grouped and shown while the scan checks them, as a snapshot is.

A preview is a display only. Its records carry the identity the cache last saw and no
ctime, and its rows were not verified: the scan that checks it verifies every row, and
the preview stands only when that scan found the very same records (`stands_for`); the
window then takes the scan's records and regroups them, so nothing is ever acted on
through a preview's record. Whatever the preview got wrong (a file gone, changed, a row
damaged, a folder the walk skips) makes it a changed grouping that the scan replaces.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from dedup_gui.core.files.discovery import is_hidden_name
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.models import ImageRecord, ScanResult
from dedup_gui.core.scanning import cache_rows
from dedup_gui.core.scanning.cache import HashCache

PREVIEW_MIN_RECORDS = 50_000
"""Fewer cached records than this are scanned and grouped as usual. A preview's groups are
made twice (its own, then the scan's), so it only pays off at scale: at 20,000 photos it
showed them 0.1-0.6 s sooner and left the window busy 1 s longer; at 100,000, 2-4 s
sooner (benchmarks/bench_gui_open.py --files N [--no-preview])."""


@dataclass(frozen=True, slots=True)
class CachePreview:
    """The cached records under the folders (`result`) and their grouping (`index`)."""

    result: ScanResult
    index: SimilarityIndex

    def stands_for(self, records: Sequence[ImageRecord]) -> bool:
        """A scan found exactly these records (in path order, equal field by field; the
        identity and ctime, which the preview does not know, aside)."""
        shown = self.result.records
        return len(records) == len(shown) and all(
            found == seen for found, seen in zip(records, shown, strict=True)
        )

    def full_index(self, records: Sequence[ImageRecord]) -> SimilarityIndex:
        """The preview's grouping over `records` (for which `stands_for`): the scan's own
        records, with their identities, in the groups."""
        return SimilarityIndex.restore(records, self.index.state())

    def changed_paths(self, records: Sequence[ImageRecord]) -> list[str]:
        """The preview's files that `records` do not have as they were."""
        by_path = {record.path: record for record in records}
        return [shown.path for shown in self.result.records if by_path.get(shown.path) != shown]


def preview_records(
    cache: HashCache,
    roots: Sequence[str],
    *,
    excluded_folders: Sequence[str] = (),
    include_hidden: bool = False,
    sizes_elsewhere: Collection[int] = (),
) -> list[ImageRecord]:
    """The records of the cache rows inside `roots`, as the scan would most likely find
    them: not under an excluded folder, not hidden (unless `include_hidden`), with a
    content digest only where another file has the same size; sorted by path."""
    roots = [os.path.abspath(root) for root in roots]  # noqa: PTH100  (as the scanner)
    excluded = tuple(
        os.path.abspath(folder).rstrip(os.sep) + os.sep  # noqa: PTH100
        for folder in excluded_folders
    )
    seen_record = cache_rows.seen_record
    dev_at, ino_at = cache_rows.DEV, cache_rows.INO
    visible = _Visibility(roots)
    records: list[ImageRecord] = []
    for row in cache.rows_under(roots):
        path = os.fsdecode(row[cache_rows.PATH])
        if path.startswith(excluded) or not (include_hidden or visible(path)):
            continue
        record = seen_record(row, path, row[dev_at] or 0, row[ino_at] or 0, 0)
        if record is not None:
            records.append(record)
    records.sort(key=lambda record: record.path)
    shared = {size for size, n in Counter(r.size for r in records).items() if n > 1}
    shared.update(sizes_elsewhere)
    return [
        record if record.size in shared or record.content_digest is None
        else replace(record, content_digest=None)  # as a scan that needs none
        for record in records
    ]


class _Visibility:
    """Whether a path has no hidden or system folder or file below the root it is in
    (as discovery skips them), each folder judged once."""

    def __init__(self, roots: Sequence[str]) -> None:
        self._roots = sorted((root.rstrip(os.sep) + os.sep for root in roots), key=len)
        self._folders: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        folder, _, name = path.rpartition(os.sep)
        visible = self._folders.get(folder)
        if visible is None:
            visible = self._folders[folder] = self._folder_visible(folder + os.sep)
        return visible and not is_hidden_name(name)

    def _folder_visible(self, folder: str) -> bool:
        root = next((r for r in reversed(self._roots) if folder.startswith(r)), None)
        if root is None:
            return False
        names = folder[len(root) :].split(os.sep)  # noqa: PTH206  (a str, not a Path)
        return not any(is_hidden_name(name) for name in names if name)
