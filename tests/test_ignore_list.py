""""Not duplicates": kept apart at every setting, by content, across restarts and moves."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import numpy as np
from grouping_records import record
from hypothesis import given
from hypothesis import strategies as st
from imagegen import make_photo
from PIL import ImageEnhance
from test_grouping_properties import PROPERTY_SETTINGS, SETTINGS, described, libraries

from dedup_gui.core.decisions.ignore_list import IgnoreList, NotComparableError, apart_pairs
from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY
from dedup_gui.core.scanning import scanner


def paths_of(groups) -> list[set[str]]:
    return [{m.record.path for m in g.members} for g in groups]


def three_alike(tmp_path):
    """A photo, a slightly brighter copy and a slightly darker one: one group of three."""
    photo = make_photo(7, 320, 240)
    files = []
    for name, factor in (("a.png", 1.0), ("b.png", 1.06), ("c.png", 0.94)):
        path = tmp_path / "photos" / name
        path.parent.mkdir(exist_ok=True)
        ImageEnhance.Brightness(photo).enhance(factor).save(path)
        files.append(path)
    return files


def test_a_pair_marked_not_duplicates_never_shares_a_group_even_through_a_third(tmp_path):
    files = three_alike(tmp_path)
    records = scanner.scan([tmp_path / "photos"]).records
    assert {str(f) for f in files} in paths_of(SimilarityIndex.build(records).groups(90))
    with DecisionStore(tmp_path / "decisions.sqlite3") as store:
        ignore = IgnoreList(store)
        by_name = {r.path.rsplit("/", 1)[1]: r for r in records}
        assert ignore.add([by_name["b.png"], by_name["c.png"]]) == 1
        # The next scan digests the files whose size is in the list, to recognise them.
        records = scanner.scan([tmp_path / "photos"], sizes_elsewhere=ignore.sizes()).records
        index = SimilarityIndex.build(records, apart=ignore.apart_pairs(records))
    for similarity in (*SETTINGS, MIN_SIMILARITY):
        for group in paths_of(index.groups(similarity)):
            assert not {str(files[1]), str(files[2])} <= group
    assert any(str(files[0]) in group for group in paths_of(index.groups(90)))


def test_the_list_outlives_the_window_and_follows_renamed_files(tmp_path):
    files = three_alike(tmp_path)
    records = {r.path: r for r in scanner.scan([tmp_path / "photos"]).records}
    store_path = tmp_path / "data" / "decisions.sqlite3"
    with DecisionStore(store_path) as store:
        IgnoreList(store).add([records[str(files[0])], records[str(files[1])]])
    renamed = files[0].with_name("renamed.png")
    files[0].rename(renamed)
    with DecisionStore(store_path) as store:
        ignore = IgnoreList(store)
        (entry,) = ignore.entries()
        assert {entry.first_path, entry.second_path} == {str(files[0]), str(files[1])}
        rescan = scanner.scan([tmp_path / "photos"], sizes_elsewhere=ignore.sizes()).records
        index = SimilarityIndex.build(rescan, apart=ignore.apart_pairs(rescan))
        for group in paths_of(index.groups(MIN_SIMILARITY)):
            assert not {str(renamed), str(files[1])} <= group
        assert ignore.remove([r for r in rescan if r.path in (str(renamed), str(files[1]))]) == 1
        assert ignore.entries() == []


def test_byte_identical_copies_cannot_be_marked_apart(tmp_path):
    photo = tmp_path / "a.png"
    make_photo(1, 64, 48).save(photo)
    (tmp_path / "b.png").write_bytes(photo.read_bytes())
    records = scanner.scan([tmp_path]).records
    with DecisionStore(tmp_path / "d.sqlite3") as store:
        try:
            IgnoreList(store).add(records)
        except NotComparableError as error:
            assert "byte-identical" in str(error)
        else:
            raise AssertionError("byte copies were accepted")


def test_a_damaged_store_is_set_aside_never_deleted(tmp_path):
    store_path = tmp_path / "decisions.sqlite3"
    store_path.write_bytes(b"this is not a database, but the user's decisions were here" * 100)
    with DecisionStore(store_path) as store:
        assert store.warnings and "kept as" in store.warnings[0]
        assert IgnoreList(store).entries() == []
    kept = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is not a database")


def test_a_store_from_an_older_version_keeps_its_entries(tmp_path):
    store_path = tmp_path / "decisions.sqlite3"
    images = [make_photo(3, 64, 48), make_photo(4, 64, 48)]
    records = [record(img, f"/p/{k}.png", digest=bytes([k]) * 32) for k, img in enumerate(images)]
    with DecisionStore(store_path) as store:
        IgnoreList(store).add(records)
    with sqlite3.connect(store_path) as connection:  # as if written by this same version
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    assert version >= 1
    with DecisionStore(store_path) as store:
        assert len(IgnoreList(store).entries()) == 1


@PROPERTY_SETTINGS
@given(libraries(), st.data())
def test_adding_pairs_to_an_index_groups_as_a_build_with_them_would(records, data):
    records = [r if r.content_digest else replace(r, content_digest=r.path.encode())
               for r in records]
    count = len(records)
    pairs = data.draw(st.lists(
        st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=5
    ))
    first = [a for a, b in pairs if a != b]
    second = [b for a, b in pairs if a != b]
    apart = (np.array(first, np.int64), np.array(second, np.int64))
    built = SimilarityIndex.build(records, apart=apart)
    added = SimilarityIndex.build(records).with_apart(*apart)
    for similarity in SETTINGS:
        assert described(added.groups(similarity)) == described(built.groups(similarity))
    gone = {records[0].path}
    rebuilt = SimilarityIndex.build(
        records[1:], apart=apart_pairs([], records[1:]) if not first else (
            np.array([a - 1 for a, b in zip(first, second, strict=True) if a and b], np.int64),
            np.array([b - 1 for a, b in zip(first, second, strict=True) if a and b], np.int64),
        )
    )
    shrunk = built.without(gone)
    for similarity in SETTINGS:
        assert described(shrunk.groups(similarity)) == described(rebuilt.groups(similarity))
