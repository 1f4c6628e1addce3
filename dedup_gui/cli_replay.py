"""`dedup-cli scan` answered from its replay when nothing it reads has changed
(core/scanning/scan_replay.py): the files are listed once, here, and handed to the scan
when there is no replay to give."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dedup_gui.core.decisions.ignore_list import IgnoredPair, entries_version
from dedup_gui.core.files.discovery import Discovery, discover
from dedup_gui.core.models import CancelToken
from dedup_gui.core.scanning import scan_replay
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scan_replay import Replay

_NOT_IN_KEY = frozenset({"output", "workers", "run", "command"})
"""Options that change where the document goes or how fast it comes, not what it says;
every other option (one added later included) is part of the key."""


@dataclass(slots=True)
class ScanReplay:
    discovery: Discovery
    """The files the scan reads, listed for the key; the scan takes them as they are."""
    key: str | None
    """None when the listing met an unreadable folder or was cancelled: no replay."""
    folder: Path
    found: Replay | None = None

    @classmethod
    def prepare(
        cls, args: argparse.Namespace, roots: Sequence[str], ignored: Sequence[IgnoredPair],
        cancel: CancelToken, on_found: Callable[[int, str], None],
    ) -> ScanReplay | None:
        """The files and the replay of this scan; None for a scan that is never replayed
        (--no-cache, --deep)."""
        if args.no_cache or getattr(args, "deep", False) or getattr(args, "deep_model", None):
            return None
        # The files the scan reads with these options (cli._options), listed once for both.
        discovery = discover(
            roots, include_hidden=args.include_hidden, follow_links=args.follow_links,
            excluded=_absolute(args.exclude), cancel=cancel, on_found=on_found,
        )
        replay = cls(discovery, None, HashCache.default_folder() / scan_replay.FOLDER_NAME)
        if discovery.errors or discovery.cancelled:
            return replay
        replay.key = scan_replay.replay_key(
            _settings(args, roots),
            ((f.path, f.size, f.mtime_ns, f.ctime_ns, f.dev, f.ino) for f in discovery.files),
            entries_version(ignored),
        )
        replay.found = scan_replay.load(replay.folder, replay.key)
        return replay

    @property
    def identities(self) -> frozenset[tuple[int, int]]:
        """(st_dev, st_ino) of every file listed: the output must not be written over one."""
        return frozenset((f.dev, f.ino) for f in self.discovery.files if f.dev or f.ino)

    def keep(self, document: str, exit_status: int) -> None:
        """Save what a clean scan wrote, for the next identical one."""
        if self.key is not None:
            scan_replay.save(self.folder, self.key, Replay(document, exit_status))


def _settings(args: argparse.Namespace, roots: Sequence[str]) -> dict[str, object]:
    settings = {k: v for k, v in vars(args).items() if k not in _NOT_IN_KEY}
    settings.update(dirs=list(roots), reference=_absolute(args.reference),
                    exclude=_absolute(args.exclude))
    return settings


def _absolute(paths: Sequence[str]) -> list[str]:
    return [str(Path(path).absolute()) for path in paths]
