"""The stacked keeper (keeper_batch.py) picks the same keeper, for the same reason, as
`choose_in_group` on each group: for any group, any reference folders and any rule chain."""

from collections import Counter
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup_gui.core.grouping.keeper import (
    DEFAULT_KEEPER_RULES,
    KeeperRule,
    choose_in_group,
    rules_preferring,
)
from dedup_gui.core.grouping.keeper_batch import choose_keepers
from dedup_gui.core.images.provenance import DETAIL_CELLS
from dedup_gui.core.models import MICRO_SIDE, ImageRecord

SIDE = MICRO_SIDE
CHAINS = (
    DEFAULT_KEEPER_RULES,
    rules_preferring(KeeperRule.FILE_SIZE),
    rules_preferring(KeeperRule.CAPTURE_DATE),
    (KeeperRule.ORIGINAL,),
    tuple(reversed(DEFAULT_KEEPER_RULES)),
)


def edited_micro(rng: np.random.Generator, base: np.ndarray, edit: str) -> bytes:
    """The base thumbnail as an editor would change it."""
    image = base.astype(np.int64).reshape(SIDE, SIDE, 3)
    if edit == "grey":
        image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2).astype(np.int64)
    elif edit == "caption":
        image[12:, 12:] += 60
    elif edit == "brighter":
        image = image + 30
    elif edit == "darker":
        image = image - 30
    elif edit == "noise":
        image = image + rng.integers(-1, 2, image.shape)
    elif edit == "broken":
        return b"\x00" * 10
    return np.clip(image, 0, 255).astype(np.uint8).tobytes()


def group_of(rng: np.random.Generator, group: int, size: int) -> list[ImageRecord]:
    # A smooth picture (a gradient with some texture): edits keep its layout aligned.
    ramp = np.add.outer(np.arange(SIDE), np.arange(SIDE)) * 7 + rng.integers(0, 12, (SIDE, SIDE))
    base = np.stack([ramp, ramp[::-1], ramp.T], axis=2) // 2 + 20
    shared_size = int(rng.integers(1, 4)) * 1_000_000
    records = []
    for k in range(size):
        quality = [None, 70, 85, 92, 95][int(rng.integers(0, 5))]
        edit = ["same", "noise", "grey", "caption", "brighter", "darker", "broken"][
            int(rng.integers(0, 7))
        ]
        detail = bytes(rng.integers(0, 60, DETAIL_CELLS + 2).astype(np.uint8))
        # Some copies share decoded pixels: a PNG or a BMP of a JPEG's decode, or of each other.
        digest = [None, b"pixels-1", b"pixels-2"][int(rng.integers(0, 3))]
        converted = rng.random() < 0.25
        record = ImageRecord(
            path=f"/lib/{['a', 'ref', 'b'][int(rng.integers(0, 3))]}/{group}_{k}.jpg",
            size=shared_size if rng.random() < 0.3 else int(rng.integers(500_000, 4_000_000)),
            mtime_ns=int(rng.integers(0, 3)) * 90_000_000_000,
            width=[4000, 4000, 3000, 2000][int(rng.integers(0, 4))],
            height=3000,
            format="RAW (DNG)" if rng.random() < 0.1 else "JPEG",
            capture_time=None if rng.random() < 0.3 else f"2020-01-0{int(rng.integers(1, 3))}",
            dhash=0,
            phash=0,
            phash_dihedral=(0,) * 8,
            micro=edited_micro(rng, base, edit),
            jpeg_quality=quality,
            camera="Canon EOS 80D" if rng.random() < 0.5 else None,
            software=["Firmware 1.0", "Adobe Photoshop", None][int(rng.integers(0, 3))],
            edited_after_capture=rng.random() < 0.2,
            detail=detail if rng.random() < 0.9 else b"",
            pixel_digest=digest,
        )
        if converted:
            record = replace(record, format=["PNG", "BMP"][k % 2], jpeg_quality=None)
            if rng.random() < 0.5:  # a large conversion: the full decodes were compared
                record = replace(
                    record, pixel_digest=b"own pixels",
                    holds_decode_of=[None, b"pixels-1", b"pixels-2"][int(rng.integers(0, 3))],
                )
        records.append(record)
    return records


def one_by_one(records, groups, is_reference, rules):
    out = []
    for members in groups:
        position, reason = choose_in_group(
            [records[i] for i in members], [bool(is_reference[i]) for i in members], rules
        )
        out.append((members[position], reason))
    return out


def library(seed: int, count: int) -> tuple[list[ImageRecord], list[tuple[int, ...]]]:
    rng = np.random.default_rng(seed)
    records: list[ImageRecord] = []
    groups = []
    for g in range(count):
        size = int(rng.choice([2, 2, 2, 3, 3, 4, 6, 14]))
        members = group_of(rng, g, size)
        # Members in any order of the records list, as the index's rows are.
        groups.append(tuple(range(len(records), len(records) + size)))
        records.extend(members)
    return records, groups


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), chain=st.sampled_from(CHAINS))
def test_every_group_gets_the_keeper_and_reason_choose_in_group_gives(seed, chain):
    records, groups = library(seed, 40)
    is_reference = np.array(["/ref/" in r.path for r in records])
    assert choose_keepers(records, groups, is_reference, chain) == one_by_one(
        records, groups, is_reference, chain
    )


def test_the_stacked_path_decides_by_every_originals_step():
    """Guards the test above: the generated groups reach each step of the originals chain."""
    records, groups = library(7, 600)
    is_reference = np.zeros(len(records), dtype=bool)
    chosen = choose_keepers(records, groups, is_reference, DEFAULT_KEEPER_RULES)
    assert chosen == one_by_one(records, groups, is_reference, DEFAULT_KEEPER_RULES)
    reasons = Counter(reason for _, reason in chosen)
    for step in (
        "the camera RAW (the others are made from it)",
        "most pixels",
        "has the camera's metadata",
        "the others were saved again by an editing program",
        "the others are lossless conversions of it",
        "the others are JPEG re-encodes of it",
        "the others look edited from it",
        "saved before the others",
    ):
        assert reasons[f"kept: {step}"] > 0, step  # alone
        if "RAW" not in step:  # (the RAW rule comes after the protected folders only)
            assert any(f", then {step}" in reason for reason in reasons), step  # after another


def test_identical_copies_fall_back_to_the_first_path():
    records, _ = library(3, 1)
    twins = [replace(records[0], path=f"/lib/{name}.jpg") for name in ("b", "a", "c")]
    chosen = choose_keepers(twins, [(0, 1, 2)], np.zeros(3, dtype=bool), DEFAULT_KEEPER_RULES)
    assert chosen == [(1, "kept: the copies are alike; first by name")]
