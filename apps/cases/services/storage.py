"""Files under MEDIA_ROOT. Names are random: nothing about the patient, the uploader's file name
or the source dataset reaches the disk layout (MEDIA_ROOT is never served directly anyway)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from PIL import Image

from apps.cases.imaging import IngestedImage
from apps.cases.models import CaseImage

UPLOAD_DIR = "uploads"
# Names of files written inside ``files_removed_on_error``; files are not transactional.
_new_files: ContextVar[list[str] | None] = ContextVar("new_case_files", default=None)


@contextmanager
def files_removed_on_error() -> Iterator[None]:
    """Wrap a write transaction: files saved inside it are deleted if it raises (the rows that
    named them were rolled back), so a failed import or upload leaves no orphan on disk."""
    names: list[str] = []
    token = _new_files.set(names)
    try:
        yield
    except BaseException:
        for name in names:
            default_storage.delete(name)
        raise
    finally:
        _new_files.reset(token)


def _track(*fields: Any) -> None:
    names = _new_files.get()
    if names is not None:
        names.extend(field.name for field in fields if field and field.name)


def random_name(suffix: str) -> str:
    return f"{uuid.uuid4().hex}{suffix}"


def reencoded_original(data: bytes, kind: str) -> bytes:
    """A bitmap upload kept as a fresh PNG from its pixels, so no text chunk, EXIF block or
    trailing payload of the upload is stored. Only called after ``ingest_image`` accepted it."""
    pillow_format = {"png": "PNG", "jpeg": "JPEG"}[kind]
    with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
        image.load()
        if image.mode not in ("L", "I;16", "I"):
            image = image.convert("L")
        pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    buffer = io.BytesIO()
    pixels.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def image_files_save(image: CaseImage, ingested: IngestedImage, source: bytes) -> None:
    """Attach the original (de-identified DICOM, or re-encoded PNG), display and 16-bit files."""
    if ingested.deidentified_dicom is not None:
        image.original.save(
            random_name(".dcm"), ContentFile(ingested.deidentified_dicom), save=False
        )
    else:
        same_grid = (ingested.display_width, ingested.display_height) == (
            ingested.width,
            ingested.height,
        )
        if ingested.kind == "png" and ingested.pixels16_png is None and same_grid:
            # An 8-bit PNG shown at full size: the display PNG already is the pixels re-encoded.
            original = ingested.display_png_or_webp
        else:
            original = reencoded_original(source, ingested.kind)
        image.original.save(random_name(".png"), ContentFile(original), save=False)
    display_suffix = ".webp" if ingested.display_media_type == "image/webp" else ".png"
    image.display.save(
        random_name(display_suffix), ContentFile(ingested.display_png_or_webp), save=False
    )
    if ingested.pixels16_png:
        image.pixels16.save(random_name(".png"), ContentFile(ingested.pixels16_png), save=False)
    _track(image.original, image.display, image.pixels16)


def image_files_delete(image: CaseImage) -> None:
    for field in (image.original, image.display, image.pixels16):
        if field and field.name:
            field.storage.delete(field.name)


# ------------------------------------------------------------------------ private upload area


def upload_save(uploaded: File[Any] | bytes) -> str:
    """Keep an upload before any parsing, so a crash while parsing loses nothing; returns the
    storage name the job reads it back from."""
    name = f"{UPLOAD_DIR}/{random_name('.upload')}"
    content = ContentFile(uploaded) if isinstance(uploaded, bytes) else uploaded
    return default_storage.save(name, content)


def _checked_upload_name(name: str) -> str:
    # Job payloads name the upload; never let one point outside the upload area.
    if not name.startswith(f"{UPLOAD_DIR}/") or ".." in name or "\\" in name:
        raise ValueError("not an upload name")
    return name


def upload_path(name: str) -> str:
    """The local path of a saved upload (importers unpack archives from it)."""
    return default_storage.path(_checked_upload_name(name))


def upload_read(name: str) -> bytes:
    with default_storage.open(_checked_upload_name(name), "rb") as handle:
        return handle.read()


def upload_discard(name: str) -> None:
    default_storage.delete(_checked_upload_name(name))
