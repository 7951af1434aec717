"""The views of a study: add, replace, remove, reorder and name them.

A case holds its images as ordered views (``CaseImage.position`` 0, 1, ...); the first is shown
first. Each ground-truth box belongs to the view it was drawn on (``FindingBox.image``), so views
move freely; a view with boxes on it cannot be removed (its boxes would leave the truth).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.permissions import require_case_editor
from apps.cases.imaging import IngestedImage
from apps.cases.imaging.ocr import OcrResult, scan_for_text
from apps.cases.models import Case, CaseImage, FindingBox
from apps.core.exceptions import ApplicationError

from .storage import image_files_delete, image_files_save

# Canonical projection names; the lower-case key is what a dataset or a DICOM header may say.
PROJECTIONS = {
    "frontal": "Frontal",
    "pa": "PA",
    "ap": "AP",
    "lateral": "Lateral",
    "lat": "Lateral",
    "ll": "LL",
    "rl": "RL",
    "oblique": "Oblique",
    "": "",
}
MAX_VIEWS = 8
logger = logging.getLogger(__name__)


def projection_name(value: Any) -> str | None:
    """The canonical projection for ``value`` ("frontal" -> "Frontal"), None when unknown."""
    return PROJECTIONS.get(" ".join(str(value or "").split()).casefold())


def _clean_projection(value: Any) -> str:
    name = projection_name(value)
    if name is None:
        shown = ", ".join(sorted({v for v in PROJECTIONS.values() if v}))
        raise ApplicationError(f"The view is one of {shown}, or empty.", field="projection")
    return name


def _prefill_from_header(case: Case, ingested: IngestedImage) -> list[str]:
    """Facts the (de-identified) DICOM header knows and the educator left empty."""
    metadata = ingested.metadata or {}
    changed = []
    if case.patient_age is None and isinstance(metadata.get("patient_age_years"), int):
        case.patient_age = metadata["patient_age_years"]
        changed.append("patient_age")
    if not case.patient_sex and metadata.get("patient_sex") in ("F", "M", "O"):
        case.patient_sex = metadata["patient_sex"]
        changed.append("patient_sex")
    view = (metadata.get("view_position") or "").upper()
    if view in ("PA", "AP", "LL", "RL") and case.view != view and not case.images.exists():
        case.view = view
        changed.append("view")
    return changed


@transaction.atomic
def case_image_add(
    *, actor: Any, case: Case, ingested: IngestedImage, source: bytes, projection: str = ""
) -> CaseImage:
    """Store an ingested image as the case's last view (files first, row second: a failed
    insert removes the files). Without a projection, the DICOM header's view position is used."""
    require_case_editor(actor, case)
    projection = _clean_projection(projection) or (
        projection_name((ingested.metadata or {}).get("view_position")) or ""
    )
    top = case.images.aggregate(top=Max("position"))["top"]
    if top is not None and top + 1 >= MAX_VIEWS:
        raise ApplicationError(f"A case holds at most {MAX_VIEWS} views.")
    changed = _prefill_from_header(case, ingested)
    image = CaseImage(
        case=case,
        position=0 if top is None else top + 1,
        projection=projection,
        kind=ingested.kind,
        width=ingested.width,
        height=ingested.height,
        display_width=ingested.display_width or ingested.width,
        display_height=ingested.display_height or ingested.height,
        pixel_spacing_mm=list(ingested.pixel_spacing_mm) if ingested.pixel_spacing_mm else None,
        window_presets=ingested.window_presets,
        metadata=ingested.metadata,
        sha256=ingested.sha256,
        burned_in_annotation=(ingested.metadata or {}).get("burned_in_annotation") or "",
    )
    _record_ocr(image, ingested)
    image_files_save(image, ingested, source)
    image.save()
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
    _hold_for_phi_check(actor, case, image)
    return image


def image_read_ocr(ingested: IngestedImage) -> IngestedImage:
    """The optional OCR flag (RELIABILITY S21, ``settings.RADGAME_OCR``): ``ingested`` with its
    verdict on whether the display image shows text. The upload and import jobs call it right
    after ingesting, before their transaction opens, so no database transaction waits on
    tesseract (~0.3 CPU-s a view, up to ``RADGAME_OCR_TIMEOUT_S``, after which it records
    "failed"). ``case_image_add`` and ``case_image_replace`` read an image not read yet, so every
    stored view has a verdict."""
    return dataclasses.replace(ingested, ocr=_ocr_verdict(ingested))


def _ocr_verdict(ingested: IngestedImage) -> OcrResult:
    """Only the verdict and the engine are kept and logged, never the recognised text."""
    if ingested.ocr is not None:
        return ingested.ocr
    started = time.monotonic()
    result = scan_for_text(
        ingested.display_png_or_webp,
        mode=settings.RADGAME_OCR,
        timeout_s=settings.RADGAME_OCR_TIMEOUT_S,
    )
    if result.engine:
        logger.info(
            "OCR of a %dx%d view: %s in %.0f ms",
            ingested.display_width or ingested.width,
            ingested.display_height or ingested.height,
            result.status,
            (time.monotonic() - started) * 1000,
        )
    return result


def _record_ocr(image: CaseImage, ingested: IngestedImage) -> None:
    """A view whose display image shows text needs the educator's check of the whole image
    (``needs_phi_check``), like a DICOM whose BurnedInAnnotation is YES or absent."""
    result = _ocr_verdict(ingested)
    image.ocr_status, image.ocr_engine = result.status, result.engine


def _hold_for_phi_check(actor: Any, case: Case, image: CaseImage) -> None:
    """A view that waits for a check of burned-in patient details (``blocks_publishing``), added
    to or replacing one of a published case, takes the case back to draft: residents never see an
    unchecked view (RELIABILITY S21). The educator checks it in the editor and publishes again;
    an import of a dataset its publisher de-identified records the check and republishes."""
    from .cases import case_unpublish  # cases imports this module

    if case.is_published and image.blocks_publishing:
        case_unpublish(actor=actor, case=case)


@transaction.atomic
def case_image_replace(
    *, actor: Any, image: CaseImage, ingested: IngestedImage, source: bytes
) -> CaseImage:
    require_case_editor(actor, image.case)
    old = CaseImage(
        original=image.original.name, display=image.display.name, pixels16=image.pixels16.name
    )
    for field in ("kind", "width", "height", "window_presets", "metadata", "sha256"):
        setattr(image, field, getattr(ingested, field))
    image.display_width = ingested.display_width or ingested.width
    image.display_height = ingested.display_height or ingested.height
    image.pixel_spacing_mm = list(ingested.pixel_spacing_mm) if ingested.pixel_spacing_mm else None
    image.burned_in_annotation = (ingested.metadata or {}).get("burned_in_annotation") or ""
    # New pixels: an attestation was about the old ones.
    image.phi_checked_by, image.phi_checked_at, image.phi_check_note = None, None, ""
    _record_ocr(image, ingested)
    image.pixels16 = ""
    image_files_save(image, ingested, source)
    image.save()
    transaction.on_commit(lambda: image_files_delete(old))
    _hold_for_phi_check(actor, image.case, image)
    return image


PHI_CHECK_STATEMENT = "I have looked at the whole image and it shows no patient details"
MAX_PHI_NOTE = 200


def image_attest_phi_checked(*, actor: Any, image: CaseImage, note: str = "") -> CaseImage:
    """Record that ``actor`` (who may edit the case) vouches the image shows no patient details:
    what lets a DICOM whose BurnedInAnnotation is YES or absent be published (``case_publish``).
    Importers of datasets their publisher de-identified call it with a note naming the dataset."""
    require_case_editor(actor, image.case)
    image.phi_checked_by = actor
    image.phi_checked_at = timezone.now()
    image.phi_check_note = " ".join((note or "").split())[:MAX_PHI_NOTE]
    image.save(update_fields=["phi_checked_by", "phi_checked_at", "phi_check_note", "updated_at"])
    return image


def case_image_projection_set(*, actor: Any, image: CaseImage, projection: str) -> CaseImage:
    require_case_editor(actor, image.case)
    image.projection = _clean_projection(projection)
    image.save(update_fields=["projection", "updated_at"])
    return image


def _has_boxes(image: CaseImage) -> bool:
    return FindingBox.objects.filter(image=image).exists()


def _renumber(case: Case, ordered: list[CaseImage]) -> None:
    """Write positions 0..n-1 in the given order (two passes: the positions are unique)."""
    offset = MAX_VIEWS + len(ordered)
    for index, image in enumerate(ordered):
        CaseImage.objects.filter(pk=image.pk).update(position=offset + index)
    for index, image in enumerate(ordered):
        CaseImage.objects.filter(pk=image.pk).update(position=index)
        image.position = index


def _locked_views(case: Case) -> list[CaseImage]:
    return list(CaseImage.objects.select_for_update().filter(case=case).order_by("position"))


@transaction.atomic
def case_image_move(*, actor: Any, image: CaseImage, direction: str) -> list[CaseImage]:
    """Move a view one place ``up`` (earlier) or ``down``; returns the views in their new order."""
    case = image.case
    require_case_editor(actor, case)
    if direction not in ("up", "down"):
        raise ApplicationError("Move a view up or down.")
    views = _locked_views(case)
    index = next((i for i, view in enumerate(views) if view.pk == image.pk), None)
    if index is None:
        raise ApplicationError("That image is not a view of this case.")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(views):
        return views
    views[index], views[other] = views[other], views[index]
    _renumber(case, views)
    return views


@transaction.atomic
def case_image_remove(*, actor: Any, image: CaseImage) -> None:
    """Remove a view (its files go once the transaction commits). A published case keeps at least
    one view, and a view keeps its place in the case while ground-truth boxes are drawn on it."""
    case = image.case
    require_case_editor(actor, case)
    views = _locked_views(case)
    if image.pk not in {view.pk for view in views}:
        raise ApplicationError("That image is not a view of this case.")
    if len(views) == 1 and case.is_published:
        raise ApplicationError("A published case needs an image: unpublish it first.")
    if _has_boxes(image):
        raise ApplicationError(
            "Ground-truth boxes are drawn on this view: remove them before removing the view."
        )
    remaining = [view for view in views if view.pk != image.pk]
    image.delete()
    _renumber(case, remaining)
    transaction.on_commit(lambda: image_files_delete(image))
