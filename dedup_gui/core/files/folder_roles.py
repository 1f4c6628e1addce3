"""The role of each folder the user listed: Normal, Protected or Excluded. Listed folders may
nest; the deepest listed folder that holds a path decides its role, so a subfolder's own role
wins over its parent's at any depth."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path, PurePath


class FolderRole(str, Enum):
    NORMAL = "normal"
    """Scanned; copies may be suggested for the trash."""
    PROTECTED = "protected"
    """Scanned, never trashed, preferred as the keeper (a reference folder)."""
    EXCLUDED = "excluded"
    """Not scanned at all."""


class NotProtected(str):
    """A folder given among the reference folders (`keeper.ReferenceFolders`) whose files
    are not protected: a Normal or Excluded subfolder of a protected folder. Never equal to
    the same folder given as a plain string, so rankings cached by their reference folders
    tell "protected" and "not protected" apart."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NotProtected) and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((NotProtected, str(self)))

    def __repr__(self) -> str:
        return f"NotProtected({str.__repr__(self)})"


class FolderRoles:
    """(path, role) pairs, for `role_of(path)`. Paths are compared by whole components
    ("/a/ref" does not hold "/a/reference/x.jpg"), normalised like `keeper.ReferenceFolders`;
    a folder is also known by its real path and by its (device, inode), so a symlinked or
    bind-mounted spelling of it has its role. Looks on disk once per folder asked about."""

    def __init__(self, pairs: Iterable[tuple[str, FolderRole]]) -> None:
        # A later pair for the same folder replaces an earlier one.
        self._pairs = dict(
            (os.path.abspath(path), FolderRole(role))  # noqa: PTH100 (the user's spelling)
            for path, role in pairs
        )
        self._by_spelling: dict[str, FolderRole] = {}
        self._by_identity: dict[tuple[int, int], FolderRole] = {}
        for path, role in self._pairs.items():
            for spelling in (_normalised(path), _normalised(os.path.realpath(path))):
                self._by_spelling.setdefault(spelling, role)
        for path, role in self._pairs.items():
            identity = _identity(path)
            if identity is not None:
                self._by_identity.setdefault(identity, role)
        self._by_folder: dict[str, FolderRole | None] = {}

    @classmethod
    def from_reference_folders(cls, folders: Sequence[str]) -> FolderRoles | None:
        """The roles that `reference_folders()` stands for (NotProtected as Normal); None
        when there is no NotProtected folder, so "inside a protected folder" is the answer."""
        if not any(isinstance(folder, NotProtected) for folder in folders):
            return None
        normal, protected = FolderRole.NORMAL, FolderRole.PROTECTED
        return cls(
            (folder, normal if isinstance(folder, NotProtected) else protected)
            for folder in folders
        )

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def pairs(self) -> list[tuple[str, FolderRole]]:
        return list(self._pairs.items())

    def role_of(self, path: str) -> FolderRole | None:
        """The role of the deepest listed folder (or listed file) holding `path`; None when
        no listed folder holds it."""
        normalised = _normalised(path)
        own = self._by_spelling.get(normalised)
        if own is not None:
            return own
        return self._folder_role(os.path.dirname(normalised))  # noqa: PTH120 (per file)

    def role_of_folder(self, folder: str) -> FolderRole | None:
        """`role_of` for a folder, which is also recognised by its own (device, inode): a
        link to a listed folder has that folder's role."""
        return self._folder_role(_normalised(folder))

    def is_scanned(self, path: str) -> bool:
        return self.role_of(path) not in (None, FolderRole.EXCLUDED)

    def scanned(self, paths: Iterable[str]) -> list[bool]:
        """`is_scanned` of each path, each folder normalised once (a scan's 100,000 files
        share a few hundred folders; `_normalised` per file took a second)."""
        by_spelling = self._by_spelling
        spelling_folders = {os.path.dirname(spelling) for spelling in by_spelling}  # noqa: PTH120
        # folder as spelled -> (normalised, its files' answer; None: a file there is listed)
        folders: dict[str, tuple[str, bool | None]] = {}
        answers: list[bool] = []
        for path in paths:
            folder, name = os.path.split(path)
            if name in ("", os.curdir, os.pardir) or os.altsep:  # not a plain file name
                answers.append(self.is_scanned(path))
                continue
            known = folders.get(folder)
            if known is None:
                normalised = _normalised(folder)
                role = self._folder_role(normalised)
                scanned = role not in (None, FolderRole.EXCLUDED)
                known = folders[folder] = (
                    normalised, None if normalised in spelling_folders else scanned
                )
            if known[1] is not None:
                answers.append(known[1])
                continue
            # As role_of: a listed file (or folder) of this spelling has its own role.
            spelled = os.path.join(known[0], os.path.normcase(name))  # noqa: PTH118
            own = by_spelling.get(spelled)
            role = own if own is not None else self._folder_role(known[0])
            answers.append(role not in (None, FolderRole.EXCLUDED))
        return answers

    def scan_roots(self) -> list[str]:
        """The listed folders to walk: every one but the excluded ones."""
        return [path for path, role in self._pairs.items() if role is not FolderRole.EXCLUDED]

    def excluded_folders(self) -> list[str]:
        return [path for path, role in self._pairs.items() if role is FolderRole.EXCLUDED]

    def reference_folders(self) -> tuple[str, ...]:
        """What `keeper.ReferenceFolders` (and so `SimilarityIndex.groups`) needs to give
        every file the protection its role says: the protected folders, and as NotProtected
        each other folder whose enclosing listed folder is protected."""
        folders: list[str] = []
        for path, role in self._pairs.items():
            if role is FolderRole.PROTECTED:
                folders.append(path)
            elif self._enclosing_role(path) is FolderRole.PROTECTED:
                folders.append(NotProtected(path))
        return tuple(folders)

    def _enclosing_role(self, path: str) -> FolderRole | None:
        parent = os.path.dirname(_normalised(path))  # noqa: PTH120
        return None if parent == _normalised(path) else self._folder_role(parent)

    def _folder_role(self, folder: str) -> FolderRole | None:
        if folder in self._by_folder:
            return self._by_folder[folder]
        role = self._by_spelling.get(folder)
        if role is None and self._by_identity:
            identity = _identity(folder)
            role = self._by_identity.get(identity) if identity is not None else None
        if role is None:
            parent = os.path.dirname(folder)  # noqa: PTH120
            role = self._folder_role(parent) if parent != folder else None
        self._by_folder[folder] = role
        return role


def newly_scanned(before: FolderRoles, after: FolderRoles) -> bool:
    """Whether `after` scans some place that `before` did not (a folder added, or no longer
    excluded), so a rescan is needed to see its photos. Roles only change at listed
    folders, so looking at those of both is enough."""
    listed = {path for roles in (before, after) for path, _ in roles.pairs()}
    return any(after.is_scanned(path) and not before.is_scanned(path) for path in listed)


def _normalised(path: str) -> str:
    absolute = path if PurePath(path).is_absolute() else str(Path(path).absolute())
    return os.path.normcase(os.path.normpath(absolute))


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = Path(path).stat()
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino
