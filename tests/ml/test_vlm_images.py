from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.vlm import ExplainRequest, ExplainRequestError
from ml.vlm.images import (
    FOCUS_COLOUR,
    MAX_CROP_SIDE,
    MAX_FULL_SIDE,
    RESIDENT_COLOUR,
    ImageLoadError,
    crop_region,
    draw_regions,
    image_data_url,
    load_image,
    prepare_images,
    resolve_media_path,
)


def test_paths_resolve_inside_the_media_root(media_root: Path) -> None:
    expected = (media_root / "cases" / "cxr.png").resolve()

    assert resolve_media_path(media_root, "cases/cxr.png") == expected


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.png", "cases/../../outside.png"])
def test_paths_escaping_the_media_root_are_refused(media_root: Path, path: str) -> None:
    with pytest.raises(ExplainRequestError, match="media root"):
        resolve_media_path(media_root, path)


def test_symlinks_out_of_the_media_root_are_refused(media_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    Image.new("L", (8, 8)).save(outside)
    (media_root / "cases" / "link.png").symlink_to(outside)

    with pytest.raises(ExplainRequestError, match="media root"):
        resolve_media_path(media_root, "cases/link.png")


def test_missing_files_are_a_load_error(media_root: Path) -> None:
    with pytest.raises(ImageLoadError, match="no image"):
        resolve_media_path(media_root, "cases/none.png")


def test_files_that_are_not_png_or_jpeg_are_refused(media_root: Path) -> None:
    fake = media_root / "cases" / "fake.png"
    fake.write_text("<html><script>alert(1)</script></html>")

    with pytest.raises(ImageLoadError):
        load_image(fake)


def test_sixteen_bit_films_are_stretched_to_eight_bits(tmp_path: Path) -> None:
    ramp = np.linspace(1000, 4000, 64 * 64).reshape(64, 64).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)

    image = load_image(path)
    pixels = np.asarray(image)

    assert image.mode == "RGB"
    assert pixels.min() == 0 and pixels.max() == 255


def test_large_films_are_shrunk(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (3000, 2000)).save(path)

    assert max(load_image(path).size) == MAX_FULL_SIDE


def test_regions_are_outlined_in_their_colours() -> None:
    image = Image.new("RGB", (100, 100), (0, 0, 0))

    outlined = draw_regions(image, (0.1, 0.1, 0.5, 0.5), (0.6, 0.6, 0.9, 0.9))

    assert outlined.getpixel((10, 30)) == FOCUS_COLOUR  # left edge of the focus box
    assert outlined.getpixel((59, 75)) == RESIDENT_COLOUR
    assert outlined.getpixel((30, 30)) == (0, 0, 0)  # inside is untouched
    assert image.getpixel((10, 30)) == (0, 0, 0)  # the original is not drawn on


def test_crops_centre_on_the_box_and_magnify_small_regions() -> None:
    image = Image.new("RGB", (400, 400), (0, 0, 0))
    image.paste((255, 255, 255), (190, 190, 210, 210))

    crop = crop_region(image, (0.475, 0.475, 0.525, 0.525))

    assert max(crop.size) == MAX_CROP_SIDE
    assert crop.getpixel((crop.width // 2, crop.height // 2)) == (255, 255, 255)
    assert crop.getpixel((2, 2)) == (0, 0, 0)


def test_prepare_images_follows_the_request(media_root: Path) -> None:
    drawn = ExplainRequest(
        label="Nodule", error="missed", box=(0.1, 0.2, 0.3, 0.4), image_path="cases/cxr.png"
    )
    selected = ExplainRequest(label="Emphysema", error="missed", image_path="cases/cxr.png")
    imageless = ExplainRequest(label="Nodule", error="missed", box=(0.1, 0.2, 0.3, 0.4))

    assert len(prepare_images(drawn, media_root, with_crop=True)) == 2
    assert len(prepare_images(drawn, media_root, with_crop=False)) == 1
    assert len(prepare_images(selected, media_root, with_crop=True)) == 1
    assert prepare_images(imageless, media_root, with_crop=True) == []


def test_data_urls_carry_a_decodable_jpeg() -> None:
    url = image_data_url(Image.new("RGB", (20, 10), (200, 0, 0)))

    header, _, data = url.partition(",")
    decoded = Image.open(io.BytesIO(base64.b64decode(data)))

    assert header == "data:image/jpeg;base64"
    assert decoded.format == "JPEG"
    assert decoded.size == (20, 10)
