"""Licence display: each played study shows its dataset's attribution and licence, the footer
names the bundled data, and the About page lists every bundled dataset with its terms."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.cases.models import Case
from tests.cases.factories import make_case, make_set

pytestmark = pytest.mark.django_db

IU_LICENCE = "CC BY-NC-ND 4.0 (Indiana University Chest X-ray Collection, Open-i)"


def test_about_lists_every_bundled_dataset_with_its_terms(
    client_for: Any, personas: dict[str, Any]
) -> None:
    # Public: the terms are owed to everyone who sees the data.
    for user in (None, personas["resident"], personas["educator"]):
        response = client_for(user).get(reverse("about"))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Educational use only, not for diagnosis." in page
        terms = page.split('class="data-terms"')[1].split("</table>")[0]
        assert "NIH ChestX-ray14" in terms and "No restrictions on use" in terms
        assert "CC BY-NC-ND 4.0" in terms and "non-commercial use only" in terms
        assert "MIT" in terms
        assert 'id="data-iu"' in page and "doi:10.1093/jamia/ocv080" in page
        assert "Wang X, Peng Y" in page


def test_footer_names_both_demo_datasets(client_for: Any, resident: Any) -> None:
    page = client_for(resident).get("/").content.decode()
    footer = page.split('class="site-footer"')[1]
    assert "NIH Clinical Center" in footer and "Open-i" in footer and "non-commercial" in footer


@pytest.mark.parametrize("exercise", ["reporting:case", "localization:case"])
def test_the_played_study_shows_its_source_and_licence(
    educator: Any, resident: Any, cohort: Any, client_for: Any, exercise: str
) -> None:
    case = make_case(educator)
    Case.objects.filter(pk=case.pk).update(
        source="IU X-ray",
        attribution="Images and report from the Indiana University Chest X-ray Collection",
        licence=IU_LICENCE,
    )
    case_set = make_set(educator, [case], cohort=cohort)
    response = client_for(resident).get(reverse(exercise, args=[case_set.pk, case.pk]))
    assert response.status_code == 200
    aside = response.content.decode().split('class="case-source')[1].split("</aside>")[0]
    assert "Indiana University Chest X-ray Collection" in aside
    assert f"<strong>Licence:</strong> {IU_LICENCE}" in aside
    assert reverse("about") + "#data" in aside
