"""Scan folders into ImageRecords: discover, take what the cache knows, hash the rest in
parallel, report progress, honour cancel.

Hashing runs on a thread pool by default: Pillow releases the GIL while it decodes, which is
nearly all of the work, and threads start instantly and share the cache connection
(see benchmarks/bench_hashing.py for the thread/process comparison). At most
`2 x workers` files are in flight, so memory stays bounded whatever the library size.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dedup_gui.core.collector import collector_paused
from dedup_gui.core.files.bounded_read import FileChangedError, read_all
from dedup_gui.core.files.digest import bytes_digest, file_digest
from dedup_gui.core.files.discovery import Discovery, FileStat, discover
from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.files.imagetypes import sniff_file
from dedup_gui.core.files.interrupt import CancelFlag, Cancelled
from dedup_gui.core.models import (
    CancelToken,
    ErrorKind,
    ImageRecord,
    ScanError,
    ScanProgress,
    ScanResult,
)
from dedup_gui.core.scanning import cache_rows
from dedup_gui.core.scanning.cache import FileIdentity, HashCache
from dedup_gui.core.scanning.copies import Decoded, DecodedCopies

if TYPE_CHECKING:
    from PIL import Image

    from dedup_gui.core.images.decode import (
        REDUCED_MIN_SIDE,
        ImageInfo,
        ImageLoadError,
        file_access_problem,
        open_reduced,
    )
    from dedup_gui.core.images.memory_budget import MemoryBudget
    from dedup_gui.core.images.signatures import (
        Signatures,
        compute_signatures,
        compute_signatures_many,
    )
    from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, encode_jpeg, fit_within

_HASHING_IMPORTS = {
    "dedup_gui.core.images.decode": (
        "REDUCED_MIN_SIDE", "ImageLoadError", "file_access_problem", "open_reduced",
    ),
    "dedup_gui.core.images.memory_budget": ("MemoryBudget",),
    "dedup_gui.core.images.signatures": ("compute_signatures", "compute_signatures_many"),
    "dedup_gui.core.images.thumbnails": ("THUMBNAIL_SIDE", "encode_jpeg", "fit_within"),
}
"""What hashing a file needs (the decoders, numpy, the signatures): imported into this
module by the first file to hash (_load_hashing), so a rescan the cache answers imports
none of them. They stay module attributes (scanner.open_reduced), as if imported above."""
_hashing_loaded = False
DEFAULT_MEMORY_BUDGET_BYTES = 1 << 30
"""memory_budget.DEFAULT_MEMORY_BUDGET_BYTES (tests/test_engine_scanner.py checks)."""


def _load_hashing() -> None:
    global _hashing_loaded
    if _hashing_loaded:
        return
    for module_name, names in _HASHING_IMPORTS.items():
        module = importlib.import_module(module_name)
        for name in names:
            globals().setdefault(name, getattr(module, name))  # a test's stand-in stays
    _hashing_loaded = True


def __getattr__(name: str) -> Any:
    if any(name in names for names in _HASHING_IMPORTS.values()):
        _load_hashing()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

PROGRESS_INTERVAL_SECONDS = 0.1
CACHE_FLUSH_INTERVAL_SECONDS = 1.0
CACHE_FLUSH_RECORDS = 200
IN_MEMORY_LIMIT_BYTES = 64 << 20
"""Files that need a digest are read once into memory up to this size (decoded and digested
from the same bytes); bigger ones are digested in a second, streamed read."""
CANCEL_GRACE_SECONDS = 1.0
"""After a cancel, files already being decoded get this long to finish and be kept."""
CHANGED_MESSAGE = "The file changed during the scan; it was left out."
SMALL_FILE_BYTES = 1 << 20
"""Files up to this size (a few hundred kilopixels as JPEG, WebP or HEIC) are hashed
CHUNK_FILES at a time by one worker: their decode is so cheap that the per-file Python
work (a future, a wake-up, numpy calls on tiny arrays) is most of their cost, and the
chunk's signatures are computed as one batch (signatures.compute_signatures_many)."""
CHUNK_FILES = 8


@dataclass(frozen=True, slots=True)
class ScanOptions:
    workers: int | None = None
    """Parallel hashing jobs; None = one per CPU core."""
    include_hidden: bool = False
    use_processes: bool = False
    """Hash in worker processes instead of threads."""
    follow_links: bool = False
    """Follow folder and file links wherever they lead. Off: a link is followed only when
    its target lies inside the scanned folders."""
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES
    """Most memory the decodes running at once may need together (each decode's need is
    estimated from its header); an image needing more than this alone is refused."""
    excluded_folders: tuple[str, ...] = ()
    """Folders inside the roots that are not scanned (nor what is reached inside them
    another way); a root inside one of them is scanned. Their cache entries are kept."""
    embedded_thumbnails: bool = True
    """Hash a HEIC from its embedded thumbnail when that is big enough (records say
    from_thumbnail); False: always decode the image itself. Cached records are kept either
    way."""
    descriptors: DescriptorHook | None = None
    """Also compute deep descriptors (core/deep) from each reduced decode."""


class DescriptorHook(Protocol):
    """What the scan asks of a descriptor extractor (core/deep/extractor.py)."""

    @property
    def prepare(self) -> Callable[[Image.Image], Any]:
        """The model input from the reduced decode; runs in the workers (picklable)."""
        ...

    described: int
    queued: int

    def missing(self, cached: dict[str, ImageRecord]) -> set[str]: ...

    def add(self, record: ImageRecord, prepared: Any | None) -> None: ...

    def finish(
        self,
        records: Sequence[ImageRecord],
        cancel: CancelToken,
        progress: Callable[[], None] | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Task:
    stat: FileStat
    want_digest: bool
    digest_only: bool = False
    """The cached record is fresh but lacks the content digest now needed."""
    copies: DecodedCopies | None = None
    """Shared by the scan's thread workers: byte-identical copies are decoded once."""
    budget: MemoryBudget | None = None
    """The scan's memory budget (thread workers; worker processes have their own global)."""
    cancel: CancelFlag | None = None
    """The scan's cancel token: long reads and waits stop soon after it is set."""
    embedded_thumbnails: bool = True
    """ScanOptions.embedded_thumbnails."""
    prepare_descriptor: Callable[[Image.Image], Any] | None = None
    """DescriptorHook.prepare, when the scan computes deep descriptors."""
    defer_signing: bool = False
    """Stop after the thumbnail (_Outcome.unsigned): the chunk signs its files together."""


@dataclass(frozen=True, slots=True)
class _Unsigned:
    """A decoded file whose signatures are still to be computed (in its chunk's batch)."""

    before: os.stat_result
    thumbnail: Image.Image
    info: ImageInfo
    digest: bytes | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    path: str
    record: ImageRecord | None = None
    thumbnail_jpeg: bytes | None = None
    digest: bytes | None = None
    error: ScanError | None = None
    bytes_read: int = 0
    identity: FileIdentity | None = None
    """(st_dev, st_ino) of the file hashed, stored so a later move is recognised."""
    ctime_ns: int = 0
    warnings: tuple[str, ...] = ()
    """What is damaged in a file that could be read (decode.ImageInfo.warnings)."""
    cancelled: bool = False
    """The scan was cancelled while this file was read: neither a record nor an error."""
    descriptor_input: Any = None
    """DescriptorHook.prepare of the reduced decode (None: no deep pass, or a copy)."""
    unsigned: _Unsigned | None = None
    """With _Task.defer_signing: the decode, to be signed with the rest of its chunk."""


def scan(
    roots: Sequence[str | os.PathLike[str]],
    *,
    cache: HashCache | None = None,
    options: ScanOptions | None = None,
    progress: Callable[[ScanProgress], None] | None = None,
    cancel: CancelToken | None = None,
    sizes_elsewhere: Collection[int] = (),
    records_elsewhere: Sequence[ImageRecord] = (),
    discovered: Discovery | None = None,
) -> ScanResult:
    """Hash every image under `roots`. Never raises for a bad file or folder: those become
    `ScanResult.errors`. Records and errors are sorted by path.

    When another set of files is compared with these (a library and a backup folder,
    scanned one after the other), `sizes_elsewhere` are the sizes of those files, so files
    here that may be their byte copies get a content digest; `records_elsewhere` are their
    records, which a byte copy here takes over instead of being decoded (with `cache`).
    `discovered` is what `discover` just found under `roots` with these `options`, when
    the caller listed the files already (a CLI scan looking for its replay)."""
    options = options or ScanOptions()
    cancel = cancel or CancelToken()
    reporter = _ProgressReporter(progress)
    reporter.descriptors = options.descriptors  # _collect hands it each new record
    with collector_paused():  # a FileStat per file, all kept
        discovery = discovered or discover(
            roots,
            include_hidden=options.include_hidden,
            cancel=cancel,
            on_found=reporter.discovering,
            follow_links=options.follow_links,
            excluded=options.excluded_folders,
        )
    result = ScanResult(errors=list(discovery.errors), roots=tuple(_absolute_roots(roots)))
    if discovery.cancelled:
        return _finish(result, reporter, cache, cancelled=True)

    with collector_paused():  # the rows of every cached file, then its record
        cached = _cached_records(cache, discovery.files) if cache else {}
    cached = _without_missing_descriptors(cached, options.descriptors)
    candidates = [f for f in discovery.files if f.path in cached or _is_image(f)]
    shared_sizes = {size for size, n in Counter(f.size for f in candidates).items() if n > 1}
    shared_sizes.update(sizes_elsewhere)

    copies = None if options.use_processes else DecodedCopies(
        cached_thumbnail=_cached_thumbnail_reader(cache)
    )
    for record in records_elsewhere if copies is not None else ():
        copies.add_cached(record)
    tasks: list[_Task] = []
    for file in candidates:
        want_digest = file.size in shared_sizes
        record = cached.get(file.path)
        if record is None:
            tasks.append(_Task(
                file, want_digest, copies=copies if want_digest else None,
                embedded_thumbnails=options.embedded_thumbnails,
            ))
        elif want_digest and record.content_digest is None:
            tasks.append(_Task(file, want_digest, digest_only=True))
        else:
            if not want_digest and record.content_digest is not None:
                record = replace(record, content_digest=None)  # as a scan that needs none
            result.records.append(record)
            if want_digest and copies is not None:
                copies.add_cached(record)
    result.from_cache = len(candidates) - len(tasks)
    if copies is not None:
        tasks = _copies_after_their_twins(tasks, copies.capacity)
    tasks = _with_descriptor_inputs(tasks, options.descriptors)

    reporter.start_hashing(total=len(candidates), from_cache=result.from_cache)
    # Cached files that only lack their digest first (a read each): a new copy of one then
    # takes the cached record instead of decoding.
    digests_first = [task for task in tasks if task.digest_only]
    decodes = [task for task in tasks if not task.digest_only]
    cancelled = any(
        _hash_all(phase, cached, result, options, reporter, cache, cancel, copies)
        for phase in (digests_first, decodes)
        if phase
    )
    if not cancelled and any(record.from_thumbnail for record in result.records):
        from dedup_gui.core.scanning.confirm_thumbnails import confirm  # numpy: only then

        decoded_now = {task.stat.path for task in decodes}
        cancelled = confirm(
            result, reporter, options, cache, cancel, records_elsewhere, decoded_now
        )
    if not cancelled and len({r.format for r in (*result.records, *records_elsewhere)}) > 1:
        # A lossless file may hold a lossy one's decode (numpy: only with two formats).
        from dedup_gui.core.scanning import confirm_conversions

        cancelled = confirm_conversions.confirm(
            result, reporter, options, cache, cancel, records_elsewhere
        )
    if cache is not None and not cancelled:
        # Entries under folders that could not be read this time are kept for next time.
        unreadable = [e.path for e in discovery.errors if e.kind is ErrorKind.UNREADABLE_FOLDER]
        cache.forget_missing(
            _absolute_roots(roots),
            {f.path for f in discovery.files},
            keep_under=[*unreadable, *_absolute_roots(options.excluded_folders)],
        )
    _describe(result, options.descriptors, reporter, cancel)
    return _finish(result, reporter, cache, cancelled=cancelled)


def _without_missing_descriptors(
    cached: dict[str, ImageRecord], hook: DescriptorHook | None
) -> dict[str, ImageRecord]:
    """With a deep pass, cached records whose descriptor is not cached are decoded again
    (their records come out the same; the descriptor needs the reduced decode)."""
    if hook is None or not cached:
        return cached
    missing = hook.missing(cached)
    return {path: record for path, record in cached.items() if path not in missing}


def _with_descriptor_inputs(tasks: list[_Task], hook: DescriptorHook | None) -> list[_Task]:
    if hook is None:
        return tasks
    return [replace(task, prepare_descriptor=hook.prepare) for task in tasks]


def _describe(
    result: ScanResult, hook: DescriptorHook | None, reporter: _ProgressReporter,
    cancel: CancelToken,
) -> None:
    """The deep pass's end: the last batches run (progress shows them) and the scan's
    records get their descriptors, cached ones included."""
    if hook is None:
        return
    reporter.start_describing(hook)
    result.descriptors = hook.finish(result.records, cancel, reporter.hashing)
    result.warnings.extend(getattr(hook, "warnings", ()))


def _copies_after_their_twins(tasks: list[_Task], sizes_per_block: int) -> list[_Task]:
    """Files that may be byte copies (their size is shared) ordered so copies find their
    twin already decoded: by size, in blocks of `sizes_per_block` sizes, the first file of
    each size ahead of the block's other files. A copy right behind its twin would wait
    for it, leaving a worker idle."""
    by_size: dict[int, list[_Task]] = {}
    others: list[_Task] = []
    for task in tasks:
        if task.want_digest:
            by_size.setdefault(task.stat.size, []).append(task)
        else:
            others.append(task)
    sizes = sorted(by_size)
    ordered: list[_Task] = []
    for start in range(0, len(sizes), sizes_per_block):
        block = [by_size[size] for size in sizes[start : start + sizes_per_block]]
        ordered.extend(same_size[0] for same_size in block)
        ordered.extend(task for same_size in block for task in same_size[1:])
    return ordered + others


def _cached_thumbnail_reader(
    cache: HashCache | None,
) -> Callable[[ImageRecord], bytes | None] | None:
    if cache is None:
        return None
    return lambda record: cache.thumbnail_jpeg(record.path, record.size, record.mtime_ns)


def hash_file(path: str | os.PathLike[str], *, cache: HashCache | None = None) -> ImageRecord:
    """Hash one file (with its content digest), through the cache when given.

    Raises ImageLoadError when the file is not a usable image."""
    _load_hashing()
    text_path = os.fspath(path)
    try:
        info = Path(text_path).stat()
    except OSError as error:
        raise ImageLoadError(*file_access_problem(error)) from error
    stat = FileStat(
        text_path, info.st_size, info.st_mtime_ns,
        dev=info.st_dev, ino=info.st_ino, ctime_ns=info.st_ctime_ns,
    )
    cached = None
    if cache is not None:
        cached = cache.lookup(text_path, info.st_size, info.st_mtime_ns)
        if cached is None:
            identity = (info.st_dev, info.st_ino)
            moved = cache.adopt_moved([(text_path, info.st_size, info.st_mtime_ns, identity)])
            cached = moved.get(text_path)
    if cached is not None and cached.content_digest is not None:
        return _as_seen(cached, stat, cached.content_digest)
    outcome = _hash_task(_Task(stat, want_digest=True, digest_only=cached is not None))
    if outcome.error is not None:
        raise ImageLoadError(outcome.error.kind, outcome.error.message)
    if outcome.record is not None:
        if cache is not None:
            cache.store(outcome.record, outcome.thumbnail_jpeg, outcome.identity)
        return outcome.record
    assert cached is not None and cache is not None and outcome.digest is not None
    cache.store_digest(text_path, cached.size, cached.mtime_ns, outcome.digest)
    return _as_seen(cached, stat, outcome.digest)


def _as_seen(record: ImageRecord, file: FileStat, digest: bytes | None) -> ImageRecord:
    """A cached record with this scan's view of the file: its identity and ctime."""
    return replace(
        record, content_digest=digest, dev=file.dev, ino=file.ino, ctime_ns=file.ctime_ns
    )


def _cached_records(cache: HashCache, files: Sequence[FileStat]) -> dict[str, ImageRecord]:
    """Fresh cached records by path, as this scan sees the files (`_as_seen`, with the
    cached digest): built straight from the cache's rows, one constructor call each.
    Files missed by path are looked for by identity, so a file moved or renamed since the
    last scan is not decoded again."""
    stored = cache.fresh_rows([(f.path, f.size, f.mtime_ns) for f in files])
    cached: dict[str, ImageRecord] = {}
    seen_record = cache_rows.seen_record
    for file in files:
        row = stored.get(file.path)
        if row is not None:
            record = seen_record(row, file.path, file.dev, file.ino, file.ctime_ns)
            if record is not None:
                cached[file.path] = record
    if len(cached) < len(files):
        missed = [f for f in files if f.path not in cached]
        moved = cache.adopt_moved((f.path, f.size, f.mtime_ns, (f.dev, f.ino)) for f in missed)
        by_path = {f.path: f for f in missed}
        for path, record in moved.items():
            cached[path] = _as_seen(record, by_path[path], record.content_digest)
    return cached


def _is_image(file: FileStat) -> bool:
    return not file.needs_sniff or sniff_file(file.path) is not None


def _absolute_roots(roots: Sequence[str | os.PathLike[str]]) -> list[str]:
    return [os.path.abspath(os.fspath(root)) for root in roots]  # noqa: PTH100


def _hash_all(
    tasks: list[_Task],
    cached: dict[str, ImageRecord],
    result: ScanResult,
    options: ScanOptions,
    reporter: _ProgressReporter,
    cache: HashCache | None,
    cancel: CancelToken,
    copies: DecodedCopies | None,
) -> bool:
    """Run `tasks` on a bounded pool; returns True when cancelled."""
    _load_hashing()
    workers = max(1, options.workers or usable_cores())
    writer = _CacheWriter(cache)
    executor, for_worker, pass_on_cancel = _make_executor(
        workers, options.use_processes, options.memory_budget_bytes, cancel
    )
    pending: dict[Future[list[_Outcome]], list[str]] = {}
    # At least 4 chunks a worker: the last ones must not leave the other workers idle.
    queue = iter(_chunks(tasks, min(CHUNK_FILES, len(tasks) // (4 * workers))))
    queued_all = cancelled = False
    try:
        while True:
            while not cancel.cancelled and len(pending) < 2 * workers:
                chunk = next(queue, None)
                if chunk is None:
                    queued_all = True
                    break
                future = executor.submit(_hash_chunk, [for_worker(task) for task in chunk])
                pending[future] = [task.stat.path for task in chunk]
            if not pending:
                cancelled = not queued_all  # a cancel stopped the queue before the end
                break
            done, _ = wait(pending, timeout=PROGRESS_INTERVAL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                for outcome in _outcomes_of(future, pending.pop(future)):
                    _collect(outcome, cached, result, reporter, writer, copies)
            writer.flush_if_due()
            reporter.hashing()
            if cancel.cancelled:
                cancelled = True
                pass_on_cancel()
                for future in pending:
                    future.cancel()
                finished, _ = wait(pending, timeout=CANCEL_GRACE_SECONDS)
                for future in finished:
                    if not future.cancelled():
                        for outcome in _outcomes_of(future, pending[future]):
                            _collect(outcome, cached, result, reporter, writer, copies)
                break
    finally:
        executor.shutdown(wait=not cancelled, cancel_futures=True)
        writer.flush()
    return cancelled


def usable_cores() -> int:
    """CPU cores this process may run on (CPU affinity and container limits included)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _chunks(tasks: Sequence[_Task], size: int) -> Iterator[list[_Task]]:
    """The tasks in the order given, runs of small files `size` at a time, every other
    file alone. A possible byte copy is alone too: it may wait for its twin, which
    must not be queued behind it in the same chunk."""
    chunk: list[_Task] = []
    for task in tasks:
        alone = task.digest_only or task.copies is not None
        if size <= 1 or alone or task.stat.size > SMALL_FILE_BYTES:
            if chunk:
                yield chunk
                chunk = []
            yield [task]
            continue
        chunk.append(task)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcomes_of(future: Future[list[_Outcome]], paths: list[str]) -> list[_Outcome]:
    """The worker's outcomes; a crashed worker (e.g. a decoder that killed its process)
    costs its files, never the scan."""
    try:
        return future.result()
    except Exception as error:
        return [_crashed(path, error) for path in paths]


def _crashed(path: str, error: Exception) -> _Outcome:
    message = f"The image could not be processed ({type(error).__name__}: {error})."
    return _Outcome(path, error=ScanError(path, ErrorKind.OTHER, message))


def _hash_chunk(tasks: list[_Task]) -> list[_Outcome]:
    """Runs in a worker: each file up to its thumbnail (_hash_task), then the signatures
    of all of them in one batch. A lone file is hashed as it always was."""
    _load_hashing()  # a worker process starts without them
    if len(tasks) == 1:
        return [_guarded(tasks[0])]
    outcomes: list[_Outcome] = []
    for task in tasks:
        if task.cancel is not None and task.cancel.cancelled:
            outcomes.append(_Outcome(task.stat.path, cancelled=True))
        else:
            outcomes.append(_guarded(replace(task, defer_signing=True)))
    waiting = [index for index, outcome in enumerate(outcomes) if outcome.unsigned is not None]
    unsigned = [outcomes[index] for index in waiting]
    for index, signed in zip(waiting, _sign_batch(unsigned), strict=True):
        outcomes[index] = signed
    return outcomes


def _guarded(task: _Task) -> _Outcome:
    try:
        return _hash_task(task)
    except Exception as error:  # _hash_task never raises; a replacement of it might
        return _crashed(task.stat.path, error)


def _sign_batch(outcomes: list[_Outcome]) -> list[_Outcome]:
    """The records of decoded files, their signatures computed together; a failure of the
    batch falls back to each file on its own, so it costs only the file that caused it."""
    pending = [outcome.unsigned for outcome in outcomes if outcome.unsigned is not None]
    assert len(pending) == len(outcomes)
    batch: list[Signatures | None]
    try:
        batch = list(compute_signatures_many([item.thumbnail for item in pending]))
    except Exception:
        batch = [None] * len(pending)
    signed = []
    for outcome, item, signatures in zip(outcomes, pending, batch, strict=True):
        path = outcome.path
        try:
            done = _signed(path, item.before, item.thumbnail, item.info, item.digest, signatures)
        except ImageLoadError as error:
            done = _Outcome(path, error=ScanError(path, error.kind, error.message))
        except OSError as error:
            done = _Outcome(path, error=ScanError(path, *file_access_problem(error)))
        except Exception as error:  # a decoder bug must cost one file, never the scan
            done = _crashed(path, error)
        signed.append(replace(done, descriptor_input=outcome.descriptor_input))
    return signed


def _make_executor(
    workers: int, use_processes: bool, budget_bytes: int, cancel: CancelToken
) -> tuple[Executor, Callable[[_Task], _Task], Callable[[], None]]:
    """The pool, what a task carries into it, and what tells its workers of a cancel."""
    if not use_processes:
        budget = MemoryBudget(budget_bytes)
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dedup-hash")
        return executor, lambda task: replace(task, budget=budget, cancel=cancel), _nothing
    import multiprocessing  # with its pool, only for a scan in processes
    from concurrent.futures import ProcessPoolExecutor

    # Never fork: the caller may be a GUI with threads. forkserver starts faster than spawn.
    method = "forkserver" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    shared_cancel = _SharedCancel(context.Event())
    process_executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker_process,
        initargs=(MemoryBudget(budget_bytes, processes=context), shared_cancel),
    )
    return process_executor, lambda task: task, shared_cancel.set


def _nothing() -> None:
    pass


class _SharedCancel:
    """The scan's cancel, seen by worker processes (a CancelToken cannot cross over)."""

    def __init__(self, event: Any) -> None:
        self._event = event

    def set(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return bool(self._event.is_set())


_process_budget: MemoryBudget | None = None
_process_cancel: CancelFlag | None = None


def _start_worker_process(budget: MemoryBudget, cancel: _SharedCancel) -> None:
    global _process_budget, _process_cancel
    _process_budget, _process_cancel = budget, cancel


def _collect(
    outcome: _Outcome,
    cached: dict[str, ImageRecord],
    result: ScanResult,
    reporter: _ProgressReporter,
    writer: _CacheWriter,
    copies: DecodedCopies | None = None,
) -> None:
    if outcome.cancelled:
        return
    if outcome.error is not None:
        result.errors.append(outcome.error)
    elif outcome.record is not None:
        result.records.append(outcome.record)
        result.hashed += 1
        result.file_warnings.extend(
            ScanError(outcome.path, ErrorKind.READ_WITH_WARNING, note)
            for note in outcome.warnings
        )
        writer.add(outcome.record, outcome.thumbnail_jpeg, outcome.identity)
        if reporter.descriptors is not None:
            reporter.descriptors.add(outcome.record, outcome.descriptor_input)
    elif outcome.digest is not None:
        record = replace(cached[outcome.path], content_digest=outcome.digest)
        if outcome.identity is not None:
            dev, ino = outcome.identity
            record = replace(record, dev=dev, ino=ino, ctime_ns=outcome.ctime_ns)
        result.records.append(record)
        result.from_cache += 1
        writer.add_digest(record)
        if copies is not None:
            copies.add_cached(record)
    reporter.file_done(outcome.path, outcome.bytes_read)


def _hash_task(task: _Task) -> _Outcome:
    """Runs in a worker: read, decode reduced, sign, thumbnail. Never raises."""
    _load_hashing()
    path = task.stat.path
    if task.budget is None and task.cancel is None and _process_budget is not None:
        task = replace(task, budget=_process_budget, cancel=_process_cancel)
    try:
        if task.digest_only:
            return _digest_only(task)
        return _decode_and_sign(task)
    except Cancelled:
        return _Outcome(path, cancelled=True)
    except FileChangedError:
        return _Outcome(path, error=ScanError(path, ErrorKind.CHANGED, CHANGED_MESSAGE))
    except ImageLoadError as error:
        return _Outcome(path, error=ScanError(path, error.kind, error.message))
    except OSError as error:
        return _Outcome(path, error=ScanError(path, *file_access_problem(error)))
    except Exception as error:  # a decoder bug must cost one file, never the scan
        message = f"The image could not be processed ({type(error).__name__}: {error})."
        return _Outcome(path, error=ScanError(path, ErrorKind.OTHER, message))


def _decode_and_sign(task: _Task) -> _Outcome:
    path = task.stat.path
    expected_size = task.stat.size
    limits: dict[str, Any] = {
        "budget": task.budget,
        "cancel": task.cancel,
        "embedded_long_side": THUMBNAIL_SIDE if task.embedded_thumbnails else None,
    }
    digest = None
    with open_for_reading(path) as handle:
        before = os.fstat(handle.fileno())
        if before.st_size == 0:
            raise ImageLoadError(ErrorKind.EMPTY, "The file is empty (0 bytes).")
        if before.st_size != expected_size:
            raise FileChangedError
        if task.want_digest and expected_size <= IN_MEMORY_LIMIT_BYTES:
            # One read serves both, so the digest is of exactly the bytes decoded. Never
            # more than the size discovery saw: a file growing meanwhile is not followed.
            data = read_all(handle, expected_size, task.cancel)
            digest = bytes_digest(data)
            if task.copies is not None:
                with task.copies.decode_once(digest) as claim:
                    if claim.twin is not None:
                        return _copy_of(claim.twin, path, before)
                    reduced, info = open_reduced(path, REDUCED_MIN_SIDE, data=data, **limits)
                    outcome = _sign(path, before, reduced, info, digest)
                    outcome = _with_descriptor_input(outcome, task, reduced)
                    assert outcome.record is not None and outcome.thumbnail_jpeg is not None
                    claim.publish(outcome.record, outcome.thumbnail_jpeg)
                    return outcome
            reduced, info = open_reduced(path, REDUCED_MIN_SIDE, data=data, **limits)
        else:
            reduced, info = open_reduced(path, REDUCED_MIN_SIDE, stream=handle, **limits)
    if task.want_digest and digest is None:
        digest = file_digest(path, expected_size=expected_size, cancel=task.cancel)
    if task.defer_signing:
        thumbnail = fit_within(reduced, THUMBNAIL_SIDE)
        outcome = _Outcome(path, unsigned=_Unsigned(before, thumbnail, info, digest))
    else:
        outcome = _sign(path, before, reduced, info, digest)
    return _with_descriptor_input(outcome, task, reduced)


def _with_descriptor_input(outcome: _Outcome, task: _Task, reduced: Image.Image) -> _Outcome:
    if task.prepare_descriptor is None:
        return outcome
    return replace(outcome, descriptor_input=task.prepare_descriptor(reduced))


def _sign(
    path: str, before: os.stat_result, reduced: Image.Image, info: ImageInfo, digest: bytes | None
) -> _Outcome:
    thumbnail = fit_within(reduced, THUMBNAIL_SIDE)
    return _signed(path, before, thumbnail, info, digest, compute_signatures(thumbnail))


def _signed(
    path: str,
    before: os.stat_result,
    thumbnail: Image.Image,
    info: ImageInfo,
    digest: bytes | None,
    signatures: Signatures | None,
) -> _Outcome:
    """The record of a decoded file (its signatures computed now when not given)."""
    if signatures is None:
        signatures = compute_signatures(thumbnail)
    jpeg = encode_jpeg(thumbnail)
    _ensure_unchanged(path, before)
    record = ImageRecord(
        path=path,
        size=before.st_size,
        mtime_ns=before.st_mtime_ns,
        width=info.width,
        height=info.height,
        format=info.format,
        capture_time=info.capture_time,
        dhash=signatures.dhash,
        phash=signatures.phash,
        phash_dihedral=signatures.phash_dihedral,
        micro=signatures.micro,
        content_digest=digest,
        dev=before.st_dev,
        ino=before.st_ino,
        ctime_ns=before.st_ctime_ns,
        jpeg_quality=info.provenance.jpeg_quality,
        camera=info.provenance.camera,
        software=info.provenance.software,
        edited_after_capture=info.provenance.edited_after_capture,
        # Two files whose stale thumbnails match must never count as the same pixels.
        pixel_digest=None if info.from_thumbnail else signatures.pixel_digest,
        detail=signatures.detail,
        from_thumbnail=info.from_thumbnail,
    )
    return replace(_hashed(record, jpeg, before), warnings=info.warnings)


def _copy_of(twin: Decoded, path: str, before: os.stat_result) -> _Outcome:
    """The outcome for a byte-identical copy of an image decoded this scan or found in
    the cache: all but the path, size and mtime comes from the bytes, so it is the twin's."""
    twin_record, thumbnail_jpeg = twin
    _ensure_unchanged(path, before)
    record = replace(
        twin_record, path=path, size=before.st_size, mtime_ns=before.st_mtime_ns,
        dev=before.st_dev, ino=before.st_ino, ctime_ns=before.st_ctime_ns,
    )
    return _hashed(record, thumbnail_jpeg, before)


def _hashed(record: ImageRecord, thumbnail_jpeg: bytes, before: os.stat_result) -> _Outcome:
    return _Outcome(
        record.path,
        record=record,
        thumbnail_jpeg=thumbnail_jpeg,
        bytes_read=before.st_size,
        identity=(before.st_dev, before.st_ino),
        ctime_ns=before.st_ctime_ns,
    )


def _digest_only(task: _Task) -> _Outcome:
    path = task.stat.path
    before = Path(path).stat()
    if (before.st_size, before.st_mtime_ns) != (task.stat.size, task.stat.mtime_ns):
        return _decode_and_sign(replace(task, digest_only=False))  # changed since discovery
    digest = file_digest(path, expected_size=before.st_size, cancel=task.cancel)
    _ensure_unchanged(path, before)
    return _Outcome(
        path, digest=digest, bytes_read=before.st_size,
        identity=(before.st_dev, before.st_ino), ctime_ns=before.st_ctime_ns,
    )


def _ensure_unchanged(path: str, before: os.stat_result) -> None:
    try:
        after = Path(path).stat()
    except FileNotFoundError as error:
        raise ImageLoadError(ErrorKind.VANISHED, "The file was removed during the scan.") from error
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    ):
        raise ImageLoadError(ErrorKind.CHANGED, CHANGED_MESSAGE)


class _CacheWriter:
    """Batches cache writes (one transaction per batch) from the scanning thread."""

    def __init__(self, cache: HashCache | None) -> None:
        self._cache = cache
        self._records: list[ImageRecord] = []
        self._thumbnails: list[bytes | None] = []
        self._identities: list[FileIdentity | None] = []
        self._digests: list[ImageRecord] = []
        self._last_flush = time.monotonic()

    def add(
        self, record: ImageRecord, thumbnail_jpeg: bytes | None, identity: FileIdentity | None
    ) -> None:
        self._records.append(record)
        self._thumbnails.append(thumbnail_jpeg)
        self._identities.append(identity)

    def add_digest(self, record: ImageRecord) -> None:
        self._digests.append(record)

    def flush_if_due(self) -> None:
        due = time.monotonic() - self._last_flush >= CACHE_FLUSH_INTERVAL_SECONDS
        if due or len(self._records) >= CACHE_FLUSH_RECORDS:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if self._cache is None:
            return
        if self._records:
            self._cache.store_many(self._records, self._thumbnails, self._identities)
        for record in self._digests:
            assert record.content_digest is not None
            self._cache.store_digest(
                record.path, record.size, record.mtime_ns, record.content_digest
            )
        self._records, self._thumbnails, self._identities, self._digests = [], [], [], []


class _ProgressReporter:
    """Builds ScanProgress and calls the callback at most every PROGRESS_INTERVAL_SECONDS
    (plus at phase changes), always from the scanning thread."""

    def __init__(self, callback: Callable[[ScanProgress], None] | None) -> None:
        self._callback = callback
        self._started = time.monotonic()
        self._hashing_started = self._started
        self._last_report = 0.0
        self.phase = "discovering"
        self.done = 0
        self.total = 0
        self.from_cache = 0
        self.bytes_done = 0
        self.current_path = ""
        self.descriptors: DescriptorHook | None = None
        """The scan's deep pass, whose counts the progress carries."""

    def discovering(self, found: int, path: str) -> None:
        self.done = self.total = found
        self.current_path = path
        self._report(force=False)

    def start_hashing(self, total: int, from_cache: int) -> None:
        self.phase = "hashing"
        self.total = total
        self.done = self.from_cache = from_cache
        self._hashing_started = time.monotonic()
        self._report(force=True)

    def start_describing(self, hook: DescriptorHook) -> None:
        self.phase = "describing"
        self.descriptors = hook
        self._report(force=True)

    def start_pass(self, phase: str, total: int) -> None:
        """A pass over `total` items after hashing (done counts them from 0)."""
        self.phase, self.total, self.done, self.from_cache = phase, total, 0, 0
        self._report(force=True)

    def file_done(self, path: str, bytes_read: int) -> None:
        self.done += 1
        self.bytes_done += bytes_read
        self.current_path = path

    def hashing(self) -> None:
        self._report(force=False)

    def finish(self) -> None:
        self.phase = "done"
        self._report(force=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _report(self, *, force: bool) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last_report < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_report = now
        hashing_time = max(now - self._hashing_started, 1e-9)
        hashed_files = self.done - self.from_cache if self.phase != "discovering" else 0
        self._callback(
            ScanProgress(
                phase=self.phase,
                done=self.done,
                total=self.total,
                current_path=self.current_path,
                bytes_done=self.bytes_done,
                bytes_per_second=self.bytes_done / hashing_time,
                files_per_second=hashed_files / hashing_time,
                elapsed_seconds=now - self._started,
                from_cache=self.from_cache,
                described=0 if self.descriptors is None else self.descriptors.described,
                to_describe=0 if self.descriptors is None else self.descriptors.queued,
            )
        )


def _finish(
    result: ScanResult, reporter: _ProgressReporter, cache: HashCache | None, *, cancelled: bool
) -> ScanResult:
    result.records.sort(key=lambda record: record.path)
    result.errors.sort(key=lambda error: error.path)
    result.cancelled = cancelled
    result.elapsed_seconds = reporter.elapsed
    if cache is not None:
        result.warnings.extend(cache.warnings)
    reporter.finish()
    return result
