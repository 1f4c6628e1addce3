"""Deep copies of one image in a scanned library (`dedup-cli query --deep`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from dedup_gui.core.deep.descriptors import DescriptorSet
from dedup_gui.core.deep.extractor import describe_images
from dedup_gui.core.deep.links import LOOSEST_COSINE, DeepLink
from dedup_gui.core.deep.model import DeepModel
from dedup_gui.core.deep.verify import MIN_TEXTURE, PairVerifier, ThumbnailSource
from dedup_gui.core.grouping.similarity import similarity_to_distance
from dedup_gui.core.grouping.verification import Signals
from dedup_gui.core.images.decode import REDUCED_MIN_SIDE, open_reduced
from dedup_gui.core.models import ImageRecord


def deep_matches(
    image: ImageRecord,
    library: Sequence[ImageRecord],
    descriptors: DescriptorSet,
    model: DeepModel,
    thumbnails: ThumbnailSource,
    similarity: float,
    *,
    exclude: Collection[str] = (),
) -> list[tuple[ImageRecord, DeepLink]]:
    """Library records that are verified deep copies of `image` at `similarity`, best
    first; `exclude`: paths already matched otherwise."""
    if Signals.from_records([image]).texture[0] < MIN_TEXTURE or not library:
        return []
    reduced, _ = open_reduced(image.path, REDUCED_MIN_SIDE)
    probe = describe_images(model, [reduced])[0].astype(np.float32)
    matrix, present = descriptors.matrix(library)
    present &= Signals.from_records(library).texture >= MIN_TEXTURE
    cosine = matrix.astype(np.float32) @ probe
    candidates = np.flatnonzero(present & (cosine >= LOOSEST_COSINE))
    verifier = PairVerifier(thumbnails)
    threshold = similarity_to_distance(similarity)
    found = []
    for row in candidates[np.argsort(-cosine[candidates])].tolist():
        record = library[row]
        if record.path in exclude or record.path == image.path:
            continue
        link = verifier.verify(image, record, float(cosine[row]))
        if link is not None and link.distance <= threshold:
            found.append((record, link))
    return found
