"""Scanning reads only regular files and leaves every file exactly as it was."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from dedup_gui.core.images.decode import ImageLoadError, open_reduced
from dedup_gui.core.models import ErrorKind, ScanResult
from dedup_gui.core.scanning import scanner
from tests.imagegen import make_photo

needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def finishes(work: Callable[[], object], fifo: Path) -> object:
    """`work()`'s result; fails (after unblocking it) if it hangs on the pipe."""
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(_capture(work)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # let the blocked open() return
        worker.join(timeout=5)
        pytest.fail(f"reading {fifo.name} blocked: a pipe was opened as if it were a file")
    return outcome[0]


def _capture(work: Callable[[], object]) -> object:
    try:
        return work()
    except Exception as error:
        return error


@needs_fifos
def test_hashing_a_pipe_named_like_a_photo_fails_at_once(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)

    raised = finishes(lambda: scanner.hash_file(fifo), fifo)

    assert isinstance(raised, ImageLoadError)
    assert raised.kind is ErrorKind.NOT_AN_IMAGE
    assert "pipe" in raised.message


@needs_fifos
def test_a_review_decode_of_a_pipe_fails_at_once(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)

    raised = finishes(lambda: open_reduced(fifo), fifo)

    assert isinstance(raised, ImageLoadError)


@needs_fifos
def test_a_photo_replaced_by_a_pipe_mid_scan_is_an_error_and_the_scan_goes_on(
    tmp_path, monkeypatch
):
    make_photo(21, 64, 48).save(tmp_path / "a.jpg")
    make_photo(22, 64, 48).save(tmp_path / "b.jpg")
    swapped = tmp_path / "b.jpg"
    real_discover = scanner.discover

    def discover_then_swap(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        swapped.unlink()
        os.mkfifo(swapped)
        return found

    monkeypatch.setattr(scanner, "discover", discover_then_swap)

    result = finishes(lambda: scanner.scan([tmp_path], options=scanner.ScanOptions(workers=1)),
                      swapped)

    assert isinstance(result, ScanResult)
    assert [Path(r.path).name for r in result.records] == ["a.jpg"]
    assert [(Path(e.path).name, e.kind) for e in result.errors] == [
        ("b.jpg", ErrorKind.NOT_AN_IMAGE)
    ]


@pytest.mark.skipif(not hasattr(os, "O_NOATIME"), reason="no O_NOATIME on this system")
def test_a_scan_leaves_the_access_time_of_every_file_alone(tmp_path):
    photo = tmp_path / "photo.jpg"
    make_photo(23, 64, 48).save(photo)
    copy = tmp_path / "copy.jpg"  # same size: its bytes are read twice (decode and digest)
    copy.write_bytes(photo.read_bytes())
    unsniffed = tmp_path / "no extension"
    unsniffed.write_bytes(photo.read_bytes())
    before: dict[Path, tuple[int, int]] = {}
    for path in (photo, copy, unsniffed):
        info = path.stat()
        # An access time older than the mtime is updated by any read, even under relatime.
        os.utime(path, ns=(info.st_mtime_ns - 3_600_000_000_000, info.st_mtime_ns))
        before[path] = (path.stat().st_atime_ns, path.stat().st_mtime_ns)

    result = scanner.scan([tmp_path])

    assert len(result.records) == 3
    assert {path: (path.stat().st_atime_ns, path.stat().st_mtime_ns) for path in before} == before


@pytest.mark.skipif(not hasattr(os, "O_NOATIME"), reason="no O_NOATIME on this system")
def test_files_of_another_owner_are_still_read(tmp_path, monkeypatch):
    make_photo(24, 64, 48).save(tmp_path / "shared.jpg")
    real_open = os.open

    def open_as_non_owner(path, flags, *args, **kwargs):
        if flags & os.O_NOATIME:  # the kernel allows it only to the file's owner
            raise PermissionError(1, "Operation not permitted", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_as_non_owner)
    result = scanner.scan([tmp_path], options=scanner.ScanOptions(workers=1))

    assert [Path(r.path).name for r in result.records] == ["shared.jpg"]
    assert result.errors == []
