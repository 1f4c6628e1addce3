"""Reference folders stay protected whatever path they are given by."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dedup_gui import cli
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.test_cli import run
from tests.test_library import save
from tests.test_review_actions import bind_mount

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")


def assert_kept_as_reference(scan_json: str, protected: Path) -> None:
    [group] = json.loads(scan_json)["groups"]
    by_path = {file["path"]: file for file in group["files"]}
    assert by_path[str(protected)]["keep"] is True
    assert by_path[str(protected)]["reference"] is True


@needs_symlinks
def test_a_reference_folder_given_through_a_symlink_is_still_protected(tmp_path, capsys):
    library = tmp_path / "library"
    protected = save(1, library / "originals" / "a.jpg")
    save(1, library / "edits" / "a_big.jpg", size=(384, 288))  # would win on resolution
    shortcut = tmp_path / "originals"  # e.g. ~/Pictures/Originals -> the real folder
    shortcut.symlink_to(library / "originals", target_is_directory=True)

    status, out, _ = run(
        capsys, "scan", str(library), "--reference", str(shortcut), "--workers", "1"
    )

    assert status == cli.EXIT_FOUND
    assert_kept_as_reference(out, protected)


def test_a_reference_folder_seen_through_a_bind_mount_is_still_protected(tmp_path, capsys):
    library = tmp_path / "library"
    protected = save(1, library / "originals" / "a.jpg")
    save(1, library / "edits" / "a_big.jpg", size=(384, 288))
    # The same originals mounted again (or another spelling): sorted before the library,
    # its folder is walked second and the scan lists the files under the library's path.
    share = tmp_path / "a share"

    with bind_mount(library / "originals", share):
        status, out, _ = run(
            capsys, "scan", str(library), "--reference", str(share), "--workers", "1"
        )

    assert status == cli.EXIT_FOUND
    assert_kept_as_reference(out, protected)


@needs_symlinks
def test_files_scanned_through_a_symlink_are_in_the_reference_folder_they_live_in(tmp_path):
    library = tmp_path / "library"
    save(1, library / "originals" / "a.jpg")
    save(1, library / "edits" / "a_big.jpg", size=(384, 288))
    shortcut = tmp_path / "Pictures"
    shortcut.symlink_to(library, target_is_directory=True)
    records = scan([shortcut], options=ScanOptions(workers=1)).records

    [group] = SimilarityIndex.build(records).groups(
        DEFAULT_SIMILARITY, reference_folders=[str(library / "originals")]
    )

    references = [m.record.path for m in group.members if m.is_reference]
    assert references == [str(shortcut / "originals" / "a.jpg")]
    assert all(m.keep for m in group.members if m.is_reference)
