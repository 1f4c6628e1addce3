"""Plain data passed between the engine's stages, the CLI and the GUI.

Everything here is immutable and picklable, so records can cross process boundaries
(worker processes) and thread boundaries (Qt workers) without copying rules.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from itertools import repeat
from typing import Any

HASH_BITS = 64
MICRO_SIDE = 16
"""The micro thumbnail is MICRO_SIDE x MICRO_SIDE RGB pixels (768 bytes)."""

DIHEDRAL_ORDER = (
    "identity",
    "rotate90",
    "rotate180",
    "rotate270",
    "mirror",
    "mirror_rotate90",
    "mirror_rotate180",
    "mirror_rotate270",
)
"""Order of ImageRecord.phash_dihedral: the image turned counter-clockwise by 0/90/180/270
degrees, then the same four after a left-right mirror. Index 0 is the plain pHash."""


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One hashed image file. Paths are absolute `str` (undecodable bytes kept as
    surrogate escapes, as `os.fsdecode` does), so they round-trip to the file system."""

    path: str
    size: int
    mtime_ns: int
    width: int
    """Width after the EXIF orientation is applied (what the user sees)."""
    height: int
    format: str
    """Pillow's format name: "JPEG", "PNG", "WEBP", "HEIF", "AVIF", ..."""
    capture_time: str | None
    """EXIF DateTimeOriginal as ISO 8601 "YYYY-MM-DDTHH:MM:SS", or None."""
    dhash: int
    """64-bit imagehash.dhash of the oriented, flattened image, as an unsigned int."""
    phash: int
    """64-bit imagehash.phash of the oriented, flattened image, as an unsigned int."""
    phash_dihedral: tuple[int, ...]
    """pHash of the image under each transform of DIHEDRAL_ORDER; [0] == phash."""
    micro: bytes
    """MICRO_SIDE x MICRO_SIDE RGB thumbnail (row-major, 3 bytes a pixel) of the oriented,
    flattened image: colour and layout evidence for verifying candidate pairs."""
    content_digest: bytes | None = None
    """Digest of the file's bytes. The scanner fills it only for files whose size is shared
    by another scanned file (only those can be byte-identical)."""
    dev: int = field(default=0, compare=False)
    ino: int = field(default=0, compare=False)
    ctime_ns: int = field(default=0, compare=False)
    """st_dev, st_ino and st_ctime_ns of the file when this scan saw it (0: unknown). Not
    part of what the record means (a cached record is the same record): they let the
    re-check before a trash notice a file replaced or rewritten with its size and mtime
    put back, which no program can do to the ctime."""
    jpeg_quality: int | None = None
    """Quality (1-100) estimated from the JPEG's luma quantisation table; None if not JPEG."""
    camera: str | None = None
    """EXIF make and model ("Canon EOS 80D"), as a camera writes them; None when stripped."""
    software: str | None = None
    """EXIF Software tag: a camera's firmware, or the program that last saved the file."""
    edited_after_capture: bool = False
    """The EXIF says the file was changed after the camera wrote it: a modify date later
    than the capture date, or EXIF pixel dimensions that disagree with the pixels."""
    pixel_digest: bytes | None = None
    """Digest of the decoded review thumbnail: equal for files whose decoded pixels are the
    same (a copy with its metadata stripped, the same pixels saved as PNG and BMP)."""
    detail: bytes = b""
    """provenance.DETAIL_CELLS edge-energy bytes of the thumbnail (4x4 grid, row-major),
    then the share of clipped-white and clipped-black pixels (0-255 each)."""
    from_thumbnail: bool = False
    """The signatures come from the file's embedded thumbnail (a phone's HEIC), not from a
    decode of its image. A thumbnail may be stale (another picture): before acting on such
    a file, images.heif_thumbnails.confirm_thumbnail_hashes must agree."""
    holds_decode_of: bytes | None = None
    """For a lossless file (PNG, BMP, TIFF, ...): the pixel_digest of a lossy file (JPEG,
    HEIF, AVIF) of the same size whose full-size decode this file was found to hold
    (scanning/confirm_conversions.py): a conversion of it the pixel digests, taken from
    reduced decodes, cannot show above 512 px. None: none found."""


class ErrorKind(str, Enum):
    """Why a file or folder was skipped. The value is stable (used in CSV/JSON exports)."""

    EMPTY = "empty"
    NOT_AN_IMAGE = "not-an-image"
    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    TOO_LARGE = "too-large"
    PERMISSION = "permission-denied"
    VANISHED = "vanished"
    CHANGED = "changed-during-scan"
    UNREADABLE_FOLDER = "unreadable-folder"
    SYMLINK_LOOP = "symlink-loop"
    LINK_NOT_FOLLOWED = "link-not-followed"
    """A folder or file link leading outside the chosen folders (not followed by default)."""
    OTHER = "other"
    READ_WITH_WARNING = "read-with-warning"
    """Not a skip: the file was read, but something in it is damaged (ScanResult.file_warnings)."""


@dataclass(frozen=True, slots=True)
class ScanError:
    path: str
    kind: ErrorKind
    message: str
    """One sentence a user understands, e.g. "The file ends early (truncated JPEG)."."""


@dataclass(frozen=True, slots=True)
class ScanProgress:
    phase: str
    """"discovering", "hashing", "confirming" (photos hashed from their embedded thumbnail
    decoded in full: done / total count them), "comparing" (lossless and lossy files
    decoded in full to tell a conversion: done / total count the pairs), "describing"
    (the deep pass's last batches) or "done"."""
    done: int
    total: int
    """Files found so far while discovering; the final count while hashing."""
    current_path: str
    bytes_done: int
    bytes_per_second: float
    files_per_second: float
    elapsed_seconds: float
    from_cache: int
    described: int = 0
    """Deep descriptors computed so far this scan (0 without the deep pass)."""
    to_describe: int = 0
    """Images handed to the deep model so far (the rest of `done` - `from_cache` comes)."""


@dataclass(slots=True)
class ScanResult:
    records: list[ImageRecord] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    cancelled: bool = False
    from_cache: int = 0
    hashed: int = 0
    elapsed_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    """Whole-scan notices, e.g. "The cache was corrupt and has been rebuilt."."""
    roots: tuple[str, ...] = ()
    """The folders (and single files) scanned, as absolute paths: nothing outside them may
    be acted on with this scan's results."""
    file_warnings: list[ScanError] = field(default_factory=list)
    """Files that were read and have a record, but with something damaged in them (kind
    READ_WITH_WARNING), e.g. "The photo was read, but its EXIF metadata is damaged."."""
    descriptors: Any = None
    """core.deep.descriptors.DescriptorSet when the scan ran the deep pass, else None."""
    undecided: int = 0
    """Pairs a pass could not decide this time (scanning/confirm_conversions.py: a decode
    that failed or did not fit the memory budget); the next scan tries them again."""


class CancelToken:
    """Thread-safe cancel flag shared between whoever starts a job and the job."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class MatchKind(str, Enum):
    EXACT = "exact"
    """Byte-identical to the keeper (same size and content digest)."""
    SAME_PIXELS = "same-pixels"
    """Another file with the same decoded pixels as the keeper (same dimensions and the
    same pixel digest): metadata stripped or changed, or the pixels saved losslessly again."""
    VISUAL = "visual"
    """Looks the same: perceptual hashes and colour signature agree."""
    DEEP = "deep"
    """A copy the hashes miss (a crop, a turn, an edit), found by the deep descriptor and
    confirmed by keypoint alignment and colour after it (core/deep); see GroupMember.deep."""


@dataclass(frozen=True, slots=True)
class DeepMatch:
    """How a deep match relates to the keeper."""

    kind: str
    """"crop", "turned" or "edited"."""
    region: tuple[float, ...]
    """Where the smaller picture lies in the larger one: its 4 corners (x0, y0, ..., x3,
    y3, clockwise from top-left) as fractions of the larger image's width and height."""
    region_in_keeper: bool
    """True: `region` is drawn on the keeper; False: on this member."""


@dataclass(frozen=True, slots=True)
class GroupMember:
    record: ImageRecord
    keep: bool
    """Suggested action: True = keep, False = suggested for removal."""
    is_reference: bool
    """Inside a reference (protected) folder: never suggested for removal."""
    distance: int
    """Hamming distance of its pHash to the keeper's (0 for the keeper)."""
    similarity: float
    """Similarity to the keeper in percent from the micro thumbnails (finer than the
    hashes): 100.0 only for the keeper, exact copies and copies with the same pixels."""
    match: MatchKind
    keep_reason: str = ""
    """For the suggested keeper: why it was chosen, e.g. "kept: most pixels"; for a file
    kept with its RAW+JPEG companion, "kept: RAW+JPEG pair (both kept)"."""
    pair_of: str | None = None
    """The path of this file's RAW+JPEG companion in the same group (grouping.raw_pairs):
    the camera's JPEG of this RAW, or the RAW of this JPEG; None when it has none here."""
    pair_kept: bool = False
    """Suggested keep as one of a RAW+JPEG pair kept together with the keeper (the
    RawJpegPolicy): the bulk helpers leave it kept, as they do a protected file."""
    deep: DeepMatch | None = None
    """For a MatchKind.DEEP member: what kind of copy, and where it lies."""


def group_members(**columns: Sequence[Any]) -> list[GroupMember]:
    """`GroupMember(**row)` for each row of `columns` (one sequence per field, all of one
    length; a field not given takes its default), set field by field as the generated
    __init__ would (GroupMember has no __post_init__): the same members, in a third of the
    time the constructor takes for the tens of thousands of a library's groups."""
    unknown = columns.keys() - _MEMBER_FIELDS.keys()
    if unknown:
        raise TypeError(f"GroupMember has no field {', '.join(sorted(unknown))}")
    count = len(next(iter(columns.values()))) if columns else 0
    made = list(map(object.__new__, repeat(GroupMember, count)))
    for name, default in _MEMBER_FIELDS.items():
        values = columns.get(name)
        if values is None:
            if default is MISSING:
                raise TypeError(f"group_members needs the field {name}")
            values = repeat(default, count)
        elif len(values) != count:
            raise ValueError("group_members: the columns differ in length")
        # The slot's descriptor, as object.__setattr__ in a frozen dataclass's __init__.
        deque(map(getattr(GroupMember, name).__set__, made, values), maxlen=0)
    return made


_MEMBER_FIELDS = {f.name: f.default for f in fields(GroupMember)}
assert not hasattr(GroupMember, "__post_init__")
assert all(f.default_factory is MISSING for f in fields(GroupMember))


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    members: tuple[GroupMember, ...]
    """The suggested keeper first, then the others by decreasing similarity."""

    @property
    def keeper(self) -> GroupMember:
        return self.members[0]

    @property
    def keep_reason(self) -> str:
        """Why the suggested keeper was chosen, one short sentence."""
        return self.members[0].keep_reason

    @property
    def kind(self) -> MatchKind:
        exact = all(m.match is MatchKind.EXACT for m in self.members[1:])
        return MatchKind.EXACT if exact else MatchKind.VISUAL

    @property
    def is_raw_pair(self) -> bool:
        """Nothing but one RAW+JPEG pair: not copies to choose between."""
        return len(self.members) == 2 and self.members[0].pair_of == self.members[1].record.path

    @property
    def reclaimable_bytes(self) -> int:
        return sum(m.record.size for m in self.members if not m.keep)
