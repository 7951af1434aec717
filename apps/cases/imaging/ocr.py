"""Optional OCR flag for burned-in text (RELIABILITY S21): does the display image show words?

Tesseract (Debian ``tesseract-ocr``, called through pytesseract) reads the 8-bit display PNG.
A view on which it finds a text-like token (three or more letters or digits, recognised with
reasonable confidence) is flagged; the caller holds a flagged view for an educator's check of the
whole image, as it does a DICOM whose BurnedInAnnotation is YES or absent. Only the verdict and
the engine's version leave this module: the recognised text may be a patient's name and is
never returned, logged or stored.

The flag is a help, not a guarantee: tesseract misses stylised, rotated or very faint text, and
an educator's look at the whole image is still what lets such a DICOM be published.
Pure functions: no Django.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

MODES = ("auto", "on", "off")
# Outcomes stored on the view (CaseImage.ocr_status); "" = never scanned (older views).
FLAGGED, CLEAR, UNAVAILABLE, OFF, FAILED = "text", "clear", "unavailable", "off", "failed"
# A token counts when it has this many letters or digits and tesseract's confidence (0..100) is
# at least MIN_CONFIDENCE. 30, not higher: a name written DOE^JANE comes out as "DOE*JANE" at
# confidence ~34 (the caret drags the word down). Measured on tests/cases/imaging/ocr_images.py
# and the demo films (docs/reliability.md S21).
MIN_CHARACTERS = 3
MIN_CONFIDENCE = 30.0
# A smaller display is enlarged towards this long side (at most 2x) before reading; a 1024 px
# display is read as it is (doubling it doubled tesseract's time).
OCR_LONG_SIDE = 1024
# Sparse text in no particular order (--psm 11), the LSTM engine (--oem 1).
TESSERACT_CONFIG = "--oem 1 --psm 11"
# Structures narrower than STROKE_PX that differ from their surroundings by STROKE_CONTRAST
# gray levels (of 255) are kept as strokes; glyph strokes up to ~48 px type fit.
STROKE_PX = 15
STROKE_CONTRAST = 28
MARGIN_PX = 32
_ALNUM = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class OcrResult:
    status: str  # FLAGGED | CLEAR | UNAVAILABLE | OFF | FAILED
    engine: str = ""  # "tesseract 5.3.0", empty when it did not run

    @property
    def flagged(self) -> bool:
        return self.status == FLAGGED


def tesseract_available() -> bool:
    return _engine_version() != ""


@functools.cache
def _engine_version() -> str:
    """'tesseract 5.3.0', or '' when the binary or pytesseract is missing."""
    if shutil.which("tesseract") is None:
        return ""
    try:
        import pytesseract
    except ImportError:
        return ""
    try:
        return f"tesseract {pytesseract.get_tesseract_version()}"
    except (pytesseract.TesseractNotFoundError, OSError, subprocess.SubprocessError):
        return ""


def prepared(display_png: bytes, long_side: int = OCR_LONG_SIDE) -> Image.Image:
    """Black strokes on white for tesseract: whatever is narrow and sharply brighter than the
    film around it (a white top-hat of STROKE_PX), after a 3x3 median that removes grain.

    Read as it is, a film's grain, ribs and lung edges make tesseract's sparse-text mode find
    hundreds of tiny "words" (slow) and lose the real ones among them; the film's smooth
    anatomy has little top-hat response, burned-in glyphs a strong one. Burned-in annotation is
    drawn bright (white on the display, whatever the photometric interpretation); dark text is
    not looked for (the black top-hat of bright glyphs fills their counters and spoils them).
    """
    with Image.open(io.BytesIO(display_png), formats=["PNG"]) as image:
        gray = image.convert("L")
    scale = min(long_side / max(gray.size), 2.0)  # a thumbnail-sized image stays small
    if scale > 1:
        size = (round(gray.width * scale), round(gray.height * scale))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    pixels = ndimage.median_filter(np.asarray(gray, dtype=np.int16), size=3)
    strokes = ndimage.white_tophat(pixels, size=STROKE_PX) >= STROKE_CONTRAST
    # A white margin: tesseract reads text that touches the image's edge poorly, and burned-in
    # annotation sits in the corners.
    strokes = np.pad(strokes, MARGIN_PX, constant_values=False)
    return Image.fromarray(np.where(strokes, 0, 255).astype(np.uint8), mode="L")


def text_like_tokens(words: list[str], confidences: list[float]) -> int:
    """How many recognised words look like text: enough letters/digits, confident enough."""
    return sum(
        1
        for word, confidence in zip(words, confidences, strict=True)
        if confidence >= MIN_CONFIDENCE and len(_ALNUM.findall(word)) >= MIN_CHARACTERS
    )


def scan_for_text(display_png: bytes, *, mode: str = "auto", timeout_s: float = 20.0) -> OcrResult:
    """Read the display image and say whether it shows text; never raises for a bad image or
    a slow engine (FAILED), nor for a missing one (UNAVAILABLE; ``mode`` 'on' is checked at
    startup, see radgame/settings/base.py)."""
    if mode == "off":
        return OcrResult(OFF)
    engine = _engine_version()
    if not engine:
        return OcrResult(UNAVAILABLE)
    import pytesseract

    try:
        data = pytesseract.image_to_data(
            prepared(display_png),
            config=TESSERACT_CONFIG,
            output_type=pytesseract.Output.DICT,
            timeout=timeout_s,
        )
    except (RuntimeError, OSError, ValueError, pytesseract.TesseractError):
        # pytesseract raises RuntimeError on its timeout; the message never holds image text.
        return OcrResult(FAILED, engine)
    words = [str(word) for word in data.get("text", [])]
    confidences = [float(np.float32(value)) for value in data.get("conf", [])]
    found = text_like_tokens(words, confidences) > 0
    return OcrResult(FLAGGED if found else CLEAR, engine)
