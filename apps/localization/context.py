"""What the Localize templates (and the API) show, computed once per screen.

The case page is built from the case's public facts only: image, age, sex, view, indication and
the label lists of the taxonomy. Nothing here loads findings for it, except a guided set's
worked example (``apps.exercises.guided``), shown on purpose before the resident marks the case.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.cases.marks import NORMAL_CHOICE, NORMAL_WITH_MARKS
from apps.cases.models import Case, CaseImage, CaseSet, PracticeMode
from apps.cases.selectors import case_set_presence_labels
from apps.cases.view_names import named_views
from apps.exercises.guided import worked_example
from apps.exercises.models import Delivery
from apps.exercises.rescore import RescoredNote, rescored_note
from apps.exercises.services import practice_mode
from apps.progress.selectors import player_stats
from ml import taxonomy

from . import selectors
from .feedback import attempt_feedback
from .models import LocalizationAttempt


def draw_labels() -> list[str]:
    return [label.name for label in taxonomy.draw_labels()]


def select_labels() -> list[str]:
    return [label.name for label in taxonomy.select_labels()]


def primary_image(case: Case) -> CaseImage | None:
    images = list(case.images.all())  # prefetched by the player selectors
    return images[0] if images else None


def image_urls(image: CaseImage) -> dict[str, Any]:
    def url(variant: str) -> str:
        return reverse("cases:image", kwargs={"image_id": image.pk, "variant": variant})

    return {
        "display": url("display"),
        "pixels16": url("pixels16") if image.pixels16 else "",
        "width": image.display_width,
        "height": image.display_height,
        "window_presets": image.window_presets or [],
    }


def study_views(case: Case) -> list[dict[str, Any]]:
    """Each view of the study with its URLs and its name, in order (images prefetched)."""
    return [
        {"image": image, "key": str(image.pk), "urls": image_urls(image), "label": name}
        for image, name in named_views(case.images.all(), case)
    ]


def case_page_context(*, case: Case, case_set: CaseSet, delivery: Delivery) -> dict[str, Any]:
    image = primary_image(case)
    mode = practice_mode(case_set)
    return {
        "practice_mode": mode,
        # The deliberate exception to "no answer before the submit": a guided set's worked example.
        "worked_example": worked_example(case=case, case_set=case_set),
        "countdown": case_set.rapid_seconds if mode == PracticeMode.RAPID else None,
        "case": case,
        "case_set": case_set,
        "delivery": delivery,
        "image": image,
        # Every view takes boxes; each box is sent with the view it was drawn on.
        "views": study_views(case),
        "draw_labels": draw_labels(),
        "select_labels": select_labels(),
        # The same list on every case of the set (see cases.selectors.vocabulary).
        "presence_labels": case_set_presence_labels(case_set=case_set),
        "normal_choice": NORMAL_CHOICE,
        "normal_conflict": NORMAL_WITH_MARKS,
        "submit_url": reverse(
            "localization:submit", kwargs={"set_id": case_set.pk, "case_id": case.pk}
        ),
        "hint_url": reverse(
            "localization:hint", kwargs={"set_id": case_set.pk, "case_id": case.pk}
        ),
    }


def result_context(*, request: HttpRequest, attempt: LocalizationAttempt) -> dict[str, Any]:
    # An educator reviewing a resident's attempt (the drill-down) sees an assessment's feedback
    # before it is released to the resident; the resident sees it once released.
    reviewing = attempt.user_id != request.user.pk
    visible = reviewing or selectors.feedback_visible(attempt=attempt)
    image = primary_image(attempt.case)
    stats = player_stats(user=attempt.user)
    next_url = (
        reverse("localization:play", kwargs={"set_id": attempt.case_set_id})
        if attempt.case_set_id
        else reverse("localization:index")
    )
    return {
        "attempt": attempt,
        "reviewing": reviewing,
        "case": attempt.case,
        "case_set": attempt.case_set,
        "visible": visible,
        "feedback": attempt_feedback(attempt=attempt) if visible else None,
        "image": image,
        "views": study_views(attempt.case),
        "stats": stats,
        "next_url": next_url,
        "score_percent": round(attempt.score * 100),
        # Set when an educator edited the case's truth after this answer (see rescore.py).
        "rescored": _rescored(attempt),
    }


def _rescored(attempt: Any) -> RescoredNote | None:
    rescored = (attempt.result or {}).get("rescored") or {}
    return rescored_note(
        previous=rescored.get("previous_score"),
        score=attempt.score,
        at=rescored.get("at"),
        what="ground truth",
    )
