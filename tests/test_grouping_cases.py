"""Groups a user would (and would not) accept, from generated images."""

from dataclasses import replace

import pytest
from grouping_records import flat, gradient, record, variants, with_caption
from imagegen import make_photo
from PIL import Image

from dedup_gui.core.grouping.candidates import Cancelled
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY, MIN_SIMILARITY
from dedup_gui.core.models import CancelToken, MatchKind


def paths(groups):
    return sorted(sorted(m.record.path for m in g.members) for g in groups)


@pytest.fixture(scope="module")
def library():
    """Three photos, each with five edited copies, plus ten unrelated photos."""
    records = []
    for seed in range(3):
        original = make_photo(seed, 320, 240)
        records.append(record(original, f"/lib/{seed}/original.png", size=300_000))
        for name, image in variants(original).items():
            records.append(record(image, f"/lib/{seed}/{name}.png", size=100_000))
    for seed in range(100, 110):
        records.append(record(make_photo(seed, 320, 240), f"/other/{seed}.png"))
    return records


def test_edited_copies_group_with_their_original_and_nothing_else(library):
    groups = SimilarityIndex.build(library).groups(DEFAULT_SIMILARITY)
    expected = [
        sorted(r.path for r in library if r.path.startswith(f"/lib/{seed}/")) for seed in range(3)
    ]
    assert paths(groups) == sorted(expected)


def test_the_keeper_comes_first_and_every_other_copy_is_suggested_for_removal(library):
    for group in SimilarityIndex.build(library).groups(DEFAULT_SIMILARITY):
        keeper, *others = group.members
        assert keeper.record.path.endswith("/original.png")  # highest resolution
        assert keeper.keep and keeper.similarity == 100.0 and keeper.distance == 0
        assert others and not any(m.keep for m in others)
        similarities = [m.similarity for m in others]
        assert similarities == sorted(similarities, reverse=True)
        # Shown from the thumbnails: 100% only for the same pixels or bytes.
        assert all(
            0.0 < m.similarity < 100.0 or m.match is not MatchKind.VISUAL for m in others
        )


def test_reference_folder_copies_are_never_suggested_for_removal(library):
    index = SimilarityIndex.build(library)
    groups = index.groups(DEFAULT_SIMILARITY, reference_folders=["/lib/1"])
    for group in groups:
        for member in group.members:
            if member.record.path.startswith("/lib/1/"):
                assert member.is_reference and member.keep
            else:
                assert not member.is_reference
    protected = next(g for g in groups if g.keeper.record.path.startswith("/lib/1/"))
    assert protected.reclaimable_bytes == 0


def test_groups_come_largest_saving_first(library):
    boosted = [
        replace(r, size=10_000_000) if r.path == "/lib/2/jpeg-q30.png" else r for r in library
    ]
    groups = SimilarityIndex.build(boosted).groups(DEFAULT_SIMILARITY)
    savings = [g.reclaimable_bytes for g in groups]
    assert savings == sorted(savings, reverse=True)
    assert groups[0].keeper.record.path.startswith("/lib/2/")


def test_byte_identical_files_are_exact_matches_even_at_100_percent():
    image = make_photo(5, 200, 150)
    copies = [record(image, f"/c/{n}.png", size=1234, digest=b"same") for n in "abc"]
    groups = SimilarityIndex.build(copies).groups(100)
    assert paths(groups) == [["/c/a.png", "/c/b.png", "/c/c.png"]]
    assert groups[0].kind is MatchKind.EXACT
    assert all(m.match is MatchKind.EXACT and m.similarity == 100.0 for m in groups[0].members)


def test_a_re_encoded_copy_is_visual_not_exact():
    image = make_photo(6, 200, 150)
    records = [
        record(image, "/c/a.png", size=1000, digest=b"a"),
        record(variants(image)["jpeg-q30"], "/c/b.jpg", size=1000, digest=b"b"),
    ]
    group = SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY)[0]
    assert [m.match for m in group.members] == [MatchKind.VISUAL, MatchKind.VISUAL]
    assert group.kind is MatchKind.VISUAL


def test_gradients_of_different_colours_never_group():
    """Grayscale hashes of these are all alike; colour must tell them apart."""
    colours = [
        ((255, 140, 0), (40, 160, 60)),  # orange-green
        ((10, 20, 90), (20, 60, 160)),  # dark blue
        ((255, 150, 190), (250, 210, 220)),  # pink
        ((120, 120, 120), (200, 200, 200)),  # grey
        ((200, 30, 30), (250, 200, 40)),
    ]
    records = [record(gradient(128, a, b), f"/g/{k}.png") for k, (a, b) in enumerate(colours)]
    assert SimilarityIndex.build(records).groups(MIN_SIMILARITY) == []


def test_the_same_gradient_saved_twice_is_still_found():
    image = gradient(128, (255, 140, 0), (40, 160, 60))
    records = [record(image, "/g/a.png", size=10), record(image.copy(), "/g/b.png", size=20)]
    assert paths(SimilarityIndex.build(records).groups(100)) == [["/g/a.png", "/g/b.png"]]


def test_low_detail_frames_do_not_group_with_each_other():
    colours = [(5, 5, 5), (12, 10, 8), (20, 20, 24), (128, 128, 128), (200, 200, 205)]
    records = [record(flat(96, c, seed=k), f"/f/{k}.png") for k, c in enumerate(colours)]
    records += [record(flat(96, (6, 6, 6), seed=50 + k), f"/f/dark{k}.png") for k in range(4)]
    groups = SimilarityIndex.build(records).groups(MIN_SIMILARITY)
    assert all(len(g.members) <= 2 for g in groups)
    assert not any("/f/0.png" in p and "/f/3.png" in p for p in paths(groups))


def test_groups_do_not_chain_through_a_middle_image():
    """A ~ B and B ~ C but A !~ C: no group may hold A and C unless some member
    matches both at the chosen setting."""
    base = make_photo(11, 400, 300)
    steps = [base.crop((dx, 0, dx + 300, 300)) for dx in range(0, 100, 12)]
    records = [record(image, f"/chain/{k}.png") for k, image in enumerate(steps)]
    index = SimilarityIndex.build(records)
    for similarity in (DEFAULT_SIMILARITY, MIN_SIMILARITY):
        for group in index.groups(similarity):
            members = [m.record for m in group.members]
            assert any(
                {r.path for r in members}
                <= {p.path for p, _, _ in index.matches(prototype, similarity)} | {prototype.path}
                for prototype in members
            )
        assert ["/chain/0.png", "/chain/8.png"] not in [
            [p[0], p[-1]] for p in paths(index.groups(similarity))
        ]


def test_a_captioned_copy_still_matches():
    base = make_photo(12, 320, 240)
    records = [record(base, "/t/a.png"), record(with_caption(base, "2021-06-01"), "/t/b.png")]
    assert len(SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY)) == 1


def test_rotated_and_mirrored_pixels_match_only_with_the_option():
    base = make_photo(13, 320, 240)
    turned = {
        "rot90": base.transpose(Image.Transpose.ROTATE_90),
        "rot180": base.transpose(Image.Transpose.ROTATE_180),
        "mirror": base.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    }
    records = [record(base, "/r/original.png")]
    records += [record(image, f"/r/{name}.png") for name, image in turned.items()]
    records.append(record(make_photo(14, 320, 240), "/r/other.png"))
    assert SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY) == []
    groups = SimilarityIndex.build(records, match_transforms=True).groups(DEFAULT_SIMILARITY)
    assert paths(groups) == [["/r/mirror.png", "/r/original.png", "/r/rot180.png", "/r/rot90.png"]]


def test_query_by_image_finds_copies_best_first(library):
    index = SimilarityIndex.build([r for r in library if not r.path.endswith("/0/original.png")])
    outside = next(r for r in library if r.path == "/lib/0/original.png")
    found = index.matches(outside, DEFAULT_SIMILARITY)
    assert {r.path for r, _, _ in found} == {
        r.path for r in library if r.path.startswith("/lib/0/") and r is not outside
    }
    similarities = [s for _, _, s in found]
    assert similarities == sorted(similarities, reverse=True)
    assert index.matches(record(make_photo(999, 320, 240), "/x.png"), MIN_SIMILARITY) == []


def test_build_stops_when_cancelled(library):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        SimilarityIndex.build(library, cancel=token)


def test_build_reports_progress(library):
    calls = []
    SimilarityIndex.build(library, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]


def test_an_empty_or_single_library_has_no_groups():
    assert SimilarityIndex.build([]).groups(DEFAULT_SIMILARITY) == []
    single = [record(make_photo(1, 64, 48), "/one.png")]
    assert SimilarityIndex.build(single).groups(MIN_SIMILARITY) == []
