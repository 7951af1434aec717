"""The case context a resident reads first: masks shown as "[removed]" in a sentence and "not given"
for a fact removed whole, the comparison stated
plainly, and (Report) whether the reference is a radiologist's report or label-derived."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.cases.services import case_update
from apps.cases.templatetags.case_context import comparison_kind, masks_marked, unmasked
from tests.cases.factories import CANARY_REPORT, make_case, make_set

GAP = '<span class="masked" title="Removed by de-identification in the source">[removed]</span>'
WHOLE = '<span class="masked" title="Removed by de-identification in the source">not given</span>'


def test_masks_read_not_given_and_text_is_escaped() -> None:
    assert unmasked("rib pain after a XXXX, XXXX steps <b>") == (
        f"rib pain after a {GAP} steps &lt;b&gt;"
    )
    assert unmasked("XXXX") == WHOLE and unmasked("XXXX, XXXX.") == WHOLE
    assert unmasked("") == WHOLE
    assert unmasked("Positive TB test") == "Positive TB test"
    # Running text: a piece that is only spaces stays spaces; XXXX inside a word is left alone.
    assert masks_marked(" ") == " " and masks_marked("x-XXXXray") == "x-XXXXray"
    assert masks_marked("There are no XXXX of effusion") == f"There are no {GAP} of effusion"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", ""),
        ("None.", "none"),
        ("none", "none"),
        ("No prior studies.", "none"),
        ("XXXX PA and lateral chest radiographs", "prior"),
        ("XXXX, XXXX", "prior"),
    ],
)
def test_comparison_kinds(text: str, kind: str) -> None:
    assert comparison_kind(text) == kind


@pytest.mark.django_db
class TestReportPage:
    def _page(self, client: Any, case_set: Any, case: Any) -> str:
        url = reverse("reporting:case", args=[case_set.pk, case.pk])
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    def test_context_before_starting(
        self, educator: Any, resident: Any, cohort: Any, client_for: Any
    ) -> None:
        case = make_case(educator)
        case_update(
            actor=educator,
            case=case,
            indication="chest pain after a XXXX",
            comparison="XXXX PA and lateral chest radiographs",
            patient_age=None,
            patient_sex="",
        )
        case_set = make_set(educator, [case], cohort=cohort)
        page = self._page(client_for(resident), case_set, case)
        assert f"chest pain after a {GAP}" in page
        assert f"{GAP} PA and lateral chest radiographs" in page
        assert "the prior study is not shown here" in page
        assert page.count('<span class="masked">not given</span>') == 2  # age and sex
        assert "compared with <strong>the radiologist's report</strong>" in page
        assert CANARY_REPORT not in page

    def test_label_derived_reference_is_announced(
        self, educator: Any, resident: Any, cohort: Any, client_for: Any
    ) -> None:
        from apps.cases.services import case_report_write

        case = make_case(educator)
        case_report_write(
            actor=educator,
            case=case,
            findings="Effusion.",
            source="derived from NIH labels and boxes",
            is_derived=True,
        )
        case_update(actor=educator, case=case, comparison="None.")
        case_set = make_set(educator, [case], cohort=cohort)
        page = self._page(client_for(resident), case_set, case)
        assert "a label-derived reference</strong>" in page
        assert "None: no prior study" in page
        data = client_for(resident).get(f"/api/v1/report/sets/{case_set.pk}/next/").json()
        assert data["compared_with"] == "label-derived"
        assert data["case"]["comparison"] == "None."
        assert "Effusion" not in str(data)

    def test_a_named_view_is_not_given_the_cases_default_position(
        self, educator: Any, resident: Any, cohort: Any, client_for: Any
    ) -> None:
        # An Open-i study of one lateral film: its projection names it; the case's default "PA"
        # (a DICOM view position it never had) must not be shown beside it.
        case = make_case(educator)
        case.images.update(projection="Lateral")
        case_set = make_set(educator, [case], cohort=cohort)
        page = self._page(client_for(resident), case_set, case)
        assert "<dd>Lateral</dd>" in page
        assert "(PA)" not in page

    def test_an_unnamed_single_view_keeps_its_position(
        self, educator: Any, resident: Any, cohort: Any, client_for: Any
    ) -> None:
        case = make_case(educator)
        case_set = make_set(educator, [case], cohort=cohort)
        page = self._page(client_for(resident), case_set, case)
        assert f"view 1 ({case.view})" in page
