"""The scan's descriptor hook (`scanning.scanner.DescriptorHook`): inputs are prepared in
the hash workers from the reduced decode they already hold (preprocess.py), then run
through the model in batches of one input size on an inference thread of its own, beside
the hash workers; cached descriptors of unchanged files are taken from the cache.

Byte copies and same-pixel copies (decoded once by the scanner) take their twin's
descriptor. Memory stays bounded: at most MAX_BATCHES_IN_FLIGHT batches wait for the
model, and the scanning thread waits for the oldest beyond that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from dedup_gui.core.deep.descriptors import DescriptorSet
from dedup_gui.core.deep.model import DeepModel
from dedup_gui.core.deep.preprocess import prepare_input
from dedup_gui.core.deep.store import DescriptorStore, Key
from dedup_gui.core.models import CancelToken, ImageRecord

BATCH_SIZE = 16
MAX_BATCHES_IN_FLIGHT = 3
STORE_EVERY = 1024
"""New descriptors are written to the cache this many at a time (and at the end)."""


class DescriptorExtractor:
    """One scan's descriptors. Called from the scanning thread only (the inference runs on
    its own thread)."""

    prepare: Callable[[Any], np.ndarray] = staticmethod(prepare_input)
    """Runs in the hash workers: picklable, so worker processes can run it too."""

    def __init__(self, model: DeepModel, store: DescriptorStore | None = None) -> None:
        self._model = model
        self._store = store
        self._vectors: dict[str, np.ndarray] = {}
        self._buckets: dict[tuple[int, ...], list[tuple[Key, np.ndarray]]] = {}
        self._in_flight: list[Future[tuple[list[Key], np.ndarray]]] = []
        self._copies: list[ImageRecord] = []
        self._done_keys: list[Key] = []
        self._done_vectors: list[np.ndarray] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-deep")
        self.queued = 0
        self.described = 0
        self.failed = 0
        """Batches the model failed on (their images get no descriptor)."""

    @property
    def warnings(self) -> list[str]:
        return [] if self._store is None else list(self._store.warnings)

    def missing(self, cached: Mapping[str, ImageRecord]) -> set[str]:
        """Paths of cached records whose descriptor is not cached for this model (the
        scanner decodes those again); the others' descriptors are kept for the result."""
        if self._store is None:
            return set(cached)
        found = self._store.lookup_many((r.path, r.size, r.mtime_ns) for r in cached.values())
        self._vectors.update(found)
        return set(cached) - set(found)

    def add(self, record: ImageRecord, prepared: np.ndarray | None) -> None:
        """A record the scan made; `prepared` is None for a copy decoded once elsewhere."""
        if prepared is None:
            self._copies.append(record)
            return
        bucket = self._buckets.setdefault(prepared.shape, [])
        bucket.append(((record.path, record.size, record.mtime_ns), prepared))
        self.queued += 1
        if len(bucket) >= BATCH_SIZE:
            self._submit(prepared.shape)

    def finish(
        self,
        records: Sequence[ImageRecord],
        cancel: CancelToken,
        progress: Callable[[], None] | None = None,
    ) -> DescriptorSet:
        """Run what is left, wait for it (calling `progress` between batches), cache the
        new descriptors and return every record's that is known."""
        try:
            if not cancel.cancelled:
                for shape in list(self._buckets):
                    self._submit(shape)
            while self._in_flight:
                if cancel.cancelled:
                    for future in self._in_flight:
                        future.cancel()
                done, _ = wait(self._in_flight, timeout=0.1)
                for future in done:
                    self._in_flight.remove(future)
                    self._take(future)
                if progress is not None:
                    progress()
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._store_done()
        self._fill_copies(records)
        present = {r.path for r in records}
        return DescriptorSet(
            {path: v for path, v in self._vectors.items() if path in present},
            str(self._model.identity),
        )

    def _submit(self, shape: tuple[int, ...]) -> None:
        items = self._buckets.pop(shape, [])
        if not items:
            return
        while len(self._in_flight) >= MAX_BATCHES_IN_FLIGHT:
            done, _ = wait(self._in_flight, return_when="FIRST_COMPLETED")
            for future in done:
                self._in_flight.remove(future)
                self._take(future)
        keys = [key for key, _ in items]
        batch = np.stack([array for _, array in items])
        self._in_flight.append(self._executor.submit(self._run, keys, batch))

    def _run(self, keys: list[Key], batch: np.ndarray) -> tuple[list[Key], np.ndarray]:
        return keys, self._model.embed(batch).astype(np.float16)

    def _take(self, future: Future[tuple[list[Key], np.ndarray]]) -> None:
        if future.cancelled():
            return
        try:
            keys, vectors = future.result()
        except Exception:  # the model failed on a batch: those files get no descriptor
            self.failed += 1
            return
        for key, vector in zip(keys, vectors, strict=True):
            self._vectors[key[0]] = vector
            self._done_keys.append(key)
            self._done_vectors.append(vector)
        self.described += len(keys)
        if len(self._done_keys) >= STORE_EVERY:
            self._store_done()

    def _store_done(self) -> None:
        if self._store is not None and self._done_keys:
            self._store.store_many(self._done_keys, np.stack(self._done_vectors))
        self._done_keys, self._done_vectors = [], []

    def _fill_copies(self, records: Sequence[ImageRecord]) -> None:
        """Copies decoded once (byte copies, same pixels) take their twin's descriptor."""
        by_digest: dict[object, np.ndarray] = {}
        for record in records:
            vector = self._vectors.get(record.path)
            if vector is not None:
                for twin_key in _twin_keys(record):
                    by_digest.setdefault(twin_key, vector)
        for record in [*self._copies, *records]:
            if record.path in self._vectors:
                continue
            for twin_key in _twin_keys(record):
                if twin_key in by_digest:
                    self._vectors[record.path] = by_digest[twin_key]
                    break


def _twin_keys(record: ImageRecord) -> list[object]:
    keys: list[object] = []
    if record.content_digest is not None:
        keys.append(("bytes", record.size, record.content_digest))
    if record.pixel_digest is not None:
        keys.append(("pixels", record.width, record.height, record.pixel_digest))
    return keys


def describe_images(model: DeepModel, images: Sequence[Any]) -> np.ndarray:
    """float16 descriptors of a few decoded images (a query), one batch per input size."""
    prepared = [prepare_input(image) for image in images]
    out = np.zeros((len(prepared), model.dimensions), np.float16)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for index, array in enumerate(prepared):
        by_shape.setdefault(array.shape, []).append(index)
    for rows in by_shape.values():
        out[rows] = model.embed(np.stack([prepared[i] for i in rows])).astype(np.float16)
    return out
