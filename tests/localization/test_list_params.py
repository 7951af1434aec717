"""S02: no oracle through list parameters. A resident's case lists take no ordering, filter or
search parameter, so any query string must give the same answer as none (or a 400).

Hypothesis builds query strings from the ground truth's own field paths (the case's findings,
their boxes and sentences, the reference report, with Django lookups such as ``__icontains`` and
``__gt``, and ``ordering``/``search``-style keys naming them) with values that would split the
cases if they were applied (the canary sentence, a label, the canary coordinate), and asks every
list a resident reads: both exercises' set lists (API and pages) and a set's case summary.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.cases.models import Case

from .conftest import CANARY_COORD, CANARY_SENTENCE

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("LIST_PARAM_EXAMPLES", "40"))
LOOKUPS = ("", "__icontains", "__startswith", "__gt", "__lt", "__in", "__isnull", "__exact")
LIST_KEYS = ("ordering", "order_by", "sort", "o", "search", "q", "filter", "finding", "label")
VALUES = (CANARY_SENTENCE, "Nodule", "Emphysema", str(CANARY_COORD), "0.5", "true", "1", "")


def gt_paths(model: Any = Case, prefix: str = "", depth: int = 3) -> list[str]:
    """Every field path under the case that leads to its ground truth (and the case's own)."""
    paths = []
    for field in model._meta.get_fields():
        name = field.name if not field.auto_created or field.concrete else field.get_accessor_name()
        if field.is_relation and field.related_model is not None:
            if depth and field.related_model._meta.app_label == "cases":
                paths += gt_paths(field.related_model, f"{prefix}{name}__", depth - 1)
        else:
            paths.append(f"{prefix}{name}")
    return sorted(set(paths))


PATHS = gt_paths()
ALL_KEYS = [
    f"{via}{path}{lookup}"
    for via in ("", "case__", "cases__")
    for path in PATHS
    for lookup in LOOKUPS
] + list(LIST_KEYS)
ALL_VALUES = list(VALUES) + [f"{sign}{path}" for path in PATHS for sign in ("", "-")]
# Many keys per request, so that a key a list would honour is met in few examples (a planted
# filter on one of them was caught); under DATA_UPLOAD_MAX_NUMBER_FIELDS, which would be a 400.
KEYS_PER_QUERY = 300


@st.composite
def params(draw: st.DrawFn) -> dict[str, str]:
    rng = draw(st.randoms(use_true_random=False))
    return {key: rng.choice(ALL_VALUES) for key in rng.sample(ALL_KEYS, KEYS_PER_QUERY)}


def resident_lists(world: Any) -> list[str]:
    return [
        reverse("api-localize-sets"),
        reverse("report-api-sets"),
        reverse("localization:index"),
        reverse("localization:set_summary", kwargs={"set_id": world.practice.pk}),
        reverse("reporting:index"),
    ]


# Per-response tokens: the CSP nonce and the CSRF token (masked anew on every page).
VOLATILE = re.compile(r'(nonce="|csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def body(response: Any) -> Any:
    if response["Content-Type"].startswith("application/json"):
        return response.json()
    return VOLATILE.sub(r"\1", response.content.decode())


def test_the_paths_reach_the_ground_truth() -> None:
    for path in (
        "findings__label",
        "findings__sentence",
        "findings__boxes__x1",
        "report__findings",
    ):
        assert path in PATHS


def test_no_list_parameter_changes_a_residents_list(
    client_for: Any, resident: Any, world: Any
) -> None:
    client = client_for(resident)
    baseline = {}
    for url in resident_lists(world):
        first, again = client.get(url), client.get(url)
        assert first.status_code == 200, (url, first.content[:300])
        assert body(first) == body(again), f"{url} is not repeatable, so it cannot be compared"
        baseline[url] = body(first)
    asked = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(query=params())
    def same_answer(query: dict[str, str]) -> None:
        for url, expected in baseline.items():
            response = client.get(url, query)
            asked.append(response.status_code)
            if response.status_code == 400:
                continue
            assert response.status_code == 200, (url, query, response.status_code)
            assert body(response) == expected, f"{url}?{json.dumps(query)[:2000]} changed the list"

    same_answer()
    assert len(asked) >= EXAMPLES * len(baseline)
