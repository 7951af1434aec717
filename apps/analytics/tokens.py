"""API tokens: issue (shown once), revoke, and authenticate the export API's requests."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.permissions import is_educator
from apps.core.exceptions import ApplicationError

from .models import ApiToken

TOKEN_PREFIX = "rgt_"  # noqa: S105 (a marker, not a secret)
MAX_TOKENS = 20


def _digest(token: str) -> str:
    # The token is 256 random bits: a plain hash cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, actor: Any, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor (an educator): the row, and the token text to show once."""
    if not is_educator(actor):
        raise ApplicationError("Only educators issue API tokens.")
    name = name.strip()
    if not name:
        raise ApplicationError("Name the token after the script that will use it.", field="name")
    if ApiToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= MAX_TOKENS:
        raise ApplicationError(f"You have {MAX_TOKENS} tokens: revoke one first.", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=actor, name=name[:80], prefix=token[:10], digest=_digest(token)
    )
    return row, token


def api_token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (someone else's is ``DoesNotExist``)."""
    row = ApiToken.objects.get(pk=token_id, user=actor)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at", "updated_at"])
    return row


def api_tokens_of(*, actor: Any) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=actor))


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer rgt_…`` on the analytics export API, for safe methods only."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme != self.keyword or not token.startswith(TOKEN_PREFIX):
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            raise AuthenticationFailed("API tokens are read-only.")
        row = (
            ApiToken.objects.select_related("user")
            .filter(digest=_digest(token.strip()), revoked_at__isnull=True)
            .first()
        )
        if row is None or not is_educator(row.user):
            raise AuthenticationFailed("Unknown or revoked token.")
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        return row.user, row

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
