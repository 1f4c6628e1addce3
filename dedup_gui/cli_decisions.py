"""`dedup-cli ignore ...` and `dedup-cli restore ...`: the user's decisions from a terminal.

They share the app's decision store (`core.decision_store`): what is marked "not
duplicates" here is kept apart in the app too, and `restore --last` undoes the app's last
Move to Trash.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dedup_gui.cli_text import UsageError
from dedup_gui.cli_text import say as _say
from dedup_gui.cli_text import shown as _shown
from dedup_gui.core.decisions.ignore_list import IgnoredPair, IgnoreList, NotComparableError
from dedup_gui.core.decisions.store import DecisionStore, DecisionStoreError
from dedup_gui.core.models import CancelToken, ImageRecord

if TYPE_CHECKING:
    from dedup_gui.core.decisions.trash_log import TrashBatch

EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_USAGE = 2
EXIT_FAILED = 4

RESTORE_EXIT_HELP = f"""\
exit status:
  {EXIT_OK}  every file of the batch is back at its place (or was listed)
  {EXIT_NOTHING}  nothing to restore: no Move to Trash was logged, or it was undone already
  {EXIT_FAILED}  some files could not be put back (changed or gone from the trash), or
     were put back beside a file that now has their name; each is named on stderr"""


def add_commands(commands: argparse._SubParsersAction) -> None:
    ignore = commands.add_parser(
        "ignore", help='"not duplicates": files never grouped together again',
        description='Files marked "not duplicates" never appear in one group again, at any '
        "similarity, also after they are moved or renamed (they are known by content). The "
        "app uses the same list.",
    )
    actions = ignore.add_subparsers(dest="ignore_action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="these files are not duplicates of each other")
    add.add_argument("files", nargs="+", metavar="FILE")
    remove = actions.add_parser("remove", help="forget the entries between these files")
    remove.add_argument("files", nargs="+", metavar="FILE")
    listing = actions.add_parser("list", help="show the entries")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    actions.add_parser("clear", help="forget every entry")
    ignore.set_defaults(run=run_ignore)

    restore = commands.add_parser(
        "restore", help="put trashed files back (undo a Move to Trash)",
        description="Put the files of a Move to Trash back where they were. A file is "
        "never written over: one that now has its name stays, and the photo comes back "
        "beside it.",
        epilog=RESTORE_EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = restore.add_mutually_exclusive_group(required=True)
    which.add_argument("--last", action="store_true", help="restore the last Move to Trash")
    which.add_argument("--list", action="store_true", help="list the logged Moves to Trash")
    restore.add_argument("--format", choices=("text", "json"), default="text")
    restore.set_defaults(run=run_restore)


def run_ignore(args: argparse.Namespace, cancel: CancelToken) -> int:
    with _store() as store:
        ignore = IgnoreList(store)
        action = args.ignore_action
        if action == "list":
            _write_entries(ignore.entries(), args.format)
            return EXIT_OK
        if action == "clear":
            count = ignore.clear()
            _say(f"forgot {count} {'entry' if count == 1 else 'entries'}.")
            return EXIT_OK
        records = [_hashed(path) for path in args.files]
        try:
            count = ignore.add(records) if action == "add" else ignore.remove(records)
        except NotComparableError as error:
            _say(f"error: {error}")
            return EXIT_USAGE
        verb = "added" if action == "add" else "removed"
        _say(f"{verb} {count} {'pair' if count == 1 else 'pairs'}.")
        return EXIT_OK if count or action == "add" else EXIT_NOTHING


def run_restore(args: argparse.Namespace, cancel: CancelToken) -> int:
    from dedup_gui.core.decisions.trash_log import RestoreResult, TrashLog  # restore only

    with _store() as store:
        log = TrashLog(store)
        if args.list:
            _write_batches(log.batches(), args.format)
            return EXIT_OK
        batch = log.last()
        if batch is None:
            _say("nothing to restore: no Move to Trash is waiting to be undone.")
            return EXIT_NOTHING
        outcomes = log.restore(batch)
    problems = 0
    for outcome in outcomes:
        if outcome.result is RestoreResult.RESTORED:
            print(f"restored {_shown(outcome.original_path)}")
            continue
        problems += 1
        where = f" -> {_shown(outcome.restored_to)}" if outcome.restored_to else ""
        _say(f"{_shown(outcome.original_path)}{where}: {outcome.message}")
    return EXIT_FAILED if problems else EXIT_OK


def _hashed(path: str) -> ImageRecord:
    from dedup_gui.core.images.decode import ImageLoadError  # only commands that hash
    from dedup_gui.core.scanning import scanner

    if not Path(path).is_file():
        raise _usage(f"{path} is not a file")
    try:
        return scanner.hash_file(str(Path(path).absolute()))
    except (ImageLoadError, OSError) as error:
        raise _usage(f"{path} could not be read: {error}") from error


class _StoreContext:
    def __enter__(self) -> DecisionStore:
        try:
            self._store = DecisionStore.open_default()
        except (DecisionStoreError, OSError) as error:
            raise _usage(str(error)) from error
        for warning in self._store.warnings:
            _say(warning)
        return self._store

    def __exit__(self, *exc: object) -> None:
        self._store.close()


def _store() -> _StoreContext:
    return _StoreContext()


def _usage(message: str) -> UsageError:
    return UsageError(message)


def _write_entries(entries: Sequence[IgnoredPair], output_format: str) -> None:
    if output_format == "json":
        document = {"ignored": [
            {"first": entry.first_path, "second": entry.second_path,
             "added": _iso(entry.added_at)}
            for entry in entries
        ]}
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for entry in entries:
        print(f"{_shown(entry.first_path)}  !=  {_shown(entry.second_path)}  "
              f"(since {_iso(entry.added_at)})")
    print(f"{len(entries)} {'pair' if len(entries) == 1 else 'pairs'} marked not duplicates.")


def _write_batches(batches: Sequence[TrashBatch], output_format: str) -> None:
    if output_format == "json":
        document = {"batches": [
            {"id": batch.batch_id, "trashed": _iso(batch.trashed_at), "files": [
                {"path": f.original_path, "size": f.size, "in_trash": f.trashed_path,
                 "kept": f.kept_path, "restored_to": f.restored_to}
                for f in batch.files
            ]}
            for batch in batches
        ]}
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for batch in batches:
        waiting = len(batch.waiting)
        state = "restored" if not waiting else f"{waiting} in the trash"
        print(f"#{batch.batch_id}  {_iso(batch.trashed_at)}  "
              f"{len(batch.files)} files ({state})")
        for logged in batch.files:
            mark = "  " if logged.restored_to is None else "R "
            print(f"  {mark}{_shown(logged.original_path)}")


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(timestamp))
