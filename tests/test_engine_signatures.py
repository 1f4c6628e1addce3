"""Signatures agree bit for bit with imagehash, and the dihedral pHashes find turned copies."""

from __future__ import annotations

import imagehash
import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.images.signatures import (
    PHASH_INPUT_SIDE,
    compute_signatures,
    compute_signatures_many,
    hash_to_int,
)
from dedup_gui.core.models import DIHEDRAL_ORDER, MICRO_SIDE
from tests.imagegen import make_photo

TURNS: dict[str, tuple[Image.Transpose, ...]] = {
    "identity": (),
    "rotate90": (Image.Transpose.ROTATE_90,),
    "rotate180": (Image.Transpose.ROTATE_180,),
    "rotate270": (Image.Transpose.ROTATE_270,),
    "mirror": (Image.Transpose.FLIP_LEFT_RIGHT,),
    "mirror_rotate90": (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90),
    "mirror_rotate180": (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180),
    "mirror_rotate270": (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270),
}


def turn(image: Image.Image, name: str) -> Image.Image:
    for step in TURNS[name]:
        image = image.transpose(step)
    return image


def sample_images() -> list[Image.Image]:
    photos = [make_photo(seed, 256, 192) for seed in range(12)]
    photos += [make_photo(seed, 150, 256) for seed in range(12, 16)]
    flat = [Image.new("RGB", (64, 48), colour) for colour in ((0, 0, 0), (200, 30, 30))]
    tiny = [make_photo(99, 8, 8), Image.new("RGB", (1, 1), (10, 20, 30))]
    # Few grey levels: many equal DCT coefficients, so ties at the median are likely.
    posterized = [
        make_photo(seed, 64, 64).convert("L").point(lambda v: v // 64 * 64) for seed in (1, 2)
    ]
    return photos + flat + tiny + [image.convert("RGB") for image in posterized]


@pytest.mark.parametrize("image", sample_images(), ids=lambda image: f"{image.size}")
def test_dhash_and_phash_are_bit_identical_to_imagehash(image):
    signatures = compute_signatures(image)
    assert signatures.dhash == hash_to_int(imagehash.dhash(image))
    assert signatures.phash == hash_to_int(imagehash.phash(image))
    assert signatures.phash_dihedral[0] == signatures.phash


@pytest.mark.parametrize("image", sample_images(), ids=lambda image: f"{image.size}")
def test_each_dihedral_phash_is_imagehash_of_the_turned_phash_input(image):
    grey = image.convert("L").resize((PHASH_INPUT_SIDE, PHASH_INPUT_SIDE), Image.Resampling.LANCZOS)
    signatures = compute_signatures(image)
    expected = [hash_to_int(imagehash.phash(turn(grey, name))) for name in DIHEDRAL_ORDER]
    assert list(signatures.phash_dihedral) == expected


@pytest.mark.parametrize("name", DIHEDRAL_ORDER[1:])
def test_a_turned_copy_hashes_like_the_matching_dihedral_phash(name):
    original = make_photo(5, 256, 192)
    turned_copy = turn(original, name)
    expected = compute_signatures(original).phash_dihedral[DIHEDRAL_ORDER.index(name)]
    distance = bin(compute_signatures(turned_copy).phash ^ expected).count("1")
    assert distance <= 4


def test_hashes_are_unsigned_64_bit_ints_and_micro_is_16x16_rgb():
    signatures = compute_signatures(make_photo(3, 200, 150))
    for value in (signatures.dhash, signatures.phash, *signatures.phash_dihedral):
        assert isinstance(value, int)
        assert 0 <= value < 1 << 64
    assert len(signatures.micro) == MICRO_SIDE * MICRO_SIDE * 3
    micro = np.frombuffer(signatures.micro, np.uint8).reshape(MICRO_SIDE, MICRO_SIDE, 3)
    assert micro.std() > 5  # real picture content, not a flat fill


def test_non_rgb_input_is_hashed_as_its_rgb_conversion():
    photo = make_photo(8, 160, 120)
    assert compute_signatures(photo.convert("RGBA").convert("RGB")) == compute_signatures(photo)
    grey = photo.convert("L")
    assert compute_signatures(grey) == compute_signatures(grey.convert("RGB"))


def test_a_batch_has_the_same_signatures_as_each_image_alone():
    # Several images of one size (the batch's shared arrays) and odd ones (modes, tiny,
    # flat, portrait) in one call.
    images = sample_images() + [make_photo(seed, 256, 192).convert("L") for seed in (40, 41)]
    assert compute_signatures_many(images) == [compute_signatures(image) for image in images]
    assert compute_signatures_many([]) == []
