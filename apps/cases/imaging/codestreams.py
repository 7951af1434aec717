"""JPEG, JPEG-LS and JPEG 2000 codestreams inside DICOM: header sizes, and comment scrubbing.

A compressed frame can carry text besides pixels: JPEG COM and APPn segments (EXIF, JFIF
thumbnails, vendor blocks), JPEG 2000 COM segments, and bytes after the end-of-image marker.
The de-identified DICOM keeps the original compressed frames (no re-encoding, no generation loss),
so those are cut out here, segment by segment, without touching the entropy-coded data.
Pure functions on bytes: no Django, no pydicom.
"""

from __future__ import annotations

import struct


class CodestreamError(ValueError):
    """The codestream does not follow its standard's marker syntax."""


# Start-of-frame markers of every JPEG process (not DHT C4, JPG C8, DAC CC) plus JPEG-LS F7.
_JPEG_FRAME_MARKERS = frozenset({*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC} | {0xF7})


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG or JPEG-LS frame header, or None when there is none."""
    if data[:2] != b"\xff\xd8":
        return None
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD9, 0xDA):  # image or scan before any frame header
            return None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker in _JPEG_FRAME_MARKERS:
            header = data[position + 5 : position + 9]
            if len(header) < 4:
                return None
            return int.from_bytes(header[2:], "big"), int.from_bytes(header[:2], "big")
        if length < 2:
            return None
        position += 2 + length
    return None


def j2k_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG 2000 / HTJ2K SIZ segment (bare codestream or JP2 wrapped)."""
    start = data.find(b"\xff\x4f\xff\x51", 0, 4096)
    if start < 0 or len(data) < start + 24:
        return None
    xsiz, ysiz, x_offset, y_offset = struct.unpack(">IIII", data[start + 8 : start + 24])
    if x_offset >= xsiz or y_offset >= ysiz:
        return None
    return xsiz - x_offset, ysiz - y_offset


# APP8 carries the JPEG-LS colour transform (HP "mrfx"), APP14 Adobe's colour transform flag:
# both change how pixels decode. Every other APPn and every COM is metadata.
_KEPT_APPLICATION_SEGMENTS = frozenset({0xE8, 0xEE})
_RESTART_MARKERS = range(0xD0, 0xD8)


def _segment_end(data: bytes, position: int) -> int:
    if position + 4 > len(data):
        raise CodestreamError("truncated marker segment")
    length = int.from_bytes(data[position + 2 : position + 4], "big")
    end = position + 2 + length
    if length < 2 or end > len(data):
        raise CodestreamError("marker segment length out of range")
    return end


def _entropy_coded_end(data: bytes, position: int) -> int:
    """End of a scan's entropy-coded data: the next marker that is not stuffing or a restart.
    JPEG stuffs FF 00, JPEG-LS FF followed by a byte below 0x80; real markers are FF C0..FF FE."""
    while (position := data.find(b"\xff", position)) >= 0 and position + 1 < len(data):
        following = data[position + 1]
        if following >= 0xC0 and following not in _RESTART_MARKERS:
            return position
        position += 1
    raise CodestreamError("scan data runs to the end without a marker")


def scrub_jpeg(data: bytes) -> tuple[bytes, int]:
    """Drop COM and metadata APPn segments and anything after EOI; returns (bytes, removed)."""
    if data[:2] != b"\xff\xd8":
        raise CodestreamError("no start-of-image marker")
    kept, removed, position = bytearray(b"\xff\xd8"), 0, 2
    while position + 1 < len(data):
        if data[position] != 0xFF:
            raise CodestreamError("marker expected")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:
            kept += b"\xff\xd9"
            return bytes(kept), removed + (position + 2 < len(data))
        if marker in _RESTART_MARKERS or marker == 0x01:
            kept += data[position : position + 2]
            position += 2
            continue
        end = _segment_end(data, position)
        if marker == 0xFE or (0xE0 <= marker <= 0xEF and marker not in _KEPT_APPLICATION_SEGMENTS):
            removed += 1
        else:
            kept += data[position:end]
        position = end
        if marker == 0xDA:  # start of scan: copy the entropy-coded data verbatim
            position, start = _entropy_coded_end(data, position), position
            kept += data[start:position]
    raise CodestreamError("no end-of-image marker")


_SOC, _SOT, _SOD, _EOC, _COM = 0xFF4F, 0xFF90, 0xFF93, 0xFFD9, 0xFF64


def _marker(data: bytes, position: int) -> int:
    if position + 2 > len(data):
        raise CodestreamError("truncated codestream")
    return int.from_bytes(data[position : position + 2], "big")


def _header_segments(data: bytes, position: int, stop: int) -> tuple[bytearray, int, int]:
    """Copy marker segments up to the ``stop`` marker, leaving out COM; (kept, removed, at)."""
    kept, removed = bytearray(), 0
    while (marker := _marker(data, position)) != stop:
        if marker >> 8 != 0xFF or marker < 0xFF30:
            raise CodestreamError("marker expected in header")
        end = _segment_end(data, position)
        if marker == _COM:
            removed += 1
        else:
            kept += data[position:end]
        position = end
    return kept, removed, position


def scrub_j2k(data: bytes) -> tuple[bytes, int]:
    """Drop COM segments (main and tile-part headers) and bytes after EOC; (bytes, removed).

    Tile-part lengths (Psot) are rewritten for the bytes removed from their headers; packet data
    is copied verbatim. Codestreams wrapped in a JP2 file are refused: DICOM wants bare ones.
    """
    if _marker(data, 0) != _SOC:
        raise CodestreamError("not a bare JPEG 2000 codestream")
    main, removed, position = _header_segments(data, 2, _SOT)
    kept = bytearray(data[:2]) + main
    while _marker(data, position) == _SOT:
        if position + 12 > len(data):
            raise CodestreamError("truncated tile-part header")
        index, length, part, parts = struct.unpack(">HIBB", data[position + 4 : position + 12])
        last = length == 0  # Psot 0: this tile-part runs to the EOC marker
        # FF D9 cannot occur inside packet data (bit stuffing), so the first one after is EOC.
        end = data.find(b"\xff\xd9", position) if last else position + length
        if end > len(data) or end < position + 14:  # also catches find() == -1
            raise CodestreamError("tile-part length out of range")
        header, dropped, sod = _header_segments(data, position + 12, _SOD)
        if sod >= end:
            raise CodestreamError("tile-part without data")
        removed += dropped
        new_length = 0 if last else 12 + len(header) + (end - sod)
        kept += data[position : position + 4] + struct.pack(">HIBB", index, new_length, part, parts)
        kept += header + data[sod:end]
        position = end
    if _marker(data, position) != _EOC:
        raise CodestreamError("no end-of-codestream marker")
    return bytes(kept) + b"\xff\xd9", removed + (position + 2 < len(data))
