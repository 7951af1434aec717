"""Hostile bodies on the API: deep nesting is a 400, an oversized body a JSON 413, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_deeply_nested_json_is_a_400_with_a_message(client_for: Any, outsider: Any) -> None:
    body = "[" * 3000 + "]" * 3000  # about 6 KB: enough to exhaust json's recursion
    response = client_for(outsider).post(
        reverse("api-cohort-join"), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_oversized_json_body_is_a_json_413(client_for: Any, outsider: Any) -> None:
    body = json.dumps({"code": "x" * 5000})
    response = client_for(outsider).post(
        reverse("api-cohort-join"), body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than the 4 KB" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_oversized_form_body_on_the_api_is_a_json_413(client_for: Any, outsider: Any) -> None:
    response = client_for(outsider).post(reverse("api-cohort-join"), {"code": "x" * 5000})
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_json_within_bounds_still_works(client_for: Any, outsider: Any, cohort: Any) -> None:
    response = client_for(outsider).post(
        reverse("api-cohort-join"),
        json.dumps({"code": cohort.join_code}),
        content_type="application/json",
    )
    assert response.status_code == 200


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_oversized_form_post_to_a_page_is_a_413_with_a_message(
    client_for: Any, resident: Any
) -> None:
    """The report autosave posts a form: it gets a sentence it can show, not an HTML 400."""
    response = client_for(resident).post(
        reverse("cohorts:join"),
        urlencode({"code": "x" * 5000}),  # what htmx sends
        content_type="application/x-www-form-urlencoded",
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "The request is larger than the 4 KB this server accepts."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_multipart_uploads_are_left_to_their_own_cap(client_for: Any, resident: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.bin", b"x" * 10_000)
    response = client_for(resident).post(reverse("cohorts:join"), {"code": "ABC", "f": upload})
    assert response.status_code == 200  # the view ran: the join form answered
    assert b"No cohort has this join code" in response.content


@override_settings(RADGAME_MAX_UPLOAD_BYTES=2048, DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_multipart_past_the_upload_cap_and_its_form_fields_is_a_413(
    client_for: Any, educator: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.png", b"x" * 10_000)  # past 2 KB + 4 KB
    response = client_for(educator).post(reverse("cases:case_new"), {"file": upload})
    assert response.status_code == 413
    assert response.content.decode() == "The upload is larger than the 2 KB this server accepts."
