"""A RAW+JPEG pair shown as one item of a group row: the RAW's thumbnail with a "RAW+JPG"
badge, the companion folded into it while both files carry the same mark."""

from __future__ import annotations

import os
from collections.abc import Callable

from dedup_gui.app.formatting import format_bytes
from dedup_gui.app.paths import display_path
from dedup_gui.core.files.imagetypes import is_raw_format
from dedup_gui.core.models import DuplicateGroup, GroupMember

Item = tuple[int, ...]
"""Member indices shown as one item: (index,) or (the RAW's index, its companion's)."""

_SHORT_FORMATS = {"JPEG": "JPG", "MPO": "JPG", "HEIF": "HEIC"}


def row_items(group: DuplicateGroup, is_kept: Callable[[GroupMember], bool]) -> tuple[Item, ...]:
    """The items of a group row, in member order. A pair is folded only while both files
    have the same mark, so a row never hides a file marked differently from what it shows."""
    members = group.members
    if all(member.pair_of is None for member in members):
        return tuple((index,) for index in range(len(members)))
    index_of = {member.record.path: index for index, member in enumerate(members)}
    folded: set[int] = set()
    items: list[Item] = []
    for index, member in enumerate(members):
        if index in folded:
            continue
        partner = index_of.get(member.pair_of) if member.pair_of is not None else None
        if partner is None or partner == index or is_kept(member) != is_kept(members[partner]):
            items.append((index,))
            continue
        raw_first = is_raw_format(member.record.format)
        items.append((index, partner) if raw_first else (partner, index))
        folded.add(partner)
    return tuple(items)


def pair_badge(raw: GroupMember, companion: GroupMember) -> str:
    """"RAW+JPG", "RAW+HEIC", ..."""
    kind = companion.record.format
    return f"RAW+{_SHORT_FORMATS.get(kind, kind)}"


def half_badge(member: GroupMember) -> str:
    """The tag of one file of a pair shown on its own (the two are marked differently)."""
    if is_raw_format(member.record.format):
        return "RAW·pair"
    return f"{_SHORT_FORMATS.get(member.record.format, member.record.format)}·pair"


def pair_name(raw: GroupMember, companion: GroupMember) -> str:
    """"IMG_0001.CR2 + .JPG" for the same stem, else both names."""
    raw_name = os.path.basename(display_path(raw.record.path))  # noqa: PTH119
    other_name = os.path.basename(display_path(companion.record.path))  # noqa: PTH119
    raw_stem, other_stem = os.path.splitext(raw_name)[0], os.path.splitext(other_name)  # noqa: PTH122
    if raw_stem.casefold() == other_stem[0].casefold():
        return f"{raw_name} + {other_stem[1]}"
    return f"{raw_name} + {other_name}"


def pair_sizes(raw: GroupMember, companion: GroupMember) -> str:
    return f"{format_bytes(raw.record.size)} + {format_bytes(companion.record.size)}"


def pair_tooltip(raw: GroupMember, companion: GroupMember) -> str:
    return (
        "RAW+JPEG pair (both files carry this mark):\n"
        f"{display_path(raw.record.path)}\n{display_path(companion.record.path)}"
    )
