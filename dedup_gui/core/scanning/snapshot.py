"""The last grouping of a set of folders, saved so that opening them again shows its groups
at once (the warm scan then checks for changes in the background).

A snapshot is one file per set of folders and settings (`SnapshotKey`) in a `snapshots`
folder beside the hash cache. It holds the records' keys, not the records: path, size,
mtime, the identity (dev, inode, ctime) the scan saw and whether the scan kept a digest;
the records themselves come back from the cache rows of those keys. A row that still ends
with the checksum it had when the snapshot was saved (kept in the snapshot, under its own
digest) is taken as it is, any other is verified as a scan reads it: the groups shown are
a display until the scan that checks them has read and verified every row and found each
shown record equal to its own (`stands_for`). With them, the similarity index's computed state
(`SimilarityIndex.state`: verified pairs and distances, merges, cannot-link pairs,
verification signals) and the scan's skipped files.

Never trusted blindly: a file whose magic, version, checksum (blake2b over everything
after the header), key or arrays do not fit, or whose records are not all in the cache as
they were, is ignored (`load` returns None), and the caller scans and groups as if there
were none. Written to a temporary file in the same folder, then renamed over the old one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.images.recipe import RECIPE_VERSION
from dedup_gui.core.models import ErrorKind, ImageRecord, ScanError, ScanResult
from dedup_gui.core.scanning import cache_rows, kept_files
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.cache_schema import SCHEMA_VERSION

SNAPSHOT_VERSION = 1
MAGIC = b"dedup-gui grouping snapshot\n"
FOLDER_NAME = "snapshots"
SUFFIX = ".snapshot"
KEPT_SNAPSHOTS = 8
"""Snapshots of other sets of folders kept beside the newest (the oldest go first)."""
_DIGEST_BYTES = 32
_RECORD_ARRAYS = ("size", "mtime_ns", "dev", "ino", "ctime_ns")


@dataclass(frozen=True, slots=True)
class SnapshotKey:
    """What must be the same for a saved grouping to stand for a new one: the folders
    scanned and how, the grouping settings, the "not duplicates" list, and the versions
    of everything that makes a record or a pair."""

    roots: tuple[str, ...]
    excluded_folders: tuple[str, ...] = ()
    follow_links: bool = False
    match_transforms: bool = False
    ignore_list: str = ""
    """`ignore_list.entries_version` of the "not duplicates" entries."""

    def as_json(self) -> str:
        return json.dumps({
            "snapshot": SNAPSHOT_VERSION,
            "recipe": RECIPE_VERSION,
            "cache_schema": SCHEMA_VERSION,
            "roots": list(self.roots),
            "excluded": sorted(self.excluded_folders),
            "follow_links": self.follow_links,
            "match_transforms": self.match_transforms,
            "ignore_list": self.ignore_list,
        }, sort_keys=True, ensure_ascii=True)

    def file_name(self) -> str:
        digest = hashlib.blake2b(self.as_json().encode("ascii"), digest_size=16)
        return digest.hexdigest() + SUFFIX


def snapshot_folder(cache: HashCache) -> Path:
    return cache.path.parent / FOLDER_NAME


@dataclass(frozen=True, slots=True)
class SeenFile:
    """A file as the scan saw it: what a snapshot keeps of each record."""

    path: str
    size: int
    mtime_ns: int
    dev: int
    ino: int
    ctime_ns: int
    has_digest: bool

    @staticmethod
    def of(record: ImageRecord) -> SeenFile:
        return SeenFile(record.path, record.size, record.mtime_ns, record.dev, record.ino,
                        record.ctime_ns, record.content_digest is not None)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The last grouping of a set of folders. Only the records a group can hold are read
    from the cache (`result`, `index`): the others never show in a group, and come with
    the scan that checks the snapshot (`stands_for`, then `full_index`)."""

    result: ScanResult
    """The grouped records (from the cache) and the skipped files of the scan the
    snapshot was saved after."""
    index: SimilarityIndex
    """Over `result.records`: the same groups as the saved index at every similarity."""
    arrays: dict[str, np.ndarray]
    """Every file of the saved scan, in its order (`files`): read once the scan asks."""
    state: dict[str, np.ndarray]
    """The saved index's state (over `files`)."""

    def files(self) -> list[SeenFile]:
        return _seen_files(self.arrays)

    def stands_for(self, records: Sequence[ImageRecord]) -> bool:
        """A scan found `records`, all as the snapshot's files were (none added, gone or
        changed): the snapshot's grouping is theirs."""
        files = self.files()
        return (
            len(records) == len(files)
            and all(SeenFile.of(r) == seen for r, seen in zip(records, files, strict=True))
            and not self._shown_otherwise(records)
        )

    def _shown_otherwise(self, records: Sequence[ImageRecord]) -> list[str]:
        """Paths of the records shown that differ from the scan's (`records`, all as the
        snapshot's files): a cache row taken unverified that was not what it was."""
        rows = SimilarityIndex.grouped_rows(self.state).tolist()
        return [shown.path for row, shown in zip(rows, self.result.records, strict=True)
                if row >= len(records) or records[row] != shown]

    def full_index(self, records: Sequence[ImageRecord]) -> SimilarityIndex:
        """The saved index itself, over `records` (for which `stands_for`)."""
        return SimilarityIndex.restore(records, self.state)

    def changed_paths(self, records: Sequence[ImageRecord]) -> list[str]:
        """The snapshot's files that `records` do not have as they were."""
        now = {SeenFile.of(record) for record in records}
        gone = [seen.path for seen in self.files() if seen not in now]
        by_path = {record.path: record for record in records}
        gone_too = set(gone)
        return gone + [shown.path for shown in self.result.records
                       if shown.path not in gone_too and by_path.get(shown.path) != shown]


def save(
    folder: Path,
    key: SnapshotKey,
    result: ScanResult,
    index: SimilarityIndex,
    cache: HashCache | None = None,
) -> bool:
    """Save the grouping of `result` (`index` built from its records, in order), with the
    checksums of the grouped records' rows in `cache` (without: every row is verified
    when the snapshot is shown). False (and nothing written) for what a snapshot cannot
    stand for: a cancelled scan, deep links, an index of other records; or when the file
    cannot be written."""
    built_from_result = len(index.records) == len(result.records) and all(
        a is b for a, b in zip(index.records, result.records, strict=True)
    )
    if result.cancelled or index.deep_links is not None or not built_from_result:
        return False
    try:
        payload = _payload(key, result, index, cache)
        folder.mkdir(parents=True, exist_ok=True)
        kept_files.write_replacing(folder / key.file_name(), payload)
        kept_files.prune(folder, SUFFIX, keep=folder / key.file_name(), kept=KEPT_SNAPSHOTS)
    except (OSError, ValueError):
        return False
    return True


def load(cache: HashCache, folder: Path, key: SnapshotKey) -> Snapshot | None:
    """The snapshot of `key` with its records read from `cache`, or None when there is
    none or it cannot be trusted (damaged, of other settings, records gone or changed in
    the cache)."""
    try:
        data = (folder / key.file_name()).read_bytes()
    except OSError:
        return None
    try:
        arrays = _verified_arrays(data)
        if arrays is None:
            return None
        meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
        if meta.get("key") != key.as_json():
            return None
        state = {name[len("index_"):]: value for name, value in arrays.items()
                 if name.startswith("index_")}
        if int(state["count"][0]) != len(arrays["path_ends"]):
            return None
        grouped = SimilarityIndex.grouped_rows(state)
        records = _records_from_cache(
            cache, _seen_files(arrays, grouped), _row_checksums(arrays, len(grouped))
        )
        if records is None:
            return None
        index = SimilarityIndex.restore(records, SimilarityIndex.grouped_state(state))
        result = ScanResult(
            records=records,
            errors=_errors(meta["errors"]),
            file_warnings=_errors(meta["file_warnings"]),
            from_cache=len(records),
            roots=tuple(meta["roots"]),
        )
        snapshot = Snapshot(result, index, arrays, state)
    except (ValueError, KeyError, TypeError, IndexError, UnicodeError):
        return None
    return snapshot


def _payload(
    key: SnapshotKey, result: ScanResult, index: SimilarityIndex, cache: HashCache | None
) -> bytes:
    records = result.records
    paths = [os.fsencode(record.path) for record in records]
    arrays: dict[str, np.ndarray] = {
        "paths": np.frombuffer(b"".join(paths), np.uint8),
        "path_ends": np.cumsum([len(p) for p in paths], dtype=np.int64),
        "has_digest": np.array([r.content_digest is not None for r in records], np.bool_),
    }
    for name in _RECORD_ARRAYS:
        arrays[name] = np.array([getattr(r, name) for r in records], np.int64)
    state = index.state()
    for name, value in state.items():
        arrays[f"index_{name}"] = value
    grouped = [records[row].path for row in SimilarityIndex.grouped_rows(state).tolist()]
    known = {} if cache is None else cache.row_checksums(grouped)
    checksums = np.zeros((len(grouped), cache_rows.CHECKSUM_BYTES), np.uint8)
    for row, path in enumerate(grouped):
        if len(value := known.get(path, b"")) == cache_rows.CHECKSUM_BYTES:
            checksums[row] = np.frombuffer(value, np.uint8)
    arrays["row_checksums"] = checksums
    arrays["row_checksum_known"] = np.array(
        [len(known.get(path, b"")) == cache_rows.CHECKSUM_BYTES for path in grouped], np.bool_
    )
    meta = {
        "key": key.as_json(),
        "roots": list(result.roots),
        "errors": _error_rows(result.errors),
        "file_warnings": _error_rows(result.file_warnings),
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    body = buffer.getvalue()
    return MAGIC + hashlib.blake2b(body, digest_size=_DIGEST_BYTES).digest() + body


def _verified_arrays(data: bytes) -> dict[str, np.ndarray] | None:
    if not data.startswith(MAGIC):
        return None
    stored = data[len(MAGIC) : len(MAGIC) + _DIGEST_BYTES]
    body = data[len(MAGIC) + _DIGEST_BYTES :]
    if hashlib.blake2b(body, digest_size=_DIGEST_BYTES).digest() != stored:
        return None
    with np.load(io.BytesIO(body), allow_pickle=False) as loaded:
        return {name: loaded[name] for name in loaded.files}


def _seen_files(arrays: dict[str, np.ndarray], rows: np.ndarray | None = None) -> list[SeenFile]:
    """The saved files (those at `rows` only, if given)."""
    all_ends = arrays["path_ends"]
    count = len(all_ends)
    if any(len(arrays[name]) != count for name in (*_RECORD_ARRAYS, "has_digest")):
        raise ValueError("the snapshot's record arrays disagree in length")
    if len(all_ends) and (np.any(np.diff(all_ends) < 0) or all_ends[-1] != len(arrays["paths"])):
        raise ValueError("the snapshot's paths do not fit")
    rows = np.arange(count) if rows is None else rows
    ends = all_ends[rows]
    starts = np.where(rows > 0, all_ends[np.maximum(rows - 1, 0)], 0)
    columns = [arrays[name][rows].tolist() for name in _RECORD_ARRAYS]
    blob = arrays["paths"].tobytes()
    encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
    paths = [blob[a:b].decode(encoding, errors)
             for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    has_digest = arrays["has_digest"][rows].tolist()
    return [SeenFile(*values) for values in zip(paths, *columns, has_digest, strict=True)]


def _row_checksums(arrays: dict[str, np.ndarray], count: int) -> list[bytes | None] | None:
    """The saved checksum of each grouped record's row (None where none was saved)."""
    if "row_checksums" not in arrays:
        return None
    checksums, known = arrays["row_checksums"], arrays["row_checksum_known"]
    if checksums.shape != (count, cache_rows.CHECKSUM_BYTES) or known.shape != (count,):
        raise ValueError("the snapshot's row checksums do not fit")
    values = checksums.astype(np.uint8).tobytes()
    step = cache_rows.CHECKSUM_BYTES
    return [values[row * step : (row + 1) * step] if known_row else None
            for row, known_row in enumerate(known.tolist())]


def _records_from_cache(
    cache: HashCache, files: list[SeenFile], checksums: list[bytes | None] | None = None
) -> list[ImageRecord] | None:
    """The records of `files` rebuilt from their cache rows as the scan saw them (a row
    ending with its saved checksum in `checksums` as it is, any other verified); None if
    any row is gone or is of another version of its file."""
    rows = cache.fresh_rows(
        ((seen.path, seen.size, seen.mtime_ns) for seen in files), sealed_as=checksums
    )
    if len(rows) != len(files):
        return None
    records: list[ImageRecord] = []
    seen_record = cache_rows.seen_record
    for seen in files:
        record = seen_record(rows[seen.path], seen.path, seen.dev, seen.ino, seen.ctime_ns)
        if record is None or (seen.has_digest and record.content_digest is None):
            return None
        if not seen.has_digest and record.content_digest is not None:
            record = replace(record, content_digest=None)  # as the scan had it
        records.append(record)
    return records


def _error_rows(errors: Sequence[ScanError]) -> list[list[str]]:
    return [[error.path, error.kind.value, error.message] for error in errors]


def _errors(rows: list[list[str]]) -> list[ScanError]:
    return [ScanError(path, ErrorKind(kind), message) for path, kind, message in rows]
