"""Trashing must never remove the last faithful copy of a photo, nor a file nobody scanned:
the kept copy has to be the one the user saw (unchanged since the scan) and a file separate
from the one removed; the removed file has to be the very file scanned (identity, ctime,
content), reached through real folders inside the scan's roots."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dedup_gui.core.trash.actions import (
    KEPT_COPY_GONE,
    Outcome,
    ProblemKind,
    execute_removal,
    groups_with_kept_copy_gone,
    plan_removal,
    removal_problems,
)
from tests.imagegen import make_photo
from tests.test_actions import group_of, scanned


@pytest.fixture
def roots(tmp_path: Path) -> list[str]:
    return [str(tmp_path)]


@pytest.fixture
def keeper_and_copy(tmp_path: Path) -> tuple[Path, Path]:
    keeper = tmp_path / "keeper.jpg"
    make_photo(11, 64, 48).save(keeper, quality=90)
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(keeper.read_bytes())
    return keeper, copy


def _paint_over(keeper: Path) -> None:
    make_photo(12, 64, 48).save(keeper, quality=90)


def _touch(keeper: Path) -> None:
    before = keeper.stat()
    os.utime(keeper, ns=(before.st_atime_ns, before.st_mtime_ns + 3_000_000_000))


@pytest.mark.parametrize("change_keeper", [_paint_over, _touch], ids=["edited", "touched"])
def test_a_copy_is_kept_when_its_keeper_changed_after_planning(
    keeper_and_copy, change_keeper, roots
):
    keeper, copy = keeper_and_copy
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)], roots=roots)
    change_keeper(keeper)
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert trashed == []


def test_a_keeper_changed_since_the_scan_holds_its_copies_back_even_if_emptying_is_allowed(
    keeper_and_copy, roots
):
    keeper, copy = keeper_and_copy
    group = group_of(scanned(keeper), scanned(copy))
    keeper.write_bytes(keeper.read_bytes() + b"re-saved")
    trashed: list[str] = []

    assert removal_problems([group], [str(copy)], roots=roots) == []
    assert groups_with_kept_copy_gone([group], [str(copy)]) == (0,)
    plan = plan_removal([group], [str(copy)], roots=roots, allow_empty_groups=True)
    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert report.outcomes[0].message == KEPT_COPY_GONE
    assert trashed == []


def _replace_keeping_size_and_mtime(path: Path, data: bytes) -> None:
    """What a sync tool restoring an older version does: new file, old size and mtime."""
    before = path.stat()
    assert len(data) == before.st_size
    replacement = path.with_name(path.name + ".tmp")
    replacement.write_bytes(data)
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    replacement.replace(path)


def test_a_keeper_replaced_with_the_same_size_and_mtime_does_not_guard_a_removal(
    keeper_and_copy, roots
):
    keeper, copy = keeper_and_copy
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)], roots=roots)
    original = keeper.read_bytes()
    _replace_keeping_size_and_mtime(keeper, bytes(len(original)))  # the photo is lost
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert trashed == []


@contextmanager
def bind_mount(folder: Path, alias: Path) -> Iterator[None]:
    """`folder` also visible at `alias` (one file, two real paths); skips without root."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    alias.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "--bind", str(folder), str(alias)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"bind mount not permitted here: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(alias)], check=True)


@pytest.fixture
def bind_mounted(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(folder, the same folder mounted a second time elsewhere)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    alias = tmp_path / "mnt"
    with bind_mount(folder, alias):
        yield folder, alias


def test_the_same_file_through_a_bind_mount_is_not_a_kept_copy(bind_mounted, roots):
    folder, alias = bind_mounted
    photo = folder / "photo.jpg"
    make_photo(13, 64, 48).save(photo, quality=90)
    seen_twice = alias / "photo.jpg"  # e.g. a NAS share mounted at two places
    group = group_of(scanned(seen_twice), scanned(photo))
    trashed: list[str] = []

    report = execute_removal(plan_removal([group], [str(photo)], roots=roots), trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert trashed == []


def _rewrite_in_place_keeping_size_and_mtime(path: Path) -> None:
    """An editor that writes back into the same file and then restores the mtime."""
    before = path.stat()
    with path.open("r+b") as handle:
        handle.seek(before.st_size // 2)
        handle.write(b"\x00" * 16)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_file_replaced_with_the_same_size_and_mtime_is_not_trashed(keeper_and_copy, roots):
    keeper, copy = keeper_and_copy
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)], roots=roots)
    _replace_keeping_size_and_mtime(copy, bytes(copy.stat().st_size))  # e.g. a bad sync
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_CHANGED
    assert "replaced by another file" in report.outcomes[0].message
    assert trashed == []


def test_a_file_rewritten_in_place_with_its_mtime_put_back_is_not_trashed(
    keeper_and_copy, roots
):
    keeper, copy = keeper_and_copy
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)], roots=roots)
    _rewrite_in_place_keeping_size_and_mtime(copy)  # same inode, size and mtime: new ctime
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_CHANGED
    assert "rewritten" in report.outcomes[0].message
    assert trashed == []


def test_without_a_recorded_identity_the_content_digest_still_catches_a_rewrite(
    keeper_and_copy, roots
):
    keeper, copy = keeper_and_copy
    scan_without_identity = group_of(scanned(keeper), scanned(copy, identity=False))
    plan = plan_removal([scan_without_identity], [str(copy)], roots=roots)
    _rewrite_in_place_keeping_size_and_mtime(copy)
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_CHANGED
    assert "content changed" in report.outcomes[0].message
    assert trashed == []


@pytest.fixture
def album(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(the scanned folder, its keeper, its copy): tmp/library/album/{keeper,copy}.jpg."""
    folder = tmp_path / "library" / "album"
    folder.mkdir(parents=True)
    keeper = folder / "keeper.jpg"
    make_photo(15, 64, 48).save(keeper, quality=90)
    copy = folder / "copy.jpg"
    copy.write_bytes(keeper.read_bytes())
    return tmp_path / "library", keeper, copy


def test_a_never_scanned_file_behind_a_folder_swapped_for_a_link_is_not_trashed(
    album, tmp_path
):
    library, keeper, copy = album
    group = group_of(scanned(keeper), scanned(copy))
    plan = plan_removal([group], [str(copy)], roots=[str(library)])
    # The album moves away and a link to another folder takes its name; in that folder is a
    # file that nobody scanned, with the copy's name, size and mtime.
    copy.parent.rename(tmp_path / "moved album")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keeper.jpg").write_bytes((tmp_path / "moved album" / "keeper.jpg").read_bytes())
    stranger = elsewhere / "copy.jpg"
    stranger.write_bytes((tmp_path / "moved album" / "copy.jpg").read_bytes())
    scanned_mtime = group.members[1].record.mtime_ns
    os.utime(stranger, ns=(scanned_mtime, scanned_mtime))
    copy.parent.symlink_to(elsewhere, target_is_directory=True)
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_CHANGED
    assert "“album” was replaced by a link" in report.outcomes[0].message
    assert trashed == []


def test_even_the_scanned_file_is_not_trashed_through_a_folder_link(album, tmp_path):
    library, keeper, copy = album
    # A scan that recorded no identity: only the walk down real folders can tell.
    group = group_of(scanned(keeper, identity=False), scanned(copy, identity=False))
    plan = plan_removal([group], [str(copy)], roots=[str(library)])
    moved = tmp_path / "outside the library"
    copy.parent.rename(moved)
    copy.parent.symlink_to(moved, target_is_directory=True)  # same files, now via a link
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_CHANGED
    assert "replaced by a link" in report.outcomes[0].message
    assert trashed == []
    assert (moved / "copy.jpg").exists()


def test_plans_need_the_scans_roots_and_refuse_paths_outside_them(album, tmp_path):
    library, keeper, copy = album
    stray = tmp_path / "library2" / "copy.jpg"  # shares the root's name as a prefix
    stray.parent.mkdir()
    stray.write_bytes(copy.read_bytes())
    group = group_of(scanned(keeper), scanned(copy), scanned(stray))

    with pytest.raises(TypeError):
        plan_removal([group], [str(copy)])  # type: ignore[call-arg]
    problems = removal_problems([group], [str(copy), str(stray)], roots=[str(library)])

    assert [(p.kind, p.path) for p in problems] == [(ProblemKind.OUTSIDE_ROOTS, str(stray))]


def test_execution_checks_the_roots_again(album):
    library, keeper, copy = album
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)],
                        roots=[str(library)])
    elsewhere = dataclasses.replace(plan, roots=(str(library / "other album"),))
    trashed: list[str] = []

    report = execute_removal(elsewhere, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_OUTSIDE_ROOTS
    assert trashed == []


def test_a_scanned_root_that_is_a_link_is_followed(album, tmp_path):
    library, _keeper, _copy = album
    chosen = tmp_path / "Pictures"  # e.g. ~/Pictures -> /mnt/photos, picked by the user
    chosen.symlink_to(library, target_is_directory=True)
    through_root = [chosen / "album" / "keeper.jpg", chosen / "album" / "copy.jpg"]
    group = group_of(*map(scanned, through_root))
    trashed: list[str] = []

    plan = plan_removal([group], [str(through_root[1])], roots=[str(chosen)])
    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.TRASHED
    assert trashed == [str(through_root[1])]
