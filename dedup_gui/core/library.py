"""Questions asked of a photo library rather than of one pile of files.

- `query(image, library)`: where else is this photo in my library?
- `new_vs_library(new_folders, library)`: which of these folders (an SD card, a download,
  a backup) are already in my library? Per folder: the images already present, and the new ones.

Both scan through the hash cache, so asking again after the first scan of a library only
re-hashes files that changed.
"""

from __future__ import annotations

import filecmp
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dedup_gui.core.decisions.ignore_list import ContentId, IgnoredPair, content_id
from dedup_gui.core.files.discovery import discover
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import ReferenceFolders
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.images.decode import ImageLoadError
from dedup_gui.core.models import (
    CancelToken,
    ErrorKind,
    ImageRecord,
    ScanError,
    ScanProgress,
    ScanResult,
)
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import HashCache

LibraryProgress = Callable[[str, ScanProgress], None]
"""Called with what is being scanned ("library" or "new") and the scanner's progress."""


@dataclass(frozen=True, slots=True)
class LibraryMatch:
    record: ImageRecord
    distance: int
    similarity: float
    exact: bool
    """Byte-identical to the image asked about."""


@dataclass(slots=True)
class QueryResult:
    image: ImageRecord | None
    """The image asked about, hashed; None if it could not be read (see `image_error`)."""
    image_error: ScanError | None
    matches: list[LibraryMatch]
    """Copies in the library, closest first; never the image itself."""
    library: ScanResult
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class FolderReport:
    folder: str
    present: tuple[tuple[ImageRecord, LibraryMatch], ...]
    """Images of this folder already in the library, each with its closest library copy."""
    new: tuple[ImageRecord, ...]
    """Images of this folder that are not in the library."""

    @property
    def image_count(self) -> int:
        return len(self.present) + len(self.new)


@dataclass(slots=True)
class NewVsLibraryResult:
    folders: list[FolderReport] = field(default_factory=list)
    """One entry per folder that directly holds images, sorted by path."""
    new_scan: ScanResult = field(default_factory=ScanResult)
    library_scan: ScanResult = field(default_factory=ScanResult)
    cancelled: bool = False


def query(
    image_path: str,
    library_roots: Sequence[str],
    *,
    similarity: float = DEFAULT_SIMILARITY,
    match_transforms: bool = False,
    cache: HashCache | None = None,
    options: scanner.ScanOptions | None = None,
    progress: LibraryProgress | None = None,
    cancel: CancelToken | None = None,
    ignored: Sequence[IgnoredPair] = (),
) -> QueryResult:
    """Find copies of one image in a library (the image itself is never its own match).
    A library file the user marked "not duplicates" of the image is never a match."""
    image_path = str(Path(image_path).absolute())
    try:
        image = scanner.hash_file(image_path, cache=cache)
    except ImageLoadError as error:
        failure = ScanError(image_path, error.kind, error.message)
        return QueryResult(None, failure, [], ScanResult())
    except OSError as error:
        failure = ScanError(image_path, ErrorKind.OTHER, f"It could not be read: {error}")
        return QueryResult(None, failure, [], ScanResult())
    apart_from_image = _apart_from(image, ignored)
    library = _scan(
        library_roots, "library", cache, options, progress, cancel,
        sizes_elsewhere={size for size, _ in apart_from_image},
    )
    if library.cancelled:
        return QueryResult(image, None, [], library, cancelled=True)
    index = _build_index(
        [
            r for r in library.records
            if not (r.size == image.size and _same_file(r.path, image.path))
        ],
        match_transforms,
        cancel,
    )
    if index is None:
        return QueryResult(image, None, [], library, cancelled=True)
    matches = [
        match for match in _matches(index, image, similarity)
        if content_id(match.record) not in apart_from_image
    ]
    return QueryResult(image, None, matches, library)


def _apart_from(image: ImageRecord, ignored: Sequence[IgnoredPair]) -> set[ContentId]:
    """The contents the user said are not duplicates of `image`."""
    own = content_id(image)
    apart: set[ContentId] = set()
    for entry in ignored:
        if entry.first == own:
            apart.add(entry.second)
        elif entry.second == own:
            apart.add(entry.first)
    return apart


def new_vs_library(
    new_roots: Sequence[str],
    library_roots: Sequence[str],
    *,
    similarity: float = DEFAULT_SIMILARITY,
    match_transforms: bool = False,
    cache: HashCache | None = None,
    options: scanner.ScanOptions | None = None,
    progress: LibraryProgress | None = None,
    cancel: CancelToken | None = None,
) -> NewVsLibraryResult:
    """Per folder under `new_roots`: which images are already in the library, which are new.

    A new folder may lie inside the library (an import folder); its own files then never
    count as library copies of themselves or of each other."""
    # The new folders' sizes first (a stat walk): library files of those sizes get a digest,
    # so byte copies in the new folders take the library's records instead of decoding.
    new_sizes = {
        found.size
        for found in discover(
            new_roots,
            include_hidden=bool(options and options.include_hidden),
            cancel=cancel,
            follow_links=bool(options and options.follow_links),
        ).files
    }
    library_scan = _scan(
        library_roots, "library", cache, options, progress, cancel, sizes_elsewhere=new_sizes
    )
    result = NewVsLibraryResult(library_scan=library_scan, cancelled=library_scan.cancelled)
    if result.cancelled:
        return result
    result.new_scan = _scan(
        new_roots, "new", cache, options, progress, cancel,
        sizes_elsewhere={record.size for record in library_scan.records},
        records_elsewhere=library_scan.records,
    )
    result.cancelled = result.new_scan.cancelled
    if result.cancelled:
        return result

    inside_new = ReferenceFolders([str(Path(root).absolute()) for root in new_roots])
    new_files = _identities(result.new_scan.records)
    index = _build_index(
        [
            r for r in library_scan.records
            if not inside_new.contains(r.path) and not _is_one_of(r, new_files)
        ],
        match_transforms,
        cancel,
    )
    if index is None:
        result.cancelled = True
        return result
    by_folder: dict[str, tuple[list[tuple[ImageRecord, LibraryMatch]], list[ImageRecord]]] = {}
    for record in sorted(result.new_scan.records, key=lambda r: r.path):
        if cancel is not None and cancel.cancelled:
            result.cancelled = True
            return result
        present, new = by_folder.setdefault(str(Path(record.path).parent), ([], []))
        matches = _matches(index, record, similarity)
        if matches:
            present.append((record, matches[0]))
        else:
            new.append(record)
    result.folders = [
        FolderReport(folder, tuple(present), tuple(new))
        for folder, (present, new) in sorted(by_folder.items())
    ]
    return result


def _scan(
    roots: Sequence[str],
    label: str,
    cache: HashCache | None,
    options: scanner.ScanOptions | None,
    progress: LibraryProgress | None,
    cancel: CancelToken | None,
    *,
    sizes_elsewhere: Collection[int] = (),
    records_elsewhere: Sequence[ImageRecord] = (),
) -> ScanResult:
    def report(update: ScanProgress) -> None:
        if progress is not None:
            progress(label, update)

    return scanner.scan(
        list(roots),
        cache=cache,
        options=options,
        progress=report,
        cancel=cancel,
        sizes_elsewhere=sizes_elsewhere,
        records_elsewhere=records_elsewhere,
    )


def _build_index(
    records: list[ImageRecord], match_transforms: bool, cancel: CancelToken | None
) -> SimilarityIndex | _EmptyLibrary | None:
    """The library's index for lookups (no pair search inside it), or None if cancelled."""
    if cancel is not None and cancel.cancelled:
        return None
    if not records:
        return _EmptyLibrary()
    return SimilarityIndex.for_lookup(records, match_transforms=match_transforms)


class _EmptyLibrary:
    """Stands in for the index of a library without images (nothing to build)."""

    def matches(
        self, record: ImageRecord, similarity: float
    ) -> list[tuple[ImageRecord, int, float]]:
        return []


def _matches(
    index: SimilarityIndex | _EmptyLibrary, image: ImageRecord, similarity: float
) -> list[LibraryMatch]:
    found = [
        LibraryMatch(record, distance, percent, _byte_identical(record, image))
        for record, distance, percent in index.matches(image, similarity)
        if not (record.size == image.size and _same_file(record.path, image.path))
    ]
    found.sort(key=lambda match: (not match.exact, match.distance, match.record.path))
    return found


def _byte_identical(candidate: ImageRecord, image: ImageRecord) -> bool:
    if candidate.size != image.size:
        return False
    if candidate.content_digest is not None and image.content_digest is not None:
        return candidate.content_digest == image.content_digest
    try:
        return filecmp.cmp(candidate.path, image.path, shallow=False)
    except OSError:
        return False


def _same_file(first: str, second: str) -> bool:
    """One file under two names: a symlink, a hard link, a bind mount or another spelling
    on a case-insensitive disk. Never a copy of itself: deleting one name could lose both."""
    first_identity, second_identity = _identity(first), _identity(second)
    if first_identity is None or second_identity is None:
        return first == second
    return first_identity == second_identity


FileIdentity = tuple[int, int]
"""(device, inode): what every name of one file has in common."""


def _identity(path: str) -> FileIdentity | None:
    try:
        info = Path(path).stat()
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _identities(records: Sequence[ImageRecord]) -> dict[int, set[FileIdentity]]:
    """The identities of these files, by size (only files of equal size can be one file)."""
    by_size: dict[int, set[FileIdentity]] = {}
    for record in records:
        identity = _identity(record.path)
        if identity is not None:
            by_size.setdefault(record.size, set()).add(identity)
    return by_size


def _is_one_of(record: ImageRecord, identities: dict[int, set[FileIdentity]]) -> bool:
    same_size = identities.get(record.size)
    return bool(same_size) and _identity(record.path) in same_size
