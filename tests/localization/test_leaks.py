"""S01: the ground truth never reaches a player before their submission, on any path.

Canaries: a finding sentence, a select finding's sentence, a box coordinate (0.123457) and the text
of the precomputed explanations. Every byte the player can observe before the submit is searched
(pages, htmx partials, API bodies and headers, image bytes and headers, websocket frames, the jobs
API); after the submit the same canaries must show up, which proves the search looks in the right
places.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.urls import reverse

from apps.inference.models import Job

from .conftest import (
    CANARY_EXPLANATION,
    CANARY_SELECT_SENTENCE,
    CANARY_SENTENCE,
    finish_reference_jobs,
)

CANARIES = (
    CANARY_SENTENCE,
    CANARY_SELECT_SENTENCE,
    CANARY_EXPLANATION,
    "GTCANARY",
    "0.123457",
    "0.12346",
)
HX = {"HTTP_HX_REQUEST": "true"}


def leaks(blob: bytes | str) -> list[str]:
    text = blob if isinstance(blob, str) else blob.decode("latin-1")
    return [canary for canary in CANARIES if canary in text]


def observe(response: Any) -> str:
    """Everything a client sees of a response: status, headers and body (streamed or not)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return f"{response.status_code}\n{headers}\n\n" + body.decode("latin-1")


def pre_submit_views(client: Any, world: Any) -> dict[str, str]:
    seen: dict[str, str] = {}

    def get(label: str, url: str, **headers: Any) -> Any:
        response = client.get(url, **headers)
        seen[label] = observe(response)
        return response

    get("index", reverse("localization:index"))
    get("index htmx", reverse("localization:index"), **HX)
    for case_set in (world.practice, world.assessment):
        get(
            f"summary {case_set}",
            reverse("localization:set_summary", kwargs={"set_id": case_set.pk}),
        )
        play = get(f"play {case_set}", reverse("localization:play", kwargs={"set_id": case_set.pk}))
        get(f"case {case_set}", play.url)
        get(f"case htmx {case_set}", play.url, **HX)
        response = client.post(reverse("api-localize-next-case", kwargs={"set_id": case_set.pk}))
        seen[f"api next {case_set}"] = observe(response)
    get("api sets", reverse("api-localize-sets"))
    for case in (world.case, *world.assessment_cases):
        for image in case.images.all():
            for variant in ("display", "pixels16"):
                url = reverse("cases:image", kwargs={"image_id": image.pk, "variant": variant})
                get(f"image {image.pk} {variant}", url)
    # The precompute jobs hold the answers in their requests and results: nobody's to read.
    for job in Job.objects.filter(subject__startswith="localization.case:"):
        response = get(f"job {job.pk}", reverse("api-job-detail", kwargs={"job_id": job.pk}))
        assert response.status_code == 404
        response = get(f"job page {job.pk}", reverse("inference:status", kwargs={"job_id": job.pk}))
        assert response.status_code == 404
    return seen


@pytest.mark.django_db
def test_no_canary_before_submit_and_all_after(client_for, resident, world):
    finish_reference_jobs()
    client = client_for(resident)
    seen = pre_submit_views(client, world)
    assert {label: leaks(text) for label, text in seen.items() if leaks(text)} == {}
    assert all(text.startswith(("200", "302", "404")) for text in seen.values())

    # Submit an empty answer: every finding is missed, so every canary belongs in the feedback.
    page = client.get(
        reverse("localization:case", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk})
    )
    key = page.content.decode().split('name="idempotency_key" value="')[1][:36]
    submit = reverse(
        "localization:submit", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk}
    )
    result = observe(client.post(submit, {"marks": "", "idempotency_key": key}, **HX))
    expected = {CANARY_SENTENCE, CANARY_SELECT_SENTENCE, CANARY_EXPLANATION, "0.123457"}
    assert expected <= set(leaks(result))
    attempt_id = json.loads(
        client.post(reverse("api-localize-attempt-submit", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk}),
                    json.dumps({"idempotency_key": key}), content_type="application/json").content
    )["id"]  # fmt: skip
    api = observe(client.get(reverse("api-localize-attempt", kwargs={"attempt_id": attempt_id})))
    assert expected <= set(leaks(api))
    assert "Cache-Control: no-store" in api or "no-store" in api.split("\n\n")[0]


@pytest.mark.django_db
def test_other_players_never_see_the_answer_after_a_submit(client_for, resident, educator, world):
    """The resident's submit reveals the answer to the resident only."""
    finish_reference_jobs()
    from apps.localization.services import localization_attempt_submit

    localization_attempt_submit(user=resident, case=world.case, case_set=world.practice, marks_json={},
                                selected=[], idempotency_key=uuid.uuid4())  # fmt: skip
    seen = pre_submit_views(client_for(educator), world)
    assert {label: leaks(text) for label, text in seen.items() if leaks(text)} == {}


@pytest.mark.django_db
def test_assessment_answer_stays_hidden_until_the_set_is_finished(client_for, resident, world):
    client = client_for(resident)
    a1, a2 = world.assessment_cases
    seen = []
    for case in (a1, a2):
        delivery = client.post(
            reverse("api-localize-next-case", kwargs={"set_id": world.assessment.pk})
        ).json()
        assert delivery["case"]["id"] == case.pk
        body = {"marks": {"boxes": []}, "idempotency_key": delivery["delivery"]["idempotency_key"]}
        response = client.post(
            delivery["submit_url"], json.dumps(body), content_type="application/json"
        )
        data = response.json()
        if case == a1:
            seen.append(observe(response))
            seen.append(
                observe(
                    client.get(reverse("localization:attempt", kwargs={"attempt_id": data["id"]}))
                )
            )
            seen.append(
                observe(
                    client.get(reverse("api-localize-attempt", kwargs={"attempt_id": data["id"]}))
                )
            )
            seen.append(
                observe(
                    client.get(
                        reverse("localization:set_summary", kwargs={"set_id": world.assessment.pk})
                    )
                )
            )
            first_id = data["id"]
    assert [leaks(text) for text in seen] == [[], [], [], []]
    after = observe(client.get(reverse("api-localize-attempt", kwargs={"attempt_id": first_id})))
    assert "0.123457" in after


@pytest.mark.django_db(transaction=True)
def test_websocket_frames_carry_no_answers(client_for, make_user, educator, cohort, resident, other_educator,
                                           other_cohort):  # fmt: skip
    """With real commits the publish hook's job runs in-process (knowledge explainer, whose words
    quote the finding sentence); the player's socket must hear nothing of it, before or after."""
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from apps.inference.consumers import JobStatusConsumer
    from apps.localization.models import Explanation

    from .conftest import World, build_case, build_set, truth

    case = build_case(
        educator,
        title="Socket case",
        findings=[truth("Nodule", [[0.123457, 0.2, 0.4, 0.5]], CANARY_SENTENCE)],
    )
    case_set = build_set(educator, cohort, [case], name="Socket set")
    cached = Explanation.objects.get(case=case, attempt__isnull=True)
    assert CANARY_SENTENCE in cached.text and cached.backend == "knowledge"
    world = World(case, None, case_set, None, [], None, None)  # type: ignore[arg-type]

    async def frames() -> list[Any]:
        communicator = WebsocketCommunicator(JobStatusConsumer.as_asgi(), "/ws/jobs/")
        communicator.scope["user"] = resident
        connected, _ = await communicator.connect()
        assert connected
        received = []
        while not await communicator.receive_nothing(timeout=0.3):
            received.append(await communicator.receive_from())
        await communicator.disconnect()
        return received

    def in_fresh_thread(coroutine: Any) -> list[Any]:
        # Playwright's session-wide sync API leaves an event loop on this thread when the e2e
        # tests ran first; async_to_sync refuses to run under it, so listen from a new thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(async_to_sync(coroutine)).result(timeout=30)

    before = in_fresh_thread(frames)
    assert [leaks(frame) for frame in before if leaks(frame)] == []
    client = client_for(resident)
    body = {
        "marks": {"boxes": [{"label": "Mass", "box": [0.6, 0.6, 0.7, 0.7]}]},
        "idempotency_key": str(uuid.uuid4()),
    }
    url = reverse(
        "api-localize-attempt-submit", kwargs={"set_id": world.practice.pk, "case_id": case.pk}
    )
    assert client.post(url, json.dumps(body), content_type="application/json").status_code == 201
    after = in_fresh_thread(frames)
    assert after, "the finished explanation job is announced on reconnect"
    assert all(set(json.loads(frame)) == {"type", "job", "status"} for frame in after)
