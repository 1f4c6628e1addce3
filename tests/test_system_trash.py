"""A move to the freedesktop trash that fails part-way leaves nothing behind: send2trash's own
Linux backend writes the .trashinfo first and may copy across file systems, so a failure can
leave an orphan entry or a partial copy that the user's trash would list as a photo."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
import send2trash

from dedup_gui.core.trash.actions import Outcome, execute_removal, plan_removal
from tests.imagegen import make_photo
from tests.test_actions import group_of, scanned

if send2trash.send2trash.__module__ != "send2trash.plat_other":
    pytest.skip("send2trash uses the system's trash service here", allow_module_level=True)

import send2trash.plat_other as backend


class Patched:
    """A module as send2trash's backend sees it, with some functions replaced."""

    def __init__(self, real: object, **replacements: object) -> None:
        self._real = real
        self.__dict__.update(replacements)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


@pytest.fixture
def photos(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "photos"
    folder.mkdir()
    keeper = folder / "beach.jpg"
    make_photo(21, 64, 48).save(keeper, quality=90)
    copy = folder / "beach copy.jpg"
    copy.write_bytes(keeper.read_bytes())
    return keeper, copy


@pytest.fixture
def earlier_trash(temp_trash: Path, photos) -> dict[str, bytes]:
    """The user's trash before we start: an unrelated photo, and an older file trashed from
    the very path we are about to trash (same name, same Path= line)."""
    _keeper, copy = photos
    (temp_trash / "info").mkdir(parents=True)
    (temp_trash / "files").mkdir()
    entries = {
        "info/holiday.jpg.trashinfo": b"[Trash Info]\nPath=/home/me/holiday.jpg\n",
        "files/holiday.jpg": b"holiday photo",
        f"info/{copy.name}.trashinfo": f"[Trash Info]\nPath={copy}\n".encode(),
        f"files/{copy.name}": b"last year's version",
    }
    for name, data in entries.items():
        (temp_trash / name).write_bytes(data)
    return entries


def trash_contents(trash: Path) -> dict[str, bytes]:
    return {
        f"{path.parent.name}/{path.name}": path.read_bytes()
        for path in sorted(trash.glob("*/*"))
    }


def trash_the_copy(photos, tmp_path: Path):
    keeper, copy = photos
    plan = plan_removal([group_of(scanned(keeper), scanned(copy))], [str(copy)],
                        roots=[str(tmp_path)])
    return execute_removal(plan)


def failing(error_number: int):
    def fail(*_args, **_kwargs):
        raise OSError(error_number, os.strerror(error_number))
    return fail


def test_a_failed_rename_leaves_no_orphan_trash_entry(
    photos, tmp_path, temp_trash, earlier_trash, monkeypatch
):
    copy_bytes = photos[1].read_bytes()
    monkeypatch.setattr(backend, "os", Patched(os, rename=failing(errno.ENOSPC)))

    report = trash_the_copy(photos, tmp_path)

    assert report.outcomes[0].outcome is Outcome.FAILED
    assert photos[1].read_bytes() == copy_bytes
    assert trash_contents(temp_trash) == earlier_trash


def test_a_cross_device_copy_cut_short_is_removed_from_the_trash(
    photos, tmp_path, temp_trash, earlier_trash, monkeypatch
):
    copy_bytes = photos[1].read_bytes()

    def move_then_run_out_of_space(source: str, destination: str) -> None:
        Path(destination).write_bytes(Path(source).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backend, "os", Patched(os, rename=failing(errno.EXDEV)))
    monkeypatch.setattr(backend, "shutil", Patched(shutil, move=move_then_run_out_of_space))

    report = trash_the_copy(photos, tmp_path)

    assert report.outcomes[0].outcome is Outcome.FAILED
    assert "No space left" in report.outcomes[0].message
    assert photos[1].read_bytes() == copy_bytes
    # Both attempts' .trashinfo files and the partial copy went; the user's entries stayed.
    assert trash_contents(temp_trash) == earlier_trash


def test_a_whole_copy_whose_original_could_not_be_removed_leaves_the_trash(
    photos, tmp_path, temp_trash, earlier_trash, monkeypatch
):
    def copy_but_cannot_delete_the_original(source: str, destination: str) -> None:
        shutil.copy2(source, destination)
        raise PermissionError(errno.EACCES, "Permission denied", source)

    monkeypatch.setattr(backend, "os", Patched(os, rename=failing(errno.EXDEV)))
    monkeypatch.setattr(
        backend, "shutil", Patched(shutil, move=copy_but_cannot_delete_the_original)
    )

    report = trash_the_copy(photos, tmp_path)

    assert report.outcomes[0].outcome is Outcome.FAILED
    assert photos[1].exists()
    assert trash_contents(temp_trash) == earlier_trash


def test_the_trashed_file_itself_is_never_removed_from_the_trash(
    photos, tmp_path, temp_trash, earlier_trash, monkeypatch
):
    copy_bytes = photos[1].read_bytes()

    def move_then_fail(source: str, destination: str) -> None:
        Path(source).rename(destination)  # the photo did arrive in the trash...
        raise OSError(errno.EIO, "Input/output error")  # ...and then something failed

    monkeypatch.setattr(backend, "os", Patched(os, rename=failing(errno.EXDEV)))
    monkeypatch.setattr(backend, "shutil", Patched(shutil, move=move_then_fail))

    report = trash_the_copy(photos, tmp_path)

    assert report.outcomes[0].outcome is Outcome.FAILED
    assert not photos[1].exists()
    arrived = {name: data for name, data in trash_contents(temp_trash).items()
               if name not in earlier_trash}
    # The file and the .trashinfo that lets the user restore it stay; only the first
    # attempt's orphan .trashinfo went.
    assert arrived == {
        "files/beach copy 2.jpg": copy_bytes,
        "info/beach copy 2.jpg.trashinfo": arrived["info/beach copy 2.jpg.trashinfo"],
    }


def test_a_cross_device_fallback_that_succeeds_leaves_no_orphan_entry(
    photos, tmp_path, temp_trash, earlier_trash, monkeypatch
):
    copy_bytes = photos[1].read_bytes()
    monkeypatch.setattr(backend, "os", Patched(os, rename=failing(errno.EXDEV)))

    report = trash_the_copy(photos, tmp_path)

    assert report.outcomes[0].outcome is Outcome.TRASHED
    arrived = {name for name in trash_contents(temp_trash) if name not in earlier_trash}
    assert arrived == {"files/beach copy 2.jpg", "info/beach copy 2.jpg.trashinfo"}
    assert (temp_trash / "files" / "beach copy 2.jpg").read_bytes() == copy_bytes
