"""Synthetic DICOM files for the imaging and de-identification tests, written with pydicom.

The pixels are a cartoon chest film in "density" units (0 air .. 1 bone): dark lungs either side
of a bright mediastinum and spine, so windowing and MONOCHROME1 inversion can be checked by
comparing regions. ``LUNG`` and ``MEDIASTINUM`` give those regions as (row, column) slices of
fractions of the image.
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image
from pydicom import config
from pydicom import uid as dicom_uid
from pydicom.datadict import DicomDictionary, RepeatersDictionary
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.tag import Tag

CANARY = "PHICANARY"
STRING_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI"}
    | {"UR", "UT"}
)
# (row fraction range, column fraction range) of regions in synthetic_chest
LUNG = ((0.35, 0.6), (0.22, 0.36))
MEDIASTINUM = ((0.35, 0.6), (0.46, 0.54))


def region_mean(image: np.ndarray, region: tuple[tuple[float, float], ...]) -> float:
    (r0, r1), (c0, c1) = region
    rows, columns = image.shape[:2]
    return float(
        image[int(r0 * rows) : int(r1 * rows), int(c0 * columns) : int(c1 * columns)].mean()
    )


def synthetic_chest(rows: int, columns: int) -> np.ndarray:
    """Density in 0..1: background 0.05, soft tissue 0.5, lungs 0.2, mediastinum 0.8, spine 0.95."""
    y = (np.arange(rows, dtype=np.float32) / rows)[:, None]
    x = (np.arange(columns, dtype=np.float32) / columns)[None, :]
    density = np.full((rows, columns), 0.05, dtype=np.float32)
    density[((x - 0.5) / 0.45) ** 2 + ((y - 0.5) / 0.47) ** 2 < 1] = 0.5
    for centre in (0.29, 0.71):
        density[((x - centre) / 0.15) ** 2 + ((y - 0.47) / 0.3) ** 2 < 1] = 0.2
    density[(np.abs(x - 0.5) < 0.06) & (y > 0.15)] = 0.8
    density[(np.abs(x - 0.5) < 0.02) & (y > 0.1)] = 0.95
    # a gentle gradient so every window has something to show
    return np.clip(density + 0.03 * np.sin(12 * x) * np.cos(9 * y), 0, 1).astype(np.float64)


@contextlib.contextmanager
def lenient_pydicom() -> Iterator[None]:
    """Let pydicom write values that break the standard (canaries, hostile files)."""
    settings = config.settings
    saved = settings.reading_validation_mode, settings.writing_validation_mode
    settings.reading_validation_mode = settings.writing_validation_mode = config.IGNORE
    try:
        yield
    finally:
        settings.reading_validation_mode, settings.writing_validation_mode = saved


def stored_values(
    density: np.ndarray, *, bits_stored: int, signed: bool, photometric: str
) -> np.ndarray:
    low = -(2 ** (bits_stored - 1)) if signed else 0
    high = 2 ** (bits_stored - 1) - 1 if signed else 2**bits_stored - 1
    if photometric == "MONOCHROME1":
        density = 1 - density
    return np.rint(low + density * (high - low)).astype(np.int64)


def make_dataset(
    *,
    rows: int = 96,
    columns: int = 80,
    bits_allocated: int = 16,
    bits_stored: int = 12,
    signed: bool = False,
    photometric: str = "MONOCHROME2",
    frames: int = 1,
    rescale: tuple[float, float] | None = None,
    window: tuple[list[float], list[float]] | None = None,
    voi_function: str | None = None,
    voi_lut: bool = False,
    modality_lut: bool = False,
    modality: str | None = "DX",
    body_part: str | None = "CHEST",
    view_position: str | None = "PA",
    patient_sex: str | None = "F",
    patient_age: str | None = "054Y",
    pixel_spacing: tuple[float, float] | None = (0.2, 0.2),
    burned_in: str | None = "NO",
) -> Dataset:
    """An uncompressed (Explicit VR Little Endian) radiograph dataset with file meta."""
    ds = Dataset()
    ds.SOPClassUID = dicom_uid.DigitalXRayImageStorageForPresentation
    ds.SOPInstanceUID = dicom_uid.generate_uid()
    ds.StudyInstanceUID = dicom_uid.generate_uid()
    ds.SeriesInstanceUID = dicom_uid.generate_uid()
    optional = {
        "Modality": modality,
        "BodyPartExamined": body_part,
        "ViewPosition": view_position,
        "PatientSex": patient_sex,
        "PatientAge": patient_age,
        "BurnedInAnnotation": burned_in,
        "VOILUTFunction": voi_function,
    }
    for keyword, value in optional.items():
        if value is not None:
            setattr(ds, keyword, value)
    if pixel_spacing:
        ds.PixelSpacing = [str(v) for v in pixel_spacing]
    colour = photometric in ("RGB", "YBR_FULL")
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, bits_stored - 1
    ds.PixelRepresentation = int(signed)
    if colour:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    density = synthetic_chest(rows, columns)
    values = stored_values(density, bits_stored=bits_stored, signed=signed, photometric=photometric)
    if colour:
        tint = np.stack([values, values, np.clip(values - 20, 0, None)], axis=-1)
        values = tint
    if frames > 1:
        values = np.stack([values] * frames)
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = (str(v) for v in rescale)
        ds.RescaleType = "US"
    if window is not None:
        ds.WindowCenter = [str(v) for v in window[0]]
        ds.WindowWidth = [str(v) for v in window[1]]
    if modality_lut:
        ds.ModalityLUTSequence = Sequence([_lut_item(2**bits_stored, 0, lambda v: v * 2)])
    if voi_lut:
        top = 2**bits_stored
        ds.VOILUTSequence = Sequence(
            [_lut_item(top // 2, top // 4, lambda v: (v - top // 4) * 2 * 65535 // top)]
        )
    dtype = {(8, False): "<u1", (8, True): "<i1", (16, False): "<u2", (16, True): "<i2"}
    ds.PixelData = values.astype(dtype[(bits_allocated, signed)]).tobytes()
    ds["PixelData"].VR = "OB" if bits_allocated == 8 else "OW"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = dicom_uid.ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _lut_item(entries: int, first: int, mapping: Any) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [entries % 65536, first, 16]
    table = np.clip(mapping(np.arange(first, first + entries)), 0, 65535).astype("<u2")
    item.add_new(Tag("LUTData"), "OW", table.tobytes())
    return item


def compress(ds: Dataset, syntax: str) -> Dataset:
    """Re-encode the pixel data: RLE and JPEG 2000 through pydicom, JPEG baseline via Pillow."""
    if syntax == dicom_uid.JPEGBaseline8Bit:
        array = ds.pixel_array
        image = Image.fromarray(array.astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=95)
        ds.PixelData = encapsulate([buffer.getvalue()])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        if ds.SamplesPerPixel == 3:
            ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.file_meta.TransferSyntaxUID = syntax
        return ds
    ds.compress(syntax)
    return ds


def to_bytes(ds: Dataset, *, preamble: bytes | None = None, **write_options: Any) -> bytes:
    """The file's bytes; ``write_options`` go to ``save_as`` (needed for private syntaxes)."""
    buffer = io.BytesIO()
    ds.preamble = (preamble or b"\0" * 128).ljust(128, b"\0")[:128]
    with lenient_pydicom():
        ds.save_as(buffer, enforce_file_format=True, **write_options)
    return buffer.getvalue()


def make_dicom(*, syntax: str = dicom_uid.ExplicitVRLittleEndian, **options: Any) -> bytes:
    ds = make_dataset(**options)
    if syntax == dicom_uid.ImplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = syntax
    elif syntax != dicom_uid.ExplicitVRLittleEndian:
        ds = compress(ds, syntax)
    return to_bytes(ds)


# --------------------------------------------------------------------------------- PHI canaries


def canary(tag: int) -> str:
    return f"{CANARY}-{tag:08X}"


def _raw_text(tag: int, vr: str, text: str) -> RawDataElement:
    value = text.encode("ascii")
    if len(value) % 2:
        value += b"\0" if vr == "UI" else b" "
    return RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)


def string_tags() -> Iterator[tuple[int, str]]:
    """Every string-VR tag in pydicom's dictionary outside the file meta and command groups,
    repeating groups (50xx curves, 60xx overlays, ...) expanded at their first group."""
    for tag, entry in DicomDictionary.items():
        if entry[0] in STRING_VRS and tag >> 16 not in (0x0000, 0x0002) and tag & 0xFFFF:
            yield tag, entry[0]
    for mask, entry in RepeatersDictionary.items():
        tag = int(mask.replace("x", "0"), 16)
        if entry[0] in STRING_VRS and tag >> 16 != 0x0002 and tag & 0xFFFF:
            yield tag, entry[0]


# Must stay valid or there is no image to test; their values are pixel-module codes, not PHI.
IMAGE_CRITICAL = frozenset({Tag("PhotometricInterpretation")})


def make_canary_dataset(*, valid_kept_values: bool) -> Dataset:
    """A chest DICOM in which every writable string element carries PHICANARY-<tag>.

    With ``valid_kept_values`` the attributes de-identification keeps (modality, body part, sex,
    age, windows, spacing ...) hold proper values, so the test proves the allowlist keeps them and
    still drops everything else; without it even those hold canaries.
    """
    ds = make_dataset(window=([2048.0], [4096.0]), rescale=(1.0, 0.0))
    protected = set(IMAGE_CRITICAL)
    if valid_kept_values:
        protected |= {Tag(element.tag) for element in ds} - {
            Tag("SOPInstanceUID"),
            Tag("StudyInstanceUID"),
        }
    for tag, vr in string_tags():
        if tag not in protected:
            ds[tag] = _raw_text(tag, vr, canary(tag))  # type: ignore[assignment]
    # Nested sequences, three deep, with canaries at every level.
    leaf = Dataset()
    leaf.PatientName = f"{CANARY}^NESTED^LEAF"
    leaf.add(_raw_text(0x00100020, "LO", f"{CANARY}-nested-id"))
    middle = Dataset()
    middle.ReferencedPatientSequence = Sequence([leaf])
    middle.StudyDescription = f"{CANARY} nested description"
    ds.ReferencedStudySequence = Sequence([middle])
    ds.OtherPatientIDsSequence = Sequence([leaf])
    # Private blocks, the way vendors hide names and MRNs (CSA headers, dicognito's leak).
    block = ds.private_block(0x0029, f"{CANARY} CREATOR", create=True)
    block.add_new(0x10, "LO", f"{CANARY} private name^mrn")
    block.add_new(0x11, "OB", f"{CANARY} private binary".encode().ljust(32, b"\0"))
    block.add_new(0x12, "UN", f"{CANARY} unknown VR".encode().ljust(32, b"\0"))
    private_item = Dataset()
    private_item.add_new(0x00091010, "LO", f"{CANARY} private in sequence")
    ds.add_new(0x00091001, "LO", "VENDOR X")
    ds.add_new(0x00091002, "SQ", Sequence([private_item]))
    # An overlay (60xx) with a description, a label and burned-in-looking bits.
    ds.add_new(0x60000010, "US", 16)
    ds.add_new(0x60000011, "US", 16)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", f"{CANARY}-overlay".encode().ljust(32, b"\0"))
    ds[0x60000022] = _raw_text(0x60000022, "LO", f"{CANARY} overlay description")  # type: ignore[assignment]
    ds[0x60001500] = _raw_text(0x60001500, "LO", f"{CANARY} overlay label")  # type: ignore[assignment]
    # File meta strings and a private information block.
    meta = ds.file_meta
    meta.SourceApplicationEntityTitle = "PHICANARY_AE"
    meta.ImplementationVersionName = "PHICANARY_IMPL"
    meta.PrivateInformationCreatorUID = "1.2.3.4"
    meta.PrivateInformation = f"{CANARY} file meta private".encode()
    return ds


def make_canary_dicom(*, valid_kept_values: bool) -> bytes:
    # A PE header followed by a canary in the preamble (CVE-2019-11687 polyglot).
    preamble = b"MZ" + f"{CANARY}-preamble".encode()
    return to_bytes(make_canary_dataset(valid_kept_values=valid_kept_values), preamble=preamble)


# ------------------------------------------------------------------------------- hostile files


def _explicit_header(tag: int, vr: str, length: int) -> bytes:
    group, element = tag >> 16, tag & 0xFFFF
    if vr in ("OB", "OW", "SQ", "UN", "UT", "UC", "UR", "OD", "OF", "OL", "OV"):
        return struct.pack("<HH2sHI", group, element, vr.encode(), 0, length)
    return struct.pack("<HH2sH", group, element, vr.encode(), length)


def with_raw_tail(ds: Dataset, tail: bytes) -> bytes:
    """A valid file (pixel data removed) followed by hand-written element bytes."""
    del ds.PixelData
    return to_bytes(ds) + tail


def deep_sequence_dicom(depth: int = 3000) -> bytes:
    """Undefined-length sequences nested ``depth`` deep (pydicom recurses per level)."""
    open_level = _explicit_header(0x0040A730, "SQ", 0xFFFFFFFF) + struct.pack(
        "<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF
    )
    close_level = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    ds = make_dataset()
    return with_raw_tail(ds, open_level * depth + close_level * depth)


def lying_pixel_length_dicom() -> bytes:
    """PixelData declaring 0xFFFFFFF0 bytes with 16 present (pydicom reads the 16 silently)."""
    return with_raw_tail(make_dataset(), _explicit_header(0x7FE00010, "OW", 0xFFFFFFF0) + bytes(16))
