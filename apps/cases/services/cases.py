"""Case writes: create, update facts, publish and unpublish (the views: ``images``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.permissions import require_case_editor, require_educator
from apps.cases.models import Case, CaseStatus, Difficulty, ReferenceReport, Sex
from apps.cases.registry import publish_hooks
from apps.core.exceptions import ApplicationError

from .images import PHI_CHECK_STATEMENT

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
VIEWS = ("PA", "AP", "LL", "RL", "LAT", "")


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ApplicationError("Give the case a title.", field="title")
    return title[:200]


def clean_tags(tags: Any) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple):
        raise ApplicationError("Tags are a list of words.", field="tags")
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ApplicationError("Tags are a list of words.", field="tags")
        tag = " ".join(tag.split()).lower()
        if tag and tag not in cleaned:
            if len(tag) > MAX_TAG_LENGTH:
                raise ApplicationError(
                    f"A tag is at most {MAX_TAG_LENGTH} characters.", field="tags"
                )
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ApplicationError(f"At most {MAX_TAGS} tags.", field="tags")
    return cleaned


def _clean_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """Validate the editable facts; unknown keys are a programming error."""
    allowed = {
        "title",
        "patient_age",
        "patient_sex",
        "view",
        "indication",
        "comparison",
        "difficulty",
        "tags",
    }
    unknown = set(facts) - allowed
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    cleaned: dict[str, Any] = {}
    if "title" in facts:
        cleaned["title"] = _clean_title(facts["title"])
    if "patient_age" in facts:
        age = facts["patient_age"]
        if age in ("", None):
            age = None
        elif isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 130:
            raise ApplicationError(
                "Age is a whole number of years from 0 to 130.", field="patient_age"
            )
        cleaned["patient_age"] = age
    if "patient_sex" in facts:
        sex = (facts["patient_sex"] or "").strip().upper()[:1]
        if sex not in Sex.values:
            raise ApplicationError("Sex is F, M, O or empty.", field="patient_sex")
        cleaned["patient_sex"] = sex
    if "view" in facts:
        view = (facts["view"] or "").strip().upper()
        if view not in VIEWS:
            raise ApplicationError(
                f"View is one of {', '.join(v for v in VIEWS if v)}.", field="view"
            )
        cleaned["view"] = view
    if "indication" in facts:
        cleaned["indication"] = " ".join((facts["indication"] or "").split())[:500]
    if "comparison" in facts:
        cleaned["comparison"] = " ".join((facts["comparison"] or "").split())[:500]
    if "difficulty" in facts:
        if facts["difficulty"] not in Difficulty.values:
            raise ApplicationError(
                "Difficulty is 1 (easy), 2 (medium) or 3 (hard).", field="difficulty"
            )
        cleaned["difficulty"] = facts["difficulty"]
    if "tags" in facts:
        cleaned["tags"] = clean_tags(facts["tags"])
    return cleaned


@transaction.atomic
def case_create(*, actor: Any, title: str, **facts: Any) -> Case:
    """A draft case without images yet; provenance fields (source, external_id, licence,
    attribution) are set by importers only."""
    require_educator(actor)
    provenance = {
        key: facts.pop(key)
        for key in ("source", "external_id", "licence", "attribution", "is_normal")
        if key in facts
    }
    cleaned = _clean_facts({"title": title, **facts})
    return Case.objects.create(owner=actor, **cleaned, **provenance)


def case_update(*, actor: Any, case: Case, **facts: Any) -> Case:
    require_case_editor(actor, case)
    cleaned = _clean_facts(facts)
    for key, value in cleaned.items():
        setattr(case, key, value)
    case.save(update_fields=[*cleaned, "updated_at"])
    return case


def _require_phi_checked(case: Case) -> None:
    """A DICOM whose BurnedInAnnotation is YES or absent, and any view in which OCR found text,
    waits for an educator's check of the whole image (RELIABILITY S21); the first such view is
    named. Published cases stay published."""
    for index, image in enumerate(case.images.order_by("position"), start=1):
        if image.blocks_publishing:
            name = f"View {index}" + (f" ({image.projection})" if image.projection else "")
            if image.burned_in_flag_unclear:
                flag = (
                    "declares burned-in annotation"
                    if image.burned_in_annotation == "YES"
                    else "does not say whether it has burned-in annotation"
                )
                what = f"{name} is a DICOM that {flag}"
            else:
                what = f"{name} shows text (found by OCR)"
            raise ApplicationError(
                f"{what}: look at the whole image for names, dates or record numbers, then tick "
                f"'{PHI_CHECK_STATEMENT}' under the notice in the case editor before publishing."
            )


@transaction.atomic
def case_publish(*, actor: Any, case: Case) -> Case:
    """Residents may play it from now on. Needs an image and either findings or 'normal'; every
    publish hook runs inside this transaction, so a failing hook leaves the case a draft."""
    require_case_editor(actor, case)
    # Lock the row (two tabs publishing at once run the hooks once each, in turn) and read the
    # current state into the caller's instance.
    Case.objects.select_for_update().filter(pk=case.pk).exists()
    case.refresh_from_db(fields=["status", "is_normal"])
    if not case.images.exists():
        raise ApplicationError("Add an image before publishing.")
    has_findings = case.findings.exists()
    has_report = ReferenceReport.objects.filter(case=case).exists()
    if not (has_findings or case.is_normal or has_report):
        raise ApplicationError(
            "Add the ground truth before publishing: boxes or ticked findings, 'normal study', "
            "or a reference report."
        )
    if has_findings and case.is_normal:
        raise ApplicationError("A normal study has no findings: remove them or untick 'normal'.")
    if case.status != CaseStatus.PUBLISHED:
        _require_phi_checked(case)
        case.status = CaseStatus.PUBLISHED
        case.save(update_fields=["status", "updated_at"])
    for hook in publish_hooks():
        hook(case)
    return case


def case_unpublish(*, actor: Any, case: Case) -> Case:
    require_case_editor(actor, case)
    Case.objects.filter(pk=case.pk).exclude(status=CaseStatus.DRAFT).update(
        status=CaseStatus.DRAFT, updated_at=timezone.now()
    )
    case.status = CaseStatus.DRAFT
    return case
