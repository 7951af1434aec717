"""S01: the reference report never reaches the resident before the submission.

Every byte a resident can observe before submitting (pages, htmx partials, API bodies, headers,
websocket frames) is searched for a canary sentence planted in the reference findings and
impression. After the submission the canary must appear: the search is not vacuous.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from apps.inference.consumers import JobStatusConsumer
from apps.reporting.models import ReportAttempt

from .conftest import CANARY

HTMX = {"HTTP_HX_REQUEST": "true"}


def _observed(response: Any) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return f"{response.status_code}\n{headers}\n{response.content.decode(errors='replace')}"


def _json(client: Any, method: str, url: str, data: Any) -> Any:
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


@pytest.mark.django_db
def test_no_reference_canary_anywhere_before_submission(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, second_case: Any
) -> None:
    client = client_for(resident)
    ids = [report_set.pk, report_case.pk]
    seen: list[str] = []
    for headers in ({}, HTMX):
        seen += [
            _observed(client.get(reverse("reporting:index"), **headers)),
            _observed(client.get(reverse("reporting:play", args=[report_set.pk]), follow=True)),
            _observed(client.get(reverse("reporting:case", args=ids), **headers)),
            _observed(client.post(reverse("reporting:draft", args=ids), {"text": "a"}, **headers)),
            # Refused submissions re-render the editor: still no answer.
            _observed(client.post(reverse("reporting:submit", args=ids), {"text": ""}, **headers)),
            _observed(
                client.post(
                    reverse("reporting:submit", args=ids),
                    {"text": "x" * 6000, "idempotency_key": uuid.uuid4().hex},
                    **headers,
                )
            ),
        ]
    seen += [
        _observed(client.get("/api/v1/report/sets/")),
        _observed(client.get(f"/api/v1/report/sets/{report_set.pk}/next/")),
        _observed(_json(client, "put", reverse("report-api-draft", args=ids), {"text": "b"})),
        _observed(
            _json(
                client,
                "post",
                reverse("report-api-submit", args=ids),
                {"text": "", "idempotency_key": uuid.uuid4().hex},
            )
        ),
        _observed(client.get(f"/api/v1/jobs/{uuid.uuid4()}/")),
        _observed(client.get("/")),
    ]
    for index, body in enumerate(seen):
        assert CANARY not in body, f"canary in response {index}:\n{body[:400]}"
    # Submitting reveals it: the probe above was looking in the right places.
    response = client.post(
        reverse("reporting:submit", args=ids),
        {"text": "Lungs are clear.", "idempotency_key": uuid.uuid4().hex},
        follow=True,
    )
    assert CANARY in response.content.decode()
    # ...to the submitter only: the second case's page is still clean.
    second = client.get(reverse("reporting:case", args=[report_set.pk, second_case.pk]))
    assert CANARY not in _observed(second)


@pytest.mark.django_db
def test_another_residents_attempt_reveals_nothing(
    resident: Any,
    educator: Any,
    client_for: Any,
    report_set: Any,
    report_case: Any,
    submit: Any,
    finish: Any,
) -> None:
    attempt = submit(educator, report_case, report_set)  # the set owner plays it too
    finish(attempt)
    client = client_for(resident)
    for url in (
        reverse("reporting:attempt", args=[attempt.pk]),
        reverse("reporting:attempt_judge", args=[attempt.pk]),
        f"/api/v1/report/attempts/{attempt.pk}/",
        f"/api/v1/jobs/{attempt.job_id}/",
    ):
        response = client.get(url)
        assert response.status_code == 404 and CANARY not in _observed(response), url


@pytest.mark.django_db(transaction=True)
def test_websocket_frames_and_real_scoring_round_trip(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    """The embedded default end to end: submit commits, the real scorer runs in-process after
    commit, the hook stores the score, the owner's socket hears only ids and statuses."""
    client = client_for(resident)
    ids = [report_set.pk, report_case.pk]

    def play_and_submit() -> Any:
        client.get(reverse("reporting:case", args=ids), **HTMX)
        return client.post(
            reverse("reporting:submit", args=ids),
            {
                "text": "Right lower lobe consolidation. No effusion.",
                "idempotency_key": uuid.uuid4().hex,
            },
            **HTMX,
        )

    async def run() -> tuple[Any, list[str]]:
        communicator = WebsocketCommunicator(JobStatusConsumer.as_asgi(), "/ws/jobs/")
        communicator.scope["user"] = resident
        assert (await communicator.connect())[0]
        # The submit commits, then the in-process runner scores it and pushes (same thread).
        response = await sync_to_async(play_and_submit)()
        frames: list[str] = []
        while not await communicator.receive_nothing(timeout=0.5):
            frames.append(await communicator.receive_from())
        await communicator.disconnect()
        return response, frames

    response, frames = async_to_sync(run)()
    assert response.status_code == 200
    assert frames, "the finished job was pushed"
    for frame in frames:
        data = json.loads(frame)
        assert set(data) == {"type", "job", "status"} and CANARY not in frame
    attempt = ReportAttempt.objects.get(user=resident)
    assert attempt.status == "scored" and attempt.xp
    result = client.get(reverse("reporting:attempt", args=[attempt.pk]), **HTMX)
    body = result.content.decode()
    assert "clinical accuracy" in body and "Missed finding" in body and CANARY in body
    assert '<mark class="hl hl-missed_finding"' in body
