"""Reading DICOM values without trusting them, and checking the pixel module before decoding.

Values are read from the raw element bytes rather than through pydicom's converters: those quote
hostile values in their warnings and logs, and raise a zoo of exception types. Every reader here
returns None for anything absent or malformed, so callers decide what "missing" means.

Pure functions: no Django. Used by ``apps.cases.imaging.deid`` and ``apps.cases.imaging``.
"""

from __future__ import annotations

import logging
import math
import re
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from pydicom import uid as dicom_uid
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.tag import Tag

from apps.cases.imaging.codestreams import (
    CodestreamError,
    j2k_size,
    jpeg_size,
    scrub_j2k,
    scrub_jpeg,
)

# Encodings we accept. Deflate is left out on purpose: pydicom inflates the whole dataset in one
# call, an unbounded zlib bomb. Big endian is retired and needs byte swapping on rewrite.
TRANSFER_SYNTAXES: dict[str, str] = {
    dicom_uid.ImplicitVRLittleEndian: "Implicit VR Little Endian",
    dicom_uid.ExplicitVRLittleEndian: "Explicit VR Little Endian",
    dicom_uid.JPEGBaseline8Bit: "JPEG Baseline",
    dicom_uid.JPEGExtended12Bit: "JPEG Extended",
    dicom_uid.JPEGLossless: "JPEG Lossless",
    dicom_uid.JPEGLosslessSV1: "JPEG Lossless SV1",
    dicom_uid.JPEGLSLossless: "JPEG-LS Lossless",
    dicom_uid.JPEGLSNearLossless: "JPEG-LS Near-lossless",
    dicom_uid.JPEG2000Lossless: "JPEG 2000 Lossless",
    dicom_uid.JPEG2000: "JPEG 2000",
    dicom_uid.HTJ2KLossless: "HTJ2K Lossless",
    dicom_uid.HTJ2KLosslessRPCL: "HTJ2K Lossless RPCL",
    dicom_uid.HTJ2K: "HTJ2K",
    dicom_uid.RLELossless: "RLE Lossless",
}


# Encodings that may be lossy (the metadata flag errs towards "lossy" when the header is silent).
LOSSY_TRANSFER_SYNTAXES = frozenset(
    {
        dicom_uid.JPEGBaseline8Bit,
        dicom_uid.JPEGExtended12Bit,
        dicom_uid.JPEGLSNearLossless,
        dicom_uid.JPEG2000,
        dicom_uid.HTJ2K,
    }
)
MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT")
MAX_FRAMES = 10_000

CODE_STRING = re.compile(r"[A-Z0-9 _]{1,16}")
UID_PATTERN = re.compile(r"[0-9]+(\.[0-9]+)*")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class DicomRejected(Exception):
    """The DICOM file cannot be used; the message is user-facing and never quotes header values."""


@dataclass(frozen=True)
class PixelModule:
    """The validated Image Pixel module: everything needed to size and decode the pixels."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    photometric: str
    planar_configuration: int
    number_of_frames: int
    transfer_syntax: str

    @property
    def frame_bytes(self) -> int:
        """Bytes of one natively encoded frame (4:2:2 YBR stores two samples per pixel)."""
        samples = 2 if self.photometric == "YBR_FULL_422" else self.samples_per_pixel
        return self.rows * self.columns * samples * self.bits_allocated // 8


class _WithholdPydicomDetails(logging.Filter):
    """pydicom quotes header values (possible PHI) in its log lines, some while parsing, before
    our allowlist runs (an unknown SpecificCharacterSet, for one). Keep the signal, not the text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = "pydicom warning (details withheld: may quote DICOM values)", ()
        return True


def silence_pydicom_value_echoes() -> None:
    """Idempotent and cheap: called before every parse, because frameworks and test runners
    reset warning filters (pytest does around each test). Process-wide by nature."""
    logger = logging.getLogger("pydicom")
    if not any(isinstance(f, _WithholdPydicomDetails) for f in logger.filters):
        logger.addFilter(_WithholdPydicomDetails())
    # The same messages are raised as UserWarnings, which end up on stderr and in worker logs.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")


# ---------------------------------------------------------------------------- raw value readers


def _raw_value(ds: Dataset, keyword: str) -> bytes | None:
    try:
        elem = ds.get_item(Tag(keyword))
    except Exception:
        return None
    if elem is None:
        return None
    if isinstance(elem, RawDataElement):
        return elem.value or b""
    value = elem.value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str | int | float):
        return str(value).encode("ascii", "replace")
    try:
        return "\\".join(str(v) for v in value).encode("ascii", "replace")
    except TypeError:
        return None


def text_values(ds: Dataset, keyword: str) -> list[str] | None:
    """The element's values as ASCII strings, or None when absent, empty or not pure ASCII."""
    raw = _raw_value(ds, keyword)
    if not raw:
        return None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    values = [v.strip(" \x00") for v in text.split("\\")]
    return values if any(values) else None


def single_value(ds: Dataset, keyword: str, pattern: re.Pattern[str]) -> str | None:
    values = text_values(ds, keyword)
    if values is None or len(values) != 1 or not pattern.fullmatch(values[0]):
        return None
    return values[0]


def code_string(ds: Dataset, keyword: str, allowed: frozenset[str] | None = None) -> str | None:
    value = single_value(ds, keyword, CODE_STRING)
    if value is not None and allowed is not None and value not in allowed:
        return None
    return value


def decimals(ds: Dataset, keyword: str) -> list[float] | None:
    values = text_values(ds, keyword)
    if values is None or not all(len(v) <= 16 and _DECIMAL.fullmatch(v) for v in values):
        return None
    numbers = [float(v) for v in values]
    return numbers if all(math.isfinite(n) for n in numbers) else None


def _integer_string(ds: Dataset, keyword: str) -> int | None:
    values = text_values(ds, keyword)
    if values is None or len(values) != 1 or not re.fullmatch(r"[+-]?\d{1,12}", values[0]):
        return None
    return int(values[0])


def unsigned_shorts(ds: Dataset, keyword: str) -> list[int] | None:
    """US values (little endian: big-endian syntaxes are refused), or None when malformed."""
    try:
        elem = ds.get_item(Tag(keyword))
    except Exception:
        return None
    if elem is None:
        return None
    if not isinstance(elem, RawDataElement):  # already converted by pydicom
        value = elem.value
        values = [value] if isinstance(value, int) else list(value or [])
        ok = values and all(isinstance(v, int) and 0 <= v <= 0xFFFF for v in values)
        return values if ok else None
    raw = elem.value or b""
    if len(raw) == 0 or len(raw) % 2:
        return None
    return list(struct.unpack(f"<{len(raw) // 2}H", raw))


def _one_ushort(ds: Dataset, keyword: str) -> int | None:
    values = unsigned_shorts(ds, keyword)
    return values[0] if values is not None and len(values) == 1 else None


# -------------------------------------------------------------------------- pixel module checks


def read_pixel_module(ds: Dataset, *, max_pixels: int) -> tuple[PixelModule, bytes, int]:
    """Validate geometry, encoding and pixel-data length before anything is decoded.

    Returns the module, the Pixel Data reduced to what the header declares (compressed frames
    scrubbed of comment and metadata segments) and the number of such segments removed.
    """
    meta = getattr(ds, "file_meta", None)
    syntax = single_value(meta, "TransferSyntaxUID", UID_PATTERN) if meta is not None else None
    if syntax is None:
        raise DicomRejected("The DICOM file has no valid transfer syntax in its file meta.")
    if syntax not in TRANSFER_SYNTAXES:
        raise DicomRejected(
            f"The DICOM transfer syntax {syntax} is not supported; supported encodings are "
            + ", ".join(sorted(set(TRANSFER_SYNTAXES.values())))
            + "."
        )
    rows, columns = _one_ushort(ds, "Rows"), _one_ushort(ds, "Columns")
    if not rows or not columns:
        raise DicomRejected("The DICOM file has no valid image size (Rows/Columns).")
    if rows * columns > max_pixels:
        raise DicomRejected(
            f"The image is {columns}x{rows} pixels, above the {max_pixels:,} pixel limit."
        )
    samples = _one_ushort(ds, "SamplesPerPixel") or 1
    allocated = _one_ushort(ds, "BitsAllocated")
    stored = _one_ushort(ds, "BitsStored") or allocated
    high_bit = _one_ushort(ds, "HighBit")
    representation = _one_ushort(ds, "PixelRepresentation") or 0
    photometric = code_string(ds, "PhotometricInterpretation", frozenset(MONOCHROME + COLOUR))
    if allocated not in (8, 16) or stored is None or not 1 <= stored <= allocated:
        raise DicomRejected(
            "Only 8- or 16-bit images are supported (BitsAllocated/BitsStored are invalid)."
        )
    if high_bit is None:
        high_bit = stored - 1
    if high_bit >= allocated or representation not in (0, 1):
        raise DicomRejected("The DICOM pixel description (HighBit/PixelRepresentation) is invalid.")
    if (
        photometric is None
        or (samples == 1) != (photometric in MONOCHROME)
        or samples not in (1, 3)
    ):
        raise DicomRejected(
            "The DICOM photometric interpretation is missing or unsupported (grayscale and RGB/YBR "
            "images only)."
        )
    frames = _integer_string(ds, "NumberOfFrames") or 1
    if not 1 <= frames <= MAX_FRAMES:
        raise DicomRejected(f"The DICOM NumberOfFrames is not between 1 and {MAX_FRAMES}.")
    module = PixelModule(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples,
        bits_allocated=allocated,
        bits_stored=stored,
        high_bit=high_bit,
        pixel_representation=representation,
        photometric=photometric,
        planar_configuration=(_one_ushort(ds, "PlanarConfiguration") or 0) if samples > 1 else 0,
        number_of_frames=frames,
        transfer_syntax=syntax,
    )
    return module, *_pixel_data_bytes(ds, module)


def _pixel_data_bytes(ds: Dataset, module: PixelModule) -> tuple[bytes, int]:
    raw = _raw_value(ds, "PixelData")
    if not raw:
        raise DicomRejected("The DICOM file has no pixel data.")
    if not dicom_uid.UID(module.transfer_syntax).is_encapsulated:
        expected = module.frame_bytes * module.number_of_frames
        if len(raw) < expected:
            raise DicomRejected(
                f"The DICOM pixel data is truncated: the header declares {expected:,} bytes, the "
                f"file holds {len(raw):,}."
            )
        # Bytes past the declared image are never copied: they are a place to hide things.
        return raw[:expected].ljust(expected + expected % 2, b"\0"), 0
    if raw[:4] != b"\xfe\xff\x00\xe0":
        raise DicomRejected("The compressed DICOM pixel data is not properly encapsulated.")
    frames = list(generate_frames(raw, number_of_frames=module.number_of_frames))
    if len(frames) < module.number_of_frames or not all(frames):
        raise DicomRejected("The compressed DICOM pixel data holds fewer frames than declared.")
    syntax = dicom_uid.UID(module.transfer_syntax)
    scrub = scrub_j2k if syntax in dicom_uid.JPEG2000TransferSyntaxes else scrub_jpeg
    removed = 0
    if syntax != dicom_uid.RLELossless:  # RLE segments are pure pixel runs
        try:
            scrubbed = [scrub(frame) for frame in frames[: module.number_of_frames]]
        except CodestreamError:
            raise DicomRejected(
                "The compressed image inside the DICOM file is malformed (its marker structure "
                "is broken), so it cannot be checked for embedded text."
            ) from None
        frames = [frame for frame, _ in scrubbed]
        removed = sum(count for _, count in scrubbed)
    # Re-encapsulating keeps only the declared frames, dropping any stray trailing items.
    return encapsulate(frames[: module.number_of_frames], has_bot=True), removed


def first_frame(pixel_data: bytes) -> bytes:
    """The first compressed frame of encapsulated pixel data (for codestream header checks)."""
    return next(generate_frames(pixel_data, number_of_frames=1))


def check_codestream_size(module: PixelModule, pixel_data: bytes) -> None:
    """Refuse a compressed frame whose own header disagrees with Rows/Columns.

    Decoders allocate from the codestream header, not from the DICOM one, so a small file can
    otherwise ask OpenJPEG or libjpeg for gigabytes before pydicom notices the mismatch.
    """
    syntax = dicom_uid.UID(module.transfer_syntax)
    if not syntax.is_encapsulated or syntax == dicom_uid.RLELossless:
        return  # native sizes were checked against the byte count; RLE decodes to Rows x Columns
    frame = first_frame(pixel_data)
    j2k = syntax in dicom_uid.JPEG2000TransferSyntaxes  # HTJ2K included
    size = j2k_size(frame) if j2k else jpeg_size(frame)
    if size != (module.columns, module.rows):
        raise DicomRejected(
            "The compressed image inside the DICOM file does not match the image size in its "
            "header; the file is damaged or crafted."
        )


# ---------------------------------------------------------------------------- lookup tables


@dataclass(frozen=True)
class Lut:
    """A validated modality or VOI lookup table (PS3.3 C.11.1): first_mapped is the input value of
    entry 0; inputs outside the table clamp to its ends."""

    first_mapped: int
    bits: int
    data: np.ndarray


def _lut(item: Dataset, signed: bool) -> Lut | None:
    descriptor = unsigned_shorts(item, "LUTDescriptor")
    data = _raw_value(item, "LUTData")
    if descriptor is None or len(descriptor) != 3 or not data:
        return None
    entries, first, bits = descriptor[0] or 65536, descriptor[1], descriptor[2]
    if not 8 <= bits <= 16 or len(data) < 2 * entries:
        return None
    if signed and first > 0x7FFF:
        first -= 0x10000
    table = np.frombuffer(data[: 2 * entries], dtype="<u2").copy()
    return Lut(first_mapped=first, bits=bits, data=table)


def lut_sequence(ds: Dataset, keyword: str, signed: bool) -> list[Lut]:
    try:
        items = ds[keyword].value if keyword in ds else []
    except Exception:
        return []
    tables = [_lut(item, signed) for item in list(items)[:8]]
    return [t for t in tables if t is not None]
