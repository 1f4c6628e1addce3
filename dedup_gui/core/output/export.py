"""Duplicate groups as JSON or CSV: one schema shared by `dedup-cli` and the GUI's export.

JSON: {"generator": "dedup_gui VERSION", "version": 1, "similarity": N,
       "groups": [{"id", "kind", "reclaimable_bytes", "files": [FILE, ...]}, ...],
       "errors": [{"path", "kind", "message"}, ...]}
FILE: {"path" (absolute), "keep", "reference", "similarity", "distance", "match", "width",
       "height", "size", "format", "mtime" (ISO 8601, local time with offset), "capture_time",
       "reason" (why the suggested keeper was chosen, or a file kept with its RAW+JPEG
       companion; "" for the other files), "pair" (the path of its RAW+JPEG companion in
       the group, or ""), and for a deep match ("match": "deep") "deep_kind" ("crop",
       "turned" or "edited"), "region" (the 4 corners of the smaller picture inside the
       larger, x0, y0, ... x3, y3 clockwise from top-left, as fractions of the larger
       image's width and height) and "region_in" (the path of that larger image: the
       keeper or this file); "", null and "" for every other file}
CSV: one row per file, a "group" column (the group's id) followed by the FILE fields
(the region as 8 numbers separated by spaces, or empty).

File names that are not valid UTF-8 reach us as surrogate escapes (os.fsdecode). JSON
writes them as \\udcXX escapes (pure ASCII output, read back to the same str by
`json.loads`); CSV writes the original bytes back (errors="surrogateescape"), so a file
opened with `open_for_export` round-trips through `read_csv`.

`looks_like_export` recognises a file we wrote by its first bytes (the JSON's leading
"generator" member, the CSV's header line), so a new export may replace it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dedup_gui import __version__
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord, ScanError

if TYPE_CHECKING:
    from dedup_gui.core.library import LibraryMatch, NewVsLibraryResult, QueryResult

SCHEMA_VERSION = 1
GENERATOR = f"dedup_gui {__version__}"
"""The first member of every JSON document: marks the file as ours."""
FILE_FIELDS = (
    "path", "keep", "reference", "similarity", "distance", "match",
    "width", "height", "size", "format", "mtime", "capture_time", "reason", "pair",
    "deep_kind", "region", "region_in",
)
CSV_COLUMNS = ("group", *FILE_FIELDS)
FORMATS = ("json", "csv")

_JSON_MARK = re.compile(rb'\A\{\s*"generator"\s*:\s*"dedup_gui[ "]')
_CSV_HEADERS = (
    ",".join(CSV_COLUMNS).encode() + b"\n",
    # Exports made before a column was added are ours too.
    b"group,path,keep,reference,similarity,distance,match,width,height,size,format,mtime,"
    b"capture_time,reason,pair\n",
    b"group,path,keep,reference,similarity,distance,match,width,height,size,format,mtime,"
    b"capture_time,reason\n",
    b"group,path,keep,reference,similarity,distance,match,width,height,size,format,mtime,"
    b"capture_time\n",
)

_BOOL_FIELDS = frozenset({"keep", "reference"})
_INT_FIELDS = frozenset({"group", "distance", "width", "height", "size"})
_FLOAT_FIELDS = frozenset({"similarity"})
_OPTIONAL_FIELDS = frozenset({"capture_time", "region"})
_REGION_DIGITS = 4


def iso_mtime(mtime_ns: int) -> str:
    """Modification time as local ISO 8601 with its UTC offset, to the second."""
    return datetime.fromtimestamp(mtime_ns / 1e9).astimezone().isoformat(timespec="seconds")


def member_row(member: GroupMember, keeper_path: str = "") -> dict[str, Any]:
    """A FILE entry; `keeper_path` (the group's keeper) is where a deep match's region lies
    when it is drawn on the keeper."""
    record = member.record
    deep = member.deep
    return {
        "path": record.path,
        "keep": member.keep,
        "reference": member.is_reference,
        "similarity": round(member.similarity, 2),
        "distance": member.distance,
        "match": member.match.value,
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "format": record.format,
        "mtime": iso_mtime(record.mtime_ns),
        "capture_time": record.capture_time,
        "reason": member.keep_reason,
        "pair": member.pair_of or "",
        "deep_kind": deep.kind if deep is not None else "",
        "region": [round(v, _REGION_DIGITS) for v in deep.region] if deep is not None else None,
        "region_in": (
            (keeper_path if deep.region_in_keeper else record.path) if deep is not None else ""
        ),
    }


def group_entry(group_id: int, group: DuplicateGroup) -> dict[str, Any]:
    return {
        "id": group_id,
        "kind": group.kind.value,
        "reclaimable_bytes": group.reclaimable_bytes,
        "files": [member_row(member, group.keeper.record.path) for member in group.members],
    }


def error_entry(error: ScanError) -> dict[str, str]:
    return {"path": error.path, "kind": error.kind.value, "message": error.message}


def export_document(
    groups: Sequence[DuplicateGroup],
    errors: Iterable[ScanError],
    similarity: float,
) -> dict[str, Any]:
    """The JSON document; group ids are 1-based positions in `groups`."""
    return {
        "generator": GENERATOR,
        "version": SCHEMA_VERSION,
        "similarity": similarity,
        "groups": [group_entry(index, group) for index, group in enumerate(groups, start=1)],
        "errors": [error_entry(error) for error in errors],
    }


def image_entry(record: ImageRecord) -> dict[str, Any]:
    return {
        "path": record.path,
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "format": record.format,
        "mtime": iso_mtime(record.mtime_ns),
        "capture_time": record.capture_time,
    }


def match_entry(match: LibraryMatch) -> dict[str, Any]:
    return {
        **image_entry(match.record),
        "similarity": round(match.similarity, 2),
        "distance": match.distance,
        "match": "exact" if match.exact else "visual",
    }


def query_document(result: QueryResult, similarity: float) -> dict[str, Any]:
    """`dedup-cli query` as JSON: the image, its copies in the library, and scan errors."""
    errors = [result.image_error] if result.image_error else []
    return {
        "generator": GENERATOR,
        "version": SCHEMA_VERSION,
        "similarity": similarity,
        "image": image_entry(result.image) if result.image else None,
        "matches": [match_entry(match) for match in result.matches],
        "errors": [error_entry(error) for error in [*errors, *result.library.errors]],
    }


def new_vs_library_document(result: NewVsLibraryResult, similarity: float) -> dict[str, Any]:
    """`dedup-cli new` as JSON: per folder, the images already in the library and the new."""
    return {
        "generator": GENERATOR,
        "version": SCHEMA_VERSION,
        "similarity": similarity,
        "folders": [
            {
                "folder": report.folder,
                "images": report.image_count,
                "present": [
                    {"path": record.path, "library_copy": match_entry(match)}
                    for record, match in report.present
                ],
                "new": [record.path for record in report.new],
            }
            for report in result.folders
        ],
        "errors": [
            error_entry(error)
            for error in [*result.new_scan.errors, *result.library_scan.errors]
        ],
    }


def write_json(document: dict[str, Any], stream: IO[str]) -> None:
    json.dump(document, stream, indent=2, ensure_ascii=True)
    stream.write("\n")


def write_csv(groups: Sequence[DuplicateGroup], stream: IO[str]) -> None:
    """One row per file; `stream` should be opened with newline="" (see open_for_export)."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for group_id, group in enumerate(groups, start=1):
        for member in group.members:
            row = member_row(member, group.keeper.record.path)
            writer.writerow({
                "group": group_id,
                **{key: _csv_text(value) for key, value in row.items()},
            })


def write_export(
    stream: IO[str],
    export_format: str,
    groups: Sequence[DuplicateGroup],
    errors: Iterable[ScanError],
    similarity: float,
) -> None:
    """Write in "json" or "csv". CSV has no room for scan errors: show those separately."""
    if export_format == "json":
        write_json(export_document(groups, errors, similarity), stream)
    elif export_format == "csv":
        write_csv(groups, stream)
    else:
        raise ValueError(f"Unknown export format {export_format!r}; use one of {FORMATS}.")


def open_for_export(path: str | Path, mode: str = "w") -> IO[str]:
    """A text file that keeps undecodable file-name bytes (surrogate escapes) intact.
    Writes over whatever is at `path`: results for a user's file name go through
    `output_file.open_output`, which never replaces a file that is not ours."""
    return Path(path).open(mode, encoding="utf-8", errors="surrogateescape", newline="")


def looks_like_export(head: bytes) -> bool:
    """Whether a file starting with `head` is a JSON or CSV export that we wrote."""
    return bool(_JSON_MARK.match(head)) or head.startswith(_CSV_HEADERS)


def read_json(stream: IO[str]) -> dict[str, Any]:
    document = json.load(stream)
    if not isinstance(document, dict) or document.get("version") != SCHEMA_VERSION:
        raise ValueError(f"Not a dedup_gui export of schema version {SCHEMA_VERSION}.")
    return document


def read_csv(stream: IO[str]) -> list[dict[str, Any]]:
    """Rows written by write_csv, with the same value types as the JSON file entries."""
    reader = csv.DictReader(stream)
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ValueError(f"Not a dedup_gui CSV export: expected the columns {CSV_COLUMNS}.")
    return [{key: _typed(key, value) for key, value in row.items()} for row in reader]


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _typed(key: str, text: str) -> Any:
    if key in _BOOL_FIELDS:
        return text == "true"
    if key in _INT_FIELDS:
        return int(text)
    if key in _FLOAT_FIELDS:
        return float(text)
    if key in _OPTIONAL_FIELDS and text == "":
        return None
    if key == "region":
        return [float(v) for v in text.split()]
    return text
