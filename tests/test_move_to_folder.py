"""Moving the marked copies into a folder instead of the trash: the same plan and re-checks,
the folder structure kept below the scanned root, and nothing ever written over."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dedup_gui.core.trash import move_to_folder, no_replace
from dedup_gui.core.trash.actions import Outcome, plan_removal
from dedup_gui.core.trash.move_to_folder import destination_of, move_marked
from tests.imagegen import make_photo
from tests.test_actions import group_of, scanned


@pytest.fixture
def library(tmp_path) -> dict[str, Path]:
    """One photo kept in photos/, with byte copies in photos/2020/trip and downloads."""
    root = tmp_path / "lib"
    keeper = root / "photos" / "beach.jpg"
    keeper.parent.mkdir(parents=True)
    make_photo(3, 64, 48).save(keeper, quality=90)
    files = {"keeper": keeper, "trip": root / "photos" / "2020" / "trip" / "beach.jpg",
             "download": root / "downloads" / "beach.jpg"}
    for name in ("trip", "download"):
        files[name].parent.mkdir(parents=True)
        files[name].write_bytes(keeper.read_bytes())
    return files


def plan_for(library: dict[str, Path], tmp_path: Path):
    groups = [group_of(*(scanned(library[k]) for k in ("keeper", "trip", "download")))]
    marked = [str(library["trip"]), str(library["download"])]
    return plan_removal(groups, marked, roots=[str(tmp_path / "lib")])


def test_the_marked_copies_move_with_their_folders_below_the_scanned_root(library, tmp_path):
    target = tmp_path / "set aside"
    content = library["keeper"].read_bytes()
    report = move_marked(plan_for(library, tmp_path), str(target))
    assert [o.outcome for o in report.outcomes] == [Outcome.TRASHED] * 2
    assert (target / "photos" / "2020" / "trip" / "beach.jpg").read_bytes() == content
    assert (target / "downloads" / "beach.jpg").read_bytes() == content
    assert not library["trip"].exists() and not library["download"].exists()
    assert library["keeper"].read_bytes() == content
    assert report.destinations[str(library["trip"])] == str(
        target / "photos" / "2020" / "trip" / "beach.jpg")


def test_a_file_already_at_the_destination_is_never_written_over(library, tmp_path):
    target = tmp_path / "set aside"
    taken = target / "downloads" / "beach.jpg"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"someone else's photo")
    report = move_marked(plan_for(library, tmp_path), str(target))
    outcomes = {o.path: o for o in report.outcomes}
    refused = outcomes[str(library["download"])]
    assert refused.outcome is Outcome.FAILED and "not written over" in refused.message
    assert refused.message.startswith("Could not move it: ")
    assert taken.read_bytes() == b"someone else's photo"
    assert library["download"].exists()  # the original stays where it was
    assert outcomes[str(library["trip"])].outcome is Outcome.TRASHED


def test_a_file_changed_since_the_scan_is_left_alone(library, tmp_path):
    plan = plan_for(library, tmp_path)
    library["trip"].write_bytes(b"edited since the scan")
    report = move_marked(plan, str(tmp_path / "set aside"))
    outcomes = {o.path: o.outcome for o in report.outcomes}
    assert outcomes[str(library["trip"])] is Outcome.SKIPPED_CHANGED
    assert library["trip"].read_bytes() == b"edited since the scan"
    assert not (tmp_path / "set aside" / "photos").exists()


def test_nothing_moves_when_the_kept_copy_is_gone(library, tmp_path):
    plan = plan_for(library, tmp_path)
    library["keeper"].unlink()
    report = move_marked(plan, str(tmp_path / "set aside"))
    assert {o.outcome for o in report.outcomes} == {Outcome.SKIPPED_NO_KEPT_COPY}
    assert library["trip"].exists() and library["download"].exists()


def act_as_another_file_system(monkeypatch) -> None:
    """Every rename or link of a photo into the target fails as across file systems
    (EXDEV); our own temporary file, already in the target, is published as usual."""
    real_rename, real_link = no_replace.rename, os.link

    def other_device(real):
        def call(source, destination, **kwargs):
            if ".dedup-move-" not in os.fspath(source):
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real(source, destination, **kwargs)
        return call

    monkeypatch.setattr(move_to_folder, "_rename", other_device(real_rename), raising=False)
    monkeypatch.setattr(move_to_folder, "_link", other_device(real_link))


def test_across_file_systems_the_copy_is_verified_before_the_original_goes(
    library, tmp_path, monkeypatch
):
    act_as_another_file_system(monkeypatch)
    target = tmp_path / "usb"
    content = library["keeper"].read_bytes()
    mtime = library["trip"].stat().st_mtime_ns
    report = move_marked(plan_for(library, tmp_path), str(target))
    assert [o.outcome for o in report.outcomes] == [Outcome.TRASHED] * 2
    moved = target / "photos" / "2020" / "trip" / "beach.jpg"
    assert moved.read_bytes() == content and moved.stat().st_mtime_ns == mtime
    assert not library["trip"].exists()
    assert not [p for p in target.rglob("*") if ".dedup-move-" in p.name]  # no debris


def test_a_copy_that_does_not_read_back_the_same_leaves_the_original(
    library, tmp_path, monkeypatch
):
    act_as_another_file_system(monkeypatch)
    monkeypatch.setattr(move_to_folder, "_digest", lambda *_: b"not the same")
    report = move_marked(plan_for(library, tmp_path), str(tmp_path / "usb"))
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}
    assert library["trip"].exists() and library["download"].exists()
    assert not [p for p in (tmp_path / "usb").rglob("*") if p.is_file()]


def test_a_scanned_root_that_is_one_file_keeps_its_name():
    assert destination_of("/a/b/x.jpg", ["/a/b/x.jpg"], "/t") == "/t/x.jpg"
    assert destination_of("/a/b/x.jpg", ["/a", "/a/b"], "/t") == "/t/x.jpg"
    assert destination_of("/a/b/x.jpg", ["/a"], "/t") == "/t/b/x.jpg"
