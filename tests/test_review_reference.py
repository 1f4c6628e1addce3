"""Reference folders stay protected whatever path they are given by."""

from __future__ import annotations

import json
import os

import pytest

from dedup_gui import cli
from tests.test_cli import run
from tests.test_library import save

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")


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
    [group] = json.loads(out)["groups"]
    by_path = {file["path"]: file for file in group["files"]}
    assert by_path[str(protected)]["keep"] is True
    assert by_path[str(protected)]["reference"] is True
