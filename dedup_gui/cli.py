"""`dedup-cli`: find duplicate photos from the command line (scan | query | new).

Drives the Qt-free core only. Results go to stdout (or --output), progress to stderr
and only when stderr is a terminal, so the output can always be piped or parsed.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

from dedup_gui import __version__, cli_decisions, cli_deep, cli_replay
from dedup_gui.cli_text import UsageError
from dedup_gui.cli_text import say as _say
from dedup_gui.cli_text import shown as _shown
from dedup_gui.core.decisions.ignore_list import IgnoredPair, apart_pairs, saved_entries
from dedup_gui.core.grouping.keeper_rules import DEFAULT_KEEPER_RULES, KeeperRule
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY, MIN_SIMILARITY
from dedup_gui.core.models import (
    CancelToken,
    DuplicateGroup,
    ImageRecord,
    ScanError,
    ScanProgress,
    ScanResult,
)
from dedup_gui.core.output import export, output_file
from dedup_gui.core.output.output_file import OutputGuard, OutputRefusedError
from dedup_gui.core.scanning.cache import HashCache

if TYPE_CHECKING:  # imported where used: --help and a replayed scan need neither
    from dedup_gui.core import library
    from dedup_gui.core.scanning import scanner

EXIT_NOTHING_FOUND = 0
EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_NOTHING_SCANNED = 3
EXIT_FAILED = 4
EXIT_INTERNAL_ERROR = 70
"""sysexits.h EX_SOFTWARE: a bug, never 1 (which means "found something")."""
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a program that a closed pipe stopped."""
_ENDS_AT_ONCE = frozenset({EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE})

EXIT_CODES_HELP = f"""\
exit status (like diff: 0 and 1 both mean the run succeeded):
  {EXIT_NOTHING_FOUND}    ran fine, found nothing: no duplicate groups (scan), no copy of the
       image (query), no image already in the library (new)
  {EXIT_FOUND}    ran fine, found something: duplicate groups / copies / images already
       in the library
  {EXIT_USAGE}    usage error: bad option, or a folder or image that does not exist
  {EXIT_NOTHING_SCANNED}    nothing could be scanned: not one image could be read (the query image,
       or every file of the folders, failed); the reasons are in "errors" / on stderr
  {EXIT_FAILED}    the results could not be written: --output is not writable, or it names
       an existing file that is not a previous export of dedup-cli (an image, a
       file in the scanned folders...), which is never written over
  {EXIT_INTERNAL_ERROR}   internal error: a bug in dedup-cli (please report it with the
       traceback shown on stderr)
  {EXIT_INTERRUPTED}  interrupted (Ctrl+C): the scan was cancelled and nothing was written
  {EXIT_BROKEN_PIPE}  the output pipe was closed early (e.g. | head): stopped quietly
Files that could not be read do not change the status when other images were scanned:
they are listed under "errors" in JSON and on stderr otherwise."""


RunCommand = Callable[[argparse.Namespace, CancelToken], int]


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (see EXIT_CODES_HELP).

    Without `argv` (the dedup-cli command, `python -m dedup_gui.cli`) the process is ours:
    an interrupted, broken-pipe or crashed run then ends it at once, since worker threads
    still reading a huge file would keep the interpreter alive at exit, and a second Ctrl+C
    stops it on the spot. With `argv` (tests, embedding) the status is always returned."""
    owns_process = argv is None
    status = _run_command(argv, hard_stop=owns_process)
    if owns_process and status in _ENDS_AT_ONCE:
        _end_process(status)
    return status


def _run_command(argv: list[str] | None, *, hard_stop: bool) -> int:
    cancel = CancelToken()
    command = "COMMAND"
    try:
        with _cancel_on_interrupt(cancel, hard_stop=hard_stop):
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as stop:  # --help, --version, or a usage error already printed
                return stop.code if isinstance(stop.code, int) else EXIT_USAGE
            command = args.command
            run: RunCommand = args.run
            return run(args, cancel)
    except UsageError as error:
        _say(f"error: {error} (see dedup-cli {command} --help)")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("interrupted; nothing was written.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (| head): nobody is left to tell
        return EXIT_BROKEN_PIPE
    except OutputRefusedError as error:
        _say(f"refusing to write over {error.filename}: {error.reason}; nothing was written. "
             "Choose another --output.")
        return EXIT_FAILED
    except OSError as error:
        _say(f"could not write the results: {error}")
        return EXIT_FAILED
    except Exception as error:
        _say(f"internal error (a bug in dedup-cli {__version__}): "
             f"{type(error).__name__}: {error}. Please report it with the traceback below.")
        with suppress(OSError):
            traceback.print_exc(file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _end_process(status: int) -> None:
    """Exit now, without waiting for worker threads; no half-written output is left."""
    output_file.discard_unfinished()
    for stream in (sys.stderr, sys.stdout):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


RAW_JPEG_CHOICES = ("keep-both", "keep-raw", "keep-jpeg")
"""raw_pairs.RawJpegPolicy's values (not imported here: the grouping loads only when used)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dedup-cli",
        description="Find duplicate and near-duplicate photos. Never changes any file.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--similarity", type=_similarity, default=DEFAULT_SIMILARITY, metavar="N",
        help=f"how alike two photos must be, in percent ({MIN_SIMILARITY}-100, "
        f"default {DEFAULT_SIMILARITY}; 100 = the same picture at the same size, or the "
        "same bytes)",
    )
    common.add_argument(
        "--match-rotations", action="store_true",
        help="also match copies that were rotated by 90/180/270 degrees or mirrored",
    )
    common.add_argument("--output", "-o", metavar="FILE", help="write results here, not stdout")
    common.add_argument(
        "--workers", type=_positive_int, metavar="N",
        help="parallel hashing jobs (default: one per CPU core)",
    )
    common.add_argument(
        "--include-hidden", action="store_true", help="also scan hidden files and folders",
    )
    common.add_argument(
        "--no-cache", action="store_true",
        help="neither read nor update the hash cache: hash every file again",
    )
    common.add_argument(
        "--no-ignore", action="store_true",
        help='show every match, also files marked "not duplicates" (dedup-cli ignore)',
    )
    common.add_argument(
        "--follow-links", action="store_true",
        help="follow folder and file links even when they lead outside the chosen folders",
    )
    common.add_argument(
        "--exclude", action="append", default=[], metavar="FOLDER",
        help="a folder inside the scanned folders not to scan (repeatable); a scanned "
        "folder inside it is still scanned",
    )

    scan = commands.add_parser(
        "scan", parents=[common], epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="find groups of duplicate photos in folders",
        description="Find groups of duplicate photos in DIRs (and the --reference folders).",
    )
    scan.add_argument("dirs", nargs="+", metavar="DIR", help="folders to scan")
    scan.add_argument(
        "--reference", action="append", default=[], metavar="DIR",
        help="protected folder (repeatable): scanned too, its files are always kept",
    )
    scan.add_argument(
        "--keep-order", type=_keeper_rules, default=DEFAULT_KEEPER_RULES, metavar="RULES",
        help="which copy to keep: comma-separated rules, first decides (default: "
        f"{','.join(rule.value for rule in DEFAULT_KEEPER_RULES)}); rules left out are "
        "not used, except that reference folders are always protected",
    )
    scan.add_argument(
        "--raw-jpeg", choices=RAW_JPEG_CHOICES, default=RAW_JPEG_CHOICES[0],
        help="a camera's RAW+JPEG pair of one shot: keep-both (default: such a pair alone "
        "is no duplicate), keep-raw (the JPEG is marked), keep-jpeg (the RAW is marked)",
    )
    cli_deep.add_arguments(scan)
    scan.add_argument(
        "--format", choices=export.FORMATS, default="json",
        help="json (default: groups and errors) or csv (one row per file, errors on stderr)",
    )
    scan.set_defaults(run=run_scan)

    query = commands.add_parser(
        "query", parents=[common], epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="find copies of one image in a library",
        description="Find copies of IMAGE in the library folders DIRs.",
    )
    query.add_argument("image", metavar="IMAGE", help="the photo to look for")
    query.add_argument("dirs", nargs="+", metavar="DIR", help="the library folders")
    query.add_argument("--format", choices=("text", "json"), default="text")
    cli_deep.add_arguments(query)
    query.set_defaults(run=run_query)

    new = commands.add_parser(
        "new", parents=[common], epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="which of these folders are already in my library?",
        description="For every folder under DIRs: how many of its images are already in "
        "the library, and which are new. Put the DIRs before --library.",
    )
    new.add_argument("dirs", nargs="+", metavar="DIR", help="the new folders to check")
    new.add_argument(
        "--library", action="extend", nargs="+", required=True, metavar="DIR",
        help="the library folders to compare against",
    )
    new.add_argument("--format", choices=("text", "json"), default="text")
    new.set_defaults(run=run_new)
    cli_decisions.add_commands(commands)
    return parser


def run_scan(args: argparse.Namespace, cancel: CancelToken) -> int:
    dirs = _existing_dirs(args.dirs)
    references = _existing_dirs(args.reference)
    roots = dirs + [ref for ref in references if not _inside_any(ref, dirs)]
    guard = _checked_output(args, OutputGuard(folders=tuple(roots)))
    _existing_dirs(args.exclude)  # a usage error before anything, replayed or not
    ignored = _ignored(args)
    with _progress_display() as show:
        replay = cli_replay.ScanReplay.prepare(args, roots, ignored, cancel, show.found)
        if replay is not None and replay.found is not None:
            with _output(args.output, guard.with_identities(replay.identities)) as stream:
                stream.write(replay.found.document)
            return replay.found.exit_status
        from dedup_gui.core.scanning import scanner  # not for a replay

        with _cache(args) as cache:
            result = scanner.scan(
                roots, cache=cache, options=_options(args, cache),
                progress=lambda update: show("", update), cancel=cancel,
                sizes_elsewhere={size for entry in ignored for size in (entry.first[0],
                                                                      entry.second[0])},
                discovered=replay.discovery if replay is not None else None,
            )
            if result.cancelled:
                return _interrupted(result)
            groups = _grouped(args, result, ignored, references, cache, show, cancel)
    if groups is None:
        return _interrupted(result)
    if not result.records and result.errors:
        # The document is still written, so a script reading it finds "errors".
        _report_warnings(result)
        with _output(args.output, guard.with_scanned([], result.errors)) as stream:
            export.write_export(stream, args.format, [], result.errors, args.similarity)
        _report_errors(result.errors)
        _say("no image could be read.")
        return EXIT_NOTHING_SCANNED
    _report_warnings(result)
    document = io.StringIO()
    export.write_export(document, args.format, groups, result.errors, args.similarity)
    with _output(args.output, guard.with_scanned(result.records, result.errors)) as stream:
        stream.write(document.getvalue())
    if args.format != "json":
        _report_errors(result.errors)
    _summarise_errors(result.errors, args.format)
    status = EXIT_FOUND if groups else EXIT_NOTHING_FOUND
    if replay is not None and not (result.errors or result.warnings or result.undecided):
        replay.keep(document.getvalue(), status)
    return status


def _grouped(
    args: argparse.Namespace, result: ScanResult, ignored: list[IgnoredPair],
    references: list[str], cache: HashCache | None, show: _ProgressLine, cancel: CancelToken,
) -> list[DuplicateGroup] | None:
    """The groups of the scanned records (none without records), or None if cancelled."""
    if not result.records:
        return []
    show.status(f"Grouping {len(result.records)} images...")
    from dedup_gui.core.grouping import candidates
    from dedup_gui.core.grouping.index import SimilarityIndex
    from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy

    try:
        index = SimilarityIndex.build(
            result.records, match_transforms=args.match_rotations, cancel=cancel,
            apart=apart_pairs(ignored, result.records),
            deep=cli_deep.search(args, result, cache),
        )
    except candidates.Cancelled:
        return None
    return index.groups(
        args.similarity,
        reference_folders=tuple(references),
        keeper_rules=args.keep_order,
        raw_jpeg_policy=RawJpegPolicy(args.raw_jpeg),
    )


def run_query(args: argparse.Namespace, cancel: CancelToken) -> int:
    image = Path(args.image)
    if not image.is_file():
        raise UsageError(f"{args.image} is not a file")
    dirs = _existing_dirs(args.dirs)
    guard = _checked_output(args, OutputGuard(folders=tuple(dirs), files=(str(image),)))
    from dedup_gui.core import library

    with _progress_display() as show, _cache(args) as cache:
        result = library.query(
            str(image.absolute()), dirs, similarity=args.similarity,
            match_transforms=args.match_rotations, cache=cache,
            options=_options(args, cache), progress=show, cancel=cancel,
            ignored=_ignored(args),
        )
        deep: list[tuple[ImageRecord, cli_deep.DeepLink]] = []
        if result.image is not None and not result.cancelled:
            found = {match.record.path for match in result.matches}
            deep = cli_deep.query_matches(args, result.image, result.library, cache, found)
        if deep:
            result = replace(result, matches=[
                *result.matches,
                *(library.LibraryMatch(record, link.distance, link.similarity, False)
                  for record, link in deep),
            ])
    deep_links = {record.path: link for record, link in deep}
    if result.cancelled:
        return _interrupted(result.library)
    _report_warnings(result.library)
    if result.image is None:
        _report_errors([result.image_error] if result.image_error else [])
        _say(f"{args.image} could not be read as an image.")
        return EXIT_NOTHING_SCANNED
    if not result.library.records and result.library.errors:
        _report_errors(result.library.errors)
        _say("no image of the library could be read.")
        return EXIT_NOTHING_SCANNED
    scanned = guard.with_scanned(result.library.records, result.library.errors)
    with _output(args.output, scanned) as stream:
        if args.format == "json":
            document = export.query_document(result, args.similarity)
            for entry in document["matches"]:
                if entry["path"] in deep_links:
                    entry.update(cli_deep.match_entry(deep_links[entry["path"]]))
            export.write_json(document, stream)
        else:
            _write_query_text(result, stream, deep_links)
    if args.format != "json":
        _report_errors(result.library.errors)
    _summarise_errors(result.library.errors, args.format)
    return EXIT_FOUND if result.matches else EXIT_NOTHING_FOUND


def run_new(args: argparse.Namespace, cancel: CancelToken) -> int:
    dirs = _existing_dirs(args.dirs)
    library_dirs = _existing_dirs(args.library)
    guard = _checked_output(args, OutputGuard(folders=(*dirs, *library_dirs)))
    from dedup_gui.core import library

    with _progress_display() as show, _cache(args) as cache:
        result = library.new_vs_library(
            dirs, library_dirs, similarity=args.similarity,
            match_transforms=args.match_rotations, cache=cache,
            options=_options(args), progress=show, cancel=cancel,
        )
    if result.cancelled:
        return _interrupted(result.new_scan)
    _report_warnings(result.library_scan)
    _report_warnings(result.new_scan)
    errors = [*result.new_scan.errors, *result.library_scan.errors]
    if not result.new_scan.records and result.new_scan.errors:
        _report_errors(errors)
        _say("no image of the new folders could be read.")
        return EXIT_NOTHING_SCANNED
    scanned = guard.with_scanned(
        [*result.new_scan.records, *result.library_scan.records], errors
    )
    with _output(args.output, scanned) as stream:
        if args.format == "json":
            export.write_json(export.new_vs_library_document(result, args.similarity), stream)
        else:
            _write_new_text(result, stream)
    if args.format != "json":
        _report_errors(errors)
    _summarise_errors(errors, args.format)
    present = any(report.present for report in result.folders)
    return EXIT_FOUND if present else EXIT_NOTHING_FOUND


def _write_query_text(
    result: library.QueryResult, stream: IO[str], deep: dict[str, cli_deep.DeepLink]
) -> None:
    assert result.image is not None
    image = result.image
    stream.write(f"{_shown(image.path)}  {image.width}x{image.height}  {_size(image.size)}\n")
    for match in result.matches:
        record = match.record
        kind = "exact " if match.exact else "visual"
        if record.path in deep:
            kind = f"deep ({deep[record.path].kind})"
        stream.write(
            f"  {match.similarity:5.1f}%  {kind}  {_shown(record.path)}  "
            f"{record.width}x{record.height}  {_size(record.size)}\n"
        )
    count = len(result.matches)
    stream.write(
        f"{count} {'copy' if count == 1 else 'copies'} found among "
        f"{len(result.library.records)} library images.\n"
    )


def _write_new_text(result: library.NewVsLibraryResult, stream: IO[str]) -> None:
    images = present = 0
    for report in result.folders:
        images += report.image_count
        present += len(report.present)
        if not report.new:
            verdict = "all already in the library"
        elif not report.present:
            verdict = "all new"
        else:
            verdict = f"{len(report.present)} already in the library, {len(report.new)} new"
        folder = _shown(report.folder)
        stream.write(f"{folder}: {_count(report.image_count, 'image')}, {verdict}\n")
        if report.present:
            for record in report.new:
                stream.write(f"  new: {_shown(record.path)}\n")
    stream.write(
        f"{_count(len(result.folders), 'folder')}, {_count(images, 'image')}: "
        f"{present} already in the library, "
        f"{images - present} new.\n"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _existing_dirs(paths: Sequence[str]) -> list[str]:
    for path in paths:
        if not Path(path).is_dir():
            raise UsageError(f"{path} is not a folder")
    return [str(Path(path).absolute()) for path in paths]


def _inside_any(path: str, folders: Sequence[str]) -> bool:
    return any(Path(path).is_relative_to(folder) for folder in folders)


@contextmanager
def _cache(args: argparse.Namespace) -> Iterator[HashCache | None]:
    if args.no_cache:
        yield None
        return
    with HashCache.open_default() as cache:
        yield cache


def _ignored(args: argparse.Namespace) -> list[IgnoredPair]:
    """The "not duplicates" entries to honour; none with --no-ignore, or (with a warning)
    when the decision store cannot be read."""
    if args.no_ignore:
        return []
    entries, messages = saved_entries()
    for message in messages:
        _say(message)
    return entries


def _options(args: argparse.Namespace, cache: HashCache | None = None) -> scanner.ScanOptions:
    from dedup_gui.core.scanning import scanner

    return scanner.ScanOptions(
        workers=args.workers, include_hidden=args.include_hidden,
        follow_links=args.follow_links,
        excluded_folders=tuple(_existing_dirs(args.exclude)),
        descriptors=cli_deep.extractor(args, cache) if hasattr(args, "deep") else None,
    )


def _similarity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not MIN_SIMILARITY <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SIMILARITY} and 100")
    return int(value) if value.is_integer() else value


def _keeper_rules(text: str) -> tuple[KeeperRule, ...]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {rule.value: rule for rule in KeeperRule}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown rule {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(known)}"
        )
    return tuple(dict.fromkeys(known[name] for name in names))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


_TEXT_REPORT_ENDINGS = (
    re.compile(rb"\d+ (copy|copies) found among \d+ library images\.\n\Z"),
    re.compile(rb"\d+ folders?, \d+ images?: \d+ already in the library, \d+ new\.\n\Z"),
)
"""The last line of the text output of query and new: a previous report of ours."""


def _checked_output(args: argparse.Namespace, guard: OutputGuard) -> OutputGuard:
    """Refuse a bad --output before the scan, not after the user waited for it."""
    guard = replace(guard, own_endings=_TEXT_REPORT_ENDINGS)
    if args.output is not None:
        output_file.check_output(args.output, guard)
    return guard


@contextmanager
def _output(path: str | None, guard: OutputGuard) -> Iterator[IO[str]]:
    if path is None:
        if hasattr(sys.stdout, "reconfigure"):
            # Undecodable file names go out as their original bytes, not as a crash.
            sys.stdout.reconfigure(errors="surrogateescape")
        yield sys.stdout
        sys.stdout.flush()
        return
    with output_file.open_output(path, guard) as stream:
        yield stream


@contextmanager
def _cancel_on_interrupt(cancel: CancelToken, *, hard_stop: bool = False) -> Iterator[None]:
    """First Ctrl+C cancels the scan cleanly; a second one stops at once: the process
    ends on the spot with `hard_stop`, else KeyboardInterrupt unwinds to main()."""

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if cancel.cancelled:
            if hard_stop:
                _say("stopped; nothing was written.")
                _end_process(EXIT_INTERRUPTED)
            raise KeyboardInterrupt
        cancel.cancel()
        _say("cancelling... (Ctrl+C again to stop at once)")

    try:
        previous = signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:  # not the main thread: leave Ctrl+C alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _ProgressLine:
    """One self-overwriting line on stderr, at most 10 updates a second; silent off a TTY."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._last = 0.0
        self._width = 0

    def __call__(self, label: str, update: ScanProgress) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and update.phase != "done"):
            return
        self._last = now
        prefix = f"[{label}] " if label else ""
        if update.phase == "discovering":
            text = f"{prefix}Looking for images: {update.done} found"
        elif update.phase == "confirming":
            text = (f"{prefix}Checking {update.total} photos read from their thumbnails:"
                    f" {update.done} done")
        elif update.phase == "comparing":
            text = (f"{prefix}Comparing {update.total} possible PNG/TIFF conversions in full:"
                    f" {update.done} done")
        else:
            left = _time_left(update)
            text = (
                f"{prefix}Hashing {update.done}/{update.total}  "
                f"{update.files_per_second:.0f} files/s  {left}"
            )
        self._draw(text)

    def found(self, count: int, path: str) -> None:
        """Discovery's count so far (a scan that looks for its replay lists the files)."""
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw(f"Looking for images: {count} found")

    def status(self, text: str) -> None:
        if self.enabled:
            self._draw(text)

    def clear(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0

    def _draw(self, text: str) -> None:
        padding = " " * max(0, self._width - len(text))
        sys.stderr.write("\r" + text + padding)
        sys.stderr.flush()
        self._width = len(text)


@contextmanager
def _progress_display() -> Iterator[_ProgressLine]:
    line = _ProgressLine()
    try:
        yield line
    finally:
        line.clear()


def _time_left(update: ScanProgress) -> str:
    if update.files_per_second <= 0 or update.total <= update.done:
        return ""
    seconds = int((update.total - update.done) / update.files_per_second)
    return f"about {seconds // 60}:{seconds % 60:02d} left"


def _interrupted(result: ScanResult) -> int:
    _say(f"interrupted after {len(result.records)} images; nothing was written.")
    return EXIT_INTERRUPTED


def _report_errors(errors: Sequence[ScanError]) -> None:
    for error in errors:
        _say(f"skipped {error.path}: {error.message} [{error.kind.value}]")


def _summarise_errors(errors: Sequence[ScanError], output_format: str) -> None:
    if errors and output_format == "json":
        _say(f"{_count(len(errors), 'file')} could not be read; they are listed under \"errors\".")


def _report_warnings(result: ScanResult) -> None:
    """Whole-scan notices, then files that were read although something in them is damaged
    (what the image library would otherwise print as a bare Python warning)."""
    for warning in result.warnings:
        _say(warning)
    for note in result.file_warnings:
        _say(f"note: {note.path}: {note.message}")


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


if __name__ == "__main__":
    raise SystemExit(main())
