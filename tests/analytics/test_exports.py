"""The research exports: columns, escaping, assessment flags, the hand-worked JAFROC, streaming."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.urls import reverse

from apps.analytics.exports import ATTEMPT_COLUMNS, FROC_COLUMNS, OUTCOME_COLUMNS
from tests.analytics.conftest import Played, hinted_localize

pytestmark = pytest.mark.django_db


def _get(client: Any, cohort: Any, table: str, fmt: str) -> Any:
    response = client.get(reverse("analytics:export", args=[cohort.pk, table, fmt]))
    assert response.status_code == 200 and response.streaming
    assert "no-store" in response["Cache-Control"]
    assert f'filename="cohort-{cohort.pk}-{table}.{fmt}"' in response["Content-Disposition"]
    return b"".join(response.streaming_content).decode()


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_attempts_csv_columns_flags_and_escaping(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    played.case.title = '=HYPERLINK("http://x")'
    played.case.save(update_fields=["title"])
    text = _get(client_for(educator), cohort, "attempts", "csv")
    assert text.splitlines()[0] == ",".join(ATTEMPT_COLUMNS)
    rows = {(r["exercise"], int(r["attempt_id"])): r for r in _csv(text)}
    assert len(rows) == 4
    chest = rows[("localize", played.chest.pk)]
    assert chest["case_title"].startswith("'=HYPERLINK")
    assert (chest["hits"], chest["misses"], chest["false_positives"]) == ("1", "2", "1")
    assert chest["released"] == "True" and chest["username"] == "resident"
    exam = rows[("localize", played.exam.pk)]
    assert exam["set_mode"] == "assessment" and exam["released"] == "False"
    assert exam["score"] == "1.0"  # educators see it; the resident does not yet
    report = rows[("report", played.reported.pk)]
    assert report["report_status"] == "scored" and report["report_errors"] == "1"
    assert report["score"] == "0.5"


def test_attempts_export_counts_the_hints_taken(
    client_for: Any, educator: Any, cohort: Any, resident: Any, played: Played
) -> None:
    hinted = hinted_localize(educator, resident, hints=2)
    assert hinted.hints_used == 2
    text = _get(client_for(educator), cohort, "attempts", "csv")
    assert text.splitlines()[0].endswith(",hints_used")
    rows = {(r["exercise"], int(r["attempt_id"])): r for r in _csv(text)}
    # A number goes through the escaping rule as a number: no leading quote.
    assert rows[("localize", hinted.pk)]["hints_used"] == "2"
    assert rows[("report", played.reported.pk)]["hints_used"] == "0"
    assert rows[("localize", played.chest.pk)]["hints_used"] == "0"
    objects = json.loads(_get(client_for(educator), cohort, "attempts", "json"))
    counts = {(r["exercise"], r["attempt_id"]): r["hints_used"] for r in objects}
    assert counts[("localize", hinted.pk)] == 2 and counts[("report", played.reported.pk)] == 0


def test_outcomes_json_lists_every_finding_outcome(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    rows = json.loads(_get(client_for(educator), cohort, "outcomes", "json"))
    assert all(list(row) == list(OUTCOME_COLUMNS) for row in rows)
    chest = {(r["label"], r["outcome"]): r for r in rows if r["attempt_id"] == played.chest.pk}
    assert chest[("Nodule", "hit")]["confidence"] == 4 and chest[("Nodule", "hit")]["iou"] == 1.0
    assert chest[("Mass", "false_positive")]["confidence"] == 2
    assert ("Effusion", "miss") in chest and ("Emphysema", "miss") in chest
    (error,) = [r for r in rows if r["exercise"] == "report"]
    assert (error["label"], error["outcome"]) == ("Effusion", "missed_finding")


def test_froc_export_matches_the_hand_worked_figure(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    # First readings: the chest (lesions rated 4 and missed, one NL rated 2), the normal case
    # (one NL rated 3) and the assessment case, whose box has no confidence (left out).
    # JAFROC: X = {3}, Y = {4, -inf}: (1 + 0) / 2. JAFROC1: X = {2, 3}: (1 + 0 + 1 + 0) / 4.
    text = _get(client_for(educator), cohort, "froc", "csv")
    assert text.splitlines()[0] == ",".join(FROC_COLUMNS)
    resident, pooled = _csv(text)
    assert resident["username"] == "resident" and pooled["username"] == ""
    for row in (resident, pooled):
        assert (row["images"], row["normal_images"], row["lesions"], row["unrated"]) == (
            "2",
            "1",
            "2",
            "1",
        )
        assert float(row["jafroc"]) == 0.5 and float(row["jafroc1"]) == 0.5


@pytest.mark.parametrize(("persona", "status"), [("other_educator", 404), ("resident", 403)])
def test_export_refused(
    personas: dict[str, Any],
    client_for: Any,
    cohort: Any,
    played: Played,
    persona: str,
    status: int,
) -> None:
    url = reverse("analytics:export", args=[cohort.pk, "attempts", "json"])
    assert client_for(personas[persona]).get(url).status_code == status


def test_unknown_table_or_format_is_404(client_for: Any, educator: Any, cohort: Any) -> None:
    for table, fmt in (("users", "csv"), ("attempts", "xlsx")):
        url = reverse("analytics:export", args=[cohort.pk, table, fmt])
        assert client_for(educator).get(url).status_code == 404
