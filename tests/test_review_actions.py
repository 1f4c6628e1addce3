"""Trashing must never remove the last faithful copy of a photo: the kept copy has to be the
one the user saw (unchanged since the scan) and a file separate from the one removed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dedup_gui.core.actions import (
    KEPT_COPY_GONE,
    Outcome,
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
