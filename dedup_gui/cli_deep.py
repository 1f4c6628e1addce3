"""`--deep` and `--deep-model` for dedup-cli scan and query (core/deep, the `deep` extra)."""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

from dedup_gui.cli_text import UsageError
from dedup_gui.core.models import ImageRecord, ScanResult
from dedup_gui.core.scanning.cache import HashCache

if TYPE_CHECKING:
    from PIL import Image

    from dedup_gui.core.deep.extractor import DescriptorExtractor
    from dedup_gui.core.deep.links import DeepLink
    from dedup_gui.core.deep.verify import DeepSearch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deep", action="store_true",
        help="also find crops, small turns and edited copies with a copy-detection model "
        "(slower; needs the 'deep' extra)",
    )
    parser.add_argument(
        "--deep-model", metavar="FILE",
        help="an SSCD-compatible ONNX file to use with --deep instead of the bundled model",
    )


def extractor(args: argparse.Namespace, cache: HashCache | None) -> DescriptorExtractor | None:
    """The scan's descriptor hook with --deep, else None. Raises UsageError when the extra
    or the model is missing."""
    if not args.deep:
        if args.deep_model:
            raise UsageError("--deep-model needs --deep")
        return None
    from dedup_gui.core.deep import availability

    problem = availability(args.deep_model)
    if problem is not None:
        raise UsageError(problem)
    from dedup_gui.core.deep.extractor import DescriptorExtractor
    from dedup_gui.core.deep.model import DeepUnavailable, load_model
    from dedup_gui.core.deep.store import DescriptorStore

    try:
        model = load_model(args.deep_model)
    except DeepUnavailable as error:
        raise UsageError(str(error)) from error
    store = DescriptorStore(cache.path if cache is not None else None, str(model.identity))
    return DescriptorExtractor(model, store)


def thumbnails(cache: HashCache | None) -> Any:
    from dedup_gui.core.images.decode import ImageLoadError
    from dedup_gui.core.images.thumbnails import load_thumbnail

    def thumbnail(record: ImageRecord) -> Image.Image | None:
        with contextlib.suppress(ImageLoadError, OSError):
            return load_thumbnail(record.path, cache=cache)
        return None

    return thumbnail


def search(args: argparse.Namespace, result: ScanResult, cache: HashCache | None
           ) -> DeepSearch | None:
    if not args.deep or result.descriptors is None:
        return None
    from dedup_gui.core.deep.verify import DeepSearch

    return DeepSearch(result.descriptors, thumbnails(cache))


def query_matches(
    args: argparse.Namespace, image: ImageRecord, result: ScanResult,
    cache: HashCache | None, found: set[str],
) -> list[tuple[ImageRecord, DeepLink]]:
    """Deep copies of `image` in the library scan (not already in `found`)."""
    if not args.deep or result.descriptors is None:
        return []
    from dedup_gui.core.deep.model import load_model
    from dedup_gui.core.deep.query import deep_matches

    library = [r for r in result.records if r.path != image.path]
    return deep_matches(
        image, library, result.descriptors, load_model(args.deep_model), thumbnails(cache),
        args.similarity, exclude=found,
    )


def match_entry(link: DeepLink) -> dict[str, Any]:
    """What a JSON match says beyond the usual: "match": "deep", the kind, the region."""
    return {
        "similarity": link.similarity,
        "match": "deep",
        "deep_kind": link.kind,
        "region": [round(v, 4) for v in link.region],
        "region_in": link.container,
    }
