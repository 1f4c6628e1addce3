"""Writing results to a file without ever writing over a file we did not create.

An existing file is replaced only when it is empty or a previous export of ours, recognised
by its content; never an image (by extension or content), a file this run reads, a folder,
or anything else. A link is judged, and written, by what it points to. The text goes to a
temporary file next to the target, is flushed to disk, the target is judged again, and only
then the file takes the target's place: a full disk or a crash leaves the old file whole,
and the temporary file is removed whatever happens. Pipes and character devices
(/dev/null, /dev/stdout) are written directly: they hold no file to lose.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import IO

from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.files.imagetypes import has_image_extension, sniff_file
from dedup_gui.core.models import ImageRecord, ScanError
from dedup_gui.core.output.export import looks_like_export

PROBE_BYTES = 4096
"""How much of the head and the tail of an existing file is read to recognise it."""

_unfinished: set[str] = set()


class OutputRefusedError(FileExistsError):
    """The output path holds a file that must not be written over; nothing was written."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(errno.EEXIST, reason, os.fspath(path))

    @property
    def reason(self) -> str:
        return str(self.strerror)


@dataclass(frozen=True)
class OutputGuard:
    """What this run must never write over, besides images and files that are not ours."""

    folders: tuple[str, ...] = ()
    """The folders scanned: named in the refusal of a file that lies inside one."""
    files: tuple[str, ...] = ()
    """Files this run reads by name (the image of a query)."""
    identities: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    """(st_dev, st_ino) of the files the scan read: a link or hard link to one is refused."""
    own_endings: tuple[re.Pattern[bytes], ...] = ()
    """Patterns of the last bytes of a text report of ours (the CLI's text output)."""

    def with_scanned(
        self, records: Iterable[ImageRecord], errors: Iterable[ScanError] = ()
    ) -> OutputGuard:
        """This guard, also protecting every file the scan read (or tried to)."""
        identities = set(self.identities)
        identities.update((r.dev, r.ino) for r in records if r.dev or r.ino)
        for error in errors:
            with suppress(OSError, ValueError):
                info = Path(error.path).stat()
                identities.add((info.st_dev, info.st_ino))
        return replace(self, identities=frozenset(identities))

    def with_identities(self, identities: Iterable[tuple[int, int]]) -> OutputGuard:
        """This guard, also protecting the files of these (st_dev, st_ino)."""
        return replace(self, identities=self.identities | frozenset(identities))


class _Kind(Enum):
    NEW = "new"
    REPLACE = "replace"
    STREAM = "stream"


@dataclass(frozen=True)
class _Plan:
    kind: _Kind
    target: Path
    info: os.stat_result | None = None


def check_output(path: str | os.PathLike[str], guard: OutputGuard | None = None) -> None:
    """Raise OutputRefusedError when writing to `path` would replace a file not ours."""
    _judge(path, guard or OutputGuard())


@contextmanager
def open_output(
    path: str | os.PathLike[str], guard: OutputGuard | None = None
) -> Iterator[IO[str]]:
    """A text stream whose content becomes the file at `path` when the block ends without
    an exception (see the module docstring). Undecodable file-name bytes (surrogate
    escapes) are written as the original bytes. Raises OutputRefusedError, before and
    after writing, when `path` holds a file that must not be replaced."""
    guard = guard or OutputGuard()
    plan = _judge(path, guard)
    if plan.kind is _Kind.STREAM:
        with _text(os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))) as stream:
            yield stream
        return
    descriptor, temp = _create_temp(plan.target)
    _unfinished.add(temp)
    try:
        with _text(descriptor) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if plan.info is not None:
            with suppress(OSError):
                Path(temp).chmod(stat.S_IMODE(plan.info.st_mode))
        _publish(temp, path, guard)
    finally:
        _unfinished.discard(temp)
        with suppress(FileNotFoundError):
            Path(temp).unlink()


def discard_unfinished() -> None:
    """Remove the temporary files of writes still under way (before a hard exit)."""
    for temp in list(_unfinished):
        with suppress(OSError):
            Path(temp).unlink()
    _unfinished.clear()


def _judge(path: str | os.PathLike[str], guard: OutputGuard) -> _Plan:
    try:
        info = Path(path).stat()  # follows links: judged by what it points to
    except FileNotFoundError:
        target = Path(os.path.realpath(path))
        if not target.parent.is_dir():  # said before the scan, not after it
            raise FileNotFoundError(
                errno.ENOENT, "No such folder", os.fspath(target.parent)
            ) from None
        return _Plan(_Kind.NEW, target)
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return _Plan(_Kind.STREAM, Path(path))
    target = Path(os.path.realpath(path))
    reason = _why_not_replaceable(target, info, guard)
    if reason is not None:
        if Path(path).is_symlink():
            reason = f"{reason} ({path} is a link to {target})"
        raise OutputRefusedError(path, reason)
    return _Plan(_Kind.REPLACE, target, info)


def _why_not_replaceable(target: Path, info: os.stat_result, guard: OutputGuard) -> str | None:
    if stat.S_ISDIR(info.st_mode):
        return "it is a folder"
    if not stat.S_ISREG(info.st_mode):
        return "it is a device or socket, not a file"
    if (info.st_dev, info.st_ino) in guard.identities or any(
        _same_file(info, name) for name in guard.files
    ):
        return "it is one of the files this run reads"
    if has_image_extension(target.name):
        return "it is an image (by its extension)"
    image_format = sniff_file(target)
    if image_format is not None:
        return f"it is an image ({image_format} by its content)"
    if info.st_size == 0:
        return None
    try:
        head, tail = _probe(target, info.st_size)
    except OSError as error:
        return f"it could not be read to see whether it is an export of ours ({error.strerror})"
    if looks_like_export(head) or any(pattern.search(tail) for pattern in guard.own_endings):
        return None
    folder = next((f for f in guard.folders if _inside(target, f)), None)
    where = f" (a file inside the scanned folder {folder})" if folder else ""
    return f"it is not a previous export of dedup_gui{where}"


def _same_file(info: os.stat_result, name: str) -> bool:
    try:
        other = Path(name).stat()
    except (OSError, ValueError):
        return False
    return (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino)


def _inside(target: Path, folder: str) -> bool:
    try:
        return target.is_relative_to(os.path.realpath(folder))
    except (OSError, ValueError):
        return False


def _probe(target: Path, size: int) -> tuple[bytes, bytes]:
    with open_for_reading(target) as handle:
        head = handle.read(PROBE_BYTES)
        if size > PROBE_BYTES:
            handle.seek(max(0, size - PROBE_BYTES))
            return head, handle.read(PROBE_BYTES)
        return head, head


def _create_temp(target: Path) -> tuple[int, str]:
    """A new file next to `target`, created with the permissions a plain open() would give."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    while True:
        # os.urandom(4).hex() is secrets.token_hex(4), without importing base64 and hmac
        temp = str(target.parent / f".{target.name[:100]}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue


def _text(descriptor: int) -> IO[str]:
    return os.fdopen(descriptor, "w", encoding="utf-8", errors="surrogateescape", newline="")


def _publish(temp: str, path: str | os.PathLike[str], guard: OutputGuard) -> None:
    plan = _judge(path, guard)  # again: the file may have appeared or changed meanwhile
    if plan.kind is _Kind.NEW:
        try:
            os.link(temp, plan.target)  # fails rather than replace a file made meanwhile
        except FileExistsError:
            plan = _judge(path, guard)
        except OSError:
            pass  # no hard links on this file system: replace, judged just now
        else:
            _sync_folder(plan.target.parent)
            return
    if plan.kind is _Kind.STREAM:
        raise OutputRefusedError(path, "it became a pipe or device while the results were made")
    Path(temp).replace(plan.target)
    _sync_folder(plan.target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (POSIX); best effort."""
    if os.name != "posix":
        return
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
