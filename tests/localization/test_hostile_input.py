"""Hostile input on the Localize form and API: refused with a message, never a 500."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.localization.models import LocalizationAttempt

from .test_api import next_case
from .test_views import case_url, key_from, submit_url

pytestmark = pytest.mark.django_db

DEEP = '{"boxes": ' + "[" * 3000 + "]" * 3000 + "}"


def test_deeply_nested_marks_in_the_form_are_a_form_error(client_for, resident, world):
    client = client_for(resident)
    page = client.get(case_url(world))
    data = {"marks": DEEP, "idempotency_key": key_from(page.content.decode())}
    response = client.post(submit_url(world), data, HTTP_HX_REQUEST="true")
    assert response.status_code in {200, 400}
    assert "nested deeper" in response.content.decode()
    assert not LocalizationAttempt.objects.exists()


def test_deeply_nested_json_on_the_submit_api_is_a_400(client_for, resident, world):
    client = client_for(resident)
    delivery = next_case(client, world)
    body = f'{{"idempotency_key": "{uuid.uuid4()}", "marks": {DEEP}}}'
    response = client.post(delivery["submit_url"], body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
    assert not LocalizationAttempt.objects.exists()


@pytest.mark.parametrize("huge", ["99999999999999999999", str(2**63)])
def test_ids_past_64_bits_are_a_404(client_for: Any, resident: Any, world: Any, huge: str) -> None:
    client = client_for(resident)
    page = f"/localize/sets/{world.practice.pk}/cases/{huge}/"
    assert client.get(page).status_code == 404
    api = reverse("api-localize-attempt-submit", kwargs={"set_id": world.practice.pk, "case_id": 1})
    api = api.replace("/cases/1/", f"/cases/{huge}/")
    body = json.dumps({"idempotency_key": str(uuid.uuid4()), "marks": {"boxes": []}})
    assert client.post(api, body, content_type="application/json").status_code == 404
