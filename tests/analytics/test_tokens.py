"""Read-only API tokens: shown once, stored hashed, scoped to the issuer, revocable."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.analytics.models import ApiToken
from apps.analytics.tokens import api_token_create
from tests.analytics.conftest import Played

pytestmark = pytest.mark.django_db


def _api(cohort: Any, table: str = "attempts", fmt: str = "csv") -> str:
    return reverse("api-analytics-export", args=[cohort.pk, table, fmt])


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_token_is_shown_once_and_stored_as_a_hash(client_for: Any, educator: Any) -> None:
    client = client_for(educator)
    page = client.post(reverse("analytics:tokens"), {"name": "retention study"}).content.decode()
    token = re.search(r"<code data-new-token>(rgt_[^<]+)</code>", page).group(1)
    row = ApiToken.objects.get(user=educator)
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.digest, row.prefix, row.name} and token.startswith(row.prefix)
    assert token not in client.get(reverse("analytics:tokens")).content.decode()


def test_token_reads_what_its_educator_sees_and_nothing_else(
    educator: Any, cohort: Any, other_cohort: Any, played: Played
) -> None:
    _, token = api_token_create(actor=educator, name="script")
    anonymous = Client()
    response = anonymous.get(_api(cohort, "froc", "json"), **_bearer(token))
    assert response.status_code == 200 and response.streaming
    assert b"jafroc" in b"".join(response.streaming_content)
    assert anonymous.get(_api(other_cohort), **_bearer(token)).status_code == 404
    # Only the export API takes tokens: elsewhere the request is anonymous.
    assert anonymous.get(reverse("api-me"), **_bearer(token)).status_code in (401, 403)
    assert (
        anonymous.get(reverse("analytics:cohort", args=[cohort.pk]), **_bearer(token)).status_code
        == 302
    )
    assert ApiToken.objects.get(user=educator).last_used_at is not None


def test_token_is_read_only(educator: Any, cohort: Any, played: Played) -> None:
    _, token = api_token_create(actor=educator, name="script")
    response = Client().post(_api(cohort), **_bearer(token))
    assert response.status_code in (401, 403)


def test_revoked_unknown_and_demoted_tokens_are_refused(
    client_for: Any, educator: Any, cohort: Any, played: Played
) -> None:
    row, token = api_token_create(actor=educator, name="script")
    client_for(educator).post(reverse("analytics:token_revoke", args=[row.pk]))
    assert Client().get(_api(cohort), **_bearer(token)).status_code in (401, 403)
    assert Client().get(_api(cohort), **_bearer("rgt_" + "x" * 43)).status_code in (401, 403)
    _, second = api_token_create(actor=educator, name="again")
    educator.role = "resident"
    educator.save(update_fields=["role"])
    assert Client().get(_api(cohort), **_bearer(second)).status_code in (401, 403)


def test_only_the_issuer_revokes(
    client_for: Any, educator: Any, other_educator: Any, admin_user: Any
) -> None:
    row, _ = api_token_create(actor=educator, name="script")
    for user in (other_educator, admin_user):
        response = client_for(user).post(reverse("analytics:token_revoke", args=[row.pk]))
        assert response.status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_residents_cannot_issue_tokens(client_for: Any, resident: Any) -> None:
    assert client_for(resident).get(reverse("analytics:tokens")).status_code == 403
    with pytest.raises(Exception, match="Only educators"):
        api_token_create(actor=resident, name="x")
