"""Report-only studies (an IU X-ray case: a radiologist's report, no boxes, not marked normal)
are not Localize cases: Localize would take them for normal and score an empty read as right.
They stay out of its set list, its play loop, its progress counts and its case URLs."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.cases.services import case_report_write
from tests.localization.conftest import build_case, build_set, truth

pytestmark = pytest.mark.django_db


def _report_only(educator: Any, title: str) -> Any:
    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_create, case_image_add, case_publish
    from tests.localization.conftest import png_bytes

    case = case_create(actor=educator, title=title)
    data = png_bytes()
    case_image_add(actor=educator, case=case, ingested=ingest_image(data), source=data)
    case_report_write(
        actor=educator, case=case, findings="Right lower lobe opacity.", source="radiologist"
    )
    return case_publish(actor=educator, case=case)


def test_report_only_studies_are_not_localize_cases(
    educator: Any, resident: Any, cohort: Any, client_for: Any
) -> None:
    boxed = build_case(educator, title="Boxed", findings=[truth("Nodule", [[0.1, 0.1, 0.3, 0.3]])])
    normal = build_case(educator, title="Normal", is_normal=True)
    report_only = _report_only(educator, "Report only")
    mixed = build_set(educator, cohort, [report_only, boxed, normal], name="Mixed")
    reports = build_set(educator, cohort, [_report_only(educator, "Other")], name="Reports")
    client = client_for(resident)

    index = client.get(reverse("localization:index")).content.decode()
    assert "Mixed" in index and "Reports" not in index
    api_sets = client.get("/api/v1/localize/sets/").json()
    listed = {row["id"]: row for row in api_sets}
    assert set(listed) == {mixed.pk}
    summary = client.get(reverse("localization:set_summary", args=[mixed.pk])).content.decode()
    assert "Report only" not in summary

    first = client.get(reverse("localization:play", args=[mixed.pk]))
    assert first["Location"] == reverse("localization:case", args=[mixed.pk, boxed.pk])
    for case in (report_only,):
        url = reverse("localization:case", args=[mixed.pk, case.pk])
        assert client.get(url).status_code == 404
    assert client.get(reverse("localization:case", args=[mixed.pk, normal.pk])).status_code == 200
    from apps.localization.selectors import set_progress_for

    assert set_progress_for(user=resident, case_sets=[mixed])[mixed.pk].total == 2
    # The Report exercise still offers both sets.
    report_index = client.get(reverse("reporting:index")).content.decode()
    assert "Mixed" in report_index and "Reports" in report_index
    assert reports.pk not in listed


def test_a_set_whose_localize_cases_are_all_normal_is_not_offered(
    educator: Any, resident: Any, cohort: Any, client_for: Any
) -> None:
    # Report-only abnormal studies beside normal ones: in Localize only the normals would remain,
    # and a set of nothing but normals gives every answer away.
    normal = build_case(educator, title="Normal", is_normal=True)
    build_set(educator, cohort, [_report_only(educator, "Report only"), normal], name="Readings")
    client = client_for(resident)
    assert "Readings" not in client.get(reverse("localization:index")).content.decode()
    assert client.get("/api/v1/localize/sets/").json() == []
    assert "Readings" in client.get(reverse("reporting:index")).content.decode()
