"""Which folders of the list are "my library" for the library questions: the Protected
folders when the user marked any, else every scanned folder."""

from __future__ import annotations

from dataclasses import dataclass

from dedup_gui.app.formatting import format_count
from dedup_gui.core.files.folder_roles import FolderRole, FolderRoles
from dedup_gui.core.scanning.scanner import ScanOptions


@dataclass(frozen=True, slots=True)
class LibraryScope:
    roots: tuple[str, ...]
    protected_only: bool
    """The roots are the Protected folders (not every scanned folder)."""
    excluded: tuple[str, ...]

    def describe(self) -> str:
        """One line for the UI: what "your library" is right now."""
        if not self.roots:
            return "Add your library's folders to the list first."
        if self.protected_only and len(self.roots) == 1:
            return "Your library: the Protected folder."
        if self.protected_only:
            return f"Your library: the {len(self.roots):,} Protected folders."
        folders = (
            "the listed folder" if len(self.roots) == 1
            else f"all {format_count(len(self.roots), 'listed folder')}"
        )
        return f"Your library: {folders} (mark some Protected to use only those)."

    def options(self, follow_links: bool) -> ScanOptions:
        return ScanOptions(follow_links=follow_links, excluded_folders=self.excluded)


def library_scope(roles: FolderRoles) -> LibraryScope:
    pairs = roles.pairs()
    protected = tuple(path for path, role in pairs if role is FolderRole.PROTECTED)
    excluded = tuple(roles.excluded_folders())
    if protected:
        return LibraryScope(protected, True, excluded)
    return LibraryScope(tuple(roles.scan_roots()), False, excluded)
