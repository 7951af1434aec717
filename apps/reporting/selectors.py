"""Reads of the Report exercise. Every one takes the actor; another user's rows are a 404.

Only cases with a reference report are playable here (a report cannot be scored without one).
Which cases have one is read as a set of ids: the report text itself is an answer and is only
loaded after a submission (``apps.cases.selectors.case_answers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from apps.cases.models import Case, CaseSet, CaseSetItem, CaseStatus, ReferenceReport
from apps.cases.selectors import (
    AnswerReport,
    case_answers,
    case_for_player,
    case_set_cases,
    case_sets_playable_by,
)
from apps.cohorts.selectors import manages_resident

from .models import ReportAttempt, ReportDraft, ReportScore, ScoreKind


@dataclass(frozen=True)
class SetProgress:
    case_set: CaseSet
    total: int
    done: int
    derived: int = 0  # cases whose reference is derived from labels, not a radiologist's report

    @property
    def reference_kind(self) -> str:
        """What the resident's text is compared with: radiologist, label-derived or mixed."""
        if not self.derived:
            return "radiologist"
        return "label-derived" if self.derived >= self.total else "mixed"

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done)


def _count(queryset: Any) -> Coalesce:
    counted = queryset.order_by().values("case_set").annotate(n=Count("case", distinct=True))
    return Coalesce(Subquery(counted.values("n")[:1], output_field=IntegerField()), 0)


def report_sets_for(*, user: Any) -> list[SetProgress]:
    """Playable sets that hold at least one reportable case, with the user's progress; sets of
    radiologists' reports first (the default), label-derived ones after them.

    Counts are correlated subqueries so the page costs one query however many sets there are.
    """
    reportable = CaseSetItem.objects.filter(
        case_set=OuterRef("pk"),
        case__status=CaseStatus.PUBLISHED,
        case__report__isnull=False,
    )
    attempted = reportable.filter(
        Exists(ReportAttempt.objects.filter(user=user, case=OuterRef("case")))
    )
    sets = (
        case_sets_playable_by(user=user)
        .annotate(
            report_total=_count(reportable),
            report_done=_count(attempted),
            report_derived=_count(reportable.filter(case__report__is_derived=True)),
        )
        .filter(report_total__gt=0)
        .order_by("report_derived", "name", "pk")
    )
    return [SetProgress(s, s.report_total, s.report_done, s.report_derived) for s in sets]


def report_set_for_player(*, user: Any, case_set_id: int) -> CaseSet:
    case_set = case_sets_playable_by(user=user).filter(pk=case_set_id).first()
    if case_set is None:
        raise Http404("No such case set")
    return case_set


def reportable_case_ids(*, case_ids: list[int]) -> set[int]:
    return set(
        ReferenceReport.objects.filter(case_id__in=case_ids)
        .exclude(findings="")
        .values_list("case_id", flat=True)
    )


def reportable_case_ids_in_set(case_set: CaseSet) -> list[int]:
    """The set's published cases with a reference report (the lifecycle's registry asks)."""
    return list(
        CaseSetItem.objects.filter(
            case_set=case_set, case__status=CaseStatus.PUBLISHED, case__report__isnull=False
        )
        .exclude(case__report__findings="")
        .values_list("case_id", flat=True)
    )


def report_cases_in_set(*, case_set: CaseSet) -> list[Case]:
    """The set's published cases that have a reference report, in the set's order."""
    cases = case_set_cases(case_set=case_set)
    with_report = reportable_case_ids(case_ids=[case.pk for case in cases])
    return [case for case in cases if case.pk in with_report]


def next_report_case(*, user: Any, case_set: CaseSet) -> Case | None:
    """The first case of the set the user has not submitted a report for yet."""
    cases = report_cases_in_set(case_set=case_set)
    done = set(
        ReportAttempt.objects.filter(user=user, case_id__in=[c.pk for c in cases]).values_list(
            "case_id", flat=True
        )
    )
    return next((case for case in cases if case.pk not in done), None)


def report_reference_kind(*, case: Case) -> str:
    """What the case's reference is, "radiologist" or "label-derived" ("" when it has none),
    never its text: the resident is told before starting."""
    derived = ReferenceReport.objects.filter(case=case).values_list("is_derived", flat=True).first()
    if derived is None:
        return ""
    return "label-derived" if derived else "radiologist"


def report_case_for_player(*, user: Any, case_set: CaseSet, case_id: int) -> Case:
    """A published case of a set the user plays, with a reference report; 404 otherwise.
    Images are prefetched; the answers are not."""
    return report_case_and_reference(user=user, case_set=case_set, case_id=case_id)[0]


def report_case_and_reference(
    *, user: Any, case_set: CaseSet, case_id: int
) -> tuple[Case, AnswerReport]:
    """``report_case_for_player`` and the reference report its check read (the submit scores
    against it and its reply shows it: read once)."""
    case = case_for_player(user=user, case_id=case_id, case_set_id=case_set.pk)
    report = case_answers(case=case, with_findings=False).report
    if report is None or report.findings == "":  # as ``reportable_case_ids``
        raise Http404("No such case")
    return case, report


def draft_for(*, user: Any, case: Case) -> ReportDraft | None:
    return ReportDraft.objects.filter(user=user, case=case).first()


def latest_attempt_for(*, user: Any, case: Case) -> ReportAttempt | None:
    return (
        ReportAttempt.objects.filter(user=user, case=case)
        .select_related("job", "judge_job")
        .order_by("-attempt_no")
        .first()
    )


def attempt_for_owner(*, user: Any, attempt_id: int) -> ReportAttempt:
    """The user's own attempt; anyone else's (or none) is a 404, never a 403."""
    attempt = _attempt(attempt_id).filter(user=user).first()
    if attempt is None or not user.is_authenticated:
        raise Http404("No such attempt")
    return attempt


def attempt_for_viewer(*, user: Any, attempt_id: int) -> ReportAttempt:
    """The user's own attempt, or one of a resident in a cohort the user runs (an educator's
    drill-down: read only); anybody else's is a 404."""
    attempt = _attempt(attempt_id).first()
    if attempt is None or not (
        attempt.user_id == user.pk or manages_resident(actor=user, user_id=attempt.user_id)
    ):
        raise Http404("No such attempt")
    return attempt


def _attempt(attempt_id: int) -> Any:
    return ReportAttempt.objects.filter(pk=attempt_id).select_related(
        "case", "case_set", "job", "judge_job", "user"
    )


def attempt_scores(*, attempt: ReportAttempt) -> tuple[ReportScore | None, ReportScore | None]:
    """The latest rule-based score and the latest judge score of an attempt."""
    rules = judge = None
    for score in ReportScore.objects.filter(attempt=attempt).order_by("-created_at", "-pk"):
        if score.kind == ScoreKind.RULES and rules is None:
            rules = score
        elif score.kind == ScoreKind.JUDGE and judge is None:
            judge = score
    return rules, judge


def attempts_of(*, user: Any, limit: int = 20) -> list[ReportAttempt]:
    return list(
        ReportAttempt.objects.filter(user=user)
        .select_related("case")
        .order_by("-submitted_at", "-pk")[:limit]
    )
