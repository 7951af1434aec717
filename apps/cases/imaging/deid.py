"""Allowlist de-identification of DICOM radiographs.

In the spirit of the DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile with the
Retain Patient Characteristics option (sex, age), but stricter: nothing is removed from the
original; instead a NEW dataset is built from the handful of attributes the product needs, each
value re-validated against its value representation, so an attribute we forgot to list can never
leak. Values are read with ``apps.cases.imaging.dicom_pixels``, which never trusts them.

Pure functions: no Django. ``apps.cases.imaging`` calls ``build_deidentified`` and renders the
display images from the clean dataset it returns, so what residents see is what was kept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydicom import uid as dicom_uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, generate_uid

from apps.cases.imaging.dicom_pixels import (
    CODE_STRING,
    UID_PATTERN,
    DicomRejected,
    Lut,
    PixelModule,
    code_string,
    decimals,
    lut_sequence,
    read_pixel_module,
    single_value,
    text_values,
)

PROFILE_NAME = "RadGame allowlist v1"
DEIDENTIFICATION_METHOD = [PROFILE_NAME, "PS3.15 E.1 Basic Profile", "Retain Patient Chars Opt"]
# Codes from PS3.16 CID 7050 (De-identification Method)
_METHOD_CODES = [
    ("113100", "Basic Application Confidentiality Profile"),
    ("113108", "Retain Patient Characteristics Option"),
]


def _terms(words: str) -> frozenset[str]:
    return frozenset(words.split())


# PS3.3 C.7.3.1.1.1 defined terms (current and retired): an allowlist rather than a pattern so
# a name typed into Modality cannot survive.
MODALITIES = _terms(
    "CR DX DR RG OT MG CT MR US NM PT XA RF IO PX SC ES SM OP GM XC DG RTIMAGE BMD DOC "
    "OCT IVOCT IVUS KO PR SR SEG REG"
)
VIEW_POSITIONS = _terms("AP PA LL RL RLD LLD RLO LLO LAO RAO LPO RPO LAT LATERAL")
SEXES = frozenset({"M", "F", "O"})
VOI_FUNCTIONS = frozenset({"LINEAR", "LINEAR_EXACT", "SIGMOID"})
_AGE = re.compile(r"(\d{3})([DWMY])")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ORIENTATION = re.compile(r"[AFHLPR]{1,3}")


class DeidentificationError(DicomRejected):
    """The dataset cannot become a valid de-identified radiograph; the message is user-facing."""


@dataclass
class Deidentified:
    """The clean dataset plus the validated values the renderer needs, already parsed."""

    dataset: Dataset
    pixels: PixelModule
    summary: dict[str, Any]
    rescale: tuple[float, float] = (1.0, 0.0)
    modality_lut: Lut | None = None
    voi_luts: list[Lut] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)
    voi_function: str = "LINEAR"
    pixel_spacing_mm: tuple[float, float] | None = None
    attributes: dict[str, str | None] = field(default_factory=dict)


def _lut_item(table: Lut, signed: bool) -> Dataset:
    item = Dataset()
    first = table.first_mapped & 0xFFFF if not signed else table.first_mapped
    entries = len(table.data) % 65536
    item.add_new(Tag("LUTDescriptor"), "SS" if signed else "US", [entries, first, table.bits])
    item.add_new(Tag("LUTData"), "OW", table.data.astype("<u2").tobytes())
    return item


def _age(ds: Dataset, notes: list[str]) -> str | None:
    """PatientAge as an AS string; ages over 89 become 090Y (HIPAA safe harbour)."""
    age = single_value(ds, "PatientAge", _AGE)
    if age is not None:
        number, unit = int(age[:3]), age[3]
        years = number / {"D": 365.25, "W": 52.18, "M": 12.0, "Y": 1.0}[unit]
    else:
        birth = single_value(ds, "PatientBirthDate", _DATE)
        taken = next(
            (
                d
                for k in ("StudyDate", "AcquisitionDate", "ContentDate", "SeriesDate")
                if (d := single_value(ds, k, _DATE)) is not None
            ),
            None,
        )
        if birth is None or taken is None:
            return None
        try:
            born, seen = (date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in (birth, taken))
        except ValueError:
            return None
        years = seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
        if years < 0:
            return None
        age = f"{years:03d}Y"
        notes.append("PatientAge derived from the birth and study dates, which were not kept.")
    if years > 89:
        notes.append("PatientAge above 89 recorded as 090Y.")
        return "090Y"
    return age


def parse_age_years(age: str | None) -> int | None:
    """'054Y' -> 54, '006M' -> 0; None for anything that is not a DICOM age string."""
    if age is None or len(age) != 4 or not age[:3].isdigit() or age[3] not in "DWMY":
        return None
    days_per_unit = {"D": 1.0, "W": 7.0, "M": 30.4375, "Y": 365.25}[age[3]]
    return min(90, int(int(age[:3]) * days_per_unit // 365.25))


def _decimal_string(value: float) -> str:
    return f"{value:.8g}"


def _new_uid(old: str | None, uid_map: MutableMapping[str, str] | None) -> str:
    # Random (uuid4-based) UIDs: nothing of the old one can be recovered from the new one.
    if uid_map is None or old is None:
        return generate_uid(entropy_srcs=None)
    if old not in uid_map:
        uid_map[old] = generate_uid(entropy_srcs=None)
    return uid_map[old]


def build_deidentified(
    ds: Dataset,
    *,
    uid_map: MutableMapping[str, str] | None = None,
    max_pixels: int = 50_000_000,
) -> Deidentified:
    """Copy the allowlisted, re-validated attributes of ``ds`` into a new dataset.

    ``uid_map`` (old UID -> new UID) lets a caller give every image of one study the same new
    Study/Series UIDs; keep it server-side, it links back to the source. Raises
    DeidentificationError when the pixel module is unusable.
    """
    module, pixel_data, scrubbed_segments = read_pixel_module(ds, max_pixels=max_pixels)
    signed = module.pixel_representation == 1
    out = Dataset()
    notes: list[str] = []
    kept: list[str] = []
    if scrubbed_segments:
        notes.append(
            f"Removed {scrubbed_segments} comment/metadata segment(s) from the compressed pixel data."
        )

    def keep(keyword: str, vr: str, value: Any) -> None:
        out.add_new(Tag(keyword), vr, value)
        kept.append(keyword)

    for keyword, value in (
        ("SamplesPerPixel", module.samples_per_pixel),
        ("Rows", module.rows),
        ("Columns", module.columns),
        ("BitsAllocated", module.bits_allocated),
        ("BitsStored", module.bits_stored),
        ("HighBit", module.high_bit),
        ("PixelRepresentation", module.pixel_representation),
    ):
        keep(keyword, "US", value)
    keep("PhotometricInterpretation", "CS", module.photometric)
    if module.samples_per_pixel > 1:
        keep("PlanarConfiguration", "US", module.planar_configuration)
    if module.number_of_frames > 1:
        keep("NumberOfFrames", "IS", str(module.number_of_frames))
    encapsulated = dicom_uid.UID(module.transfer_syntax).is_encapsulated
    pixel_vr = "OB" if encapsulated or module.bits_allocated == 8 else "OW"
    out.add_new(Tag("PixelData"), pixel_vr, pixel_data)
    out["PixelData"].is_undefined_length = encapsulated
    kept.append("PixelData")

    result = Deidentified(dataset=out, pixels=module, summary={})
    slope, intercept = decimals(ds, "RescaleSlope"), decimals(ds, "RescaleIntercept")
    if slope and intercept and len(slope) == len(intercept) == 1 and slope[0] != 0:
        result.rescale = (slope[0], intercept[0])
        keep("RescaleSlope", "DS", _decimal_string(slope[0]))
        keep("RescaleIntercept", "DS", _decimal_string(intercept[0]))
        if (rescale_type := code_string(ds, "RescaleType")) is not None:
            keep("RescaleType", "LO", rescale_type)
    elif module.samples_per_pixel == 1 and (
        tables := lut_sequence(ds, "ModalityLUTSequence", signed)
    ):
        result.modality_lut = tables[0]
        keep("ModalityLUTSequence", "SQ", Sequence([_lut_item(tables[0], signed)]))
    if module.samples_per_pixel == 1:
        _keep_voi(ds, result, keep, signed, notes)

    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        spacing = decimals(ds, keyword)
        if spacing and len(spacing) == 2 and all(0 < s < 10 for s in spacing):
            keep(keyword, "DS", [_decimal_string(s) for s in spacing])
            result.pixel_spacing_mm = result.pixel_spacing_mm or (spacing[0], spacing[1])
        elif spacing is not None or text_values(ds, keyword):
            notes.append(f"{keyword} was not two positive decimals and was dropped.")
    orientation = text_values(ds, "PatientOrientation")
    if (
        orientation
        and len(orientation) == 2
        and all(_ORIENTATION.fullmatch(o) for o in orientation)
    ):
        keep("PatientOrientation", "CS", orientation)

    attributes: dict[str, str | None] = {
        "Modality": code_string(ds, "Modality", MODALITIES),
        "ViewPosition": code_string(ds, "ViewPosition", VIEW_POSITIONS),
        "BodyPartExamined": code_string(ds, "BodyPartExamined"),
        "PatientSex": code_string(ds, "PatientSex", SEXES),
        "PatientAge": _age(ds, notes),
        "BurnedInAnnotation": code_string(ds, "BurnedInAnnotation", frozenset({"YES", "NO"})),
        "LossyImageCompression": code_string(ds, "LossyImageCompression", frozenset({"00", "01"})),
    }
    for keyword, value in attributes.items():
        if value is not None:
            keep(keyword, "AS" if keyword == "PatientAge" else "CS", value)
        elif text_values(ds, keyword):
            notes.append(f"{keyword} held a value outside its allowed form and was dropped.")
    result.attributes = attributes
    if attributes["LossyImageCompression"] == "01":
        if ratio := decimals(ds, "LossyImageCompressionRatio"):
            keep("LossyImageCompressionRatio", "DS", [_decimal_string(r) for r in ratio])
        methods = text_values(ds, "LossyImageCompressionMethod") or []
        if methods and all(CODE_STRING.fullmatch(m) for m in methods):
            keep("LossyImageCompressionMethod", "CS", methods)

    _identify_as_deidentified(ds, out, uid_map, kept)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = out.SOPClassUID
    meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    meta.TransferSyntaxUID = module.transfer_syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    out.file_meta = meta
    out.preamble = b"\0" * 128  # never the source's: a PE/ELF header there (CVE-2019-11687)

    result.summary = {
        "profile": PROFILE_NAME,
        "kept": sorted(set(kept)),
        "removed_element_count": _count_elements(ds) - len(set(kept)),
        "burned_in_annotation": attributes["BurnedInAnnotation"],
        "transfer_syntax": module.transfer_syntax,
        "notes": notes,
    }
    return result


def _keep_voi(
    ds: Dataset,
    result: Deidentified,
    keep: Callable[[str, str, Any], None],
    signed: bool,
    notes: list[str],
) -> None:
    centers, widths = decimals(ds, "WindowCenter"), decimals(ds, "WindowWidth")
    if centers and widths:
        pairs = [(c, w) for c, w in zip(centers, widths, strict=False) if w > 0]
        if len(pairs) != len(centers) or len(centers) != len(widths):
            notes.append(
                "Window centre/width pairs that were unmatched or not positive were dropped."
            )
        if pairs:
            result.windows = pairs
            keep("WindowCenter", "DS", [_decimal_string(c) for c, _ in pairs])
            keep("WindowWidth", "DS", [_decimal_string(w) for _, w in pairs])
    function = code_string(ds, "VOILUTFunction", VOI_FUNCTIONS)
    if function is not None and result.windows:
        result.voi_function = function
        keep("VOILUTFunction", "CS", function)
    if tables := lut_sequence(ds, "VOILUTSequence", signed):
        result.voi_luts = tables
        keep("VOILUTSequence", "SQ", Sequence([_lut_item(t, signed) for t in tables]))


# Type 2 attributes of the patient and study modules: present but empty keeps the file valid.
_EMPTY_TYPE_2 = (
    ("PatientName", "PN"),
    ("PatientID", "LO"),
    ("PatientBirthDate", "DA"),
    ("StudyDate", "DA"),
    ("StudyTime", "TM"),
    ("ReferringPhysicianName", "PN"),
    ("StudyID", "SH"),
    ("AccessionNumber", "SH"),
    ("SeriesNumber", "IS"),
    ("InstanceNumber", "IS"),
)


def _identify_as_deidentified(
    ds: Dataset, out: Dataset, uid_map: MutableMapping[str, str] | None, kept: list[str]
) -> None:
    sop_class = single_value(ds, "SOPClassUID", UID_PATTERN)
    out.SOPClassUID = (
        sop_class if sop_class and len(sop_class) <= 64 else dicom_uid.SecondaryCaptureImageStorage
    )
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        setattr(out, keyword, _new_uid(single_value(ds, keyword, UID_PATTERN), uid_map))
    for keyword, vr in _EMPTY_TYPE_2:
        out.add_new(Tag(keyword), vr, None)
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = DEIDENTIFICATION_METHOD
    codes = []
    for value, meaning in _METHOD_CODES:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
        codes.append(code)
    out.DeidentificationMethodCodeSequence = Sequence(codes)
    out.LongitudinalTemporalInformationModified = "REMOVED"
    kept.append("SOPClassUID")


def _count_elements(ds: Dataset) -> int:
    try:
        return len(ds)
    except Exception:
        return 0


def write_dataset(dataset: Dataset) -> bytes:
    """Serialise a dataset from build_deidentified as a DICOM file (zeroed preamble, file meta)."""
    buffer = io.BytesIO()
    dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()


def deidentify(
    ds: Dataset,
    *,
    uid_map: MutableMapping[str, str] | None = None,
    max_pixels: int = 50_000_000,
) -> tuple[bytes, dict[str, Any]]:
    """De-identify ``ds`` by allowlist; returns the new DICOM file's bytes and a summary.

    The summary holds ``kept`` (keywords), ``burned_in_annotation`` as read from the original
    (``"YES"``, ``"NO"`` or None: the caller gates publication on it), ``removed_element_count``
    and ``notes``. Raises DeidentificationError (message safe to show: it never quotes values).
    """
    try:
        clean = build_deidentified(ds, uid_map=uid_map, max_pixels=max_pixels)
        return write_dataset(clean.dataset), clean.summary
    except DeidentificationError:
        raise
    except DicomRejected as exc:
        raise DeidentificationError(str(exc)) from exc
    except Exception as exc:
        # The original message may quote header values; only the type name is safe to show.
        raise DeidentificationError(
            f"The DICOM file is malformed and could not be de-identified ({type(exc).__name__})."
        ) from exc
