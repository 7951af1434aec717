"""apps.cases.imaging: real and synthetic DICOM, PNG and JPEG in; display derivatives out.

Runs without Django: ``pytest tests/cases/imaging/test_imaging.py -p no:django``.
"""

from __future__ import annotations

import hashlib
import io
import struct
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from pydicom import dcmread
from pydicom import uid as dicom_uid

from apps.cases.imaging import ImageRejected, IngestedImage, ingest_image, parse_age_years
from tests.cases import dicom_factory as factory
from tests.cases.dicom_factory import LUNG, MEDIASTINUM, region_mean

DEMO = Path(__file__).resolve().parents[3] / "data" / "cxr-demo"
CHEST_DICOM = DEMO / "dicom" / "RG1_J2KI.dcm"
EXTREMITY_DICOM = DEMO / "dicom" / "RG3_J2KI.dcm"
pytestmark = pytest.mark.filterwarnings(r"ignore::UserWarning:pydicom.*")  # hostile files


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """Overrides the Django-settings fixture of tests/cases/conftest.py: no Django needed here."""
    return tmp_path


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image)


def png_of(array: np.ndarray, **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def chest_png(width: int = 200, height: int = 240) -> np.ndarray:
    return np.rint(factory.synthetic_chest(height, width) * 255).astype(np.uint8)


def assert_chest_orientation(result: IngestedImage) -> None:
    """Bone and mediastinum bright, lungs dark: the display is the right way round."""
    display = decode(result.display_png_or_webp)
    assert display.dtype == np.uint8 and display.ndim == 2
    assert region_mean(display, MEDIASTINUM) > region_mean(display, LUNG) + 40


# ------------------------------------------------------------------------ the bundled DICOMs


@pytest.fixture(scope="module")
def real_chest() -> IngestedImage:
    return ingest_image(CHEST_DICOM.read_bytes(), filename="RG1_J2KI.dcm")


def test_real_chest_dicom_decodes_with_its_geometry(real_chest: IngestedImage) -> None:
    assert (real_chest.kind, real_chest.width, real_chest.height) == ("dicom", 1841, 1955)
    assert (real_chest.display_width, real_chest.display_height) == (964, 1024)
    assert decode(real_chest.display_png_or_webp).shape == (1024, 964)
    assert real_chest.sha256 == hashlib.sha256(CHEST_DICOM.read_bytes()).hexdigest()
    pixels16 = Image.open(io.BytesIO(real_chest.pixels16_png or b""))
    assert pixels16.mode == "I;16" and pixels16.size == (964, 1024)
    # its PixelSpacing is "0\0": not a usable spacing
    assert real_chest.pixel_spacing_mm is None


def test_real_chest_metadata_is_safe_and_parsed(real_chest: IngestedImage) -> None:
    assert real_chest.metadata | {"pixels16_source_range": None} == {
        "modality": "CR",
        "view_position": "PA",
        "body_part": "CHEST",
        "patient_sex": "F",
        "patient_age_years": 64,  # from the birth and study dates, which are not kept
        "photometric": "MONOCHROME1",
        "bits_stored": 15,
        "burned_in_annotation": None,
        "frames": 1,
        "transfer_syntax": "JPEG 2000",
        "lossy_compressed": True,
        "window_value_max": 65535,
        "pixels16_source_range": None,
        "pixels16_inverted": True,
    }
    assert any("BurnedInAnnotation is absent" in w for w in real_chest.warnings)


def test_real_chest_monochrome1_is_inverted(real_chest: IngestedImage) -> None:
    raw = dcmread(CHEST_DICOM).pixel_array.astype(np.float32)
    display = decode(real_chest.display_png_or_webp).astype(np.float32)
    # MONOCHROME1 stores bone as low values: the display must be the negative of the raw data.
    assert region_mean(raw, MEDIASTINUM) < region_mean(raw, LUNG)
    assert region_mean(display, MEDIASTINUM) > region_mean(display, LUNG) + 30
    shrunk = np.asarray(Image.fromarray(raw).resize((964, 1024)))
    assert np.corrcoef(shrunk.ravel(), display.ravel())[0, 1] < -0.95
    pixels16 = decode(real_chest.pixels16_png or b"").astype(np.float32)
    assert np.corrcoef(shrunk.ravel(), pixels16.ravel())[0, 1] < -0.95


def test_real_chest_window_presets(real_chest: IngestedImage) -> None:
    names = [p["name"] for p in real_chest.window_presets]
    assert names == ["DICOM window 1", "Lung", "Mediastinum", "Bone", "Full range"]
    low, high = 803.0, 26512.0  # the image's value range, mapped onto 65535..0 (MONOCHROME1)
    header = real_chest.window_presets[0]
    assert header["width"] == round(30000 * 65535 / (high - low))
    assert header["center"] == round(65535 - (15000 - low) * 65535 / (high - low))
    for preset in real_chest.window_presets:
        assert set(preset) == {"name", "center", "width"} and preset["width"] >= 1
    lung, mediastinum, bone = real_chest.window_presets[1:4]
    assert lung["center"] < mediastinum["center"] < bone["center"]


def test_extremity_dicom_is_refused_unless_overridden() -> None:
    data = EXTREMITY_DICOM.read_bytes()
    with pytest.raises(ImageRejected, match=r"an EXTREMITY study \(BodyPartExamined\).*override"):
        ingest_image(data)
    result = ingest_image(data, allow_non_chest=True)
    assert result.metadata["body_part"] == "EXTREMITY"
    assert any("non-chest override" in w for w in result.warnings)


# ----------------------------------------------------------------------- synthetic DICOM matrix

SYNTHETIC_CASES: dict[str, dict[str, Any]] = {
    "mono2-12bit": {},
    "mono1-12bit": {"photometric": "MONOCHROME1"},
    "mono2-16bit": {"bits_stored": 16},
    "mono1-16bit-signed": {"bits_stored": 16, "signed": True, "photometric": "MONOCHROME1"},
    "mono2-12bit-signed-rescaled": {"signed": True, "rescale": (2.0, -1024.0)},
    "mono2-8bit": {"bits_allocated": 8, "bits_stored": 8},
    "mono1-8bit": {"bits_allocated": 8, "bits_stored": 8, "photometric": "MONOCHROME1"},
    "two-windows": {"window": ([2000.0, 1500.0], [4000.0, 1000.0])},
    "sigmoid-window": {"window": ([2000.0], [3000.0]), "voi_function": "SIGMOID"},
    "voi-lut": {"voi_lut": True},
    "modality-lut": {"modality_lut": True},
    "rgb": {"photometric": "RGB", "bits_allocated": 8, "bits_stored": 8},
    "multi-frame": {"frames": 3},
    "implicit-vr-voi-lut": {"syntax": dicom_uid.ImplicitVRLittleEndian, "voi_lut": True},
    "rle": {"syntax": dicom_uid.RLELossless, "photometric": "MONOCHROME1"},
    "rle-signed": {"syntax": dicom_uid.RLELossless, "signed": True, "bits_stored": 16},
    "j2k-lossless": {"syntax": dicom_uid.JPEG2000Lossless},
    "jpeg-baseline": {
        "syntax": dicom_uid.JPEGBaseline8Bit,
        "bits_allocated": 8,
        "bits_stored": 8,
    },
    "jpeg-baseline-rgb": {
        "syntax": dicom_uid.JPEGBaseline8Bit,
        "photometric": "RGB",
        "bits_allocated": 8,
        "bits_stored": 8,
    },
}


@pytest.mark.parametrize("options", SYNTHETIC_CASES.values(), ids=SYNTHETIC_CASES.keys())
def test_synthetic_dicom_variants_render_the_right_way_round(options: dict[str, Any]) -> None:
    result = ingest_image(factory.make_dicom(**options))
    assert (result.kind, result.width, result.height) == ("dicom", 80, 96)
    assert_chest_orientation(result)
    eight_bit = options.get("bits_stored") == 8
    if eight_bit:
        assert result.pixels16_png is None and result.metadata["window_value_max"] == 255
    else:
        pixels16 = decode(result.pixels16_png or b"")
        assert pixels16.dtype == np.uint16 and pixels16.max() > 60000
        assert region_mean(pixels16, MEDIASTINUM) > region_mean(pixels16, LUNG)
    assert result.pixel_spacing_mm == (0.2, 0.2)
    assert dcmread(io.BytesIO(result.deidentified_dicom or b"")).PatientIdentityRemoved == "YES"


def test_monochrome1_and_monochrome2_of_one_film_look_the_same() -> None:
    shown = [
        decode(ingest_image(factory.make_dicom(photometric=p)).display_png_or_webp)
        for p in ("MONOCHROME1", "MONOCHROME2")
    ]
    assert np.abs(shown[0].astype(int) - shown[1].astype(int)).mean() < 2


def test_header_windows_become_presets_and_the_first_is_displayed() -> None:
    result = ingest_image(factory.make_dicom(window=([1000.0, 3000.0], [600.0, 1000.0])))
    presets = [p for p in result.window_presets if p["name"].startswith("DICOM window")]
    assert len(presets) == 2
    display = decode(result.display_png_or_webp)
    # Window 1 (centre 1000 of 0..4095) saturates the mediastinum (stored ~3300) to white.
    assert region_mean(display, MEDIASTINUM) > 250


def test_header_window_that_misses_the_data_falls_back_to_an_automatic_one() -> None:
    result = ingest_image(factory.make_dicom(window=([90000.0], [10.0])))
    assert any("automatic" in w for w in result.warnings)
    assert_chest_orientation(result)


def test_multi_frame_uses_the_first_frame_and_says_so() -> None:
    result = ingest_image(factory.make_dicom(frames=3))
    assert any("3 frames" in w for w in result.warnings)


def test_display_long_side_is_capped() -> None:
    result = ingest_image(factory.make_dicom(rows=600, columns=400), display_long_side=300)
    assert (result.display_width, result.display_height) == (200, 300)
    assert Image.open(io.BytesIO(result.pixels16_png or b"")).size == (200, 300)


@pytest.mark.parametrize(
    ("body_part", "modality", "accepted"),
    [
        ("CHEST", "DX", True),
        ("THORAX", "CR", True),
        ("CHEST_PA", "CR", True),
        ("CHESTABDOMEN", "DX", True),
        (None, "DX", True),
        ("HAND", "DX", False),
        ("TORSO", "DX", False),
        ("CHEST", "CT", False),
    ],
)
def test_chest_gate(body_part: str | None, modality: str, accepted: bool) -> None:
    data = factory.make_dicom(body_part=body_part, modality=modality)
    if accepted:
        result = ingest_image(data)
        assert (body_part is None) == any("no body part" in w for w in result.warnings)
    else:
        with pytest.raises(ImageRejected, match=r"only chest radiographs.*override"):
            ingest_image(data)
        assert ingest_image(data, allow_non_chest=True).kind == "dicom"


def test_hand_message_is_educator_friendly() -> None:
    with pytest.raises(ImageRejected) as caught:
        ingest_image(factory.make_dicom(body_part="HAND"))
    assert str(caught.value) == (
        "This DICOM is a HAND study (BodyPartExamined); only chest radiographs can be imported. "
        "Tick 'not a chest film, import anyway' to override."
    )


@pytest.mark.parametrize(
    ("age", "years"), [("054Y", 54), ("006M", 0), ("030M", 2), ("090Y", 90), ("10Y", None)]
)
def test_parse_age_years(age: str, years: int | None) -> None:
    assert parse_age_years(age) == years


def test_burned_in_annotation_is_reported() -> None:
    result = ingest_image(factory.make_dicom(burned_in="YES"))
    assert result.metadata["burned_in_annotation"] == "YES"
    assert any("BurnedInAnnotation is YES" in w for w in result.warnings)
    clean = ingest_image(factory.make_dicom(burned_in="NO"))
    assert not any("BurnedInAnnotation" in w for w in clean.warnings)


# ------------------------------------------------------------------------------- PNG and JPEG


def test_nih_png_is_reencoded_losslessly() -> None:
    path = DEMO / "images" / "00000830_000.png"
    result = ingest_image(path.read_bytes(), filename=path.name)
    assert (result.kind, result.width, result.height) == ("png", 1024, 1024)
    assert result.pixels16_png is None and result.deidentified_dicom is None
    assert np.array_equal(decode(result.display_png_or_webp), np.asarray(Image.open(path)))
    assert [p["name"] for p in result.window_presets] == [
        "Lung",
        "Mediastinum",
        "Bone",
        "Full range",
    ]


def test_png_trailer_and_text_chunks_never_survive() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "PHICANARY-tEXt Jane Doe MRN 1234")
    info.add_text("Author", "PHICANARY-zTXt", zip=True)
    info.add_itxt("Description", "PHICANARY-iTXt")
    polyglot = png_of(chest_png(), pnginfo=info) + b"<html><script>alert('PHICANARY')</script>"
    result = ingest_image(polyglot, filename="film.png")
    for blob in (result.display_png_or_webp, repr(result.metadata).encode()):
        assert b"PHICANARY" not in blob and b"<script" not in blob
    assert_chest_orientation(result)


def test_sixteen_bit_png_keeps_its_depth() -> None:
    wide = np.rint(factory.synthetic_chest(120, 100) * 60000).astype(np.uint16)
    result = ingest_image(png_of(wide))
    assert result.metadata["bits_stored"] == 16
    pixels16 = decode(result.pixels16_png or b"")
    assert pixels16.dtype == np.uint16 and pixels16.max() == 65535
    assert_chest_orientation(result)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "P", "1"])
def test_other_png_modes_become_grayscale(mode: str) -> None:
    image = Image.fromarray(chest_png()).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    result = ingest_image(buffer.getvalue())
    assert decode(result.display_png_or_webp).ndim == 2
    if mode != "1":
        assert_chest_orientation(result)
    if "A" in mode:
        assert any("alpha" in w for w in result.warnings)


def test_jpeg_metadata_and_comments_are_dropped() -> None:
    exif = Image.Exif()
    exif[0x010E] = "PHICANARY-exif-description"  # ImageDescription
    exif[0x0112] = 1  # orientation
    buffer = io.BytesIO()
    Image.fromarray(chest_png()).save(
        buffer, format="JPEG", quality=92, exif=exif, comment=b"PHICANARY-com"
    )
    assert b"PHICANARY" in buffer.getvalue()
    result = ingest_image(buffer.getvalue(), filename="film.jpg")
    assert result.kind == "jpeg" and result.metadata["lossy_compressed"] is True
    assert b"PHICANARY" not in result.display_png_or_webp
    assert_chest_orientation(result)


def test_large_png_is_downscaled() -> None:
    result = ingest_image(png_of(chest_png(2048, 1536)))
    assert (result.width, result.height) == (2048, 1536)
    assert decode(result.display_png_or_webp).shape == (768, 1024)


def test_extension_mismatch_is_a_warning_not_an_error() -> None:
    result = ingest_image(png_of(chest_png()), filename="Doe_Jane.dcm")
    assert result.warnings == ["The file's extension is .dcm but its content is PNG."]


# --------------------------------------------------------------------------------- bad input


def bilevel_png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of zeros: tiny on disk, ``width * height`` pixels when decoded."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bomb_400mp() -> bytes:
    return bilevel_png_bomb(20_000, 20_000)


@pytest.mark.parametrize("max_pixels", [50_000_000, 1_000_000_000])
def test_400_megapixel_bomb_is_refused_fast(bomb_400mp: bytes, max_pixels: int) -> None:
    # With the product cap our own header check refuses it; with a huge cap Pillow's guard does.
    assert len(bomb_400mp) < 100_000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageRejected):
        ingest_image(bomb_400mp, max_pixels=max_pixels)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 100 * 1024 * 1024


def test_108_megapixel_png_that_pillow_only_warns_about_is_refused() -> None:
    bomb = bilevel_png_bomb(10_400, 10_400)
    started = time.perf_counter()
    with pytest.raises(ImageRejected, match="pixel limit"):
        ingest_image(bomb)
    assert time.perf_counter() - started < 1.0


def test_truncated_png_is_refused() -> None:
    data = png_of(chest_png())
    with pytest.raises(ImageRejected):
        ingest_image(data[: len(data) // 2])


def test_truncated_jpeg_is_refused() -> None:
    buffer = io.BytesIO()
    Image.fromarray(chest_png()).save(buffer, format="JPEG")
    with pytest.raises(ImageRejected):
        ingest_image(buffer.getvalue()[: len(buffer.getvalue()) // 2])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG or HTML"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html><body onload=alert(1)>", "SVG or HTML"),
        (b"GIF89a" + bytes(64), "not a DICOM, PNG or JPEG"),
        (b"", "not a DICOM, PNG or JPEG"),
        (bytes(128) + b"DIC", "not a DICOM, PNG or JPEG"),
    ],
)
def test_non_images_renamed_png_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ImageRejected, match=message):
        ingest_image(payload, filename="innocent.png")


def test_size_cap() -> None:
    with pytest.raises(ImageRejected, match="KiB limit"):
        ingest_image(png_of(chest_png()), max_bytes=1024)


def test_dicom_pixel_cap() -> None:
    with pytest.raises(ImageRejected, match="pixel limit"):
        ingest_image(factory.make_dicom(rows=600, columns=600), max_pixels=100_000)


def test_truncated_dicom_is_refused() -> None:
    data = factory.make_dicom()
    for cut in (140, 300, len(data) - 2000):
        with pytest.raises(ImageRejected):
            ingest_image(data[:cut])


def test_random_bytes_after_dicm_are_refused() -> None:
    noise = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ImageRejected):
        ingest_image(bytes(128) + b"DICM" + noise)


def test_pixel_data_declaring_more_than_it_holds_is_refused() -> None:
    with pytest.raises(ImageRejected, match="truncated"):
        ingest_image(factory.lying_pixel_length_dicom())


def test_3000_deep_nested_sequence_is_refused() -> None:
    started = time.perf_counter()
    with pytest.raises(ImageRejected):
        ingest_image(factory.deep_sequence_dicom(3000))
    assert time.perf_counter() - started < 5


def test_codestream_larger_than_the_header_is_refused_before_decoding() -> None:
    ds = factory.compress(factory.make_dataset(), dicom_uid.JPEG2000Lossless)
    # Rows/Columns say 96x80; claim 80x64 so the J2K header (SIZ) disagrees with them.
    ds.Rows, ds.Columns = 80, 64
    ds.file_meta.TransferSyntaxUID = dicom_uid.JPEG2000Lossless
    with pytest.raises(ImageRejected, match="does not match the image size"):
        ingest_image(factory.to_bytes(ds))


@pytest.mark.parametrize(
    "syntax", [dicom_uid.DeflatedExplicitVRLittleEndian, dicom_uid.ExplicitVRBigEndian, "1.2.3.4"]
)
def test_unsupported_transfer_syntaxes_are_refused(syntax: str) -> None:
    ds = factory.make_dataset()
    ds.file_meta.TransferSyntaxUID = syntax
    private = {"implicit_vr": False, "little_endian": True} if syntax == "1.2.3.4" else {}
    with pytest.raises(ImageRejected, match="not supported"):
        ingest_image(factory.to_bytes(ds, **private))


# ---------------------------------------------------------------------------------- fuzzing

SMALL_PNG = png_of(chest_png(24, 20))
SMALL_DICOM = factory.make_dicom(rows=20, columns=16)
SMALL_RLE = factory.make_dicom(rows=20, columns=16, syntax=dicom_uid.RLELossless)


def mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    edits = st.lists(
        st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )

    def apply(changes: list[tuple[int, int]], cut: int | None) -> bytes:
        data = bytearray(seed)
        for position, value in changes:
            data[position] = value
        return bytes(data[:cut])

    return st.builds(apply, edits, st.none() | st.integers(0, len(seed)))


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(mutations(SMALL_PNG), mutations(SMALL_DICOM), mutations(SMALL_RLE)))
def test_fuzzed_inputs_either_ingest_or_are_rejected(data: bytes) -> None:
    try:
        result = ingest_image(data, allow_non_chest=True)
    except ImageRejected as exc:
        assert str(exc)
    else:
        assert isinstance(result, IngestedImage) and result.display_png_or_webp
