"""The cohort dashboard's reads: per-resident summaries, completion against due dates and
learning curves, each in a fixed number of queries whatever the cohort's size.

Everything reads the attempt tables, not the score ledger: educators see assessment attempts
before their results are released to residents (the ledger holds only what a resident may see).
Accuracy is the one rule of ``apps.progress.selectors``: first readings, before any reveal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import Any

from django.db.models import Avg, Count, Max, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from apps.accounts.models import Role
from apps.cases.models import Assignment
from apps.cohorts.models import MemberRole
from apps.cohorts.selectors import cohort_for_manager, cohort_residents
from apps.localization.models import LocalizationAttempt
from apps.progress.selectors import FIRST_READING
from apps.reporting.models import ReportAttempt

from .models import AttemptWeek
from .period import ALL_TIME, Period
from .summary import week_of
from .table import DEFAULT_VIEW, PAGE_SIZE, SUMMARY_SORTS, ResidentPage, TableView, clamp, sort_rows

EXERCISES: tuple[tuple[str, Any], ...] = (
    ("localize", LocalizationAttempt),
    ("report", ReportAttempt),
)
CURVE_WEEKS = 26


def first_reading_accuracy() -> Avg:
    return Avg("score", filter=FIRST_READING)


@dataclass(frozen=True)
class ExerciseSummary:
    attempts: int = 0
    accuracy: float | None = None
    mean_time_s: float | None = None
    last: datetime | None = None


@dataclass
class ResidentRow:
    user: Any
    localize: ExerciseSummary = ExerciseSummary()
    report: ExerciseSummary = ExerciseSummary()
    behind: list[Completion] = field(default_factory=list)


@dataclass(frozen=True)
class Completion:
    """A resident's progress on one assigned set: distinct cases answered in each exercise.
    A case counts as done in the exercise the resident has done most of (a set may be used in
    one exercise only); behind = past due and not done."""

    user: Any
    assignment: Any
    cases: int
    localize_done: int
    report_done: int
    at: datetime  # when the dashboard was read: one clock for all its rows

    @property
    def done(self) -> int:
        return min(max(self.localize_done, self.report_done), self.cases)

    @property
    def remaining(self) -> int:
        return self.cases - self.done

    @cached_property
    def overdue_days(self) -> int | None:
        due = self.assignment.due_at
        if due is None or self.remaining == 0 or due > self.at:
            return None
        return (self.at - due).days

    @property
    def behind(self) -> bool:
        return self.overdue_days is not None


@dataclass
class AssignmentRow:
    assignment: Any
    cases: int
    completions: list[Completion]

    @cached_property
    def behind(self) -> list[Completion]:
        return [c for c in self.completions if c.behind]

    @cached_property
    def most_behind(self) -> list[Completion]:
        """The 20 residents furthest behind (most cases left, then latest)."""
        return sorted(self.behind, key=lambda c: (-c.remaining, c.user.username))[:20]

    @property
    def complete(self) -> int:
        return sum(1 for c in self.completions if c.remaining == 0)


@dataclass(frozen=True)
class CurvePoint:
    week: datetime
    accuracy: float | None
    attempts: int


@dataclass
class CohortDashboard:
    cohort: Any
    residents: ResidentPage
    assignments: list[AssignmentRow]
    curves: dict[str, list[CurvePoint]]
    period: Period


def attempts_of(model: Any, user_ids: list[int], period: Period = ALL_TIME) -> QuerySet[Any]:
    return model.objects.filter(period.q(), user_id__in=user_ids).order_by()


def _summaries(model: Any, user_ids: list[int], period: Period) -> dict[int, ExerciseSummary]:
    rows = (
        attempts_of(model, user_ids, period)
        .values("user_id")
        .annotate(
            attempts=Count("pk"),
            accuracy=first_reading_accuracy(),
            mean_time_s=Avg("time_taken_s"),
            last=Max("submitted_at"),
        )
    )
    return {row.pop("user_id"): ExerciseSummary(**row) for row in rows}


WEEK_SUMS = {
    "n": Sum("attempts"),
    "first": Sum("first_scored"),
    "first_sum": Sum("first_score_sum"),
    "timed": Sum("timed"),
    "time_sum": Sum("time_sum"),
    "last": Max("last_at"),
}


def _summary_of_weeks(r: dict[str, Any]) -> ExerciseSummary:
    return ExerciseSummary(
        attempts=r["n"],
        accuracy=r["first_sum"] / r["first"] if r["first"] else None,
        mean_time_s=r["time_sum"] / r["timed"] if r["timed"] else None,
        last=r["last"],
    )


def _summaries_of_weeks(user_ids: list[int]) -> dict[str, dict[int, ExerciseSummary]]:
    """All-time summaries of both exercises from the weekly summaries: one query."""
    rows = (
        AttemptWeek.objects.filter(user_id__in=user_ids, attempts__gt=0)
        .values("exercise", "user_id")
        .annotate(**WEEK_SUMS)
        .order_by()
    )
    out: dict[str, dict[int, ExerciseSummary]] = {kind: {} for kind, _ in EXERCISES}
    for r in rows:
        out.setdefault(r["exercise"], {})[r["user_id"]] = _summary_of_weeks(r)
    return out


def summaries(user_ids: list[int], period: Period) -> dict[str, dict[int, ExerciseSummary]]:
    """Each exercise's per-resident summary over the period: all time from the weekly summaries
    (one query), a period from the attempt rows (one query per exercise)."""
    if not period.bounded:
        return _summaries_of_weeks(user_ids)
    return {kind: _summaries(model, user_ids, period) for kind, model in EXERCISES}


def curves(user_ids: list[int], period: Period) -> dict[str, list[CurvePoint]]:
    """Weekly points of each exercise over the period; without a start, over the last
    ``CURVE_WEEKS`` whole weeks, from the weekly summaries (one query)."""
    if period.bounded:
        return {kind: weekly_curve(model, user_ids, period) for kind, model in EXERCISES}
    since = week_of(timezone.now() - timedelta(weeks=CURVE_WEEKS))
    rows = (
        AttemptWeek.objects.filter(user_id__in=user_ids, week__gte=since, scored__gt=0)
        .values("exercise", "week")
        .annotate(n=Sum("scored"), first=Sum("first_scored"), first_sum=Sum("first_score_sum"))
        .order_by("week")
    )
    out: dict[str, list[CurvePoint]] = {kind: [] for kind, _ in EXERCISES}
    for r in rows:
        monday = timezone.make_aware(datetime.combine(r["week"], time.min))
        accuracy = r["first_sum"] / r["first"] if r["first"] else None
        out.setdefault(r["exercise"], []).append(CurvePoint(monday, accuracy, r["n"]))
    return out


def _done(model: Any, user_ids: list[int], set_ids: list[int]) -> dict[tuple[int, int], int]:
    rows = (
        attempts_of(model, user_ids)
        .filter(case_set_id__in=set_ids)
        .values("user_id", "case_set_id")
        .annotate(done=Count("case_id", distinct=True))
    )
    return {(row["user_id"], row["case_set_id"]): row["done"] for row in rows}


def weekly_curve(model: Any, user_ids: list[int], period: Period = ALL_TIME) -> list[CurvePoint]:
    """Weekly points over the period; without a start, over the last ``CURVE_WEEKS`` weeks."""
    if period.start is None:
        since = timezone.now() - timedelta(weeks=CURVE_WEEKS)
        period = Period(start=since, end=period.end)
    rows = (
        attempts_of(model, user_ids, period)
        .filter(score__isnull=False)
        .annotate(week=TruncWeek("submitted_at"))
        .values("week")
        .annotate(accuracy=first_reading_accuracy(), attempts=Count("pk"))
        .order_by("week")
    )
    return [CurvePoint(row["week"], row["accuracy"], row["attempts"]) for row in rows]


def assignment_rows(cohort: Any, residents: list[Any]) -> list[AssignmentRow]:
    assignments = list(
        Assignment.objects.filter(cohort=cohort)
        .select_related("case_set")
        .annotate(cases=Count("case_set__items"))
        .order_by("due_at", "case_set__name")
    )
    user_ids = [user.pk for user in residents]
    set_ids = [a.case_set_id for a in assignments]
    localize = _done(LocalizationAttempt, user_ids, set_ids) if set_ids else {}
    report = _done(ReportAttempt, user_ids, set_ids) if set_ids else {}
    rows, now = [], timezone.now()
    for assignment in assignments:
        completions = [
            Completion(
                user=user,
                assignment=assignment,
                cases=assignment.cases,
                localize_done=localize.get((user.pk, assignment.case_set_id), 0),
                report_done=report.get((user.pk, assignment.case_set_id), 0),
                at=now,
            )
            for user in residents
        ]
        rows.append(AssignmentRow(assignment, assignment.cases, completions))
    return rows


def cohort_dashboard(
    *, actor: Any, cohort_id: int, view: TableView = DEFAULT_VIEW, period: Period = ALL_TIME
) -> CohortDashboard:
    """The cohort dashboard of a cohort the actor runs (404 otherwise), one page of its residents
    table in the asked order: 10 queries whatever the cohort's size. Completion against due dates
    counts every attempt; summaries and curves only the period's."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    residents = cohort_residents(cohort)
    assignments = assignment_rows(cohort, residents)
    behind: dict[int, list[Completion]] = {}
    for assignment in assignments:
        for completion in assignment.behind:
            behind.setdefault(completion.user.pk, []).append(completion)
    rows = [ResidentRow(user=user, behind=behind.get(user.pk, [])) for user in residents]
    if view.behind_only:
        rows = [row for row in rows if row.behind]
    view = clamp(view, len(rows))
    # Sorting by a figure needs every row's summaries; by name or lateness only the page's.
    needs_all = view.sort_key in SUMMARY_SORTS
    page = rows if needs_all else sort_rows(rows, view)[view.offset : view.offset + PAGE_SIZE]
    figures = summaries([row.user.pk for row in page], period)
    for row in page:
        row.localize = figures["localize"].get(row.user.pk, ExerciseSummary())
        row.report = figures["report"].get(row.user.pk, ExerciseSummary())
    if needs_all:
        page = sort_rows(rows, view)[view.offset : view.offset + PAGE_SIZE]
    everyone = [user.pk for user in residents]
    table = ResidentPage(page, view, len(rows), len(residents), period.params)
    return CohortDashboard(cohort, table, assignments, curves(everyone, period), period)


@dataclass(frozen=True)
class CohortOverview:
    cohort: Any
    residents: int
    localize: ExerciseSummary
    report: ExerciseSummary


def admin_overview(*, cohorts: QuerySet[Any]) -> list[CohortOverview]:
    """Every cohort given (the admin's: all of them) with its residents' all-time totals, from
    the weekly summaries: 2 queries."""
    cohorts_list = list(cohorts.order_by("name", "pk"))
    rows = (
        AttemptWeek.objects.filter(
            user__memberships__cohort_id__in=[c.pk for c in cohorts_list],
            user__memberships__role=MemberRole.RESIDENT,
            user__role=Role.RESIDENT,
            attempts__gt=0,
        )
        .values("user__memberships__cohort_id", "exercise")
        .annotate(**WEEK_SUMS)
        .order_by()
    )
    totals = {(r["user__memberships__cohort_id"], r["exercise"]): r for r in rows}
    empty = ExerciseSummary()
    return [
        CohortOverview(
            cohort=c,
            residents=getattr(c, "resident_count", 0),
            localize=_summary_of_weeks(totals[c.pk, "localize"])
            if (c.pk, "localize") in totals
            else empty,
            report=_summary_of_weeks(totals[c.pk, "report"])
            if (c.pk, "report") in totals
            else empty,
        )
        for c in cohorts_list
    ]
