"""A PNG whose text chunk is too large for Pillow to read safely, without its text.

Pillow refuses a compressed text chunk (often XMP metadata) that unpacks to more than
PngImagePlugin.MAX_TEXT_CHUNK, and text chunks adding up to more than MAX_TEXT_MEMORY.
Those limits guard against zlib bombs and must stay; the pixels never depend on text
chunks, so the image can be read from a copy of the file that leaves them out.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})
_PILLOW_TEXT_REFUSALS = ("MAX_TEXT_CHUNK", "MAX_TEXT_MEMORY", "text chunks")


def is_text_chunk_refusal(error: Exception) -> bool:
    """Pillow's ValueError for a text chunk over its memory limits."""
    return isinstance(error, ValueError) and any(
        phrase in str(error) for phrase in _PILLOW_TEXT_REFUSALS
    )


def without_text_chunks(data: bytes) -> bytes | None:
    """`data` with its tEXt, zTXt and iTXt chunks left out, or None when it is not a PNG
    whose chunks can be walked to the end."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    kept = [PNG_SIGNATURE]
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            return None
        if chunk_type not in _TEXT_CHUNKS:
            kept.append(data[position:end])
        position = end
        if chunk_type == b"IEND":
            return b"".join(kept)
    return None
