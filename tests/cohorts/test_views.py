from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.cohorts import services
from apps.cohorts.models import Membership

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("educator", 200),
        ("admin", 200),
        ("other_educator", 404),
        ("resident", 403),
        ("outsider", 403),
    ],
)
def test_cohort_detail_personas(
    personas: dict[str, Any], client_for: Any, cohort: Any, persona: str, status: int
) -> None:
    response = client_for(personas[persona]).get(reverse("cohorts:detail", args=[cohort.pk]))
    assert response.status_code == status
    if status == 200:
        assert cohort.join_code.encode() in response.content


@pytest.mark.parametrize(
    ("persona", "status"), [("educator", 200), ("admin", 200), ("resident", 403)]
)
def test_cohort_list_personas(
    personas: dict[str, Any], client_for: Any, persona: str, status: int
) -> None:
    assert client_for(personas[persona]).get(reverse("cohorts:list")).status_code == status


def test_anonymous_pages_redirect_to_login(client_for: Any, cohort: Any) -> None:
    client = client_for(None)
    for url in (
        reverse("cohorts:list"),
        reverse("cohorts:detail", args=[cohort.pk]),
        reverse("cohorts:join"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_educator_creates_cohort_and_invitation_via_htmx(client_for: Any, educator: Any) -> None:
    client = client_for(educator)
    created = client.post(reverse("cohorts:list"), {"name": "Week 3", "description": ""})
    assert created.status_code == 302
    cohort_id = int(created["Location"].rstrip("/").split("/")[-1])
    partial = client.post(
        reverse("cohorts:invitation_create", args=[cohort_id]),
        {"days_valid": 7},
        HTTP_HX_REQUEST="true",
    )
    assert partial.status_code == 200
    assert b'id="invitations"' in partial.content
    assert b"<html" not in partial.content
    assert b"/invite/" in partial.content
    assert "no-store" in partial["Cache-Control"]


def test_other_educator_cannot_invite_or_revoke(
    client_for: Any, other_educator: Any, cohort: Any, educator: Any
) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    client = client_for(other_educator)
    assert (
        client.post(
            reverse("cohorts:invitation_create", args=[cohort.pk]), {"days_valid": 7}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("cohorts:invitation_revoke", args=[invitation.pk])).status_code == 404
    )
    assert client.post(reverse("cohorts:join_code_rotate", args=[cohort.pk])).status_code == 404


def test_resident_joins_by_code(client_for: Any, outsider: Any, cohort: Any) -> None:
    client = client_for(outsider)
    bad = client.post(reverse("cohorts:join"), {"code": "NOPE1234"})
    assert b"No cohort has this join code" in bad.content
    good = client.post(reverse("cohorts:join"), {"code": cohort.join_code})
    assert good.status_code == 302
    assert Membership.objects.filter(user=outsider, cohort=cohort).exists()


def test_invitation_link_signs_up_a_newcomer_once(cohort: Any, educator: Any) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    url = reverse("cohorts:invitation_open", args=[cohort.pk, invitation.token])
    client = Client()
    page = client.get(url)
    assert cohort.name.encode() in page.content
    done = client.post(url, {"username": "fresh", "password": "a-long-password-77"})
    assert done.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    reused = Client().post(url, {"username": "second", "password": "a-long-password-77"})
    assert reused.status_code == 400
    assert b"already been used" in reused.content


def test_invitation_link_with_wrong_cohort_shows_error_and_no_name(
    cohort: Any, other_cohort: Any, educator: Any, client_for: Any, outsider: Any
) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    url = reverse("cohorts:invitation_open", args=[other_cohort.pk, invitation.token])
    assert other_cohort.name.encode() not in Client().get(url).content
    response = client_for(outsider).post(url)
    assert response.status_code == 400
    assert b"another cohort" in response.content


def test_csrf_is_enforced_on_mutations(educator: Any, cohort: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(educator, backend="django.contrib.auth.backends.ModelBackend")
    assert (
        client.post(
            reverse("cohorts:invitation_create", args=[cohort.pk]), {"days_valid": 7}
        ).status_code
        == 403
    )


def _make_third_educator() -> Any:
    from apps.accounts.services import user_create

    return user_create(username="third_educator", password="x-long-password-1", role="educator")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("educator", 302),  # the owner
        ("admin", 302),
        ("other_educator", 404),
        ("resident", 403),
        ("outsider", 403),
    ],
)
def test_add_co_educator_page_personas(
    personas: dict[str, Any], client_for: Any, cohort: Any, persona: str, status: int
) -> None:
    third = _make_third_educator()
    response = client_for(personas[persona]).post(
        reverse("cohorts:educator_add", args=[cohort.pk]), {"username": "third_educator"}
    )
    assert response.status_code == status
    added = Membership.objects.filter(cohort=cohort, user=third, role="educator").exists()
    assert added == (status == 302)


def test_co_educator_sees_no_add_form_and_is_refused(
    client_for: Any, cohort: Any, educator: Any, other_educator: Any
) -> None:
    _make_third_educator()
    services.cohort_educator_add(actor=educator, cohort=cohort, username="other_educator")
    client = client_for(other_educator)
    page = client.get(reverse("cohorts:detail", args=[cohort.pk]))
    assert b"Add a co-educator" not in page.content
    refused = client.post(
        reverse("cohorts:educator_add", args=[cohort.pk]), {"username": "third_educator"}
    )
    assert refused.status_code == 403
    assert not Membership.objects.filter(cohort=cohort, user__username="third_educator").exists()
    owner_page = client_for(educator).get(reverse("cohorts:detail", args=[cohort.pk]))
    assert b"Add a co-educator" in owner_page.content


def test_unknown_co_educator_is_a_form_error(client_for: Any, cohort: Any, educator: Any) -> None:
    response = client_for(educator).post(
        reverse("cohorts:educator_add", args=[cohort.pk]), {"username": "ghost"}
    )
    assert response.status_code == 400
    assert b"No educator has this username" in response.content


def test_educator_using_join_code_page_is_refused(
    client_for: Any, cohort: Any, other_educator: Any, educator: Any
) -> None:
    client = client_for(other_educator)
    response = client.post(reverse("cohorts:join"), {"code": cohort.join_code})
    assert response.status_code == 200
    assert b"ask its owner" in response.content
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    linked = client.post(reverse("cohorts:invitation_open", args=[cohort.pk, invitation.token]))
    assert linked.status_code == 400
    assert b"ask its owner" in linked.content
    assert client.get(reverse("cohorts:detail", args=[cohort.pk])).status_code == 404
