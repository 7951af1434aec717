from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.inference.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(resident: Any) -> Job:
    return Job.objects.create(
        owner=resident, kind="ml.diagnostics.ping", request={}, status="done", result={"x": 1}
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("resident", 200),
        ("admin", 200),
        ("other_resident", 404),
        ("educator", 404),
        ("outsider", 404),
    ],
)
def test_job_status_page_and_api(
    personas: dict[str, Any], client_for: Any, job: Job, persona: str, status: int
) -> None:
    client = client_for(personas[persona])
    page = client.get(reverse("inference:status", args=[job.pk]))
    api = client.get(reverse("api-job-detail", args=[job.pk]))
    assert page.status_code == status
    assert api.status_code == status
    if status == 200:
        assert "no-store" in page["Cache-Control"]
        assert api.json()["result"] == {"x": 1}
        assert api["Cache-Control"] == "no-store"


def test_anonymous_is_sent_to_login(client_for: Any, job: Job) -> None:
    client = client_for(None)
    assert client.get(reverse("inference:status", args=[job.pk])).status_code == 302
    assert client.get(reverse("api-job-detail", args=[job.pk])).status_code == 403


def test_htmx_poll_stops_when_final(client_for: Any, resident: Any, job: Job) -> None:
    response = client_for(resident).get(
        reverse("inference:status", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 286
    assert b"<html" not in response.content
