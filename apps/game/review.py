"""Spaced review of missed findings, scheduled by FSRS (the pinned ``fsrs`` package).

Rules written here once:
- every finding a player missed, mislabelled or reported wrongly on a first reading becomes a
  review item (one per label; a new miss lapses it again, rated Again);
- a review serves a *different* case with that finding (never the case it was missed on, nor the
  case last served for it), preferring cases the player has not seen; about one review in three
  is a normal film instead, so a review's case does not give the finding away;
- the answer grades the item: the finding found is Good, missed is Again; FSRS sets the next due.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from fsrs import Card, Rating, Scheduler

from apps.cases.models import CaseSetItem, CaseStatus, Finding
from apps.cases.selectors.play import case_sets_playable_by, localize_truth
from apps.exercises.hooks import Credited, FindingOutcomes
from apps.exercises.models import CaseReveal

from .models import ReviewItem, ReviewServing

# Whole days between reviews (no same-day learning steps: a film is re-tested another day); no
# fuzzing, so a schedule can be explained and tested.
SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
NORMAL_SHARE = 3  # about one review in NORMAL_SHARE is a normal film


def _reviewed(card_data: dict[str, Any] | None, rating: Rating, when: datetime) -> Card:
    card = Card.from_dict(card_data) if card_data else Card()
    card, _ = SCHEDULER.review_card(card, rating, when)
    return card


def review_rules() -> list[str]:
    return [
        "Every finding you miss, mislabel or report wrongly on a first reading goes into your "
        "mistakes deck and comes back for review, scheduled by FSRS: sooner after a miss, "
        "further apart each time you find it.",
        "A review shows you a different case with that finding, never the one you missed; "
        "about one review in three is a normal film, so a review does not give the finding away.",
    ]


# ---------------------------------------------------------------- from the credit hook


def reviews_credited(credited: Credited, outcomes: FindingOutcomes) -> None:
    """Grade an open review served with this case, and lapse (or create) the items of what this
    first reading missed. One read (none when the submit found no review open), plus writes only
    when there is something to write."""
    attempt = credited.attempt
    now = timezone.now()
    serving = None
    # The submit read whether one is open with the player's state, under the player's lock.
    if credited.known.get("game_review_open", True):
        serving = (
            ReviewServing.objects.filter(
                user=attempt.user_id, case=attempt.case_id, answered_at__isnull=True
            )
            .select_related("item")
            .first()
        )
    graded: set[str] = set()
    if serving is not None:
        item = serving.item
        if item is not None:
            serving.found = item.label in outcomes.found and item.label not in outcomes.missed
            _grade(item, Rating.Good if serving.found else Rating.Again, now, case=attempt.case_id)
            graded.add(item.label)
        serving.answered_at = now
        serving.save(update_fields=["answered_at", "found"])
    if not credited.first_reading:
        return
    missed = [label for label in outcomes.missed if label not in graded]
    if not missed:
        return
    existing = {
        i.label: i for i in ReviewItem.objects.filter(user=attempt.user_id, label__in=missed)
    }
    new = []
    for label in missed:
        if label in existing:
            _grade(existing[label], Rating.Again, now, case=None)
        else:
            card = _reviewed(None, Rating.Again, now)
            new.append(
                ReviewItem(
                    user_id=attempt.user_id,
                    label=label,
                    card=card.to_dict(),
                    due=card.due,
                    source_case_id=attempt.case_id,
                )
            )
    ReviewItem.objects.bulk_create(new, ignore_conflicts=True)


def _grade(item: ReviewItem, rating: Rating, when: datetime, *, case: int | None) -> None:
    card = _reviewed(item.card, rating, when)
    item.card = card.to_dict()
    item.due = card.due
    if rating == Rating.Again:
        item.misses += 1
    if case is not None:
        item.reviews += 1
    item.save(update_fields=["card", "due", "misses", "reviews", "updated_at"])


# ---------------------------------------------------------------- serving


def reviews_due(*, user: Any) -> int:
    return ReviewItem.objects.filter(user=user, due__lte=timezone.now()).count()


def _candidates(user: Any, item: ReviewItem | None) -> Any:
    """Published set items the player may play in Localize: with the item's finding on a case
    other than the ones it must not serve, or (``item`` None) normal films."""
    sets = case_sets_playable_by(user=user, localize_only=True).filter(mode="practice")
    items = CaseSetItem.objects.filter(
        case_set__in=sets.values("pk"), case__status=CaseStatus.PUBLISHED
    ).filter(localize_truth("case__"))
    if item is None:
        items = items.filter(case__is_normal=True)
    else:
        items = items.filter(
            Exists(Finding.objects.filter(case=OuterRef("case_id"), label=item.label))
        ).exclude(case_id__in=[pk for pk in (item.source_case_id, item.last_case_id) if pk])
    seen = CaseReveal.objects.filter(user=user, case=OuterRef("case_id"))
    return items.annotate(seen=Exists(seen)).order_by("seen", "case_id", "case_set_id")


def review_serve(
    *, user: Any, coin: Callable[[int], int] = secrets.randbelow
) -> ReviewServing | None:
    """The open review, or a new one for the item due soonest that has another case to show
    (None when nothing is due, or no other case carries a due finding)."""
    open_ = ReviewServing.objects.filter(user=user, answered_at__isnull=True).first()
    if open_ is not None:
        return open_
    due = list(ReviewItem.objects.filter(user=user, due__lte=timezone.now())[:20])
    if not due:
        return None
    if coin(NORMAL_SHARE) == 0:
        normal = _candidates(user, None).first()
        if normal is not None:
            return ReviewServing.objects.create(
                user=user, item=None, case_id=normal.case_id, case_set_id=normal.case_set_id
            )
    for item in due:
        pick = _candidates(user, item).first()
        if pick is not None:
            ReviewItem.objects.filter(pk=item.pk).update(last_case=pick.case_id)
            return ReviewServing.objects.create(
                user=user, item=item, case_id=pick.case_id, case_set_id=pick.case_set_id
            )
    return None


def mistakes_deck(*, user: Any) -> list[ReviewItem]:
    return list(ReviewItem.objects.filter(user=user).select_related("source_case").order_by("due"))
