"""Presence-only findings, feedback that says what was drawn, and neutral case titles.

- A label the radiologists recorded without a place (NIH's image-level labels) is offered as a
  tick on every case of the set alike; a tick or a box of that label earns credit, and the card
  says no location was graded.
- A missed region's card says what the player drew: no box of that label, one box elsewhere, or
  several; never "none of your boxes" when none was drawn.
- Residents see "Case 1 of 2", never the case's own title (a dataset id is an answer key);
  educators keep the title. Every page and API a resident reads is checked.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.localization.models import LocalizationAttempt

from .conftest import EFFUSION_BOX, NODULE_BOX, build_case, build_set, truth
from .test_views import HX, case_url, key_from

pytestmark = pytest.mark.django_db

FAR_BOX = [0.02, 0.02, 0.08, 0.08]


@pytest.fixture
def presence_set(educator: Any, cohort: Any) -> Any:
    """Two cases: one with a boxed Nodule and Atelectasis recorded without a place, one normal."""
    case = build_case(
        educator,
        title="NIH 00000013_005",
        findings=[
            truth("Nodule", [NODULE_BOX]),
            truth("Atelectasis", [], "Bibasal atelectasis."),
        ],
    )
    normal = build_case(educator, title="NIH 00000099_001", is_normal=True)
    return build_set(educator, cohort, [case, normal], name="NIH image-level set")


def submit(client: Any, case_set: Any, case: Any, marks: dict, selected: list[str] = ()) -> Any:  # type: ignore[assignment]
    page = client.get(case_url(None, case, case_set))
    url = reverse("localization:submit", kwargs={"set_id": case_set.pk, "case_id": case.pk})
    data = {
        "marks": json.dumps(marks),
        "selected": list(selected),
        "idempotency_key": key_from(page.content.decode()),
    }
    return client.post(url, data, **HX)


def presence_ticks(html: str) -> list[str]:
    block = re.search(r'<fieldset class="localize-presence">(.*?)</fieldset>', html, re.S)
    return re.findall(r'value="([^"]+)" data-presence', block.group(1)) if block else []


def cards(attempt: LocalizationAttempt, client: Any) -> list[dict[str, Any]]:
    url = reverse("api-localize-attempt", kwargs={"attempt_id": attempt.pk})
    return client.get(url).json()["feedback"]["findings"]


def test_the_checklist_offers_the_same_presence_labels_on_every_case(
    client_for, resident, presence_set
):
    client = client_for(resident)
    case, normal = [item.case for item in presence_set.items.order_by("position")]
    on_case = presence_ticks(client.get(case_url(None, case, presence_set)).content.decode())
    on_normal = presence_ticks(client.get(case_url(None, normal, presence_set)).content.decode())
    assert on_case == on_normal  # nothing about the case in front of the player
    assert {"Atelectasis", "Nodule", "Hernia"} <= set(on_case)  # the set's labels and the floor
    assert "Emphysema" not in on_case  # a checklist finding already, above
    api = client.post(reverse("api-localize-next-case", kwargs={"set_id": presence_set.pk}))
    assert api.json()["labels"]["presence"] == on_case


@pytest.mark.parametrize(
    ("marks", "selected"),
    [({"boxes": []}, ["Atelectasis"]), ({"boxes": [{"label": "Atelectasis", "box": FAR_BOX}]}, [])],
    ids=["tick", "box anywhere"],
)
def test_a_tick_or_a_box_earns_presence_credit_and_the_card_says_no_place_was_graded(
    client_for, resident, presence_set, marks, selected
):
    client = client_for(resident)
    case = presence_set.items.order_by("position").first().case
    marks["boxes"].append({"label": "Nodule", "box": NODULE_BOX})
    response = submit(client, presence_set, case, marks, selected)
    assert response.status_code == 200, response.content
    attempt = LocalizationAttempt.objects.get()
    assert attempt.score == 1.0
    card = next(c for c in cards(attempt, client) if c["label"] == "Atelectasis")
    assert card["outcome"] == "hit" and card["kind"] == "presence"
    assert "no location was graded" in card["facts"]
    assert "place not graded" in response.content.decode()


def test_an_unticked_presence_finding_is_a_miss_that_says_a_tick_would_have_counted(
    client_for, resident, presence_set
):
    client = client_for(resident)
    case = presence_set.items.order_by("position").first().case
    submit(client, presence_set, case, {"boxes": [{"label": "Nodule", "box": NODULE_BOX}]})
    card = next(
        c for c in cards(LocalizationAttempt.objects.get(), client) if c["label"] == "Atelectasis"
    )
    assert (card["outcome"], card["kind"]) == ("miss", "presence")
    assert "a tick would have counted" in card["facts"]
    assert card["sentence"] == "Bibasal atelectasis."  # found by the finding's id


@pytest.mark.parametrize(
    ("boxes", "selected", "words"),
    [
        ([], [], "You drew no Effusion box."),
        ([{"label": "Effusion", "box": FAR_BOX}], [], "Your Effusion box did not overlap it."),
        (
            [{"label": "Effusion", "box": FAR_BOX}, {"label": "Effusion", "box": [0.1, 0.8, 0.2, 0.9]}],
            [],
            "None of your 2 Effusion boxes overlapped it.",
        ),
        ([], ["Effusion"], "You ticked Effusion but drew no Effusion box"),
    ],
    ids=["none drawn", "one elsewhere", "two elsewhere", "ticked only"],
)  # fmt: skip
def test_miss_wording_matches_what_was_drawn(client_for, resident, world, boxes, selected, words):
    client = client_for(resident)
    submit(client, world.practice, world.case, {"boxes": boxes}, selected)
    card = next(
        c for c in cards(LocalizationAttempt.objects.get(), client) if c["label"] == "Effusion"
    )
    assert card["outcome"] == "miss" and words in card["facts"]
    if not boxes:
        assert "overlapped" not in card["facts"]


def test_residents_see_neutral_titles_on_every_page_and_api(client_for, resident, world):
    client = client_for(resident)
    source_title = world.case.title  # "Chest one"
    pages = [client.get(case_url(world)).content.decode()]
    next_case = client.post(reverse("api-localize-next-case", kwargs={"set_id": world.practice.pk}))
    assert next_case.json()["case"]["title"] == "Case 1 of 2"
    submitted = submit(
        client, world.practice, world.case, {"boxes": [{"label": "Nodule", "box": NODULE_BOX}]}
    )
    pages.append(submitted.content.decode())
    attempt = LocalizationAttempt.objects.get()
    pages.append(
        client.get(
            reverse("localization:attempt", kwargs={"attempt_id": attempt.pk})
        ).content.decode()
    )
    pages.append(
        client.get(
            reverse("localization:set_summary", kwargs={"set_id": world.practice.pk})
        ).content.decode()
    )
    for html in pages:
        assert "Case 1 of 2" in html and source_title not in html
    summary = pages[-1]
    assert "Case 2 of 2" in summary and world.normal_case.title not in summary
    assert source_title not in json.dumps(next_case.json())
    assert source_title not in json.dumps(
        client.get(reverse("api-localize-attempt", kwargs={"attempt_id": attempt.pk})).json()
    )  # fmt: skip


@pytest.mark.parametrize("persona", ["educator", "admin"])
def test_educators_keep_the_source_title(persona, personas, client_for, world):
    client = client_for(personas[persona])
    assert world.case.title in client.get(case_url(world)).content.decode()
    api = client.post(reverse("api-localize-next-case", kwargs={"set_id": world.practice.pk}))
    assert api.json()["case"]["title"] == world.case.title


def test_the_report_exercise_shows_residents_neutral_titles_too(
    client_for, resident, educator, world
):
    from apps.cases.services.findings import case_report_write
    from apps.reporting.services import report_attempt_submit

    case_report_write(
        actor=educator,
        case=world.case,
        findings="Small right pleural effusion. Left upper lobe nodule.",
        source="educator",
        author="Dr Test",
        is_derived=False,
    )
    client = client_for(resident)
    api = client.get(reverse("report-api-next", kwargs={"set_id": world.practice.pk}))
    assert api.status_code == 200, api.content
    assert api.json()["case"]["title"] == "Case 1 of 2"
    attempt, _ = report_attempt_submit(
        user=resident,
        case=world.case,
        case_set=world.practice,
        text="Small right pleural effusion.",
        idempotency_key=str(uuid.uuid4()),
    )
    page = client.get(reverse("reporting:attempt", kwargs={"attempt_id": attempt.pk}))
    index = client.get(reverse("reporting:index"))
    for html in (page.content.decode(), index.content.decode()):
        assert "Case 1 of 2" in html and world.case.title not in html
    assert EFFUSION_BOX  # the fixture's Effusion region is what the miss cards above are about
