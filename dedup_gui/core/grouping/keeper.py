"""Which copy of a duplicate group to keep: an ordered, configurable chain of rules."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath

import numpy as np

from dedup_gui.core.files.folder_roles import FolderRole, FolderRoles, NotProtected
from dedup_gui.core.files.imagetypes import is_raw_format
from dedup_gui.core.grouping.keeper_rules import (
    DEFAULT_FORMAT_ORDER,
    DEFAULT_KEEPER_RULES,
    KeeperRule,
    RuleOrder,
)
from dedup_gui.core.grouping.originals import most_original
from dedup_gui.core.grouping.raw_pairs import raw_formats
from dedup_gui.core.models import ImageRecord

ChainRule = KeeperRule | RuleOrder
"""An element of a keeper chain: a rule, or a rule with its ordered list."""


def rule_kind(rule: ChainRule) -> KeeperRule:
    return rule.rule if isinstance(rule, RuleOrder) else rule


def _order_of(rule: ChainRule) -> tuple[str, ...]:
    if isinstance(rule, RuleOrder):
        return rule.order
    return DEFAULT_FORMAT_ORDER if rule is KeeperRule.FORMAT_PREFERENCE else ()


def _folder_position(path: str, folders: Sequence[str]) -> int:
    """Position in `folders` of the first one holding `path` (whole path components)."""
    for position, folder in enumerate(folders):
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        if path.startswith(prefix):
            return position
    return len(folders)


def _format_position(image_format: str, formats: Sequence[str]) -> int:
    wanted = image_format.upper()
    return next((k for k, name in enumerate(formats) if name.upper() == wanted), len(formats))


def _ordered_key(record: ImageRecord, rule: ChainRule) -> int | None:
    """The key of the three newer rules (None for the others)."""
    kind = rule_kind(rule)
    if kind is KeeperRule.MODIFICATION_DATE:
        return record.mtime_ns
    if kind is KeeperRule.FOLDER_PRIORITY:
        return _folder_position(record.path, _order_of(rule))
    if kind is KeeperRule.FORMAT_PREFERENCE:
        return _format_position(record.format, _order_of(rule))
    return None



KeeperKey = tuple[object, ...]


_PROTECTING_RULES = (KeeperRule.REFERENCE_FOLDER, KeeperRule.RAW_FIRST)
"""Always first when the user picks a preference: a copy in a protected folder is the one
kept, and a camera RAW is never trashed for a JPEG of it."""


def rules_preferring(rule: KeeperRule) -> tuple[KeeperRule, ...]:
    """The default chain with `rule` deciding first after the protecting rules; where it
    does not settle it, the original (not an edit of it) is preferred next."""
    if rule in (*_PROTECTING_RULES, KeeperRule.ORIGINAL):
        return DEFAULT_KEEPER_RULES
    after = (rule, KeeperRule.ORIGINAL)
    rest = tuple(r for r in DEFAULT_KEEPER_RULES if r not in (*_PROTECTING_RULES, *after))
    return (*_PROTECTING_RULES, *after, *rest)


def _is_absolute(path: str) -> bool:
    # PurePath parses the whole path: ten times slower, and this runs once per record.
    return PurePath(path).is_absolute() if os.name == "nt" else path.startswith("/")


def _normalised(path: str) -> str:
    absolute = path if _is_absolute(path) else str(Path(path).absolute())
    return os.path.normcase(os.path.normpath(absolute))


class ReferenceFolders:
    """Reference folders normalised once, for fast path-component-aware membership tests."""

    def __init__(self, folders: Sequence[str]) -> None:
        # A NotProtected folder (a Normal or Excluded subfolder of a protected one) is an
        # exception: then the deepest folder given that holds a path decides.
        self._roles = FolderRoles.from_reference_folders(folders)
        folders = [folder for folder in folders if not isinstance(folder, NotProtected)]
        # A folder given through a symlink also protects its real path: the scan keeps a
        # file's real path when both are in scope.
        self._folders = tuple(
            dict.fromkeys(
                spelling
                for folder in folders
                for spelling in (_normalised(folder), _normalised(os.path.realpath(folder)))
            )
        )
        # "/photos/ref" contains "/photos/ref/a.jpg", not "/photos/reference/a.jpg".
        self._prefixes = tuple(
            folder if folder.endswith(os.sep) else folder + os.sep for folder in self._folders
        )
        # Other names of the same folders (a symlink to them, a bind mount, another spelling
        # on a case-insensitive disk) are recognised by (device, inode).
        self._identities = {
            identity for folder in self._folders if (identity := _identity(folder)) is not None
        }
        self._inside_by_folder: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._folders)

    def contains(self, path: str) -> bool:
        if self._roles is not None:
            return self._roles.role_of(path) is FolderRole.PROTECTED
        if not self._folders:
            return False
        normalised = _normalised(path)
        if normalised in self._folders or normalised.startswith(self._prefixes):
            return True
        return bool(self._identities) and self._is_inside(os.path.dirname(normalised))  # noqa: PTH120

    def _is_inside(self, folder: str) -> bool:
        """`folder` or one of its parents is a reference folder under another name."""
        known = self._inside_by_folder.get(folder)
        if known is None:
            parent = os.path.dirname(folder)  # noqa: PTH120 (strings: called per record)
            known = _identity(folder) in self._identities or (
                parent != folder and self._is_inside(parent)
            )
            self._inside_by_folder[folder] = known
        return known


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = Path(path).stat()
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def is_in_reference(path: str, reference_folders: Sequence[str]) -> bool:
    """True if `path` lies inside one of `reference_folders` (by whole path components,
    so /photos/ref does not contain /photos/reference-old/a.jpg)."""
    return ReferenceFolders(reference_folders).contains(path)


def keeper_key(
    record: ImageRecord, in_reference: bool, rules: Sequence[ChainRule]
) -> KeeperKey:
    """Sort key: the smallest key in a group is its keeper. The path is the final
    tie-break, so the choice never depends on input order."""
    key: list[object] = []
    for rule in rules:
        if rule is KeeperRule.REFERENCE_FOLDER:
            key.append(not in_reference)
        elif rule is KeeperRule.RAW_FIRST:
            key.append(not is_raw_format(record.format))
        elif rule is KeeperRule.RESOLUTION:
            key.append(-(record.width * record.height))
        elif rule is KeeperRule.FILE_SIZE:
            key.append(-record.size)
        elif rule is KeeperRule.CAPTURE_DATE:
            key.append((record.capture_time is None, record.capture_time or ""))
        elif rule is KeeperRule.SHORTER_PATH:
            key.append(len(record.path))
        elif (ordered := _ordered_key(record, rule)) is not None:
            key.append(ordered)
    key.append(record.path)
    return tuple(key)


def choose_keeper(
    records: Sequence[ImageRecord],
    *,
    reference_folders: Sequence[str] = (),
    rules: Sequence[ChainRule] = DEFAULT_KEEPER_RULES,
) -> int:
    """Index in `records` of the copy to keep."""
    if not records:
        raise ValueError("choose_keeper needs at least one record")
    references = ReferenceFolders(reference_folders)
    is_reference = [references.contains(r.path) for r in records]
    return choose_in_group(records, is_reference, rules)[0]


_RULE_REASONS = {
    KeeperRule.REFERENCE_FOLDER: "kept: in a protected folder",
    KeeperRule.RAW_FIRST: "kept: the camera RAW (the others are made from it)",
    KeeperRule.RESOLUTION: "kept: most pixels",
    KeeperRule.FILE_SIZE: "kept: largest file",
    KeeperRule.CAPTURE_DATE: "kept: earliest capture date",
    KeeperRule.SHORTER_PATH: "kept: shortest path",
    KeeperRule.MODIFICATION_DATE: "kept: earliest modification date",
    KeeperRule.FOLDER_PRIORITY: "kept: in the folder you rank first",
    KeeperRule.FORMAT_PREFERENCE: "kept: in the format you prefer",
}
UNDECIDED_REASON = "kept: the copies are alike; first by name"


def choose_in_group(
    records: Sequence[ImageRecord],
    is_reference: Sequence[bool],
    rules: Sequence[ChainRule] = DEFAULT_KEEPER_RULES,
) -> tuple[int, str]:
    """(index of the keeper in `records`, why it was chosen). The chain narrows the
    candidates rule by rule; the reason names the rules (the ORIGINAL rule's steps) that
    narrowed them, in order (`joined_reason`)."""
    candidates = list(range(len(records)))
    reasons: list[str] = []
    for rule in rules:
        if len(candidates) < 2:
            break
        if rule is KeeperRule.ORIGINAL:
            verdict = most_original(records, candidates)
            narrowed, why = list(verdict.candidates), verdict.reasons
        else:
            keys = {
                i: keeper_key(records[i], bool(is_reference[i]), (rule,))[:-1] for i in candidates
            }
            best = min(keys.values())
            narrowed = [i for i in candidates if keys[i] == best]
            why = (_RULE_REASONS[rule_kind(rule)],)
        if len(narrowed) < len(candidates):
            candidates = narrowed
            reasons.extend(why)
    keeper = min(candidates, key=lambda i: records[i].path)
    if len(records) < 2:
        return keeper, ""
    return keeper, joined_reason(reasons)


_REASON_PREFIX = "kept: "
MAX_REASON_STEPS = 3


def joined_reason(reasons: Sequence[str]) -> str:
    """One reason from the steps that narrowed the candidates, in order: "kept: most
    pixels, then largest file". The first step removed the plainest copies and the last
    beat the keeper's closest rival, so beyond MAX_REASON_STEPS the middle ones are left
    out; a step repeating the one before it (RESOLUTION after ORIGINAL's pixels) is named
    once."""
    steps: list[str] = []
    for reason in reasons:
        body = reason.removeprefix(_REASON_PREFIX)
        if body and (not steps or steps[-1] != body):
            steps.append(body)
    if not steps:
        return UNDECIDED_REASON
    if len(steps) > MAX_REASON_STEPS:
        steps = [steps[0], *steps[1 - MAX_REASON_STEPS:]]
    return _REASON_PREFIX + ", then ".join(steps)


def keeper_ranks(
    records: Sequence[ImageRecord],
    is_reference: np.ndarray,
    rules: Sequence[ChainRule],
    path_rank: np.ndarray | None = None,
) -> np.ndarray:
    """Position of every record in keeper order (0 = the best keeper), the same order
    as `keeper_key`, computed for a whole library at once."""
    count = len(records)
    if path_rank is None:
        path_rank = path_ranks(records)
    keys: list[np.ndarray] = []
    for rule in rules:
        if rule is KeeperRule.REFERENCE_FOLDER:
            keys.append(~is_reference)
        elif rule is KeeperRule.RAW_FIRST:
            keys.append(~raw_formats(records))
        elif rule is KeeperRule.RESOLUTION:
            keys.append(-np.array([r.width * r.height for r in records], dtype=np.int64))
        elif rule is KeeperRule.FILE_SIZE:
            keys.append(-np.array([r.size for r in records], dtype=np.int64))
        elif rule is KeeperRule.CAPTURE_DATE:
            dates = [r.capture_time for r in records]
            keys.append(np.array([d is None for d in dates], dtype=bool))
            keys.append(_string_ranks([d or "" for d in dates]))
        elif rule is KeeperRule.SHORTER_PATH:
            keys.append(np.array([len(r.path) for r in records], dtype=np.int64))
        elif rule_kind(rule) in _ORDERED_RULES:
            keys.append(np.fromiter((_ordered_key(r, rule) for r in records), np.int64, count))
    keys.append(path_rank)
    order = np.lexsort(keys[::-1]) if count else np.zeros(0, np.int64)
    rank = np.empty(count, np.int64)
    rank[order] = np.arange(count)
    return rank


_ORDERED_RULES = (
    KeeperRule.MODIFICATION_DATE, KeeperRule.FOLDER_PRIORITY, KeeperRule.FORMAT_PREFERENCE
)


def _string_ranks(texts: list[str]) -> np.ndarray:
    """`np.unique(np.array(texts, dtype=str), return_inverse=True)[1]`: the position of
    each text among the distinct ones in numpy's order, sorting each distinct text once."""
    distinct = list(set(texts))
    position = np.unique(np.array(distinct, dtype=str), return_inverse=True)[1].reshape(-1)
    rank = dict(zip(distinct, position.tolist(), strict=True))
    return np.fromiter(map(rank.__getitem__, texts), dtype=np.int64, count=len(texts))


def path_ranks(records: Sequence[ImageRecord]) -> np.ndarray:
    """Rank of each record's path in plain string order (the final tie-break)."""
    order = sorted(range(len(records)), key=lambda k: records[k].path)
    rank = np.empty(len(records), np.int64)
    rank[order] = np.arange(len(records))
    return rank
