"""Report API: personas, next case without answers, draft, idempotent submit, owner-only results."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.reporting.models import MAX_REPORT_CHARS, ReportAttempt, ReportDraft

from .conftest import CANARY, CANDIDATE, REFERENCE

KEY = "0f0e0d0c-0b0a-4909-8807-060504030201"

pytestmark = pytest.mark.django_db

PLAYERS = ("resident", "educator", "admin")
REFUSED = ("other_resident", "other_educator", "outsider")


def _post(client: Any, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def _put(client: Any, url: str, data: Any) -> Any:
    return client.put(url, json.dumps(data), content_type="application/json")


def _urls(report_set: Any, case: Any) -> dict[str, str]:
    ids = [report_set.pk, case.pk]
    return {
        "sets": "/api/v1/report/sets/",
        "next": f"/api/v1/report/sets/{report_set.pk}/next/",
        "draft": reverse("report-api-draft", args=ids),
        "submit": reverse("report-api-submit", args=ids),
    }


def _submit_body(text: str = CANDIDATE, key: str | None = None) -> dict[str, str]:
    return {"text": text, "idempotency_key": key or uuid.uuid4().hex}


# ---------------------------------------------------------------------------------- personas


@pytest.mark.parametrize("name", PLAYERS)
def test_players_of_the_set_may_use_every_set_endpoint(
    name: str, personas: dict[str, Any], client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(personas[name])
    urls = _urls(report_set, report_case)
    assert client.get(urls["sets"]).status_code == 200
    assert client.get(urls["next"]).status_code == 200
    assert _put(client, urls["draft"], {"text": "draft"}).status_code == 200
    assert _post(client, urls["submit"], _submit_body()).status_code == 201


@pytest.mark.parametrize("name", REFUSED)
def test_everyone_else_gets_404(
    name: str, personas: dict[str, Any], client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(personas[name])
    urls = _urls(report_set, report_case)
    assert client.get(urls["sets"]).json() == []
    assert client.get(urls["next"]).status_code == 404
    assert _put(client, urls["draft"], {"text": "draft"}).status_code == 404
    assert _post(client, urls["submit"], _submit_body()).status_code == 404
    assert not ReportAttempt.objects.exists() and not ReportDraft.objects.exists()


def test_anonymous_is_refused(client_for: Any, report_set: Any, report_case: Any) -> None:
    client = client_for(None)
    urls = _urls(report_set, report_case)
    assert client.get(urls["sets"]).status_code in (401, 403)
    assert client.get(urls["next"]).status_code in (401, 403)
    assert _put(client, urls["draft"], {"text": "x"}).status_code in (401, 403)
    assert _post(client, urls["submit"], _submit_body()).status_code in (401, 403)


@pytest.mark.parametrize("name", ["other_resident", "educator", "admin", "outsider"])
def test_attempt_endpoints_are_owner_only(
    name: str,
    personas: dict[str, Any],
    client_for: Any,
    report_set: Any,
    report_case: Any,
    submit: Any,
    finish: Any,
) -> None:
    attempt = submit(personas["resident"], report_case, report_set)
    finish(attempt, error="boom")
    client = client_for(personas[name])
    detail = f"/api/v1/report/attempts/{attempt.pk}/"
    assert client.get(detail).status_code == 404
    assert _post(client, f"{detail}retry/", {}).status_code == 404
    assert client_for(personas["resident"]).get(detail).status_code == 200


# --------------------------------------------------------------------------------- behaviour


def test_next_case_carries_the_study_and_no_answers(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(resident)
    response = client.get(f"/api/v1/report/sets/{report_set.pk}/next/")
    data = response.json()
    assert response["Cache-Control"] == "no-store"
    assert data["done"] is False and data["case_set_id"] == report_set.pk
    case = data["case"]
    assert case["id"] == report_case.pk
    assert (case["patient_age"], case["patient_sex"], case["view"]) == (54, "F", "PA")
    assert case["indication"] == "Cough and fever for three days."
    image = report_case.images.get()
    assert case["images"][0]["display_url"] == reverse("cases:image", args=[image.pk, "display"])
    assert case["images"][0]["pixels16_url"] is None
    assert CANARY not in response.content.decode()
    assert "reference" not in json.dumps(data).lower()


def test_next_case_includes_the_draft_and_moves_on_after_submit(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, second_case: Any
) -> None:
    client = client_for(resident)
    urls = _urls(report_set, report_case)
    saved = _put(client, urls["draft"], {"text": "Heart normal.\u200b"}).json()
    assert saved["length"] == len("Heart normal.") and saved["case_id"] == report_case.pk
    assert client.get(urls["next"]).json()["draft"] == "Heart normal."
    assert _post(client, urls["submit"], _submit_body()).status_code == 201
    nxt = client.get(urls["next"]).json()
    assert nxt["case"]["id"] == second_case.pk and nxt["draft"] == ""


def test_submit_is_idempotent_and_returns_pending_with_job(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(resident)
    url = _urls(report_set, report_case)["submit"]
    body = _submit_body()
    first = _post(client, url, body)
    second = _post(client, url, {**body, "text": "Something else entirely."})
    assert (first.status_code, second.status_code) == (201, 200)
    one, two = first.json(), second.json()
    assert one["id"] == two["id"] and two["text"] == CANDIDATE
    assert one["status"] == "pending" and one["job_id"] and one["score"] is None
    assert one["result_url"] == reverse("reporting:attempt", args=[one["id"]])
    assert ReportAttempt.objects.count() == 1


def test_submit_input_takes_only_text_and_key(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, educator: Any
) -> None:
    client = client_for(resident)
    url = _urls(report_set, report_case)["submit"]
    body = {
        **_submit_body(),
        "reference": "Normal chest.",
        "status": "scored",
        "user": educator.pk,
        "attempt_no": 9,
        "age": 3,
        "indication": "override",
    }
    data = _post(client, url, body).json()
    attempt = ReportAttempt.objects.get(pk=data["id"])
    assert attempt.user == resident and attempt.status == "pending" and attempt.attempt_no == 1
    assert attempt.reference_text == REFERENCE
    assert attempt.job.request["age"] == 54
    assert attempt.job.request["indication"] == "Cough and fever for three days."


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"text": "", "idempotency_key": KEY}, "text", "Write your findings"),
        ({"text": " \n ", "idempotency_key": KEY}, "text", "Write your findings"),
        ({"text": "a" * (MAX_REPORT_CHARS + 1), "idempotency_key": KEY}, "text", "too long"),
        ({"text": "ok\u0000\u0007bad", "idempotency_key": KEY}, "text", "control characters"),
        ({"text": ["not", "text"], "idempotency_key": KEY}, "text", None),
        ({"text": {"a": 1}, "idempotency_key": KEY}, "text", None),
        ({"text": True, "idempotency_key": KEY}, "text", None),
        ({"text": 12345, "idempotency_key": KEY}, "text", "written in words"),
        ({"text": "Lungs clear."}, "idempotency_key", None),
        ({"text": "Lungs clear.", "idempotency_key": "bad key!"}, "idempotency_key", None),
    ],
)
def test_bad_submissions_are_400_with_a_clear_message(
    body: dict[str, Any],
    field: str,
    message: str | None,
    resident: Any,
    client_for: Any,
    report_set: Any,
    report_case: Any,
) -> None:
    response = _post(client_for(resident), _urls(report_set, report_case)["submit"], body)
    assert response.status_code == 400, response.content
    data = response.json()
    if message is None:
        assert field in data  # a serializer error names the field
    else:
        assert data.get("field") == field and message in data["detail"]
    assert not ReportAttempt.objects.exists()


def test_non_json_body_is_a_400(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    url = _urls(report_set, report_case)["submit"]
    response = client_for(resident).post(url, b"\x00\xff\xfe", content_type="application/json")
    assert response.status_code == 400


def test_attempt_result_pending_then_scored_with_reference(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any, finish: Any
) -> None:
    client = client_for(resident)
    attempt = submit(resident, report_case, report_set)
    url = f"/api/v1/report/attempts/{attempt.pk}/"
    pending = client.get(url)
    assert pending["Cache-Control"] == "no-store"
    assert pending.json()["status"] == "pending" and pending.json()["job_id"] == str(attempt.job_id)
    finish(attempt)
    data = client.get(url).json()
    assert data["status"] == "scored" and data["xp"] > 0
    assert (
        data["score"]["clinical_percent"] == 50.0 and data["score"]["scorer_version"] == "rules-1.0"
    )
    assert data["score"]["result"]["errors"][0]["category"] == "missed_finding"
    assert data["reference"]["findings"] == REFERENCE and data["reference"]["note"] == ""
    assert data["judge"] is None


def test_retry_through_the_api(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any, finish: Any
) -> None:
    client = client_for(resident)
    attempt = submit(resident, report_case, report_set)
    retry = f"/api/v1/report/attempts/{attempt.pk}/retry/"
    assert _post(client, retry, {}).status_code == 400  # still pending: nothing to retry
    finish(attempt, error="worker lost")
    failed = client.get(f"/api/v1/report/attempts/{attempt.pk}/").json()
    assert failed["status"] == "failed" and failed["error"] == "worker lost"
    data = _post(client, retry, {}).json()
    assert data["status"] == "pending" and data["job_id"] != failed["job_id"]


def test_schema_documents_every_report_operation(admin_user: Any, client_for: Any) -> None:
    import yaml

    response = client_for(admin_user).get("/api/schema/")
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    expected = {
        "/api/v1/report/sets/": {"get"},
        "/api/v1/report/sets/{set_id}/next/": {"get"},
        "/api/v1/report/sets/{set_id}/cases/{case_id}/draft/": {"put"},
        "/api/v1/report/sets/{set_id}/cases/{case_id}/attempts/": {"post"},
        "/api/v1/report/attempts/{attempt_id}/": {"get"},
        "/api/v1/report/attempts/{attempt_id}/retry/": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    submit_body = paths["/api/v1/report/sets/{set_id}/cases/{case_id}/attempts/"]["post"]
    ref = submit_body["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert set(properties) == {"text", "idempotency_key"}


def test_submit_query_budget(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    """The Report submit through the shared lifecycle, counted like the Localize one: the user;
    the set; the case and its images; the reference report, read once by the visibility rule
    (the scoring job and the reply take it from there); the savepoint pair of the test's
    transaction; the lock and, in the same round trip, the player's state (with the game's
    facts); the job and the attempt
    rows; the draft's delete; the reveal; the reply's attempt and
    its scores. The scoring job runs after commit (outside this count: the test's transaction
    never commits), where the credit and the game's receiver run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(resident)
    url = _urls(report_set, report_case)["submit"]
    body = {"text": "Right lower lobe consolidation.", "idempotency_key": str(uuid.uuid4())}
    with CaptureQueriesContext(connection) as queries:
        response = _post(client, url, body)
    assert response.status_code == 201, response.content
    assert len(queries) <= 14, "\n".join(q["sql"][:120] for q in queries.captured_queries)
