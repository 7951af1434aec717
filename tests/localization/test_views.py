"""The htmx play flow: index, next case, the case page, submit, the result and its live region."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from apps.exercises.models import Delivery as CaseDelivery
from apps.localization.models import LocalizationAttempt

from .conftest import CANARY_SENTENCE, EFFUSION_BOX, NODULE_BOX, finish_reference_jobs

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def case_url(world: Any, case: Any = None, case_set: Any = None) -> str:
    case_set = case_set or world.practice
    return reverse(
        "localization:case", kwargs={"set_id": case_set.pk, "case_id": (case or world.case).pk}
    )


def submit_url(world: Any, case: Any = None, case_set: Any = None) -> str:
    case_set = case_set or world.practice
    kwargs = {"set_id": case_set.pk, "case_id": (case or world.case).pk}
    return reverse("localization:submit", kwargs=kwargs)


def key_from(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', html).group(1)


def play_and_submit(client: Any, world: Any, marks: dict, selected: list[str] = (), **headers: Any):  # type: ignore[assignment]
    page = client.get(case_url(world))
    data = {
        "marks": json.dumps(marks),
        "selected": list(selected),
        "idempotency_key": key_from(page.content.decode()),
    }
    return client.post(submit_url(world), data, **headers)


def test_index_lists_playable_sets_with_progress(client_for, resident, world):
    response = client_for(resident).get(reverse("localization:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Practice set" in html and "Assessment set" in html and "played 0 of 2" in html
    assert "Other programme set" not in html


def test_play_redirects_to_next_unplayed_case_in_set_order(client_for, resident, world):
    client = client_for(resident)
    play = reverse("localization:play", kwargs={"set_id": world.practice.pk})
    assert client.get(play).url == case_url(world)
    play_and_submit(client, world, {"boxes": []})
    assert client.get(play).url == case_url(world, world.normal_case)
    page = client.get(case_url(world, world.normal_case))
    client.post(
        submit_url(world, world.normal_case),
        {"marks": "", "idempotency_key": key_from(page.content.decode())},
    )
    summary = reverse("localization:set_summary", kwargs={"set_id": world.practice.pk})
    assert client.get(play).url == summary
    assert "Played 2 of 2" in client.get(summary).content.decode()


def test_case_page_has_viewer_labels_checklist_and_a_delivery_key(client_for, resident, world):
    client = client_for(resident)
    response = client.get(case_url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "<cxr-viewer" in html and 'mode="annotate"' in html and 'input="marks-input"' in html
    assert 'id="draw-labels"' in html and '"Nodule"' in html
    assert 'name="selected" value="Emphysema"' in html and 'value="No finding"' in html
    assert "Cough for three weeks" in html and 'hx-history="false"' in html
    assert (
        reverse(
            "cases:image", kwargs={"image_id": world.case.images.first().pk, "variant": "display"}
        )
        in html
    )
    # A reload keeps the delivery (its clock and key).
    assert key_from(client.get(case_url(world)).content.decode()) == key_from(html)
    assert CaseDelivery.objects.filter(user=resident, closed_at__isnull=True).count() == 1


def test_htmx_submit_swaps_in_the_result(client_for, resident, world):
    finish_reference_jobs("Cached words")
    marks = {"boxes": [{"label": "Nodule", "box": NODULE_BOX, "confidence": 3},
                       {"label": "Mass", "box": [0.05, 0.7, 0.2, 0.9]}]}  # fmt: skip
    response = play_and_submit(client_for(resident), world, marks, ["Emphysema"], **HX)
    html = response.content.decode()
    attempt = LocalizationAttempt.objects.get()
    assert response.status_code == 200
    assert response["HX-Replace-Url"] == reverse(
        "localization:attempt", kwargs={"attempt_id": attempt.pk}
    )
    assert "no-store" in response["Cache-Control"]
    assert (
        html.lstrip().startswith('<section id="localize-result"') and 'hx-history="false"' in html
    )
    assert "<html" not in html  # the partial only
    assert 'mode="review"' in html and 'id="result-overlay"' in html
    block = re.search(r'id="result-overlay" type="application/json">(.*?)</script>', html, re.S)
    overlay = json.loads(block.group(1))
    kinds = {(item["label"], item["kind"]) for item in overlay}
    assert {
        ("Nodule", "hit"),
        ("Nodule", "truth"),
        ("Effusion", "miss"),
        ("Mass", "false_positive"),
    } <= kinds
    assert "75%" not in html and f"{round(attempt.score * 100)}%" in html
    assert CANARY_SENTENCE in html  # the finding's report sentence, now that the answer is in
    assert "Cached words (Effusion)" in html and "model tiny-medgemma" in html  # the missed finding
    # The false positive waits for its explanation job: a live region tied to the job.
    assert f'data-job="{attempt.explain_job_id}"' in html and "Writing an explanation" in html
    assert f"+{attempt.xp}" in html and "Next case" in html


def test_plain_form_submit_redirects_to_the_result_page(client_for, resident, world):
    client = client_for(resident)
    response = play_and_submit(client, world, {"boxes": [{"label": "Nodule", "box": NODULE_BOX}]})
    attempt = LocalizationAttempt.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "localization:attempt", kwargs={"attempt_id": attempt.pk}
    )
    page = client.get(response.url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "<html" in page.content.decode() and 'id="localize-result"' in page.content.decode()


def test_double_submit_of_the_form_makes_one_attempt(client_for, resident, world):
    client = client_for(resident)
    page = client.get(case_url(world))
    data = {"marks": json.dumps({"boxes": []}), "idempotency_key": key_from(page.content.decode())}
    first = client.post(submit_url(world), data, **HX)
    second = client.post(submit_url(world), data, **HX)
    assert first.status_code == second.status_code == 200
    assert LocalizationAttempt.objects.count() == 1
    assert first["HX-Replace-Url"] == second["HX-Replace-Url"]


def test_bad_marks_come_back_as_a_form_error_without_losing_the_drawing(
    client_for, resident, world
):
    client = client_for(resident)
    marks = {"boxes": [{"label": "Dragon", "box": [0.1, 0.1, 0.2, 0.2]}]}
    response = play_and_submit(client, world, marks, **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#localize-errors"
    html = response.content.decode()
    assert 'id="localize-errors"' in html and "boxes[0].label" in html and "<cxr-viewer" not in html
    plain = play_and_submit(client, world, marks)
    assert plain.status_code == 400 and "boxes[0].label" in plain.content.decode()
    assert not LocalizationAttempt.objects.exists()


def test_explanations_live_region_updates_and_stops_polling(client_for, resident, world):
    client = client_for(resident)
    play_and_submit(
        client, world, {"boxes": [{"label": "Mass", "box": [0.05, 0.7, 0.2, 0.9]}]}, **HX
    )
    attempt = LocalizationAttempt.objects.get()
    url = reverse("localization:attempt_explanations", kwargs={"attempt_id": attempt.pk})
    waiting = client.get(url, **HX)
    assert (
        waiting.status_code == 200 and 'hx-trigger="every 3s, refresh"' in waiting.content.decode()
    )
    from apps.inference.services import inference_job_finish

    job = attempt.explain_job
    explanations = [{"text": f"Because {i}", "backend": "knowledge", "model_id": "knowledge-base",
                     "prompt_version": "kb-1"} for i in job.request["items"]]  # fmt: skip
    inference_job_finish(
        job_id=job.pk, status="done", result={"explanations": explanations}, error=""
    )
    done = client.get(url, **HX)
    html = done.content.decode()
    assert done.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in html and "Because fp:0" in html and "the knowledge base" in html


def test_a_miss_shows_the_cases_words_until_the_attempts_own_arrive(client_for, resident, world):
    from apps.inference.services import inference_job_finish

    from .conftest import CANARY_EXPLANATION, finish_reference_jobs

    finish_reference_jobs()
    client = client_for(resident)
    play_and_submit(client, world, {"boxes": []}, **HX)
    attempt = LocalizationAttempt.objects.get()
    url = reverse("localization:attempt_explanations", kwargs={"attempt_id": attempt.pk})
    waiting = client.get(url, **HX).content.decode()
    # The precomputed words stand in, and the region keeps polling for this attempt's own.
    assert CANARY_EXPLANATION in waiting and 'hx-trigger="every 3s, refresh"' in waiting
    job = attempt.explain_job
    explanations = [{"text": f"You made no marks ({i})", "backend": "knowledge",
                     "model_id": "knowledge-base", "prompt_version": "kb-2"}
                    for i in job.request["items"]]  # fmt: skip
    inference_job_finish(
        job_id=job.pk, status="done", result={"explanations": explanations}, error=""
    )
    html = client.get(url, **HX).content.decode()
    assert "You made no marks (missed:" in html and CANARY_EXPLANATION not in html


def test_failed_explanation_job_says_so(client_for, resident, world):
    client = client_for(resident)
    play_and_submit(client, world, {"boxes": [{"label": "Mass", "box": [0.05, 0.7, 0.2, 0.9]}]})
    attempt = LocalizationAttempt.objects.get()
    from apps.inference.services import inference_job_finish

    inference_job_finish(
        job_id=attempt.explain_job_id, status="failed", result=None, error="GPU on fire"
    )
    html = client.get(
        reverse("localization:attempt", kwargs={"attempt_id": attempt.pk})
    ).content.decode()
    assert "could not be written" in html and "GPU on fire" not in html and "hx-trigger" not in html


def test_assessment_defers_feedback_until_the_set_is_finished(client_for, resident, world):
    client = client_for(resident)
    a1, a2 = world.assessment_cases
    page = client.get(case_url(world, a1, world.assessment))
    data = {"marks": json.dumps({"boxes": [{"label": "Nodule", "box": EFFUSION_BOX}]}),
            "idempotency_key": key_from(page.content.decode())}  # fmt: skip
    html = client.post(submit_url(world, a1, world.assessment), data, **HX).content.decode()
    first = LocalizationAttempt.objects.get()
    assert "answer recorded" in html and 'id="result-overlay"' not in html
    assert "IoU" not in html and "%" not in html.split("Time taken")[0].split("localize-summary")[1]
    # Opening the case again shows the saved answer, never a second try.
    assert client.get(case_url(world, a1, world.assessment)).url == reverse(
        "localization:attempt", kwargs={"attempt_id": first.pk}
    )
    page = client.get(case_url(world, a2, world.assessment))
    client.post(
        submit_url(world, a2, world.assessment),
        {"marks": "", "idempotency_key": key_from(page.content.decode())},
    )
    html = client.get(
        reverse("localization:attempt", kwargs={"attempt_id": first.pk})
    ).content.decode()
    assert 'id="result-overlay"' in html and "your result" in html


def test_review_viewer_draws_every_outcome_kind(client_for, resident, world):
    marks = {"boxes": [{"label": "Atelectasis", "box": EFFUSION_BOX}, {"label": "Nodule", "box": NODULE_BOX},
                       {"label": "Mass", "box": [0.05, 0.7, 0.2, 0.9]}]}  # fmt: skip
    html = play_and_submit(client_for(resident), world, marks, ["Edema"], **HX).content.decode()
    assert "Mislabelled" in html and ": it is Effusion" in html
    assert "False positive" in html and "Missed" in html and "Hit" in html
    assert "Ticked, but not present." in html
