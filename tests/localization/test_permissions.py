"""Every Localize URL for every persona: who may use it, and what everybody else gets.

Refusals are 404s (a probe cannot tell "not yours" from "does not exist"), except for anonymous
visitors: a login redirect for pages, 403 for the API.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.localization.services import localization_attempt_submit

pytestmark = pytest.mark.django_db

# name -> (method, kwargs builder, API?)
ROUTES: dict[str, tuple[str, str, bool]] = {
    "localization:index": ("get", "none", False),
    "localization:set_summary": ("get", "set", False),
    "localization:play": ("get", "set", False),
    "localization:case": ("get", "case", False),
    "localization:submit": ("post", "case", False),
    "localization:hint": ("post", "fresh", False),
    "localization:attempt": ("get", "attempt", False),
    "localization:attempt_explanations": ("get", "attempt", False),
    "api-localize-sets": ("get", "none", True),
    "api-localize-next-case": ("post", "set", True),
    "api-localize-attempt-submit": ("post", "case", True),
    "api-localize-attempt": ("get", "attempt", True),
    "api-localize-hint": ("post", "fresh", True),
}


def _names(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _names(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_localize_route_is_in_the_matrix():
    # Admin pages are staff-only by Django and tested below; everything else is in ROUTES.
    names = {
        n
        for n in _names(get_resolver().url_patterns)
        if "localiz" in n and not n.startswith("admin:")
    }
    assert names == set(ROUTES)


@pytest.fixture
def resident_attempt(resident, world):
    return localization_attempt_submit(
        user=resident, case=world.case, case_set=world.practice, marks_json={}, selected=[],
        idempotency_key=uuid.uuid4(),
    ).attempt  # fmt: skip


def url_for(name: str, kind: str, world: Any, attempt: Any) -> str:
    kwargs = {
        "none": {},
        "set": {"set_id": world.practice.pk},
        "case": {"set_id": world.practice.pk, "case_id": world.case.pk},
        # A case of the set the resident has not answered (a hint on an answered one is a 400).
        "fresh": {"set_id": world.practice.pk, "case_id": world.normal_case.pk},
        "attempt": {"attempt_id": attempt.pk},
    }[kind]
    return reverse(name, kwargs=kwargs)


def call(client: Any, method: str, url: str, api: bool) -> Any:
    if method == "get":
        return client.get(url)
    if url.endswith(("/hint/", "/hints/")):
        if api:
            return client.post(url, json.dumps({"number": 1}), content_type="application/json")
        return client.post(url, {"number": 1})
    if api:
        body = {"marks": {"boxes": []}, "idempotency_key": str(uuid.uuid4())}
        return client.post(url, json.dumps(body), content_type="application/json")
    return client.post(url, {"marks": "", "idempotency_key": str(uuid.uuid4())})


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_is_sent_to_login_or_refused(name, client_for, world, resident_attempt):
    method, kind, api = ROUTES[name]
    response = call(client_for(None), method, url_for(name, kind, world, resident_attempt), api)
    if api:
        assert response.status_code == 403
    else:
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_the_resident_may_use_every_route(name, client_for, resident, world, resident_attempt):
    method, kind, api = ROUTES[name]
    response = call(client_for(resident), method, url_for(name, kind, world, resident_attempt), api)
    assert response.status_code in (200, 201, 302), response.content[:300]


@pytest.mark.parametrize("persona", ["other_resident", "outsider", "other_educator"])
@pytest.mark.parametrize("name", sorted(n for n, (_, kind, _) in ROUTES.items() if kind != "none"))
def test_players_without_the_set_get_404(
    name, persona, personas, client_for, world, resident_attempt
):
    method, kind, api = ROUTES[name]
    url = url_for(name, kind, world, resident_attempt)
    response = call(client_for(personas[persona]), method, url, api)
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["educator", "admin"])
@pytest.mark.parametrize(
    ("name", "status"),
    [
        # The pages: the educators of the resident's cohort review it (the dashboard's
        # drill-down); other educators get a 404 (test_players_without_the_set_get_404).
        ("localization:attempt", 200),
        ("localization:attempt_explanations", 200),
        # The player's API stays the player's own.
        ("api-localize-attempt", 404),
    ],
)
def test_only_the_cohorts_educators_read_a_residents_attempt(
    name, status, persona, personas, client_for, world, resident_attempt
):
    method, kind, api = ROUTES[name]
    response = call(
        client_for(personas[persona]), method, url_for(name, kind, world, resident_attempt), api
    )
    assert response.status_code == status


@pytest.mark.parametrize("persona", ["educator", "admin"])
def test_educators_and_admins_may_try_the_set(persona, personas, client_for, world):
    client = client_for(personas[persona])
    url = reverse(
        "localization:case", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk}
    )
    assert client.get(url).status_code == 200


def test_a_case_outside_the_set_is_404(client_for, resident, world):
    client = client_for(resident)
    for case in (world.other_case, world.assessment_cases[0]):
        kwargs = {"set_id": world.practice.pk, "case_id": case.pk}
        assert client.get(reverse("localization:case", kwargs=kwargs)).status_code == 404
        assert client.post(reverse("localization:submit", kwargs=kwargs), {}).status_code == 404
        api = reverse("api-localize-attempt-submit", kwargs=kwargs)
        assert client.post(api, "{}", content_type="application/json").status_code == 404


def test_other_cohort_plays_its_own_set(client_for, other_resident, world):
    client = client_for(other_resident)
    play = client.get(reverse("localization:play", kwargs={"set_id": world.other_set.pk}))
    assert play.status_code == 302
    assert client.get(play.url).status_code == 200


def test_an_unpublished_case_disappears_from_play(client_for, resident, educator, world):
    from apps.cases.services.cases import case_unpublish

    case_unpublish(actor=educator, case=world.case)
    url = reverse(
        "localization:case", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk}
    )
    assert client_for(resident).get(url).status_code == 404


def test_pages_refuse_the_wrong_method(client_for, resident, world):
    client = client_for(resident)
    kwargs = {"set_id": world.practice.pk, "case_id": world.case.pk}
    assert client.get(reverse("localization:submit", kwargs=kwargs)).status_code == 405
    assert client.post(reverse("localization:case", kwargs=kwargs)).status_code == 405
    assert (
        client.get(
            reverse("api-localize-next-case", kwargs={"set_id": world.practice.pk})
        ).status_code
        == 405
    )


def test_submit_needs_a_csrf_token(resident, world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(resident, backend="django.contrib.auth.backends.ModelBackend")
    kwargs = {"set_id": world.practice.pk, "case_id": world.case.pk}
    response = client.post(
        reverse("localization:submit", kwargs=kwargs),
        {"marks": "", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 403
    api = reverse("api-localize-attempt-submit", kwargs=kwargs)
    response = client.post(
        api, json.dumps({"idempotency_key": str(uuid.uuid4())}), content_type="application/json"
    )
    assert response.status_code == 403


def test_admin_lists_attempts_and_explanations_read_only(client_for, admin_user, resident_attempt):
    from apps.accounts.models import User

    User.objects.filter(pk=admin_user.pk).update(is_staff=True, is_superuser=True)
    client = client_for(User.objects.get(pk=admin_user.pk))
    for model in ("localizationattempt", "explanation"):
        assert client.get(f"/admin/localization/{model}/").status_code == 200
    page = client.get(f"/admin/localization/localizationattempt/{resident_attempt.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get("/admin/localization/localizationattempt/add/").status_code == 403
