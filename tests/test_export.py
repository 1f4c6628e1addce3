"""The export schema shared by the CLI and the GUI, and its round trip."""

from __future__ import annotations

import io
import os
from datetime import datetime

import pytest

from dedup_gui.core.models import (
    DuplicateGroup,
    ErrorKind,
    GroupMember,
    ImageRecord,
    MatchKind,
    ScanError,
)
from dedup_gui.core.output.export import (
    CSV_COLUMNS,
    FILE_FIELDS,
    GENERATOR,
    export_document,
    looks_like_export,
    open_for_export,
    read_csv,
    read_json,
    write_csv,
    write_export,
    write_json,
)

ODD_NAME = os.fsdecode(b"/photos/caf\xe9 \xff\xfe, \"quoted\"\nline.jpg")
"""Latin-1 bytes that are not UTF-8, a comma, quotes and a newline: all legal on Linux."""


def record(path: str, size: int, width: int = 4000, capture: str | None = None) -> ImageRecord:
    return ImageRecord(
        path=path, size=size, mtime_ns=1_700_000_000_123_456_789, width=width,
        height=width * 3 // 4, format="JPEG", capture_time=capture, dhash=1, phash=2,
        phash_dihedral=(2,) * 8, micro=bytes(768),
    )


def member(rec: ImageRecord, keep: bool, *, reference: bool = False, distance: int = 0,
           match: MatchKind = MatchKind.VISUAL) -> GroupMember:
    return GroupMember(
        record=rec, keep=keep, is_reference=reference, distance=distance,
        similarity=100.0 - distance * 100 / 64, match=match,
    )


@pytest.fixture
def groups() -> list[DuplicateGroup]:
    exact = DuplicateGroup((
        member(record("/photos/a.jpg", 5000, capture="2021-06-01T10:00:00"), True,
               reference=True, match=MatchKind.EXACT),
        member(record("/backup/a.jpg", 5000, capture="2021-06-01T10:00:00"), False,
               match=MatchKind.EXACT),
    ))
    visual = DuplicateGroup((
        member(record("/photos/b.jpg", 9000), True),
        member(record(ODD_NAME, 3000, width=1000), False, distance=4),
    ))
    return [exact, visual]


ERRORS = [ScanError("/photos/broken.jpg", ErrorKind.TRUNCATED, "The file ends early.")]


def test_json_document_follows_the_schema(groups):
    document = export_document(groups, ERRORS, 90)

    assert document["version"] == 1
    assert document["similarity"] == 90
    assert [g["id"] for g in document["groups"]] == [1, 2]
    assert [g["kind"] for g in document["groups"]] == ["exact", "visual"]
    assert [g["reclaimable_bytes"] for g in document["groups"]] == [5000, 3000]
    first = document["groups"][0]["files"][0]
    assert tuple(first) == FILE_FIELDS
    assert first["keep"] is True and first["reference"] is True
    assert first["similarity"] == 100.0 and first["distance"] == 0
    assert (first["width"], first["height"], first["size"]) == (4000, 3000, 5000)
    assert datetime.fromisoformat(first["mtime"]).timestamp() == pytest.approx(1_700_000_000, abs=1)
    assert first["capture_time"] == "2021-06-01T10:00:00"
    second = document["groups"][1]["files"][1]
    assert second["keep"] is False and second["match"] == "visual"
    assert second["similarity"] == 93.75 and second["distance"] == 4
    assert document["errors"] == [
        {"path": "/photos/broken.jpg", "kind": "truncated", "message": "The file ends early."},
    ]


def test_json_round_trips_undecodable_file_names(groups, tmp_path):
    target = tmp_path / "result.json"
    with open_for_export(target) as stream:
        write_export(stream, "json", groups, ERRORS, 90)

    assert target.read_bytes().isascii()
    with target.open(encoding="utf-8") as stream:
        document = read_json(stream)
    assert document == export_document(groups, ERRORS, 90)
    assert os.fsencode(document["groups"][1]["files"][1]["path"]) == os.fsencode(ODD_NAME)


def test_csv_has_one_row_per_file_with_the_json_fields(groups):
    stream = io.StringIO(newline="")
    write_csv(groups, stream)
    stream.seek(0)

    rows = read_csv(stream)

    document = export_document(groups, [], 90)
    expected = [
        {"group": g["id"], **file} for g in document["groups"] for file in g["files"]
    ]
    assert rows == expected
    assert rows[2]["capture_time"] is None


def test_csv_file_writes_the_original_bytes_of_odd_file_names(groups, tmp_path):
    target = tmp_path / "result.csv"
    with open_for_export(target) as stream:
        write_export(stream, "csv", groups, ERRORS, 90)

    assert b"caf\xe9 \xff\xfe" in target.read_bytes()
    assert target.read_bytes().splitlines()[0].decode() == ",".join(CSV_COLUMNS)
    with open_for_export(target, "r") as stream:
        rows = read_csv(stream)
    assert [row["path"] for row in rows] == [
        "/photos/a.jpg", "/backup/a.jpg", "/photos/b.jpg", ODD_NAME,
    ]


def test_empty_results_still_make_a_valid_document():
    stream = io.StringIO()
    write_json(export_document([], [], 85), stream)
    stream.seek(0)
    assert read_json(stream) == {
        "generator": GENERATOR, "version": 1, "similarity": 85, "groups": [], "errors": [],
    }


def test_foreign_files_are_rejected():
    with pytest.raises(ValueError, match="schema version"):
        read_json(io.StringIO('{"groups": []}'))
    with pytest.raises(ValueError, match="columns"):
        read_csv(io.StringIO("name,size\na.jpg,1\n"))
    with pytest.raises(ValueError, match="Unknown export format"):
        write_export(io.StringIO(), "xml", [], [], 90)


def test_our_json_and_csv_exports_are_recognised_by_their_first_bytes(groups):
    json_stream, csv_stream = io.StringIO(), io.StringIO(newline="")
    write_export(json_stream, "json", groups, ERRORS, 90)
    write_export(csv_stream, "csv", groups, ERRORS, 90)

    assert json_stream.getvalue().startswith('{\n  "generator": "dedup_gui ')
    assert looks_like_export(json_stream.getvalue().encode()[:100])
    assert looks_like_export(csv_stream.getvalue()[:200].encode())
    for foreign in (b'{"version": 1, "groups": []}', b"group,path\n", b"", b"\xff\xd8\xff"):
        assert not looks_like_export(foreign)


def test_the_gui_export_never_replaces_a_photo(qtbot, groups, tmp_path):
    from dedup_gui.app.file_jobs import ExportJob
    from tests.imagegen import make_photo

    photo = tmp_path / "IMG_0001.jpg"
    make_photo(3, 64, 48).save(photo)
    before = photo.read_bytes()
    job = ExportJob(str(photo), groups, ERRORS, 90)
    failures: list[str] = []
    job.failed.connect(failures.append)

    job.run()

    assert photo.read_bytes() == before
    assert failures == [f"Could not write {photo}: it is an image (by its extension)"]
    assert sorted(tmp_path.iterdir()) == [photo]  # no temporary file left behind
