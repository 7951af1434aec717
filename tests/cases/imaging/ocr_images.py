"""Synthetic chest-like films for the OCR flag (RELIABILITY S21's "OCR set"): a gray gradient
with two darker lung fields, a brighter mediastinum and noise; half carry burned-in patient
details (DOE^JANE and other PHI-like strings) at various positions, sizes and contrasts.

Deterministic: image ``index`` of a set is always the same picture.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE = 1024
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
# (text, font size px on the 1024 px film, anchor as fractions of the free space, text level)
# Levels: 255 = white; smaller numbers lower the contrast against the film around them.
BURNED_IN = (
    ("DOE^JANE", 28, (0.02, 0.02), 255),
    ("DOE^JANE", 18, (0.98, 0.02), 255),
    ("DOE^JANE 1961-03-12", 22, (0.02, 0.98), 240),
    ("DOE^JANE", 40, (0.5, 0.03), 230),
    ("MRN 0048213", 20, (0.98, 0.98), 255),
    ("DOE^JANE", 16, (0.03, 0.5), 255),
    ("ST MARY HOSPITAL", 24, (0.5, 0.97), 220),
    ("DOE^JANE F 64Y", 30, (0.97, 0.5), 200),
    ("DOE^JANE", 22, (0.2, 0.15), 210),
    ("ACC 77120934", 18, (0.8, 0.1), 255),
    ("DOE^JANE", 48, (0.5, 0.9), 250),
    ("12/03/1961", 24, (0.05, 0.92), 255),
    ("DOE^JANE", 20, (0.95, 0.9), 190),
    ("PATIENT: DOE^JANE", 26, (0.1, 0.06), 245),
    ("DOE^JANE", 34, (0.9, 0.25), 255),
    ("SMITH^JOHN", 22, (0.04, 0.3), 255),
    ("DOE^JANE", 14, (0.02, 0.7), 255),
    ("ID 5531-22-908", 28, (0.6, 0.06), 235),
    ("DOE^JANE", 24, (0.35, 0.95), 180),
    ("DR R ROE", 20, (0.97, 0.7), 255),
)
COUNT = len(BURNED_IN)


def _film(rng: np.random.Generator) -> np.ndarray:
    """A chest-like 8-bit film: vertical gradient, dark lungs, bright mediastinum, noise."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    base = 60 + 70 * y + rng.uniform(-15, 15)
    for cx in (0.3 + rng.uniform(-0.03, 0.03), 0.7 + rng.uniform(-0.03, 0.03)):
        lung = ((x - cx) / 0.17) ** 2 + ((y - 0.48) / 0.3) ** 2
        base = base - 45 * np.clip(1.2 - lung, 0, 1)
    base = base + 60 * np.exp(-(((x - 0.5) / 0.07) ** 2)) * (y > 0.2)
    ribs = 10 * np.sin(y * 60 + rng.uniform(0, 6)) * (np.abs(x - 0.5) > 0.1)
    noise = rng.normal(0, 6, (SIZE, SIZE))
    return np.clip(base + ribs + noise, 0, 255).astype(np.uint8)


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, format="PNG")
    return out.getvalue()


@cache
def with_text(index: int) -> bytes:
    """Film ``index`` (0..COUNT-1) with one burned-in PHI-like string, as PNG bytes."""
    text, size, (fx, fy), level = BURNED_IN[index]
    rng = np.random.default_rng(1000 + index)
    image = Image.fromarray(_film(rng), mode="L")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONTS[index % len(FONTS)], size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width, height = right - left, bottom - top
    x = round(fx * (SIZE - width - 8)) + 4 - left
    y = round(fy * (SIZE - height - 8)) + 4 - top
    draw.text((x, y), text, fill=level, font=font)
    return _png(np.asarray(image))


@cache
def without_text(index: int) -> bytes:
    """Film ``index`` (0..COUNT-1) with nothing burned in, as PNG bytes."""
    return _png(_film(np.random.default_rng(2000 + index)))
