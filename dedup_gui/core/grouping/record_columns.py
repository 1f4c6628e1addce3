"""The per-record attributes the stacked keeper choice reads (keeper_batch._Stack), as
arrays over all of an index's records: each read from the records once, and only for the
rows some rule still has to decide."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dedup_gui.core.files.imagetypes import is_raw_format
from dedup_gui.core.grouping import originals as og
from dedup_gui.core.grouping.copy_names import lineage
from dedup_gui.core.images.provenance import DETAIL_CELLS, is_editor
from dedup_gui.core.models import ImageRecord

_DETAIL_LENGTH = DETAIL_CELLS + 2


class RecordColumns:
    """The per-record attributes `_Stack` reads, as arrays over all of `records`, each read
    from the records once per row and only for the rows asked for (`column`): the groups
    a rule still has to decide. An index keeps one for its records, so the groups of every
    cut and keeper ranking share it."""

    def __init__(self, records: Sequence[ImageRecord], path_rank: np.ndarray | None = None) -> None:
        """`path_rank`: keeper.path_ranks(records), when the caller has it (the final
        tie-break then runs in numpy)."""
        self.records = records
        self.path_rank = path_rank
        self._columns: dict[str, np.ndarray] = {}
        self._read: dict[str, np.ndarray] = {}
        """Per part (_PARTS), which rows it holds."""
        self._last_read: tuple[np.ndarray, list[ImageRecord]] = (np.zeros(0, np.int64), [])
        self._digest_ids: dict[bytes, int] = {}
        self._format_ids: dict[str, int] = {}
        """An id per format: its (lossy, stores decodes, RAW) in _format_kinds."""
        self._format_kinds: list[tuple[bool, bool, bool]] = []
        self._editors: dict[str | None, bool] = {}
        self.stem = np.full(len(records), -2, np.int64)
        """copy_names.lineage ids per row (ids are equal for equal names, never -1)."""
        self.lineage: dict[int, list[int]] = {}
        """The rows whose name has a lineage: its ids, nearest first."""
        self._name_ids: dict[str, int] = {}

    def column(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The column `name` over all records, read (at least) for `rows`; the other rows
        hold anything.
        width, height, file_size, mtime, quality (-1: unknown), path_length: int64
        camera (has the camera's metadata), lossy, convertible (stores decodes), raw
        score: camera - edited after capture - saved by an editor
        digest: equal ids for equal pixel digests; a missing digest equals nothing
        holds: the digest id of the lossy decode it holds; missing: equals no digest
        detail: (records, DETAIL_CELLS + 2) uint8, zeros where has_detail is False
        stem: see `name`"""
        part = _PART_OF[name]
        done = self._read.get(part)
        if done is None:
            done = self._read[part] = np.zeros(len(self.records), dtype=bool)
        rows = _new_rows(done, rows)
        if len(rows):
            # The parts one rule needs are asked for the same rows, one after the other.
            last_rows, chosen = self._last_read
            if not np.array_equal(rows, last_rows):
                records = self.records
                chosen = [records[i] for i in rows.tolist()]
                self._last_read = (rows, chosen)
            getattr(self, f"_read_{part}")(rows, chosen)
        return self._columns[name]

    def _store(self, name: str, rows: np.ndarray, values: object, dtype: type) -> None:
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = np.zeros(len(self.records), dtype)
        column[rows] = values

    def _read_shape(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        self._store("width", rows, [r.width for r in chosen], np.int64)
        self._store("height", rows, [r.height for r in chosen], np.int64)

    def _read_score(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        has_camera = np.array([r.camera is not None for r in chosen], dtype=bool)
        self._store("camera", rows, has_camera, bool)
        software = [r.software for r in chosen]
        editors = self._editors
        for name in set(software) - editors.keys():
            editors[name] = is_editor(name)
        score = (
            has_camera.astype(np.int64)
            - np.array([r.edited_after_capture for r in chosen], dtype=np.int64)
            - np.array([editors[name] for name in software], dtype=np.int64)
        )
        self._store("score", rows, score, np.int64)

    def _read_format(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        formats = [r.format for r in chosen]
        ids = self._format_ids
        for name in set(formats) - ids.keys():
            ids[name] = len(ids)
            self._format_kinds.append(
                (name in og.LOSSY_FORMATS, og.stores_decodes(name), is_raw_format(name))
            )
        kinds = np.array(self._format_kinds, dtype=bool).reshape(-1, 3)[
            np.array([ids[name] for name in formats], np.int64)
        ]
        for k, name in enumerate(("lossy", "convertible", "raw")):
            self._store(name, rows, kinds[:, k], bool)

    def _read_digest(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        ids = self._digest_ids
        for name, values, missing in (
            ("digest", [r.pixel_digest for r in chosen], -1 - rows),
            ("holds", [r.holds_decode_of for r in chosen], -1 - len(self.records) - rows),
        ):
            self._store(name, rows, missing, np.int64)
            known = [k for k, value in enumerate(values) if value is not None]
            if known:
                self._columns[name][rows[known]] = [
                    ids.setdefault(values[k], len(ids)) for k in known
                ]

    def _read_quality(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        quality = [-1 if (q := r.jpeg_quality) is None else q for r in chosen]
        self._store("quality", rows, quality, np.int64)

    def _read_file_size(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        self._store("file_size", rows, [r.size for r in chosen], np.int64)

    def _read_mtime(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        self._store("mtime", rows, [r.mtime_ns for r in chosen], np.int64)

    def _read_path_length(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        self._store("path_length", rows, [len(r.path) for r in chosen], np.int64)

    def _read_detail(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        detail = [r.detail for r in chosen]
        fits = [len(d) == _DETAIL_LENGTH for d in detail]
        self._store("has_detail", rows, fits, bool)
        if not all(fits):
            detail = [
                d if fit else bytes(_DETAIL_LENGTH) for d, fit in zip(detail, fits, strict=True)
            ]
        if "detail" not in self._columns:
            self._columns["detail"] = np.zeros((len(self.records), _DETAIL_LENGTH), np.uint8)
        self._columns["detail"][rows] = np.frombuffer(b"".join(detail), np.uint8).reshape(
            len(rows), _DETAIL_LENGTH
        )

    def _read_name(self, rows: np.ndarray, chosen: list[ImageRecord]) -> None:
        """copy_names.lineage of each row's name."""
        ids = self._name_ids
        stems = []
        for row, record in zip(rows.tolist(), chosen, strict=True):
            stem, bases = lineage(record.path)
            stems.append(ids.setdefault(stem, len(ids)))
            if bases:
                self.lineage[row] = [ids.setdefault(base, len(ids)) for base in bases]
        self.stem[rows] = stems
        self._columns["stem"] = self.stem


_PARTS = {
    "shape": ("width", "height"),
    "score": ("camera", "score"),
    "format": ("lossy", "convertible", "raw"),
    "digest": ("digest", "holds"),
    "quality": ("quality",),
    "file_size": ("file_size",),
    "mtime": ("mtime",),
    "path_length": ("path_length",),
    "detail": ("detail", "has_detail"),
    "name": ("stem",),
}
"""The columns RecordColumns reads together."""
_PART_OF = {name: part for part, names in _PARTS.items() for name in names}


def _new_rows(done: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The distinct `rows` not marked in `done`, in order, now marked."""
    rows = rows[~done[rows]]
    if not len(rows):  # (the rows of every rule after the first)
        return rows
    wanted = np.zeros(len(done), dtype=bool)
    wanted[rows] = True
    wanted &= ~done
    done |= wanted
    return np.flatnonzero(wanted)
