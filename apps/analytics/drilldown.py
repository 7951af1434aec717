"""A resident's drill-down and a cohort's per-finding page, for the educators who run the cohort.

Per-finding figures come from the stored, scored results (``outcomes``, ``froc``); the cohort page
reads the latest ``FINDINGS_WINDOW`` first readings per exercise so that it answers in bounded
time for any cohort size (the exports carry everything).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.utils import timezone

from apps.cohorts.selectors import cohort_for_manager, cohort_residents
from apps.exercises.models import AssessmentRelease
from apps.localization.models import LocalizationAttempt
from apps.progress.selectors import FIRST_READING
from apps.reporting.models import ReportAttempt, ReportScore, ScoreKind

from .cache import cohort_cached
from .dashboard import CurvePoint
from .froc import FrocSummary, froc_summary
from .outcomes import FindingStats, finding_stats, report_error_counts
from .period import ALL_TIME, Period
from .pooled import localize_pooled

FINDINGS_WINDOW = 5000
ATTEMPTS_SHOWN = 1000


def latest_rules_errors() -> Subquery:
    """The itemised errors of an attempt's latest rule-based score (a retry scores again)."""
    return Subquery(
        ReportScore.objects.filter(attempt=OuterRef("pk"), kind=ScoreKind.RULES)
        .order_by("-created_at", "-pk")
        .values("result__errors")[:1]
    )


@dataclass(frozen=True)
class AttemptRow:
    kind: str  # localize | report
    pk: int
    case_title: str
    set_name: str
    assessment: bool
    released: bool
    attempt_no: int
    post_reveal: bool
    submitted_at: datetime
    score: float | None
    time_taken_s: float | None
    hints_used: int
    errors: dict[str, int]  # localize: misses, false positives; report: errors by category


@dataclass
class ResidentDrilldown:
    cohort: Any
    resident: Any
    attempts: list[AttemptRow]
    truncated: bool
    findings: list[FindingStats]
    images: int
    report_errors: list[tuple[str, int]]  # by category, commonest first
    froc: FrocSummary
    curves: dict[str, list[CurvePoint]]


def _released_sets(user: Any) -> set[int]:
    return set(
        AssessmentRelease.objects.filter(user__isnull=True)
        .values_list("case_set_id", flat=True)
        .union(AssessmentRelease.objects.filter(user=user).values_list("case_set_id", flat=True))
    )


def _weekly(rows: list[AttemptRow]) -> list[CurvePoint]:
    weeks: dict[datetime, list[float]] = {}
    counts: Counter[datetime] = Counter()
    for row in rows:
        if row.score is None:
            continue
        day = timezone.localtime(row.submitted_at)
        week = (day - timedelta(days=day.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        counts[week] += 1
        if not row.post_reveal:
            weeks.setdefault(week, []).append(row.score)
    return [
        CurvePoint(week, (sum(weeks[week]) / len(weeks[week])) if weeks.get(week) else None, n)
        for week, n in sorted(counts.items())
    ]


def resident_drilldown(*, actor: Any, cohort_id: int, user_id: int) -> ResidentDrilldown:
    """Every attempt of one resident of a cohort the actor runs (404 for anyone else, or for a
    user who is not a resident of this cohort): 7 queries."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    resident = next((u for u in cohort_residents(cohort) if u.pk == user_id), None)
    if resident is None:
        raise Http404("No such resident in this cohort")
    released = _released_sets(resident)
    localize = list(
        LocalizationAttempt.objects.filter(user=resident)
        .select_related("case", "case_set")
        .only(*_COMMON, "result")
        .order_by("-submitted_at", "-pk")[: ATTEMPTS_SHOWN + 1]
    )
    report = list(
        ReportAttempt.objects.filter(user=resident)
        .select_related("case", "case_set")
        .only(*_COMMON, "status")
        .annotate(errors=latest_rules_errors())
        .order_by("-submitted_at", "-pk")[: ATTEMPTS_SHOWN + 1]
    )
    rows = [_row("localize", a, released, _localize_errors(a.result)) for a in localize]
    rows += [_row("report", a, released, dict(report_error_counts([a.errors]))) for a in report]
    rows.sort(key=lambda r: r.submitted_at, reverse=True)
    first = [a for a in localize if not a.post_reveal]
    findings, images = finding_stats(a.result for a in first)
    return ResidentDrilldown(
        cohort=cohort,
        resident=resident,
        attempts=rows[:ATTEMPTS_SHOWN],
        truncated=len(localize) > ATTEMPTS_SHOWN or len(report) > ATTEMPTS_SHOWN,
        findings=findings,
        images=images,
        report_errors=report_error_counts(
            a.errors for a in report if not a.post_reveal
        ).most_common(),
        froc=froc_summary(a.result for a in first),
        curves={
            "localize": _weekly([r for r in rows if r.kind == "localize"]),
            "report": _weekly([r for r in rows if r.kind == "report"]),
        },
    )


_COMMON = (
    "user_id",
    "case__title",
    "case_set__name",
    "case_set__mode",
    "attempt_no",
    "post_reveal",
    "submitted_at",
    "score",
    "time_taken_s",
    "hints_used",
)


def _localize_errors(result: dict[str, Any]) -> dict[str, int]:
    counts = (result or {}).get("counts") or {}
    return {
        "missed": int(counts.get("misses", 0)),
        "false_positive": int(counts.get("false_positives", 0)),
        "mislabelled": int(counts.get("mislabelled", 0)),
    }


def _row(kind: str, attempt: Any, released: set[int], errors: dict[str, int]) -> AttemptRow:
    case_set = attempt.case_set
    assessment = case_set is not None and case_set.mode == "assessment"
    return AttemptRow(
        kind=kind,
        pk=attempt.pk,
        case_title=attempt.case.title,
        set_name=case_set.name if case_set else "",
        assessment=assessment,
        released=not assessment or attempt.case_set_id in released,
        attempt_no=attempt.attempt_no,
        post_reveal=attempt.post_reveal,
        submitted_at=attempt.submitted_at,
        score=attempt.score,
        time_taken_s=attempt.time_taken_s,
        hints_used=attempt.hints_used,
        errors={key: value for key, value in errors.items() if value},
    )


@dataclass
class CohortFindings:
    cohort: Any
    findings: list[FindingStats]
    images: int
    report_errors: list[tuple[str, int]]  # by category, commonest first
    reports: int
    froc: FrocSummary
    window: int


def cohort_findings(*, actor: Any, cohort_id: int, period: Period = ALL_TIME) -> CohortFindings:
    """Per-finding sensitivity and false positives per image (Localize), error categories
    (Report) and the pooled FROC of a cohort's latest first readings; from the cohort's cache
    while none of its residents' attempts changed."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    user_ids = [user.pk for user in cohort_residents(cohort)]
    figures = cohort_cached(
        "findings", cohort.pk, user_ids, period.params, lambda: _findings(user_ids, period)
    )
    return CohortFindings(cohort, *figures, window=FINDINGS_WINDOW)


def _findings(user_ids: list[int], period: Period) -> tuple[Any, ...]:
    [(findings, images, froc)] = localize_pooled(user_ids, period=period, window=FINDINGS_WINDOW)
    errors = list(
        ReportAttempt.objects.filter(
            FIRST_READING, period.q(), user_id__in=user_ids, score__isnull=False
        )
        .annotate(errors=latest_rules_errors())
        .order_by("-submitted_at")
        .values_list("errors", flat=True)[:FINDINGS_WINDOW]
    )
    return findings, images, report_error_counts(errors).most_common(), len(errors), froc
