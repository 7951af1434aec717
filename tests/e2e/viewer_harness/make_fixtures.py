"""Write the viewer harness images: 16-bit grayscale PNGs and their 8-bit display PNGs.

The 16-bit images hold two patches whose values (998 and 1002 of 4095) collapse to the same
8-bit grey, so only true 16-bit windowing can tell them apart.

    python tests/e2e/viewer_harness/make_fixtures.py OUTDIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

FULL_SCALE = 4095  # a 12-bit detector, as most CR/DR chest images are
PATCH_LOW = 998
PATCH_HIGH = 1002


def _pixels(width: int, height: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    pixels = (xs + ys) / (width + height - 2) * FULL_SCALE
    patch_h = slice(height * 2 // 5, height * 3 // 5)
    pixels[patch_h, width // 8 : width * 3 // 8] = PATCH_LOW
    pixels[patch_h, width * 5 // 8 : width * 7 // 8] = PATCH_HIGH
    return np.rint(pixels).astype(np.uint16)


def write_fixtures(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (w, h) in {"chest": (1024, 768), "square": (1024, 1024)}.items():
        px = _pixels(w, h)
        Image.fromarray(px).save(out / f"{name}16.png")
        display = np.rint(px.astype(np.float64) / FULL_SCALE * 255).astype(np.uint8)
        Image.fromarray(display).save(out / f"{name}.png")


if __name__ == "__main__":
    write_fixtures(Path(sys.argv[1]))
