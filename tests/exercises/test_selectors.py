"""The lifecycle's reads: the open delivery and the reveal come back together, one statement."""

from __future__ import annotations

from typing import Any

from apps.exercises.models import CaseReveal, Delivery, ExerciseKind
from apps.exercises.selectors import case_revealed, open_delivery_and_revealed, open_delivery_of
from apps.exercises.services import delivery_open, delivery_open_revealed

LOCALIZE = ExerciseKind.LOCALIZE


def _read(user: Any, case: Any, queries: Any) -> tuple[Delivery | None, bool]:
    with queries(1):
        return open_delivery_and_revealed(user=user, exercise=LOCALIZE, case=case)


def test_both_facts_in_one_statement_in_every_combination(
    resident: Any, educator: Any, both: Any, django_assert_num_queries: Any
) -> None:
    assert _read(resident, both.case, django_assert_num_queries) == (None, False)
    CaseReveal.objects.create(
        user=resident, case=both.case, exercise=LOCALIZE, revealed_at=both.case.created_at
    )
    assert _read(resident, both.case, django_assert_num_queries) == (None, True)
    opened = delivery_open(user=resident, exercise=LOCALIZE, case=both.other, case_set=None)
    delivery, revealed = _read(resident, both.other, django_assert_num_queries)
    assert not revealed and delivery is not None
    assert [(f.attname, getattr(delivery, f.attname)) for f in Delivery._meta.concrete_fields] == [
        (f.attname, getattr(opened, f.attname)) for f in Delivery._meta.concrete_fields
    ]
    assert delivery == open_delivery_of(user=resident, exercise=LOCALIZE, case=both.other)
    # another exercise's, another player's, or a closed delivery is not the open one
    assert _read(educator, both.other, django_assert_num_queries) == (None, False)
    assert (
        open_delivery_and_revealed(user=resident, exercise=ExerciseKind.REPORT, case=both.other)[0]
        is None
    )
    Delivery.objects.filter(pk=opened.pk).update(closed_at=opened.delivered_at)
    assert _read(resident, both.other, django_assert_num_queries)[0] is None


def test_open_revealed_returns_the_same_delivery_and_the_reveal_before_the_call(
    resident: Any, both: Any
) -> None:
    first, revealed = delivery_open_revealed(
        user=resident, exercise=LOCALIZE, case=both.case, case_set=both.practice
    )
    assert not revealed and first.pk is not None
    again, _ = delivery_open_revealed(
        user=resident, exercise=LOCALIZE, case=both.case, case_set=both.practice
    )
    assert again.pk == first.pk and again.idempotency_key == first.idempotency_key
    assert revealed == case_revealed(user=resident, case_id=both.case.pk)
