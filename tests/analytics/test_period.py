"""The date filter: presets and ranges of days on the dashboard, the findings page and the
exports; a bad date answers 400 with a message, never a 500."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.analytics.period import ALL_TIME, period_of
from tests.analytics.conftest import Played

pytestmark = pytest.mark.django_db


def test_presets_and_ranges_parse() -> None:
    assert period_of({})[0] == ALL_TIME
    week, _ = period_of({"last": "7"})
    assert week.start is not None and week.end is None
    assert timezone.now() - week.start == pytest.approx(timedelta(days=7), abs=timedelta(seconds=5))
    assert week.query == "?last=7" and week.label == "last 7 days"
    days, form = period_of({"last": "30", "from": "2026-01-05", "to": "2026-01-05"})
    assert not form.errors and days.last == ""  # a range of days wins over the preset
    assert days.end - days.start == timedelta(days=1)  # both days included: one whole day
    assert timezone.localtime(days.start).date() == date(2026, 1, 5)
    assert days.query == "?from=2026-01-05&to=2026-01-05"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-02-30"}, "Enter a valid date."),
        ({"to": "yesterday"}, "Enter a valid date."),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "must be on or after"),
        ({"from": "0001-01-01"}, "Pick a date between"),
        ({"last": "365"}, "Select a valid choice."),
    ],
)
def test_bad_filters_are_refused_with_a_message(
    client_for: Any, educator: Any, cohort: Any, played: Played, params: dict, message: str
) -> None:
    period, form = period_of(params)
    assert period == ALL_TIME and message in str(form.errors)
    client = client_for(educator)
    for name in ("analytics:cohort", "analytics:findings"):
        response = client.get(reverse(name, args=[cohort.pk]), params)
        assert response.status_code == 400, name
        text = response.content.decode()
        assert "The date filter was not applied" in text and message.split("“")[0] in text
    export = client.get(reverse("analytics:export", args=[cohort.pk, "attempts", "csv"]), params)
    assert export.status_code == 400 and message in export.content.decode()
    api = client.get(reverse("api-analytics-export", args=[cohort.pk, "attempts", "json"]), params)
    assert api.status_code == 400 and message in api.content.decode()


def _age(attempt: Any, days: int) -> None:
    type(attempt).objects.filter(pk=attempt.pk).update(
        submitted_at=timezone.now() - timedelta(days=days)
    )


def test_the_filter_narrows_dashboard_findings_and_exports(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    _age(played.chest, 40)  # older than 30 days: out of "last 30 days"
    _age(played.normal, 10)
    client = client_for(educator)
    dashboard = client.get(reverse("analytics:cohort", args=[cohort.pk]), {"last": "30"})
    text = dashboard.content.decode()
    assert dashboard.status_code == 200 and "last 30 days" in text
    assert "<td>2 · " in text  # Localize: normal + exam (the chest is 40 days old)
    assert "?last=30" in text  # exports and findings keep the period
    full = client.get(reverse("analytics:cohort", args=[cohort.pk])).content.decode()
    assert "<td>3 · " in full
    # Completion against due dates counts every attempt whatever the period.
    assert "Practice set: 1 case left" in text
    findings = client.get(reverse("analytics:findings", args=[cohort.pk]), {"last": "30"})
    # The chest's Nodule hit is out: only the exam's hit remains among first readings.
    assert (
        '<tr data-finding="Nodule"><td>Nodule</td><td>1</td><td>0</td>' in findings.content.decode()
    )
    day = timezone.localtime(timezone.now() - timedelta(days=40)).date().isoformat()
    url = reverse("analytics:export", args=[cohort.pk, "attempts", "csv"])
    response = client.get(url, {"from": day, "to": day})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["attempt_id"]) for r in rows] == [played.chest.pk]
