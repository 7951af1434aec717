"""The findings page's pooled counts and FROC, counted by PostgreSQL, agree with the reference
rules in Python (``outcomes.finding_stats``, ``froc.froc_summary``) on many scored results."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.analytics.froc import froc_summary
from apps.analytics.outcomes import finding_stats
from apps.analytics.period import ALL_TIME, Period
from apps.analytics.pooled import localize_pooled, scored_parts
from tests.analytics.conftest import Played

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counted by PostgreSQL"),
]
LABELS = ("Nodule", "Mass", "Effusion", "Emphysema")


def _result(rng: random.Random) -> dict[str, Any]:
    from ml.boxes import score_localize

    findings, boxes = [], []
    for label in rng.sample(LABELS, rng.randint(0, 3)):
        x, y = rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.6)
        box = [x, y, x + 0.25, y + 0.25]
        regions = [] if label == "Emphysema" else [[box]]
        findings.append({"label": label, "regions": regions})
        if regions and rng.random() < 0.6:
            # Rated mostly; now and then a drawn mark without a confidence (an unrated reading).
            rating = rng.choice([None, 1, 2, 3, 4, 5, 5])
            boxes.append({"label": label, "box": box, "confidence": rating})
    for _ in range(rng.randint(0, 2)):
        x, y = rng.uniform(0.05, 0.7), rng.uniform(0.05, 0.7)
        rating = rng.choice([None, 1, 2, 3, 4])
        boxes.append(
            {"label": rng.choice(LABELS), "box": [x, y, x + 0.2, y + 0.2], "confidence": rating}
        )
    selected = ["Emphysema"] if rng.random() < 0.3 else []
    return score_localize({"findings": findings}, {"boxes": boxes, "selected": selected})


def _reference(
    user_ids: list[int], period: Period, window: int | None, case_set: int | None
) -> tuple[Any, int, Any]:
    from apps.localization.models import LocalizationAttempt

    attempts = LocalizationAttempt.objects.filter(
        period.q(), user_id__in=user_ids, post_reveal=False
    )
    if case_set is not None:
        attempts = attempts.filter(case_set_id=case_set)
    results = list(scored_parts(attempts.order_by("-submitted_at"))[:window])
    findings, images = finding_stats(results)
    return findings, images, froc_summary(results)


def test_sql_counts_equal_the_python_rules(played: Played, resident: Any) -> None:
    from apps.localization.models import LocalizationAttempt

    rng = random.Random(11)
    now = timezone.now()
    rows = []
    for n in range(300):
        result = _result(rng)
        rows.append(
            LocalizationAttempt(
                user=resident,
                case=played.case,
                case_set=played.practice if n % 3 else played.assessment,
                attempt_no=n + 2,
                idempotency_key=uuid.uuid4(),
                submitted_at=now - timedelta(hours=n),
                post_reveal=n % 7 == 0,
                score=result["score"],
                result=result,
                scorer_version="test",
                iou_threshold=0.3,
            )
        )
    LocalizationAttempt.objects.bulk_create(rows)
    week = Period(start=now - timedelta(days=7))
    exam = played.assessment.pk
    for period, window, case_set in (
        (ALL_TIME, 5000, None),
        (ALL_TIME, 50, None),
        (week, 5000, None),
        (ALL_TIME, None, exam),  # a pre/post set: every first reading in it
    ):
        [(findings, images, froc)] = localize_pooled(
            [resident.pk], period=period, window=window, case_set_ids=(case_set,)
        )
        ref_findings, ref_images, ref_froc = _reference([resident.pk], period, window, case_set)
        assert images == ref_images
        assert [vars(f) for f in findings] == [vars(f) for f in ref_findings]
        assert froc.unrated > 0 and froc.normal_images > 0  # the edge cases are exercised
        assert froc == ref_froc
