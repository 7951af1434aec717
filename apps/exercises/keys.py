"""The one submission key: a UUID handed out with the delivery, sent back with the answer."""

from __future__ import annotations

import uuid
from typing import Any

from apps.core.exceptions import ApplicationError


def idempotency_key_parse(value: Any) -> uuid.UUID:
    """The key as a UUID (any of its text spellings), or an ApplicationError naming the field."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (TypeError, ValueError, AttributeError):
        raise ApplicationError(
            "The form is missing its submission key (a UUID); reload the page.",
            field="idempotency_key",
        ) from None
