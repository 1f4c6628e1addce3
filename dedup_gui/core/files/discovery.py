"""Walk the chosen folders and list the candidate image files, each file once.

- One visit per file: files are keyed by (device, inode), so hard links, symlinks and
  overlapping roots all collapse to one path (a real path beats a path through a symlink,
  then the alphabetically first one).
- Folder symlinks are followed after the plain tree, so loops end at the first folder
  already visited and files keep their real paths when both are in scope. A chosen folder
  that is itself a link is walked as the user named it, after the plain roots and before
  any link inside it, so a link to a sibling inside it never names that sibling's files.
- A folder or file link is followed only when its resolved target lies inside a chosen root
  (a root that is itself a link counts as its target); any other link is listed once as a
  LINK_NOT_FOLLOWED ScanError, so `parent -> ..` or a link to `/` cannot pull the rest of
  the disk into the scan. `follow_links=True` follows links wherever they lead. Only
  entries that are links are resolved: plain files and folders cost no extra syscall.
- `excluded` folders are not walked, and a file or folder reached inside one another way
  (a link, another spelling) is left out too, except a root: a chosen folder inside an
  excluded one is walked (the deepest of the roots and excluded folders decides).
- Unreadable folders and self-referencing symlinks become ScanErrors; the walk goes on.
- Hidden (dot or hidden-attribute) and system folders and files are skipped unless asked.
- Files with an image extension are candidates; any other file is a candidate whose content
  has to be sniffed (`FileStat.needs_sniff`), which the scanner does only on a cache miss.
"""

from __future__ import annotations

import errno
import os
import stat as stat_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from dedup_gui.core.files.folder_roles import FolderRole, FolderRoles
from dedup_gui.core.files.imagetypes import has_image_extension
from dedup_gui.core.models import CancelToken, ErrorKind, ScanError

SYSTEM_FOLDER_NAMES = frozenset(
    {
        "$recycle.bin",
        "system volume information",
        "lost+found",
        "@eadir",  # Synology thumbnails
        "#recycle",
        "__macosx",
        "$recycle",
    }
)
_WINDOWS_HIDDEN = getattr(stat_module, "FILE_ATTRIBUTE_HIDDEN", 2)
_WINDOWS_SYSTEM = getattr(stat_module, "FILE_ATTRIBUTE_SYSTEM", 4)


class FileStat(NamedTuple):
    """One file found (a named tuple: 100,000 of them are made on every scan, and a tuple
    is made several times faster than a frozen dataclass)."""

    path: str
    size: int
    mtime_ns: int
    needs_sniff: bool = False
    """No image extension: only a look at the first bytes decides."""
    dev: int = 0
    ino: int = 0
    """st_dev and st_ino: the file's identity, which a move on one file system keeps."""
    ctime_ns: int = 0


@dataclass(slots=True)
class Discovery:
    files: list[FileStat] = field(default_factory=list)
    """Sorted by path."""
    errors: list[ScanError] = field(default_factory=list)
    cancelled: bool = False


PLAIN, UNDER_LINKED_ROOT, THROUGH_LINK = 0, 1, 2
"""How a file was reached, best first: plain folders from a root that is no link; plain
folders below a root that is a link; a link inside a root."""


_Found = tuple[FileStat, int]
"""A file and how it was reached."""
ON_FOUND_EVERY = 256
"""`on_found` is told of the count every this many files (and at each folder's end)."""
_HIDDEN_ATTRIBUTES = os.name == "nt"


def discover(
    roots: Sequence[str | os.PathLike[str]],
    *,
    include_hidden: bool = False,
    cancel: CancelToken | None = None,
    on_found: Callable[[int, str], None] | None = None,
    follow_links: bool = False,
    excluded: Sequence[str | os.PathLike[str]] = (),
) -> Discovery:
    # abspath, not resolve(): paths stay as the user knows them, symlinks included.
    chosen = sorted({os.path.abspath(os.fspath(root)) for root in roots})  # noqa: PTH100
    scope = None if follow_links else _Scope(chosen)
    roles = FolderRoles(
        [(root, FolderRole.NORMAL) for root in chosen]
        + [(os.fspath(folder), FolderRole.EXCLUDED) for folder in excluded]
    ) if excluded else None
    walker = _Walker(include_hidden, cancel, on_found, scope, roles)
    for root in chosen:
        walker.add_root(root)
    walker.run()
    files = sorted((stat for stat, _ in walker.by_inode.values()), key=attrgetter("path"))
    errors = sorted(walker.errors, key=lambda e: e.path)
    return Discovery(files=files, errors=errors, cancelled=walker.cancelled)


class _Scope:
    """The chosen roots, resolved: what a link may lead into and still be followed."""

    def __init__(self, roots: Sequence[str]) -> None:
        resolved = {_comparable(os.path.realpath(root)) for root in roots}
        self._roots = frozenset(resolved)
        self._prefixes = tuple(sorted(root.rstrip(os.sep) + os.sep for root in resolved))

    def target_outside(self, link: str) -> str | None:
        """The resolved target of `link` when it lies outside every root, else None."""
        target = os.path.realpath(link)
        comparable = _comparable(target)
        if comparable in self._roots or comparable.startswith(self._prefixes):
            return None
        return target


def _comparable(path: str) -> str:
    return os.path.normcase(path)


class _Walker:
    def __init__(
        self,
        include_hidden: bool,
        cancel: CancelToken | None,
        on_found: Callable[[int, str], None] | None,
        scope: _Scope | None,
        roles: FolderRoles | None = None,
    ) -> None:
        self.include_hidden = include_hidden
        self.scope = scope
        self.roles = roles
        self.cancel = cancel
        self.on_found = on_found
        self.by_inode: dict[tuple[int, int], _Found] = {}
        self.errors: list[ScanError] = []
        self.cancelled = False
        self._visited_folders: set[tuple[int, int]] = set()
        self._plain: list[str] = []
        self._under_linked_roots: list[str] = []
        self._through_symlinks: list[str] = []

    def add_root(self, root: str) -> None:
        if self.roles is not None and self.roles.role_of(root) is FolderRole.EXCLUDED:
            return
        try:
            info = Path(root).stat()
        except OSError as error:
            self._folder_error(root, error)
            return
        reached = UNDER_LINKED_ROOT if Path(root).is_symlink() else PLAIN
        if stat_module.S_ISDIR(info.st_mode):
            (self._plain if reached == PLAIN else self._under_linked_roots).append(root)
        elif stat_module.S_ISREG(info.st_mode):
            self._add_file(root, info, reached=reached, needs_sniff=not has_image_extension(root))

    def run(self) -> None:
        # Plain folders first (depth first), then those below a root that is a link, folder
        # symlinks only once nothing else is left.
        while self._plain or self._under_linked_roots or self._through_symlinks:
            if self.cancel is not None and self.cancel.cancelled:
                self.cancelled = True
                return
            if self._plain:
                self._visit(self._plain.pop(), reached=PLAIN)
            elif self._under_linked_roots:
                self._visit(self._under_linked_roots.pop(), reached=UNDER_LINKED_ROOT)
            else:
                self._visit(self._through_symlinks.pop(0), reached=THROUGH_LINK)

    def _visit(self, folder: str, *, reached: int) -> None:
        if self.roles is not None and self.roles.role_of_folder(folder) is FolderRole.EXCLUDED:
            return
        try:
            info = Path(folder).stat()
        except OSError as error:
            self._folder_error(folder, error)
            return
        key = (info.st_dev, info.st_ino)
        if key in self._visited_folders:
            return
        self._visited_folders.add(key)
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            self._folder_error(folder, error)
            return
        subfolders: list[str] = []
        include_hidden, visit_entry = self.include_hidden, self._visit_entry
        for entry in listing:
            name = entry.name
            if not include_hidden and (
                is_hidden_name(name) or (_HIDDEN_ATTRIBUTES and _has_hidden_attribute(entry))
            ):
                continue
            visit_entry(entry, reached, subfolders)
        if self.on_found is not None and self.by_inode:
            self.on_found(len(self.by_inode), folder)
        if reached == THROUGH_LINK:
            self._through_symlinks.extend(subfolders)
        else:  # popped from the end: name order
            queue = self._plain if reached == PLAIN else self._under_linked_roots
            queue.extend(reversed(subfolders))

    def _visit_entry(self, entry: os.DirEntry[str], reached: int, subfolders: list[str]) -> None:
        """A listed entry that is not hidden (or hidden ones are wanted)."""
        try:
            is_link = entry.is_symlink()
            info = entry.stat()  # follows symlinks
        except OSError as error:
            if error.errno == errno.ELOOP:
                self.errors.append(
                    ScanError(entry.path, ErrorKind.SYMLINK_LOOP, "The link points back to itself.")
                )
            elif isinstance(error, PermissionError):  # e.g. a folder that can be listed only
                self.errors.append(ScanError(
                    entry.path, ErrorKind.PERMISSION, "It cannot be examined (permission denied)."
                ))
            elif not isinstance(error, (FileNotFoundError, NotADirectoryError)):
                self.errors.append(ScanError(
                    entry.path, ErrorKind.OTHER,
                    f"It cannot be examined ({error.strerror or error}).",
                ))
            return  # a dangling link or a file removed since the listing: nothing to scan
        if is_link and self._leads_outside(entry.path, info):
            return
        if stat_module.S_ISDIR(info.st_mode):
            if is_link:
                self._through_symlinks.append(entry.path)
            else:
                subfolders.append(entry.path)
        elif stat_module.S_ISREG(info.st_mode):
            self._add_file(
                entry.path,
                info,
                reached=THROUGH_LINK if is_link else reached,
                needs_sniff=not has_image_extension(entry.name),
            )

    def _add_file(
        self, path: str, info: os.stat_result, *, reached: int, needs_sniff: bool
    ) -> None:
        if self.roles is not None and self._is_excluded(path, via_symlink=reached != PLAIN):
            return
        stat = FileStat(
            path, info.st_size, info.st_mtime_ns, needs_sniff,
            info.st_dev, info.st_ino, info.st_ctime_ns,
        )
        key = (info.st_dev, info.st_ino)
        known = self.by_inode.get(key)
        if known is None:
            self.by_inode[key] = (stat, reached)
            if self.on_found is not None and len(self.by_inode) % ON_FOUND_EVERY == 1:
                self.on_found(len(self.by_inode), path)
        elif (reached, path) < (known[1], known[0].path):
            self.by_inode[key] = (stat, reached)

    def _is_excluded(self, path: str, via_symlink: bool) -> bool:
        """A file listed as excluded itself, or (through a link) one inside an excluded
        folder: the folders walked were checked already."""
        if self.roles is None:
            return False
        if self.roles.role_of(path) is FolderRole.EXCLUDED:
            return True
        return via_symlink and self.roles.role_of(os.path.realpath(path)) is FolderRole.EXCLUDED

    def _leads_outside(self, link: str, info: os.stat_result) -> bool:
        """Whether `link` is not to be followed (and then it is reported, once)."""
        if self.scope is None:
            return False
        if not (stat_module.S_ISDIR(info.st_mode) or stat_module.S_ISREG(info.st_mode)):
            return False  # a link to a device or pipe: skipped below like the thing itself
        target = self.scope.target_outside(link)
        if target is None:
            return False
        self.errors.append(ScanError(
            link, ErrorKind.LINK_NOT_FOLLOWED,
            f"Not followed: the link leads outside the chosen folders ({target}).",
        ))
        return True

    def _folder_error(self, folder: str, error: OSError) -> None:
        self.errors.append(ScanError(folder, *_folder_problem(error)))


def is_hidden_name(name: str) -> bool:
    """A dot file or folder, or a system folder: skipped unless hidden ones are wanted
    (Windows' hidden attribute aside, which needs the entry)."""
    return name[:1] == "." or name.lower() in SYSTEM_FOLDER_NAMES


def _has_hidden_attribute(entry: os.DirEntry[str]) -> bool:
    """Windows: the hidden or system attribute."""
    try:
        attributes = entry.stat(follow_symlinks=False).st_file_attributes
    except OSError:
        return False
    return bool(attributes & (_WINDOWS_HIDDEN | _WINDOWS_SYSTEM))


def _folder_problem(error: OSError) -> tuple[ErrorKind, str]:
    if error.errno == errno.ELOOP:
        return ErrorKind.SYMLINK_LOOP, "The folder link points back to itself."
    if isinstance(error, PermissionError):
        return ErrorKind.UNREADABLE_FOLDER, "The folder cannot be read (permission denied)."
    if isinstance(error, FileNotFoundError):
        return ErrorKind.UNREADABLE_FOLDER, "The folder does not exist (or was removed)."
    return ErrorKind.UNREADABLE_FOLDER, f"The folder cannot be read ({error.strerror or error})."
