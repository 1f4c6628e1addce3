"""Deep matching for one scan-and-group run of the app (or any caller that scans and then
builds an index): the descriptor hook for the scan, then the deep search for the index."""

from __future__ import annotations

import contextlib
from typing import Any

from PIL import Image

from dedup_gui.core.deep.descriptors import DescriptorSet
from dedup_gui.core.deep.extractor import DescriptorExtractor
from dedup_gui.core.deep.model import default_model_file, load_model
from dedup_gui.core.deep.store import DescriptorStore
from dedup_gui.core.deep.verify import DeepSearch
from dedup_gui.core.images.decode import ImageLoadError
from dedup_gui.core.images.thumbnails import load_thumbnail
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning.cache import HashCache


def scan_hook(cache: HashCache | None, model_file: str | None = None) -> DescriptorExtractor:
    model = load_model(model_file or default_model_file())
    store = DescriptorStore(cache.path if cache is not None else None, str(model.identity))
    return DescriptorExtractor(model, store)


def deep_search(descriptors: Any) -> DeepSearch | None:
    """The index's deep search over a scan's descriptors; thumbnails come from the
    default cache (else a reduced decode)."""
    if not isinstance(descriptors, DescriptorSet):
        return None

    def thumbnail(record: ImageRecord) -> Image.Image | None:
        with contextlib.suppress(ImageLoadError, OSError), HashCache.open_default() as cache:
            return load_thumbnail(record.path, cache=cache)
        return None

    return DeepSearch(descriptors, thumbnail)
