"""What the app remembers between runs, stored with QSettings under the app's org/name."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings

from dedup_gui import APP_NAME
from dedup_gui.app.paths import display_path, is_qt_safe
from dedup_gui.core.files.folder_roles import FolderRole
from dedup_gui.core.grouping.keeper import ChainRule, KeeperRule, RuleOrder
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy

ORGANIZATION = "dedup_gui"


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """A listed folder (or a subfolder of one) and its role."""

    path: str
    role: FolderRole = FolderRole.NORMAL

    def __post_init__(self) -> None:
        if isinstance(self.role, bool):  # FolderEntry(path, True): a reference folder
            role = FolderRole.PROTECTED if self.role else FolderRole.NORMAL
            object.__setattr__(self, "role", role)

    @property
    def reference(self) -> bool:
        return self.role is FolderRole.PROTECTED


def _settings() -> QSettings:
    return QSettings(ORGANIZATION, APP_NAME)


class AppSettings:
    """Typed access to the few values the window persists."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store or _settings()

    @property
    def store(self) -> QSettings:
        return self._store

    def folders(self) -> list[FolderEntry]:
        entries: list[FolderEntry] = []
        count = self._store.beginReadArray("folders")
        for i in range(count):
            self._store.setArrayIndex(i)
            encoded = self._store.value("path_bytes")
            path = os.fsdecode(bytes(encoded)) if encoded else str(self._store.value("path", ""))
            if path:
                entries.append(FolderEntry(path, self._role()))
        self._store.endArray()
        return entries

    def set_folders(self, entries: list[FolderEntry]) -> None:
        self._store.beginWriteArray("folders", len(entries))
        for i, entry in enumerate(entries):
            self._store.setArrayIndex(i)
            self._store.setValue("path", display_path(entry.path))
            if is_qt_safe(entry.path):
                self._store.remove("path_bytes")
            else:  # a folder name that is not UTF-8 survives only as bytes
                self._store.setValue("path_bytes", QByteArray(os.fsencode(entry.path)))
            self._store.setValue("role", entry.role.value)
            # Read by versions without roles: a protected folder stays a reference folder.
            self._store.setValue("reference", entry.reference)
        self._store.endArray()

    def _role(self) -> FolderRole:
        """The role of the array entry being read; entries written before roles existed
        have only the reference mark: a reference folder is Protected, any other Normal."""
        try:
            return FolderRole(str(self._store.value("role", "")))
        except ValueError:
            reference = self._store.value("reference", False, type=bool)
            return FolderRole.PROTECTED if reference else FolderRole.NORMAL

    def similarity(self, default: int) -> int:
        return int(self._store.value("similarity", default, type=int))

    def set_similarity(self, value: int) -> None:
        self._store.setValue("similarity", value)

    def match_transforms(self) -> bool:
        return bool(self._store.value("match_transforms", False, type=bool))

    def set_match_transforms(self, value: bool) -> None:
        self._store.setValue("match_transforms", value)

    def follow_links(self) -> bool:
        """Follow folder and file links that lead outside the chosen folders (off: they are
        listed as not followed)."""
        return bool(self._store.value("follow_links", False, type=bool))

    def set_follow_links(self, value: bool) -> None:
        self._store.setValue("follow_links", value)

    def preferred_keeper(self, default: KeeperRule) -> KeeperRule:
        value = str(self._store.value("preferred_keeper", default.value))
        try:
            return KeeperRule(value)
        except ValueError:  # written by another version
            return default

    def set_preferred_keeper(self, rule: KeeperRule) -> None:
        self._store.setValue("preferred_keeper", rule.value)

    def raw_jpeg_policy(self) -> RawJpegPolicy:
        value = str(self._store.value("raw_jpeg_policy", RawJpegPolicy.KEEP_BOTH.value))
        try:
            return RawJpegPolicy(value)
        except ValueError:  # written by another version
            return RawJpegPolicy.KEEP_BOTH

    def set_raw_jpeg_policy(self, policy: RawJpegPolicy) -> None:
        self._store.setValue("raw_jpeg_policy", policy.value)

    def keep_jpeg_confirmed(self) -> bool:
        """The user has once confirmed that RAW files of pairs may go to the trash."""
        return bool(self._store.value("raw_jpeg_policy_confirmed", False, type=bool))

    def set_keep_jpeg_confirmed(self) -> None:
        self._store.setValue("raw_jpeg_policy_confirmed", True)

    def keeper_chain(self) -> tuple[ChainRule, ...] | None:
        """The rule chain the user ordered (None: never saved, or unreadable)."""
        text = str(self._store.value("keeper_chain", ""))
        return chain_from_text(text) if text else None

    def set_keeper_chain(self, chain: Sequence[ChainRule]) -> None:
        self._store.setValue("keeper_chain", chain_to_text(chain))

    def use_keeper_chain(self) -> bool:
        """The rule chain, not a single preferred rule, chooses the suggested keeper."""
        return bool(self._store.value("use_keeper_chain", False, type=bool))

    def set_use_keeper_chain(self, value: bool) -> None:
        self._store.setValue("use_keeper_chain", value)

    def deep_model_file(self) -> str | None:
        """The SSCD-compatible ONNX file chosen for deep matching (None: the built-in one)."""
        encoded = self._store.value("deep/model_file_bytes")
        path = os.fsdecode(bytes(encoded)) if encoded else str(
            self._store.value("deep/model_file", "")
        )
        return path or None

    def set_deep_model_file(self, path: str | None) -> None:
        self._store.setValue("deep/model_file", display_path(path) if path else "")
        if path and not is_qt_safe(path):  # a name that is not UTF-8 survives only as bytes
            self._store.setValue("deep/model_file_bytes", QByteArray(os.fsencode(path)))
        else:
            self._store.remove("deep/model_file_bytes")

    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def set_geometry(self, value: QByteArray) -> None:
        self._store.setValue("window/geometry", value)

    def splitter_state(self, name: str) -> QByteArray | None:
        return self._bytes(f"window/{name}")

    def set_splitter_state(self, name: str, value: QByteArray) -> None:
        self._store.setValue(f"window/{name}", value)

    def sync(self) -> None:
        self._store.sync()

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def chain_to_text(chain: Sequence[ChainRule]) -> str:
    """JSON; escaped to ASCII, so a folder name that is not UTF-8 round-trips."""
    items = [
        {"rule": rule.rule.value, "order": list(rule.order)} if isinstance(rule, RuleOrder)
        else {"rule": rule.value}
        for rule in chain
    ]
    return json.dumps(items, ensure_ascii=True)


def chain_from_text(text: str) -> tuple[ChainRule, ...] | None:
    """The chain, its protected-folder rule first; rules another version wrote are dropped."""
    try:
        items = json.loads(text)
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    chain: list[ChainRule] = [KeeperRule.REFERENCE_FOLDER]
    for item in items:
        try:
            rule = KeeperRule(item["rule"])
        except (KeyError, TypeError, ValueError):
            continue
        if rule is KeeperRule.REFERENCE_FOLDER:
            continue
        order = item.get("order")
        if isinstance(order, list):
            chain.append(RuleOrder(rule, tuple(str(entry) for entry in order)))
        else:
            chain.append(rule)
    return tuple(chain)
