"""HEIF/HEIC embedded thumbnails: hash a phone photo from the small image it carries, and
confirm those hashes from the real image before anything is done with the file.

libheif cannot decode a HEIC at a reduced scale (a phone's 12 MP picture is a grid of
512 px HEVC tiles, every one decoded), but phones embed a 320x240 copy of the picture. When
that copy is big enough for the 256 px review thumbnail the signatures are computed on,
decoding it instead costs about a hundredth (benchmarks/bench_formats.py). pillow-heif picks
it (`draft`) only when it is a scaled copy: same aspect ratio, orientation, crop and colour
profile as the image.

What no header can tell is whether the thumbnail still shows the picture: a program that
edits the image and keeps the old thumbnail leaves a stale one. Such a record says
`from_thumbnail`, its `pixel_digest` is left empty (so it never counts as "the same
pixels"), and `confirm_thumbnail_hashes` must agree before a file whose record came from
a thumbnail is moved to the trash, or kept in place of one that is: trash.recheck, right
before acting, is where it belongs (it re-reads the file anyway).

A HEIC without a thumbnail still costs its full decode. Decoding its HEVC tiles with FFmpeg
(PyAV) instead and keeping only small planes was measured at 1.48x less CPU a 12 MP photo
(decode alone 1.6x), under the 1.8x it would need to be worth a second decoder: not used
(benchmarks/notes/heic_pyav_tiles.md, benchmarks/bench_heic_tiles.py).
"""

from __future__ import annotations

import math
import os

from PIL import Image

DECODE_THREADS = 2
"""libheif's threads for one decode (pillow-heif's default is 4). On 2 cores with 2 workers,
12 MP grid HEICs: 1 thread 0.54, 2 threads 0.81, 4 threads 0.77 photos/s
(benchmarks/bench_formats.py --heif-threads, on a loaded machine): a decode waits on its
slowest tile, so a second thread still pays while the other worker runs."""
CONFIRM_MAX_PHASH_BITS = 8
"""A thumbnail that shows the picture hashes within a few bits of a decode of the image
(at most 2 on the benchmark photos); another picture is 20-40 bits away."""


def use_embedded(image: Image.Image, long_side: int) -> bool:
    """Make the opened HEIF `image` decode its smallest embedded thumbnail whose longer side
    is at least `long_side` (a scaled copy of the image), if it has one. True if so."""
    width, height = image.size
    longest = max(width, height, 1)
    if longest <= long_side:
        return False
    needed = (math.ceil(width * long_side / longest), math.ceil(height * long_side / longest))
    try:
        chosen = image.draft(image.mode, needed)
    except Exception:  # a damaged thumbnail must cost nothing but the shortcut
        return False
    return chosen is not None


def confirm_thumbnail_hashes(path: str | os.PathLike[str], phash: int) -> bool:
    """Whether a full decode of `path` hashes like `phash` (the record's, from its embedded
    thumbnail). Raises decode.ImageLoadError when the file can no longer be read."""
    from dedup_gui.core.images.decode import REDUCED_MIN_SIDE, open_reduced
    from dedup_gui.core.images.signatures import compute_signatures
    from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within

    reduced, _info = open_reduced(path, REDUCED_MIN_SIDE)
    full = compute_signatures(fit_within(reduced, THUMBNAIL_SIDE))
    return (full.phash ^ phash).bit_count() <= CONFIRM_MAX_PHASH_BITS
