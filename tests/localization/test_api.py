"""The /api/v1/localize/ endpoints: delivery, submit (same parser, no mass assignment), result."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.localization.models import LocalizationAttempt
from apps.progress.models import ScoreEvent

from .conftest import EFFUSION_BOX, NODULE_BOX

pytestmark = pytest.mark.django_db


def next_case(client: Any, world: Any, case_set: Any = None) -> dict:
    url = reverse("api-localize-next-case", kwargs={"set_id": (case_set or world.practice).pk})
    response = client.post(url)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def post_json(client: Any, url: str, body: dict) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_set_list_shows_progress(client_for, resident, world):
    data = client_for(resident).get(reverse("api-localize-sets")).json()
    names = {row["name"]: row for row in data}
    assert set(names) == {"Practice set", "Assessment set"}
    assert names["Practice set"]["total"] == 2 and names["Practice set"]["played"] == 0


def test_delivery_gives_image_and_labels_but_no_answers(client_for, resident, world):
    client = client_for(resident)
    data = next_case(client, world)
    assert data["finished"] is False
    assert (
        data["case"]["id"] == world.case.pk
        and data["case"]["indication"] == "Cough for three weeks"
    )
    image = data["case"]["images"][0]
    assert image["display_url"].startswith("/cases/images/") and image["width"] > 0
    assert "Nodule" in data["labels"]["draw"] and "Emphysema" in data["labels"]["select"]
    assert set(data["case"]) == {
        "id",
        "title",
        "patient_age",
        "patient_sex",
        "view",
        "indication",
        "comparison",
        "source",
        "images",
    }
    # The same open delivery until it is answered.
    assert next_case(client, world)["delivery"] == data["delivery"]


def test_submit_scores_and_replays(client_for, resident, world):
    client = client_for(resident)
    delivery = next_case(client, world)
    body = {"marks": {"boxes": [{"label": "Nodule", "box": NODULE_BOX, "confidence": 5}]},
            "selected": ["Emphysema"], "idempotency_key": delivery["delivery"]["idempotency_key"]}  # fmt: skip
    first = post_json(client, delivery["submit_url"], body)
    assert first.status_code == 201, first.content
    assert first["Cache-Control"] == "no-store"
    data = first.json()
    assert data["score"] == pytest.approx(2 / 3) and data["attempt_no"] == 1 and data["xp"] > 0
    assert data["feedback_visible"] is True and data["time_taken_s"] is not None
    assert {c["outcome"] for c in data["feedback"]["findings"]} == {"hit", "miss"}
    job = data["explanation_job"]
    assert job["url"] == f"/api/v1/jobs/{job['id']}/"
    assert client.get(job["url"]).status_code == 200  # the player's own job
    again = post_json(client, delivery["submit_url"], body)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert LocalizationAttempt.objects.count() == 1 and ScoreEvent.objects.count() == 1
    detail = client.get(reverse("api-localize-attempt", kwargs={"attempt_id": data["id"]}))
    assert detail.status_code == 200 and detail.json()["id"] == data["id"]
    assert detail["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("marks", "budget"),
    [
        # All hits: no explanation job, no explanation read. The user; the set, case,
        # visibility and truth (one statement); the lock and, in the same round trip, the
        # player's state (last number, key, reveal, clock, replay XP, and the game's facts: is a
        # review open on this case, XP earlier today, the badges held); the attempt (with its XP), its marks, its ledger row, the reveal; and the
        # savepoint pair the test's own transaction adds. The game's credit receiver adds 2 for
        # this new player: the streak check (the day's first XP), the first-perfect badge. (The
        # educators' weekly summary is recounted after commit, outside this count.)
        ({"boxes": [{"label": "Nodule", "box": NODULE_BOX}, {"label": "Effusion", "box":
          EFFUSION_BOX}]}, 11),
        # A stray box: the job is written in the same transaction (its image's name came with
        # the case), and the reply reads the case's precomputed explanations; the game adds 3
        # (the missed findings' review items read and written, the streak check).
        ({"boxes": [{"label": "Mass", "box": [0.8, 0.05, 0.9, 0.15]}]}, 14),
    ],
)  # fmt: skip
def test_submit_query_budget(client_for, resident, world, marks, budget):
    """The submit is the hot path under load (bench/localize.py --section load): keep its
    queries counted (the job's publish runs after commit, outside this count)."""
    client = client_for(resident)
    body = {"marks": marks, "selected": ["Emphysema"], "idempotency_key": str(uuid.uuid4())}
    queries, response = _counted_submit(client, world, world.case, body)
    assert response.status_code == 201, response.content
    assert len(queries) <= budget, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def _counted_submit(client: Any, world: Any, case: Any, body: dict) -> tuple[Any, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse(
        "api-localize-attempt-submit", kwargs={"set_id": world.practice.pk, "case_id": case.pk}
    )
    with CaptureQueriesContext(connection) as queries:
        response = post_json(client, url, body)
    return queries, response


def test_closing_the_delivery_costs_the_submit_no_statement(client_for, resident, world):
    """A first practice answer from a delivery (the game's usual path) closes the delivery and
    reveals the case in one statement: the budget is the all-hits one without a delivery."""
    from apps.exercises.models import CaseReveal, Delivery

    client = client_for(resident)
    delivery = next_case(client, world)["delivery"]
    hits = {"boxes": [{"label": "Nodule", "box": NODULE_BOX},
                      {"label": "Effusion", "box": EFFUSION_BOX}]}  # fmt: skip
    body = {
        "marks": hits,
        "selected": ["Emphysema"],
        "idempotency_key": delivery["idempotency_key"],
    }
    queries, response = _counted_submit(client, world, world.case, body)
    assert response.status_code == 201, response.content
    assert len(queries) <= 11, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    attempt = LocalizationAttempt.objects.get(pk=response.json()["id"])
    closed = Delivery.objects.get(pk=delivery["id"])
    assert attempt.delivered_at is not None and closed.closed_at == attempt.submitted_at
    reveal = CaseReveal.objects.get(user=resident, case=world.case)
    assert (reveal.exercise, reveal.revealed_at) == ("localize", attempt.submitted_at)
    assert not Delivery.objects.filter(user=resident, closed_at__isnull=True).exists()


def test_a_playing_residents_submit_costs_the_game_no_statement(client_for, resident, world):
    """Once the player earned XP today and holds the first-perfect badge, a perfect first reading
    costs the game nothing: the facts it needs came with the player's state. The budget is the
    all-hits one less the streak check and the badge insert."""
    from apps.game.models import BadgeAward

    client = client_for(resident)
    hits = {"boxes": [{"label": "Nodule", "box": NODULE_BOX},
                      {"label": "Effusion", "box": EFFUSION_BOX}]}  # fmt: skip
    body = {"marks": hits, "selected": ["Emphysema"], "idempotency_key": str(uuid.uuid4())}
    assert _counted_submit(client, world, world.case, body)[1].status_code == 201
    assert BadgeAward.objects.filter(user=resident, badge="first_perfect").count() == 1
    body = {"marks": {"boxes": []}, "selected": ["No finding"],
            "idempotency_key": str(uuid.uuid4())}  # fmt: skip
    queries, response = _counted_submit(client, world, world.normal_case, body)
    assert response.status_code == 201 and response.json()["score"] == 1.0, response.content
    sql = "\n".join(q["sql"][:120] for q in queries.captured_queries)
    # the state read mentions the game's tables in its subqueries; no statement of its own does
    game = [q for q in queries.captured_queries if q["sql"].split("(")[0].count('"game_')]
    assert len(queries) <= 9 and not game, sql
    assert BadgeAward.objects.filter(user=resident).count() == 1


@pytest.mark.parametrize(
    ("marks", "selected"),
    [({"boxes": [{"label": "Nodule", "box": NODULE_BOX, "confidence": 4}]}, ["Emphysema"]),
     ({"boxes": [{"label": "Mass", "box": [0.8, 0.05, 0.9, 0.15]}]}, []),
     ({"boxes": []}, [])],
)  # fmt: skip
def test_attempt_reply_is_exactly_what_its_serializer_renders(
    client_for, resident, world, marks, selected
):
    """The reply skips the nested serializers (CPU on the hot path); the schema's serializer
    must still render the same bytes from it, in practice and in a held assessment."""
    from rest_framework.renderers import JSONRenderer

    from apps.localization.api import AttemptOutput

    client = client_for(resident)
    for case_set in (world.practice, world.assessment):
        delivery = next_case(client, world, case_set)
        body = {"marks": marks, "selected": selected,
                "idempotency_key": delivery["delivery"]["idempotency_key"]}  # fmt: skip
        response = post_json(client, delivery["submit_url"], body)
        assert response.status_code == 201, response.content
        detail = client.get(
            reverse("api-localize-attempt", kwargs={"attempt_id": response.json()["id"]})
        )
        for reply in (response, detail):
            data = json.loads(reply.content)
            assert reply.content == JSONRenderer().render(AttemptOutput(data).data)


def test_submit_job_names_the_first_image_without_loading_the_images(client_for, resident, world):
    """The JSON submit reads only the first image's file name, in the set/case statement."""
    from apps.inference.models import Job

    client = client_for(resident)
    url = reverse(
        "api-localize-attempt-submit",
        kwargs={"set_id": world.practice.pk, "case_id": world.case.pk},
    )
    body = {"marks": {"boxes": [{"label": "Mass", "box": [0.8, 0.05, 0.9, 0.15]}]},
            "idempotency_key": str(uuid.uuid4())}  # fmt: skip
    response = post_json(client, url, body)
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["explanation_job"]["id"])
    first = world.case.images.order_by("position", "pk").first()
    assert first.display.name
    assert {r["image_path"] for r in job.request["requests"]} == {first.display.name}
    assert LocalizationAttempt.objects.get(pk=response.json()["id"]).explain_job_id == job.pk


@pytest.mark.parametrize(
    "extra",
    [{"score": 1.0}, {"xp": 10_000}, {"user": 1}, {"case": 1}, {"attempt_no": 99},
     {"post_reveal": False}, {"time_taken_s": 0.1}, {"iou_threshold": 0.01}],
)  # fmt: skip
def test_server_set_fields_cannot_be_sent(client_for, resident, world, extra):
    client = client_for(resident)
    delivery = next_case(client, world)
    body = {
        "marks": {"boxes": []},
        "idempotency_key": delivery["delivery"]["idempotency_key"],
        **extra,
    }
    response = post_json(client, delivery["submit_url"], body)
    assert response.status_code == 400
    assert set(response.json()) == set(extra)
    assert not LocalizationAttempt.objects.exists()


@pytest.mark.parametrize(
    ("marks", "field"),
    [({"boxes": [{"label": "Nodule", "box": [0.4, 0.1, 0.2, 0.3]}]}, "boxes[0].box"),
     ({"boxes": [{"label": "Basilisk", "box": [0.1, 0.1, 0.2, 0.3]}]}, "boxes[0].label"),
     ({"boxes": [{"label": "Nodule", "box": [0.1, 0.1, "x", 0.3]}]}, "boxes[0].box[2]"),
     ({"boxes": "many"}, "boxes")],
)  # fmt: skip
def test_bad_boxes_are_a_400_naming_the_field(client_for, resident, world, marks, field):
    client = client_for(resident)
    delivery = next_case(client, world)
    body = {"marks": marks, "idempotency_key": str(uuid.uuid4())}
    response = post_json(client, delivery["submit_url"], body)
    assert response.status_code == 400 and response.json()["field"] == field


def test_nan_is_refused_by_the_json_parser(client_for, resident, world):
    client = client_for(resident)
    delivery = next_case(client, world)
    raw = '{"marks": {"boxes": [{"label": "Nodule", "box": [NaN, 0.1, 0.2, 0.3]}]}, "idempotency_key": "%s"}'
    response = client.post(
        delivery["submit_url"], raw % uuid.uuid4(), content_type="application/json"
    )
    assert response.status_code == 400
    assert not LocalizationAttempt.objects.exists()


def test_missing_key_is_a_400(client_for, resident, world):
    client = client_for(resident)
    delivery = next_case(client, world)
    response = post_json(client, delivery["submit_url"], {"marks": {"boxes": []}})
    assert response.status_code == 400 and "idempotency_key" in response.json()


def test_finished_set_says_so(client_for, resident, world):
    client = client_for(resident)
    for _ in range(2):
        delivery = next_case(client, world)
        body = {"marks": {"boxes": []}, "idempotency_key": delivery["delivery"]["idempotency_key"]}
        assert post_json(client, delivery["submit_url"], body).status_code == 201
    data = next_case(client, world)
    assert data["finished"] is True and data["case"] is None and data["delivery"] is None


def test_assessment_result_hides_score_until_finished(client_for, resident, world):
    client = client_for(resident)
    delivery = next_case(client, world, world.assessment)
    body = {"marks": {"boxes": []}, "idempotency_key": delivery["delivery"]["idempotency_key"]}
    data = post_json(client, delivery["submit_url"], body).json()
    assert data["feedback_visible"] is False
    assert data["score"] is None and data["xp"] is None and data["feedback"] is None
    assert data["explanation_job"] is None
    second = post_json(
        client, delivery["submit_url"], {**body, "idempotency_key": str(uuid.uuid4())}
    )
    assert second.status_code == 400  # one answer per case in an assessment


def test_schema_lists_the_localize_operations(client_for, admin_user):
    response = client_for(admin_user).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/localize/sets/", "/api/v1/localize/sets/{set_id}/next/",
                 "/api/v1/localize/sets/{set_id}/cases/{case_id}/attempts/",
                 "/api/v1/localize/attempts/{attempt_id}/"):  # fmt: skip
        assert path in text
    assert "SubmitInput" in text and "AttemptOutput" in text


def test_next_case_attempt_and_result_page_query_budgets(client_for, resident, world):
    """What loads around a submit is counted too (bench/localize.py --section profile prints the
    submit's own statements): the next case (the user; the set; the played cases; the next item;
    its images; the set's presence labels; the open delivery with the reveal, one statement; the
    set's case ids),
    the attempt's JSON (the user, the attempt, its marks, its images, the explanations) and its
    result page (those, the player's stats and days played, the set's case ids)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(resident)
    url = reverse("api-localize-next-case", kwargs={"set_id": world.practice.pk})
    client.post(url)  # the first call opens the delivery
    with CaptureQueriesContext(connection) as next_queries:
        delivery = client.post(url).json()
    body = {"marks": {"boxes": [{"label": "Mass", "box": [0.8, 0.05, 0.9, 0.15]}]},
            "idempotency_key": delivery["delivery"]["idempotency_key"]}  # fmt: skip
    attempt = post_json(client, delivery["submit_url"], body).json()
    with CaptureQueriesContext(connection) as detail_queries:
        detail = client.get(reverse("api-localize-attempt", kwargs={"attempt_id": attempt["id"]}))
    with CaptureQueriesContext(connection) as page_queries:
        page = client.get(attempt["url"])
    assert detail.status_code == 200 and page.status_code == 200
    for queries, budget in ((next_queries, 8), (detail_queries, 5), (page_queries, 8)):
        sql = "\n".join(q["sql"][:120] for q in queries.captured_queries)
        assert len(queries) <= budget, sql
