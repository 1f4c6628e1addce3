"""Removal plans and trashing: the only code that removes files must never lose a photo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedup_gui.core.files.digest import file_digest
from dedup_gui.core.models import (
    CancelToken,
    DuplicateGroup,
    GroupMember,
    ImageRecord,
    MatchKind,
)
from dedup_gui.core.trash.actions import (
    KEPT_COPY_GONE,
    Outcome,
    ProblemKind,
    RemovalPlan,
    RemovalRefusedError,
    TrashProgress,
    execute_removal,
    groups_with_kept_copy_gone,
    plan_removal,
    removal_problems,
)
from tests.imagegen import make_photo


def scanned(path: Path, *, identity: bool = True) -> ImageRecord:
    """The record a scan makes of `path` now: identity, ctime and content digest included
    (`identity=False`: as if the scan had not recorded the dev, inode and ctime)."""
    info = path.stat()
    return ImageRecord(
        path=str(path), size=info.st_size, mtime_ns=info.st_mtime_ns, width=64, height=48,
        format="JPEG", capture_time=None, dhash=0, phash=0, phash_dihedral=(0,) * 8,
        micro=bytes(768), content_digest=file_digest(path),
        dev=info.st_dev if identity else 0, ino=info.st_ino if identity else 0,
        ctime_ns=info.st_ctime_ns if identity else 0,
    )


def group_of(*records: ImageRecord, reference: frozenset[str] = frozenset()) -> DuplicateGroup:
    members = tuple(
        GroupMember(
            record=record, keep=index == 0, is_reference=record.path in reference,
            distance=0, similarity=100.0, match=MatchKind.EXACT,
        )
        for index, record in enumerate(records)
    )
    return DuplicateGroup(members)


@pytest.fixture
def roots(tmp_path) -> list[str]:
    """What the test's scan looked at: its whole temporary folder."""
    return [str(tmp_path)]


def plan_copies(copies: list[Path], roots: list[str]) -> RemovalPlan:
    """The suggested plan for the `copies` fixture: trash the two copies, keep the first."""
    return plan_removal([group_of(*map(scanned, copies))], map(str, copies[1:]), roots=roots)


@pytest.fixture
def copies(tmp_path) -> list[Path]:
    """One photo saved three times, byte-identical."""
    original = tmp_path / "photos" / "beach.jpg"
    original.parent.mkdir()
    make_photo(1, 64, 48).save(original, quality=90)
    paths = [original]
    for name in ("beach copy.jpg", "beach (2).jpg"):
        paths.append(original.with_name(name))
        paths[-1].write_bytes(original.read_bytes())
    return paths


def test_plan_of_the_suggested_removals_is_accepted(copies, roots):
    group = group_of(*map(scanned, copies))
    plan = plan_removal([group], [str(copies[1]), str(copies[2])], roots=roots)
    assert set(plan.paths) == {str(copies[1]), str(copies[2])}
    assert plan.total_bytes == 2 * copies[0].stat().st_size


def test_plan_that_empties_a_group_is_refused(copies, roots):
    group = group_of(*map(scanned, copies))
    with pytest.raises(RemovalRefusedError) as refused:
        plan_removal([group], map(str, copies), roots=roots)
    assert [p.kind for p in refused.value.problems] == [ProblemKind.WOULD_EMPTY_GROUP]
    assert refused.value.problems[0].group_index == 0


def test_emptying_a_group_needs_the_explicit_flag_for_that_group(copies, tmp_path, roots):
    other = tmp_path / "other.jpg"
    make_photo(2, 64, 48).save(other)
    other_copy = tmp_path / "other copy.jpg"
    other_copy.write_bytes(other.read_bytes())
    groups = [group_of(*map(scanned, copies)), group_of(scanned(other), scanned(other_copy))]
    everything = [*map(str, copies), str(other), str(other_copy)]

    with pytest.raises(RemovalRefusedError) as refused:
        plan_removal(groups, everything, allow_empty_groups={0}, roots=roots)
    assert [p.group_index for p in refused.value.problems] == [1]

    plan = plan_removal(groups, everything, allow_empty_groups=True, roots=roots)
    assert plan.file_count == 5


def test_a_vanished_keeper_never_turns_into_trashing_every_copy(copies, tmp_path, roots):
    other = tmp_path / "other.jpg"
    make_photo(2, 64, 48).save(other)
    other_copy = tmp_path / "other copy.jpg"
    other_copy.write_bytes(other.read_bytes())
    groups = [group_of(*map(scanned, copies)), group_of(scanned(other), scanned(other_copy))]
    marked = [str(copies[1]), str(copies[2]), str(other_copy)]
    copies[0].unlink()  # the keeper the user kept, deleted in another program after the scan

    # Not an "every copy" case: the user kept copies[0], so nobody is asked about emptying.
    assert removal_problems(groups, marked, roots=roots) == []
    assert groups_with_kept_copy_gone(groups, marked) == (0,)
    # Even a caller that allows emptying every group cannot make the copies go.
    plan = plan_removal(groups, marked, roots=roots, allow_empty_groups=True)
    report = execute_removal(plan)

    assert [(Path(o.path).name, o.outcome) for o in report.outcomes] == [
        ("beach copy.jpg", Outcome.SKIPPED_NO_KEPT_COPY),
        ("beach (2).jpg", Outcome.SKIPPED_NO_KEPT_COPY),
        ("other copy.jpg", Outcome.TRASHED),  # the rest of the plan goes ahead
    ]
    assert {o.message for o in report.not_trashed} == {KEPT_COPY_GONE}
    assert copies[1].exists() and copies[2].exists() and other.exists()


def test_groups_without_marks_are_left_out_of_the_plan(copies, tmp_path, roots):
    other = tmp_path / "other.jpg"
    make_photo(6, 64, 48).save(other)
    untouched = group_of(*map(scanned, copies))
    marked = group_of(scanned(other), scanned(copies[0]))
    for path in copies[1:]:
        path.unlink()  # the untouched group has lost files since the scan: not our concern

    plan = plan_removal([untouched, marked], [str(other)], roots=roots)

    assert plan.paths == (str(other),)
    assert plan.removals[0].group_indices == (1,)


def test_reference_files_are_never_planned_unless_allowed(copies, roots):
    reference = frozenset({str(copies[2])})
    group = group_of(*map(scanned, copies), reference=reference)
    with pytest.raises(RemovalRefusedError) as refused:
        plan_removal([group], [str(copies[2])], roots=roots)
    assert [p.kind for p in refused.value.problems] == [ProblemKind.REFERENCE_FILE]
    assert plan_removal([group], [str(copies[2])], allow_reference=True, roots=roots).paths == (
        str(copies[2]),
    )


def test_a_path_outside_every_group_is_refused(copies, tmp_path, roots):
    group = group_of(*map(scanned, copies))
    problems = removal_problems([group], [str(tmp_path / "elsewhere.jpg")], roots=roots)
    assert [p.kind for p in problems] == [ProblemKind.NOT_IN_ANY_GROUP]


def test_trashing_moves_the_copies_to_the_trash_and_keeps_the_keeper(copies, temp_trash, roots):
    keeper_bytes = copies[0].read_bytes()
    plan = plan_copies(copies, roots)
    seen: list[TrashProgress] = []

    report = execute_removal(plan, progress=seen.append)

    assert [o.outcome for o in report.outcomes] == [Outcome.TRASHED, Outcome.TRASHED]
    assert report.trashed_bytes == 2 * len(keeper_bytes)
    assert copies[0].read_bytes() == keeper_bytes
    assert not copies[1].exists() and not copies[2].exists()
    assert sorted(p.name for p in (temp_trash / "files").iterdir()) == [
        "beach (2).jpg", "beach copy.jpg",
    ]
    assert seen[-1] == TrashProgress(2, 2, "")


def test_trashing_never_deletes(copies, temp_trash, monkeypatch, roots):
    def forbidden(*args, **kwargs):
        raise AssertionError("a file was deleted instead of trashed")

    for name in ("remove", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, forbidden)
    plan = plan_removal([group_of(*map(scanned, copies))], [str(copies[1])], roots=roots)

    report = execute_removal(plan)

    assert [o.outcome for o in report.outcomes] == [Outcome.TRASHED]
    assert (temp_trash / "files" / "beach copy.jpg").read_bytes() == copies[0].read_bytes()


def test_a_file_changed_after_the_scan_is_not_trashed(copies, temp_trash, roots):
    plan = plan_copies(copies, roots)
    copies[1].write_bytes(copies[1].read_bytes() + b"edited")
    touched = copies[2].stat()
    os.utime(copies[2], ns=(touched.st_atime_ns, touched.st_mtime_ns + 5_000_000_000))

    report = execute_removal(plan)

    assert [o.outcome for o in report.outcomes] == [Outcome.SKIPPED_CHANGED] * 2
    assert "size changed" in report.outcomes[0].message
    assert "modified" in report.outcomes[1].message
    assert copies[1].exists() and copies[2].exists()
    assert not (temp_trash / "files").exists() or not any((temp_trash / "files").iterdir())


def test_a_vanished_file_is_reported_and_the_rest_still_trashed(copies, temp_trash, roots):
    plan = plan_copies(copies, roots)
    copies[1].unlink()

    report = execute_removal(plan)

    by_path = {o.path: o for o in report.outcomes}
    assert by_path[str(copies[1])].outcome is Outcome.SKIPPED_MISSING
    assert by_path[str(copies[1])].message
    assert by_path[str(copies[2])].outcome is Outcome.TRASHED
    assert copies[0].exists()


def test_a_file_is_kept_when_its_keeper_vanished_after_planning(copies, roots):
    plan = plan_copies(copies, roots)
    copies[0].unlink()
    trashed: list[str] = []

    report = execute_removal(plan, trash=trashed.append)

    # Only copies[0] was kept, and it is gone: trashing either copy would lose the photo.
    assert [o.outcome for o in report.outcomes] == [Outcome.SKIPPED_NO_KEPT_COPY] * 2
    assert trashed == []


def test_a_symlink_to_the_removed_file_does_not_count_as_a_kept_copy(tmp_path, roots):
    photo = tmp_path / "photo.jpg"
    make_photo(3, 64, 48).save(photo)
    alias = tmp_path / "alias.jpg"
    alias.symlink_to(photo)
    group = group_of(scanned(alias), scanned(photo))
    trashed: list[str] = []

    report = execute_removal(plan_removal([group], [str(photo)], roots=roots), trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_NO_KEPT_COPY
    assert trashed == []


def test_a_path_that_is_a_symlink_is_left_alone(tmp_path, roots):
    photo = tmp_path / "photo.jpg"
    make_photo(5, 64, 48).save(photo)
    twin = tmp_path / "twin.jpg"
    twin.write_bytes(photo.read_bytes())
    link = tmp_path / "link.jpg"
    link.symlink_to(twin)
    group = group_of(scanned(photo), scanned(link))
    trashed: list[str] = []

    report = execute_removal(plan_removal([group], [str(link)], roots=roots), trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.SKIPPED_CHANGED
    assert "symbolic link" in report.outcomes[0].message
    assert trashed == []


def test_a_hard_link_counts_as_a_kept_copy(tmp_path, roots):
    photo = tmp_path / "photo.jpg"
    make_photo(4, 64, 48).save(photo)
    twin = tmp_path / "twin.jpg"
    twin.hardlink_to(photo)
    group = group_of(scanned(twin), scanned(photo))
    trashed: list[str] = []

    report = execute_removal(plan_removal([group], [str(photo)], roots=roots), trash=trashed.append)

    assert report.outcomes[0].outcome is Outcome.TRASHED
    assert trashed == [str(photo)]


def test_one_failure_does_not_stop_the_others(copies, roots):
    plan = plan_copies(copies, roots)
    trashed: list[str] = []

    def flaky_trash(path: str) -> None:
        if path == str(copies[1]):
            raise PermissionError(13, "Permission denied", path)
        trashed.append(path)

    report = execute_removal(plan, trash=flaky_trash)

    assert [o.outcome for o in report.outcomes] == [Outcome.FAILED, Outcome.TRASHED]
    assert "Permission denied" in report.outcomes[0].message
    assert trashed == [str(copies[2])]


def test_cancel_stops_before_the_next_file(copies, roots):
    plan = plan_copies(copies, roots)
    cancel = CancelToken()
    trashed: list[str] = []

    def trash_then_cancel(path: str) -> None:
        trashed.append(path)
        cancel.cancel()

    report = execute_removal(plan, trash=trash_then_cancel, cancel=cancel)

    assert [o.outcome for o in report.outcomes] == [Outcome.TRASHED, Outcome.CANCELLED]
    assert report.cancelled
    assert trashed == [str(copies[1])]
