from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_educator_lists_creates_and_invites(client_for: Any, educator: Any, cohort: Any) -> None:
    client = client_for(educator)
    listed = client.get(reverse("api-cohort-list")).json()
    assert [c["name"] for c in listed] == [cohort.name]
    created = client.post(
        reverse("api-cohort-create"), {"name": "API cohort"}, content_type="application/json"
    )
    assert created.status_code == 201
    invitation = client.post(
        reverse("api-invitation-create", args=[cohort.pk]),
        {"days_valid": 3},
        content_type="application/json",
    )
    assert invitation.status_code == 201
    assert invitation.json()["state"] == "open"
    detail = client.get(reverse("api-cohort-detail", args=[cohort.pk])).json()
    assert len(detail["invitations"]) == 1
    assert {m["username"] for m in detail["members"]} == {"educator"}


def test_bad_input_is_a_400_with_a_message(client_for: Any, educator: Any, cohort: Any) -> None:
    client = client_for(educator)
    response = client.post(
        reverse("api-invitation-create", args=[cohort.pk]),
        {"days_valid": 365},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "days_valid" in response.json()


@pytest.mark.parametrize(
    ("persona", "detail", "create"),
    [("other_educator", 404, 201), ("resident", 403, 403), ("outsider", 403, 403)],
)
def test_refused_personas(
    personas: dict[str, Any], client_for: Any, cohort: Any, persona: str, detail: int, create: int
) -> None:
    client = client_for(personas[persona])
    assert client.get(reverse("api-cohort-detail", args=[cohort.pk])).status_code == detail
    assert (
        client.post(
            reverse("api-cohort-create"), {"name": "x"}, content_type="application/json"
        ).status_code
        == create
    )


def test_resident_joins_by_code_and_lists_own_cohorts(
    client_for: Any, outsider: Any, cohort: Any, other_cohort: Any
) -> None:
    client = client_for(outsider)
    assert client.get(reverse("api-cohort-list")).json() == []
    joined = client.post(
        reverse("api-cohort-join"), {"code": cohort.join_code}, content_type="application/json"
    )
    assert joined.status_code == 200
    assert [c["id"] for c in client.get(reverse("api-cohort-list")).json()] == [cohort.pk]
    bad = client.post(
        reverse("api-cohort-join"), {"code": "ZZZZ9999"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert "join code" in bad.json()["detail"]


def test_anonymous_gets_403(client_for: Any) -> None:
    assert client_for(None).get(reverse("api-cohort-list")).status_code == 403


@pytest.mark.parametrize(
    ("persona", "status"),
    [("educator", 201), ("admin", 201), ("other_educator", 404), ("resident", 403)],
)
def test_add_co_educator_api_personas(
    personas: dict[str, Any], client_for: Any, cohort: Any, persona: str, status: int
) -> None:
    from apps.accounts.services import user_create
    from apps.cohorts.services import can_manage

    third = user_create(username="third_educator", password="x-long-password-1", role="educator")
    response = client_for(personas[persona]).post(
        reverse("api-cohort-educator-add", args=[cohort.pk]),
        {"username": "third_educator"},
        content_type="application/json",
    )
    assert response.status_code == status
    if status == 201:
        assert response.json() == {
            "user_id": third.pk,
            "username": "third_educator",
            "role": "educator",
        }
    assert can_manage(third, cohort) == (status == 201)


def test_co_educator_cannot_add_another_by_api(
    client_for: Any, cohort: Any, educator: Any, other_educator: Any
) -> None:
    from apps.accounts.services import user_create
    from apps.cohorts.services import cohort_educator_add

    user_create(username="third_educator", password="x-long-password-1", role="educator")
    cohort_educator_add(actor=educator, cohort=cohort, username="other_educator")
    response = client_for(other_educator).post(
        reverse("api-cohort-educator-add", args=[cohort.pk]),
        {"username": "third_educator"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]


def test_educator_joining_by_code_api_is_refused(
    client_for: Any, cohort: Any, other_educator: Any
) -> None:
    client = client_for(other_educator)
    response = client.post(
        reverse("api-cohort-join"), {"code": cohort.join_code}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "ask its owner" in response.json()["detail"]
    assert client.get(reverse("api-cohort-detail", args=[cohort.pk])).status_code == 404
