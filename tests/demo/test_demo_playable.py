"""Acceptance: after demo_setup, the demo resident can play every one of the 44 NIH demo cases, in
both exercises, and every one of the nine IU studies in Report (each view shown, scored against the
radiologist's text), through the pages a browser uses (the play loops walk each set to its end)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from apps.cases.models import Case, CaseImage, CaseSet
from apps.localization.models import LocalizationAttempt
from apps.reporting.models import ReportAttempt

pytestmark = pytest.mark.django_db

KEY = re.compile(rb'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def demo_world(settings: Any) -> CaseSet:
    settings.DEBUG = True  # demo_setup refuses to run in production-like settings
    call_command("demo_setup", verbosity=0, stdout=io.StringIO())
    return CaseSet.objects.get(name="NIH ChestX-ray14 demo")


def logged_in_resident() -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "resident", "password": "radgame-resident"}
    )
    assert response.status_code == 302
    return client


def test_resident_plays_every_demo_case(
    demo_world: CaseSet, django_capture_on_commit_callbacks: Any
) -> None:
    cases = Case.objects.filter(case_sets=demo_world, status="published")
    assert cases.count() == 44
    assert cases.filter(is_normal=True).count() == 4
    assert cases.filter(findings__boxes__isnull=False).distinct().count() == 40
    assert all(case.attribution for case in cases)

    client = logged_in_resident()
    seen: set[str] = set()
    for _ in range(44):
        page = client.get(f"/localize/sets/{demo_world.pk}/play/", follow=True)
        path = page.redirect_chain[-1][0]
        assert page.status_code == 200 and "/cases/" in path and path not in seen
        seen.add(path)
        assert b"<cxr-viewer" in page.content
        key = KEY.search(page.content).group(1).decode()
        result = client.post(
            path.rstrip("/") + "/submit/",
            {"marks": '{"boxes": []}', "idempotency_key": key},
            HTTP_HX_REQUEST="true",
        )
        assert result.status_code == 200, result.content[:500]
        assert b"case score" in result.content
    assert LocalizationAttempt.objects.filter(user__username="resident").count() == 44
    finished = client.get(f"/localize/sets/{demo_world.pk}/play/", follow=True)
    assert finished.redirect_chain[-1][0] == f"/localize/sets/{demo_world.pk}/"
    assert b"<cxr-viewer" not in finished.content

    for _ in range(44):
        page = client.get(f"/report/sets/{demo_world.pk}/play/", follow=True)
        path = page.redirect_chain[-1][0]
        assert page.status_code == 200 and "/cases/" in path
        key = KEY.search(page.content).group(1).decode()
        text = "The lungs are clear. No pleural effusion or pneumothorax."
        with django_capture_on_commit_callbacks(execute=True):  # the in-process scoring job
            response = client.post(
                path.rstrip("/") + "/submit/", {"text": text, "idempotency_key": key}
            )
        assert response.status_code == 302
    attempts = ReportAttempt.objects.filter(user__username="resident")
    assert attempts.count() == 44
    assert set(attempts.values_list("status", flat=True)) == {"scored"}

    iu_set = CaseSet.objects.get(name="IU X-ray (Open-i): radiologists' reports")
    index = client.get("/report/")
    # The radiologists' set is listed first, each set says what its references are.
    assert index.content.index(iu_set.name.replace("'", "&#x27;").encode()) < index.content.index(
        demo_world.name.encode()
    )
    assert b"radiologist's report</span>" in index.content and b"label-derived" in index.content
    views_shown = 0
    for _ in range(9):
        page = client.get(f"/report/sets/{iu_set.pk}/play/", follow=True)
        path = page.redirect_chain[-1][0]
        assert page.status_code == 200 and "/cases/" in path
        case_id = int(path.rstrip("/").split("/")[-1])
        views = CaseImage.objects.filter(case_id=case_id).count()
        assert b"<strong>Licence:</strong> CC BY-NC-ND 4.0" in page.content
        assert page.content.count(b"<cxr-viewer") == views >= 1
        views_shown += views
        key = KEY.search(page.content).group(1).decode()
        text = "The heart is normal in size. The lungs are clear. No pleural effusion."
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                path.rstrip("/") + "/submit/", {"text": text, "idempotency_key": key}
            )
        assert response.status_code == 302
        result = client.get(response["Location"])
        assert b"Reference report" in result.content, result.content[:300]
    assert views_shown == 14
    iu_attempts = ReportAttempt.objects.filter(user__username="resident", case_set=iu_set)
    assert iu_attempts.count() == 9
    assert set(iu_attempts.values_list("status", flat=True)) == {"scored"}
    done = client.get(f"/report/sets/{iu_set.pk}/play/")
    assert done.status_code == 200 and b"<cxr-viewer" not in done.content
