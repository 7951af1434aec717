"""A no-derivatives licence (the IU X-ray collection's) keeps the imported report unmodified."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.cases.importers.nih import LICENCE as NIH_LICENCE
from apps.cases.importers.reports import TERMS
from apps.cases.licences import NO_DERIVATIVES_MESSAGE, licence_forbids_derivatives
from apps.cases.models import Case, ReferenceReport
from apps.cases.services import case_report_write
from apps.core.exceptions import ApplicationError
from tests.cases.factories import CANARY_REPORT, make_case

IU_LICENCE = TERMS["IU X-ray"]


@pytest.mark.parametrize(
    ("licence", "forbids"),
    [
        (IU_LICENCE, True),
        ("CC BY-ND 4.0", True),
        ("Creative Commons Attribution-NoDerivatives", True),
        (NIH_LICENCE, False),
        ("", False),
    ],
)
def test_the_predicate_reads_the_licence(licence: str, forbids: bool) -> None:
    assert licence_forbids_derivatives(Case(licence=licence)) is forbids


def _iu_case(educator: Any) -> Any:
    case = make_case(educator, published=False)
    Case.objects.filter(pk=case.pk).update(licence=IU_LICENCE)
    case.refresh_from_db()
    return case


def _post(case: Any, **report: str) -> dict[str, Any]:
    marks = {"boxes": [{"label": "Pneumothorax", "box": [0.1, 0.1, 0.3, 0.3], "confidence": None}]}
    return {"title": case.title, "difficulty": "2", "marks": json.dumps(marks), **report}


@pytest.mark.django_db
def test_the_editor_shows_an_iu_report_read_only(educator: Any, client_for: Any) -> None:
    page = client_for(educator).get(reverse("cases:case_edit", args=[_iu_case(educator).pk]))
    html = page.content.decode()
    assert escape(NO_DERIVATIVES_MESSAGE) in html
    assert (
        'name="report_findings"' in html
        and "disabled" in html.split('name="report_findings"')[1].split(">")[0]
    )


@pytest.mark.django_db
def test_the_editor_leaves_an_own_report_editable(educator: Any, client_for: Any) -> None:
    case = make_case(educator, published=False)
    html = client_for(educator).get(reverse("cases:case_edit", args=[case.pk])).content.decode()
    assert escape(NO_DERIVATIVES_MESSAGE) not in html
    assert "disabled" not in html.split('name="report_findings"')[1].split(">")[0]


@pytest.mark.django_db
def test_a_post_changing_an_iu_report_is_refused(educator: Any, client_for: Any) -> None:
    case = _iu_case(educator)
    url = reverse("cases:case_edit", args=[case.pk])
    response = client_for(educator).post(url, _post(case, report_findings="My own wording."))
    assert (
        response.status_code == 200 and escape(NO_DERIVATIVES_MESSAGE) in response.content.decode()
    )
    report = ReferenceReport.objects.get(case=case)
    assert report.findings == CANARY_REPORT and report.source == "radiologist"
    assert case.findings.get().label != "Pneumothorax"  # nothing of the refused save was kept


@pytest.mark.django_db
def test_an_iu_case_keeps_its_boxes_editable(educator: Any, client_for: Any) -> None:
    case = _iu_case(educator)
    url = reverse("cases:case_edit", args=[case.pk])
    # A browser sends nothing for the disabled fields; the same text with CRLF ends is no change.
    for report in ({}, {"report_findings": CANARY_REPORT.replace("\n", "\r\n") + "\r\n"}):
        response = client_for(educator).post(url, _post(case, **report))
        assert response.status_code == 302
        assert case.findings.get().label == "Pneumothorax"
        assert ReferenceReport.objects.get(case=case).findings == CANARY_REPORT


@pytest.mark.django_db
def test_the_service_refuses_a_changed_iu_report(educator: Any) -> None:
    case = _iu_case(educator)
    with pytest.raises(ApplicationError) as refused:
        case_report_write(actor=educator, case=case, findings="Edited.")
    assert refused.value.message == NO_DERIVATIVES_MESSAGE
    with pytest.raises(ApplicationError):
        case_report_write(actor=educator, case=case, findings="")
    assert ReferenceReport.objects.get(case=case).findings == CANARY_REPORT


@pytest.mark.django_db
def test_the_api_refuses_a_changed_iu_report(educator: Any, client_for: Any) -> None:
    case = _iu_case(educator)
    response = client_for(educator).put(
        reverse("api-case-truth", args=[case.pk]),
        {"report_findings": "Edited."},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert ReferenceReport.objects.get(case=case).findings == CANARY_REPORT
