"""Spaced review: misses become FSRS items, a review serves a different case with the finding (or
a normal film mixed in), its answer grades the item, and the deck lists them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.cases.services.sets import case_set_case_add
from apps.game.models import ReviewItem, ReviewServing
from apps.game.review import review_serve
from tests.exercises.conftest import RIGHT, WRONG
from tests.localization.conftest import build_case, build_set, truth

from .conftest import *  # noqa: F403

pytestmark = pytest.mark.django_db

ALWAYS_ABNORMAL = lambda n: 1  # noqa: E731  (the coin never picks a normal film)
ALWAYS_NORMAL = lambda n: 0  # noqa: E731


def _due_now(item: ReviewItem) -> None:
    ReviewItem.objects.filter(pk=item.pk).update(due=timezone.now() - timedelta(minutes=1))


def test_a_miss_becomes_an_item_due_another_day_and_a_find_does_not(resident, both, localize):
    localize(resident, both.case, both.practice, marks=RIGHT)
    assert not ReviewItem.objects.exists()
    third = both.practice.items.exclude(case=both.case).get().case
    localize(resident, third, both.practice, marks=WRONG)  # Effusion not ticked
    item = ReviewItem.objects.get(user=resident)
    assert item.label == "Effusion" and item.source_case == third and item.misses == 1
    assert timezone.now() + timedelta(hours=12) < item.due < timezone.now() + timedelta(days=3)
    assert review_serve(user=resident) is None  # not due yet


def test_a_review_serves_a_different_case_with_the_finding(
    client_for, resident, educator, both, localize
):
    third = both.practice.items.exclude(case=both.case).get().case
    localize(resident, both.case, both.practice, marks=WRONG)
    item = ReviewItem.objects.get(user=resident)
    _due_now(item)
    serving = review_serve(user=resident, coin=ALWAYS_ABNORMAL)
    assert serving.item == item and serving.case == third  # never the case it was missed on
    response = client_for(resident).get(reverse("game:review"))
    assert response["Location"] == reverse("localization:case", args=[both.practice.pk, third.pk])
    assert "Effusion" not in response["Location"]


def test_no_other_case_with_the_finding_serves_nothing(resident, educator, cohort, localize):
    only = build_case(educator, title="Only", findings=[truth("Effusion")])
    lone = build_set(educator, cohort, [only], name="Lone")
    localize(resident, only, lone, marks=WRONG)
    _due_now(ReviewItem.objects.get(user=resident))
    assert review_serve(user=resident, coin=ALWAYS_ABNORMAL) is None


def test_normal_films_are_mixed_in(resident, educator, both, localize):
    normal = build_case(educator, title="Normal", is_normal=True)
    case_set_case_add(actor=educator, case_set=both.practice, case=normal)
    localize(resident, both.case, both.practice, marks=WRONG)
    _due_now(ReviewItem.objects.get(user=resident))
    serving = review_serve(user=resident, coin=ALWAYS_NORMAL)
    assert serving.item is None and serving.case == normal
    localize(resident, normal, both.practice, marks={"boxes": [], "selected": ["No finding"]})
    serving.refresh_from_db()
    assert serving.answered_at is not None and serving.found is None
    assert review_serve(user=resident, coin=ALWAYS_ABNORMAL).item is not None


def test_the_answer_grades_the_item(resident, both, localize):
    third = both.practice.items.exclude(case=both.case).get().case
    localize(resident, both.case, both.practice, marks=WRONG)
    item = ReviewItem.objects.get(user=resident)
    _due_now(item)
    review_serve(user=resident, coin=ALWAYS_ABNORMAL)
    before = timezone.now()
    localize(resident, third, both.practice, marks=RIGHT)  # found: Good
    item.refresh_from_db()
    assert item.reviews == 1 and item.misses == 1
    assert item.due > before + timedelta(days=1)  # further than a miss's next day
    serving = ReviewServing.objects.get(user=resident)
    assert serving.found is True and serving.answered_at is not None


def test_a_missed_review_is_rated_again(resident, educator, both, localize):
    fourth = build_case(educator, title="Fourth", findings=[truth("Effusion")])
    case_set_case_add(actor=educator, case_set=both.practice, case=fourth)
    localize(resident, both.case, both.practice, marks=WRONG)
    item = ReviewItem.objects.get(user=resident)
    _due_now(item)
    served = review_serve(user=resident, coin=ALWAYS_ABNORMAL)
    localize(resident, served.case, both.practice, marks=WRONG)
    item.refresh_from_db()
    assert item.misses == 2 and item.reviews == 1
    assert item.due < timezone.now() + timedelta(days=3)


def test_continue_serves_a_due_review_first(client_for, resident, both, localize):
    localize(resident, both.case, both.practice, marks=WRONG)
    _due_now(ReviewItem.objects.get(user=resident))
    client = client_for(resident)
    assert client.get(reverse("game:continue"))["Location"] == reverse("game:review")


def test_the_deck_lists_mistakes_for_their_owner_only(
    client_for, resident, other_resident, both, localize
):
    localize(resident, both.case, both.practice, marks=WRONG)
    mine = client_for(resident).get(reverse("game:mistakes")).content.decode()
    assert "Effusion" in mine and "How review works" in mine
    theirs = client_for(other_resident).get(reverse("game:mistakes")).content.decode()
    assert "Effusion" not in theirs and "No mistakes yet" in theirs
    nothing = client_for(other_resident).get(reverse("game:review"))
    assert nothing["Location"] == reverse("game:mistakes")
