"""S01 for the case library: ground truth planted with canaries (a finding sentence, a report
text, a box coordinate) must not appear in ANY response a resident gets from this app's URLs,
images included. The test walks every URL pattern of the app, so a new one must be added here."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, reverse

from apps.cases import api_urls, urls
from apps.inference.services import inference_job_dispatch
from tests.cases.factories import CANARY_BOX, CANARY_REPORT, CANARY_SENTENCE, make_case, make_set

pytestmark = pytest.mark.django_db
CANARIES = (CANARY_SENTENCE.encode(), CANARY_REPORT.encode(), str(CANARY_BOX).encode(), b"GTCANARY")


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def world(educator: Any, cohort: Any, resident: Any) -> dict[str, Any]:
    case = make_case(educator, title="Canary case")
    case_set = make_set(educator, [case], cohort=cohort)
    job = inference_job_dispatch(
        kind="web.cases.import", payload={"format": "nih"}, owner=educator, subject="x"
    )
    return {
        "case_id": case.pk,
        "image_id": case.images.get().pk,
        "set_id": case_set.pk,
        "cohort_id": cohort.pk,
        "job_id": job.pk,
        "direction": "up",
    }


def _requests(world: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """(method, url) per URL name; every pattern of cases.urls and cases.api_urls must be here."""
    w = world
    return {
        "cases:library": [("get", reverse("cases:library"))],
        "cases:case_new": [("get", reverse("cases:case_new")), ("post", reverse("cases:case_new"))],
        "cases:upload_status": [("get", reverse("cases:upload_status", args=[w["job_id"]]))],
        "cases:case_edit": [
            ("get", reverse("cases:case_edit", args=[w["case_id"]])),
            ("post", reverse("cases:case_edit", args=[w["case_id"]])),
        ],
        "cases:case_preview": [("get", reverse("cases:case_preview", args=[w["case_id"]]))],
        "cases:case_publish": [("post", reverse("cases:case_publish", args=[w["case_id"]]))],
        "cases:case_view_add": [("post", reverse("cases:case_view_add", args=[w["case_id"]]))],
        "cases:case_view_projection": [
            (
                "post",
                reverse("cases:case_view_projection", args=[w["case_id"], w["image_id"]]),
            )
        ],
        "cases:case_view_move": [
            ("post", reverse("cases:case_view_move", args=[w["case_id"], w["image_id"], "up"]))
        ],
        "cases:case_view_remove": [
            ("post", reverse("cases:case_view_remove", args=[w["case_id"], w["image_id"]]))
        ],
        "cases:case_view_phi_checked": [
            ("post", reverse("cases:case_view_phi_checked", args=[w["case_id"], w["image_id"]]))
        ],
        "cases:set_list": [("get", reverse("cases:set_list"))],
        "cases:set_detail": [("get", reverse("cases:set_detail", args=[w["set_id"]]))],
        "cases:set_case_add": [("post", reverse("cases:set_case_add", args=[w["set_id"]]))],
        "cases:set_case_remove": [
            ("post", reverse("cases:set_case_remove", args=[w["set_id"], w["case_id"]]))
        ],
        "cases:set_case_move": [
            ("post", reverse("cases:set_case_move", args=[w["set_id"], w["case_id"], "up"]))
        ],
        "cases:set_assign": [("post", reverse("cases:set_assign", args=[w["set_id"]]))],
        "cases:set_unassign": [
            ("post", reverse("cases:set_unassign", args=[w["set_id"], w["cohort_id"]]))
        ],
        "cases:import": [("get", reverse("cases:import"))],
        "cases:import_status": [("get", reverse("cases:import_status", args=[w["job_id"]]))],
        "cases:image": [
            ("get", reverse("cases:image", args=[w["image_id"], v]))
            for v in ("display", "pixels16", "original")
        ],
        "api-case-list": [("get", reverse("api-case-list"))],
        "api-case-upload": [("post", reverse("api-case-upload"))],
        "api-case-import": [("post", reverse("api-case-import"))],
        "api-case-detail": [("get", reverse("api-case-detail", args=[w["case_id"]]))],
        "api-case-truth": [("put", reverse("api-case-truth", args=[w["case_id"]]))],
        "api-case-publish": [("post", reverse("api-case-publish", args=[w["case_id"]]))],
        "api-case-set-list": [("get", reverse("api-case-set-list"))],
        "api-case-set-detail": [("get", reverse("api-case-set-detail", args=[w["set_id"]]))],
    }


def test_every_url_is_covered(world: dict[str, Any]) -> None:
    names = {f"cases:{p.name}" for p in urls.urlpatterns if isinstance(p, URLPattern)}
    names |= {p.name for p in api_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(_requests(world))


@pytest.mark.parametrize("persona", ["resident", "other_resident", "outsider"])
def test_no_ground_truth_reaches_a_resident(
    personas: dict[str, Any], world: dict[str, Any], client_for: Any, persona: str
) -> None:
    client = client_for(personas[persona])
    seen = 0
    for name, requests in _requests(world).items():
        for method, url in requests:
            response = (
                getattr(client, method)(url, content_type="application/json")
                if method == "put"
                else getattr(client, method)(url)
            )
            body = _body(response)
            headers = str(response.headers).encode()
            for canary in CANARIES:
                assert canary not in body, (name, url)
                assert canary not in headers, (name, url)
            if name == "cases:image" and url.endswith("/display/") and persona == "resident":
                assert (
                    response.status_code == 200
                )  # the resident plays this case: the image is fine
                assert response["Cache-Control"] == "private, max-age=3600"
            else:
                assert response.status_code in (403, 404, 405), (name, url, response.status_code)
            seen += 1
    assert seen >= 26


def test_admin_and_owner_see_it(
    personas: dict[str, Any], world: dict[str, Any], client_for: Any
) -> None:
    # The detail really does hold the canaries: the test above would catch a leak.
    for persona in ("educator", "admin"):
        body = (
            client_for(personas[persona])
            .get(reverse("api-case-detail", args=[world["case_id"]]))
            .content
        )
        assert CANARY_REPORT.encode() in body and CANARY_SENTENCE.encode() in body
