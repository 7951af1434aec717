"""The dashboard's residents table: pages, sortable columns and the "behind only" filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.analytics.table import PAGE_SIZE, TableView, table_view
from tests.analytics.conftest import Played, localize
from tests.localization.conftest import NODULE_BOX

pytestmark = pytest.mark.django_db


def test_table_view_parses_and_falls_back() -> None:
    assert table_view({"sort": "-behind", "page": "3", "behind": "1"}) == TableView(
        "-behind", 3, True
    )
    assert table_view({"sort": "password", "page": "-2"}) == TableView()
    assert table_view({"page": "99999999999"}) == TableView()


def _rows(text: str) -> list[str]:
    return [part.split('"', 1)[0] for part in text.split('<tr data-resident="')[1:]]


@pytest.fixture
def crowd(cohort: Any, played: Played, make_user: Any) -> list[str]:
    """PAGE_SIZE + 5 more residents; r000 finds the nodule, the others miss it."""
    from apps.cohorts.services import cohort_join_by_code

    names = []
    for n in range(PAGE_SIZE + 5):
        user = make_user(f"r{n:03d}")
        cohort_join_by_code(user=user, code=cohort.join_code)
        names.append(user.username)
    first = cohort.memberships.get(user__username="r000").user
    for case in (played.case, played.normal_case, played.report_case):
        localize(first, case, played.practice, [{"label": "Nodule", "box": NODULE_BOX}])
    return names


def test_pages_sorting_and_behind(
    client_for: Any, educator: Any, cohort: Any, played: Played, crowd: list[str]
) -> None:
    client = client_for(educator)
    url = reverse("analytics:cohort", args=[cohort.pk])
    first = client.get(url).content.decode()
    everyone = sorted([*crowd, "resident"])
    assert _rows(first) == everyone[:PAGE_SIZE]
    assert "Page 1 of 2" in first and 'rel="next"' in first and 'aria-sort="ascending"' in first
    second = client.get(url, {"page": "2"}).content.decode()
    assert _rows(second) == everyone[PAGE_SIZE:]
    assert client.get(url, {"page": "9"}).content.decode().count("<tr data-resident=") == 6
    reverse_names = client.get(url, {"sort": "-name"}).content.decode()
    assert _rows(reverse_names)[0] == "resident"
    # Accuracy, weakest first; residents with no attempt sort last either way.
    weakest = _rows(client.get(url, {"sort": "localize"}).content.decode())
    assert weakest[:2] == ["resident", "r000"] or weakest[:2] == ["r000", "resident"]
    strongest = _rows(client.get(url, {"sort": "-localize"}).content.decode())
    assert set(strongest[:2]) == {"resident", "r000"} and strongest[2] == "r001"
    # Behind: everyone but r000 (who finished the practice set) is behind; the filter lists them.
    behind = client.get(url, {"behind": "1"}).content.decode()
    assert "r000" not in _rows(behind) and f"of {PAGE_SIZE + 4} behind" not in behind
    assert f"1–{PAGE_SIZE} of {PAGE_SIZE + 5} behind" in behind
    most = _rows(client.get(url, {"sort": "behind"}).content.decode())
    assert most[0] != "r000" and most[0] != "resident"  # 3 cases left before 1 left
    assert _rows(client.get(url, {"sort": "-behind"}).content.decode())[0] == "r000"


def test_drilldown_attempts_come_in_pages(
    client_for: Any, educator: Any, cohort: Any, played: Played, resident: Any
) -> None:
    import uuid

    from django.utils import timezone

    from apps.localization.models import LocalizationAttempt

    LocalizationAttempt.objects.bulk_create(
        LocalizationAttempt(
            user=resident,
            case=played.case,
            case_set=played.practice,
            attempt_no=n + 2,
            idempotency_key=uuid.uuid4(),
            submitted_at=timezone.now() - timezone.timedelta(days=1, minutes=n),
            post_reveal=True,
            score=0.5,
            result=played.chest.result,
            scorer_version="test",
            iou_threshold=0.3,
        )
        for n in range(110)
    )  # 110 replays, older than the four played attempts
    url = reverse("analytics:resident", args=[cohort.pk, resident.pk])
    first = client_for(educator).get(url).content.decode()
    assert first.count("<tr data-attempt=") == 100 and "Page 1 of 2" in first
    assert f'data-attempt="report-{played.reported.pk}"' in first  # the newest come first
    second = client_for(educator).get(url, {"page": "2"}).content.decode()
    assert second.count("<tr data-attempt=") == 14 and 'rel="prev"' in second
