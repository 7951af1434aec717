"""A guided set's worked example: the answer, shown on purpose before the resident works the case.

This is the one place that decides a worked example is shown (the set plays guided, see
``services.practice_mode``) and what it holds; the reveal that goes with it (no accuracy credit)
is recorded by ``services.delivery_open``. Both exercises' case pages render it with
``templates/components/_worked_example.html``. In an active or rapid set, or an assessment, it is
``None`` and nothing of the answer is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.cases.models import Case, CaseSet, PracticeMode
from apps.cases.selectors import AnswerReport, case_answers

from .services import practice_mode


@dataclass(frozen=True)
class WorkedExample:
    is_normal: bool
    findings: list[dict[str, Any]]  # each: label, how it is marked, places, sentence
    report: AnswerReport | None  # the reference report (the Report exercise's worked example)


def worked_example(
    *, case: Case, case_set: CaseSet | None, with_report: bool = False
) -> WorkedExample | None:
    """The case's answer when ``case_set`` plays guided (``None`` otherwise): its findings, and
    with ``with_report`` the reference report the Report exercise compares against."""
    if practice_mode(case_set) != PracticeMode.GUIDED:
        return None
    answers = case_answers(case=case, with_report=with_report)
    return WorkedExample(
        is_normal=answers.is_normal,
        findings=[
            {
                "label": finding.label,
                "how": "draw a box" if finding.localizable else "tick it",
                "regions": len(finding.regions),
                "sentence": finding.sentence,
            }
            for finding in answers.findings
        ],
        report=answers.report,
    )
