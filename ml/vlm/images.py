"""The pictures a VLM is shown: the whole film with the region outlined, and a magnified crop.

Paths arrive from a job payload, so they are resolved inside the media root and nowhere else, and
only PNG and JPEG files are decoded (the web side already turned DICOM into display PNGs).
"""

from __future__ import annotations

import base64
import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ml.vlm.schema import Box, ExplainRequest, ExplainRequestError

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_FULL_SIDE = 1024  # MedGemma sees 896 x 896; more pixels only cost transfer and memory
MAX_CROP_SIDE = 512
CROP_MARGIN = 0.5  # of the box size, on each side, so the crop shows the surroundings
MIN_CROP_FRACTION = 0.2  # of the image side, so a tiny box still gives the model context
FOCUS_COLOUR = (230, 30, 30)
RESIDENT_COLOUR = (250, 210, 0)


class ImageLoadError(ValueError):
    """The image is missing or cannot be decoded as PNG/JPEG."""


def resolve_media_path(media_root: Path, relative: str) -> Path:
    """The file ``relative`` names under ``media_root``; anything escaping the root is refused."""
    root = media_root.resolve()
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise ExplainRequestError(f"image_path must stay inside the media root; got {relative!r}")
    resolved = (root / candidate).resolve()
    # resolve() follows symlinks, so a link pointing outside the root is caught here too.
    if not resolved.is_relative_to(root):
        raise ExplainRequestError(f"image_path must stay inside the media root; got {relative!r}")
    if not resolved.is_file():
        raise ImageLoadError(f"no image at {relative!r} under the media root")
    return resolved


def load_image(path: Path) -> Image:
    """Decode a PNG/JPEG as 8-bit RGB, at most MAX_FULL_SIDE pixels on its longer side."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit; a radiograph never comes close.
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(path, formats=("PNG", "JPEG")) as opened:
                opened.draft("RGB", (MAX_FULL_SIDE, MAX_FULL_SIDE))
                image = _to_rgb(opened)
    except (
        OSError,
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
    ) as exc:
        raise ImageLoadError(f"cannot decode {path.name}: {exc}") from exc
    image.thumbnail((MAX_FULL_SIDE, MAX_FULL_SIDE))
    return image


def _to_rgb(image: Image) -> Image:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit greyscale: stretch to 8 bits rather than clipping everything above 255.
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        low, high = float(pixels.min()), float(pixels.max())
        scaled = (pixels - low) / (high - low or 1.0) * 255.0
        from PIL import Image as PILImage

        return PILImage.fromarray(scaled.astype(np.uint8), mode="L").convert("RGB")
    return image.convert("RGB")


def _pixel_box(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    return (
        round(x1 * (width - 1)),
        round(y1 * (height - 1)),
        round(x2 * (width - 1)),
        round(y2 * (height - 1)),
    )


def shows_resident_box(request: ExplainRequest) -> bool:
    """Whether the outlined film also shows the resident's box (yellow) beside the finding."""
    return request.box is not None and request.marked_box not in (None, request.box)


def draw_regions(image: Image, focus: Box, resident: Box | None = None) -> Image:
    """A copy of image with the focus region in red and the resident's box, if any, in yellow."""
    from PIL import ImageDraw

    outlined = image.copy()
    draw = ImageDraw.Draw(outlined)
    width = max(2, round(max(image.size) / 256))
    if resident is not None:
        draw.rectangle(_pixel_box(resident, *image.size), outline=RESIDENT_COLOUR, width=width)
    draw.rectangle(_pixel_box(focus, *image.size), outline=FOCUS_COLOUR, width=width)
    return outlined


def crop_region(image: Image, box: Box) -> Image:
    """A square-ish crop centred on box with some surroundings, at most MAX_CROP_SIDE pixels."""
    x1, y1, x2, y2 = box
    half_w = max((x2 - x1) * (0.5 + CROP_MARGIN), MIN_CROP_FRACTION / 2)
    half_h = max((y2 - y1) * (0.5 + CROP_MARGIN), MIN_CROP_FRACTION / 2)
    centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
    left, right = max(0.0, centre_x - half_w), min(1.0, centre_x + half_w)
    top, bottom = max(0.0, centre_y - half_h), min(1.0, centre_y + half_h)
    width, height = image.size
    crop = image.crop(
        (int(left * width), int(top * height), max(int(left * width) + 1, round(right * width)),
         max(int(top * height) + 1, round(bottom * height)))
    )  # fmt: skip
    scale = MAX_CROP_SIDE / max(crop.size)
    if scale > 1:
        # Magnify small crops: the point of the crop is to show detail the full view shrinks away.
        from PIL import Image as PILImage

        crop = crop.resize(
            (max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
            PILImage.Resampling.BICUBIC,
        )
    else:
        crop.thumbnail((MAX_CROP_SIDE, MAX_CROP_SIDE))
    return crop


def prepare_images(request: ExplainRequest, media_root: Path, *, with_crop: bool) -> list[Image]:
    """The images a VLM sees for this request: none without an image path, else the outlined
    film, plus the crop when asked and there is a region."""
    if request.image_path is None:
        return []
    image = load_image(resolve_media_path(media_root, request.image_path))
    focus = request.focus_box
    if focus is None:
        return [image]
    resident = request.marked_box if shows_resident_box(request) else None
    images = [draw_regions(image, focus, resident)]
    if with_crop:
        images.append(crop_region(image, focus))
    return images


def image_data_url(image: Image) -> str:
    """A JPEG data URL: the form OpenAI-compatible servers accept for inline images."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
