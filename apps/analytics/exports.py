"""Research exports of a cohort: per attempt, per finding outcome and the FROC summary, as CSV or
JSON, streamed row by row so a large cohort never sits in memory. Columns: docs/educators.md.

Every row is an attempt of a resident of the cohort, assessment attempts included (``released``
says whether the resident sees the score yet). Cells go through the one CSV escaping rule
(``apps.progress.exports``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from typing import Any

from django.db.models import Q

from apps.cohorts.selectors import cohort_for_manager, cohort_residents
from apps.exercises.models import AssessmentRelease
from apps.localization.models import LocalizationAttempt
from apps.progress.exports import csv_lines
from apps.reporting.models import ReportAttempt

from .drilldown import latest_rules_errors
from .froc import froc_summary
from .outcomes import localize_outcomes
from .period import ALL_TIME, Period

ATTEMPT_COLUMNS = (
    "exercise",
    "attempt_id",
    "username",
    "case_id",
    "case_title",
    "case_set_id",
    "case_set",
    "set_mode",
    "released",
    "attempt_no",
    "post_reveal",
    "submitted_at",
    "time_taken_s",
    "score",
    "hits",
    "misses",
    "false_positives",
    "mislabelled",
    "report_status",
    "report_errors",
    "hints_used",  # last, so a script that reads the columns by position still reads the rest
)
OUTCOME_COLUMNS = (
    "exercise",
    "attempt_id",
    "username",
    "case_id",
    "case_set_id",
    "post_reveal",
    "submitted_at",
    "label",
    "outcome",
    "kind",
    "confidence",
    "iou",
)
FROC_COLUMNS = (
    "username",
    "images",
    "normal_images",
    "lesions",
    "unrated",
    "jafroc",
    "jafroc1",
)
TABLES = {"attempts": ATTEMPT_COLUMNS, "outcomes": OUTCOME_COLUMNS, "froc": FROC_COLUMNS}
FORMATS = ("csv", "json")
CHUNK = 2000
_FIELDS = (
    "pk",
    "user__username",
    "case_id",
    "case__title",
    "case_set_id",
    "case_set__name",
    "case_set__mode",
    "attempt_no",
    "post_reveal",
    "submitted_at",
    "time_taken_s",
    "score",
    "hints_used",
)


class _Released:
    """Whether a resident sees an assessment attempt's score yet: one query for the cohort."""

    def __init__(self, user_ids: list[int]) -> None:
        rows = AssessmentRelease.objects.filter(
            Q(user__isnull=True) | Q(user_id__in=user_ids)
        ).values_list("case_set_id", "user_id")
        self.pairs = set(rows)

    def __call__(self, row: dict[str, Any], user_id: int) -> bool:
        if row["case_set__mode"] != "assessment":
            return True
        set_id = row["case_set_id"]
        return (set_id, None) in self.pairs or (set_id, user_id) in self.pairs


def _attempt_rows(user_ids: list[int], period: Period) -> Iterator[list[Any]]:
    released = _Released(user_ids)
    localize = (
        LocalizationAttempt.objects.filter(period.q(), user_id__in=user_ids)
        .order_by("submitted_at", "pk")
        .values(*_FIELDS, "user_id", "result__counts")
    )
    for row in localize.iterator(chunk_size=CHUNK):
        counts = row["result__counts"] or {}
        yield [
            "localize",
            *_common(row, released),
            counts.get("hits"),
            counts.get("misses"),
            counts.get("false_positives"),
            counts.get("mislabelled"),
            "",
            "",
            row["hints_used"],
        ]
    report = (
        ReportAttempt.objects.filter(period.q(), user_id__in=user_ids)
        .annotate(errors=latest_rules_errors())
        .order_by("submitted_at", "pk")
        .values(*_FIELDS, "user_id", "status", "errors")
    )
    for row in report.iterator(chunk_size=CHUNK):
        yield [
            "report",
            *_common(row, released),
            "",
            "",
            "",
            "",
            row["status"],
            len(row["errors"] or []) if row["status"] == "scored" else "",
            row["hints_used"],
        ]


def _common(row: dict[str, Any], released: _Released) -> list[Any]:
    return [
        row["pk"],
        row["user__username"],
        row["case_id"],
        row["case__title"],
        row["case_set_id"],
        row["case_set__name"] or "",
        row["case_set__mode"] or "",
        released(row, row["user_id"]),
        row["attempt_no"],
        row["post_reveal"],
        row["submitted_at"].isoformat(),
        row["time_taken_s"],
        row["score"],
    ]


def _outcome_rows(user_ids: list[int], period: Period) -> Iterator[list[Any]]:
    fields = ("pk", "user__username", "case_id", "case_set_id", "post_reveal", "submitted_at")
    localize = (
        LocalizationAttempt.objects.filter(period.q(), user_id__in=user_ids)
        .order_by("submitted_at", "pk")
        .values(*fields, "result")
    )
    for row in localize.iterator(chunk_size=CHUNK):
        head = ["localize", *(row[f] for f in fields[:-1]), row["submitted_at"].isoformat()]
        for item in localize_outcomes(row["result"] or {}):
            yield [*head, item.label, item.outcome, item.kind, item.confidence, item.iou]
    report = (
        ReportAttempt.objects.filter(period.q(), user_id__in=user_ids, status="scored")
        .annotate(errors=latest_rules_errors())
        .order_by("submitted_at", "pk")
        .values(*fields, "errors")
    )
    for row in report.iterator(chunk_size=CHUNK):
        head = ["report", *(row[f] for f in fields[:-1]), row["submitted_at"].isoformat()]
        for error in row["errors"] or []:
            yield [*head, error.get("label", ""), error.get("category", ""), "report", "", ""]


def _froc_rows(user_ids: list[int], period: Period) -> Iterator[list[Any]]:
    """Per resident, then the cohort pooled (username empty): first readings only."""
    results = (
        LocalizationAttempt.objects.filter(period.q(), user_id__in=user_ids, post_reveal=False)
        .order_by("user__username", "pk")
        .values_list("user__username", "result")
    )
    pooled: list[dict[str, Any]] = []
    for username, group in groupby(results.iterator(chunk_size=CHUNK), key=lambda r: r[0]):
        mine = [result for _, result in group]
        pooled.extend(mine)
        yield [username, *_froc_cells(mine)]
    yield ["", *_froc_cells(pooled)]


def _froc_cells(results: Iterable[dict[str, Any]]) -> list[Any]:
    s = froc_summary(results)
    return [s.images, s.normal_images, s.lesions, s.unrated, s.jafroc, s.jafroc1]


ROWS = {"attempts": _attempt_rows, "outcomes": _outcome_rows, "froc": _froc_rows}


def export_stream(
    *, actor: Any, cohort_id: int, table: str, fmt: str, period: Period = ALL_TIME
) -> Iterator[str]:
    """The export's text, piece by piece; 404 for a cohort the actor does not run. The cohort
    check runs before the first piece, so the caller can answer 404 rather than a broken file."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    user_ids = [user.pk for user in cohort_residents(cohort)]
    rows = ROWS[table](user_ids, period)
    columns = TABLES[table]
    return csv_lines(columns, rows) if fmt == "csv" else _json_lines(columns, rows)


def _json_lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(dict(zip(columns, row, strict=True)))
    yield "\n]\n"
