"""Files of our own kept beside the hash cache (grouping snapshots, scan replays): written
whole or not at all, and only the newest few of a kind kept."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_replacing(target: Path, payload: bytes) -> None:
    """Write `payload` to a temporary file beside `target`, flush it to disk, then rename
    it over `target`: a crash leaves the old file or the new one, never half of one."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def prune(folder: Path, suffix: str, keep: Path, kept: int) -> None:
    """Remove all but the `kept` newest files ending in `suffix` (ours) besides `keep`."""
    others = sorted(
        (path for path in folder.glob(f"*{suffix}") if path != keep and path.is_file()),
        key=lambda path: path.stat().st_mtime_ns,
        reverse=True,
    )
    for path in others[kept:]:
        path.unlink(missing_ok=True)
