"""Property tests: no input makes the submit fail with anything but a 400, and extra fields never
reach the stored attempt (S05)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.exceptions import ApplicationError
from apps.localization.models import LocalizationAttempt
from apps.localization.services import localization_marks_parse

from .conftest import NODULE_BOX

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)  # fmt: skip
box_values = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2), st.text(max_size=3)),
    max_size=6,
)  # fmt: skip
labels = st.sampled_from(
    ["Nodule", "nodule", "pleural effusion", "Dragon", "", "No finding"]
) | st.text(max_size=10)


@given(marks=json_values, selected=st.lists(json_values, max_size=4))
@settings(max_examples=300, deadline=None)
def test_any_json_parses_or_names_a_field(marks, selected):
    try:
        parsed = localization_marks_parse(marks_json=marks, selected=selected)
    except ApplicationError as error:
        assert error.field
        return
    for mark in parsed.boxes:
        x1, y1, x2, y2 = mark.box
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1


@given(
    box=box_values,
    label=labels,
    confidence=st.one_of(st.none(), st.integers(-1, 7), st.text(max_size=2)),
)
@settings(max_examples=300, deadline=None)
def test_boxes_are_valid_or_refused(box, label, confidence):
    marks = {"boxes": [{"label": label, "box": box, "confidence": confidence}]}
    for raw in (marks, json.dumps(marks, allow_nan=True)):
        try:
            parsed = localization_marks_parse(marks_json=raw, selected=[])
        except ApplicationError as error:
            assert error.field
            continue
        assert len(parsed.boxes) == 1
        x1, y1, x2, y2 = parsed.boxes[0].box
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1


extra_keys = st.dictionaries(
    st.text(min_size=1, max_size=12).filter(lambda k: k not in {"marks", "selected", "idempotency_key"}),
    json_values,
    min_size=1,
    max_size=4,
)  # fmt: skip


@pytest.mark.django_db
@given(extra=extra_keys)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_extra_fields_are_refused_and_store_nothing(client_for, resident, world, extra):
    client = client_for(resident)
    url = reverse(
        "api-localize-attempt-submit",
        kwargs={"set_id": world.practice.pk, "case_id": world.case.pk},
    )
    body = {
        "marks": {"boxes": [{"label": "Nodule", "box": NODULE_BOX}]},
        "idempotency_key": str(uuid.uuid4()),
        **extra,
    }
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    # Unknown fields are named; a body the strict JSON parser refuses (NaN, Infinity) says so.
    assert set(response.json()) in (set(extra), {"detail"})
    assert not LocalizationAttempt.objects.exists()
