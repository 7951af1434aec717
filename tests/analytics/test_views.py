"""The educators' dashboard pages: who may open them, what they show, bounded queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.analytics.conftest import MASS_BOX, Played, hinted_localize, localize, report
from tests.localization.conftest import NODULE_BOX

pytestmark = pytest.mark.django_db

PAGES = ("analytics:cohort", "analytics:findings", "analytics:resident")


def _url(name: str, played: Played, cohort: Any) -> str:
    if name == "analytics:resident":
        return reverse(name, args=[cohort.pk, played.chest.user_id])
    return reverse(name, args=[cohort.pk])


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("educator", 200),
        ("admin", 200),
        ("other_educator", 404),
        ("resident", 403),
        ("other_resident", 403),
        ("outsider", 403),
    ],
)
def test_cohort_pages_personas(
    personas: dict[str, Any],
    client_for: Any,
    cohort: Any,
    played: Played,
    persona: str,
    status: int,
) -> None:
    client = client_for(personas[persona])
    for name in PAGES:
        response = client.get(_url(name, played, cohort))
        assert response.status_code == status, name
        if status == 200:
            assert "no-store" in response["Cache-Control"]


def test_admin_view_is_for_admins_only(
    personas: dict[str, Any], client_for: Any, cohort: Any, other_cohort: Any, played: Played
) -> None:
    page = client_for(personas["admin"]).get(reverse("analytics:admin"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-cohort="Residents 2026"' in text and 'data-cohort="Other programme"' in text
    assert "3 · " in text  # the resident's three Localize attempts
    for persona in ("educator", "resident"):
        assert client_for(personas[persona]).get(reverse("analytics:admin")).status_code == 403


def test_resident_drilldown_refuses_a_user_outside_the_cohort(
    client_for: Any, educator: Any, cohort: Any, other_resident: Any, played: Played
) -> None:
    url = reverse("analytics:resident", args=[cohort.pk, other_resident.pk])
    assert client_for(educator).get(url).status_code == 404
    url = reverse("analytics:resident", args=[cohort.pk, educator.pk])
    assert client_for(educator).get(url).status_code == 404


def test_dashboard_shows_who_is_behind_and_the_curve(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    text = client_for(educator).get(reverse("analytics:cohort", args=[cohort.pk])).content.decode()
    # Practice set: 3 cases, 2 answered in Localize, 1 in Report: 1 left, due 2 days ago.
    assert "Practice set: 1 case left, 2 days late" in text
    assert "1 of 3 done" not in text and "2 of 3 done (Localize 2, Report 1)" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert '<title id="cohort-curve-title">Cohort learning curve</title>' in text
    assert 'data-assignment="Assessment set"' in text
    # The page's own <title> is a title, and the pre/post section is on the page exactly once.
    head_title = text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert head_title.startswith(f"Dashboard · {cohort.name}") and "<" not in head_title
    assert text.count('id="prepost-title"') == 1
    assert "Exports (every attempt, streamed)" in text  # no stray space before the comma


def test_drilldown_lists_every_attempt_with_links_and_unreleased_flag(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    url = reverse("analytics:resident", args=[cohort.pk, played.chest.user_id])
    text = client_for(educator).get(url).content.decode()
    for kind, attempt in (
        ("localize", played.chest),
        ("localize", played.normal),
        ("localize", played.exam),
        ("report", played.reported),
    ):
        assert f'data-attempt="{kind}-{attempt.pk}"' in text
    assert reverse("localization:attempt", args=[played.chest.pk]) in text
    assert reverse("reporting:attempt", args=[played.reported.pk]) in text
    assert "not released" in text  # the open assessment's attempt
    assert "missed finding 1" in text  # the report's itemised error, in words
    assert "false positive 1" in text and "false_positive" not in text  # the chest's Mass FP
    assert "<td>Missed finding</td>" in text  # the error-category table, in words
    assert 'data-finding="Effusion"' in text and 'data-error="missed_finding"' in text
    assert "data-jafroc" in text


def test_educator_sees_an_unreleased_assessment_result_the_resident_does_not(
    client_for: Any, educator: Any, other_educator: Any, resident: Any, played: Played
) -> None:
    url = reverse("localization:attempt", args=[played.exam.pk])
    mine = client_for(resident).get(url).content.decode()
    assert "answer recorded" in mine and 'data-score="' not in mine
    theirs = client_for(educator).get(url).content.decode()
    assert "data-reviewing" in theirs and 'data-score="100"' in theirs
    assert "data-next-case" not in theirs
    assert client_for(other_educator).get(url).status_code == 404


def test_educator_reviews_a_report_attempt_read_only(
    client_for: Any, educator: Any, other_educator: Any, played: Played
) -> None:
    url = reverse("reporting:attempt", args=[played.reported.pk])
    text = client_for(educator).get(url).content.decode()
    assert "data-reviewing" in text and "Retry scoring" not in text
    assert client_for(other_educator).get(url).status_code == 404
    retry = reverse("reporting:attempt_retry", args=[played.reported.pk])
    assert client_for(educator).post(retry).status_code == 404


def test_findings_page_per_finding_figures(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    text = client_for(educator).get(reverse("analytics:findings", args=[cohort.pk])).content
    text = text.decode()
    # First readings: chest (Nodule hit, Effusion and Emphysema missed, Mass FP), normal case
    # (Nodule FP), the assessment (Nodule hit): 3 images.
    assert '<tr data-finding="Nodule"><td>Nodule</td><td>2</td><td>0</td>' in text
    assert '<tr data-finding="Effusion"><td>Effusion</td><td>0</td><td>1</td>' in text
    assert "0.33" in text  # Nodule and Mass: one false positive each over three images


def _grow(cohort: Any, educator: Any, make_user: Any, played: Played, n: int) -> None:
    from apps.cohorts.services import cohort_join_by_code

    for index in range(n):
        user = make_user(f"extra{index}")
        cohort_join_by_code(user=user, code=cohort.join_code)
        localize(user, played.case, played.practice, [{"label": "Nodule", "box": NODULE_BOX}])
        localize(user, played.normal_case, played.practice, [{"label": "Mass", "box": MASS_BOX}])
        report(user, played.report_case, played.practice)


@pytest.mark.parametrize("name", [*PAGES, "analytics:admin"])
def test_query_count_does_not_grow_with_the_cohort(
    name: str,
    client_for: Any,
    admin_user: Any,
    educator: Any,
    cohort: Any,
    played: Played,
    make_user: Any,
) -> None:
    client = client_for(admin_user)
    url = reverse("analytics:admin") if name == "analytics:admin" else _url(name, played, cohort)
    from django.core.cache import cache

    client.get(url)
    cache.clear()  # counted without the cohort pages' cache: what a change of the cohort costs
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as cached:
        assert client.get(url).status_code == 200
    _grow(cohort, educator, make_user, played, 4)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few), [q["sql"][:120] for q in many]
    assert len(cached) <= len(few)
    assert len(many) <= 16


def test_drilldown_shows_the_hints_each_attempt_took(
    client_for: Any, educator: Any, cohort: Any, resident: Any, played: Played
) -> None:
    hinted = hinted_localize(educator, resident, hints=1)
    url = reverse("analytics:resident", args=[cohort.pk, resident.pk])
    text = client_for(educator).get(url).content.decode()
    assert "<th>Hints</th>" in text

    def cell(kind: str, pk: int) -> str:
        row = text.split(f'data-attempt="{kind}-{pk}"', 1)[1].split("</tr>", 1)[0]
        return row.split("<td data-hints>", 1)[1].split("</td>", 1)[0]

    assert cell("localize", hinted.pk) == "1"
    assert "none" in cell("localize", played.chest.pk) and "none" in cell(
        "report", played.reported.pk
    )
