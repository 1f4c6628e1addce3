"""Folder roles: the deepest listed folder decides, and protection follows the same rule."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from dedup_gui.core.files.folder_roles import FolderRole, FolderRoles, NotProtected, newly_scanned
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import ReferenceFolders, choose_keeper
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.test_library import save

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")

NORMAL, PROTECTED, EXCLUDED = FolderRole.NORMAL, FolderRole.PROTECTED, FolderRole.EXCLUDED


def test_the_deepest_listed_folder_decides_at_every_level(tmp_path):
    top = tmp_path / "photos"
    roles = FolderRoles([
        (str(top), PROTECTED),
        (str(top / "edits"), NORMAL),
        (str(top / "edits" / "keepers"), PROTECTED),
        (str(top / "edits" / "keepers" / "junk"), EXCLUDED),
    ])
    assert roles.role_of(str(top / "a.jpg")) is PROTECTED
    assert roles.role_of(str(top / "trips" / "a.jpg")) is PROTECTED
    assert roles.role_of(str(top / "edits" / "a.jpg")) is NORMAL
    assert roles.role_of(str(top / "edits" / "more" / "a.jpg")) is NORMAL
    assert roles.role_of(str(top / "edits" / "keepers" / "a.jpg")) is PROTECTED
    assert roles.role_of(str(top / "edits" / "keepers" / "junk" / "a.jpg")) is EXCLUDED
    assert roles.role_of(str(tmp_path / "elsewhere.jpg")) is None
    assert roles.role_of(str(top)) is PROTECTED  # a listed folder itself


def test_the_order_the_folders_are_listed_in_does_not_matter(tmp_path):
    pairs = [(str(tmp_path / "a" / "b"), NORMAL), (str(tmp_path / "a"), PROTECTED)]
    for order in (pairs, pairs[::-1]):
        assert FolderRoles(order).role_of(str(tmp_path / "a" / "b" / "x.jpg")) is NORMAL
        assert FolderRoles(order).role_of(str(tmp_path / "a" / "x.jpg")) is PROTECTED


def test_a_sibling_with_a_longer_name_is_not_inside(tmp_path):
    roles = FolderRoles([(str(tmp_path / "a"), NORMAL), (str(tmp_path / "a" / "ref"), PROTECTED)])
    assert roles.role_of(str(tmp_path / "a" / "ref" / "x.jpg")) is PROTECTED
    assert roles.role_of(str(tmp_path / "a" / "reference" / "x.jpg")) is NORMAL
    assert roles.role_of(str(tmp_path / "a" / "ref.jpg")) is NORMAL


def test_other_spellings_of_a_folder_have_its_role(tmp_path):
    roles = FolderRoles([(f"{tmp_path}//a/./", PROTECTED), (str(tmp_path / "a" / "b"), NORMAL)])
    assert roles.role_of(str(tmp_path / "a" / "x.jpg")) is PROTECTED
    assert roles.role_of(f"{tmp_path}/a/b/../x.jpg") is PROTECTED
    assert roles.role_of(f"{tmp_path}/a/b//x.jpg") is NORMAL


@needs_symlinks
def test_a_folder_listed_through_a_symlink_has_its_role_under_its_real_path_too(tmp_path):
    real = tmp_path / "library"
    (real / "edits").mkdir(parents=True)
    shortcut = tmp_path / "Pictures"
    shortcut.symlink_to(real, target_is_directory=True)
    roles = FolderRoles([(str(shortcut), PROTECTED), (str(shortcut / "edits"), NORMAL)])
    assert roles.role_of(str(real / "a.jpg")) is PROTECTED
    assert roles.role_of(str(real / "edits" / "a.jpg")) is NORMAL
    assert roles.role_of(str(shortcut / "edits" / "a.jpg")) is NORMAL


@needs_symlinks
def test_a_link_to_a_listed_folder_is_recognised_as_that_folder(tmp_path):
    excluded = tmp_path / "library" / "junk"
    excluded.mkdir(parents=True)
    link = tmp_path / "library" / "shortcut"
    link.symlink_to(excluded, target_is_directory=True)
    roles = FolderRoles([(str(tmp_path / "library"), NORMAL), (str(excluded), EXCLUDED)])
    assert roles.role_of_folder(str(link)) is EXCLUDED
    assert roles.role_of(str(link / "a.jpg")) is EXCLUDED


def test_the_reference_folders_carry_the_unprotected_subfolders(tmp_path):
    top = tmp_path / "archive"
    roles = FolderRoles([
        (str(tmp_path / "inbox"), NORMAL),
        (str(top), PROTECTED),
        (str(top / "edits"), NORMAL),
        (str(top / "edits" / "deeper"), EXCLUDED),  # inside a Normal one: nothing to say
        (str(tmp_path / "inbox" / "best"), PROTECTED),
    ])
    folders = roles.reference_folders()
    assert folders == (str(top), NotProtected(str(top / "edits")), str(tmp_path / "inbox" / "best"))
    assert folders != (str(top), str(top / "edits"), str(tmp_path / "inbox" / "best"))
    references = ReferenceFolders(folders)
    assert references.contains(str(top / "a.jpg"))
    assert not references.contains(str(top / "edits" / "a.jpg"))
    assert not references.contains(str(top / "edits" / "deeper" / "a.jpg"))
    assert references.contains(str(tmp_path / "inbox" / "best" / "a.jpg"))
    assert not references.contains(str(tmp_path / "inbox" / "a.jpg"))


def test_without_nested_roles_the_reference_folders_are_plain_folders(tmp_path):
    roles = FolderRoles([(str(tmp_path / "a"), PROTECTED), (str(tmp_path / "b"), NORMAL)])
    assert roles.reference_folders() == (str(tmp_path / "a"),)
    assert all(type(folder) is str for folder in roles.reference_folders())


def test_a_normal_subfolder_of_a_protected_folder_loses_its_protection_in_the_groups(tmp_path):
    """The trash planner reads GroupMember.is_reference: it must say "not protected"."""
    archive = tmp_path / "archive"
    kept = save(3, archive / "a.jpg")
    unprotected = save(3, archive / "edits" / "a_small.jpg", size=(160, 120))
    roles = FolderRoles([(str(archive), PROTECTED), (str(archive / "edits"), NORMAL)])
    records = scan([archive], options=ScanOptions(workers=1)).records

    [group] = SimilarityIndex.build(records).groups(
        DEFAULT_SIMILARITY, reference_folders=roles.reference_folders()
    )

    by_path = {member.record.path: member for member in group.members}
    assert by_path[str(kept)].is_reference and by_path[str(kept)].keep
    assert not by_path[str(unprotected)].is_reference
    assert not by_path[str(unprotected)].keep


def test_a_protected_subfolder_of_a_normal_folder_holds_the_keeper(tmp_path):
    library = tmp_path / "library"
    big = save(4, library / "big.png")
    small = save(4, library / "best" / "small.jpg", size=(160, 120))
    roles = FolderRoles([(str(library), NORMAL), (str(library / "best"), PROTECTED)])
    records = scan([library], options=ScanOptions(workers=1)).records
    assert {record.path for record in records} == {str(big), str(small)}
    keeper = choose_keeper(records, reference_folders=roles.reference_folders())
    assert records[keeper].path == str(small)  # though the other copy has more pixels


def test_newly_scanned_tells_when_a_rescan_is_needed(tmp_path):
    library, junk = str(tmp_path / "library"), str(tmp_path / "library" / "junk")
    plain = FolderRoles([(library, NORMAL)])
    with_junk = FolderRoles([(library, NORMAL), (junk, EXCLUDED)])
    protected_junk = FolderRoles([(library, NORMAL), (junk, PROTECTED)])
    assert newly_scanned(FolderRoles([]), plain)
    assert newly_scanned(with_junk, plain)  # the exclusion was removed
    assert newly_scanned(with_junk, protected_junk)  # excluded no more
    assert not newly_scanned(plain, with_junk)  # less to scan: the results just shrink
    assert not newly_scanned(plain, protected_junk)  # scanned already
    assert not newly_scanned(plain, FolderRoles([]))


def test_scan_roots_and_excluded_folders(tmp_path):
    library, junk = os.fspath(tmp_path / "library"), os.fspath(Path(tmp_path) / "library" / "j")
    roles = FolderRoles([(library, NORMAL), (junk, EXCLUDED), (junk + "/keep", PROTECTED)])
    assert roles.scan_roots() == [library, junk + "/keep"]
    assert roles.excluded_folders() == [junk]


@needs_symlinks
def test_scanned_answers_as_is_scanned_for_every_spelling(tmp_path, monkeypatch):
    top = tmp_path / "photos"
    (top / "junk").mkdir(parents=True)
    (top / "keep").mkdir()
    listed_file = top / "junk" / "wanted.jpg"
    (tmp_path / "link").symlink_to(top / "junk")
    roles = FolderRoles([
        (str(top), NORMAL), (str(top / "junk"), EXCLUDED), (str(listed_file), PROTECTED),
        (str(top / "keep"), PROTECTED),
    ])
    monkeypatch.chdir(tmp_path)
    paths = [
        str(top / "a.jpg"), str(top / "junk" / "a.jpg"), str(listed_file),
        str(top / "junk" / "sub" / "a.jpg"), str(top / "keep" / "a.jpg"),
        f"{top}//junk/./a.jpg", f"{top}/keep/../junk/wanted.jpg", f"{top}/keep/",
        str(tmp_path / "link" / "a.jpg"), "photos/a.jpg", "photos/junk/wanted.jpg",
        "a.jpg", str(top / "junk"), str(top / "junk" / ".."), str(tmp_path / "elsewhere.jpg"),
    ]
    expected = [roles.is_scanned(path) for path in paths]
    assert FolderRoles(roles.pairs()).scanned(paths) == expected
    assert expected.count(True) >= 5 and expected.count(False) >= 4
