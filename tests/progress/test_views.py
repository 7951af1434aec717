from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.cases.models import Case
from apps.cohorts.services import cohort_join_by_code
from apps.progress.exports import safe_cell
from apps.progress.services import score_event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def played(resident: Any, educator: Any) -> Case:
    case = Case.objects.create(title="c", owner=educator)
    record = {"user": resident, "case": case}
    score_event_record(
        **record, kind="localize", attempt_ref="l:1", score=0.5, xp=27, post_reveal=False
    )
    score_event_record(
        **record, kind="localize", attempt_ref="l:2", score=1.0, xp=5, post_reveal=True
    )
    score_event_record(
        **record, kind="report", attempt_ref="r:1", score=0.8, xp=41, post_reveal=False
    )
    return case


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("educator", 200),
        ("admin", 200),
        ("other_educator", 404),
        ("resident", 403),
        ("outsider", 403),
    ],
)
def test_cohort_progress_personas(
    personas: dict[str, Any], client_for: Any, cohort: Any, played: Case, persona: str, status: int
) -> None:
    client = client_for(personas[persona])
    for name in ("progress:cohort", "progress:cohort_csv", "api-cohort-progress"):
        response = client.get(reverse(name, args=[cohort.pk]))
        assert response.status_code == status, name
        if status == 200:
            assert "no-store" in response["Cache-Control"]


def test_progress_counts_replays_but_scores_first_attempts(
    client_for: Any, educator: Any, cohort: Any, played: Case
) -> None:
    (row,) = client_for(educator).get(reverse("api-cohort-progress", args=[cohort.pk])).json()
    assert row["username"] == "resident"
    assert row["localize_attempts"] == 2 and row["localize_cases"] == 1
    assert row["localize_accuracy"] == 0.5  # the replay after the reveal does not count
    assert row["report_attempts"] == 1 and row["report_accuracy"] == pytest.approx(0.8)
    page = client_for(educator).get(reverse("progress:cohort", args=[cohort.pk]))
    assert b"50%" in page.content and b"80%" in page.content


def test_query_count_does_not_grow_with_the_cohort(
    client_for: Any, educator: Any, cohort: Any, played: Case, make_user: Any
) -> None:
    client = client_for(educator)
    url = reverse("progress:cohort", args=[cohort.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(5):
        cohort_join_by_code(user=make_user(f"extra{index}"), code=cohort.join_code)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_csv_export_neutralises_formulas(
    client_for: Any, educator: Any, cohort: Any, resident: Any, played: Case
) -> None:
    resident.display_name = '=HYPERLINK("http://evil.example","x")'
    resident.save()
    response = client_for(educator).get(reverse("progress:cohort_csv", args=[cohort.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "username"
    assert rows[1][1].startswith("'=HYPERLINK")


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_prefixes_every_formula_start(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("plain") == "plain"


def test_safe_cell_writes_numbers_as_numbers() -> None:
    # A number is never a formula; text that looks like one still is escaped.
    assert safe_cell(-0.25) == "-0.25" and safe_cell(-3) == "-3"
    assert safe_cell("-0.25") == "'-0.25"
    assert safe_cell(None) == ""
