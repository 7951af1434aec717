"""The case context a resident reads first: masks shown as "[removed]" in a sentence and "not given"
for a fact removed whole, the comparison stated
plainly, and (Report) whether the reference is a radiologist's report or label-derived."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from apps.cases.imaging import ingest_image
from apps.cases.models import Case
from apps.cases.services import case_image_add, case_update
from apps.cases.templatetags.case_context import comparison_kind, masks_marked, unmasked
from tests.cases.factories import CANARY_REPORT, make_case, make_set, png_bytes

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
        assert '<dd id="case-views">Lateral</dd>' in page
        assert "PA" not in _views_fact(page)


def _views_fact(page: str) -> str:
    return page.split('<dd id="case-views">')[1].split("</dd>")[0]


@pytest.mark.parametrize(
    ("projections", "case_view", "names"),
    [
        ([""], "AP", ["AP"]),  # NIH: one film, its position is the case's View fact
        (["Lateral"], "PA", ["Lateral"]),  # Open-i: the film's own name wins
        (["", "Lateral"], "PA", ["View 1", "Lateral"]),  # one View fact cannot name two films
        (["Frontal", "Lateral"], "PA", ["Frontal", "Lateral"]),
        ([""], "", ["View 1"]),
    ],
)
def test_the_facts_and_every_viewer_name_each_view_alike(
    educator: Any,
    resident: Any,
    cohort: Any,
    client_for: Any,
    projections: list[str],
    case_view: str,
    names: list[str],
) -> None:
    """The case's "Views" fact and the viewers' labels (a tab's caption when there are several)
    come from one rule: on Report, Localize, the educator's preview and the case editor."""
    case = make_case(educator)
    case.images.update(projection=projections[0])
    for projection in projections[1:]:
        data = png_bytes(value=150)
        case_image_add(
            actor=educator,
            case=case,
            ingested=ingest_image(data, filename="v.png"),
            source=data,
            projection=projection,
        )
    Case.objects.filter(pk=case.pk).update(view=case_view)
    case_set = make_set(educator, [case], cohort=cohort)
    player, owner = client_for(resident), client_for(educator)
    pages = {
        "report": player.get(reverse("reporting:case", args=[case_set.pk, case.pk])),
        "localize": player.get(reverse("localization:case", args=[case_set.pk, case.pk])),
        "preview": owner.get(reverse("cases:case_preview", args=[case.pk])),
        "editor": owner.get(reverse("cases:case_edit", args=[case.pk])),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        page = response.content.decode()
        assert re.findall(r'view-label="([^"]*)"', page) == names, where
        if where in ("report", "localize"):
            assert _views_fact(page) == ", ".join(names), where
