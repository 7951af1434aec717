"""apps.cases.imaging.deid: allowlist de-identification, proven with PHI canaries (RELIABILITY S21).

Runs without Django: ``pytest tests/cases/imaging/test_deid.py -p no:django``.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom import uid as dicom_uid
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames

from apps.cases.imaging import IngestedImage, ingest_image
from apps.cases.imaging.codestreams import CodestreamError, scrub_j2k, scrub_jpeg
from apps.cases.imaging.deid import PROFILE_NAME, DeidentificationError, deidentify
from tests.cases import dicom_factory as factory

CHEST_DICOM = Path(__file__).resolve().parents[3] / "data" / "cxr-demo" / "dicom" / "RG1_J2KI.dcm"
NEEDLE = factory.CANARY.lower().encode()
# Reading the hostile sources back in the tests makes pydicom complain about every canary.
pytestmark = pytest.mark.filterwarnings(r"ignore::UserWarning:pydicom.*")


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """Overrides the Django-settings fixture of tests/cases/conftest.py: no Django needed here."""
    return tmp_path


def read(data: bytes) -> Dataset:
    return dcmread(io.BytesIO(data))


def stored_bytes(result: IngestedImage) -> dict[str, bytes]:
    """Every byte the caller stores or shows, by name."""
    described = {
        "metadata": result.metadata,
        "window_presets": result.window_presets,
        "warnings": result.warnings,
        "pixel_spacing": result.pixel_spacing_mm,
    }
    return {
        "deidentified_dicom": result.deidentified_dicom or b"",
        "display": result.display_png_or_webp,
        "pixels16": result.pixels16_png or b"",
        "described": json.dumps(described).encode(),
    }


def assert_no_canary(blobs: dict[str, bytes]) -> None:
    leaks = [name for name, blob in blobs.items() if NEEDLE in blob.lower()]
    assert leaks == []


# ------------------------------------------------------------------------------ the canary file


@pytest.fixture(
    scope="module", params=[True, False], ids=["valid-kept-values", "canary-everywhere"]
)
def canary_file(request: pytest.FixtureRequest) -> bytes:
    return factory.make_canary_dicom(valid_kept_values=request.param)


def test_canary_file_really_carries_every_string_element(canary_file: bytes) -> None:
    tags = list(factory.string_tags())
    assert len(tags) > 2000  # the whole dictionary, not a sample
    source = read(canary_file)
    written = sum(1 for tag, _ in tags if tag in source)
    assert written >= len(tags) - 40  # minus the ones the image itself needs
    assert canary_file[:2] == b"MZ"


def test_deidentify_leaves_no_canary(canary_file: bytes) -> None:
    output, summary = deidentify(read(canary_file))
    assert_no_canary({"dicom": output, "summary": json.dumps(summary).encode()})


def test_ingest_leaves_no_canary_in_anything_stored_or_logged(
    canary_file: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as raised:  # keeps the module's own filters
        result = ingest_image(canary_file, filename="scan.dcm", allow_non_chest=True)
    assert_no_canary(stored_bytes(result))
    assert_no_canary({"log": caplog.text.encode(), "warnings": repr(raised).encode()})


def test_canary_output_is_a_clean_valid_dicom(canary_file: bytes) -> None:
    source = read(canary_file)
    output, _ = deidentify(source)
    assert output[:128] == bytes(128) and output[128:132] == b"DICM"
    clean = read(output)
    assert clean.PatientIdentityRemoved == "YES"
    assert PROFILE_NAME in clean.DeidentificationMethod
    assert not any(element.tag.is_private for element in clean.iterall())
    assert not any(0x6000 <= element.tag.group <= 0x60FF for element in clean.iterall())
    assert not any(0x5000 <= element.tag.group <= 0x50FF for element in clean.iterall())
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        new = str(clean[keyword].value)
        assert dicom_uid.UID(new).is_valid
        assert new != str(source.get(keyword, ""))
    sequences = {e.keyword for e in clean if e.VR == "SQ"}
    assert sequences <= {
        "DeidentificationMethodCodeSequence",
        "ModalityLUTSequence",
        "VOILUTSequence",
    }
    stored = np.frombuffer(source["PixelData"].value, dtype="<u2").reshape(96, 80)
    assert np.array_equal(clean.pixel_array, stored)


def test_valid_kept_values_survive() -> None:
    output, summary = deidentify(read(factory.make_canary_dicom(valid_kept_values=True)))
    clean = read(output)
    assert (clean.Modality, clean.BodyPartExamined, clean.ViewPosition) == ("DX", "CHEST", "PA")
    assert (clean.PatientSex, clean.PatientAge, clean.BurnedInAnnotation) == ("F", "054Y", "NO")
    assert [float(v) for v in clean.PixelSpacing] == [0.2, 0.2]
    assert float(clean.WindowCenter) == 2048 and float(clean.WindowWidth) == 4096
    assert summary["burned_in_annotation"] == "NO"
    assert {"Rows", "Columns", "PixelData", "PatientAge", "WindowCenter"} <= set(summary["kept"])
    assert summary["removed_element_count"] > 2000


# ------------------------------------------------------------------------- the real chest DICOM


@pytest.fixture(scope="module")
def real_deidentified() -> tuple[Dataset, Dataset, bytes, dict[str, Any]]:
    source = dcmread(CHEST_DICOM)
    output, summary = deidentify(source)
    return source, read(output), output, summary


def test_real_chest_identifiers_are_removed(
    real_deidentified: tuple[Dataset, Dataset, bytes, dict[str, Any]],
) -> None:
    _, clean, output, _ = real_deidentified
    for text in (
        "CompressedSamples",
        "9RG1",
        "26210",
        "19400305",
        "Philips Medical Systems Hamburg",
        "THORAVISION",
        "92.00.003",
        "exam Number",
        "Our Department",
        "CLUNIE1",
    ):
        assert text.encode() not in output, text
    assert str(clean.PatientName) == "" and clean.PatientID in ("", None)
    for keyword in (
        "InstitutionName",
        "StationName",
        "DeviceSerialNumber",
        "ImageComments",
        "OtherPatientIDs",
        "PatientBirthDate",
    ):
        assert not clean.get(keyword), keyword


def test_real_chest_uids_are_new_and_pixels_untouched(
    real_deidentified: tuple[Dataset, Dataset, bytes, dict[str, Any]],
) -> None:
    source, clean, output, summary = real_deidentified
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert clean[keyword].value != source[keyword].value
        assert str(source[keyword].value).encode() not in output
    assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
    assert clean.file_meta.TransferSyntaxUID == dicom_uid.JPEG2000
    assert clean.PhotometricInterpretation == "MONOCHROME1"  # stored data stays as acquired
    assert np.array_equal(clean.pixel_array, source.pixel_array)
    assert clean.PatientAge == "064Y" and clean.PatientSex == "F"
    assert clean.LossyImageCompression == "01"
    assert summary["burned_in_annotation"] is None


def test_shared_uid_map_keeps_a_study_together() -> None:
    study = dicom_uid.generate_uid()
    first, second = factory.make_dataset(), factory.make_dataset()
    first.StudyInstanceUID = second.StudyInstanceUID = study
    uid_map: dict[str, str] = {}
    clean = [read(deidentify(ds, uid_map=uid_map)[0]) for ds in (first, second)]
    assert clean[0].StudyInstanceUID == clean[1].StudyInstanceUID != study
    assert clean[0].SOPInstanceUID != clean[1].SOPInstanceUID
    assert uid_map[study] == clean[0].StudyInstanceUID


# ------------------------------------------------------------------------------ single rules


@pytest.mark.parametrize(
    ("age", "kept"),
    [
        ("054Y", "054Y"),
        ("089Y", "089Y"),
        ("090Y", "090Y"),
        ("104Y", "090Y"),
        ("006M", "006M"),
        ("2000W", None),
        ("54", None),
        ("PHICANARY", None),
    ],
)
def test_patient_age_is_kept_and_capped(age: str, kept: str | None) -> None:
    ds = factory.make_dataset(patient_age=None)
    ds.add(factory._raw_text(0x00101010, "AS", age))
    clean = read(deidentify(ds)[0])
    assert clean.get("PatientAge") == kept


def test_age_derived_from_dates_is_capped_and_dates_dropped() -> None:
    ds = factory.make_dataset(patient_age=None)
    ds.PatientBirthDate, ds.StudyDate = "19200101", "20240601"
    output, summary = deidentify(ds)
    assert read(output).PatientAge == "090Y"
    assert b"19200101" not in output and b"20240601" not in output
    assert any("derived" in note for note in summary["notes"])


def test_mz_preamble_never_survives() -> None:
    ds = factory.make_dataset()
    polyglot = factory.to_bytes(ds, preamble=b"MZ\x90\x00" + b"\xcc" * 60)
    output, _ = deidentify(read(polyglot))
    assert output[:128] == bytes(128)


def test_bytes_hidden_after_the_declared_pixels_are_dropped() -> None:
    ds = factory.make_dataset()
    ds.PixelData = ds.PixelData + b"PHICANARY hidden after the image"
    output, _ = deidentify(ds)
    assert NEEDLE not in output.lower()
    assert read(output).pixel_array.shape == (96, 80)


def test_lut_sequences_are_rebuilt_from_descriptor_and_data_only() -> None:
    ds = factory.make_dataset(voi_lut=True, modality_lut=True)
    ds.VOILUTSequence[0].LUTExplanation = "PHICANARY explanation"
    ds.ModalityLUTSequence[0].ModalityLUTType = "PHICANARY"
    output, summary = deidentify(ds)
    clean = read(output)
    assert NEEDLE not in output.lower()
    assert {"VOILUTSequence", "ModalityLUTSequence"} <= set(summary["kept"])
    original = ds.VOILUTSequence[0]
    assert clean.VOILUTSequence[0].LUTData == original.LUTData
    assert list(clean.VOILUTSequence[0].LUTDescriptor) == list(original.LUTDescriptor)


def test_burned_in_annotation_flag_is_reported() -> None:
    for flag in ("YES", "NO", None):
        _, summary = deidentify(factory.make_dataset(burned_in=flag))
        assert summary["burned_in_annotation"] == flag


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Rows": 0}, "image size"),
        ({"BitsAllocated": 32}, "8- or 16-bit"),
        ({"PhotometricInterpretation": "PALETTE COLOR"}, "photometric"),
        ({"NumberOfFrames": 2}, "truncated"),
    ],
)
def test_unusable_pixel_modules_raise_a_clear_error(change: dict[str, Any], message: str) -> None:
    ds = factory.make_dataset()
    for keyword, value in change.items():
        setattr(ds, keyword, value)
    with pytest.raises(DeidentificationError, match=message):
        deidentify(ds)


def test_errors_never_quote_header_values() -> None:
    ds = factory.make_dataset()
    ds.add(factory._raw_text(0x00280004, "CS", "PHICANARY-photometric"))
    with pytest.raises(DeidentificationError) as caught:
        deidentify(ds)
    assert factory.CANARY not in str(caught.value)


# ------------------------------------------------------------- text inside compressed frames


def j2k_with_comments(codestream: bytes) -> bytes:
    """Add COM segments to the main and first tile-part header, and bytes after EOC."""
    comment = b"\xff\x64" + struct.pack(">HH", 2 + 2 + 24, 1) + b"PHICANARY main header   "
    position = 2
    while codestream[position : position + 2] != b"\xff\x90":  # walk to the first SOT
        position += 2 + int.from_bytes(codestream[position + 2 : position + 4], "big")
    psot = int.from_bytes(codestream[position + 6 : position + 10], "big")
    tile_comment = b"\xff\x64" + struct.pack(">HH", 2 + 2 + 10, 1) + b"PHICANARY!"
    tile = bytearray(codestream[position : position + (psot or len(codestream))])
    if psot:
        tile[6:10] = struct.pack(">I", psot + len(tile_comment))
    tile[12:12] = tile_comment
    rest = codestream[position + psot :] if psot else b""
    return codestream[:position] + comment + bytes(tile) + rest + b"PHICANARY trailer"


def reencapsulated(ds: Dataset, change: Any) -> Dataset:
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([change(frame)])
    return ds


def test_jpeg_2000_comments_and_trailers_are_cut_without_touching_pixels() -> None:
    original = factory.compress(factory.make_dataset(), dicom_uid.JPEG2000Lossless)
    expected = original.pixel_array.copy()
    hostile = reencapsulated(original, j2k_with_comments)
    assert hostile.pixel_array.shape == expected.shape  # still decodes with the comments in
    output, summary = deidentify(hostile)
    assert NEEDLE not in output.lower()
    assert np.array_equal(read(output).pixel_array, expected)
    # ours (main header, tile-part header, trailer) plus OpenJPEG's own "Created by" comment
    assert any("Removed 4 comment/metadata segment(s)" in note for note in summary["notes"])


def test_jpeg_comments_application_segments_and_trailers_are_cut() -> None:
    original = factory.compress(
        factory.make_dataset(bits_allocated=8, bits_stored=8), dicom_uid.JPEGBaseline8Bit
    )
    expected = original.pixel_array.copy()

    def add_text(frame: bytes) -> bytes:
        exif = b"\xff\xe1" + struct.pack(">H", 2 + 20) + b"Exif\0\0PHICANARY-exif"[:20].ljust(20)
        comment = b"\xff\xfe" + struct.pack(">H", 2 + 13) + b"PHICANARY-com"
        return frame[:2] + exif + comment + frame[2:] + b"PHICANARY after EOI"

    output, _ = deidentify(reencapsulated(original, add_text))
    assert NEEDLE not in output.lower()
    assert np.array_equal(read(output).pixel_array, expected)


@pytest.mark.parametrize("progressive", [False, True])
def test_scrubbed_jpeg_decodes_to_the_same_pixels(progressive: bool) -> None:
    image = Image.fromarray(np.rint(factory.synthetic_chest(64, 48) * 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", progressive=progressive, comment=b"PHICANARY")
    scrubbed, removed = scrub_jpeg(buffer.getvalue())
    assert removed >= 2 and b"PHICANARY" not in scrubbed  # JFIF APP0 and the COM
    before, after = (np.asarray(Image.open(io.BytesIO(b))) for b in (buffer.getvalue(), scrubbed))
    assert np.array_equal(before, after)


def test_real_chest_codestream_comment_is_removed(
    real_deidentified: tuple[Dataset, Dataset, bytes, dict[str, Any]],
) -> None:
    _, _, output, summary = real_deidentified
    assert b"Kakadu" not in output  # the encoder's COM segment
    assert any("1 comment/metadata segment(s)" in note for note in summary["notes"])


@pytest.mark.parametrize(
    "broken", [b"", b"\xff\xd8\xff", b"\xff\xd8\x00\x00", b"\xff\xd8\xff\xfe\x00\x40abc"]
)
def test_malformed_jpeg_marker_structure_is_an_error(broken: bytes) -> None:
    with pytest.raises(CodestreamError):
        scrub_jpeg(broken)


@pytest.mark.parametrize(
    "broken", [b"", b"\xff\x4f", b"\xff\x4f\xff\x51\x00\x02", b"\xff\x4f\xff\xd9"]
)
def test_malformed_j2k_marker_structure_is_an_error(broken: bytes) -> None:
    with pytest.raises(CodestreamError):
        scrub_j2k(broken)
