"""The ground truth of a case, for scoring and for feedback shown AFTER a submission.

Only the exercise apps call these, and only once the player has submitted: nothing here checks
who is asking. The player selectors never load findings or reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Aggregate, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject

from apps.cases.models import Case, CaseSet, Finding, ReferenceReport
from apps.core.compiled import compiled_values

from .play import case_in_set_items, case_in_set_objects, case_in_set_row

Box = list[float]


@dataclass(frozen=True)
class AnswerFinding:
    """A ground-truth finding; ``regions`` holds, per region, every reader's box (alternatives)."""

    label: str
    localizable: bool
    sentence: str = ""
    regions: list[list[Box]] = field(default_factory=list)
    # The view (CaseImage id) each region is drawn on, parallel to ``regions``.
    region_views: list[int | None] = field(default_factory=list)
    # The Finding row's key: the Localize feedback snapshot records it beside each scored finding.
    id: int | None = None

    @property
    def scored_as_drawn(self) -> bool:
        # A drawable label recorded without a box (NIH image-level labels) is scored as present
        # but not localised: ticking it, or drawing it anywhere, counts (ml.boxes select rules).
        return self.localizable and bool(self.regions)


@dataclass(frozen=True)
class AnswerReport:
    findings: str
    impression: str
    source: str
    author: str
    is_derived: bool


@dataclass(frozen=True)
class CaseAnswers:
    case_id: int
    is_normal: bool
    iou_threshold: float
    findings: list[AnswerFinding]
    report: AnswerReport | None

    @property
    def labels(self) -> list[str]:
        return [finding.label for finding in self.findings]

    @property
    def localize_ready(self) -> bool:
        """False for a report-only case (imported reports carry no labels): the Localize exercise
        should not offer it, since every mark would score as a false positive."""
        return self.is_normal or bool(self.findings)


_FINDING_COLUMNS = (
    "pk",
    "label",
    "localizable",
    "sentence",
    "boxes__region",
    "boxes__image_id",
    "boxes__x1",
    "boxes__y1",
    "boxes__x2",
    "boxes__y2",
)


def _finding_rows(case_id: int) -> Any:
    return (
        Finding.objects.filter(case_id=case_id)
        .order_by("position", "pk", "boxes__region", "boxes__pk")
        .values(*_FINDING_COLUMNS)
    )


def _findings(case: Case) -> list[AnswerFinding]:
    # One query: each finding LEFT JOINed to its boxes (a select finding has none), in finding,
    # region, reader order. Its SQL is compiled once per process (apps.core.compiled).
    rows = compiled_values("cases.answers._findings", _finding_rows, {"case_id": case.pk})
    return _findings_from(rows)


def _findings_from(rows: Any) -> list[AnswerFinding]:
    """``AnswerFinding``s from ``_FINDING_COLUMNS`` rows in finding, region, reader order."""
    order: list[tuple[int, str, bool, str]] = []
    boxes: dict[int, dict[int, list[Box]]] = {}
    views: dict[int, dict[int, int | None]] = {}
    for row in rows:
        pk, label, localizable, sentence, region, image_id, x1, y1, x2, y2 = (
            row[name] for name in _FINDING_COLUMNS
        )
        if pk not in boxes:
            order.append((pk, label, bool(localizable), sentence))
            boxes[pk], views[pk] = {}, {}
        if region is not None:
            boxes[pk].setdefault(region, []).append([x1, y1, x2, y2])
            views[pk].setdefault(region, image_id)  # a region lies on one view: its first box's
    return [
        AnswerFinding(
            label=label,
            localizable=localizable,
            sentence=sentence,
            regions=[regions for _, regions in sorted(boxes[pk].items())],
            region_views=[view for _, view in sorted(views[pk].items())],
            id=pk,
        )
        for pk, label, localizable, sentence in order
    ]


class _JsonArray(Aggregate):
    """A group's values as one JSON array (JSONB_AGG on PostgreSQL, JSON_GROUP_ARRAY on SQLite)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra)


# JSON keys of the finding rows: the columns, and the order ``_finding_rows`` sorts them in.
_JSON_KEYS = {f"c{i}": column for i, column in enumerate(_FINDING_COLUMNS)}
_JSON_ORDER = {"o0": "position", "o1": "boxes__pk"}


def _findings_json(case_ref: str) -> Subquery:
    """The case's finding rows (``_finding_rows``'s) as one JSON array column of an outer query
    whose case is ``case_ref``; NULL for a case without findings."""
    rows = (
        Finding.objects.filter(case_id=OuterRef(case_ref))
        .order_by()
        .values("case_id")
        .annotate(rows=_JsonArray(JSONObject(**_JSON_KEYS, **_JSON_ORDER)))
    )
    return Subquery(rows.values("rows")[:1], output_field=JSONField())


def _findings_of_json(array: list[dict[str, Any]] | None) -> list[AnswerFinding]:
    def order(row: dict[str, Any]) -> tuple[int, int, int, int]:
        region, box = row["c4"], row["o1"]
        return (row["o0"], row["c0"], -1 if region is None else region, -1 if box is None else box)

    rows = sorted(array or [], key=order)
    return _findings_from({column: row[key] for key, column in _JSON_KEYS.items()} for row in rows)


def case_in_set_for_submit(
    *, user: Any, case_set_id: int, case_id: int
) -> tuple[CaseSet, Case, CaseAnswers]:
    """The Localize submit's read: ``play.case_in_set_for_player(with_images=False)``'s visibility
    rule, set and case, with the case's findings and boxes in the same statement (one round
    trip on the hot path). The answers are for scoring this submission only; the caller returns
    feedback from them only once the answer is stored (the rule of this module)."""
    row = case_in_set_row(
        user=user,
        case_set_id=case_set_id,
        case_id=case_id,
        key=("cases.answers.case_in_set_for_submit",),
        items=lambda role, user_id, case_set_id, case_id: case_in_set_items(
            role,
            user_id,
            case_set_id,
            case_id,
            with_images=False,
            annotations={"truth": _findings_json("case_id")},
        ),
    )
    case_set, case = case_in_set_objects(row, with_images=False)
    answers = CaseAnswers(
        case_id=case.pk,
        is_normal=case.is_normal,
        iou_threshold=float(case_set.iou_threshold),
        findings=_findings_of_json(row["truth"]),
        report=None,
    )
    return case_set, case, answers


def _report_rows(case_id: int) -> Any:
    fields = ("findings", "impression", "source", "author", "is_derived")
    return ReferenceReport.objects.filter(case_id=case_id).order_by("pk").values(*fields)[:1]


def _report(case: Case) -> AnswerReport | None:
    # Read on every Report submit and reply: compiled once per process, like the findings.
    rows = compiled_values("cases.answers._report", _report_rows, {"case_id": case.pk})
    return AnswerReport(**rows[0]) if rows else None


def case_answers(
    *,
    case: Case,
    iou_threshold: float | None = None,
    with_report: bool = True,
    with_findings: bool = True,
) -> CaseAnswers:
    """Findings with boxes grouped by region, the reference report, normality, IoU threshold
    (the case set's when given, else the site default). Scoring passes ``with_report=False``:
    it never reads the report, and the query is one of the Localize submit's hot path; the Report
    exercise passes ``with_findings=False`` (its submit and reply read only the report)."""
    threshold = (
        iou_threshold if iou_threshold is not None else settings.RADGAME_DEFAULT_IOU_THRESHOLD
    )
    return CaseAnswers(
        case_id=case.pk,
        is_normal=case.is_normal,
        iou_threshold=float(threshold),
        findings=_findings(case) if with_findings else [],
        report=_report(case) if with_report else None,
    )


def reference_for_scoring(
    case: Case | CaseAnswers, iou_threshold: float | None = None
) -> dict[str, Any]:
    """The ``ml.boxes`` reference JSON (DESIGN.md section 4) of a case.

    ``{"findings": [{"id", "label", "localizable", "regions": [[box, alt box, ...], ...],
    "views": [<CaseImage id of each region>]}], "iou_threshold"}``; ``id`` is the Finding row's key (the scorer hands it back beside every
    result row). A finding without boxes is written as a select finding (presence-only when its
    label is one the taxonomy draws); several of one label are ticked once, under the first's id.
    """
    answers = (
        case
        if isinstance(case, CaseAnswers)
        else case_answers(case=case, iou_threshold=iou_threshold)
    )
    threshold = iou_threshold if iou_threshold is not None else answers.iou_threshold
    drawn = {finding.label for finding in answers.findings if finding.scored_as_drawn}
    findings: list[dict[str, Any]] = []
    ticked: set[str] = set()
    for finding in answers.findings:
        if finding.scored_as_drawn:
            findings.append(
                {
                    "id": finding.id,
                    "label": finding.label,
                    "localizable": True,
                    "regions": finding.regions,
                    "views": finding.region_views,
                }
            )
        elif finding.label not in drawn and finding.label not in ticked:
            # A label is drawn or ticked in one case, never both (the scorer would count it twice).
            ticked.add(finding.label)
            findings.append(
                {"id": finding.id, "label": finding.label, "localizable": False, "regions": []}
            )
    return {"findings": findings, "iou_threshold": float(threshold)}
