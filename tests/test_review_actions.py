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
    Outcome,
    ProblemKind,
    execute_removal,
    plan_removal,
    removal_problems,
)
from tests.imagegen import make_photo
from tests.test_actions import group_of, scanned


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
def test_a_copy_is_kept_when_its_keeper_changed_after_planning(keeper_and_copy, change_keeper):
    keeper, copy = keeper_and_copy
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)])
    change_keeper(keeper)
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert trashed == []


def test_a_plan_whose_only_keeper_changed_since_the_scan_is_refused(keeper_and_copy):
    keeper, copy = keeper_and_copy
    group = group_of(scanned(keeper), scanned(copy))
    keeper.write_bytes(keeper.read_bytes() + b"re-saved")

    problems = removal_problems([group], [str(copy)])

    assert [p.kind for p in problems] == [ProblemKind.WOULD_EMPTY_GROUP]


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


def test_the_same_file_through_a_bind_mount_is_not_a_kept_copy(bind_mounted):
    folder, alias = bind_mounted
    photo = folder / "photo.jpg"
    make_photo(13, 64, 48).save(photo, quality=90)
    seen_twice = alias / "photo.jpg"  # e.g. a NAS share mounted at two places
    group = group_of(scanned(seen_twice), scanned(photo))
    trashed: list[str] = []

    report = execute_removal(plan_removal([group], [str(photo)]), trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert trashed == []
