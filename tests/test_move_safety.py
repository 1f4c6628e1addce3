"""Moving marked copies into a folder under races and odd folders: a file that appears
or is swapped in at the last moment is never written over nor removed, the folder chosen is
never left through a link, and a killed move leaves nothing of ours behind for long."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dedup_gui.core.trash import move_to_folder, no_replace, recheck
from dedup_gui.core.trash.actions import Outcome
from dedup_gui.core.trash.move_to_folder import move_marked
from tests.test_move_to_folder import act_as_another_file_system, library, plan_for

__all__ = ["library"]  # the fixture, used by name

RACER = b"a file someone else just saved here"


def swap_in_another_file(path: Path) -> None:
    """Another program saves a different file under this name (a new inode)."""
    fresh = path.with_name("fresh.tmp")
    fresh.write_bytes(RACER)
    fresh.replace(path)


def test_a_file_appearing_at_the_destination_at_the_last_moment_is_never_written_over(
    library, tmp_path, monkeypatch
):
    """On a file system without hard links (FAT on a USB stick), the old code looked for a
    free name, then renamed: a file saved there in between was written over."""
    target = tmp_path / "set aside"
    racer = target / "downloads" / "beach.jpg"

    def appears_first(real):
        def call(source, destination, *args, **kwargs):
            if os.fspath(source) == str(library["download"]) and not racer.exists():
                racer.parent.mkdir(parents=True, exist_ok=True)
                racer.write_bytes(RACER)
            return real(source, destination, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "rename", appears_first(os.rename))
    monkeypatch.setattr(move_to_folder, "_rename", appears_first(no_replace.rename),
                        raising=False)
    monkeypatch.setattr(move_to_folder, "_link",
                        lambda *_a, **_k: (_ for _ in ()).throw(OSError(errno.EPERM, "no links")))
    report = move_marked(plan_for(library, tmp_path), str(target))
    outcomes = {o.path: o for o in report.outcomes}
    assert racer.read_bytes() == RACER
    assert library["download"].exists()
    assert outcomes[str(library["download"])].outcome is Outcome.FAILED
    assert "not written over" in outcomes[str(library["download"])].message


def test_a_file_swapped_in_at_the_old_name_after_the_link_is_not_removed(
    library, tmp_path, monkeypatch
):
    """Where the system has no rename that refuses to replace, the photo is linked at its new
    name and the old name removed: a file saved at the old name in between must stay."""
    real_link = os.link

    def link_then_someone_saves(source, destination, **kwargs):
        real_link(source, destination, **kwargs)
        if os.fspath(source) == str(library["trip"]):
            swap_in_another_file(library["trip"])

    monkeypatch.setattr(move_to_folder, "_rename", _unsupported, raising=False)
    monkeypatch.setattr(move_to_folder, "_link", link_then_someone_saves)
    content = library["keeper"].read_bytes()
    target = tmp_path / "set aside"
    move_marked(plan_for(library, tmp_path), str(target))
    assert library["trip"].read_bytes() == RACER  # the new file was not removed
    assert (target / "photos" / "2020" / "trip" / "beach.jpg").read_bytes() == content


def _unsupported(*_args, **_kwargs):
    raise no_replace.Unsupported(errno.ENOSYS, "no rename that refuses to replace")


def test_a_file_swapped_in_after_the_recheck_is_not_moved(library, tmp_path, monkeypatch):
    real_check = recheck.check_before_removal

    def checked_then_swapped(record, roots):
        found = real_check(record, roots)
        if record.path == str(library["trip"]):
            swap_in_another_file(library["trip"])
        return found

    monkeypatch.setattr(recheck, "check_before_removal", checked_then_swapped)
    target = tmp_path / "set aside"
    report = move_marked(plan_for(library, tmp_path), str(target))
    outcomes = {o.path: o.outcome for o in report.outcomes}
    assert outcomes[str(library["trip"])] is Outcome.FAILED
    assert library["trip"].read_bytes() == RACER  # put back where its owner saved it
    assert not (target / "photos").exists() or not any((target / "photos").rglob("*.jpg"))
    assert outcomes[str(library["download"])] is Outcome.TRASHED


@pytest.mark.parametrize("across", [False, True], ids=["same disk", "across disks"])
def test_a_folder_in_the_target_that_is_a_link_is_never_followed(
    library, tmp_path, monkeypatch, across
):
    if across:
        act_as_another_file_system(monkeypatch)
    target = tmp_path / "set aside"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target.mkdir()
    (target / "photos").symlink_to(elsewhere)
    report = move_marked(plan_for(library, tmp_path), str(target))
    outcomes = {o.path: o for o in report.outcomes}
    assert not list(elsewhere.rglob("*"))  # nothing was put through the link
    assert library["trip"].exists()
    assert outcomes[str(library["trip"])].outcome is Outcome.FAILED
    assert "is a link" in outcomes[str(library["trip"])].message
    assert outcomes[str(library["download"])].outcome is Outcome.TRASHED


@pytest.mark.parametrize("inside", ["lib/set aside", "lib/photos/dups", "link to lib/x"])
def test_a_target_inside_a_scanned_folder_is_refused(library, tmp_path, inside):
    (tmp_path / "link to lib").symlink_to(tmp_path / "lib")
    plan = plan_for(library, tmp_path)
    with pytest.raises(move_to_folder.MoveRefusedError, match="outside the scanned folders"):
        move_marked(plan, str(tmp_path / inside))
    assert library["trip"].exists() and library["download"].exists()


def test_a_temporary_file_left_by_a_killed_move_is_removed_by_the_next_run(library, tmp_path):
    target = tmp_path / "set aside"
    folder = target / "downloads"
    folder.mkdir(parents=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    leftover = folder / f".beach.jpg.dedup-move-{dead_pid}-0a1b2c3d.tmp"
    leftover.write_bytes(b"half a copy")
    older = folder / f".beach.jpg.dedup-move-{dead_pid}.tmp"  # the name before tokens
    older.write_bytes(b"half a copy")
    users = folder / "beach.jpg.dedup-move-notes.txt"  # not our name: never touched
    users.write_bytes(b"mine")
    report = move_marked(plan_for(library, tmp_path), str(target))
    assert not leftover.exists() and not older.exists()
    assert users.read_bytes() == b"mine"
    assert sorted(report.leftovers_removed) == sorted([str(leftover), str(older)])
    assert (folder / "beach.jpg").is_file()


def test_a_temporary_file_of_a_move_still_running_is_left_alone(library, tmp_path):
    target = tmp_path / "set aside"
    target.mkdir()
    running = target / f".x.jpg.dedup-move-{os.getppid()}-00000000.tmp"
    running.write_bytes(b"being written")
    move_marked(plan_for(library, tmp_path), str(target))
    assert running.read_bytes() == b"being written"


def test_across_disks_the_new_name_is_on_disk_before_the_original_goes(
    library, tmp_path, monkeypatch
):
    """A power cut after the original's removal must not find the copy's name unwritten."""
    act_as_another_file_system(monkeypatch)
    real_fsync = os.fsync
    folder_flushes_with_original_present: list[bool] = []

    def watched(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            folder_flushes_with_original_present.append(library["trip"].exists())
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watched)
    report = move_marked(plan_for(library, tmp_path), str(tmp_path / "usb"))
    assert {o.outcome for o in report.outcomes} == {Outcome.TRASHED}
    assert True in folder_flushes_with_original_present


def test_across_disks_a_full_disk_leaves_the_original_and_no_partial_copy(
    library, tmp_path, monkeypatch
):
    act_as_another_file_system(monkeypatch)
    real_write = os.write

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def write(self, _chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "write", real_write)
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: (
        Full(real_fdopen(fd, mode, *a, **k)) if "w" in mode else real_fdopen(fd, mode, *a, **k)))
    target = tmp_path / "usb"
    report = move_marked(plan_for(library, tmp_path), str(target))
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}
    assert all("No space left" in o.message for o in report.outcomes)
    assert library["trip"].exists() and library["download"].exists()
    assert not [p for p in target.rglob("*") if p.is_file()]


@pytest.mark.skipif(not no_replace.AVAILABLE, reason="no rename that refuses to replace here")
def test_the_rename_refuses_any_name_already_taken_even_by_a_dangling_link(tmp_path):
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"photo")
    taken, dangling = tmp_path / "taken.jpg", tmp_path / "dangling.jpg"
    taken.write_bytes(b"someone's")
    dangling.symlink_to(tmp_path / "nowhere")
    for name in (taken, dangling):
        with pytest.raises(FileExistsError):
            no_replace.rename(str(source), str(name))
    assert taken.read_bytes() == b"someone's" and dangling.is_symlink()
    no_replace.rename(str(source), str(tmp_path / "free.jpg"))
    assert (tmp_path / "free.jpg").read_bytes() == b"photo" and not source.exists()
