"""Uploaded radiograph (DICOM, PNG, JPEG) -> validated, de-identified display derivatives.

Every derivative is re-encoded from decoded pixels, so nothing an uploader smuggles into a file
(PNG text chunks, appended HTML, EXIF, DICOM headers) can reach a resident. The display image is
an 8-bit grayscale PNG: lossless (faint nodules survive, WebP's lossless mode turns grayscale into
RGB and comes out larger here), decoded by every browser. Pure functions: no Django.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from pydicom import dcmread
from pydicom import uid as dicom_uid

from apps.cases.imaging.deid import Deidentified, build_deidentified, parse_age_years, write_dataset
from apps.cases.imaging.dicom_pixels import (
    LOSSY_TRANSFER_SYNTAXES,
    TRANSFER_SYNTAXES,
    DicomRejected,
    check_codestream_size,
    jpeg_size,
    silence_pydicom_value_echoes,
)
from apps.cases.imaging.ocr import OcrResult
from apps.cases.imaging.rendering import Rendered, render_eight_bit, render_high_depth

MiB = 1024 * 1024
OVERRIDE_HINT = "Tick 'not a chest film, import anyway' to override."
# BodyPartExamined words that mean a chest film. PS3.16 Annex L defines CHEST, CHESTABDOMEN,
# CHESTABDPELVIS and LUNG; THORAX and LUNGS are common vendor spellings. TORSO is left out on
# purpose: it labels whole-trunk studies, so an educator should look and tick the override.
CHEST_WORDS = frozenset({"CHEST", "THORAX", "LUNG", "LUNGS", "CXR"})
CHEST_TERMS = frozenset({"CHESTABDOMEN", "CHESTABDPELVIS"})
# Projection radiography, plus OT for digitised films; CT, MR, mammography etc. need the override.
RADIOGRAPHIC_MODALITIES = frozenset({"CR", "DX", "DR", "RG", "OT"})
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageRejected(Exception):
    """The upload cannot become a case image. The message is meant for the educator and never
    quotes header text, which may be PHI."""


@dataclass(frozen=True)
class IngestedImage:
    kind: str  # "dicom" | "png" | "jpeg"
    width: int  # of the original pixel grid (pixel_spacing_mm too; scale it for the display)
    height: int
    display_png_or_webp: bytes  # always PNG, see module docstring
    pixels16_png: bytes | None  # None when values are shown as stored (8-bit, no rescale/VOI)
    window_presets: list[dict[str, Any]]
    pixel_spacing_mm: tuple[float, float] | None
    metadata: dict[str, Any]
    deidentified_dicom: bytes | None
    sha256: str
    warnings: list[str] = field(default_factory=list)
    display_media_type: str = "image/png"
    display_width: int = 0
    display_height: int = 0
    # The OCR verdict on the display image, once read (apps.cases.services.images.image_read_ocr);
    # None until then. Never the recognised text.
    ocr: OcrResult | None = None


def ingest_image(
    data: bytes,
    *,
    filename: str = "",
    allow_non_chest: bool = False,
    max_bytes: int = 64 * MiB,
    max_pixels: int = 50_000_000,
    display_long_side: int = 1024,
) -> IngestedImage:
    """Validate and decode one upload; raises ImageRejected and nothing else.

    ``filename`` is used only to warn when its extension disagrees with the content; it is never
    echoed (names often carry patient details).
    """
    try:
        return _ingest(
            bytes(data), filename, allow_non_chest, max_bytes, max_pixels, display_long_side
        )
    except ImageRejected:
        raise
    except DicomRejected as exc:
        raise ImageRejected(str(exc)) from None
    except Exception as exc:  # hostile input makes the parsers raise almost anything
        raise _undecodable(exc) from None  # the original message may quote PHI into logs
    except BaseException as exc:
        # Rust decoders (pylibjpeg-rle) panic with pyo3's PanicException, a BaseException.
        if type(exc).__name__ != "PanicException":
            raise
        raise _undecodable(exc) from None


def _undecodable(exc: BaseException) -> ImageRejected:
    return ImageRejected(
        f"The file could not be decoded as an image ({type(exc).__name__}); it is damaged or not "
        "a supported format."
    )


def detect_kind(data: bytes) -> str | None:
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "dicom"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def _ingest(
    data: bytes,
    filename: str,
    allow_non_chest: bool,
    max_bytes: int,
    max_pixels: int,
    long_side: int,
) -> IngestedImage:
    if len(data) > max_bytes:
        raise ImageRejected(f"The file is {_size(len(data))}, above the {_size(max_bytes)} limit.")
    kind = detect_kind(data)
    if kind is None:
        head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        what = "an SVG or HTML document" if head.startswith(b"<") else "not a DICOM, PNG or JPEG"
        raise ImageRejected(
            f"This file is {what}. Only DICOM (with the DICM header), PNG and JPEG images can be "
            "imported."
        )
    warnings = _extension_warning(filename, kind)
    if kind == "dicom":
        return _ingest_dicom(data, allow_non_chest, max_pixels, long_side, warnings)
    return _ingest_bitmap(data, kind, max_pixels, long_side, warnings)


def _size(count: int) -> str:
    return f"{count / MiB:.1f} MiB" if count >= MiB else f"{count / 1024:.0f} KiB"


def _extension_warning(filename: str, kind: str) -> list[str]:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    expected = {"dicom": {"dcm", "dicom", ""}, "png": {"png"}, "jpeg": {"jpg", "jpeg"}}[kind]
    if suffix and suffix not in expected and suffix.isalnum() and len(suffix) <= 5:
        return [f"The file's extension is .{suffix} but its content is {kind.upper()}."]
    return []


# ----------------------------------------------------------------------------------- DICOM


def _ingest_dicom(
    data: bytes, allow_non_chest: bool, max_pixels: int, long_side: int, warnings: list[str]
) -> IngestedImage:
    silence_pydicom_value_echoes()
    try:
        source = dcmread(io.BytesIO(data))
    except Exception as exc:
        raise ImageRejected(
            f"The DICOM file could not be parsed ({type(exc).__name__}); it is damaged or "
            "malformed."
        ) from None
    clean = build_deidentified(source, max_pixels=max_pixels)
    del source  # from here on only the clean copy is used
    _check_chest(clean.attributes, allow_non_chest, warnings)
    module = clean.pixels
    pixel_data = clean.dataset.PixelData
    check_codestream_size(module, pixel_data)
    if module.number_of_frames > 1:
        warnings.append(
            f"Multi-frame DICOM ({module.number_of_frames} frames): only the first frame is used."
        )
    rendered = _render_dicom(clean, long_side, warnings)
    burned_in = clean.attributes.get("BurnedInAnnotation")
    if burned_in != "NO":
        warnings.append(
            "BurnedInAnnotation is "
            + ("YES" if burned_in == "YES" else "absent")
            + ": check the image for burned-in patient details before publishing."
        )
    warnings.extend(clean.summary["notes"])
    attributes = clean.attributes
    metadata = {
        "modality": attributes.get("Modality"),
        "view_position": attributes.get("ViewPosition"),
        "body_part": attributes.get("BodyPartExamined"),
        "patient_sex": attributes.get("PatientSex"),
        "patient_age_years": parse_age_years(attributes.get("PatientAge")),
        "photometric": module.photometric,
        "bits_stored": module.bits_stored,
        "burned_in_annotation": burned_in,
        "frames": module.number_of_frames,
        "transfer_syntax": TRANSFER_SYNTAXES[module.transfer_syntax],
        "lossy_compressed": attributes.get("LossyImageCompression") == "01"
        or module.transfer_syntax in LOSSY_TRANSFER_SYNTAXES,
        **rendered.metadata,
    }
    return IngestedImage(
        kind="dicom",
        width=module.columns,
        height=module.rows,
        display_png_or_webp=rendered.display_png,
        pixels16_png=rendered.pixels16_png,
        window_presets=rendered.presets,
        pixel_spacing_mm=clean.pixel_spacing_mm,
        metadata=metadata,
        deidentified_dicom=write_dataset(clean.dataset),
        sha256=hashlib.sha256(data).hexdigest(),
        warnings=warnings + rendered.warnings,
        display_width=rendered.width,
        display_height=rendered.height,
    )


def is_chest_body_part(body_part: str) -> bool:
    words = body_part.replace("_", " ").split()
    return body_part in CHEST_TERMS or any(word in CHEST_WORDS for word in words)


def _check_chest(attributes: dict[str, str | None], allow: bool, warnings: list[str]) -> None:
    body_part, modality = attributes.get("BodyPartExamined"), attributes.get("Modality")
    problems: list[str] = []
    if body_part is None:
        warnings.append("The DICOM header names no body part: check this is a chest radiograph.")
    elif not is_chest_body_part(body_part):
        problems.append(f"{_article(body_part)} {body_part} study (BodyPartExamined)")
    if modality is None:
        warnings.append("The DICOM header names no modality: check this is a radiograph.")
    elif modality not in RADIOGRAPHIC_MODALITIES:
        problems.append(
            f"{_article(modality)} {modality} image (Modality), not a projection radiograph"
        )
    if not problems:
        return
    if allow:
        warnings.append(f"Imported with the non-chest override: this DICOM is {problems[0]}.")
        return
    raise ImageRejected(
        f"This DICOM is {' and '.join(problems)}; only chest radiographs can be imported. "
        + OVERRIDE_HINT
    )


def _article(code: str) -> str:
    # Codes are read letter by letter when they are short ("an MR image", "a CR image").
    spoken_vowel = code[:1] in "AEIOU" or (len(code) <= 3 and code[:1] in "FHLMNRSX")
    return "an" if spoken_vowel else "a"


def _render_dicom(clean: Deidentified, long_side: int, warnings: list[str]) -> Rendered:
    module = clean.pixels
    dataset = clean.dataset
    options: dict[str, Any] = {"index": 0}
    if dicom_uid.UID(module.transfer_syntax).is_encapsulated:
        options["decoding_plugin"] = "pylibjpeg"
    dataset.pixel_array_options(**options)
    array = dataset.pixel_array
    if array.ndim != 2 + (module.samples_per_pixel > 1) or array.shape[:2] != (
        module.rows,
        module.columns,
    ):
        raise ImageRejected("The decoded DICOM image does not match the size in its header.")
    if module.samples_per_pixel > 1:
        warnings.append("Colour DICOM converted to grayscale.")
        luminance = array[..., :3].astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
        if module.bits_stored <= 8:
            return render_eight_bit(np.clip(np.rint(luminance), 0, 255).astype(np.uint8), long_side)
        return render_high_depth(luminance, long_side, inverted=False)
    eight_bit_source = (
        module.bits_stored <= 8
        and clean.modality_lut is None
        and clean.rescale == (1.0, 0.0)
        and not clean.windows
        and not clean.voi_luts
        and module.pixel_representation == 0
    )
    if eight_bit_source:
        pixels = array.astype(np.uint8)
        return render_eight_bit(
            255 - pixels if module.photometric == "MONOCHROME1" else pixels, long_side
        )
    return render_high_depth(
        modality_values(array, clean),
        long_side,
        inverted=module.photometric == "MONOCHROME1",
        windows=clean.windows,
        voi_function=clean.voi_function,
        voi_luts=clean.voi_luts,
    )


def modality_values(array: np.ndarray, clean: Deidentified) -> np.ndarray:
    """Stored values -> modality values (PS3.3 C.11.1): a LUT if given, else slope/intercept."""
    if clean.modality_lut is not None:
        table = clean.modality_lut
        index = np.clip(array.astype(np.int64) - table.first_mapped, 0, len(table.data) - 1)
        return table.data[index].astype(np.float32)
    slope, intercept = clean.rescale
    values = array.astype(np.float32)
    if (slope, intercept) != (1.0, 0.0):
        values = values * np.float32(slope) + np.float32(intercept)
    return values


# ------------------------------------------------------------------------------ PNG / JPEG


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, which the PNG spec requires to come first."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _ingest_bitmap(
    data: bytes, kind: str, max_pixels: int, long_side: int, warnings: list[str]
) -> IngestedImage:
    # Size from our own header parse, before Pillow decodes anything: Pillow only warns between
    # its MAX_IMAGE_PIXELS and twice that, and its limit is a process-wide global.
    size = png_size(data) if kind == "png" else jpeg_size(data)
    if size is None or 0 in size:
        raise ImageRejected(f"The {kind.upper()} file is damaged: its header has no image size.")
    width, height = size
    if width * height > max_pixels:
        raise ImageRejected(
            f"The image is {width}x{height} pixels, above the {max_pixels:,} pixel limit."
        )
    pillow_format = ["PNG"] if kind == "png" else ["JPEG"]
    with Image.open(io.BytesIO(data), formats=pillow_format) as probe:
        if probe.size != (width, height):
            raise ImageRejected(f"The {kind.upper()} file is damaged: inconsistent image size.")
        probe.verify()  # chunk CRCs and structure, without decoding
    with Image.open(io.BytesIO(data), formats=pillow_format) as image:
        if getattr(image, "n_frames", 1) > 1:
            warnings.append("Animated or multi-picture image: only the first frame is used.")
        image.load()  # raises on truncated data (LOAD_TRUNCATED_IMAGES stays False)
        if kind == "jpeg":
            image = ImageOps.exif_transpose(image)  # applied to pixels; EXIF itself is dropped
        pixels = _grayscale_pixels(image, warnings)
    if pixels.dtype == np.uint16:
        rendered = render_high_depth(pixels.astype(np.float32), long_side, inverted=False)
    else:
        rendered = render_eight_bit(pixels, long_side)
    metadata = {
        "modality": None,
        "view_position": None,
        "body_part": None,
        "patient_sex": None,
        "patient_age_years": None,
        "photometric": "MONOCHROME2",
        "bits_stored": 16 if pixels.dtype == np.uint16 else 8,
        "burned_in_annotation": None,
        "frames": 1,
        "lossy_compressed": kind == "jpeg",
        **rendered.metadata,
    }
    return IngestedImage(
        kind=kind,
        width=pixels.shape[1],
        height=pixels.shape[0],
        display_png_or_webp=rendered.display_png,
        pixels16_png=rendered.pixels16_png,
        window_presets=rendered.presets,
        pixel_spacing_mm=None,
        metadata=metadata,
        deidentified_dicom=None,
        sha256=hashlib.sha256(data).hexdigest(),
        warnings=warnings + rendered.warnings,
        display_width=rendered.width,
        display_height=rendered.height,
    )


def _grayscale_pixels(image: Image.Image, warnings: list[str]) -> np.ndarray:
    """A uint8 or uint16 2-D array; only pixel values leave this function, never metadata."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image).astype(np.uint16)
    if mode == "I":
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 0xFFFF:
            raise ImageRejected("The PNG holds pixel values outside the 16-bit range.")
        return values.astype(np.uint16)
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        warnings.append("The image's transparency (alpha channel) was discarded.")
    if mode in ("L", "LA", "La", "1"):
        return np.asarray(image.getchannel(0) if mode != "1" else image.convert("L"))
    if mode in ("P", "PA", "RGB", "RGBA", "RGBa", "CMYK", "YCbCr", "LAB", "HSV"):
        rgb = np.asarray(image.convert("RGB")).astype(np.int16)
        if int(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).max()) > 8:
            warnings.append("Colour image converted to grayscale.")
        return np.asarray(image.convert("RGB").convert("L"))
    raise ImageRejected(f"Images with the pixel format {mode} are not supported.")
